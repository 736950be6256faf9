/*
 * node_certs.cpp - the one translation unit that includes include/certs.h: device identity,
 * and the TLS glue that turns certs.h's constants into lib/tls's tls_config.
 *
 * Why the trust material is copied to RAM: certs.h puts its arrays in flash (CERTS_FLASH =
 * PROGMEM). On the ESP8266, flash is mapped through the instruction cache and only aligned
 * 32-bit loads work there; BearSSL reads DNs, moduli, certificates and keys byte by byte with
 * ordinary loads, which would raise a LoadStoreError (exception 3). So each array BearSSL
 * touches is copied once, in setup(), into a static buffer of exactly sizeof() the array (no
 * heap, no guessed sizes), and only for the mode this build uses:
 *     CA           trust anchor DN + RSA modulus + exponent   (~400 B for a 2048-bit CA)
 *     PIN          32 B SPKI hash
 *     FINGERPRINT  32 B certificate hash
 *     mutual TLS   client certificate DER + the key: 32 B P-256 scalar (EC, gen-certs' default
 *                  with --mtls) or 5 RSA key parts (~1.5 KB for RSA-2048 with the certificate)
 * The CA PEM and the SHA-1 fingerprint are never referenced, so --gc-sections drops them from
 * the image. The broker host/IP tables in certs.h are plain RAM pointers and are not needed:
 * the name the certificate must match is NODE_MQTT_HOST.
 */
#include <Arduino.h>
#include <string.h>

#include "config.h"

#if defined(NODE_CERTS_HEADER)
/* One board's header, chosen by its PlatformIO env (gen-certs --board-headers writes
   include/boards/<id>/certs.h; platformio.ini shows such an env). */
#include NODE_CERTS_HEADER
#else
#if defined(__has_include)
#if !__has_include("certs.h")
#error "include/certs.h is missing: run `npx ts-node host-tools/gen-certs.ts` (see README)"
#endif
#endif
#include "certs.h"
#endif

#include "node_certs.h"

void node_certs_identity(node_identity *out) {
    out->device_id = NODE_DEVICE_ID;
    out->username = CERTS_MQTT_USERNAME;
    out->password = CERTS_MQTT_PASSWORD;
}

#if NODE_USE_TLS

#include "tls_stack_thunk.h"
#include "tls_transport.h"

static_assert(NODE_TLS_MAX_FRAGMENT == 512 || NODE_TLS_MAX_FRAGMENT == 1024,
              "NODE_TLS_MAX_FRAGMENT must be 512 or 1024 on the ESP8266");

/* Record buffers for one TLS connection: in + out, sized for the maximum fragment. */
static uint8_t tls_buf[TLS_BUFFER_SIZE(NODE_TLS_MAX_FRAGMENT)];
static tls_transport tls;
static tls_config tls_cfg;

#if NODE_TLS_MODE == NODE_TLS_MODE_CA
static unsigned char ta_dn[sizeof(CERTS_TA_DN)];
static unsigned char ta_n[sizeof(CERTS_TA_RSA_N)];
static unsigned char ta_e[sizeof(CERTS_TA_RSA_E)];
static br_x509_trust_anchor trust_anchor;
#elif NODE_TLS_MODE == NODE_TLS_MODE_PIN
static uint8_t pin_sha256[32];
#elif NODE_TLS_MODE == NODE_TLS_MODE_FINGERPRINT
static uint8_t fingerprint_sha256[32];
#else
#error "NODE_TLS_MODE must be NODE_TLS_MODE_CA, NODE_TLS_MODE_PIN or NODE_TLS_MODE_FINGERPRINT"
#endif

