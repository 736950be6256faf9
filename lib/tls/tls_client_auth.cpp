/*
 * tls_client_auth.cpp - mutual TLS: installs the device's certificate and key into the engine.
 * Its own file, named by cfg.client_auth, so a build without mutual TLS links no signing code.
 */
#include "tls_transport.h"

void tls_client_auth_rsa(br_ssl_client_context *cc, const tls_config *cfg) {
    br_ssl_client_set_single_rsa(cc, cfg->client_chain, cfg->client_chain_len, cfg->client_rsa_key,
                                 &br_rsa_i15_pkcs1_sign);
}

/* P-256 keys (what gen-certs --device-key ec makes): the signature needs only the P-256 code.
   The ClientHello must also name P-256 among its supported groups: OpenSSL (Mosquitto) refuses
   an EC client certificate on a curve the client did not announce ("wrong curve", alert
   illegal_parameter; RFC 8422 section 5.1.1), and the default profile announces X25519 alone.
   So a profile without P-256 (the profiles' curves are X25519, or X25519 and P-256) gets both;
   the broker still picks the key exchange. */
void tls_client_auth_ec(br_ssl_client_context *cc, const tls_config *cfg) {
    br_ssl_client_set_single_ec(cc, cfg->client_chain, cfg->client_chain_len, cfg->client_ec_key, BR_KEYTYPE_SIGN, 0,
                                &br_ec_p256_m15, &br_ecdsa_i15_sign_asn1);
    const br_ec_impl *ec = br_ssl_engine_get_ec(&cc->eng);
    if (ec == NULL || (ec->supported_curves & ((uint32_t)1 << BR_EC_secp256r1)) == 0)
        br_ssl_engine_set_ec(&cc->eng, &tls_ec_p256_x25519);
}
