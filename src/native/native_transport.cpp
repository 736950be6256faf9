/*
 * native_transport.cpp - the transport of the native node, chosen by --tls: plain TCP, or
 * lib/tls (BearSSL) over the same TCP transport with the CA / pin / fingerprint and client
 * certificate loaded from the PEM files gen-certs writes.
 *
 * All state is static, as on the chip. It is built in two steps: native_transport_create()
 * checks and loads everything the options name (before the HAL writes any state), and
 * native_transport_attach() gives it the HAL's clock, randomness and log, so the node and
 * its TLS transport read one clock (the POSIX HAL's, with --clock).
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
int bad(const char *what, const char *why) {
    fprintf(stderr, "mqtt_node: %s: %s\n", what, why);
    return -1;
}

int configure(const native_options *o) {
    memset(&cfg, 0, sizeof cfg);
    tls_credentials_init(&creds);
    cfg.mode = o->tls;
    cfg.profile = o->tls_profile;
    if (o->tls == TLS_MODE_CA) {
        if (tls_credentials_load_ca(&creds, o->ca_file) != 0) return bad("--ca", creds.error);
        cfg.trust_anchors = creds.anchors;
        cfg.trust_anchor_count = creds.anchor_count;
    } else if (o->tls == TLS_MODE_PIN) {
        if (tls_parse_sha256_hex(o->pin_hex, pin) != 0)
            return bad("--pin", "expected 64 hex digits (SHA-256 of the broker's SubjectPublicKeyInfo)");
        cfg.pin_sha256 = pin;
    } else if (o->tls == TLS_MODE_FINGERPRINT) {
        if (tls_parse_sha256_hex(o->fingerprint_hex, fingerprint) != 0)
            return bad("--fingerprint", "expected 64 hex digits (SHA-256 of the broker's DER certificate)");
        cfg.fingerprint_sha256 = fingerprint;
    } else {
        return bad("--tls", "unknown mode");
    }
    if (o->mtls) {
        if (tls_credentials_load_client(&creds, o->cert_file, o->key_file) != 0) {
            return bad("--cert/--key", creds.error);
        }
        tls_credentials_use_client(&creds, &cfg);
    }
    /* NULL: each connection verifies the host it connects to (tls_transport.cpp chooses). */
    cfg.server_name = o->server_name;
    cfg.session_store = &session_store;
    return 0;
}

const native_options *opts;

} // namespace

transport *native_transport_create(const native_options *o) {
    posix_tcp_init(&tcp, o->connect_timeout_ms);
    tcp.plain_mqtt = o->tls == NULL;
    opts = o;
    if (o->tls == NULL) return &tcp.t;

    /* BearSSL negotiates one of these maximum fragment lengths; buffers are sized from it. */
    const uint32_t frag = o->tls_buffer;
    if (frag != 512 && frag != 1024 && frag != 2048 && frag != 4096) {
        bad("--tls-buffer", "must be 512, 1024, 2048 or 4096 (the TLS maximum fragment length)");
        return 0;
    }
    if (configure(o) != 0) return 0;
    return &tls.base;
}

int native_transport_attach(const node_hal *hal) {
    const native_options *o = opts;
    if (o == NULL || o->tls == NULL) return 0;
    cfg.hal_ctx = hal->ctx;
    cfg.epoch_ms = hal->epoch_ms;
    cfg.random32 = hal->random32;
    cfg.log = hal->log;
    const uint32_t frag = o->tls_buffer;
    if (tls_transport_init(&tls, &tcp.t, &cfg, tls_buf, TLS_BUFFER_SIZE(frag)) != 0) {
        bad("--tls", tls.base.error_name(&tls.base));
        return -1;
    }
    fprintf(stderr, "tls: mode %s%s, TLS 1.2, max fragment %u (buffers %u bytes), profile %s, verifying %s\n",
            o->tls->name, o->mtls ? " with client certificate" : "", (unsigned)frag, (unsigned)TLS_BUFFER_SIZE(frag),
            o->tls_profile->name, o->server_name ? o->server_name : "the name or IP of the host it connects to");
    return 0;
}