#if NODE_TLS_MUTUAL
/* A certs.h from before EC device keys has no CERTS_CLIENT_KEY_EC: its key is RSA. */
#if !defined(CERTS_CLIENT_KEY_EC)
#define CERTS_CLIENT_KEY_EC 0
#endif
static unsigned char client_der[sizeof(CERTS_CLIENT_CERT_DER)];
static br_x509_certificate client_chain;
#if CERTS_CLIENT_KEY_EC
static_assert(CERTS_CLIENT_KEY_EC_CURVE == BR_EC_secp256r1 && sizeof(CERTS_CLIENT_KEY_EC_X) == 32,
              "certs.h: the EC device key must be a P-256 scalar (32 bytes); run gen-certs again");
static unsigned char key_x[sizeof(CERTS_CLIENT_KEY_EC_X)];
static br_ec_private_key client_key;
#else
static unsigned char key_p[sizeof(CERTS_CLIENT_KEY_P)];
static unsigned char key_q[sizeof(CERTS_CLIENT_KEY_Q)];
static unsigned char key_dp[sizeof(CERTS_CLIENT_KEY_DP)];
static unsigned char key_dq[sizeof(CERTS_CLIENT_KEY_DQ)];
static unsigned char key_iq[sizeof(CERTS_CLIENT_KEY_IQ)];
static br_rsa_private_key client_key;
#endif
#endif

/* The session store: an object of its own (tls_transport.h). */
static tls_session_blob session_store;

#if NODE_TLS_SESSION_IN_RTC
/* The session in the RTC's user memory (512 B, kept across deep sleep and resets, lost on
   power-off), with the key that seals it. tls_transport_load_session() checks its HMAC and
   rejects anything else, e.g. the random content after power-up. */
static const uint32_t kRtcSessionOffset = 0; /* in 4-byte blocks */
static uint32_t rtc_words[(sizeof(tls_saved_session) + 3) / 4];
static uint32_t handshakes_saved;
#endif

