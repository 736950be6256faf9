/*
 * mqtt_packet_fuzz.cpp - libFuzzer target for the MQTT packet codec (lib/mqtt/mqtt_packet.*):
 * the bytes a broker (or whoever answers on its port) sends.
 *
 * Input: one packet as it arrives. The target
 *   - frames it with mqtt_frame_length over every prefix: once the fixed header is complete the
 *     answer never changes, and it is never below the header's own length;
 *   - decodes exactly the framed bytes from a heap copy of that size (ASan catches a read past it);
 *   - checks every pointer the decoder returns lies inside the packet;
 *   - re-encodes what the broker side can send (PUBLISH, PUBACK, CONNACK, SUBACK, PINGRESP) and
 *     decodes that again: the same fields come back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_broker_decode.h"

namespace {

void fail(const char *what) {
    fprintf(stderr, "mqtt_packet_fuzz: %s\n", what);
    abort();
}

bool inside(const void *p, size_t n, const uint8_t *buf, size_t len) {
    const uint8_t *q = (const uint8_t *)p;
    return q >= buf && q <= buf + len && n <= (size_t)(buf + len - q);
}

void same_publish(const mqtt_publish &a, const mqtt_publish &b) {
    if (a.topic_len != b.topic_len || memcmp(a.topic, b.topic, a.topic_len) != 0) fail("PUBLISH topic round trip");
    if (a.payload_len != b.payload_len || (a.payload_len && memcmp(a.payload, b.payload, a.payload_len) != 0))
        fail("PUBLISH payload round trip");
    if (a.qos != b.qos || a.retain != b.retain || a.packet_id != b.packet_id) fail("PUBLISH flags round trip");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Framing: stable once the header is complete. */
    int32_t total = MQTT_NEED_MORE;
    for (size_t k = 0; k <= size && k <= 6; k++) {
        int32_t t = mqtt_frame_length(data, k);
        if (total > 0 && t != total) fail("frame length changed when more bytes came");
        if (t > 0) {
            size_t hl = 2;
            while (hl <= 5 && (data[hl - 1] & 0x80)) hl++;
            if ((size_t)t < hl) fail("frame length shorter than its header");
            total = t;
        } else if (t != MQTT_NEED_MORE && t != MQTT_ERR_MALFORMED && t != MQTT_ERR_TYPE) {
            fail("frame length returned an unknown code");
        }
    }
    if (total <= 0 || (size_t)total > size) {
        /* What the session does with a packet it cannot frame: it never decodes it. Decoding
           the whole input anyway must still be safe and must not claim success. */
        uint8_t *copy = (uint8_t *)malloc(size ? size : 1);
        memcpy(copy, data, size);
        mqtt_broker_packet p;
        if (mqtt_decode_broker(copy, size, &p) == MQTT_OK && total != (int32_t)size) fail("decoded an unframed packet");
        free(copy);
        return 0;
    }

    const size_t len = (size_t)total;
    uint8_t *buf = (uint8_t *)malloc(len);
    memcpy(buf, data, len);
    mqtt_broker_packet p;
    const int rc = mqtt_decode_broker(buf, len, &p);
    if (rc != MQTT_OK && rc != MQTT_ERR_MALFORMED && rc != MQTT_ERR_TYPE && rc != MQTT_ERR_TOO_LARGE)
        fail("decode returned an unknown code");
    if (rc == MQTT_OK) {
        if (p.type != (buf[0] >> 4)) fail("decoded type differs from the header");
        uint8_t out[1024];
        int32_t n = 0;
        mqtt_broker_packet q;
        switch (p.type) {
            case MQTT_PUBLISH:
                if (!inside(p.publish.topic, p.publish.topic_len, buf, len)) fail("topic outside the packet");
                if (!inside(p.publish.payload, p.publish.payload_len, buf, len)) fail("payload outside the packet");
                if (p.publish.topic_len == 0 || p.publish.topic_len > MQTT_MAX_TOPIC_LEN) fail("topic length");
                if (p.publish.qos > 1) fail("QoS 2 decoded");
                if (p.publish.qos == 1 && p.publish.packet_id == 0) fail("QoS 1 with packet id 0");
                n = mqtt_encode_publish(out, sizeof out, &p.publish);
                if (n > 0) {
                    if (mqtt_decode_broker(out, (size_t)n, &q) != MQTT_OK) fail("re-encoded PUBLISH does not decode");
                    same_publish(p.publish, q.publish);
                } else if (n != MQTT_ERR_BUFFER) {
                    fail("a decoded PUBLISH cannot be encoded");
                }
                break;
            case MQTT_PUBACK:
                n = mqtt_encode_puback(out, sizeof out, p.packet_id);
                if (n != 4 || mqtt_decode_broker(out, 4, &q) != MQTT_OK || q.packet_id != p.packet_id)
                    fail("PUBACK round trip");
                break;
            case MQTT_CONNACK:
                n = mqtt_encode_connack(out, sizeof out, p.session_present, p.return_code);
                if (n != 4 || mqtt_decode_broker(out, 4, &q) != MQTT_OK || q.session_present != p.session_present ||
                    q.return_code != p.return_code)
                    fail("CONNACK round trip");
                (void)mqtt_connack_name(p.return_code);
                break;
            case MQTT_SUBACK:
                if (p.suback_count == 0 || !inside(p.suback_codes, p.suback_count, buf, len)) fail("SUBACK codes");
                n = mqtt_encode_suback(out, sizeof out, p.packet_id, p.suback_codes, p.suback_count);
                if (n > 0) {
                    if (mqtt_decode_broker(out, (size_t)n, &q) != MQTT_OK || q.packet_id != p.packet_id ||
                        q.suback_count != p.suback_count || memcmp(q.suback_codes, p.suback_codes, p.suback_count) != 0)
                        fail("SUBACK round trip");
                }
                break;
            case MQTT_PINGRESP:
                n = mqtt_encode_pingresp(out, sizeof out);
                if (n != 2 || mqtt_decode_broker(out, 2, &q) != MQTT_OK || q.type != MQTT_PINGRESP)
                    fail("PINGRESP round trip");
                break;
            case MQTT_CONNECT:
                if (p.connect.client_id && !inside(p.connect.client_id, p.client_id_len, buf, len))
                    fail("client id outside");
                if (p.connect.username && !inside(p.connect.username, p.username_len, buf, len))
                    fail("username outside");
                if (p.connect.password && !inside(p.connect.password, p.password_len, buf, len))
                    fail("password outside");
                if (p.connect.will_topic && !inside(p.connect.will_topic, p.will_topic_len, buf, len))
                    fail("will outside");
                break;
            case MQTT_SUBSCRIBE:
                if (p.sub_count == 0 || !inside(p.sub_topic, p.sub_topic_len, buf, len))
                    fail("SUBSCRIBE topic outside");
                break;
            default: break;
        }
    }
    (void)mqtt_error_name(rc);
    free(buf);
    return 0;
}
