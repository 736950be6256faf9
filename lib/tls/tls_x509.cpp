/*
 * tls_x509.cpp - the br_x509_class wrapper (see tls_x509.h): the part every mode shares. It
 * counts certificates, streams the end-entity certificate through the DER walker, and hands
 * each call to the mode's table (tls_mode_ca.cpp, tls_mode_key.cpp).
 */
#include "tls_x509.h"

#include <string.h>

#include "tls_transport.h"

static tls_x509_ctx *self(const br_x509_class **ctx) {
    /* BearSSL passes a pointer to our vtable field, which is the first member. */
    return (tls_x509_ctx *)(void *)ctx;
}

static void x_start_chain(const br_x509_class **ctx, const char *server_name) {
    (void)server_name; /* the SNI name; we verify what tls_x509_prepare() was given */
    tls_x509_ctx *x = self(ctx);
    x->cert_index = 0;
    x->reason = TLS_REASON_NONE;
    x->mode->start_chain(x);
}

static void x_start_cert(const br_x509_class **ctx, uint32_t length) {
    tls_x509_ctx *x = self(ctx);
    if (x->cert_index == 0) tls_cert_walker_init(&x->walker, x->ip, x->ip_len, x->name);
    x->mode->start_cert(x, x->cert_index, length);
}

static void x_append(const br_x509_class **ctx, const unsigned char *buf, size_t len) {
    tls_x509_ctx *x = self(ctx);
    if (x->cert_index == 0) tls_cert_walker_push(&x->walker, buf, len);
    x->mode->append(x, x->cert_index, buf, len);
}

static void x_end_cert(const br_x509_class **ctx) {
    tls_x509_ctx *x = self(ctx);
    x->mode->end_cert(x);
    x->cert_index++;
}

static unsigned x_end_chain(const br_x509_class **ctx) {
    tls_x509_ctx *x = self(ctx);
    if (x->cert_index == 0) return BR_ERR_X509_EMPTY_CHAIN;
    return x->mode->end_chain(x);
}

static const br_x509_pkey *x_get_pkey(const br_x509_class *const *ctx, unsigned *usages) {
    const tls_x509_ctx *x = (const tls_x509_ctx *)(const void *)ctx;
    return x->mode->get_pkey(x, usages);
}

static const br_x509_class TLS_X509_VTABLE = {
    sizeof(tls_x509_ctx), x_start_chain, x_start_cert, x_append, x_end_cert, x_end_chain, x_get_pkey,
};

void tls_x509_init(tls_x509_ctx *x, const tls_config *cfg, const tls_profile *profile) {
    memset(x, 0, sizeof *x);
    x->vtable = &TLS_X509_VTABLE;
    x->mode = cfg->mode;
    x->mode->init(x, cfg, profile);
}

void tls_x509_prepare(tls_x509_ctx *x, const char *verify_name, int64_t now_s) {
    x->ip_len = (uint8_t)tls_parse_ip(verify_name, x->ip);
    /* By IP the minimal engine gets no name (it would look for a dNSName and fail); the IP
       is then checked by the wrapper against iPAddress SANs. */
    x->name = x->ip_len != 0 ? NULL : verify_name;
    x->now = now_s;
    x->reason = TLS_REASON_NONE; /* a verdict of the previous connection must not name this one's failure */
    x->mode->prepare(x);
}
