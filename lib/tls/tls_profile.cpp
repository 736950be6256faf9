/*
 * tls_profile.cpp - the key exchanges a build carries (tls_transport.h). Each profile is a const
 * table; the firmware names one (config.h), so only its curves and signature code are linked.
 *   default  ECDHE_RSA over X25519, RSA signatures: what a gen-certs broker (RSA key, RSA CA)
 *            needs, and the curve Mosquitto (OpenSSL) picks when the client offers it.
 *   compat   adds ECDHE_ECDSA, P-256 and ECDSA signatures: a broker or CA with an EC key, or a
 *            broker without X25519.
 */
#include <string.h>

#include "tls_transport.h"

static const uint16_t DEFAULT_SUITES[] = {BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256};

const tls_profile tls_profile_default = {
    "default", DEFAULT_SUITES, sizeof DEFAULT_SUITES / sizeof DEFAULT_SUITES[0], &br_ec_c25519_m15, NULL,
};

/* br_ec_all_m15 would also bring P-384/P-521 code; a two-curve dispatcher keeps the flash
   to what we announce (the engine advertises exactly supported_curves). */
static const br_ec_impl *ec_for(int curve)
{
    return curve == BR_EC_curve25519 ? &br_ec_c25519_m15 : &br_ec_p256_m15;
}
static const unsigned char *ec_generator(int curve, size_t *len) { return ec_for(curve)->generator(curve, len); }
static const unsigned char *ec_order(int curve, size_t *len) { return ec_for(curve)->order(curve, len); }
static size_t ec_xoff(int curve, size_t *len) { return ec_for(curve)->xoff(curve, len); }
static uint32_t ec_mul(unsigned char *G, size_t Glen, const unsigned char *x, size_t xlen, int curve)
{
    return ec_for(curve)->mul(G, Glen, x, xlen, curve);
}
static size_t ec_mulgen(unsigned char *R, const unsigned char *x, size_t xlen, int curve)
{
    return ec_for(curve)->mulgen(R, x, xlen, curve);
}
static uint32_t ec_muladd(unsigned char *A, const unsigned char *B, size_t len, const unsigned char *x,
                          size_t xlen, const unsigned char *y, size_t ylen, int curve)
{
    return ec_for(curve)->muladd(A, B, len, x, xlen, y, ylen, curve);
}
/* const: function pointers never sit in writable memory next to a parsing buffer */
static const br_ec_impl P256_X25519 = {
    ((uint32_t)1 << BR_EC_secp256r1) | ((uint32_t)1 << BR_EC_curve25519),
    ec_generator, ec_order, ec_xoff, ec_mul, ec_mulgen, ec_muladd,
};

static const uint16_t COMPAT_SUITES[] = {
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
};

const tls_profile tls_profile_compat = {
    "compat", COMPAT_SUITES, sizeof COMPAT_SUITES / sizeof COMPAT_SUITES[0], &P256_X25519, &br_ecdsa_i15_vrfy_asn1,
};

const tls_profile *tls_profile_by_name(const char *name)
{
    if (name == NULL) return NULL;
    if (strcmp(name, tls_profile_default.name) == 0) return &tls_profile_default;
    if (strcmp(name, tls_profile_compat.name) == 0) return &tls_profile_compat;
    return NULL;
}
