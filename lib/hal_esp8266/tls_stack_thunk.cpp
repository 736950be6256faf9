/*
 * tls_stack_thunk.cpp - see tls_stack_thunk.h and tls_engine_thunks.h.
 *
 * Only the core's StackThunk.h is used here (no Arduino.h), so this file also builds with
 * Debian's xtensa-lx106-elf-g++ against the core's headers (docs/esp8266-host-emulation.md).
 */
/* Only TLS builds need the thunks: env nodemcuv2_plain (NODE_USE_TLS=0) leaves out lib/tls, and
   these would only cost flash there (50 B each, in .irom0.text). */
#if !defined(NODE_USE_TLS) || NODE_USE_TLS

#include "tls_stack_thunk.h"

#include <stdio.h>
#include <stdlib.h>

#include <StackThunk.h>

#include "tls_engine_thunks.h"

static uint32_t refs_held;

uint32_t tls_stack_thunk_refs(void) { return refs_held; }

/* The #defines of tls_engine_thunks.h are for tls_transport.cpp; here the real names must be
   called. */
#undef br_ssl_engine_recvapp_ack
#undef br_ssl_engine_recvrec_ack
#undef br_ssl_engine_sendapp_ack
#undef br_ssl_engine_sendrec_ack
#undef br_ssl_engine_flush
#undef br_ssl_engine_close
#undef br_ssl_client_reset

#if !CORE_MOCK

/* On the chip: thunk_tls_engine_<call> runs tls_engine_<call>, and so the BearSSL function, on
   the core's BearSSL stack. make_stack_thunk() names its thunk after the function it calls, so
   each BearSSL call gets a one-line function of our own: the core's thunk_br_ssl_engine_* names
   stay free (no clash if a sketch also links the core's WiFiClientSecure). */
extern "C" {
void tls_engine_recvapp_ack(br_ssl_engine_context *cc, size_t len) { br_ssl_engine_recvapp_ack(cc, len); }
void tls_engine_recvrec_ack(br_ssl_engine_context *cc, size_t len) { br_ssl_engine_recvrec_ack(cc, len); }
void tls_engine_sendapp_ack(br_ssl_engine_context *cc, size_t len) { br_ssl_engine_sendapp_ack(cc, len); }
void tls_engine_sendrec_ack(br_ssl_engine_context *cc, size_t len) { br_ssl_engine_sendrec_ack(cc, len); }
void tls_engine_flush(br_ssl_engine_context *cc, int force) { br_ssl_engine_flush(cc, force); }
void tls_engine_close(br_ssl_engine_context *cc) { br_ssl_engine_close(cc); }
int tls_engine_client_reset(br_ssl_client_context *cc, const char *server_name, int resume_session) {
    return br_ssl_client_reset(cc, server_name, resume_session);
}
}
make_stack_thunk(tls_engine_recvapp_ack);
make_stack_thunk(tls_engine_recvrec_ack);
make_stack_thunk(tls_engine_sendapp_ack);
make_stack_thunk(tls_engine_sendrec_ack);
make_stack_thunk(tls_engine_flush);
make_stack_thunk(tls_engine_close);
make_stack_thunk(tls_engine_client_reset);

#else

/* Host emulation (CORE_MOCK): an x86 build cannot switch stacks and the core's StackThunk is
   stubbed out, so the thunks become direct calls. What the emulation can still check is the
   rule the chip depends on: no engine call while no stack reference is held (on the chip that
   call would run on a freed or NULL stack). */
static void require_stack(const char *fn) {
    if (refs_held == 0) {
        fprintf(stderr, "tls: %s called without a stack-thunk reference (would crash on the chip)\n", fn);
        abort();
    }
}

extern "C" {
void thunk_tls_engine_recvapp_ack(br_ssl_engine_context *cc, size_t len) {
    require_stack(__func__);
    br_ssl_engine_recvapp_ack(cc, len);
}
void thunk_tls_engine_recvrec_ack(br_ssl_engine_context *cc, size_t len) {
    require_stack(__func__);
    br_ssl_engine_recvrec_ack(cc, len);
}
void thunk_tls_engine_sendapp_ack(br_ssl_engine_context *cc, size_t len) {
    require_stack(__func__);
    br_ssl_engine_sendapp_ack(cc, len);
}
void thunk_tls_engine_sendrec_ack(br_ssl_engine_context *cc, size_t len) {
    require_stack(__func__);
    br_ssl_engine_sendrec_ack(cc, len);
}
void thunk_tls_engine_flush(br_ssl_engine_context *cc, int force) {
    require_stack(__func__);
    br_ssl_engine_flush(cc, force);
}
void thunk_tls_engine_close(br_ssl_engine_context *cc) {
    require_stack(__func__);
    br_ssl_engine_close(cc);
}
int thunk_tls_engine_client_reset(br_ssl_client_context *cc, const char *server_name, int resume_session) {
    require_stack(__func__);
    return br_ssl_client_reset(cc, server_name, resume_session);
}
}

#endif /* CORE_MOCK */

/* ---------------------------------------------------------------- the node's reference */

void tls_stack_thunk_hold(void) {
    if (refs_held == 0) {
        stack_thunk_add_ref();
        refs_held = 1;
    }
}

#endif /* NODE_USE_TLS */
