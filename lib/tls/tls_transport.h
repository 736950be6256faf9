/*
 * tls_transport.h - TLS 1.2 (BearSSL) over another transport (plain TCP), as a transport.
 *
 * Usage (all memory is the caller's, normally static):
 *
 *     static uint8_t tls_buf[TLS_BUFFER_SIZE(1024)];
 *     static tls_transport tls;
 *     tls_config cfg = {};   // mode, trust anchor / pin / fingerprint, optional client cert
 *     tls_transport_init(&tls, &tcp, &cfg, tls_buf, sizeof tls_buf);
 *     session uses &tls.base like any transport.
 *
 * Choices (each costs ESP8266 flash or RAM, so only what Mosquitto needs):
 *   - TLS 1.2 only. A profile (tls_profile.cpp) picks the key exchange and the record cipher: the
 *     default is what a gen-certs broker needs (ECDHE_RSA over X25519, RSA signatures only:
 *     Mosquitto picks X25519 when offered) with ChaCha20-Poly1305 (half the flash of AES-GCM on
 *     the chip); "compat" adds ECDHE_ECDSA, P-256, ECDSA signatures and AES-128-GCM for a broker
 *     or CA with an EC key or an older broker. A build links only the profile it names.
 *   - Mutual TLS code is linked only when cfg.client_auth names an installer (tls_client_auth.cpp).
 *   - i15 RSA, m15 EC, ChaCha20 ct, Poly1305 i15 (compat: also aes_ct and ghash ctmul32) on both targets,
 *     so instruction counts on the host track the work on the chip.
 *   - The buffer decides the maximum fragment (512, 1024, 2048 or 4096 bytes of plaintext
 *     per record); BearSSL then asks the broker for that maximum fragment length.
 *   - The session is kept after each full handshake, in a store of its own that the caller
 *     gives (cfg.session_store), and offered on the next open() to the same peer only when
 *     its HMAC-SHA256, keyed with a secret drawn at init, holds: a session that a memory
 *     fault or an attacker wrote is never offered. tls_transport_save_session()/
 *     load_session() carry it, with its key, across a deep sleep (RTC memory) or a restart.
 *   - No application byte is written before the handshake, including the certificate check,
 *     has succeeded: write() accepts nothing until then.
 */
#ifndef TLS_TRANSPORT_H
#define TLS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl/bearssl.h>

#include "transport.h"
#include "tls_errors.h"
#include "tls_x509.h"

/* BearSSL's worst-case record overheads (ssl_engine.c: MAX_IN_OVERHEAD, MAX_OUT_OVERHEAD). */
#define TLS_IN_OVERHEAD       325
#define TLS_OUT_OVERHEAD      85
/* Bytes of buffer for a maximum fragment of `frag` bytes (512, 1024, 2048 or 4096). */
#define TLS_BUFFER_SIZE(frag) ((frag) + TLS_IN_OVERHEAD + (frag) + TLS_OUT_OVERHEAD)
#define TLS_DEFAULT_FRAGMENT  1024

struct tls_config;

/* Key exchanges and signature checks a build carries (tls_profile.cpp). */
typedef struct tls_profile {
    const char *name; /* "default", "compat": --tls-profile on the native node */
    const uint16_t *suites;
    size_t suite_count;
    const br_ec_impl *ec;                            /* ECDHE curves (and EC keys in the chain, with ecdsa) */
    br_ecdsa_vrfy ecdsa;                             /* NULL: no ECDSA signatures (RSA broker and CA keys only) */
    void (*set_records)(br_ssl_engine_context *eng); /* installs the record ciphers of `suites` */
} tls_profile;

extern const tls_profile tls_profile_default, tls_profile_compat;
/* X25519 and P-256 (the compat profile's curves; tls_client_auth_ec announces them too). */
extern const br_ec_impl tls_ec_p256_x25519;
#define TLS_PROFILE_DEFAULT (&tls_profile_default)
#define TLS_PROFILE_COMPAT  (&tls_profile_compat)
/* "default" or "compat" -> the profile; NULL for anything else. Links both. */
const tls_profile *tls_profile_by_name(const char *name);
/* "ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" etc. for a suite of either profile; "?" otherwise.
   A FLASH_STR (lib/port/flash_str.h), like the error names and hints. */
const char *tls_suite_name(uint16_t suite);

/* Installs the client certificate and key into the engine: tls_client_auth_rsa or _ec. */
typedef void (*tls_client_auth_fn)(br_ssl_client_context *cc, const struct tls_config *cfg);
void tls_client_auth_rsa(br_ssl_client_context *cc, const struct tls_config *cfg);
void tls_client_auth_ec(br_ssl_client_context *cc, const struct tls_config *cfg); /* P-256 */

