/*
 * mqtt_packet.cpp - MQTT 3.1.1 codec. See mqtt_packet.h.
 *
 * Writers and readers are tiny cursors that refuse to move past their end; every length
 * read from the wire is checked against the bytes actually present before it is used.
 */
#include "mqtt_packet.h"

#include <string.h>

namespace {

struct writer {
    uint8_t *buf;
    size_t cap;
    size_t pos;
    bool ok;
};

void put_u8(writer &w, uint8_t v) {
    if (w.pos + 1 > w.cap) {
        w.ok = false;
        return;
    }
    w.buf[w.pos++] = v;
}

void put_u16(writer &w, uint16_t v) {
    put_u8(w, (uint8_t)(v >> 8));
    put_u8(w, (uint8_t)(v & 0xff));
}

void put_bytes(writer &w, const uint8_t *p, size_t n) {
    if (n > w.cap - w.pos || w.pos > w.cap) {
        w.ok = false;
        return;
    }
    if (n) memcpy(w.buf + w.pos, p, n);
    w.pos += n;
}

void put_str(writer &w, const char *s, size_t n) {
    put_u16(w, (uint16_t)n);
    put_bytes(w, (const uint8_t *)s, n);
}

/* Bytes needed to encode `rem` as a remaining length (1..4). */
size_t varint_len(uint32_t rem) {
    if (rem < 128u) return 1;
    if (rem < 16384u) return 2;
    if (rem < 2097152u) return 3;
    return 4;
}

/* Writes the fixed header; returns false if the packet cannot fit. */
bool put_header(writer &w, uint8_t first, uint32_t rem) {
    if (rem > MQTT_MAX_REMAINING) {
        w.ok = false;
        return false;
    }
    if (1 + varint_len(rem) + (size_t)rem > w.cap) {
        w.ok = false;
        return false;
    }
    put_u8(w, first);
    do {
        uint8_t b = (uint8_t)(rem % 128u);
        rem /= 128u;
        if (rem) b |= 0x80;
        put_u8(w, b);
    } while (rem);
    return w.ok;
}

int32_t finish(const writer &w) { return w.ok ? (int32_t)w.pos : MQTT_ERR_BUFFER; }

struct reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool ok;
};

uint8_t get_u8(reader &r) {
    if (r.pos + 1 > r.len) {
        r.ok = false;
        return 0;
    }
    return r.p[r.pos++];
}

uint16_t get_u16(reader &r) {
    uint16_t hi = get_u8(r);
    uint16_t lo = get_u8(r);
    return (uint16_t)((hi << 8) | lo);
}

/* A length-prefixed string; NULL (and r.ok = false) if it runs past the packet. */
const uint8_t *get_str(reader &r, uint16_t *n) {
    *n = get_u16(r);
    if (!r.ok || *n > r.len - r.pos) {
        r.ok = false;
        *n = 0;
        return 0;
    }
    const uint8_t *s = r.p + r.pos;
    r.pos += *n;
    return s;
}

size_t slen(const char *s) { return s ? strlen(s) : 0; }

} // namespace

