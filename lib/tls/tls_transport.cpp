/*
 * tls_transport.cpp - BearSSL client engine driven without blocking (see tls_transport.h).
 *
 * The engine is a state machine over two buffers: records to send (SENDREC), room for
 * records received (RECVREC), plaintext to read (RECVAPP) and room for plaintext to write
 * (SENDAPP). pump() moves bytes between it and the lower transport until neither side can
 * make progress, so every call returns at once, as transport.h requires.
 */
#include "tls_transport.h"

#include "clock.h"     /* HAL_CLOCK_VALID_AFTER_S: the clock contract epoch_ms follows */
#include "flash_str.h" /* error names, hints and suite names stay in flash on the chip */
#include "log_line.h"

#include <string.h>

/*
 * The engine calls below run the handshake (RSA, ECDHE, ECDSA), which needs more stack than the
 * ESP8266's 4 KB loop stack has; the Arduino core runs BearSSL on its own stack through
 * "stack thunks". A platform can name a header that #defines the br_ssl_engine_* / br_ssl_client_reset
 * calls used in this file to such wrappers (-DTLS_ENGINE_WRAPPERS='"tls_thunks.h"'), so this file
 * stays free of Arduino headers.
 */
#ifdef TLS_ENGINE_WRAPPERS
#include TLS_ENGINE_WRAPPERS
#endif

/* ---------------------------------------------------------------- small helpers */

static void tls_log(const tls_transport *t, const log_line *l) {
    if (t->cfg != NULL) log_send(l, t->cfg->log, t->cfg->hal_ctx);
}

static uint32_t fnv1a(uint32_t h, const void *data, size_t len) {
    const uint8_t *p = (const uint8_t *)data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

#define SESSION_MAGIC 0x544c5332u /* "TLS2": sealed with HMAC-SHA256 */
#define FNV_BASIS     2166136261u

/* HMAC-SHA256 of a blob's fields before its mac, under `key`. */
static void blob_mac(const uint8_t key[32], const tls_session_blob *b, uint8_t out[32]) {
    br_hmac_key_context kc;
    br_hmac_context hc;
    br_hmac_key_init(&kc, &br_sha256_vtable, key, 32);
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, b, offsetof(tls_session_blob, mac));
    br_hmac_out(&hc, out);
}

static int blob_valid(const uint8_t key[32], const tls_session_blob *b) {
    if (b->magic != SESSION_MAGIC || b->params.session_id_len == 0 || b->params.session_id_len > 32) { return 0; }
    uint8_t mac[32];
    blob_mac(key, b, mac);
    return tls_sha256_equal(mac, b->mac);
}

/* The session key: from BearSSL's system seeder (getentropy / the ESP8266's RNG) and the HAL's
   random32, through HMAC-DRBG. 0 when neither gave entropy: then no session is ever kept. */
static int draw_session_key(tls_transport *t) {
    br_hmac_drbg_context rng;
    static const char label[] = "tls session key";
    br_hmac_drbg_init(&rng, &br_sha256_vtable, label, sizeof label - 1);
    int seeded = 0;
    br_prng_seeder seeder = br_prng_seeder_system(NULL);
    if (seeder != NULL && seeder(&rng.vtable)) seeded = 1;
    const tls_config *cfg = t->cfg;
    if (cfg->random32 != NULL) {
        uint32_t words[8];
        for (int i = 0; i < 8; i++) words[i] = cfg->random32(cfg->hal_ctx);
        br_hmac_drbg_update(&rng, words, sizeof words);
        seeded = 1;
    }
    br_hmac_drbg_generate(&rng, t->session_key, sizeof t->session_key);
    memset(&rng, 0, sizeof rng);
    return seeded;
}

/* The session store, if it holds a session sealed under our key. */
static tls_session_blob *valid_store(const tls_transport *t) {
    tls_session_blob *b = t->cfg->session_store;
    if (b == NULL || !t->session_keyed || !blob_valid(t->session_key, b)) return NULL;
    return b;
}

/* ---------------------------------------------------------------- failure bookkeeping */

