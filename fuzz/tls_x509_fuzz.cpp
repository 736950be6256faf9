/*
 * tls_x509_fuzz.cpp - libFuzzer target for the broker-certificate path (issue 8): the
 * br_x509_class wrapper of lib/tls (tls_x509.cpp) with BearSSL's X.509 decoder / minimal
 * engine behind it and our DER walker (tls_cert.cpp) beside it.
 *
 * Input: byte 0 picks the mode (CA, PIN, FINGERPRINT), whether the node connects by name or by IP
 * (0x10) and the profile (0x20: compat, with ECDSA); bytes 1..4 seed the chunk sizes; the rest is the certificate chain as the handshake
 * delivers it: each certificate as a 2-byte big-endian length + DER (the last one takes what
 * is left). The certificates are pushed in pieces of pseudo-random size, because a decoder
 * that is resumed after a failure needs a push boundary to misbehave.
 *
 * The wrapper lives inside a real tls_transport (initialised, never connected) and the
 * session store is an object of its own. After every chain: the bytes of the transport
 * outside its x509 member and the session store are exactly what they were before, and in
 * PIN / FINGERPRINT mode so are the bytes of the x509 context after the decoder (the unused
 * rest of the union): a parser that writes anywhere it should not fails here, even when the
 * write happens inside the (uninstrumented) BearSSL library.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_transport.h"

namespace {

int32_t null_read(transport *, uint8_t *, size_t) { return 0; }
int32_t null_write(transport *, const uint8_t *, size_t) { return 0; }
int null_open(transport *, const char *, uint16_t) { return 0; }
void null_close(transport *) {}
const char *null_name(const transport *) { return ""; }
transport lower = {null_open, null_read, null_write, null_close, null_name, null_name};

int64_t fixed_clock(void *) { return 1767225600000LL; } /* 2026-01-01 */

/* A trust anchor: an RSA key the input cannot match, so CA mode exercises the chain logic. */
const unsigned char TA_N[] = {0xc3, 0x5e, 0x11, 0x02, 0x93, 0x44, 0x17, 0x71, 0x0f, 0x21, 0x33, 0x45};
const unsigned char TA_E[] = {0x01, 0x00, 0x01};
unsigned char TA_DN[] = {0x30, 0x11, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04,
                         0x03, 0x0c, 0x06, 'U',  'n',  'i',  't',  'C',  'A'};
br_x509_trust_anchor ta;
const uint8_t EXPECTED[32] = {0x54, 0xd0, 0x0c, 0x42};

tls_session_blob store;
tls_config cfg;
uint8_t tls_buf[TLS_BUFFER_SIZE(512)];
tls_transport *tls; /* on the heap: ASan red zones around it */
uint8_t before[sizeof(tls_transport)];
tls_session_blob store_before;

uint32_t next_rand(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

void fail(const char *what) {
    fprintf(stderr, "tls_x509_fuzz: %s\n", what);
    abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 5) return 0;
    static const tls_mode *const modes[] = {TLS_MODE_CA, TLS_MODE_PIN, TLS_MODE_FINGERPRINT};
    const tls_mode *mode = modes[data[0] % 3];
    const char *host = (data[0] & 0x10) ? "127.0.0.1" : "broker.test";
    const tls_profile *profile = (data[0] & 0x20) ? TLS_PROFILE_COMPAT : TLS_PROFILE_DEFAULT;
    uint32_t seed = ((uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4]) | 1;
    data += 5;
    size -= 5;

    if (tls == NULL) tls = (tls_transport *)malloc(sizeof *tls);
    ta.dn.data = TA_DN;
    ta.dn.len = sizeof TA_DN;
    ta.flags = BR_X509_TA_CA;
    ta.pkey.key_type = BR_KEYTYPE_RSA;
    ta.pkey.key.rsa.n = (unsigned char *)TA_N;
    ta.pkey.key.rsa.nlen = sizeof TA_N;
    ta.pkey.key.rsa.e = (unsigned char *)TA_E;
    ta.pkey.key.rsa.elen = sizeof TA_E;
    memset(&cfg, 0, sizeof cfg);
    cfg.mode = mode;
    cfg.trust_anchors = &ta;
    cfg.trust_anchor_count = 1;
    cfg.pin_sha256 = EXPECTED;
    cfg.fingerprint_sha256 = EXPECTED;
    cfg.epoch_ms = fixed_clock;
    cfg.session_store = &store;
    cfg.profile = profile;
    if (tls_transport_init(tls, &lower, &cfg, tls_buf, sizeof tls_buf) != 0) fail("init");
    memset(&store, 0xa5, sizeof store);
    tls_x509_prepare(&tls->x509, host, 1767225600);

    memcpy(before, tls, sizeof *tls);
    store_before = store;
    const br_x509_class **v = &tls->x509.vtable;
    /* PIN / FINGERPRINT use the certificate hash and the decoder at the start of the union (u.key):
       nothing may be written past the decoder's end. */
    const size_t dec_end = offsetof(tls_x509_ctx, u.key.decoder) + sizeof(br_x509_decoder_context);

    (*v)->start_chain(v, host);
    size_t at = 0;
    int first = 1;
    while (at < size) {
        size_t len = size - at;
        if (size - at >= 2) {
            size_t declared = (size_t)data[at] << 8 | data[at + 1];
            if (declared + 2 <= size - at) {
                len = declared;
                at += 2;
            }
        }
        (*v)->start_cert(v, (uint32_t)len);
        if (first && mode != TLS_MODE_CA) { memset((uint8_t *)&tls->x509 + dec_end, 0x3c, sizeof tls->x509 - dec_end); }
        for (size_t off = 0; off < len;) {
            size_t n = 1 + next_rand(&seed) % 97;
            if (n > len - off) n = len - off;
            (*v)->append(v, data + at + off, n);
            off += n;
        }
        (*v)->end_cert(v);
        at += len;
        first = 0;
    }
    const unsigned err = (*v)->end_chain(v);
    unsigned usages = 0;
    if (err == 0) (void)(*v)->get_pkey(v, &usages);

    /* Nothing outside the x509 context moved. */
    const size_t x_off = offsetof(tls_transport, x509);
    if (memcmp(before, tls, x_off) != 0) fail("transport state before x509 changed");
    if (memcmp(before + x_off + sizeof(tls_x509_ctx), (uint8_t *)tls + x_off + sizeof(tls_x509_ctx),
               sizeof *tls - x_off - sizeof(tls_x509_ctx)) != 0) {
        fail("transport state after x509 changed");
    }
    if (memcmp(&store_before, &store, sizeof store) != 0) fail("session store changed");
    if (mode != TLS_MODE_CA && size > 0) {
        const uint8_t *p = (const uint8_t *)&tls->x509;
        for (size_t i = dec_end; i < sizeof tls->x509; i++) {
            if (p[i] != 0x3c) fail("x509 context written past the decoder");
        }
    }
    /* A verdict the test cannot fake: a random chain never verifies against these anchors. */
    if (err == 0 && mode == TLS_MODE_CA) fail("a random chain verified in CA mode");
    return 0;
}
