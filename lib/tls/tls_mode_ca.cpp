/*
 * tls_mode_ca.cpp - CA mode (tls_x509.h): BearSSL's minimal X.509 engine validates the chain
 * against the trust anchors, the dates and the name; then check_server_cert() checks what the
 * engine does not: what the end-entity certificate is for, and the name or IP in its SANs.
 */
#include <string.h>

#include "tls_transport.h"

static int ca_config_ok(const tls_config *cfg) { return cfg->trust_anchors != NULL && cfg->trust_anchor_count > 0; }

/* A CA is its key, not its name: gen-certs re-run (or a reflash with a new certs.h) makes a CA
   with the same DN and a new key, and a resumed session skips the certificate check, so a
   session verified under the old anchor must not be offered under the new one. */
static uint32_t ca_bind_trust(const tls_config *cfg, uint32_t h, uint32_t (*mix)(uint32_t, const void *, size_t)) {
    for (size_t i = 0; i < cfg->trust_anchor_count; i++) {
        const br_x509_trust_anchor *ta = &cfg->trust_anchors[i];
        h = mix(h, ta->dn.data, ta->dn.len);
        h = mix(h, &ta->flags, sizeof ta->flags);
        if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
            h = mix(h, ta->pkey.key.rsa.n, ta->pkey.key.rsa.nlen);
            h = mix(h, ta->pkey.key.rsa.e, ta->pkey.key.rsa.elen);
        } else if (ta->pkey.key_type == BR_KEYTYPE_EC) {
            h = mix(h, &ta->pkey.key.ec.curve, sizeof ta->pkey.key.ec.curve);
            h = mix(h, ta->pkey.key.ec.q, ta->pkey.key.ec.qlen);
        }
    }
    return h;
}

static void ca_init(tls_x509_ctx *x, const tls_config *cfg, const tls_profile *profile) {
    /* The same implementations as the handshake (i15 RSA, m15 EC); SHA-256 only, which is what
       gen-certs signs with: every extra hash costs flash on the chip. EC keys in the chain only
       with a profile that carries ECDSA. */
    br_x509_minimal_init(&x->u.minimal, &br_sha256_vtable, cfg->trust_anchors, cfg->trust_anchor_count);
    br_x509_minimal_set_rsa(&x->u.minimal, br_rsa_i15_pkcs1_vrfy);
    /* RSA keys in the chain of at least 2041 bits (256 bytes; BearSSL's default, 128 bytes,
       lets RSA-1024 through). gen-certs makes 2048-bit keys. */
    br_x509_minimal_set_minrsa(&x->u.minimal, 256);
    if (profile->ecdsa != NULL) br_x509_minimal_set_ecdsa(&x->u.minimal, profile->ec, profile->ecdsa);
    br_x509_minimal_set_hash(&x->u.minimal, br_sha256_ID, &br_sha256_vtable);
}

static void ca_prepare(tls_x509_ctx *x) {
    uint32_t days, secs;
    tls_epoch_to_bearssl(x->now, &days, &secs);
    br_x509_minimal_set_time(&x->u.minimal, days, secs);
}

/* The minimal engine gets every certificate; its xm_append() ignores bytes after its own
   error (docs/tls-review.md). */
static void ca_start_chain(tls_x509_ctx *x) { x->u.minimal.vtable->start_chain(&x->u.minimal.vtable, x->name); }
static void ca_start_cert(tls_x509_ctx *x, unsigned, uint32_t length) {
    x->u.minimal.vtable->start_cert(&x->u.minimal.vtable, length);
}
static void ca_append(tls_x509_ctx *x, unsigned, const unsigned char *buf, size_t len) {
    x->u.minimal.vtable->append(&x->u.minimal.vtable, buf, len);
}
static void ca_end_cert(tls_x509_ctx *x) { x->u.minimal.vtable->end_cert(&x->u.minimal.vtable); }

/* What the end-entity certificate is for (see tls_x509.h): 0, or the refusal. */
static unsigned check_server_cert(tls_x509_ctx *x) {
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

static unsigned ca_end_chain(tls_x509_ctx *x) {
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

static const br_x509_pkey *ca_get_pkey(const tls_x509_ctx *x, unsigned *usages) {
    return x->u.minimal.vtable->get_pkey(&x->u.minimal.vtable, usages);
}

const tls_mode tls_mode_ca = {
    "ca",          1,         1,           ca_config_ok, ca_bind_trust, ca_init, ca_prepare, ca_start_chain,
    ca_start_cert, ca_append, ca_end_cert, ca_end_chain, ca_get_pkey,
};