static int fail(tls_transport *t, int result, tls_reason reason, int bearssl_err) {
    if (t->failed) return t->result; /* the first cause is the one that matters */
    t->failed = 1;
    t->result = result;
    t->reason = reason;
    t->bearssl_err = bearssl_err;

    log_line l;
    log_begin(&l, FLASH_STR("tls: "));
    if (reason == TLS_REASON_CLOCK_NOT_SET) {
        tb_str(
            &l.tb,
            FLASH_STR(
                "clock not set (no NTP time yet): refusing TLS, certificate dates cannot be checked (CLOCK_NOT_SET)"));
    } else if (result == TRANSPORT_ERR_TLS || result == TRANSPORT_ERR_CONFIG) {
        tb_str(&l.tb, t->handshake_done ? FLASH_STR("connection failed: ") : FLASH_STR("handshake failed: "));
        tb_str(&l.tb, tls_error_name(reason, bearssl_err));
        if (reason == TLS_REASON_NOT_TLS) { /* what it did say, printable */
            tb_str(&l.tb, FLASH_STR(" (it answered \""));
            for (uint8_t i = 0; i < t->rx_head_len; i++)
                tb_char(&l.tb, t->rx_head[i] >= 0x20 && t->rx_head[i] < 0x7f ? (char)t->rx_head[i] : '.');
            tb_str(&l.tb, FLASH_STR("\")"));
        } else if (reason == TLS_REASON_BEARSSL || bearssl_err != 0) {
            tb_str(&l.tb, FLASH_STR(" (BearSSL error "));
            tb_u64(&l.tb, (uint32_t)bearssl_err);
            tb_str(&l.tb, FLASH_STR(")"));
        }
#if TLS_ERROR_HINTS
        const char *hint = tls_error_hint(reason, bearssl_err);
        if (flash_char(hint) != '\0') {
            tb_str(&l.tb, FLASH_STR(": "));
            tb_str(&l.tb, hint);
        }
#else
        /* The fix is on the host, from the same source (tls_hints.def). */
        tb_str(&l.tb, FLASH_STR(": fix: npx ts-node host-tools/doctor.ts --explain "));
        tb_str(&l.tb, tls_error_name(reason, bearssl_err));
#endif
    } else {
        return result; /* plain I/O errors are named by the lower transport */
    }
    tls_log(t, &l);
    return result;
}

/* The engine closed: find the best name for why. */
static int engine_closed(tls_transport *t) {
    const int err = br_ssl_engine_last_error(&t->cc.eng);
    if (err == BR_ERR_OK) {
        if (!t->handshake_done) return fail(t, TRANSPORT_ERR_TLS, TLS_REASON_CLOSED_IN_HANDSHAKE, 0);
        t->failed = 1;
        t->result = TRANSPORT_ERR_CLOSED; /* close_notify: an orderly close */
        return TRANSPORT_ERR_CLOSED;
    }
    tls_reason reason = TLS_REASON_BEARSSL;
    if (t->x509.reason != TLS_REASON_NONE) {
        reason = t->x509.reason;
    } else if (!t->handshake_done && t->rx_head_len > 0 && (t->rx_head[0] < 20 || t->rx_head[0] > 23)) {
        /* A TLS record starts with its content type (20..23); anything else is another
           protocol answering (an HTTP server: "HTTP/"), whatever BearSSL made of it. */
        reason = TLS_REASON_NOT_TLS;
    } else if (!t->handshake_done) {
        /* A server that speaks only TLS <= 1.1 answers our 1.2-only hello either with its
           own version (BearSSL: UNSUPPORTED_VERSION) or, finding no 1.2 suite to pick, with
           an alert in a record of its older version: the record header tells. OpenSSL 3 sends
           that alert in a record of the version it settled on: 0x0301 from a TLS 1.0-only
           server, 0x0303 from a TLS 1.2 one that has no suite in common with us. */
        const uint16_t rec_version = t->rx_head_len >= 3 ? (uint16_t)((t->rx_head[1] << 8) | t->rx_head[2]) : 0;
        const int alert = err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT;
        if (err == BR_ERR_UNSUPPORTED_VERSION || err == BR_ERR_RECV_FATAL_ALERT + 70 ||
            (alert && rec_version >= 0x0300 && rec_version < 0x0303)) {
            reason = TLS_REASON_VERSION;
        }
    }
    return fail(t, TRANSPORT_ERR_TLS, reason, err);
}

