/*
 * tls_engine_thunks.h - routes lib/tls's BearSSL engine calls onto the Arduino core's second
 * stack. Not included by hand: platformio.ini (env nodemcuv2) builds with
 *     -D TLS_ENGINE_WRAPPERS="\"../hal_esp8266/tls_engine_thunks.h\""
 * and lib/tls/tls_transport.cpp includes it after <bearssl/bearssl.h> (the path is relative
 * to lib/tls, so lib/tls needs no include path of ours and no Arduino header).
 *
 * Why: the handshake's deepest call (the RSA check of the broker's ECDHE parameters:
 * br_ssl_hs_client_run > verify_SKE_sig > br_rsa_i15_pkcs1_vrfy > br_rsa_i15_public, whose frame
 * alone is 2,288 B) needs 3,872 B of stack inside BearSSL on the chip, from the frames of the real
 * image (npx ts-node bench/tls-stack.ts); loop() runs on the ESP8266's 4 KB "cont" stack with
 * 720 B of our frames already on it when the transport calls the engine: 4,592 B in all.
 * Called directly, the handshake would overwrite whatever lies below that stack. The core's own
 * BearSSL client has the same problem and solves it with stack thunks (cores/esp8266/StackThunk.h):
 * a thunk_<fn> switches the stack pointer to a separate 6200-byte stack, calls <fn>, checks a
 * canary and switches back. We use that stack (tls_stack_thunk.h takes the node's reference on
 * it in setup() and keeps it).
 *
 * Which calls: the engine entry points tls_transport.cpp calls that can run the handshake or
 * record crypto: the four acks, flush, close (close_notify is an encrypted record) and
 * br_ssl_client_reset (builds the ClientHello). The four *_buf getters only read the engine's
 * state, like current_state and last_error, and stay direct calls.
 *
 * Our own thunks, not the core's thunk_br_ssl_engine_* (ESP8266WiFi's BearSSLHelpers.cpp): that
 * object also holds thunk_SigningVerifier_verify, which links br_ec_get_default() (every curve,
 * P-256 included) and the default ECDSA and RSA verifiers: about 16 KB of flash the node never
 * runs. tls_stack_thunk.cpp makes thunk_tls_engine_<call> with the core's make_stack_thunk().
 *
 * In the core's host emulation (CORE_MOCK) there is no second stack: tls_stack_thunk.cpp
 * defines the seven thunk_ names as direct calls that check a stack reference is held.
 */
#ifndef TLS_ENGINE_THUNKS_H
#define TLS_ENGINE_THUNKS_H

#include <stddef.h>

#include <bearssl/bearssl.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Same signatures as BearSSL's functions. */
void thunk_tls_engine_recvapp_ack(br_ssl_engine_context *cc, size_t len);
void thunk_tls_engine_recvrec_ack(br_ssl_engine_context *cc, size_t len);
void thunk_tls_engine_sendapp_ack(br_ssl_engine_context *cc, size_t len);
void thunk_tls_engine_sendrec_ack(br_ssl_engine_context *cc, size_t len);
void thunk_tls_engine_flush(br_ssl_engine_context *cc, int force);
void thunk_tls_engine_close(br_ssl_engine_context *cc);
int thunk_tls_engine_client_reset(br_ssl_client_context *cc, const char *server_name, int resume_session);

#ifdef __cplusplus
}
#endif

#define br_ssl_engine_recvapp_ack thunk_tls_engine_recvapp_ack
#define br_ssl_engine_recvrec_ack thunk_tls_engine_recvrec_ack
#define br_ssl_engine_sendapp_ack thunk_tls_engine_sendapp_ack
#define br_ssl_engine_sendrec_ack thunk_tls_engine_sendrec_ack
#define br_ssl_engine_flush       thunk_tls_engine_flush
#define br_ssl_engine_close       thunk_tls_engine_close
#define br_ssl_client_reset       thunk_tls_engine_client_reset

#endif
