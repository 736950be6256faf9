/*
 * tls_profile.cpp - the key exchanges and record ciphers a build carries (tls_transport.h). Each
 * profile is a const table; the firmware names one (config.h), so only its curves, signature and
 * record code are linked.
 *   default  ECDHE_RSA over X25519 with ChaCha20-Poly1305, RSA signatures: what a gen-certs
 *            broker (RSA key, RSA CA) needs, the curve Mosquitto (OpenSSL) picks when the client
 *            offers it, and the smaller AEAD on the chip: chacha20_ct + poly1305_ctmul32 +
 *            the ChaCha20 record layer are 3,265 B of the core's BearSSL against 6,712 B for
 *            AES-128-GCM (aes_ct, aes_ct_enc, aes_ct_ctr, ghash_ctmul32, the GCM record layer),
 *            and both constant-time (the ESP8266 has no AES instructions); poly1305_i15 in
 *            place of ctmul32 takes 0.75 KB less again (bench/results.md).
 *   compat   adds ECDHE_ECDSA, P-256, ECDSA signatures and AES-128-GCM: a broker or CA with an
 *            EC key, or an older broker without X25519 or ChaCha20 (OpenSSL 1.0.2).
 */
#include <string.h>

#include "tls_transport.h"

#include "flash_str.h"

/* ChaCha20 in its constant-time implementation; Poly1305 on the i15 big-integer code the RSA
   check links anyway: 724 B of the core's BearSSL against 1,473 B for ctmul32 (ctmul would call
   __muldi3: the ESP8266 has no 32x32->64 multiply), both constant-time. It costs about 14,000
   more instructions per record (callgrind, native node: 20,555 -> 75,829 in the records of one
   full handshake), well under a millisecond at 80 MHz, against a handshake of seconds. */
static void records_chapol(br_ssl_engine_context *eng) {
    br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable, &br_sslrec_out_chapol_vtable);
    br_ssl_engine_set_chacha20(eng, &br_chacha20_ct_run);
    br_ssl_engine_set_poly1305(eng, &br_poly1305_i15_run);
}

/* AES in its constant-time implementation (aes_ct) and GHASH with 32-bit multiplications. */
static void records_chapol_gcm(br_ssl_engine_context *eng) {
    records_chapol(eng);
    br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
    br_ssl_engine_set_aes_ctr(eng, &br_aes_ct_ctr_vtable);
    br_ssl_engine_set_ghash(eng, &br_ghash_ctmul32);
}

static const uint16_t DEFAULT_SUITES[] = {BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256};

const tls_profile tls_profile_default = {
    "default",         DEFAULT_SUITES, sizeof DEFAULT_SUITES / sizeof DEFAULT_SUITES[0],
    &br_ec_c25519_m15, NULL,           records_chapol,
};

/* br_ec_all_m15 would also bring P-384/P-521 code; a two-curve dispatcher keeps the flash
   to what we announce (the engine advertises exactly supported_curves). */
static const br_ec_impl *ec_for(int curve) { return curve == BR_EC_curve25519 ? &br_ec_c25519_m15 : &br_ec_p256_m15; }
static const unsigned char *ec_generator(int curve, size_t *len) { return ec_for(curve)->generator(curve, len); }
static const unsigned char *ec_order(int curve, size_t *len) { return ec_for(curve)->order(curve, len); }
static size_t ec_xoff(int curve, size_t *len) { return ec_for(curve)->xoff(curve, len); }
static uint32_t ec_mul(unsigned char *G, size_t Glen, const unsigned char *x, size_t xlen, int curve) {
    return ec_for(curve)->mul(G, Glen, x, xlen, curve);
}
static size_t ec_mulgen(unsigned char *R, const unsigned char *x, size_t xlen, int curve) {
    return ec_for(curve)->mulgen(R, x, xlen, curve);
}
static uint32_t ec_muladd(unsigned char *A, const unsigned char *B, size_t len, const unsigned char *x, size_t xlen,
                          const unsigned char *y, size_t ylen, int curve) {
    return ec_for(curve)->muladd(A, B, len, x, xlen, y, ylen, curve);
}
/* const: function pointers never sit in writable memory next to a parsing buffer */
const br_ec_impl tls_ec_p256_x25519 = {
    ((uint32_t)1 << BR_EC_secp256r1) | ((uint32_t)1 << BR_EC_curve25519),
    ec_generator,
    ec_order,
    ec_xoff,
    ec_mul,
    ec_mulgen,
    ec_muladd,
};

/* In our order of preference (BearSSL makes the server follow it unless the server enforces
   its own, as OpenSSL does by default only with SSL_OP_CIPHER_SERVER_PREFERENCE). */
static const uint16_t COMPAT_SUITES[] = {
    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
};

const tls_profile tls_profile_compat = {
    "compat",
    COMPAT_SUITES,
    sizeof COMPAT_SUITES / sizeof COMPAT_SUITES[0],
    &tls_ec_p256_x25519,
    &br_ecdsa_i15_vrfy_asn1,
    records_chapol_gcm,
};

const char *tls_suite_name(uint16_t suite) {
    switch (suite) {
        case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
            return FLASH_STR("ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
        case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
            return FLASH_STR("ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
        case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: return FLASH_STR("ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: return FLASH_STR("ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
        default: return FLASH_STR("?");
    }
}

const tls_profile *tls_profile_by_name(const char *name) {
    if (name == NULL) return NULL;
    if (strcmp(name, tls_profile_default.name) == 0) return &tls_profile_default;
    if (strcmp(name, tls_profile_compat.name) == 0) return &tls_profile_compat;
    return NULL;
}