static void on_handshake_done(tls_transport *t) {
    t->handshake_done = 1;
    t->handshakes++;

    br_ssl_session_parameters p;
    br_ssl_engine_get_session_parameters(&t->cc.eng, &p);
    /* BearSSL has no "resumed" flag: an abbreviated handshake is one where the server
       accepted the session id we offered. */
    const tls_session_blob *offered = t->offered_resume ? valid_store(t) : NULL;
    t->resumed = offered != NULL && p.session_id_len > 0 && p.session_id_len == offered->params.session_id_len &&
                 memcmp(p.session_id, offered->params.session_id, p.session_id_len) == 0;
    if (t->resumed) t->resumptions++;

    tls_session_blob *store = t->cfg->session_store;
    if (store != NULL) {
        memset(store, 0, sizeof *store);
        if (p.session_id_len > 0 && t->session_keyed) {
            store->magic = SESSION_MAGIC;
            store->peer = t->peer;
            store->params = p;
            blob_mac(t->session_key, store, store->mac);
        } /* else the server keeps no session cache: nothing to resume */
    }

    log_line l;
    log_begin(&l, FLASH_STR("tls: "));
    tb_str(&l.tb, t->resumed ? FLASH_STR("handshake ok (session resumed, id ")
                             : FLASH_STR("handshake ok (full handshake, id "));
    tb_hex(&l.tb, p.session_id, p.session_id_len < 8 ? p.session_id_len : 8);
    tb_str(&l.tb, FLASH_STR(", TLS1.2 "));
    tb_str(&l.tb, tls_suite_name(p.cipher_suite));
    tb_str(&l.tb, FLASH_STR(", max fragment "));
    tb_u64(&l.tb, (uint32_t)t->max_fragment);
    tb_str(&l.tb, FLASH_STR(")"));
    tls_log(t, &l);
    memset(&p, 0, sizeof p); /* the master secret lives on in the engine and the store only */
}

/* Moves records between the engine and the lower transport until nothing moves. */
static int pump(tls_transport *t) {
    br_ssl_engine_context *eng = &t->cc.eng;
    if (t->failed) return t->result;
    if (!t->open) return TRANSPORT_ERR_CLOSED;

    for (;;) {
        unsigned st = br_ssl_engine_current_state(eng);
        if (st & BR_SSL_CLOSED) return engine_closed(t);
        if (!t->handshake_done && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))) on_handshake_done(t);

        int moved = 0;
        if (st & BR_SSL_SENDREC) {
            size_t len;
            unsigned char *buf = br_ssl_engine_sendrec_buf(eng, &len);
            int32_t n = t->lower->write(t->lower, buf, len);
            if (n < 0) return fail(t, n, TLS_REASON_NONE, 0);
            /* the ack must never exceed what the engine offered (transport.h promises it) */
            if ((size_t)n > len) return fail(t, TRANSPORT_ERR_IO, TLS_REASON_NONE, 0);
            if (n > 0) {
                br_ssl_engine_sendrec_ack(eng, (size_t)n);
                moved = 1;
            }
        }
        if (st & BR_SSL_RECVREC) {
            size_t len;
            unsigned char *buf = br_ssl_engine_recvrec_buf(eng, &len);
            int32_t n = t->lower->read(t->lower, buf, len);
            if (n > 0 && (size_t)n > len) return fail(t, TRANSPORT_ERR_IO, TLS_REASON_NONE, 0);
            if (n < 0) {
                if (!t->handshake_done && n == TRANSPORT_ERR_CLOSED) {
                    return fail(t, TRANSPORT_ERR_TLS, TLS_REASON_CLOSED_IN_HANDSHAKE, 0);
                }
                return fail(t, n, TLS_REASON_NONE, 0);
            }
            if (n > 0) {
                for (int32_t i = 0; i < n && t->rx_head_len < sizeof t->rx_head; i++) {
                    t->rx_head[t->rx_head_len++] = buf[i];
                }
                br_ssl_engine_recvrec_ack(eng, (size_t)n);
                moved = 1;
            }
        }
        if (!moved) return 0;
    }
}