extern "C" {

int32_t mqtt_encode_connect(uint8_t *buf, size_t cap, const struct mqtt_connect_opts *o) {
    if (!o || !o->client_id) return MQTT_ERR_ARG;
    if (o->password && !o->username) return MQTT_ERR_ARG;
    if (o->will_qos > 1) return MQTT_ERR_ARG;
    size_t id = slen(o->client_id), user = slen(o->username), pass = slen(o->password);
    size_t wt = slen(o->will_topic);
    if (id > 65535 || user > 65535 || pass > 65535 || wt > MQTT_MAX_TOPIC_LEN) return MQTT_ERR_ARG;
    if (o->will_topic && wt == 0) return MQTT_ERR_ARG;

    uint32_t rem = 10 + 2 + (uint32_t)id;
    uint8_t flags = 0;
    if (o->clean_session) flags |= 0x02;
    if (o->will_topic) {
        flags |= 0x04 | (uint8_t)(o->will_qos << 3);
        if (o->will_retain) flags |= 0x20;
        rem += 2 + (uint32_t)wt + 2 + o->will_payload_len;
    }
    if (o->username) {
        flags |= 0x80;
        rem += 2 + (uint32_t)user;
    }
    if (o->password) {
        flags |= 0x40;
        rem += 2 + (uint32_t)pass;
    }

    writer w = {buf, cap, 0, true};
    if (!put_header(w, MQTT_CONNECT << 4, rem)) return MQTT_ERR_BUFFER;
    put_str(w, "MQTT", 4);
    put_u8(w, 4); /* protocol level 3.1.1 */
    put_u8(w, flags);
    put_u16(w, o->keepalive_s);
    put_str(w, o->client_id, id);
    if (o->will_topic) {
        put_str(w, o->will_topic, wt);
        put_u16(w, o->will_payload_len);
        put_bytes(w, o->will_payload, o->will_payload_len);
    }
    if (o->username) put_str(w, o->username, user);
    if (o->password) put_str(w, o->password, pass);
    return finish(w);
}

int32_t mqtt_encode_publish(uint8_t *buf, size_t cap, const struct mqtt_publish *p) {
    if (!p || !p->topic || p->topic_len == 0 || p->topic_len > MQTT_MAX_TOPIC_LEN) return MQTT_ERR_ARG;
    if (p->qos > 1) return MQTT_ERR_ARG; /* QoS 2 is not used by this node */
    if (p->qos > 0 && p->packet_id == 0) return MQTT_ERR_ARG;
    uint32_t rem = 2 + p->topic_len + (p->qos ? 2 : 0);
    if (p->payload_len > MQTT_MAX_REMAINING - rem) return MQTT_ERR_ARG;
    rem += (uint32_t)p->payload_len;
    uint8_t first = (uint8_t)((MQTT_PUBLISH << 4) | (p->dup ? 0x08 : 0) | (p->qos << 1) | (p->retain ? 1 : 0));
    writer w = {buf, cap, 0, true};
    if (!put_header(w, first, rem)) return MQTT_ERR_BUFFER;
    put_str(w, p->topic, p->topic_len);
    if (p->qos) put_u16(w, p->packet_id);
    put_bytes(w, p->payload, p->payload_len);
    return finish(w);
}

static int32_t encode_id_only(uint8_t *buf, size_t cap, uint8_t first, uint16_t id) {
    if (id == 0) return MQTT_ERR_ARG;
    writer w = {buf, cap, 0, true};
    if (!put_header(w, first, 2)) return MQTT_ERR_BUFFER;
    put_u16(w, id);
    return finish(w);
}

int32_t mqtt_encode_puback(uint8_t *buf, size_t cap, uint16_t packet_id) {
    return encode_id_only(buf, cap, MQTT_PUBACK << 4, packet_id);
}

int32_t mqtt_encode_subscribe(uint8_t *buf, size_t cap, uint16_t packet_id, const char *const *topics, uint16_t count,
                              uint8_t qos) {
    if (packet_id == 0 || count == 0 || !topics || qos > 1) return MQTT_ERR_ARG;
    uint32_t rem = 2;
    for (uint16_t i = 0; i < count; i++) {
        size_t n = slen(topics[i]);
        if (n == 0 || n > MQTT_MAX_TOPIC_LEN) return MQTT_ERR_ARG;
        rem += 2 + (uint32_t)n + 1;
    }
    writer w = {buf, cap, 0, true};
    if (!put_header(w, (MQTT_SUBSCRIBE << 4) | 0x02, rem)) return MQTT_ERR_BUFFER;
    put_u16(w, packet_id);
    for (uint16_t i = 0; i < count; i++) {
        put_str(w, topics[i], strlen(topics[i]));
        put_u8(w, qos);
    }
    return finish(w);
}

static int32_t encode_empty(uint8_t *buf, size_t cap, uint8_t type) {
    writer w = {buf, cap, 0, true};
    if (!put_header(w, (uint8_t)(type << 4), 0)) return MQTT_ERR_BUFFER;
    return finish(w);
}

int32_t mqtt_encode_pingreq(uint8_t *buf, size_t cap) { return encode_empty(buf, cap, MQTT_PINGREQ); }
int32_t mqtt_encode_pingresp(uint8_t *buf, size_t cap) { return encode_empty(buf, cap, MQTT_PINGRESP); }
int32_t mqtt_encode_disconnect(uint8_t *buf, size_t cap) { return encode_empty(buf, cap, MQTT_DISCONNECT); }

int32_t mqtt_encode_connack(uint8_t *buf, size_t cap, uint8_t session_present, uint8_t rc) {
    writer w = {buf, cap, 0, true};
    if (!put_header(w, MQTT_CONNACK << 4, 2)) return MQTT_ERR_BUFFER;
    put_u8(w, session_present ? 1 : 0);
    put_u8(w, rc);
    return finish(w);
}

int32_t mqtt_encode_suback(uint8_t *buf, size_t cap, uint16_t packet_id, const uint8_t *codes, uint16_t count) {
    if (packet_id == 0 || count == 0 || !codes) return MQTT_ERR_ARG;
    writer w = {buf, cap, 0, true};
    if (!put_header(w, MQTT_SUBACK << 4, 2u + count)) return MQTT_ERR_BUFFER;
    put_u16(w, packet_id);
    put_bytes(w, codes, count);
    return finish(w);
}

int32_t mqtt_frame_length(const uint8_t *buf, size_t len) {
    if (len < 1) return MQTT_NEED_MORE;
    uint8_t type = buf[0] >> 4;
    if (type == 0 || type == 15) return MQTT_ERR_TYPE;
    uint32_t rem = 0, mult = 1;
    for (size_t i = 1; i <= 4; i++) {
        if (i >= len) return MQTT_NEED_MORE;
        uint8_t b = buf[i];
        rem += (uint32_t)(b & 0x7f) * mult;
        if (!(b & 0x80)) {
            /* A shortest-form check is not required by 3.1.1; the 4-byte cap is. */
            return (int32_t)(1 + i + rem);
        }
        mult *= 128u;
    }
    return MQTT_ERR_MALFORMED; /* continuation bit set on the 4th byte */
}

/* The flags each fixed-flag type must carry (MQTT 3.1.1 table 2.2). */
static bool flags_valid(uint8_t type, uint8_t flags) {
    switch (type) {
        case MQTT_PUBLISH: return ((flags >> 1) & 3) != 3;
        case MQTT_PUBREL:
        case MQTT_SUBSCRIBE:
        case MQTT_UNSUBSCRIBE: return flags == 0x02;
        default: return flags == 0;
    }
}

/* One decoder per packet type a client receives; `r` holds the bytes after the fixed header. */
static int decode_connack(reader &r, struct mqtt_packet *out) {
    if (r.len != 2) return MQTT_ERR_MALFORMED;
    out->session_present = get_u8(r);
    out->return_code = get_u8(r);
    return out->session_present > 1 ? MQTT_ERR_MALFORMED : MQTT_OK;
}

static int decode_publish(reader &r, struct mqtt_packet *out) {
    struct mqtt_publish *p = &out->publish;
    p->qos = (out->flags >> 1) & 3;
    p->dup = (out->flags >> 3) & 1;
    p->retain = out->flags & 1;
    const uint8_t *t = get_str(r, &p->topic_len);
    if (!r.ok) return MQTT_ERR_MALFORMED;
    if (p->topic_len == 0) return MQTT_ERR_MALFORMED;
    if (p->topic_len > MQTT_MAX_TOPIC_LEN) return MQTT_ERR_TOO_LARGE;
    for (uint16_t i = 0; i < p->topic_len; i++) {
        /* Wildcards and NUL are illegal in a PUBLISH topic (spec 3.3.2.1, 1.5.3). */
        if (t[i] == '+' || t[i] == '#' || t[i] == 0) return MQTT_ERR_MALFORMED;
    }
    p->topic = (const char *)t;
    if (p->qos > 0) {
        p->packet_id = get_u16(r);
        if (!r.ok || p->packet_id == 0) return MQTT_ERR_MALFORMED;
        out->packet_id = p->packet_id;
    }
    if (p->qos == 2) return MQTT_ERR_TYPE; /* never subscribed with QoS 2 */
    p->payload = r.p + r.pos;
    p->payload_len = r.len - r.pos;
    return MQTT_OK;
}

/* PUBACK and UNSUBACK: a packet id and nothing else. */
static int decode_ack(reader &r, struct mqtt_packet *out) {
    if (r.len != 2) return MQTT_ERR_MALFORMED;
    out->packet_id = get_u16(r);
    return out->packet_id ? MQTT_OK : MQTT_ERR_MALFORMED;
}

static int decode_suback(reader &r, struct mqtt_packet *out) {
    if (r.len < 3) return MQTT_ERR_MALFORMED;
    out->packet_id = get_u16(r);
    if (out->packet_id == 0) return MQTT_ERR_MALFORMED;
    out->suback_codes = r.p + r.pos;
    out->suback_count = (uint16_t)(r.len - r.pos);
    for (uint16_t i = 0; i < out->suback_count; i++) {
        uint8_t c = out->suback_codes[i];
        if (c > 2 && c != 0x80) return MQTT_ERR_MALFORMED;
    }
    return MQTT_OK;
}

/* PINGREQ, PINGRESP, DISCONNECT. */
static int decode_empty(reader &r, struct mqtt_packet *) { return r.len == 0 ? MQTT_OK : MQTT_ERR_MALFORMED; }

int mqtt_decode_header(const uint8_t *buf, size_t len, struct mqtt_packet *out, size_t *header_len) {
    if (!buf || !out) return MQTT_ERR_ARG;
    memset(out, 0, sizeof(*out));
    int32_t total = mqtt_frame_length(buf, len);
    if (total < 0) return total == MQTT_NEED_MORE ? MQTT_ERR_MALFORMED : total;
    if ((size_t)total != len) return MQTT_ERR_MALFORMED; /* remaining length disagrees with the bytes */
    size_t hdr = 2;
    while (buf[hdr - 1] & 0x80) hdr++;
    out->type = buf[0] >> 4;
    out->flags = buf[0] & 0x0f;
    if (!flags_valid(out->type, out->flags)) return MQTT_ERR_MALFORMED;
    *header_len = hdr;
    return MQTT_OK;
}

int mqtt_decode(const uint8_t *buf, size_t len, struct mqtt_packet *out) {
    size_t hdr;
    int rc = mqtt_decode_header(buf, len, out, &hdr);
    if (rc != MQTT_OK) return rc;
    reader r = {buf + hdr, len - hdr, 0, true};
    switch (out->type) {
        case MQTT_CONNACK: return decode_connack(r, out);
        case MQTT_PUBLISH: return decode_publish(r, out);
        case MQTT_PUBACK:
        case MQTT_UNSUBACK: return decode_ack(r, out);
        case MQTT_SUBACK: return decode_suback(r, out);
        case MQTT_PINGREQ:
        case MQTT_PINGRESP:
        case MQTT_DISCONNECT: return decode_empty(r, out);
        default:
            /* CONNECT and SUBSCRIBE only reach a broker (tests decode them with
           test/unit/mqtt_broker_decode.h); QoS 2 and UNSUBSCRIBE: the node never takes part. */
            return MQTT_ERR_TYPE;
    }
}

void mqtt_publish_set_dup(uint8_t *packet) { packet[0] |= 0x08; }

const char *mqtt_connack_name(uint8_t rc) {
    switch (rc) {
        case 0: return "ACCEPTED";
        case 1: return "UNACCEPTABLE_PROTOCOL_VERSION";
        case 2: return "IDENTIFIER_REJECTED";
        case 3: return "SERVER_UNAVAILABLE";
        case 4: return "BAD_USERNAME_OR_PASSWORD";
        case 5: return "NOT_AUTHORIZED";
        default: return "UNKNOWN_RETURN_CODE";
    }
}

const char *mqtt_error_name(int err) {
    switch (err) {
        case MQTT_OK: return "OK";
        case MQTT_ERR_BUFFER: return "BUFFER_TOO_SMALL";
        case MQTT_ERR_MALFORMED: return "MALFORMED";
        case MQTT_ERR_TYPE: return "UNEXPECTED_TYPE";
        case MQTT_ERR_TOO_LARGE: return "TOO_LARGE";
        case MQTT_ERR_ARG: return "BAD_ARGUMENT";
        case MQTT_NEED_MORE: return "NEED_MORE";
        default: return "UNKNOWN";
    }
}

} // extern "C"
