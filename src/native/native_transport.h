/*
 * native_transport.h - builds the native node's transport from its options: plain TCP, or
 * (lib/tls) BearSSL over TCP.
 */
#ifndef NATIVE_TRANSPORT_H
#define NATIVE_TRANSPORT_H

#include "hal.h"
#include "native_options.h"
#include "transport.h"

/* The transport for `o` (static storage inside), with every file and value the options name
   checked and loaded; or NULL after printing one line on stderr saying why (the caller then
   exits with status 2). Writes no state, so it runs before the HAL. */
transport *native_transport_create(const native_options *o);

/* Gives the transport the HAL's clock, randomness and log (one clock for the node and TLS) and
   starts it. 0, or -1 after printing one line on stderr. */
int native_transport_attach(const node_hal *hal);

#endif
