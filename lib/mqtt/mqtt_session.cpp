/*
 * mqtt_session.cpp - see mqtt_session.h.
 *
 * One packet is in the tx buffer at a time; when it has been written out, poll() picks the
 * next: a PUBACK we owe and our own packets (SUBSCRIBE, "online", PINGREQ, then queued publishes
 * in age order) take turns, so neither side can starve the other. The queue is a ring of fixed slots holding encoded PUBLISH packets, so a resend
 * is "set DUP, write again" with no re-encoding.
 */
#include "mqtt_session.h"

#include "flash_str.h" /* error names may be in flash */

#include <string.h>

#include "log_line.h"

namespace {

/* Signed distance so comparisons survive the 32-bit millisecond wrap. */
inline bool reached(uint32_t now, uint32_t at) { return (int32_t)(now - at) >= 0; }

void session_log(mqtt_session *s, const char *a, const char *b = 0, const char *c = 0, const char *d = 0,
                 const char *e = 0) {
    log_text(s->cb.log, s->cb.ctx, "mqtt: ", a, b, c, d, e);
}

void log_num(mqtt_session *s, const char *a, uint64_t n, const char *b = 0) {
    char num[24];
    session_log(s, a, u64_text(num, sizeof num, n), b);
}

mqtt_slot &slot_at(mqtt_session *s, uint16_t i) { return s->slots[(s->head + i) % MQTT_QUEUE_SLOTS]; }

uint16_t queue_limit(const mqtt_session *s) {
    uint16_t l = s->cfg.queue_limit;
    return (l == 0 || l > MQTT_QUEUE_SLOTS) ? (uint16_t)MQTT_QUEUE_SLOTS : l;
}

bool id_in_use(mqtt_session *s, uint16_t id) {
    if (id == s->subscribe_id || id == s->online_id) return true;
    for (uint16_t i = 0; i < s->count; i++) {
        mqtt_slot &sl = slot_at(s, i);
        if (!sl.acked && sl.packet_id == id) return true;
    }
    return false;
}

uint16_t new_packet_id(mqtt_session *s) {
    for (;;) {
        s->next_id = (uint16_t)(s->next_id + 1);
        if (s->next_id == 0) s->next_id = 1;
        if (!id_in_use(s, s->next_id)) return s->next_id;
    }
}

/* Remove the oldest slot; counts it as dropped if it was never acknowledged. */
void pop_head(mqtt_session *s, bool count_drop) {
    mqtt_slot &sl = slot_at(s, 0);
    if (count_drop && !sl.acked) s->stats.dropped++;
    sl.len = 0;
    sl.acked = 0;
    sl.sent = 0;
    s->head = (uint16_t)((s->head + 1) % MQTT_QUEUE_SLOTS);
    s->count--;
    if (s->cursor) s->cursor--;
}

/* A message sent on this connection is still waiting for its PUBACK. */
bool awaiting_ack(mqtt_session *s) {
    for (uint16_t i = 0; i < s->cursor; i++) {
        if (!slot_at(s, i).acked) return true;
    }
    return false;
}

void reclaim_acked(mqtt_session *s) {
    while (s->count && slot_at(s, 0).acked) pop_head(s, false);
}

/* The delay before the next attempt. While messages wait, the cap is lower: the broker may be
   back already, and the queue is filling (issue 10: backoff grown to 31 s cost 296 readings). */
uint32_t retry_delay(mqtt_session *s) {
    uint32_t max = s->cfg.backoff_max_ms;
    if (mqtt_session_pending(s) && s->cfg.backoff_pending_max_ms < max) max = s->cfg.backoff_pending_max_ms;
    return mqtt_backoff_ms(s->attempts, s->cfg.backoff_min_ms, max, s->cb.random32 ? s->cb.random32(s->cb.ctx) : 0);
}

void drop_connection(mqtt_session *s, uint32_t now, const char *why) {
    bool was_connected = s->state == MQTT_STATE_CONNECTED;
    s->t->close(s->t);
    s->state = MQTT_STATE_WAITING;
    s->state_since = now;
    s->tx_len = s->tx_off = 0;
    s->rx_len = 0;
    s->rx_skip = 0;
    s->ack_count = 0; /* the broker re-sends unacknowledged QoS 1 on reconnect */
    s->ping_outstanding = 0;
    s->subscribe_id = s->online_id = 0;
    s->attempts++; /* reset only by a healthy connection (see mqtt_session_poll) */
    uint32_t delay = retry_delay(s);
    s->next_attempt_at = now + delay;
    char num[24];
    text_buf tb;
    tb_init(&tb, num, sizeof num);
    tb_u64(&tb, delay);
    session_log(s, "disconnected (", why, "), retry in ", num, " ms");
    if (s->cb.log) {
        /* Say what is still waiting, so a test or a user can see nothing was lost. */
        log_num(s, "queued messages: ", mqtt_session_pending(s));
    }
    if (was_connected && s->cb.on_connection) s->cb.on_connection(s->cb.ctx, 0);
}

bool tx_busy(const mqtt_session *s) { return s->tx_off < s->tx_len; }

void start_tx(mqtt_session *s, const uint8_t *p, size_t n, uint32_t now) {
    if (p != s->tx) memcpy(s->tx, p, n);
    s->tx_len = (uint16_t)n;
    s->tx_off = 0;
    s->last_tx = now;
}

/* Write what the transport takes now. false if the connection failed. */
bool flush_tx(mqtt_session *s) {
    while (tx_busy(s)) {
        int32_t n = s->t->write(s->t, s->tx + s->tx_off, (size_t)(s->tx_len - s->tx_off));
        if (n < 0) return false;
        if (n == 0) return true;
        s->tx_off = (uint16_t)(s->tx_off + n);
    }
    s->tx_len = s->tx_off = 0;
    return true;
}

void start_connect(mqtt_session *s, uint32_t now) {
    char port[8];
    text_buf tb;
    tb_init(&tb, port, sizeof port);
    tb_u64(&tb, s->cfg.port);
    session_log(s, "connecting to ", s->cfg.host, " port ", port);
    int rc = s->t->open(s->t, s->cfg.host, s->cfg.port);
    if (rc < 0) {
        const char *name = s->t->error_name(s->t);
        const char *hint = s->t->error_hint(s->t);
        session_log(s, "connect failed: ", (name && flash_char(name)) ? name : "ERROR",
                    (hint && flash_char(hint)) ? " - " : "", hint);
        s->t->close(s->t);
        s->attempts++;
        uint32_t delay = retry_delay(s);
        s->next_attempt_at = now + delay;
        log_num(s, "retry in ", delay, " ms");
        return;
    }
    static const uint8_t offline[] = {'o', 'f', 'f', 'l', 'i', 'n', 'e'};
    mqtt_connect_opts o;
    memset(&o, 0, sizeof o);
    o.client_id = s->cfg.client_id;
    o.username = s->cfg.username;
    o.password = s->cfg.password;
    o.keepalive_s = s->cfg.keepalive_s;
    o.clean_session = 0; /* the broker keeps our subscriptions and queues alerts while we are away */
    if (s->cfg.status_topic) {
        o.will_topic = s->cfg.status_topic;
        o.will_payload = offline;
        o.will_payload_len = sizeof offline;
        o.will_qos = 1;
        o.will_retain = 1;
    }
    int32_t n = mqtt_encode_connect(s->tx, sizeof s->tx, &o);
    if (n < 0) {
        session_log(s, "cannot encode CONNECT: ", mqtt_error_name(n));
        drop_connection(s, now, "bad configuration");
        return;
    }
    s->tx_len = (uint16_t)n;
    s->tx_off = 0;
    s->rx_len = 0;
    s->rx_skip = 0;
    s->last_tx_ack = 0;
    s->got_puback = 0;
    s->state = MQTT_STATE_CONNECTING;
    s->state_since = now;
    s->last_tx = s->last_rx = now;
}

/* What the user should do about a refusal: the names alone send people looking in the wrong
   place (Mosquitto answers NOT_AUTHORIZED for a wrong password too). */
const char *connack_hint(uint8_t rc) {
    switch (rc) {
        case 1: return "the broker does not speak MQTT 3.1.1; use Mosquitto 1.4 or later";
        case 2: return "the broker refused the client id (the device id): at most 23 letters, digits, '-' or '_'";
        case 3: return "the broker is up but not taking clients; the node retries with backoff";
        case 4:
        case 5:
            return "check the username and password (certs.h, or NODE_PASSWORD) against the broker's "
                   "passwd file; after adding a device, reinstall passwd and acl, restart Mosquitto";
        default: return "unknown CONNACK return code: is this an MQTT 3.1.1 broker?";
    }
}

void on_connack(mqtt_session *s, const mqtt_packet &p, uint32_t now) {
    if (p.return_code != MQTT_CONNACK_ACCEPTED) {
        session_log(s, "connect refused: ", mqtt_connack_name(p.return_code));
        session_log(s, "fix: ", connack_hint(p.return_code));
        drop_connection(s, now, "refused");
        return;
    }
    s->state = MQTT_STATE_CONNECTED;
    s->state_since = now;
    /* Not `attempts = 0` here: a broker that accepts and then throws us off (a malformed packet,
       a size limit, a stalled stream) would get a reconnect every second for ever. */
    s->cursor = 0; /* everything still queued goes out again, in order */
    s->need_subscribe = s->cfg.subscription_count > 0;
    s->need_online = s->cfg.status_topic != 0;
    s->stats.connects++;
    session_log(s, "connected, session present ", p.session_present ? "1" : "0");
    if (s->cb.on_connection) s->cb.on_connection(s->cb.ctx, 1);
}

void on_puback(mqtt_session *s, uint16_t id, uint32_t now) {
    s->got_puback = 1;
    if (id == s->online_id) {
        s->online_id = 0;
        return;
    }
    for (uint16_t i = 0; i < s->count; i++) {
        mqtt_slot &sl = slot_at(s, i);
        if (!sl.acked && sl.sent && sl.packet_id == id) {
            sl.acked = 1;
            s->ack_wait_since = now; /* progress: the wait for the others starts again */
            s->stats.acked++;
            reclaim_acked(s);
            if (s->cb.on_acked) s->cb.on_acked(s->cb.ctx, id);
            return;
        }
    }
    /* A PUBACK for a message we dropped (queue overflow) or already saw: harmless. */
}

/* Incoming rate limit, a token bucket: true if this message may be delivered. */
bool take_rx_token(mqtt_session *s, uint32_t now) {
    const uint32_t rate = s->cfg.rx_rate_per_s, burst = s->cfg.rx_burst;
    uint32_t elapsed = now - s->rx_refill_at;
    if (elapsed >= 1000u * burst / rate) { /* long quiet: a full bucket (also avoids overflow) */
        s->rx_tokens = (uint16_t)burst;
        s->rx_refill_at = now;
    } else {
        uint32_t add = elapsed * rate / 1000u;
        if (add) {
            s->rx_tokens = (uint16_t)(s->rx_tokens + add > burst ? burst : s->rx_tokens + add);
            s->rx_refill_at += add * 1000u / rate; /* keep the fraction of a token we did not add */
        }
    }
    if (s->rx_tokens == 0) return false;
    s->rx_tokens--;
    return true;
}

/* A message dropped by the rate limit: counted, and logged at most once a second. */
void rx_drop(mqtt_session *s, uint32_t now) {
    s->stats.rx_dropped++;
    if (s->rx_drop_logged != 0 && (uint32_t)(now - s->rx_drop_logged_at) < 1000u) return;
    s->rx_drop_logged_at = now;
    s->rx_drop_logged = s->stats.rx_dropped;
    char num[24], rate[8];
    text_buf tb;
    tb_init(&tb, num, sizeof num);
    tb_u64(&tb, s->stats.rx_dropped);
    tb_init(&tb, rate, sizeof rate);
    tb_u64(&tb, s->cfg.rx_rate_per_s);
    session_log(s, "inbound rate limit: dropped ", num, " messages so far (acknowledged, not handled; limit ", rate,
                " per s)");
}

/* Handle one complete packet. false: close the connection. */
bool handle_packet(mqtt_session *s, const uint8_t *buf, size_t len, uint32_t now) {
    mqtt_packet p;
    int rc = mqtt_decode(buf, len, &p);
    if (rc != MQTT_OK) {
        session_log(s, "malformed packet from broker: ", mqtt_error_name(rc));
        drop_connection(s, now, "protocol error");
        return false;
    }
    s->last_rx = now;
    if (s->state == MQTT_STATE_CONNECTING) {
        if (p.type != MQTT_CONNACK) {
            drop_connection(s, now, "expected CONNACK");
            return false;
        }
        on_connack(s, p, now);
        return s->state == MQTT_STATE_CONNECTED;
    }
    switch (p.type) {
        case MQTT_PUBACK: on_puback(s, p.packet_id, now); return true;
        case MQTT_SUBACK:
            if (p.packet_id == s->subscribe_id) {
                s->subscribe_id = 0;
                for (uint16_t i = 0; i < p.suback_count && i < s->cfg.subscription_count; i++) {
                    if (p.suback_codes[i] == 0x80)
                        session_log(s, "subscription refused: ", s->cfg.subscriptions[i]);
                    else
                        session_log(s, "subscribed ", s->cfg.subscriptions[i]);
                }
            }
            return true;
        case MQTT_PINGRESP: s->ping_outstanding = 0; return true;
        case MQTT_PUBLISH:
            s->stats.received++;
            if (p.publish.qos == 1) {
                /* Acknowledge after the handler ran: at-least-once, as the spec intends. Also when
               the rate limit drops it: an unacknowledged message would be re-sent on every
               reconnect, and fill the broker's in-flight window so later ones never come. */
                s->acks[s->ack_count++] = p.packet_id;
            }
            if (!take_rx_token(s, now)) {
                rx_drop(s, now);
                return true;
            }
            if (s->cb.on_message)
                s->cb.on_message(s->cb.ctx, p.publish.topic, p.publish.topic_len, p.publish.payload,
                                 p.publish.payload_len, p.publish.retain);
            return true;
        default: {
            /* CONNACK twice, CONNECT, SUBSCRIBE, PINGREQ, DISCONNECT: a broker never sends these. */
            char num[4];
            text_buf tb;
            tb_init(&tb, num, sizeof num);
            tb_u64(&tb, p.type);
            session_log(s, "unexpected packet type ", num, " from broker");
            drop_connection(s, now, "protocol error");
            return false;
        }
    }
}

enum oversize_result { OVERSIZE_DISCARDING, OVERSIZE_NEED_MORE, OVERSIZE_CLOSE };

/* The packet at rx[0] is a PUBLISH of `total` bytes, more than rx holds. Read past it instead
   of closing: with clean session off the broker keeps an unacknowledged QoS 1 message (and a
   retained one comes again with every SUBSCRIBE), so closing would throw the node off on every
   reconnect, for ever. Once the topic and packet id are in, the PUBACK is queued, the message
   is logged and counted, and the rest of it is read and thrown away as it streams in. */
oversize_result discard_oversize_publish(mqtt_session *s, uint32_t total, uint32_t now) {
    size_t hdr = 2;
    while (s->rx[hdr - 1] & 0x80) hdr++; /* mqtt_frame_length saw all of the fixed header */
    uint8_t qos = (uint8_t)((s->rx[0] >> 1) & 3);
    if (qos > 1) return OVERSIZE_CLOSE; /* we subscribe with QoS 1: QoS 2 is a broker bug, 3 malformed */
    if (s->rx_len < hdr + 2) return OVERSIZE_NEED_MORE;
    uint16_t tl = (uint16_t)((s->rx[hdr] << 8) | s->rx[hdr + 1]);
    size_t need = hdr + 2 + tl + (qos ? 2 : 0);
    if (tl == 0 || need > sizeof s->rx || need > total) return OVERSIZE_CLOSE;
    if (s->rx_len < need) return OVERSIZE_NEED_MORE;
    if (qos) {
        uint16_t id = (uint16_t)((s->rx[need - 2] << 8) | s->rx[need - 1]);
        if (id == 0) return OVERSIZE_CLOSE;
        s->acks[s->ack_count++] = id; /* the caller made sure there is room */
    }
    s->stats.received++;
    s->rx_skip = total - s->rx_len; /* rx_len < sizeof rx < total */
    s->rx_len = 0;
    if (!take_rx_token(s, now)) { /* a flood of big ones: counted, not logged one by one */
        rx_drop(s, now);
        return OVERSIZE_DISCARDING;
    }
    s->stats.oversize++;
    if (s->cb.log) {
        char line[256];
        text_buf tb;
        tb_init(&tb, line, sizeof line);
        tb_str(&tb, "mqtt: discarded a ");
        tb_u64(&tb, total);
        tb_str(&tb, "-byte message on ");
        for (uint16_t i = 0; i < tl && i < MQTT_MAX_TOPIC_LEN; i++) {
            uint8_t c = s->rx[hdr + 2 + i];                        /* still there: rx_len = 0 only marks rx free */
            tb_char(&tb, (c < 0x20 || c == 0x7f) ? '?' : (char)c); /* a log line, not raw bytes */
        }
        tb_str(&tb, (s->rx[0] & 1) ? " (retained)" : "");
        tb_str(&tb, ": larger than the ");
        tb_u64(&tb, sizeof s->rx);
        tb_str(&tb, "-byte receive buffer; ");
        tb_str(&tb, qos ? "acknowledged, " : "");
        tb_u64(&tb, s->stats.oversize);
        tb_str(&tb, " so far");
        s->cb.log(s->cb.ctx, line);
    }
    return OVERSIZE_DISCARDING;
}

/* Read what is there and handle complete packets, with bounded work. false: the connection
   was closed. */
bool receive(mqtt_session *s, uint32_t now) {
    int budget = MQTT_RX_PACKETS_PER_POLL;
    for (int reads = 0; reads < MQTT_RX_READS_PER_POLL; reads++) {
        /* Hand complete packets to the handler first, while we can still owe an ack. */
        while (s->rx_skip == 0 && s->rx_len > 0 && s->ack_count < MQTT_ACK_BACKLOG && budget > 0) {
            int32_t total = mqtt_frame_length(s->rx, s->rx_len);
            if (total == MQTT_NEED_MORE) break;
            if (total < 0) {
                session_log(s, "malformed packet from broker: ", mqtt_error_name(total));
                drop_connection(s, now, "protocol error");
                return false;
            }
            if (total > (int32_t)sizeof s->rx) {
                if (s->state == MQTT_STATE_CONNECTED && (s->rx[0] >> 4) == MQTT_PUBLISH) {
                    oversize_result r = discard_oversize_publish(s, (uint32_t)total, now);
                    if (r == OVERSIZE_NEED_MORE) break;
                    if (r == OVERSIZE_DISCARDING) {
                        budget--;
                        s->last_rx = now;
                        continue;
                    }
                }
                session_log(s, "packet from broker larger than the receive buffer");
                drop_connection(s, now, "protocol error");
                return false;
            }
            if (total > s->rx_len) break;
            budget--;
            if (!handle_packet(s, s->rx, (size_t)total, now)) return false;
            if (s->state == MQTT_STATE_WAITING) return false; /* a handler aborted the session */
            memmove(s->rx, s->rx + total, (size_t)(s->rx_len - total));
            s->rx_len = (uint16_t)(s->rx_len - total);
        }
        if (budget <= 0 || s->ack_count >= MQTT_ACK_BACKLOG) return true;
        /* Reading past an oversize message: read no further than its end into rx, and drop it. */
        size_t room = sizeof s->rx - s->rx_len;
        if (s->rx_skip && s->rx_skip < room) room = s->rx_skip;
        if (room == 0) return true;
        int32_t n = s->t->read(s->t, s->rx + s->rx_len, room);
        if (n == 0) return true;
        if (n < 0) {
            const char *name = s->t->error_name(s->t);
            /* Before CONNACK the transport may know why (plain TCP: a TLS port resets plain
               MQTT); a TLS failure has logged its own hint. */
            const bool connecting = s->state == MQTT_STATE_CONNECTING;
            const char *hint = connecting && n != TRANSPORT_ERR_TLS ? s->t->error_hint(s->t) : "";
            /* Closed by the broker soon after CONNACK, again and again: most often a second
               node with our id (a broker closes the older connection of a client id). */
            const bool early = n == TRANSPORT_ERR_CLOSED && s->state == MQTT_STATE_CONNECTED &&
                               (uint32_t)(now - s->state_since) < s->cfg.healthy_after_ms;
            drop_connection(s, now,
                            n == TRANSPORT_ERR_CLOSED    ? "closed by broker"
                            : (name && flash_char(name)) ? name
                                                         : "read error");
            if (hint && flash_char(hint)) session_log(s, "no CONNACK: ", hint);
            if (early && ++s->closed_early == 3)
                session_log(s, "closed after CONNACK 3 times: another node with id ", s->cfg.client_id, "?");
            return false;
        }
        if (s->rx_skip) {
            s->rx_skip -= (uint32_t)n;
            s->last_rx = now;
        } else {
            s->rx_len = (uint16_t)(s->rx_len + n);
        }
    }
    return true;
}

void send_puback(mqtt_session *s, uint32_t now) {
    int32_t n = mqtt_encode_puback(s->tx, sizeof s->tx, s->acks[0]);
    memmove(s->acks, s->acks + 1, (size_t)(s->ack_count - 1) * sizeof s->acks[0]);
    s->ack_count--;
    s->last_tx_ack = 1;
    if (n > 0) start_tx(s, s->tx, (size_t)n, now);
}

/* Put the next packet into the tx buffer. */
void next_tx(mqtt_session *s, uint32_t now) {
    uint8_t *pkt = s->tx; /* encode in place: no second packet-sized buffer on the stack */
    const size_t cap = sizeof s->tx;
    int32_t n;
    uint32_t ka_ms = (uint32_t)s->cfg.keepalive_s * 1000u;
    /* Take turns: after a PUBACK, one of our own packets if there is one (issue 10: PUBACKs
       always first let a flood of incoming messages starve the readings). */
    if (s->ack_count && !s->last_tx_ack) {
        send_puback(s, now);
        return;
    }
    s->last_tx_ack = 0;
    if (s->need_subscribe) {
        s->need_subscribe = 0;
        s->subscribe_id = new_packet_id(s);
        n = mqtt_encode_subscribe(pkt, cap, s->subscribe_id, s->cfg.subscriptions, s->cfg.subscription_count, 1);
        if (n > 0)
            start_tx(s, pkt, (size_t)n, now);
        else
            session_log(s, "cannot encode SUBSCRIBE: ", mqtt_error_name(n));
        return;
    }
    if (s->need_online) {
        s->need_online = 0;
        s->online_id = new_packet_id(s);
        mqtt_publish p;
        memset(&p, 0, sizeof p);
        p.topic = s->cfg.status_topic;
        p.topic_len = (uint16_t)strlen(s->cfg.status_topic);
        p.payload = (const uint8_t *)"online";
        p.payload_len = 6;
        p.qos = 1;
        p.retain = 1;
        p.packet_id = s->online_id;
        n = mqtt_encode_publish(pkt, cap, &p);
        if (n > 0) start_tx(s, pkt, (size_t)n, now);
        return;
    }
    /* A PUBACK is late: probe now rather than at the keepalive (see MQTT_ACK_PROBE_MS). */
    const uint32_t probe_ms = MQTT_ACK_PROBE_MS;
    bool probe =
        (uint32_t)(now - s->last_tx) >= probe_ms && (uint32_t)(now - s->ack_wait_since) >= probe_ms && awaiting_ack(s);
    if (!s->ping_outstanding &&
        ((ka_ms && ((uint32_t)(now - s->last_tx) >= ka_ms || (uint32_t)(now - s->last_rx) >= ka_ms)) || probe)) {
        if (probe) { log_num(s, "no PUBACK for ", now - s->ack_wait_since, " ms: PINGREQ to get it moving"); }
        n = mqtt_encode_pingreq(pkt, cap);
        start_tx(s, pkt, (size_t)n, now);
        s->ping_outstanding = 1;
        s->ping_sent_at = now;
        return;
    }
    while (s->cursor < s->count) {
        mqtt_slot &sl = slot_at(s, s->cursor);
        if (sl.acked) {
            s->cursor++;
            continue;
        }
        if (!awaiting_ack(s)) s->ack_wait_since = now; /* the first one we wait for */
        s->cursor++;
        if (sl.sent) {
            mqtt_publish_set_dup(sl.data);
            s->stats.retransmitted++;
            log_num(s, "retransmit packet id ", sl.packet_id, " with DUP");
        }
        sl.sent = 1;
        start_tx(s, sl.data, sl.len, now);
        return;
    }
    if (s->ack_count) send_puback(s, now); /* nothing of ours to send: acks go back to back */
}

} // namespace

