/*
 * tls_x509.cpp - the br_x509_class wrapper (see tls_x509.h).
 */
#include "tls_x509.h"

#include <string.h>

/*
 * br_x509_decoder_init() has two signatures: BearSSL 0.6 (Debian's libbearssl-dev) and upstream
 * BearSSL take (ctx, append_dn, append_dn_ctx); the ESP8266 Arduino core's fork (bearssl-esp8266)
 * adds an issuer-DN callback and its context. No macro tells them apart:
 * BR_FEATURE_X509_TIME_CALLBACK marks upstream's X.509 time callback, which newer upstream
 * headers define together with the 3-argument form. So C++ overload resolution picks the call
 * that matches the signature the headers declare (the other, inline, is never called or emitted).
 * We want neither DN: only the key (PIN / FINGERPRINT modes) is read from the decoder.
 */
typedef void (*tls_dn_sink)(void *ctx, const void *buf, size_t len);

static inline void decoder_init(void (*init)(br_x509_decoder_context *, tls_dn_sink, void *),
                                br_x509_decoder_context *d)
{
    init(d, 0, 0);
}

static inline void decoder_init(void (*init)(br_x509_decoder_context *, tls_dn_sink, void *,
                                             tls_dn_sink, void *),
                                br_x509_decoder_context *d)
{
    init(d, 0, 0, 0, 0);
}

static tls_x509_ctx *self(const br_x509_class **ctx)
{
    /* BearSSL passes a pointer to our vtable field, which is the first member. */
    return (tls_x509_ctx *)(void *)ctx;
}

static void x_start_chain(const br_x509_class **ctx, const char *server_name)
{
    (void)server_name; /* the SNI name; we verify what tls_x509_prepare() was given */
    tls_x509_ctx *x = self(ctx);
    x->cert_index = 0;
    x->reason = TLS_REASON_NONE;
    if (x->mode == TLS_MODE_CA) {
        x->u.minimal.vtable->start_chain(&x->u.minimal.vtable, x->name);
    }
}

static void x_start_cert(const br_x509_class **ctx, uint32_t length)
{
    tls_x509_ctx *x = self(ctx);
    if (x->mode == TLS_MODE_CA) {
        x->u.minimal.vtable->start_cert(&x->u.minimal.vtable, length);
    }
    if (x->cert_index == 0) {
        tls_cert_walker_init(&x->walker, x->ip, x->ip_len, x->name);
        br_sha256_init(&x->cert_hash);
        if (x->mode != TLS_MODE_CA) {
            decoder_init(br_x509_decoder_init, &x->u.decoder);
            x->decoder_stopped = 0;
        }
    }
}

/*
 * The decoder's push after a failure resumes its coroutine right after the failure point:
 * after "RSA modulus larger than pkey_data" it would go on copying the modulus past the
 * buffer (issue 8). br_x509_decoder_last_error() is TRUNCATED while it still wants bytes;
 * anything else is a verdict (an error, or 0 when the certificate is decoded), after which
 * it gets nothing more. (The minimal engine checks its own error flag first, in xm_append().)
 */
static void decoder_push(tls_x509_ctx *x, const unsigned char *buf, size_t len)
{
    if (x->decoder_stopped) return;
    br_x509_decoder_push(&x->u.decoder, buf, len);
    if (br_x509_decoder_last_error(&x->u.decoder) != BR_ERR_X509_TRUNCATED) x->decoder_stopped = 1;
}

static void x_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
    tls_x509_ctx *x = self(ctx);
    if (x->mode == TLS_MODE_CA) {
        x->u.minimal.vtable->append(&x->u.minimal.vtable, buf, len);
    }
    if (x->cert_index == 0) {
        tls_cert_walker_push(&x->walker, buf, len);
        if (x->mode == TLS_MODE_FINGERPRINT) br_sha256_update(&x->cert_hash, buf, len);
        if (x->mode != TLS_MODE_CA) decoder_push(x, buf, len);
    }
}

static void x_end_cert(const br_x509_class **ctx)
{
    tls_x509_ctx *x = self(ctx);
    if (x->mode == TLS_MODE_CA) {
        x->u.minimal.vtable->end_cert(&x->u.minimal.vtable);
    }
    x->cert_index++;
}

/* What the end-entity certificate is for (CA mode; see tls_x509.h): 0, or the refusal. */
static unsigned check_server_cert(tls_x509_ctx *x)
{
    const tls_cert_walker *w = &x->walker;
    tls_reason r = TLS_REASON_NONE;
    if (w->error || !w->done) {
        r = TLS_REASON_CERT_UNREADABLE;
    } else if (w->is_ca) {
        r = TLS_REASON_LEAF_IS_CA;
    } else if (w->eku_found && !w->eku_server) {
        r = TLS_REASON_NOT_SERVER_CERT;
    } else if (!w->san_found) {
        r = TLS_REASON_NO_SAN;
    } else if (x->ip_len != 0 && !w->ip_match) {
        /* Only an iPAddress SAN may vouch for an IP (RFC 6125: no CN, no dNSName holding the
           IP as text). */
        r = TLS_REASON_BAD_SERVER_IP;
    } else if (x->ip_len == 0 && !w->dns_match) {
        /* BearSSL also accepts the Common Name; RFC 6125 does not when SANs exist. */
        return BR_ERR_X509_BAD_SERVER_NAME;
    }
    if (r == TLS_REASON_NONE) return 0;
    x->reason = r;
    return r == TLS_REASON_BAD_SERVER_IP ? BR_ERR_X509_BAD_SERVER_NAME : BR_ERR_X509_NOT_TRUSTED;
}

