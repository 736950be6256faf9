/*
 * mqtt_broker_decode.h - decoding of the packets only a broker receives (CONNECT, SUBSCRIBE), for
 * the tests and fuzz targets that play the broker. The firmware's codec (lib/mqtt/mqtt_packet.*)
 * decodes only what a client receives; this is the other half, kept out of the image.
 *
 *   mqtt_broker_packet p;
 *   mqtt_decode_broker(buf, len, &p);   // CONNECT / SUBSCRIBE here, everything else as mqtt_decode()
 */
#ifndef MQTT_BROKER_DECODE_H
#define MQTT_BROKER_DECODE_H

#include <string.h>

#include "mqtt_packet.h"

struct mqtt_broker_packet : mqtt_packet {
    /* CONNECT */
    struct mqtt_connect_opts connect;
    uint16_t client_id_len, username_len, password_len, will_topic_len;
    /* SUBSCRIBE (first topic only; enough for round-trip tests) */
    const char *sub_topic;
    uint16_t sub_topic_len;
    uint8_t sub_qos;
    uint16_t sub_count;
};

/* A bounds-checked reader over the bytes after the fixed header. */
struct broker_reader {
    const uint8_t *p;
    size_t len, pos;
    bool ok;
    uint8_t u8() {
        if (pos + 1 > len) {
            ok = false;
            return 0;
        }
        return p[pos++];
    }
    uint16_t u16() {
        if (pos + 2 > len) {
            ok = false;
            return 0;
        }
        uint16_t v = (uint16_t)(p[pos] << 8 | p[pos + 1]);
        pos += 2;
        return v;
    }
    const uint8_t *str(uint16_t *n) {
        *n = u16();
        if (!ok || pos + *n > len) {
            ok = false;
            *n = 0;
            return 0;
        }
        const uint8_t *s = p + pos;
        pos += *n;
        return s;
    }
};

static inline int broker_decode_connect(broker_reader &r, mqtt_broker_packet *out) {
    uint16_t n;
    const uint8_t *proto = r.str(&n);
    if (!r.ok || n != 4 || memcmp(proto, "MQTT", 4) != 0) return MQTT_ERR_MALFORMED;
    if (r.u8() != 4) return MQTT_ERR_MALFORMED;
    uint8_t f = r.u8();
    if (!r.ok || (f & 0x01)) return MQTT_ERR_MALFORMED; /* reserved bit */
    mqtt_connect_opts *c = &out->connect;
    c->clean_session = (f >> 1) & 1;
    c->keepalive_s = r.u16();
    c->client_id = (const char *)r.str(&out->client_id_len);
    if (f & 0x04) {
        c->will_qos = (f >> 3) & 3;
        c->will_retain = (f >> 5) & 1;
        c->will_topic = (const char *)r.str(&out->will_topic_len);
        c->will_payload = r.str(&c->will_payload_len);
    } else if (f & 0x38) {
        return MQTT_ERR_MALFORMED; /* will QoS/retain without a will */
    }
    if (f & 0x80) c->username = (const char *)r.str(&out->username_len);
    if (f & 0x40) c->password = (const char *)r.str(&out->password_len);
    return (!r.ok || r.pos != r.len) ? MQTT_ERR_MALFORMED : MQTT_OK;
}

static inline int broker_decode_subscribe(broker_reader &r, mqtt_broker_packet *out) {
    out->packet_id = r.u16();
    if (!r.ok || out->packet_id == 0 || r.pos == r.len) return MQTT_ERR_MALFORMED;
    while (r.pos < r.len) {
        uint16_t n;
        const uint8_t *t = r.str(&n);
        uint8_t q = r.u8();
        if (!r.ok || n == 0 || q > 2) return MQTT_ERR_MALFORMED;
        if (n > MQTT_MAX_TOPIC_LEN) return MQTT_ERR_TOO_LARGE;
        if (out->sub_count == 0) {
            out->sub_topic = (const char *)t;
            out->sub_topic_len = n;
            out->sub_qos = q;
        }
        out->sub_count++;
    }
    return MQTT_OK;
}

/* CONNECT and SUBSCRIBE decoded here; every other type as mqtt_decode() does it. */
static inline int mqtt_decode_broker(const uint8_t *buf, size_t len, mqtt_broker_packet *out) {
    memset((void *)out, 0, sizeof *out);
    size_t hdr = 0;
    int rc = mqtt_decode_header(buf, len, out, &hdr);
    if (rc != MQTT_OK) return rc;
    if (out->type != MQTT_CONNECT && out->type != MQTT_SUBSCRIBE) return mqtt_decode(buf, len, out);
    broker_reader r = {buf + hdr, len - hdr, 0, true};
    return out->type == MQTT_CONNECT ? broker_decode_connect(r, out) : broker_decode_subscribe(r, out);
}

#endif