/* ---------------------------------------------------------------- transport functions */

static tls_transport *tls_of(transport *t) { return (tls_transport *)(void *)t; }
static const tls_transport *tls_of_c(const transport *t) { return (const tls_transport *)(const void *)t; }

static void t_close(transport *base) {
    tls_transport *t = tls_of(base);
    if (t->open) {
        /* Given up in the handshake (the session's connect timeout): say how far it got. */
        if (!t->failed && !t->handshake_done) {
            (void)fail(t, TRANSPORT_ERR_TLS,
                       t->rx_head_len == 0 ? TLS_REASON_SERVER_SILENT : TLS_REASON_HANDSHAKE_TIMEOUT, 0);
        }
        if (!t->failed && t->handshake_done) {
            /* Best effort close_notify; a session that ends cleanly stays resumable. */
            br_ssl_engine_close(&t->cc.eng);
            (void)pump(t);
        }
        t->lower->close(t->lower);
        t->open = 0;
    }
}

static int t_open(transport *base, const char *host, uint16_t port) {
    tls_transport *t = tls_of(base);
    const tls_config *cfg = t->cfg;
    t_close(base);

    if (t->unusable) return TRANSPORT_ERR_CONFIG;
    t->failed = 0;
    t->result = 0;
    t->reason = TLS_REASON_NONE;
    t->bearssl_err = 0;
    t->handshake_done = 0;
    t->resumed = 0;
    t->offered_resume = 0;
    t->rx_head_len = 0;

    const char *name = cfg->server_name != NULL ? cfg->server_name : host;
    /* An empty name is refused where a name is checked (CA mode): BearSSL's minimal engine treats
       "" like NULL and then checks no name at all, so any certificate from the CA (another
       device's, another broker's) would be accepted. PIN/FINGERPRINT check no name anyway. */
    if (host == NULL || name == NULL || strlen(name) >= sizeof t->verify_name ||
        (cfg->mode->checks_name && name[0] == '\0')) {
        return fail(t, TRANSPORT_ERR_CONFIG, TLS_REASON_BAD_CONFIG, 0);
    }
    memcpy(t->verify_name, name, strlen(name) + 1);

    int64_t now_s = 0;
    if (cfg->mode->checks_dates) {
        /* Refuse before connecting: without the time, BearSSL would report the broker's
           valid certificate as expired (error 54) and send the user the wrong way. */
        const int64_t ms = cfg->epoch_ms != NULL ? cfg->epoch_ms(cfg->hal_ctx) : 0;
        now_s = ms / 1000;
        if (now_s < HAL_CLOCK_VALID_AFTER_S) return fail(t, TRANSPORT_ERR_CONFIG, TLS_REASON_CLOCK_NOT_SET, 0);
    }

    uint32_t peer = fnv1a(FNV_BASIS, cfg->mode->name, strlen(cfg->mode->name) + 1);
    peer = fnv1a(peer, host, strlen(host) + 1);
    peer = fnv1a(peer, &port, sizeof port);
    peer = fnv1a(peer, t->verify_name, strlen(t->verify_name) + 1);
    /* and what was trusted: a session verified under one pin or CA is not offered under another */
    peer = cfg->mode->bind_trust(cfg, peer, fnv1a);
    /* and who we are: a session carries the client certificate it was made with, so a node
       reconfigured to another device certificate (or none) starts afresh */
    for (size_t i = 0; cfg->client_chain != NULL && i < cfg->client_chain_len; i++) {
        peer = fnv1a(peer, cfg->client_chain[i].data, cfg->client_chain[i].data_len);
    }
    t->peer = peer;

    int r = t->lower->open(t->lower, host, port);
    if (r < 0) {
        t->failed = 1;
        t->result = r;
        return r; /* the lower transport names it (ECONNREFUSED, ...) */
    }
    t->open = 1;

    tls_x509_prepare(&t->x509, t->verify_name, now_s);

    br_ssl_engine_context *eng = &t->cc.eng;
    if (cfg->random32 != NULL) {
        uint32_t seed[8];
        for (int i = 0; i < 8; i++) seed[i] = cfg->random32(cfg->hal_ctx);
        br_ssl_engine_inject_entropy(eng, seed, sizeof seed);
    }
    const tls_session_blob *stored = valid_store(t);
    const int resume = stored != NULL && stored->peer == peer;
    if (resume) br_ssl_engine_set_session_parameters(eng, &stored->params);
    t->offered_resume = (uint8_t)resume;
    /* SNI carries names only (RFC 6066): by IP the client sends none. */
    const char *sni = t->x509.ip_len != 0 ? NULL : t->verify_name;
    if (!br_ssl_client_reset(&t->cc, sni, resume)) {
        return fail(t, TRANSPORT_ERR_TLS, TLS_REASON_BEARSSL, br_ssl_engine_last_error(eng));
    }
    r = pump(t);
    return r < 0 ? r : 0;
}

