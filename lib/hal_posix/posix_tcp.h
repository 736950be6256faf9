/*
 * posix_tcp.h - the plain TCP transport of the native node (transport.h over a POSIX socket).
 *
 * Non-blocking after open(): read/write return 0 when they would block. open() resolves the
 * host (IPv4 or IPv6), then connects with a bounded timeout. TLS (lib/tls) sits on top of it
 * as its `lower` transport.
 */
#ifndef POSIX_TCP_H
#define POSIX_TCP_H

#include <stdint.h>

#include "transport.h"

struct posix_tcp {
    transport t; /* first: a transport * is a posix_tcp * */
    int fd;
    uint32_t connect_timeout_ms;
    char error[40]; /* "ECONNREFUSED", "NAME_NOT_RESOLVED", ... */
    const char *hint;
    uint8_t plain_mqtt; /* MQTT goes straight over this socket (no TLS on top): hints say so */
    uint8_t got_bytes;  /* the server sent something since open() */
};

void posix_tcp_init(posix_tcp *tcp, uint32_t connect_timeout_ms);
/* The socket while open, else -1 (for poll()). */
int posix_tcp_fd(const posix_tcp *tcp);

#endif
