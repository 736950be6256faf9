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
 * CA mode also checks what BearSSL's engine does not (tls_cert.h): the end-entity certificate
 * must be meant for a server (an extended key usage, when present, lists serverAuth), must not
 * be a CA (CA:TRUE), and must name the broker in a subjectAltName (a dNSName for a host name,
 * an iPAddress for an IP): the Common Name is never enough. These rules keep a device
 * certificate (clientAuth, CN = device id), which any node's flash holds with its key, from
 * passing as the broker's.
 * PIN and FINGERPRINT identify the broker exactly, so (like BearSSL's known-key mode and
 * the ESP8266 core's setFingerprint) they check neither chain, name, dates nor usage and need no
 * clock. Dates, deliberately (reviewed): issue 4 puts the date check and the clock rule on the CA
 * mode's list and its must-refuse "expired"/"not yet valid" cases on the CA path. A pin is the
 * broker's key itself: whoever holds that key can mint a certificate with any dates, so checking
 * them adds no security, while it would make a pinned node fail before NTP and on the day a
 * self-signed certificate lapses although the key is unchanged. A fingerprint names one exact
 * certificate the user chose; its dates are part of it. Only the end-entity (first) certificate
 * is looked at in both modes; the rest of the chain the broker sends is ignored.
 *
 * BearSSL contract (docs/tls-review.md): the X.509 decoder and the minimal engine are
 * coroutines whose failure only yields; a later push resumes them *after* the failure point.
 * So nothing is pushed into either once it has a verdict (error or done), and the parsing
 * contexts sit last in tls_x509_ctx, after every pointer the wrapper itself uses.
 */
#ifndef TLS_X509_H
#define TLS_X509_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl/bearssl.h>

#include "tls_cert.h"
#include "tls_errors.h"

struct tls_x509_ctx;
struct tls_config;
struct tls_profile;

/*
 * A trust mode: how the wrapper decides that the certificate the broker sent is the broker's.
 * One const table per mode (tls_mode_ca.cpp, tls_mode_key.cpp); a build links only the modes it
 * names (the firmware names one, from config.h), and tls_mode_by_name() (tls_modes.cpp) is the one
 * list of names, for command lines. The hooks get every certificate of the chain; the wrapper
 * itself feeds the end-entity certificate to the DER walker.
 */
typedef struct tls_mode {
    const char *name;     /* "ca", "pin", "fingerprint": --tls on the native node, the log */
    uint8_t checks_dates; /* refuse before connecting while the clock is not set */
    uint8_t checks_name;  /* an empty name would check nothing: refuse it */
    /* The configuration has what the mode needs (anchors, pin, fingerprint). */
    int (*config_ok)(const struct tls_config *cfg);
    /* Hashes what the mode trusts into a session's peer binding (tls_transport.cpp). */
    uint32_t (*bind_trust)(const struct tls_config *cfg, uint32_t h, uint32_t (*mix)(uint32_t, const void *, size_t));
    void (*init)(struct tls_x509_ctx *x, const struct tls_config *cfg, const struct tls_profile *profile);
    void (*prepare)(struct tls_x509_ctx *x);
    void (*start_chain)(struct tls_x509_ctx *x);
    void (*start_cert)(struct tls_x509_ctx *x, unsigned index, uint32_t length);
    void (*append)(struct tls_x509_ctx *x, unsigned index, const unsigned char *buf, size_t len);
    void (*end_cert)(struct tls_x509_ctx *x);
    unsigned (*end_chain)(struct tls_x509_ctx *x);
    const br_x509_pkey *(*get_pkey)(const struct tls_x509_ctx *x, unsigned *usages);
} tls_mode;

extern const tls_mode tls_mode_ca, tls_mode_pin, tls_mode_fingerprint;
#define TLS_MODE_CA          (&tls_mode_ca)
#define TLS_MODE_PIN         (&tls_mode_pin)
#define TLS_MODE_FINGERPRINT (&tls_mode_fingerprint)

/* "ca", "pin" or "fingerprint" -> the mode; NULL for anything else. Links all three modes. */
const tls_mode *tls_mode_by_name(const char *name);

typedef struct tls_x509_ctx {
    const br_x509_class *vtable; /* first, as BearSSL requires */
    const tls_mode *mode;
    const uint8_t *expected; /* 32-byte pin or fingerprint */
    const char *name;        /* DNS name to verify, or NULL (addressed by IP) */
    uint8_t ip[TLS_IP_MAX];
    uint8_t ip_len;          /* 0: addressed by name */
    uint8_t decoder_stopped; /* PIN / FINGERPRINT: the decoder has its verdict; push no more */
    unsigned cert_index;
    int64_t now;            /* seconds since epoch (CA mode) */
    tls_reason reason;      /* the wrapper's own verdict, when it has a better name */
    tls_cert_walker walker; /* names, usage, SPKI hash, validity of the end-entity cert */
    /* Last, so that no parsing buffer lies before anything above (defence in depth). One mode
       runs per transport, so its contexts share the space (112 B of DRAM less than a hash of
       its own beside the union). */
    union {
        br_x509_minimal_context minimal; /* CA mode */
        struct {
            br_sha256_context cert_hash;     /* FINGERPRINT: over the end-entity DER (first: no parser before it) */
            br_x509_decoder_context decoder; /* PIN / FINGERPRINT: the key of the end-entity cert */
        } key;
    } u;
} tls_x509_ctx;

/* Once, at transport init, with the transport's configuration (mode, anchors, pin, fingerprint). */
void tls_x509_init(tls_x509_ctx *x, const struct tls_config *cfg, const struct tls_profile *profile);

/* Before each handshake: the name or IP literal to verify, and the time (CA mode). The
   name pointer must stay valid until the handshake is over. */
void tls_x509_prepare(tls_x509_ctx *x, const char *verify_name, int64_t now_s);

#endif