static int32_t t_read(transport *base, uint8_t *buf, size_t len) {
    tls_transport *t = tls_of(base);
    int r = pump(t);
    if (r < 0) return r;
    br_ssl_engine_context *eng = &t->cc.eng;
    if (!(br_ssl_engine_current_state(eng) & BR_SSL_RECVAPP)) return 0;
    size_t avail;
    unsigned char *app = br_ssl_engine_recvapp_buf(eng, &avail);
    if (avail > len) avail = len;
    if (avail > 0x7fffffff) avail = 0x7fffffff;
    memcpy(buf, app, avail);
    br_ssl_engine_recvapp_ack(eng, avail);
    (void)pump(t); /* room freed: let the engine take the next record */
    return (int32_t)avail;
}

static int32_t t_write(transport *base, const uint8_t *buf, size_t len) {
    tls_transport *t = tls_of(base);
    int r = pump(t);
    if (r < 0) return r;
    /* The credential rule: nothing the application writes (the MQTT CONNECT carries the
       password) leaves before the handshake, certificate check included, has succeeded. */
    if (!t->handshake_done) return 0;
    br_ssl_engine_context *eng = &t->cc.eng;
    if (!(br_ssl_engine_current_state(eng) & BR_SSL_SENDAPP)) return 0;
    size_t room;
    unsigned char *app = br_ssl_engine_sendapp_buf(eng, &room);
    if (room > len) room = len;
    if (room > 0x7fffffff) room = 0x7fffffff;
    memcpy(app, buf, room);
    br_ssl_engine_sendapp_ack(eng, room);
    /* MQTT packets are small and latency matters more than record count: send now. */
    br_ssl_engine_flush(eng, 0);
    r = pump(t);
    if (r < 0) return r;
    return (int32_t)room;
}

static const char *t_error_name(const transport *base) {
    const tls_transport *t = tls_of_c(base);
    if (t->result == 0) return "";
    if (t->reason == TLS_REASON_NONE) return t->lower->error_name(t->lower);
    return tls_error_name(t->reason, t->bearssl_err);
}

static const char *t_error_hint(const transport *base) {
    const tls_transport *t = tls_of_c(base);
    if (t->result == 0) return "";
    if (t->reason == TLS_REASON_NONE) return t->lower->error_hint(t->lower);
    return tls_error_hint(t->reason, t->bearssl_err);
}

/* ---------------------------------------------------------------- setup */

