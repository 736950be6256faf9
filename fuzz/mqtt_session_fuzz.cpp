/*
 * mqtt_session_fuzz.cpp - libFuzzer target for the session's receive path (lib/mqtt/mqtt_session.*):
 * a byte stream from "the broker", delivered in chunks of pseudo-random size through a fake
 * transport while the session polls, publishes and reconnects.
 *
 * Input: 4 bytes of seed (chunk sizes, time steps, when to publish), 1 byte of settings (queue
 * limit, partial writes), then the broker's byte stream, which carries on across reconnects (so
 * it holds the CONNACK of every connection). Seeds are captures of real Mosquitto.
 *
 * After every poll the session must be consistent:
 *   - queue: count <= the limit, cursor <= count, every queued slot holds a packet, every free
 *     slot is empty, unacknowledged packet ids are unique and non-zero;
 *   - accounting: enqueued == acked + dropped + pending (nothing is lost without being counted);
 *   - buffers: rx_len, tx_off <= tx_len, ack_count within their arrays.
 * And what it writes must be what it should: every packet decodes; each connection starts with
 * exactly one CONNECT; nothing is written on a closed transport; every PUBLISH is "online" or a
 * message the harness queued, byte for byte (but DUP), at most once per connection; it never
 * sends more PUBACKs on a connection than QoS 1 PUBLISH headers the broker sent on it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_broker_decode.h"
#include "mqtt_session.h"

namespace {

void fail(const char *what) {
    fprintf(stderr, "mqtt_session_fuzz: %s\n", what);
    abort();
}

/* ---- the harness's view of one run ---- */
struct queued_msg {
    uint16_t packet_id;
    uint16_t len;
    uint8_t data[MQTT_SLOT_SIZE];
    uint32_t sent_on_conn; /* connection number it was last written on */
};

struct harness {
    transport t;           /* first member: the session's transport* is a harness* */
    const uint8_t *stream; /* broker -> node */
    size_t stream_len, released, delivered;
    bool open;
    uint32_t conn;      /* connections opened so far */
    size_t write_limit; /* max bytes per write (0: all) */
    int fail_next_read;
    /* node -> broker, current connection */
    uint8_t out[4096];
    size_t out_len;
    bool got_connect;
    uint32_t pubacks_sent, qos1_seen;
    /* shadow framing of the broker stream on this connection */
    uint8_t hdr[5];
    size_t hdr_len;
    uint32_t frame_left; /* bytes of the current frame still to come */
    bool frame_broken;
    queued_msg msgs[64];
    size_t msg_count;
};

harness H;

void shadow_rx(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n && !H.frame_broken; i++) {
        if (H.frame_left) {
            H.frame_left--;
            continue;
        }
        H.hdr[H.hdr_len++] = p[i];
        int32_t total = mqtt_frame_length(H.hdr, H.hdr_len);
        if (total == MQTT_NEED_MORE && H.hdr_len < sizeof H.hdr) continue;
        if (total <= 0) {
            H.frame_broken = true; /* the session drops the connection */
            return;
        }
        if ((H.hdr[0] >> 4) == MQTT_PUBLISH && ((H.hdr[0] >> 1) & 3) == 1) H.qos1_seen++;
        H.frame_left = (uint32_t)total - (uint32_t)H.hdr_len;
        H.hdr_len = 0;
    }
}

int h_open(transport *, const char *, uint16_t) {
    if (H.open) fail("open while already open");
    H.open = true;
    H.conn++;
    H.out_len = 0;
    H.got_connect = false;
    H.pubacks_sent = H.qos1_seen = 0;
    H.hdr_len = 0;
    H.frame_left = 0;
    H.frame_broken = false;
    return 0;
}

int32_t h_read(transport *, uint8_t *buf, size_t len) {
    if (!H.open) fail("read on a closed transport");
    if (H.fail_next_read) {
        H.fail_next_read = 0;
        return TRANSPORT_ERR_CLOSED;
    }
    size_t n = H.released - H.delivered;
    if (n > len) n = len;
    memcpy(buf, H.stream + H.delivered, n);
    shadow_rx(buf, n);
    H.delivered += n;
    return (int32_t)n;
}

