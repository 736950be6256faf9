/*
 * tls_stack_thunk.cpp - see tls_stack_thunk.h and tls_engine_thunks.h.
 *
 * Only the core's StackThunk.h is used here (no Arduino.h), so this file also builds with
 * Debian's xtensa-lx106-elf-g++ against the core's headers (docs/esp8266-host-emulation.md).
 */
#include "tls_stack_thunk.h"

#include <stdio.h>
#include <stdlib.h>

#include <StackThunk.h>

#include "tls_engine_thunks.h"

/* The core declares its eight thunks in ESP8266WiFi's BearSSLHelpers.h; where that header is
   on the include path (PlatformIO, the host emulation) include it too, so a signature that
   differs from ours in tls_engine_thunks.h is a compile error, not a silent ABI mismatch. */
#if defined(__has_include)
#if __has_include(<BearSSLHelpers.h>)
#include <BearSSLHelpers.h>
#endif
#endif

static uint32_t refs_held;

uint32_t tls_stack_thunk_refs(void) { return refs_held; }

/* The #defines of tls_engine_thunks.h are for tls_transport.cpp; here the real names must
   reach make_stack_thunk() and the direct calls below. */
#undef br_ssl_engine_recvapp_buf
#undef br_ssl_engine_recvapp_ack
#undef br_ssl_engine_recvrec_buf
#undef br_ssl_engine_recvrec_ack
#undef br_ssl_engine_sendapp_buf
#undef br_ssl_engine_sendapp_ack
#undef br_ssl_engine_sendrec_buf
#undef br_ssl_engine_sendrec_ack
#undef br_ssl_engine_flush
#undef br_ssl_engine_close
#undef br_ssl_client_reset

#if !CORE_MOCK

/* On the chip: thunk_<fn> runs <fn> on the core's BearSSL stack. The first eight come from the
   core (BearSSLHelpers.cpp; PlatformIO links libraries in a --start-group, so they resolve
   whatever the library order); these three the core's client does not use. */
make_stack_thunk(br_ssl_engine_flush);
make_stack_thunk(br_ssl_engine_close);
make_stack_thunk(br_ssl_client_reset);

#else

/* Host emulation (CORE_MOCK): an x86 build cannot switch stacks and the core's StackThunk is
   stubbed out, so the thunks become direct calls. What the emulation can still check is the
   rule the chip depends on: no engine call while no stack reference is held (on the chip that
   call would run on a freed or NULL stack). */
static void require_stack(const char *fn) {
    if (refs_held == 0) {
        fprintf(stderr, "tls: %s called without a stack-thunk reference (would crash on the chip)\n",
                fn);
        abort();
    }
}

extern "C" {
unsigned char *thunk_br_ssl_engine_recvapp_buf(const br_ssl_engine_context *cc, size_t *len) {
    require_stack(__func__);
    return br_ssl_engine_recvapp_buf(cc, len);
}
void thunk_br_ssl_engine_recvapp_ack(br_ssl_engine_context *cc, size_t len) {
    require_stack(__func__);
    br_ssl_engine_recvapp_ack(cc, len);
}
unsigned char *thunk_br_ssl_engine_recvrec_buf(const br_ssl_engine_context *cc, size_t *len) {
    require_stack(__func__);
    return br_ssl_engine_recvrec_buf(cc, len);
}
void thunk_br_ssl_engine_recvrec_ack(br_ssl_engine_context *cc, size_t len) {
    require_stack(__func__);
    br_ssl_engine_recvrec_ack(cc, len);
}
unsigned char *thunk_br_ssl_engine_sendapp_buf(const br_ssl_engine_context *cc, size_t *len) {
    require_stack(__func__);
    return br_ssl_engine_sendapp_buf(cc, len);
}
void thunk_br_ssl_engine_sendapp_ack(br_ssl_engine_context *cc, size_t len) {
    require_stack(__func__);
    br_ssl_engine_sendapp_ack(cc, len);
}
unsigned char *thunk_br_ssl_engine_sendrec_buf(const br_ssl_engine_context *cc, size_t *len) {
    require_stack(__func__);
    return br_ssl_engine_sendrec_buf(cc, len);
}
void thunk_br_ssl_engine_sendrec_ack(br_ssl_engine_context *cc, size_t len) {
    require_stack(__func__);
    br_ssl_engine_sendrec_ack(cc, len);
}
void thunk_br_ssl_engine_flush(br_ssl_engine_context *cc, int force) {
    require_stack(__func__);
    br_ssl_engine_flush(cc, force);
}
void thunk_br_ssl_engine_close(br_ssl_engine_context *cc) {
    require_stack(__func__);
    br_ssl_engine_close(cc);
}
int thunk_br_ssl_client_reset(br_ssl_client_context *cc, const char *server_name,
                              int resume_session) {
    require_stack(__func__);
    return br_ssl_client_reset(cc, server_name, resume_session);
}
}

#endif /* CORE_MOCK */

/* ---------------------------------------------------------------- the wrapping transport */

static tls_stack_transport *self(transport *t) { return reinterpret_cast<tls_stack_transport *>(t); }
static const tls_stack_transport *self(const transport *t) {
    return reinterpret_cast<const tls_stack_transport *>(t);
}

static void take_stack(tls_stack_transport *s) {
    if (!s->holds_stack) {
        stack_thunk_add_ref();
        s->holds_stack = 1;
        refs_held++;
    }
}

static void drop_stack(tls_stack_transport *s) {
    if (s->holds_stack) {
        stack_thunk_del_ref();
        s->holds_stack = 0;
        refs_held--;
    }
}

static int st_open(transport *t, const char *host, uint16_t port) {
    tls_stack_transport *s = self(t);
    /* Before the TLS open(): it closes the previous connection (close_notify) and starts the
       handshake (br_ssl_client_reset), both on the thunk stack. A failed open keeps the
       reference: the session calls close() or open() next, and read/write on a failed TLS
       transport return before any engine call. */
    take_stack(s);
    return s->tls->open(s->tls, host, port);
}

static void st_close(transport *t) {
    tls_stack_transport *s = self(t);
    s->tls->close(s->tls); /* may send close_notify: still on the thunk stack */
    drop_stack(s);
}

static int32_t st_read(transport *t, uint8_t *buf, size_t len) {
    tls_stack_transport *s = self(t);
    return s->tls->read(s->tls, buf, len);
}

static int32_t st_write(transport *t, const uint8_t *buf, size_t len) {
    tls_stack_transport *s = self(t);
    return s->tls->write(s->tls, buf, len);
}

static const char *st_error_name(const transport *t) {
    const tls_stack_transport *s = self(t);
    return s->tls->error_name(s->tls);
}

static const char *st_error_hint(const transport *t) {
    const tls_stack_transport *s = self(t);
    return s->tls->error_hint(s->tls);
}

void tls_stack_transport_init(tls_stack_transport *s, transport *tls) {
    s->base.open = st_open;
    s->base.read = st_read;
    s->base.write = st_write;
    s->base.close = st_close;
    s->base.error_name = st_error_name;
    s->base.error_hint = st_error_hint;
    s->tls = tls;
    s->holds_stack = 0;
}