int tls_transport_init(tls_transport *t, transport *lower, const tls_config *cfg, uint8_t *buf, size_t buf_len) {
    memset(t, 0, sizeof *t);
    t->base.open = t_open;
    t->base.read = t_read;
    t->base.write = t_write;
    t->base.close = t_close;
    t->base.error_name = t_error_name;
    t->base.error_hint = t_error_hint;
    t->lower = lower;
    t->cfg = cfg;

    /* The largest standard maximum fragment that fits both record buffers. */
    static const size_t frags[] = {4096, 2048, 1024, 512};
    for (size_t i = 0; i < sizeof frags / sizeof frags[0]; i++) {
        if (buf_len >= TLS_BUFFER_SIZE(frags[i])) {
            t->max_fragment = frags[i];
            break;
        }
    }
    const int ok_mode = cfg->mode != NULL && cfg->mode->config_ok(cfg);
    const int has_key = (cfg->client_rsa_key != NULL) + (cfg->client_ec_key != NULL);
    const int ok_mtls = cfg->client_chain == NULL
                            ? has_key == 0 && cfg->client_auth == NULL
                            : (cfg->client_chain_len > 0 && has_key == 1 && cfg->client_auth != NULL);
    if (lower == NULL || buf == NULL || t->max_fragment == 0 || !ok_mode || !ok_mtls) {
        t->unusable = 1;
        return fail(t, TRANSPORT_ERR_CONFIG, TLS_REASON_BAD_CONFIG, 0);
    }

    const tls_profile *profile = cfg->profile != NULL ? cfg->profile : TLS_PROFILE_DEFAULT;
    tls_x509_init(&t->x509, cfg, profile);

    /* Set up explicitly rather than br_ssl_client_init_full(), which links every suite. */
    br_ssl_client_context *cc = &t->cc;
    br_ssl_engine_context *eng = &cc->eng;
    br_ssl_client_zero(cc);
    br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
    /* No renegotiation: Mosquitto never asks for one, and a second handshake on a live
       connection (possibly with another certificate) is only attack surface. A HelloRequest
       is answered with a no_renegotiation alert (an OpenSSL broker carries on, a BearSSL one
       closes); either way no second handshake runs on this connection. */
    br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);
    br_ssl_engine_set_suites(eng, profile->suites, profile->suite_count);
    br_ssl_engine_set_x509(eng, &t->x509.vtable);
    br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
    br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
    br_ssl_engine_set_ec(eng, profile->ec);
    if (profile->ecdsa != NULL) br_ssl_engine_set_ecdsa(eng, profile->ecdsa);
    br_ssl_engine_set_rsavrfy(eng, &br_rsa_i15_pkcs1_vrfy);
    profile->set_records(eng);

    if (cfg->client_auth != NULL) cfg->client_auth(cc, cfg);

    const size_t out_len = t->max_fragment + TLS_OUT_OVERHEAD;
    br_ssl_engine_set_buffers_bidi(eng, buf + out_len, buf_len - out_len, buf, out_len);
    if (br_ssl_engine_last_error(eng) != BR_ERR_OK) {
        t->unusable = 1;
        return fail(t, TRANSPORT_ERR_CONFIG, TLS_REASON_BEARSSL, br_ssl_engine_last_error(eng));
    }
    t->session_keyed = (uint8_t)draw_session_key(t);
    return 0;
}

int tls_transport_handshake_done(const tls_transport *t) { return t->handshake_done; }
int tls_transport_resumed(const tls_transport *t) { return t->handshake_done && t->resumed; }

int tls_transport_save_session(const tls_transport *t, tls_saved_session *out) {
    const tls_session_blob *b = valid_store(t);
    if (b == NULL) return 0;
    out->blob = *b;
    memcpy(out->key, t->session_key, sizeof out->key);
    return 1;
}

int tls_transport_load_session(tls_transport *t, const tls_saved_session *in) {
    tls_session_blob *store = t->cfg != NULL ? t->cfg->session_store : NULL;
    if (store == NULL || !blob_valid(in->key, &in->blob)) {
        return -1; /* RTC memory after power loss holds garbage: never offer that */
    }
    memcpy(t->session_key, in->key, sizeof t->session_key);
    t->session_keyed = 1;
    *store = in->blob;
    return 0;
}

void tls_transport_forget_session(tls_transport *t) {
    if (t->cfg != NULL && t->cfg->session_store != NULL) {
        memset(t->cfg->session_store, 0, sizeof *t->cfg->session_store);
    }
}
