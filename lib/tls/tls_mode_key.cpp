/*
 * tls_mode_key.cpp - PIN and FINGERPRINT modes (tls_x509.h): the broker is known exactly, by the
 * SHA-256 of its public key (PIN) or of its certificate (FINGERPRINT). BearSSL's X.509 decoder
 * reads the end-entity certificate's key for the handshake; the DER walker (PIN) or a hash over
 * the DER (FINGERPRINT) decides. The rest of the chain is ignored.
 */
#include <string.h>

#include "tls_transport.h"

/*
 * br_x509_decoder_init() has two signatures: BearSSL 0.6 (Debian's libbearssl-dev) and upstream
 * BearSSL take (ctx, append_dn, append_dn_ctx); the ESP8266 Arduino core's fork (bearssl-esp8266)
 * adds an issuer-DN callback and its context. No macro tells them apart:
 * BR_FEATURE_X509_TIME_CALLBACK marks upstream's X.509 time callback, which newer upstream
 * headers define together with the 3-argument form. So C++ overload resolution picks the call
 * that matches the signature the headers declare (the other, inline, is never called or emitted).
 * We want neither DN: only the key is read from the decoder.
 */
typedef void (*tls_dn_sink)(void *ctx, const void *buf, size_t len);

static inline void decoder_init(void (*init)(br_x509_decoder_context *, tls_dn_sink, void *),
                                br_x509_decoder_context *d) {
    init(d, 0, 0);
}

static inline void decoder_init(void (*init)(br_x509_decoder_context *, tls_dn_sink, void *, tls_dn_sink, void *),
                                br_x509_decoder_context *d) {
    init(d, 0, 0, 0, 0);
}

static int pin_config_ok(const tls_config *cfg) { return cfg->pin_sha256 != NULL; }
static int fingerprint_config_ok(const tls_config *cfg) { return cfg->fingerprint_sha256 != NULL; }

/* A session verified under one pin or fingerprint is not offered under another. */
static uint32_t pin_bind_trust(const tls_config *cfg, uint32_t h, uint32_t (*mix)(uint32_t, const void *, size_t)) {
    return mix(h, cfg->pin_sha256, 32);
}
static uint32_t fingerprint_bind_trust(const tls_config *cfg, uint32_t h,
                                       uint32_t (*mix)(uint32_t, const void *, size_t)) {
    return mix(h, cfg->fingerprint_sha256, 32);
}

static void pin_init(tls_x509_ctx *x, const tls_config *cfg, const tls_profile *) { x->expected = cfg->pin_sha256; }
static void fingerprint_init(tls_x509_ctx *x, const tls_config *cfg, const tls_profile *) {
    x->expected = cfg->fingerprint_sha256;
}

static void key_prepare(tls_x509_ctx *) {}
static void key_start_chain(tls_x509_ctx *) {}
static void key_end_cert(tls_x509_ctx *) {}

static void key_start_cert(tls_x509_ctx *x, unsigned index, uint32_t) {
    if (index != 0) return;
    br_sha256_init(&x->u.key.cert_hash);
    decoder_init(br_x509_decoder_init, &x->u.key.decoder);
    x->decoder_stopped = 0;
}

/*
 * decoder_feed(): the decoder's push after a failure resumes its coroutine right after the failure point:
 * after "RSA modulus larger than pkey_data" it would go on copying the modulus past the
 * buffer (issue 8). br_x509_decoder_last_error() is TRUNCATED while it still wants bytes;
 * anything else is a verdict (an error, or 0 when the certificate is decoded), after which
 * it gets nothing more.
 */
static void decoder_feed(tls_x509_ctx *x, const unsigned char *buf, size_t len) {
    if (x->decoder_stopped) return;
    br_x509_decoder_push(&x->u.key.decoder, buf, len);
    if (br_x509_decoder_last_error(&x->u.key.decoder) != BR_ERR_X509_TRUNCATED) x->decoder_stopped = 1;
}

static void pin_append(tls_x509_ctx *x, unsigned index, const unsigned char *buf, size_t len) {
    if (index == 0) decoder_feed(x, buf, len);
}

static void fingerprint_append(tls_x509_ctx *x, unsigned index, const unsigned char *buf, size_t len) {
    if (index != 0) return;
    br_sha256_update(&x->u.key.cert_hash, buf, len);
    decoder_feed(x, buf, len);
}

static unsigned pin_end_chain(tls_x509_ctx *x) {
    int derr = br_x509_decoder_last_error(&x->u.key.decoder);
    if (derr != 0) return (unsigned)derr;
    if (!x->walker.spki_done || !tls_sha256_equal(x->walker.spki_sha256, x->expected)) {
        x->reason = TLS_REASON_PIN_MISMATCH;
        return BR_ERR_X509_NOT_TRUSTED;
    }
    return 0;
}

static unsigned fingerprint_end_chain(tls_x509_ctx *x) {
    int derr = br_x509_decoder_last_error(&x->u.key.decoder);
    if (derr != 0) return (unsigned)derr;
    uint8_t fp[32];
    br_sha256_out(&x->u.key.cert_hash, fp);
    if (!tls_sha256_equal(fp, x->expected)) {
        x->reason = TLS_REASON_FINGERPRINT_MISMATCH;
        return BR_ERR_X509_NOT_TRUSTED;
    }
    return 0;
}

/* Pinned key: it may be used for key exchange and signing, as with br_x509_knownkey. */
static const br_x509_pkey *key_get_pkey(const tls_x509_ctx *x, unsigned *usages) {
    if (usages != NULL) *usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
    return br_x509_decoder_get_pkey((br_x509_decoder_context *)&x->u.key.decoder);
}

const tls_mode tls_mode_pin = {
    "pin",
    0,
    0,
    pin_config_ok,
    pin_bind_trust,
    pin_init,
    key_prepare,
    key_start_chain,
    key_start_cert,
    pin_append,
    key_end_cert,
    pin_end_chain,
    key_get_pkey,
};

const tls_mode tls_mode_fingerprint = {
    "fingerprint",
    0,
    0,
    fingerprint_config_ok,
    fingerprint_bind_trust,
    fingerprint_init,
    key_prepare,
    key_start_chain,
    key_start_cert,
    fingerprint_append,
    key_end_cert,
    fingerprint_end_chain,
    key_get_pkey,
};