void check_packet(const uint8_t *p, size_t n) {
    mqtt_broker_packet pk;
    if (mqtt_decode_broker(p, n, &pk) != MQTT_OK) fail("the node wrote a packet that does not decode");
    if (!H.got_connect) {
        if (pk.type != MQTT_CONNECT) fail("first packet on a connection is not CONNECT");
        H.got_connect = true;
        return;
    }
    switch (pk.type) {
        case MQTT_CONNECT: fail("a second CONNECT on one connection"); break;
        case MQTT_PUBACK:
            if (++H.pubacks_sent > H.qos1_seen) fail("more PUBACKs than QoS 1 messages received");
            break;
        case MQTT_PUBLISH: {
            if (pk.publish.qos != 1) fail("published with QoS 0");
            if (pk.publish.topic_len == 6 && memcmp(pk.publish.topic, "st/ttt", 6) == 0) {
                if (pk.publish.payload_len != 6 || memcmp(pk.publish.payload, "online", 6) != 0) fail("bad status");
                break;
            }
            queued_msg *m = NULL;
            for (size_t i = 0; i < H.msg_count; i++) {
                if (H.msgs[i].packet_id == pk.packet_id && H.msgs[i].len == n &&
                    memcmp(H.msgs[i].data + 1, p + 1, n - 1) == 0 && (H.msgs[i].data[0] | 0x08) == (p[0] | 0x08))
                    m = &H.msgs[i];
            }
            if (m == NULL) fail("published a message nobody queued");
            if (m->sent_on_conn == H.conn) fail("the same message twice on one connection");
            if (m->sent_on_conn && !(p[0] & 0x08)) fail("a retransmission without DUP");
            m->sent_on_conn = H.conn;
            break;
        }
        case MQTT_SUBSCRIBE:
        case MQTT_PINGREQ:
        case MQTT_DISCONNECT: break;
        default: fail("the node wrote a packet type a client never sends");
    }
}

int32_t h_write(transport *, const uint8_t *buf, size_t len) {
    if (!H.open) fail("write on a closed transport");
    if (len == 0) fail("zero-length write");
    if (H.write_limit && len > H.write_limit) len = H.write_limit;
    if (len > sizeof H.out - H.out_len) fail("the node wrote more than any packet it may send");
    memcpy(H.out + H.out_len, buf, len);
    H.out_len += len;
    for (;;) {
        int32_t n = mqtt_frame_length(H.out, H.out_len);
        if (n == MQTT_NEED_MORE || (n > 0 && (size_t)n > H.out_len)) break;
        if (n <= 0) fail("the node wrote bytes that do not frame");
        check_packet(H.out, (size_t)n);
        memmove(H.out, H.out + n, H.out_len - (size_t)n);
        H.out_len -= (size_t)n;
    }
    return (int32_t)len;
}

void h_close(transport *) {
    H.open = false;
    H.delivered = H.released; /* what was in flight on the dead connection is gone */
}

const char *h_name(const transport *) { return "EFUZZ"; }

uint32_t rnd_state;
uint32_t next_rand() {
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;
    return rnd_state;
}
uint32_t cb_random(void *) { return next_rand(); }
void cb_log(void *, const char *line) {
    if (strchr(line, '\n') || strchr(line, '\r')) fail("a log line with a line break");
}
uint32_t delivered_msgs;
void cb_message(void *, const char *topic, uint16_t topic_len, const uint8_t *payload, size_t len, int) {
    if (topic_len == 0 || topic_len > MQTT_MAX_TOPIC_LEN) fail("delivered topic length");
    if (len > MQTT_RX_SIZE) fail("delivered a payload larger than the receive buffer");
    /* Touch every byte: ASan checks the handler may read all it was given. */
    volatile uint8_t x = 0;
    for (uint16_t i = 0; i < topic_len; i++) x ^= (uint8_t)topic[i];
    for (size_t i = 0; i < len; i++) x ^= payload[i];
    delivered_msgs++;
}

mqtt_session S;

