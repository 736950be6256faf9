/*
 * tls_client_auth.cpp - mutual TLS: installs the device's certificate and key into the engine.
 * Its own file, named by cfg.client_auth, so a build without mutual TLS links no signing code.
 */
#include "tls_transport.h"

void tls_client_auth_rsa(br_ssl_client_context *cc, const tls_config *cfg) {
    br_ssl_client_set_single_rsa(cc, cfg->client_chain, cfg->client_chain_len, cfg->client_rsa_key,
                                 &br_rsa_i15_pkcs1_sign);
}

/* P-256 keys (what gen-certs --device-key ec makes): the signature needs only the P-256 code,
   whatever curves the profile offers for the key exchange. */
void tls_client_auth_ec(br_ssl_client_context *cc, const tls_config *cfg) {
    br_ssl_client_set_single_ec(cc, cfg->client_chain, cfg->client_chain_len, cfg->client_ec_key, BR_KEYTYPE_SIGN, 0,
                                &br_ec_p256_m15, &br_ecdsa_i15_sign_asn1);
}