uint32_t mqtt_backoff_ms(uint32_t attempt, uint32_t min_ms, uint32_t max_ms, uint32_t rnd) {
    if (min_ms == 0) min_ms = MQTT_DEFAULT_BACKOFF_MIN_MS;
    if (max_ms == 0) max_ms = MQTT_DEFAULT_BACKOFF_MAX_MS;
    if (min_ms > max_ms) min_ms = max_ms;
    uint32_t base = min_ms;
    for (uint32_t i = 1; i < attempt && base < max_ms; i++) { base = (base > max_ms / 2) ? max_ms : base * 2; }
    if (base > max_ms) base = max_ms;
    uint32_t half = base / 2;
    return half + rnd % (base - half + 1);
}

void mqtt_session_init(mqtt_session *s, const mqtt_session_config *cfg, const mqtt_session_callbacks *cb, transport *t,
                       uint32_t now_ms) {
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    if (s->cfg.keepalive_s == 0) s->cfg.keepalive_s = MQTT_DEFAULT_KEEPALIVE_S;
    if (s->cfg.backoff_min_ms == 0) s->cfg.backoff_min_ms = MQTT_DEFAULT_BACKOFF_MIN_MS;
    if (s->cfg.backoff_max_ms == 0) s->cfg.backoff_max_ms = MQTT_DEFAULT_BACKOFF_MAX_MS;
    if (s->cfg.connect_timeout_ms == 0) s->cfg.connect_timeout_ms = MQTT_DEFAULT_CONNECT_TIMEOUT_MS;
    if (s->cfg.backoff_pending_max_ms == 0) s->cfg.backoff_pending_max_ms = MQTT_DEFAULT_BACKOFF_PENDING_MAX_MS;
    if (s->cfg.healthy_after_ms == 0) s->cfg.healthy_after_ms = (uint32_t)s->cfg.keepalive_s * 1000u;
    if (s->cfg.rx_rate_per_s == 0) s->cfg.rx_rate_per_s = MQTT_DEFAULT_RX_RATE_PER_S;
    if (s->cfg.rx_burst == 0) s->cfg.rx_burst = MQTT_DEFAULT_RX_BURST;
    if (s->cfg.ping_timeout_ms == 0) {
        s->cfg.ping_timeout_ms = (uint32_t)s->cfg.keepalive_s * 500u;
        if (s->cfg.ping_timeout_ms < 1000u) s->cfg.ping_timeout_ms = 1000u;
    }
    if (s->cfg.subscription_count > MQTT_MAX_SUBSCRIPTIONS) s->cfg.subscription_count = MQTT_MAX_SUBSCRIPTIONS;
    s->cb = *cb;
    s->t = t;
    s->state = MQTT_STATE_WAITING;
    s->next_attempt_at = now_ms;
    s->state_since = now_ms;
    s->rx_tokens = s->cfg.rx_burst;
    s->rx_refill_at = now_ms;
}