transport *node_certs_tls_begin(transport *tcp, const node_hal *hal, const char **error) {
    memset(&tls_cfg, 0, sizeof(tls_cfg));
#if NODE_TLS_MODE == NODE_TLS_MODE_CA
    memcpy_P(ta_dn, CERTS_TA_DN, sizeof(ta_dn));
    memcpy_P(ta_n, CERTS_TA_RSA_N, sizeof(ta_n));
    memcpy_P(ta_e, CERTS_TA_RSA_E, sizeof(ta_e));
    trust_anchor.dn.data = ta_dn;
    trust_anchor.dn.len = sizeof(ta_dn);
    trust_anchor.flags = BR_X509_TA_CA;
    trust_anchor.pkey.key_type = BR_KEYTYPE_RSA;
    trust_anchor.pkey.key.rsa.n = ta_n;
    trust_anchor.pkey.key.rsa.nlen = sizeof(ta_n);
    trust_anchor.pkey.key.rsa.e = ta_e;
    trust_anchor.pkey.key.rsa.elen = sizeof(ta_e);
    tls_cfg.mode = TLS_MODE_CA;
    tls_cfg.trust_anchors = &trust_anchor;
    tls_cfg.trust_anchor_count = 1;
#elif NODE_TLS_MODE == NODE_TLS_MODE_PIN
    memcpy_P(pin_sha256, CERTS_BROKER_SPKI_SHA256, sizeof(pin_sha256));
    tls_cfg.mode = TLS_MODE_PIN;
    tls_cfg.pin_sha256 = pin_sha256;
#else
    memcpy_P(fingerprint_sha256, CERTS_BROKER_SHA256_FINGERPRINT, sizeof(fingerprint_sha256));
    tls_cfg.mode = TLS_MODE_FINGERPRINT;
    tls_cfg.fingerprint_sha256 = fingerprint_sha256;
#endif

#if NODE_TLS_MUTUAL
    memcpy_P(client_der, CERTS_CLIENT_CERT_DER, sizeof(client_der));
    client_chain.data = client_der;
    client_chain.data_len = sizeof(client_der);
    tls_cfg.client_chain = &client_chain;
    tls_cfg.client_chain_len = 1;
#if CERTS_CLIENT_KEY_EC
    memcpy_P(key_x, CERTS_CLIENT_KEY_EC_X, sizeof(key_x));
    client_key.curve = CERTS_CLIENT_KEY_EC_CURVE;
    client_key.x = key_x;
    client_key.xlen = sizeof(key_x);
    tls_cfg.client_ec_key = &client_key;
    tls_cfg.client_auth = tls_client_auth_ec; /* P-256 signing only: no RSA private-key code linked */
#else
    memcpy_P(key_p, CERTS_CLIENT_KEY_P, sizeof(key_p));
    memcpy_P(key_q, CERTS_CLIENT_KEY_Q, sizeof(key_q));
    memcpy_P(key_dp, CERTS_CLIENT_KEY_DP, sizeof(key_dp));
    memcpy_P(key_dq, CERTS_CLIENT_KEY_DQ, sizeof(key_dq));
    memcpy_P(key_iq, CERTS_CLIENT_KEY_IQ, sizeof(key_iq));
    client_key.n_bitlen = CERTS_CLIENT_KEY_N_BITS;
    client_key.p = key_p;
    client_key.plen = sizeof(key_p);
    client_key.q = key_q;
    client_key.qlen = sizeof(key_q);
    client_key.dp = key_dp;
    client_key.dplen = sizeof(key_dp);
    client_key.dq = key_dq;
    client_key.dqlen = sizeof(key_dq);
    client_key.iq = key_iq;
    client_key.iqlen = sizeof(key_iq);
    tls_cfg.client_rsa_key = &client_key;
    tls_cfg.client_auth = tls_client_auth_rsa; /* links the signing code only in mutual-TLS builds */
#endif
#endif

    tls_cfg.server_name = nullptr; /* each connection verifies the host it connects to */
#if NODE_TLS_PROFILE == NODE_TLS_PROFILE_COMPAT
    tls_cfg.profile = TLS_PROFILE_COMPAT;
#else
    tls_cfg.profile = TLS_PROFILE_DEFAULT; /* only the named profile's curves are linked */
#endif
    tls_cfg.hal_ctx = hal->ctx;
    tls_cfg.epoch_ms = hal->epoch_ms;
    tls_cfg.log = hal->log;
    tls_cfg.random32 = hal->random32;
    tls_cfg.session_store = &session_store;

    /* Before any engine call: BearSSL runs on the core's own stack from here on (allocated
       now, in setup(), and kept; see tls_stack_thunk.h). */
    tls_stack_thunk_hold();
    if (tls_transport_init(&tls, tcp, &tls_cfg, tls_buf, sizeof(tls_buf)) != 0) {
        *error = tls.base.error_name(&tls.base);
        return nullptr;
    }

#if NODE_TLS_SESSION_IN_RTC
    if (ESP.rtcUserMemoryRead(kRtcSessionOffset, rtc_words, sizeof(rtc_words))) {
        tls_saved_session saved;
        memcpy(&saved, rtc_words, sizeof(saved));
        const int loaded = tls_transport_load_session(&tls, &saved);
        memset(&saved, 0, sizeof(saved)); /* the key and master secret: not left on the stack */
        if (loaded == 0) { hal->log(hal->ctx, "tls: offering the session kept in RTC memory"); }
    }
#endif
    return &tls.base;
}

void node_certs_tls_poll(void) {
#if NODE_TLS_SESSION_IN_RTC
    /* After each new handshake, store the (possibly new) session for the next wake-up. */
    if (tls.handshakes != handshakes_saved) {
        handshakes_saved = tls.handshakes;
        tls_saved_session saved;
        if (tls_transport_save_session(&tls, &saved)) {
            memset(rtc_words, 0, sizeof(rtc_words));
            memcpy(rtc_words, &saved, sizeof(saved));
            ESP.rtcUserMemoryWrite(kRtcSessionOffset, rtc_words, sizeof(rtc_words));
            memset(&saved, 0, sizeof(saved));
        }
    }
#endif
}

#endif /* NODE_USE_TLS */