void check_session(const mqtt_session *s, uint16_t limit) {
    if (s->count > limit || s->head >= MQTT_QUEUE_SLOTS || s->cursor > s->count) fail("queue indices");
    uint16_t pending = 0;
    for (uint16_t i = 0; i < MQTT_QUEUE_SLOTS; i++) {
        const mqtt_slot &sl = s->slots[(s->head + i) % MQTT_QUEUE_SLOTS];
        if (i < s->count) {
            if (sl.len == 0 || sl.len > MQTT_SLOT_SIZE || sl.packet_id == 0) fail("queued slot is empty");
            if (sl.acked && !sl.sent) fail("acked a message never sent");
            if (!sl.acked) {
                pending++;
                for (uint16_t j = 0; j < i; j++) {
                    const mqtt_slot &o = s->slots[(s->head + j) % MQTT_QUEUE_SLOTS];
                    if (!o.acked && o.packet_id == sl.packet_id) fail("two pending messages share a packet id");
                }
            }
        } else if (sl.len != 0) {
            fail("a free slot holds a packet");
        }
    }
    if (pending != mqtt_session_pending(s)) fail("pending count");
    if (s->stats.enqueued != s->stats.acked + s->stats.dropped + pending) fail("enqueued != acked + dropped + pending");
    if (s->rx_len > MQTT_RX_SIZE || s->tx_off > s->tx_len || s->tx_len > MQTT_TX_SIZE) fail("buffer indices");
    if (s->ack_count > MQTT_ACK_BACKLOG) fail("ack backlog overflow");
    if (s->state > MQTT_STATE_CONNECTED) fail("state");
    if ((s->state != MQTT_STATE_WAITING) != H.open) fail("session state and transport disagree");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 5) return 0;
    rnd_state = ((uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3]) | 1;
    const uint8_t settings = data[4];
    data += 5;
    size -= 5;

    memset(&H, 0, sizeof H);
    H.t.open = h_open;
    H.t.read = h_read;
    H.t.write = h_write;
    H.t.close = h_close;
    H.t.error_name = h_name;
    H.t.error_hint = h_name;
    H.stream = data;
    H.stream_len = size;
    H.write_limit = (settings & 0x80) ? 1 + (settings & 0x0f) : 0;
    const uint16_t limit = (uint16_t)(1 + ((settings >> 4) & 7)); /* 1..8 of the 16 slots */
    delivered_msgs = 0;

    mqtt_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "broker.test";
    cfg.port = 1883;
    cfg.client_id = "node01";
    cfg.username = "node01";
    cfg.password = "pw";
    cfg.status_topic = "st/ttt";
    cfg.subscriptions[0] = "devices/node01/control";
    cfg.subscriptions[1] = "alerts/fall/node01";
    cfg.subscription_count = 2;
    cfg.keepalive_s = 5;
    cfg.backoff_min_ms = 100;
    cfg.backoff_max_ms = 400;
    cfg.queue_limit = limit;
    mqtt_session_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.log = cb_log;
    cb.random32 = cb_random;
    cb.on_message = cb_message;

    uint32_t now = 1000;
    mqtt_session_init(&S, &cfg, &cb, &H.t, now);
    check_session(&S, limit);
    char payload[300];
    uint32_t n_pub = 0;
    for (int step = 0; step < 4000; step++) {
        uint32_t r = next_rand();
        if (H.released < H.stream_len) {
            /* Mostly small pieces; now and then a burst, as TCP delivers after a stall. */
            size_t chunk = ((r >> 4) % 8 == 0) ? 1 + r % 1500 : 1 + r % 64;
            if (chunk > H.stream_len - H.released) chunk = H.stream_len - H.released;
            if (H.open) H.released += chunk; /* bytes only flow on an open connection */
        } else if (step > 40 && H.delivered == H.released) {
            break;
        }
        if ((r >> 8) % 5 == 0 && H.msg_count < sizeof H.msgs / sizeof H.msgs[0]) {
            int len = snprintf(payload, sizeof payload, "{\"seq\":%u}", ++n_pub);
            if ((r >> 16) % 7 == 0) { /* now and then a long one, near the slot size */
                memset(payload + len, 'x', sizeof payload - (size_t)len);
                len = (int)(sizeof payload);
            }
            int rc = mqtt_session_publish(&S, "sensors/node01/combined", (const uint8_t *)payload, (size_t)len, 0);
            if (rc == MQTT_OK) {
                const mqtt_slot &sl = S.slots[(S.head + S.count - 1) % MQTT_QUEUE_SLOTS];
                queued_msg &m = H.msgs[H.msg_count++];
                m.packet_id = sl.packet_id;
                m.len = sl.len;
                memcpy(m.data, sl.data, sl.len);
                m.sent_on_conn = 0;
            } else if (rc != MQTT_ERR_BUFFER) {
                fail("publish refused a message that fits");
            }
        }
        if ((r >> 20) % 97 == 0 && H.open) H.fail_next_read = 1;
        /* Time: mostly small steps, sometimes long enough for keepalive and timeouts. */
        uint32_t dt = ((r >> 24) % 16 == 0) ? 1000u + (r & 0xfff) : (r >> 24) % 40;
        now += dt;
        mqtt_session_poll(&S, now);
        check_session(&S, limit);
    }
    return 0;
}