void mqtt_session_poll(mqtt_session *s, uint32_t now) {
    if (s->state == MQTT_STATE_WAITING) {
        if (s->cb.link_up) {
            if (!s->cb.link_up(s->cb.ctx)) {
                s->link_was_down = 1;
                /* Keep the due time no later than "now": reached() compares signed distances, so a
                   due time left 2^31 ms (24.9 days of WiFi outage) in the past would read as in
                   the future. */
                if (reached(now, s->next_attempt_at)) s->next_attempt_at = now;
                return;
            }
            if (s->link_was_down) {
                /* The link is back (WiFi reconnected): the failures so far were the link's, so
                   try now, with a little jitter so the nodes of one access point spread out. */
                s->link_was_down = 0;
                s->attempts = 0;
                uint32_t r = s->cb.random32 ? s->cb.random32(s->cb.ctx) : 0;
                uint32_t delay = r % (s->cfg.backoff_min_ms / 2u + 1u);
                s->next_attempt_at = now + delay;
                log_num(s, "network link is up, connecting in ", delay, " ms");
            }
        }
        /* Messages are waiting now (queued after the delay was chosen): do not sit out a long
           backoff; the broker may well be back. */
        if (mqtt_session_pending(s) && (int32_t)(s->next_attempt_at - now) > (int32_t)s->cfg.backoff_pending_max_ms)
            s->next_attempt_at = now + retry_delay(s);
        if (!reached(now, s->next_attempt_at)) return;
        start_connect(s, now);
        if (s->state == MQTT_STATE_WAITING) return;
    }
    if (s->state == MQTT_STATE_CONNECTING && (uint32_t)(now - s->state_since) >= s->cfg.connect_timeout_ms) {
        /* A transport given up in its handshake names how far it got (TLS: SERVER_SILENT). */
        s->t->close(s->t);
        const char *name = s->t->error_name(s->t);
        drop_connection(s, now, flash_char(name) ? name : "no CONNACK in time");
        return;
    }
    if (s->state == MQTT_STATE_CONNECTED && s->ping_outstanding &&
        (uint32_t)(now - s->ping_sent_at) >= s->cfg.ping_timeout_ms) {
        session_log(s, "ping timeout");
        drop_connection(s, now, "ping timeout");
        return;
    }
    /* Nothing at all from the broker for keepalive + ping timeout: the link is dead even if we
       could not send our PINGREQ (a half-open TCP connection whose send buffer filled up). */
    if (s->state == MQTT_STATE_CONNECTED &&
        (uint32_t)(now - s->last_rx) >= (uint32_t)s->cfg.keepalive_s * 1000u + s->cfg.ping_timeout_ms) {
        session_log(s, "ping timeout");
        drop_connection(s, now, "no traffic from broker");
        return;
    }
    /* A broker that answers pings but never acknowledges a message (it lost it) would keep the
       window full for ever: MQTT 3.1.1 resends only on a new connection, so make one. */
    if (s->state == MQTT_STATE_CONNECTED &&
        (uint32_t)(now - s->ack_wait_since) >= (uint32_t)s->cfg.keepalive_s * 1000u + s->cfg.ping_timeout_ms &&
        awaiting_ack(s)) {
        drop_connection(s, now, "no PUBACK in time");
        return;
    }
    /* Healthy: a PUBACK came and the connection has lasted a keepalive period. Only now does the
       backoff start again from the minimum. */
    if (s->state == MQTT_STATE_CONNECTED && s->attempts && s->got_puback &&
        (uint32_t)(now - s->state_since) >= s->cfg.healthy_after_ms) {
        s->attempts = 0;
        s->closed_early = 0;
    }
    /* A few rounds of write-then-read per poll keep latency low without starving the loop. */
    for (int round = 0; round < 8; round++) {
        if (!flush_tx(s)) {
            const char *name = s->t->error_name(s->t);
            drop_connection(s, now, (name && flash_char(name)) ? name : "write error");
            return;
        }
        if (!receive(s, now)) return;
        if (tx_busy(s) || s->state != MQTT_STATE_CONNECTED) return;
        next_tx(s, now);
        if (!tx_busy(s)) return;
    }
}

