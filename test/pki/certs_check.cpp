/*
 * certs_check - proves a generated include/certs.h is right, using only BearSSL (libbearssl-dev)
 * the way the firmware does. Built and run by test/host/pki-bearssl.test.ts:
 *
 *   g++ -I<dir>/include test/pki/certs_check.cpp -lbearssl -o certs_check
 *   certs_check <server-chain.der> <ca.der> <server name>
 *
 * Prints key=value lines: the constants as hex (the test compares them with openssl), and what
 * BearSSL concluded: chain (0 = the broker certificate validates against the embedded trust
 * anchor for that name, else BR_ERR_X509_*), whether the anchor's DN and key equal the CA's, and
 * whether the embedded client key is the private half of the embedded client certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bearssl/bearssl.h>
#include "certs.h"

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = (unsigned char *)malloc((size_t)n);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "read %s failed\n", path); exit(2); }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void print_hex(const char *key, const unsigned char *p, size_t len) {
    printf("%s=", key);
    for (size_t i = 0; i < len; i++) printf("%02x", p[i]);
    printf("\n");
}

struct dn_buf { unsigned char data[1024]; size_t len; };

static void append_dn(void *ctx, const void *buf, size_t len) {
    dn_buf *d = (dn_buf *)ctx;
    if (d->len + len <= sizeof d->data) memcpy(d->data + d->len, buf, len);
    d->len += len;
}

/* Validates a chain of DER certificates (concatenated: leaf first) against the header's anchor. */
static unsigned check_chain(const unsigned char *der, size_t len, const char *name) {
    br_x509_trust_anchor ta;
    ta.dn.data = (unsigned char *)CERTS_TA_DN;
    ta.dn.len = sizeof CERTS_TA_DN;
    ta.flags = BR_X509_TA_CA;
    ta.pkey.key_type = BR_KEYTYPE_RSA;
    ta.pkey.key.rsa.n = (unsigned char *)CERTS_TA_RSA_N;
    ta.pkey.key.rsa.nlen = sizeof CERTS_TA_RSA_N;
    ta.pkey.key.rsa.e = (unsigned char *)CERTS_TA_RSA_E;
    ta.pkey.key.rsa.elen = sizeof CERTS_TA_RSA_E;

    br_x509_minimal_context xc;
    br_x509_minimal_init_full(&xc, &ta, 1);
    const br_x509_class **vt = &xc.vtable;
    (*vt)->start_chain(vt, name);
    /* Split the concatenation into certificates by their outer DER SEQUENCE length. */
    size_t off = 0;
    while (off + 4 <= len) {
        size_t clen;
        if (der[off + 1] == 0x82) clen = 4 + ((size_t)der[off + 2] << 8 | der[off + 3]);
        else if (der[off + 1] == 0x81) clen = 3 + der[off + 2];
        else clen = 2 + der[off + 1];
        if (off + clen > len) break;
        (*vt)->start_cert(vt, (uint32_t)clen);
        (*vt)->append(vt, der + off, clen);
        (*vt)->end_cert(vt);
        off += clen;
    }
    return (*vt)->end_chain(vt);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: certs_check <server-chain.der> <ca.der> <server name>\n");
        return 2;
    }
    size_t chain_len, ca_len;
    unsigned char *chain = read_file(argv[1], &chain_len);
    unsigned char *ca = read_file(argv[2], &ca_len);

    print_hex("sha1", CERTS_BROKER_SHA1_FINGERPRINT, sizeof CERTS_BROKER_SHA1_FINGERPRINT);
    print_hex("sha256", CERTS_BROKER_SHA256_FINGERPRINT, sizeof CERTS_BROKER_SHA256_FINGERPRINT);
    print_hex("spki", CERTS_BROKER_SPKI_SHA256, sizeof CERTS_BROKER_SPKI_SHA256);
    printf("not_after=%lld\n", (long long)CERTS_BROKER_NOT_AFTER);
    printf("device=%s user=%s port=%d\n", CERTS_DEVICE_ID, CERTS_MQTT_USERNAME, CERTS_BROKER_PORT);
    for (int i = 0; i < CERTS_BROKER_HOST_COUNT; i++) printf("host=%s\n", CERTS_BROKER_HOSTS[i]);
    for (int i = 0; i < CERTS_BROKER_IP_COUNT; i++) printf("ip=%s\n", CERTS_BROKER_IPS[i]);

    /* The leaf's SHA-256 as BearSSL computes it must equal the embedded fingerprint. */
    {
        br_sha256_context h;
        unsigned char out[32];
        size_t leaf_len = 4 + ((size_t)chain[2] << 8 | chain[3]);
        br_sha256_init(&h);
        br_sha256_update(&h, chain, leaf_len);
        br_sha256_out(&h, out);
        printf("sha256_matches_der=%d\n", memcmp(out, CERTS_BROKER_SHA256_FINGERPRINT, 32) == 0);
    }

    printf("chain=%u\n", check_chain(chain, chain_len, argv[3][0] ? argv[3] : NULL));

    /* The anchor must be the CA: same subject DN bytes, same RSA key. */
    {
        dn_buf dn;
        dn.len = 0;
        br_x509_decoder_context dc;
        br_x509_decoder_init(&dc, append_dn, &dn);
        br_x509_decoder_push(&dc, ca, ca_len);
        br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
        int ok = br_x509_decoder_last_error(&dc) == 0 && pk != NULL && pk->key_type == BR_KEYTYPE_RSA;
        printf("ca_is_ca=%d\n", ok && br_x509_decoder_isCA(&dc));
        printf("ta_dn_matches=%d\n", ok && dn.len == sizeof CERTS_TA_DN && memcmp(dn.data, CERTS_TA_DN, dn.len) == 0);
        printf("ta_key_matches=%d\n",
               ok && pk->key.rsa.nlen == sizeof CERTS_TA_RSA_N && memcmp(pk->key.rsa.n, CERTS_TA_RSA_N, sizeof CERTS_TA_RSA_N) == 0 &&
                   pk->key.rsa.elen == sizeof CERTS_TA_RSA_E && memcmp(pk->key.rsa.e, CERTS_TA_RSA_E, sizeof CERTS_TA_RSA_E) == 0);
    }

    /* The client key signs; the client certificate's public key verifies (EC P-256 or RSA). */