static unsigned end_chain_ca(tls_x509_ctx *x)
{
    unsigned err = x->u.minimal.vtable->end_chain(&x->u.minimal.vtable);
    const tls_cert_walker *w = &x->walker;
    if (err == BR_ERR_X509_EXPIRED && w->validity_found == 3) {
        /* BearSSL has one code for both; the end-entity dates tell which it is. If they
           are fine, a CA certificate is out of date and the generic name stays. */
        int v = tls_validity_check(x->now, w->not_before, w->not_after);
        if (v < 0) x->reason = TLS_REASON_NOT_YET_VALID;
        if (v > 0) x->reason = TLS_REASON_EXPIRED;
        return err;
    }
    if (err != 0) return err;
    return check_server_cert(x); /* the chain is trusted; now what the certificate is for */
}

static unsigned x_end_chain(const br_x509_class **ctx)
{
    tls_x509_ctx *x = self(ctx);
    if (x->cert_index == 0) return BR_ERR_X509_EMPTY_CHAIN;
    if (x->mode == TLS_MODE_CA) return end_chain_ca(x);

    int derr = br_x509_decoder_last_error(&x->u.decoder);
    if (derr != 0) return (unsigned)derr;
    if (x->mode == TLS_MODE_PIN) {
        if (!x->walker.spki_done || !tls_sha256_equal(x->walker.spki_sha256, x->expected)) {
            x->reason = TLS_REASON_PIN_MISMATCH;
            return BR_ERR_X509_NOT_TRUSTED;
        }
        return 0;
    }
    uint8_t fp[32];
    br_sha256_out(&x->cert_hash, fp);
    if (!tls_sha256_equal(fp, x->expected)) {
        x->reason = TLS_REASON_FINGERPRINT_MISMATCH;
        return BR_ERR_X509_NOT_TRUSTED;
    }
    return 0;
}

static const br_x509_pkey *x_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
    tls_x509_ctx *x = (tls_x509_ctx *)(void *)ctx;
    if (x->mode == TLS_MODE_CA) {
        return x->u.minimal.vtable->get_pkey(&x->u.minimal.vtable, usages);
    }
    /* Pinned key: it may be used for key exchange and signing, as with br_x509_knownkey. */
    if (usages != NULL) *usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
    return br_x509_decoder_get_pkey(&x->u.decoder);
}

static const br_x509_class TLS_X509_VTABLE = {
    sizeof(tls_x509_ctx),
    x_start_chain,
    x_start_cert,
    x_append,
    x_end_cert,
    x_end_chain,
    x_get_pkey,
};

void tls_x509_init(tls_x509_ctx *x, tls_mode mode, const br_x509_trust_anchor *tas,
                   size_t ta_count, const uint8_t *expected, const br_ec_impl *ec)
{
    memset(x, 0, sizeof *x);
    x->vtable = &TLS_X509_VTABLE;
    x->mode = mode;
    x->expected = expected;
    if (mode == TLS_MODE_CA) {
        /* The same implementations as the handshake (i15 RSA, m15 EC); SHA-256 only, which
           is what gen-certs signs with: every extra hash costs flash on the chip. */
        br_x509_minimal_init(&x->u.minimal, &br_sha256_vtable, tas, ta_count);
        br_x509_minimal_set_rsa(&x->u.minimal, br_rsa_i15_pkcs1_vrfy);
        br_x509_minimal_set_ecdsa(&x->u.minimal, ec, br_ecdsa_i15_vrfy_asn1);
        br_x509_minimal_set_hash(&x->u.minimal, br_sha256_ID, &br_sha256_vtable);
    }
}

void tls_x509_prepare(tls_x509_ctx *x, const char *verify_name, int64_t now_s)
{
    x->ip_len = (uint8_t)tls_parse_ip(verify_name, x->ip);
    /* By IP the minimal engine gets no name (it would look for a dNSName and fail); the IP
       is then checked by the wrapper against iPAddress SANs. */
    x->name = x->ip_len != 0 ? NULL : verify_name;
    x->now = now_s;
    x->reason = TLS_REASON_NONE; /* a verdict of the previous connection must not name this one's failure */
    if (x->mode == TLS_MODE_CA) {
        uint32_t days, secs;
        tls_epoch_to_bearssl(now_s, &days, &secs);
        br_x509_minimal_set_time(&x->u.minimal, days, secs);
    }
}