int mqtt_session_publish(mqtt_session *s, const char *topic, const uint8_t *payload, size_t len, int retain) {
    size_t tlen = topic ? strlen(topic) : 0;
    if (tlen == 0 || tlen > MQTT_MAX_TOPIC_LEN) return MQTT_ERR_ARG;
    /* Check the size before dropping anything: a message that can never fit must not cost
       an older one its place. Header: 1 type byte + up to 4 length bytes; +2 topic length,
       +2 packet id. */
    if (len > MQTT_SLOT_SIZE) return MQTT_ERR_BUFFER; /* also keeps the sum below from wrapping */
    size_t rem = 2 + tlen + 2 + len;
    size_t need = 1 + (rem < 128 ? 1 : rem < 16384 ? 2 : 3) + rem;
    if (need > MQTT_SLOT_SIZE) return MQTT_ERR_BUFFER;
    if (s->count >= queue_limit(s)) {
        reclaim_acked(s);
        if (s->count >= queue_limit(s)) {
            pop_head(s, true);
            log_num(s, "queue full, dropped the oldest message (", s->stats.dropped, " dropped so far)");
        }
    }
    mqtt_slot &sl = slot_at(s, s->count);
    mqtt_publish p;
    memset(&p, 0, sizeof p);
    p.topic = topic;
    p.topic_len = (uint16_t)tlen;
    p.payload = payload;
    p.payload_len = len;
    p.qos = 1;
    p.retain = retain ? 1 : 0;
    p.packet_id = new_packet_id(s);
    int32_t n = mqtt_encode_publish(sl.data, sizeof sl.data, &p);
    if (n < 0) return n;
    sl.len = (uint16_t)n;
    sl.packet_id = p.packet_id;
    s->last_packet_id = p.packet_id;
    sl.sent = 0;
    sl.acked = 0;
    s->count++;
    s->stats.enqueued++;
    return MQTT_OK;
}

int mqtt_session_connected(const mqtt_session *s) { return s->state == MQTT_STATE_CONNECTED; }

uint16_t mqtt_session_room(mqtt_session *s) {
    reclaim_acked(s);
    uint16_t l = queue_limit(s);
    return s->count >= l ? 0 : (uint16_t)(l - s->count);
}

uint16_t mqtt_session_pending(const mqtt_session *s) {
    uint16_t n = 0;
    for (uint16_t i = 0; i < s->count; i++) {
        if (!s->slots[(s->head + i) % MQTT_QUEUE_SLOTS].acked) n++;
    }
    return n;
}

void mqtt_session_abort(mqtt_session *s, uint32_t now_ms) {
    if (s->state != MQTT_STATE_WAITING) drop_connection(s, now_ms, "aborted");
}
