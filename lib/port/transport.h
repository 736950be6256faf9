/*
 * transport.h - the byte stream under the MQTT session.
 *
 * A transport is plain TCP (POSIX socket, ESP8266 WiFiClient) or TLS over TCP (lib/tls).
 * The session owns one and drives it from its poll loop, so every call except open()
 * must return at once: read and write return 0 when they would block. open() may block
 * for a bounded time (a TCP connect timeout), never longer.
 *
 * Style: a struct of function pointers with the implementation's state behind it, as in
 * BearSSL's br_sslio and lwmqtt's network callbacks. No heap, no virtual functions.
 */
#ifndef NODE_TRANSPORT_H
#define NODE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Negative results of read/write/open. */
#define TRANSPORT_ERR_CLOSED (-1) /* peer closed the connection (orderly) */
#define TRANSPORT_ERR_IO     (-2) /* socket error, reset, connect refused or timed out */
#define TRANSPORT_ERR_TLS    (-3) /* TLS failed: error_name() says why, e.g. "X509_EXPIRED" */
#define TRANSPORT_ERR_CONFIG (-4) /* the transport cannot be used as configured (no clock, no certs) */

typedef struct transport transport;

struct transport {
    /* Connect to host:port. 0 when connected (for TLS: handshake started), <0 on failure. */
    int (*open)(transport *t, const char *host, uint16_t port);
    /* Bytes read (>0), 0 if nothing is available yet, or TRANSPORT_ERR_*. */
    int32_t (*read)(transport *t, uint8_t *buf, size_t len);
    /* Bytes accepted (>=0, may be fewer than len; 0 = try again later), or TRANSPORT_ERR_*. */
    int32_t (*write)(transport *t, const uint8_t *buf, size_t len);
    /* Close; safe to call on a closed transport. */
    void (*close)(transport *t);
    /* Name of the last failure ("ECONNREFUSED", "X509_NOT_TRUSTED", ...), or "" if none. */
    const char *(*error_name)(const transport *t);
    /* One line that tells the user how to fix the last failure, or "" if there is nothing to add. */
    const char *(*error_hint)(const transport *t);
};

#ifdef __cplusplus
}
#endif

#endif
