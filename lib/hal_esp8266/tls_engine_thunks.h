/*
 * tls_engine_thunks.h - routes lib/tls's BearSSL engine calls onto the Arduino core's second
 * stack. Not included by hand: platformio.ini (env nodemcuv2) builds with
 *     -D TLS_ENGINE_WRAPPERS="\"../hal_esp8266/tls_engine_thunks.h\""
 * and lib/tls/tls_transport.cpp includes it after <bearssl/bearssl.h> (the path is relative
 * to lib/tls, so lib/tls needs no include path of ours and no Arduino header).
 *
 * Why: a TLS handshake runs RSA/ECDHE/ECDSA inside these engine calls and needs about 5.2 KB
 * of stack (measured on x86-64, see docs/architecture.md "TLS on the node"), but loop() runs
 * on the ESP8266's 4 KB "cont" stack: called directly, the handshake would overwrite whatever
 * lies below that stack. The core's own BearSSL client has the same problem and solves it
 * with stack thunks (cores/esp8266/StackThunk.h): a thunk_<fn> switches the stack pointer to
 * a separate 6200-byte stack, calls <fn>, checks a canary and switches back. We reuse that
 * stack and those thunks (tls_stack_thunk.h takes the node's reference on that stack in setup()
 * and keeps it).
 *
 * Which calls: every engine entry point tls_transport.cpp calls that can run the handshake
 * or record crypto: the four buffer pairs, flush, close (close_notify is an encrypted record)
 * and br_ssl_client_reset (builds the ClientHello). The core already defines the eight
 * thunk_br_ssl_engine_{recv,send}{app,rec}_{buf,ack} (ESP8266WiFi's BearSSLHelpers.cpp);
 * tls_stack_thunk.cpp adds the other three. Cheap getters (current_state, last_error) and the
 * setters used once at start-up stay direct calls.
 *
 * In the core's host emulation (CORE_MOCK) there is no second stack: tls_stack_thunk.cpp
 * defines the eleven thunk_ names as direct calls that check a stack reference is held.
 */
#ifndef TLS_ENGINE_THUNKS_H
#define TLS_ENGINE_THUNKS_H

#include <stddef.h>

#include <bearssl/bearssl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Same signatures as BearSSL's functions; the core declares the first eight identically in
   BearSSLHelpers.h (tls_stack_thunk.cpp includes it to let the compiler check that). */
unsigned char *thunk_br_ssl_engine_recvapp_buf(const br_ssl_engine_context *cc, size_t *len);
void thunk_br_ssl_engine_recvapp_ack(br_ssl_engine_context *cc, size_t len);
unsigned char *thunk_br_ssl_engine_recvrec_buf(const br_ssl_engine_context *cc, size_t *len);
void thunk_br_ssl_engine_recvrec_ack(br_ssl_engine_context *cc, size_t len);
unsigned char *thunk_br_ssl_engine_sendapp_buf(const br_ssl_engine_context *cc, size_t *len);
void thunk_br_ssl_engine_sendapp_ack(br_ssl_engine_context *cc, size_t len);
unsigned char *thunk_br_ssl_engine_sendrec_buf(const br_ssl_engine_context *cc, size_t *len);
void thunk_br_ssl_engine_sendrec_ack(br_ssl_engine_context *cc, size_t len);
void thunk_br_ssl_engine_flush(br_ssl_engine_context *cc, int force);
void thunk_br_ssl_engine_close(br_ssl_engine_context *cc);
int thunk_br_ssl_client_reset(br_ssl_client_context *cc, const char *server_name,
                              int resume_session);

#ifdef __cplusplus
}
#endif

#define br_ssl_engine_recvapp_buf thunk_br_ssl_engine_recvapp_buf
#define br_ssl_engine_recvapp_ack thunk_br_ssl_engine_recvapp_ack
#define br_ssl_engine_recvrec_buf thunk_br_ssl_engine_recvrec_buf
#define br_ssl_engine_recvrec_ack thunk_br_ssl_engine_recvrec_ack
#define br_ssl_engine_sendapp_buf thunk_br_ssl_engine_sendapp_buf
#define br_ssl_engine_sendapp_ack thunk_br_ssl_engine_sendapp_ack
#define br_ssl_engine_sendrec_buf thunk_br_ssl_engine_sendrec_buf
#define br_ssl_engine_sendrec_ack thunk_br_ssl_engine_sendrec_ack
#define br_ssl_engine_flush thunk_br_ssl_engine_flush
#define br_ssl_engine_close thunk_br_ssl_engine_close
#define br_ssl_client_reset thunk_br_ssl_client_reset

#endif
