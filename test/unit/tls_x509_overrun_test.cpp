/*
 * tls_x509_overrun_test.cpp - issue 8: the certificate path must never write past its buffers,
 * whatever the broker sends and however the handshake cuts it into pieces.
 *
 * BearSSL's X.509 decoder is a coroutine: a failure ("RSA modulus larger than pkey_data") only
 * yields, and a further push resumes it after the failure point, where it goes on copying the
 * modulus past pkey_data. The engine hands a certificate over in pieces (one per record
 * fragment), so the bug needs a certificate whose modulus is too large AND a push boundary
 * inside it. This test feeds such certificates to the br_x509_class wrapper (tls_x509.cpp) in
 * pushes of every size from 1 byte up, in every mode, with the context laid out so that an
 * overrun is seen even though the writes happen inside libbearssl (not instrumented by ASan):
 *   - a guard page: the context ends where a PROT_NONE page begins, so a long overrun faults;
 *   - canaries: every byte after the decoder inside the context is checked after the refusal,
 *     so a short overrun (a few bytes past pkey_data) fails the test too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "tls_transport.h"

/* ---------------------------------------------------------------- a small DER writer */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} der_buf;

static void put(der_buf *b, const void *data, size_t len) {
    if (b->n + len > b->cap) abort();
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

static void put_tlv(der_buf *b, uint8_t tag, const uint8_t *content, size_t len) {
    uint8_t hdr[6];
    size_t h = 0;
    hdr[h++] = tag;
    if (len < 0x80) {
        hdr[h++] = (uint8_t)len;
    } else if (len < 0x100) {
        hdr[h++] = 0x81;
        hdr[h++] = (uint8_t)len;
    } else if (len < 0x10000) {
        hdr[h++] = 0x82;
        hdr[h++] = (uint8_t)(len >> 8);
        hdr[h++] = (uint8_t)len;
    } else {
        hdr[h++] = 0x83;
        hdr[h++] = (uint8_t)(len >> 16);
        hdr[h++] = (uint8_t)(len >> 8);
        hdr[h++] = (uint8_t)len;
    }
    put(b, hdr, h);
    put(b, content, len);
}

/* A self-signed-looking RSA certificate whose modulus has `modulus_len` bytes (first 0x01,
   then `fill`). Only the structure matters: the node must refuse it while parsing. */
static size_t make_cert(uint8_t *out, size_t cap, size_t modulus_len, uint8_t fill) {
    static uint8_t scratch[6][64 * 1024];
    der_buf rsa = {scratch[0], 0, sizeof scratch[0]};
    {
        der_buf n = {scratch[1], 0, sizeof scratch[1]};
        uint8_t first = 0x01;
        put(&n, &first, 1);
        for (size_t i = 1; i < modulus_len; i++) put(&n, &fill, 1);
        put_tlv(&rsa, 0x02, n.p, n.n);
        static const uint8_t e[] = {0x01, 0x00, 0x01};
        put_tlv(&rsa, 0x02, e, sizeof e);
    }
    der_buf spki = {scratch[2], 0, sizeof scratch[2]};
    {
        static const uint8_t alg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                      0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00}; /* rsaEncryption, NULL */
        put(&spki, alg, sizeof alg);
        der_buf bits = {scratch[3], 0, sizeof scratch[3]};
        uint8_t unused = 0;
        put(&bits, &unused, 1);
        put_tlv(&bits, 0x30, rsa.p, rsa.n);
        put_tlv(&spki, 0x03, bits.p, bits.n);
    }
    static const uint8_t version[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
    static const uint8_t serial[] = {0x02, 0x01, 0x07};
    static const uint8_t sigalg[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                     0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00}; /* sha256WithRSA */
    static const uint8_t name[] = {0x30, 0x11, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04,
                                   0x03, 0x0c, 0x06, 'b',  'r',  'o',  'k',  'e',  'r'}; /* CN=broker */
    static const uint8_t validity[] = {0x30, 0x1e, 0x17, 0x0d, '2', '5', '0',  '1',  '0', '1', '0',
                                       '0',  '0',  '0',  '0',  '0', 'Z', 0x17, 0x0d, '3', '5', '0',
                                       '1',  '0',  '1',  '0',  '0', '0', '0',  '0',  '0', 'Z'};
    der_buf tbs = {scratch[4], 0, sizeof scratch[4]};
    put(&tbs, version, sizeof version);
    put(&tbs, serial, sizeof serial);
    put(&tbs, sigalg, sizeof sigalg);
    put(&tbs, name, sizeof name);
    put(&tbs, validity, sizeof validity);
    put(&tbs, name, sizeof name);
    put_tlv(&tbs, 0x30, spki.p, spki.n);

    der_buf cert = {scratch[5], 0, sizeof scratch[5]};
    put_tlv(&cert, 0x30, tbs.p, tbs.n);
    put(&cert, sigalg, sizeof sigalg);
    static const uint8_t sig[] = {0x03, 0x05, 0x00, 0xde, 0xad, 0xbe, 0xef};
    put(&cert, sig, sizeof sig);

    der_buf whole = {out, 0, cap};
    put_tlv(&whole, 0x30, cert.p, cert.n);
    return whole.n;
}

/* ---------------------------------------------------------------- the context under test */

/* The context ends exactly where a PROT_NONE page begins. */
static tls_x509_ctx *guarded_ctx(void) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t body = (sizeof(tls_x509_ctx) + page - 1) / page * page;
    uint8_t *m = (uint8_t *)mmap(NULL, body + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) abort();
    if (mprotect(m + body, page, PROT_NONE) != 0) abort();
    return (tls_x509_ctx *)(void *)(m + body - sizeof(tls_x509_ctx));
}

