/*
 * mqtt_packet.h - MQTT 3.1.1 packet codec: encode into and decode from caller buffers.
 *
 * No state, no I/O, no heap (the lwmqtt split: this is packet.c, mqtt_session is client.c).
 * Decoded strings and payloads point into the caller's buffer; they are not NUL-terminated.
 * Every decoder checks each length against the bytes it was given, so a hostile or broken
 * peer can never make it read past the buffer.
 */
#ifndef MQTT_PACKET_H
#define MQTT_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* Packet types (the high nibble of the first byte). */
enum mqtt_packet_type {
    MQTT_CONNECT = 1,
    MQTT_CONNACK = 2,
    MQTT_PUBLISH = 3,
    MQTT_PUBACK = 4,
    MQTT_PUBREC = 5,
    MQTT_PUBREL = 6,
    MQTT_PUBCOMP = 7,
    MQTT_SUBSCRIBE = 8,
    MQTT_SUBACK = 9,
    MQTT_UNSUBSCRIBE = 10,
    MQTT_UNSUBACK = 11,
    MQTT_PINGREQ = 12,
    MQTT_PINGRESP = 13,
    MQTT_DISCONNECT = 14
};

/* Results. Encoders return the packet length (>0) or one of these; decoders return these. */
#define MQTT_OK            0
#define MQTT_ERR_BUFFER    (-1) /* the output buffer is too small (encode) */
#define MQTT_ERR_MALFORMED (-2) /* remaining length over 4 bytes, a length past the packet, bad flags */
#define MQTT_ERR_TYPE      (-3) /* reserved type (0 or 15) or a type we never handle (QoS 2 flow) */
#define MQTT_ERR_TOO_LARGE (-4) /* packet or topic larger than the caller allows */
#define MQTT_ERR_ARG       (-5) /* bad argument to an encoder (empty topic, QoS > 1, id 0) */
#define MQTT_NEED_MORE     (-6) /* frame: the header is not complete yet */

/* Longest topic we accept or send. Our topics are ~40 bytes; a longer one is a broken peer. */
#ifndef MQTT_MAX_TOPIC_LEN
#define MQTT_MAX_TOPIC_LEN 128
#endif

/* Largest value of "remaining length" (4 bytes of 7 bits). */
#define MQTT_MAX_REMAINING 268435455u

/* CONNACK return codes (MQTT 3.1.1 table 3.1). */
#define MQTT_CONNACK_ACCEPTED 0

struct mqtt_connect_opts {
    const char *client_id;
    const char *username; /* NULL: none */
    const char *password; /* NULL: none (needs a username, spec 3.1.2.9) */
    uint16_t keepalive_s;
    uint8_t clean_session;
    const char *will_topic; /* NULL: no will */
    const uint8_t *will_payload;
    uint16_t will_payload_len;
    uint8_t will_qos;
    uint8_t will_retain;
};

struct mqtt_publish {
    const char *topic; /* points into the packet when decoded */
    uint16_t topic_len;
    const uint8_t *payload;
    size_t payload_len;
    uint16_t packet_id; /* 0 for QoS 0 */
    uint8_t qos;
    uint8_t dup;
    uint8_t retain;
};

/* A decoded packet. Only the part for `type` is meaningful. */
struct mqtt_packet {
    uint8_t type;
    uint8_t flags;      /* the low nibble of the first byte */
    uint16_t packet_id; /* PUBACK, SUBACK, UNSUBACK, SUBSCRIBE, PUBLISH with QoS 1 */
    struct mqtt_publish publish;
    /* CONNACK */
    uint8_t session_present;
    uint8_t return_code;
    /* SUBACK: granted QoS per topic (0x80 = refused), pointing into the packet */
    const uint8_t *suback_codes;
    uint16_t suback_count;
};

#ifdef __cplusplus
extern "C" {
#endif

/* Encoders: the whole packet into buf[0..cap). Return its length or MQTT_ERR_*. */
int32_t mqtt_encode_connect(uint8_t *buf, size_t cap, const struct mqtt_connect_opts *o);
int32_t mqtt_encode_publish(uint8_t *buf, size_t cap, const struct mqtt_publish *p);
int32_t mqtt_encode_puback(uint8_t *buf, size_t cap, uint16_t packet_id);
/* SUBSCRIBE to `count` topics, each with the same requested QoS. */
int32_t mqtt_encode_subscribe(uint8_t *buf, size_t cap, uint16_t packet_id, const char *const *topics, uint16_t count,
                              uint8_t qos);
int32_t mqtt_encode_pingreq(uint8_t *buf, size_t cap);
int32_t mqtt_encode_disconnect(uint8_t *buf, size_t cap);
/* For tests and tools that play the broker side. */
int32_t mqtt_encode_connack(uint8_t *buf, size_t cap, uint8_t session_present, uint8_t rc);
int32_t mqtt_encode_suback(uint8_t *buf, size_t cap, uint16_t packet_id, const uint8_t *codes, uint16_t count);
int32_t mqtt_encode_pingresp(uint8_t *buf, size_t cap);

/* Frame: how long is the packet that starts at buf[0]? Returns the total length (header +
   remaining) as a positive number, MQTT_NEED_MORE if the fixed header is not all here yet,
   MQTT_ERR_MALFORMED if the remaining length runs over 4 bytes, MQTT_ERR_TYPE for types 0/15. */
int32_t mqtt_frame_length(const uint8_t *buf, size_t len);

/* Decode one complete packet a client receives (exactly `len` bytes, as told by
   mqtt_frame_length): CONNACK, PUBLISH, PUBACK, SUBACK, UNSUBACK, PINGREQ/PINGRESP, DISCONNECT.
   Anything else is MQTT_ERR_TYPE (CONNECT and SUBSCRIBE decoding, which only a broker needs,
   lives with the tests: test/unit/mqtt_broker_decode.h). */
int mqtt_decode(const uint8_t *buf, size_t len, struct mqtt_packet *out);
/* The fixed header only: checks framing and flags, fills type and flags, gives the header length. */
int mqtt_decode_header(const uint8_t *buf, size_t len, struct mqtt_packet *out, size_t *header_len);

/* Set the DUP flag in an encoded PUBLISH (retransmission after reconnect). */
void mqtt_publish_set_dup(uint8_t *packet);

/* The name of a CONNACK return code: "ACCEPTED", "NOT_AUTHORIZED", ... */
const char *mqtt_connack_name(uint8_t rc);
/* The name of an MQTT_ERR_* value. */
const char *mqtt_error_name(int err);

#ifdef __cplusplus
}
#endif

#endif
