/*
 * credentials_posix.h - loads the PEM files gen-certs writes (the CA, a device certificate
 * and its key) into the BearSSL structures lib/tls takes, for the native node and the tests.
 *
 * The ESP8266 gets the same structures from certs.h (generated C arrays); on Linux we read
 * the PEM files instead, with BearSSL's own decoders (br_pem_decoder, br_x509_decoder,
 * br_skey_decoder) so both targets trust exactly what BearSSL understands.
 *
 * Everything lives inside the tls_credentials object (a fixed arena, no heap): make it
 * static and keep it alive as long as the transport that uses it.
 */
#ifndef CREDENTIALS_POSIX_H
#define CREDENTIALS_POSIX_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl/bearssl.h>

#define TLS_CRED_MAX_ANCHORS 8
#define TLS_CRED_MAX_CHAIN   4
#define TLS_CRED_ARENA       16384

typedef struct tls_credentials {
    br_x509_trust_anchor anchors[TLS_CRED_MAX_ANCHORS];
    size_t anchor_count;
    br_x509_certificate chain[TLS_CRED_MAX_CHAIN]; /* client certificate first */
    size_t chain_len;
    int key_type; /* 0, BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
    br_rsa_private_key rsa;
    br_ec_private_key ec;
    uint8_t arena[TLS_CRED_ARENA]; /* DER, DNs, key material */
    size_t used;
    char error[256]; /* one line naming the file and the problem */
} tls_credentials;

void tls_credentials_init(tls_credentials *c);

/* Adds every certificate of a PEM file as a trust anchor. 0, or -1 with c->error set. */
int tls_credentials_load_ca(tls_credentials *c, const char *pem_path);

/* Loads the client chain (PEM, device certificate first) and its private key (PEM: RSA,
   EC or PKCS#8, unencrypted). 0, or -1 with c->error set. */
int tls_credentials_load_client(tls_credentials *c, const char *cert_path, const char *key_path);
/* After load_client: points cfg's mutual-TLS fields (chain, key, the matching installer) at `c`. */
void tls_credentials_use_client(const tls_credentials *c, struct tls_config *cfg);

/* SHA-256 of the first certificate's DER in a PEM file (what FINGERPRINT mode compares),
   and of its SubjectPublicKeyInfo (PIN mode). 0, or -1 with c->error set. Uses the arena. */
int tls_credentials_cert_hashes(tls_credentials *c, const char *pem_path, uint8_t fingerprint[32], uint8_t spki[32]);

#endif