static const uint8_t CANARY = 0x5a;

/* Where the decoder's context ends inside tls_x509_ctx: nothing after it may change in
   PIN / FINGERPRINT mode (the rest of the union is the unused CA-mode engine). */
static size_t decoder_end(void) { return offsetof(tls_x509_ctx, u.key.decoder) + sizeof(br_x509_decoder_context); }

/* Runs one certificate through the wrapper in pushes of `chunk` bytes; returns end_chain(). */
static unsigned run_chain(tls_x509_ctx *x, const tls_mode *mode, const uint8_t *cert, size_t len, size_t chunk) {
    static const uint8_t expected[32] = {1};
    static const unsigned char ta_n[] = {0xc3, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
    static const unsigned char ta_e[] = {0x01, 0x00, 0x01};
    static br_x509_trust_anchor ta;
    ta.dn.data = (unsigned char *)"x";
    ta.dn.len = 1;
    ta.flags = BR_X509_TA_CA;
    ta.pkey.key_type = BR_KEYTYPE_RSA;
    ta.pkey.key.rsa.n = (unsigned char *)ta_n;
    ta.pkey.key.rsa.nlen = sizeof ta_n;
    ta.pkey.key.rsa.e = (unsigned char *)ta_e;
    ta.pkey.key.rsa.elen = sizeof ta_e;

    tls_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mode = mode;
    cfg.trust_anchors = &ta;
    cfg.trust_anchor_count = 1;
    cfg.pin_sha256 = expected;
    cfg.fingerprint_sha256 = expected;
    tls_x509_init(x, &cfg, TLS_PROFILE_COMPAT);
    tls_x509_prepare(x, "broker.test", 1767225600); /* 2026-01-01 */
    const br_x509_class **v = &x->vtable;
    (*v)->start_chain(v, "broker.test");
    (*v)->start_cert(v, (uint32_t)len);
    if (mode != TLS_MODE_CA) { memset((uint8_t *)x + decoder_end(), CANARY, sizeof *x - decoder_end()); }
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        (*v)->append(v, cert + off, n);
    }
    (*v)->end_cert(v);
    return (*v)->end_chain(v);
}

static int canaries_intact(const tls_x509_ctx *x) {
    const uint8_t *p = (const uint8_t *)x;
    for (size_t i = decoder_end(); i < sizeof *x; i++) {
        if (p[i] != CANARY) return 0;
    }
    return 1;
}

static uint8_t cert_buf[64 * 1024];

/* A modulus that would run past the whole context: the guard page catches a long overrun. */
static void test_long_overrun_every_chunk_size() {
    tls_x509_ctx *x = guarded_ctx();
    const size_t len = make_cert(cert_buf, sizeof cert_buf, sizeof(tls_x509_ctx) + 64, 0x41);
    const tls_mode *const modes[] = {TLS_MODE_PIN, TLS_MODE_FINGERPRINT, TLS_MODE_CA};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        int wrong = 0, hit = 0;
        for (size_t chunk = 1; chunk <= len; chunk++) {
            unsigned err = run_chain(x, modes[m], cert_buf, len, chunk);
            if (err != BR_ERR_X509_LIMIT_EXCEEDED) wrong++;
            if (modes[m] != TLS_MODE_CA && !canaries_intact(x)) hit++;
        }
        CHECK_EQ(wrong, 0); /* one name for this refusal in every mode and every cut */
        CHECK_EQ(hit, 0);
    }
}

/* Just over pkey_data (520 bytes): a few bytes of overrun, seen by the canaries. */
static void test_short_overrun_every_chunk_size() {
    tls_x509_ctx *x = guarded_ctx();
    for (size_t modulus = BR_X509_BUFSIZE_KEY - 4; modulus <= BR_X509_BUFSIZE_KEY + 80; modulus += 4) {
        const size_t len = make_cert(cert_buf, sizeof cert_buf, modulus, 0xff);
        int wrong = 0, hit = 0;
        for (size_t chunk = 1; chunk <= len; chunk++) {
            unsigned err = run_chain(x, TLS_MODE_PIN, cert_buf, len, chunk);
            /* n + e must fit pkey_data together; otherwise the refusal is LIMIT_EXCEEDED, and
               a certificate that fits is refused later (the pin does not match) */
            if (modulus + 3 > BR_X509_BUFSIZE_KEY ? err != BR_ERR_X509_LIMIT_EXCEEDED : err != BR_ERR_X509_NOT_TRUSTED)
                wrong++;
            if (!canaries_intact(x)) hit++;
        }
        CHECK_EQ(wrong, 0);
        CHECK_EQ(hit, 0);
    }
}

/* The control: a modulus that fits is decoded, whatever the cut, and the pin is what decides. */
static void test_fitting_key_decodes() {
    tls_x509_ctx *x = guarded_ctx();
    const size_t len = make_cert(cert_buf, sizeof cert_buf, 256, 0x77);
    for (size_t chunk = 1; chunk <= len; chunk++) {
        CHECK_EQ(run_chain(x, TLS_MODE_PIN, cert_buf, len, chunk), BR_ERR_X509_NOT_TRUSTED);
        CHECK_EQ(x->reason, TLS_REASON_PIN_MISMATCH);
        CHECK_EQ(x->decoder_stopped, 1);
        CHECK_EQ(br_x509_decoder_last_error(&x->u.key.decoder), 0);
    }
}

int main() {
    RUN(test_long_overrun_every_chunk_size);
    RUN(test_short_overrun_every_chunk_size);
    RUN(test_fitting_key_decodes);
    return check_summary("tls_x509_overrun_test");
}