typedef struct tls_config {
    const tls_mode *mode;       /* TLS_MODE_CA, TLS_MODE_PIN or TLS_MODE_FINGERPRINT */
    const tls_profile *profile; /* NULL: TLS_PROFILE_DEFAULT */

    /* CA mode: the trust anchor(s), e.g. from certs.h (CERTS_TA_*) or the credentials loader. */
    const br_x509_trust_anchor *trust_anchors;
    size_t trust_anchor_count;
    /* PIN mode: SHA-256 of the broker's DER SubjectPublicKeyInfo (CERTS_BROKER_SPKI_SHA256). */
    const uint8_t *pin_sha256;
    /* FINGERPRINT mode: SHA-256 of the broker's DER certificate (CERTS_BROKER_SHA256_FINGERPRINT). */
    const uint8_t *fingerprint_sha256;

    /* Name or IP literal the certificate must match; NULL: the host given to open(). */
    const char *server_name;

    /* Mutual TLS (optional): the client chain, exactly one private key, and the installer that
       matches it (tls_client_auth_rsa / tls_client_auth_ec). */
    const br_x509_certificate *client_chain;
    size_t client_chain_len;
    const br_rsa_private_key *client_rsa_key;
    const br_ec_private_key *client_ec_key; /* P-256 only */
    tls_client_auth_fn client_auth;

    /* From the HAL (same signatures as node_hal; ctx is passed to each). */
    void *hal_ctx;
    int64_t (*epoch_ms)(void *ctx); /* required in CA mode; 0 = clock not set */
    void (*log)(void *ctx, const char *line);
    uint32_t (*random32)(void *ctx); /* optional extra entropy mixed into BearSSL's PRNG */

    /* Where the resumable session is kept (optional; NULL: every handshake is a full one). An
       object of its own, so that no parsing buffer of the transport lies before it. */
    struct tls_session_blob *session_store;
} tls_config;

/* A resumable session: valid when magic is set and mac is the HMAC-SHA256 of the fields
   before it under the session key. */
typedef struct tls_session_blob {
    uint32_t magic;
    uint32_t peer; /* hash of mode, host, port, name, trust and client chain */
    br_ssl_session_parameters params;
    uint8_t mac[32];
} tls_session_blob;

/* A session carried across a restart (RTC memory): the blob and the key it was sealed with. */
typedef struct tls_saved_session {
    tls_session_blob blob;
    uint8_t key[32];
} tls_saved_session;

typedef struct tls_transport {
    transport base; /* first: the session holds a transport * */
    transport *lower;
    const tls_config *cfg;
    uint8_t session_key[32]; /* HMAC key sealing cfg->session_store */
    uint8_t session_keyed;   /* session_key was drawn from a seeded generator */
    size_t max_fragment;
    uint32_t peer;        /* peer hash of the current connection */
    char verify_name[64]; /* copy: the caller's host string may not live on */

    uint8_t unusable; /* init found the configuration wrong */
    uint8_t open;     /* lower transport open */
    uint8_t handshake_done;
    uint8_t offered_resume;
    uint8_t resumed;
    uint8_t failed;
    uint8_t rx_head[5]; /* first record header from the server (5: no padding added) */
    uint8_t rx_head_len;

    int result; /* TRANSPORT_ERR_* of the failure, 0 if none */
    tls_reason reason;
    int bearssl_err;
    uint32_t handshakes; /* completed handshakes, full + resumed */
    uint32_t resumptions;

    br_ssl_client_context cc;
    /* Last: the certificate parsers' buffers (see tls_x509.h). */
    tls_x509_ctx x509;
} tls_transport;

/*
 * Sets the transport up over `lower` with `buf` as the record buffers (TLS_BUFFER_SIZE(512)
 * at least; the largest maximum fragment that fits is used). `cfg` must outlive the
 * transport. Returns 0, or TRANSPORT_ERR_CONFIG (logged, error_name() says why).
 */
int tls_transport_init(tls_transport *t, transport *lower, const tls_config *cfg, uint8_t *buf, size_t buf_len);

/* 1 once the current connection's handshake has completed; 1 if it resumed a session. */
int tls_transport_handshake_done(const tls_transport *t);
int tls_transport_resumed(const tls_transport *t);

/* Copies the resumable session and its key out (1) or says there is none (0). */
int tls_transport_save_session(const tls_transport *t, tls_saved_session *out);
/* Offers a saved session on the next open() to the same peer: 0, or -1 if its MAC does not
   hold (power-up garbage in RTC memory, a tampered copy) or there is no session store. The
   transport then seals its sessions with the saved key, so one key lives in RTC memory. */
int tls_transport_load_session(tls_transport *t, const tls_saved_session *in);
/* Forgets the session (the next handshake is a full one). */
void tls_transport_forget_session(tls_transport *t);

#endif
