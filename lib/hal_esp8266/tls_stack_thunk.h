/*
 * tls_stack_thunk.h - keeps the Arduino core's BearSSL stack allocated while a TLS connection
 * is open, so lib/tls's engine calls can run on it (see tls_engine_thunks.h for why: a
 * handshake needs ~5.2 KB of stack, loop() has 4 KB).
 *
 * A transport that wraps the TLS transport: open() takes a reference on the core's thunk
 * stack (stack_thunk_add_ref(): the first reference allocates its 6200 bytes) before any
 * engine call, close() drops it after the last one (close_notify included); the core frees the
 * stack when nobody else (e.g. a WiFiClientSecure) holds it. One reference per wrapper at
 * most, however often the session calls open() or close(), so the count always balances.
 * Everything else is passed through unchanged.
 *
 * Usage (src/esp8266/node_certs.cpp):
 *     static tls_transport tls;
 *     static tls_stack_transport tls_on_thunk_stack;
 *     tls_stack_transport_init(&tls_on_thunk_stack, &tls.base);
 *     session uses &tls_on_thunk_stack.base
 */
#ifndef TLS_STACK_THUNK_H
#define TLS_STACK_THUNK_H

#include <stdint.h>

#include "transport.h"

struct tls_stack_transport {
    transport base;      /* first, so a transport* from the session converts back */
    transport *tls;      /* the TLS transport whose engine calls are thunked */
    uint8_t holds_stack; /* 1 between open() and close(): we hold one stack reference */
};

void tls_stack_transport_init(tls_stack_transport *s, transport *tls);

/* Stack references held by all wrappers now (0 or 1 for the node). */
uint32_t tls_stack_thunk_refs(void);

#endif
