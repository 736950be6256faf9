/*
 * tls_stack_thunk.h - runs lib/tls's BearSSL engine calls on the Arduino core's separate
 * BearSSL stack (see tls_engine_thunks.h for why: a handshake needs up to 4.6 KB of stack, loop()
 * has 4 KB).
 *
 * The core allocates that 6200-byte stack on the first stack_thunk_add_ref() and frees it on
 * the last stack_thunk_del_ref(). The node takes its one reference in setup() and never drops
 * it: the stack is allocated once at start, like every other buffer of ours, instead of being
 * malloc'd and freed on every reconnect (heap churn and fragmentation on a 40 KB heap).
 *
 * Usage (src/esp8266/node_certs.cpp, in setup()):
 *     tls_stack_thunk_hold();
 *     tls_transport_init(...);   // its engine calls now run on the thunk stack
 */
#ifndef TLS_STACK_THUNK_H
#define TLS_STACK_THUNK_H

#include <stdint.h>

/* Takes the node's reference on the core's BearSSL stack; calling it again does nothing. */
void tls_stack_thunk_hold(void);

/* Stack references held by the node (0 before tls_stack_thunk_hold(), then 1). */
uint32_t tls_stack_thunk_refs(void);

#endif