#if defined(CERTS_CLIENT_KEY_EC) && CERTS_CLIENT_KEY_EC
    {
        br_ec_private_key sk;
        sk.curve = CERTS_CLIENT_KEY_EC_CURVE;
        sk.x = (unsigned char *)CERTS_CLIENT_KEY_EC_X;
        sk.xlen = sizeof CERTS_CLIENT_KEY_EC_X;

        br_x509_decoder_context dc;
        br_x509_decoder_init(&dc, NULL, NULL);
        br_x509_decoder_push(&dc, CERTS_CLIENT_CERT_DER, sizeof CERTS_CLIENT_CERT_DER);
        br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
        int ok = br_x509_decoder_last_error(&dc) == 0 && pk != NULL && pk->key_type == BR_KEYTYPE_EC &&
                 pk->key.ec.curve == BR_EC_secp256r1 && sk.curve == BR_EC_secp256r1;
        printf("client_key_type=ec\nclient_key_curve=%d\nclient_key_x_len=%u\n", sk.curve, (unsigned)sk.xlen);

        unsigned char hash[32], sig[80];
        br_sha256_context h;
        br_sha256_init(&h);
        br_sha256_update(&h, "certs_check", 11);
        br_sha256_out(&h, hash);
        size_t sig_len = ok ? br_ecdsa_i31_sign_asn1(br_ec_get_default(), &br_sha256_vtable, hash, &sk, sig) : 0;
        ok = ok && sig_len > 0;
        ok = ok && br_ecdsa_i31_vrfy_asn1(br_ec_get_default(), hash, sizeof hash, &pk->key.ec, sig, sig_len) == 1;
        printf("client_key_matches_cert=%d\n", ok);
    }
#else
    {
        br_rsa_private_key sk;
        sk.n_bitlen = CERTS_CLIENT_KEY_N_BITS;
        sk.p = (unsigned char *)CERTS_CLIENT_KEY_P; sk.plen = sizeof CERTS_CLIENT_KEY_P;
        sk.q = (unsigned char *)CERTS_CLIENT_KEY_Q; sk.qlen = sizeof CERTS_CLIENT_KEY_Q;
        sk.dp = (unsigned char *)CERTS_CLIENT_KEY_DP; sk.dplen = sizeof CERTS_CLIENT_KEY_DP;
        sk.dq = (unsigned char *)CERTS_CLIENT_KEY_DQ; sk.dqlen = sizeof CERTS_CLIENT_KEY_DQ;
        sk.iq = (unsigned char *)CERTS_CLIENT_KEY_IQ; sk.iqlen = sizeof CERTS_CLIENT_KEY_IQ;

        br_x509_decoder_context dc;
        br_x509_decoder_init(&dc, NULL, NULL);
        br_x509_decoder_push(&dc, CERTS_CLIENT_CERT_DER, sizeof CERTS_CLIENT_CERT_DER);
        br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
        int ok = br_x509_decoder_last_error(&dc) == 0 && pk != NULL && pk->key_type == BR_KEYTYPE_RSA;

        unsigned char hash[32], back[32], sig[512];
        br_sha256_context h;
        br_sha256_init(&h);
        br_sha256_update(&h, "certs_check", 11);
        br_sha256_out(&h, hash);
        size_t sig_len = (CERTS_CLIENT_KEY_N_BITS + 7) / 8;
        ok = ok && sig_len <= sizeof sig;
        ok = ok && br_rsa_pkcs1_sign_get_default()(BR_HASH_OID_SHA256, hash, sizeof hash, &sk, sig) == 1;
        ok = ok && br_rsa_pkcs1_vrfy_get_default()(sig, sig_len, BR_HASH_OID_SHA256, sizeof back, &pk->key.rsa, back) == 1;
        ok = ok && memcmp(hash, back, sizeof hash) == 0;
        printf("client_key_type=rsa\n");
        printf("client_key_matches_cert=%d\n", ok);
    }
#endif
    free(chain);
    free(ca);
    return 0;
}
