/*
 * native_transport.h - builds the native node's transport from its options: plain TCP, or
 * (lib/tls) BearSSL over TCP.
 */
#ifndef NATIVE_TRANSPORT_H
#define NATIVE_TRANSPORT_H

#include "native_options.h"
#include "transport.h"

/* The transport for `o` (static storage inside), or NULL after printing one line on stderr
   saying why; the caller then exits with status 2. */
transport *native_transport_create(const native_options *o);

#endif
