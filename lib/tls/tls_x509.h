/*
 * tls_x509.h - the certificate check the TLS transport plugs into BearSSL (a br_x509_class).
 *
 * One wrapper for the three trust modes, so the engine setup is the same for all of them:
 *   CA           BearSSL's minimal engine validates chain, dates and DNS names; the wrapper
 *                adds the iPAddress SAN check when the broker is addressed by IP (the minimal
 *                engine is then given no name, and the wrapper checks the IP itself), and
 *                tells "expired" from "not yet valid" using the end-entity dates.
 *   PIN          SHA-256 of the end-entity SubjectPublicKeyInfo must equal the pin.
 *   FINGERPRINT  SHA-256 of the end-entity DER certificate must equal the fingerprint.
 * PIN and FINGERPRINT identify the broker exactly, so (like BearSSL's known-key mode and
 * the ESP8266 core's setFingerprint) they check neither chain, name nor dates and need no clock.
 * Dates, deliberately (reviewed): issue 4 puts the date check and the clock rule on the CA
 * mode's list and its must-refuse "expired"/"not yet valid" cases on the CA path. A pin is the
 * broker's key itself: whoever holds that key can mint a certificate with any dates, so checking
 * them adds no security, while it would make a pinned node fail before NTP and on the day a
 * self-signed certificate lapses although the key is unchanged. A fingerprint names one exact
 * certificate the user chose; its dates are part of it. Only the end-entity (first) certificate
 * is looked at in both modes; the rest of the chain the broker sends is ignored.
 */
#ifndef TLS_X509_H
#define TLS_X509_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl/bearssl.h>

#include "tls_cert.h"
#include "tls_errors.h"

typedef enum tls_mode {
    TLS_MODE_CA = 1,
    TLS_MODE_PIN = 2,
    TLS_MODE_FINGERPRINT = 3
} tls_mode;

typedef struct tls_x509_ctx {
    const br_x509_class *vtable; /* first, as BearSSL requires */
    tls_mode mode;
    const uint8_t *expected;     /* 32-byte pin or fingerprint */
    union {
        br_x509_minimal_context minimal; /* CA mode */
        br_x509_decoder_context decoder; /* PIN / FINGERPRINT: the key of the end-entity cert */
    } u;
    br_sha256_context cert_hash; /* FINGERPRINT: over the end-entity DER */
    tls_cert_walker walker;      /* IP SANs, SPKI hash, validity of the end-entity cert */
    unsigned cert_index;
    const char *name;            /* DNS name for the minimal engine, or NULL (IP or none) */
    uint8_t ip[TLS_IP_MAX];
    uint8_t ip_len;              /* 0: addressed by name */
    int64_t now;                 /* seconds since epoch (CA mode) */
    tls_reason reason;           /* the wrapper's own verdict, when it has a better name */
} tls_x509_ctx;

/* Once, at transport init. `expected` is the 32-byte pin / fingerprint (PIN, FINGERPRINT). */
void tls_x509_init(tls_x509_ctx *x, tls_mode mode, const br_x509_trust_anchor *tas,
                   size_t ta_count, const uint8_t *expected, const br_ec_impl *ec);

/* Before each handshake: the name or IP literal to verify, and the time (CA mode). The
   name pointer must stay valid until the handshake is over. */
void tls_x509_prepare(tls_x509_ctx *x, const char *verify_name, int64_t now_s);

#endif
