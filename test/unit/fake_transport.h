/*
 * fake_transport.h - an in-memory transport for unit tests: the test plays the broker by
 * pushing bytes the session will read, and by taking the packets the session wrote.
 */
#ifndef TEST_FAKE_TRANSPORT_H
#define TEST_FAKE_TRANSPORT_H

#include <string.h>

#include "mqtt_broker_decode.h"
#include "transport.h"

struct fake_transport {
    transport t;     /* first member: the session's transport* is a fake_transport* */
    int open_result; /* what open() returns */
    int opens;
    int closes;
    bool is_open;
    int read_error;     /* when non-zero, read() returns it once */
    size_t write_limit; /* max bytes accepted per write() call (0: all) */
    bool write_blocked; /* write() returns 0 */
    uint8_t in[4096];   /* broker -> node */
    size_t in_len;
    uint8_t out[65536]; /* node -> broker */
    size_t out_len;
    size_t out_taken; /* packets before this offset were taken by the test */
};

static int ft_open(transport *t, const char *, uint16_t) {
    fake_transport *f = (fake_transport *)t;
    f->opens++;
    if (f->open_result == 0) f->is_open = true;
    return f->open_result;
}

static int32_t ft_read(transport *t, uint8_t *buf, size_t len) {
    fake_transport *f = (fake_transport *)t;
    if (!f->is_open) return TRANSPORT_ERR_CLOSED;
    if (f->read_error && f->in_len == 0) { /* data already sent arrives before the error */
        int e = f->read_error;
        f->read_error = 0;
        return e;
    }
    size_t n = f->in_len < len ? f->in_len : len;
    memcpy(buf, f->in, n);
    memmove(f->in, f->in + n, f->in_len - n);
    f->in_len -= n;
    return (int32_t)n;
}

static int32_t ft_write(transport *t, const uint8_t *buf, size_t len) {
    fake_transport *f = (fake_transport *)t;
    if (!f->is_open) return TRANSPORT_ERR_IO;
    if (f->write_blocked) return 0;
    if (f->write_limit && len > f->write_limit) len = f->write_limit;
    if (len > sizeof f->out - f->out_len) len = sizeof f->out - f->out_len;
    memcpy(f->out + f->out_len, buf, len);
    f->out_len += len;
    return (int32_t)len;
}

static void ft_close(transport *t) {
    fake_transport *f = (fake_transport *)t;
    if (f->is_open) f->closes++;
    f->is_open = false;
    f->in_len = 0;
}

static const char *ft_error_name(const transport *t) {
    const fake_transport *f = (const fake_transport *)t;
    return f->open_result ? "ECONNREFUSED" : "";
}

static const char *ft_error_hint(const transport *) { return ""; }

static void fake_init(fake_transport *f) {
    memset(f, 0, sizeof *f);
    f->t.open = ft_open;
    f->t.read = ft_read;
    f->t.write = ft_write;
    f->t.close = ft_close;
    f->t.error_name = ft_error_name;
    f->t.error_hint = ft_error_hint;
}

static void fake_push(fake_transport *f, const uint8_t *p, size_t n) {
    memcpy(f->in + f->in_len, p, n);
    f->in_len += n;
}

/* Decode the next complete packet the node wrote. Returns false if there is none. The packet's
   pointers stay valid until the test clears `out`. */
static bool fake_take(fake_transport *f, mqtt_broker_packet *p) {
    if (f->out_taken >= f->out_len) return false;
    int32_t n = mqtt_frame_length(f->out + f->out_taken, f->out_len - f->out_taken);
    if (n <= 0 || (size_t)n > f->out_len - f->out_taken) return false;
    int rc = mqtt_decode_broker(f->out + f->out_taken, (size_t)n, p);
    f->out_taken += (size_t)n;
    return rc == MQTT_OK;
}

static void fake_connack(fake_transport *f, uint8_t rc) {
    uint8_t b[4];
    int32_t n = mqtt_encode_connack(b, sizeof b, 0, rc);
    fake_push(f, b, (size_t)n);
}

static void fake_puback(fake_transport *f, uint16_t id) {
    uint8_t b[4];
    int32_t n = mqtt_encode_puback(b, sizeof b, id);
    fake_push(f, b, (size_t)n);
}

#endif
