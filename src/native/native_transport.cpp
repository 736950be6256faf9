/*
 * native_transport.cpp - the transport of the native node, chosen by --tls: plain TCP, or
 * lib/tls (BearSSL) over the same TCP transport with the CA / pin / fingerprint and client
 * certificate loaded from the PEM files gen-certs writes.
 *
 * All state is static, as on the chip. The TLS transport reads the wall clock with the same
 * rule as the POSIX HAL (--clock EPOCH_S fixes the start time and then advances with the
 * monotonic clock; --clock 0 means "not set"); it is computed here so that the transport
 * needs nothing from main.cpp but the options.
 */
#include "native_transport.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "credentials_posix.h"
#include "posix_tcp.h"
#include "tls_transport.h"

namespace {

posix_tcp tcp;
tls_credentials creds;
tls_config cfg;
tls_session_blob session_store; /* its own object: no parsing buffer before it */
tls_transport tls;
uint8_t tls_buf[TLS_BUFFER_SIZE(4096)]; /* room for the largest --tls-buffer; the chip uses 1024 */
uint8_t pin[32];
uint8_t fingerprint[32];
int64_t clock_start_s;
int clock_override;
int64_t mono_start_ms;

int64_t mono_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t native_epoch_ms(void *) {
    if (clock_override) {
        if (clock_start_s == 0) return 0;
        return clock_start_s * 1000 + (mono_ms() - mono_start_ms);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void native_log(void *, const char *line) {
    fprintf(stderr, "%s\n", line);
}

int bad(const char *what, const char *why) {
    fprintf(stderr, "mqtt_node: %s: %s\n", what, why);
    return -1;
}

int configure(const native_options *o) {
    memset(&cfg, 0, sizeof cfg);
    tls_credentials_init(&creds);
    switch (o->tls) {
    case NATIVE_TLS_CA:
        cfg.mode = TLS_MODE_CA;
        if (tls_credentials_load_ca(&creds, o->ca_file) != 0) return bad("--ca", creds.error);
        cfg.trust_anchors = creds.anchors;
        cfg.trust_anchor_count = creds.anchor_count;
        break;
    case NATIVE_TLS_PIN:
        cfg.mode = TLS_MODE_PIN;
        if (tls_parse_sha256_hex(o->pin_hex, pin) != 0)
            return bad("--pin", "expected 64 hex digits (SHA-256 of the broker's SubjectPublicKeyInfo)");
        cfg.pin_sha256 = pin;
        break;
    case NATIVE_TLS_FINGERPRINT:
        cfg.mode = TLS_MODE_FINGERPRINT;
        if (tls_parse_sha256_hex(o->fingerprint_hex, fingerprint) != 0)
            return bad("--fingerprint", "expected 64 hex digits (SHA-256 of the broker's DER certificate)");
        cfg.fingerprint_sha256 = fingerprint;
        break;
    default:
        return bad("--tls", "unknown mode");
    }
    if (o->mtls) {
        if (tls_credentials_load_client(&creds, o->cert_file, o->key_file) != 0) {
            return bad("--cert/--key", creds.error);
        }
        cfg.client_chain = creds.chain;
        cfg.client_chain_len = creds.chain_len;
        if (creds.key_type == BR_KEYTYPE_RSA) cfg.client_rsa_key = &creds.rsa;
        else cfg.client_ec_key = &creds.ec;
    }
    cfg.server_name = o->server_name;
    cfg.epoch_ms = native_epoch_ms;
    cfg.log = native_log;
    cfg.session_store = &session_store;
    return 0;
}

} // namespace

transport *native_transport_create(const native_options *o) {
    posix_tcp_init(&tcp, o->connect_timeout_ms);
    if (o->tls == NATIVE_TLS_PLAIN) return &tcp.t;

    /* BearSSL negotiates one of these maximum fragment lengths; buffers are sized from it. */
    const uint32_t frag = o->tls_buffer;
    if (frag != 512 && frag != 1024 && frag != 2048 && frag != 4096) {
        bad("--tls-buffer", "must be 512, 1024, 2048 or 4096 (the TLS maximum fragment length)");
        return 0;
    }
    clock_override = o->clock_override;
    clock_start_s = o->clock_s;
    mono_start_ms = mono_ms();
    if (configure(o) != 0) return 0;
    if (tls_transport_init(&tls, &tcp.t, &cfg, tls_buf, TLS_BUFFER_SIZE(frag)) != 0) {
        bad("--tls", tls.base.error_name(&tls.base));
        return 0;
    }
    static const char *const names[] = {"plain", "ca", "pin", "fingerprint"};
    fprintf(stderr, "tls: mode %s%s, TLS 1.2, max fragment %u (buffers %u bytes)%s%s\n", names[o->tls],
            o->mtls ? " with client certificate" : "", (unsigned)frag, (unsigned)TLS_BUFFER_SIZE(frag),
            o->server_name ? ", verifying name " : "", o->server_name ? o->server_name : "");
    return &tls.base;
}
