/*
 * tls_cert_fuzz.cpp - libFuzzer target for the helpers of lib/tls/tls_cert.cpp, called directly:
 * the streaming DER walker that reads the broker's certificate off the network, and the text and
 * time parsers next to it.
 *
 * Input: byte 0 picks what the walker looks for (a DNS name, an IPv4 or IPv6 address, nothing),
 * bytes 1..4 seed the chunk sizes, the rest is the certificate's DER.
 *   - tls_cert_walker_push: the whole certificate in one push, in pieces of pseudo-random size,
 *     and byte by byte give exactly the same results (every result field, the SPKI hash too),
 *     each from a heap copy of the input so ASan sees a read past it. Results stay in range.
 *   - tls_parse_ip on the input as text agrees with inet_pton (both ways, same bytes).
 *   - tls_x509_time_to_epoch on every 13- and 15-byte window agrees with timegm() and a
 *     strict reading of RFC 5280 ("YYMMDDHHMMSSZ" / "YYYYMMDDHHMMSSZ", real dates only).
 *   - tls_parse_sha256_hex agrees with a plain reading: 64 hex digits, ':' and ' ' ignored.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tls_cert.h"

namespace {

void fail(const char *what) {
    fprintf(stderr, "tls_cert_fuzz: %s\n", what);
    abort();
}

uint32_t next_rand(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Everything the transport reads from a walk (not the parser's internal state). */
void same_results(const tls_cert_walker &a, const tls_cert_walker &b, const char *what) {
    if (a.error != b.error || a.done != b.done || a.ip_san_count != b.ip_san_count || a.ip_match != b.ip_match ||
        a.san_found != b.san_found || a.dns_match != b.dns_match || a.is_ca != b.is_ca || a.eku_found != b.eku_found ||
        a.eku_server != b.eku_server || a.spki_done != b.spki_done || a.validity_found != b.validity_found ||
        a.pos != b.pos) {
        fail(what);
    }
    if (a.spki_done && memcmp(a.spki_sha256, b.spki_sha256, 32) != 0) fail(what);
    if ((a.validity_found & 1) && a.not_before != b.not_before) fail(what);
    if ((a.validity_found & 2) && a.not_after != b.not_after) fail(what);
}

void check_ranges(const tls_cert_walker &w) {
    if (w.depth > TLS_CERT_MAX_DEPTH || w.cap_len > TLS_IP_MAX || w.validity_found > 3)
        fail("walker state out of range");
    if (w.error != 0 && w.error != 1) fail("error flag");
    if (w.ip_match && w.want_ip_len == 0) fail("an IP matched when none was asked for");
    if (w.dns_match && w.want_name == NULL) fail("a name matched when none was asked for");
    if ((w.dns_match && !w.san_found) || (w.ip_match && !w.san_found)) fail("a SAN matched without a SAN extension");
    if (w.eku_server && !w.eku_found) fail("serverAuth without an EKU extension");
}

void walk(tls_cert_walker *w, const uint8_t *ip, size_t ip_len, const char *name, const uint8_t *der, size_t len,
          int how, uint32_t seed) {
    tls_cert_walker_init(w, ip, ip_len, name);
    if (how == 0) {
        tls_cert_walker_push(w, der, len);
    } else {
        for (size_t off = 0; off < len;) {
            size_t n = how == 1 ? 1 + next_rand(&seed) % 61 : 1;
            if (n > len - off) n = len - off;
            tls_cert_walker_push(w, der + off, n);
            off += n;
        }
    }
    tls_cert_walker_push(w, der + len, 0); /* an empty push changes nothing */
    check_ranges(*w);
}

void check_parse_ip(const char *text) {
    uint8_t ours[TLS_IP_MAX], theirs[16];
    memset(ours, 0xee, sizeof ours);
    const size_t n = tls_parse_ip(text, ours);
    if (n != 0 && n != 4 && n != 16) fail("tls_parse_ip length");
    int v4 = inet_pton(AF_INET, text, theirs);
    if (v4 == 1) {
        if (n != 4 || memcmp(ours, theirs, 4) != 0) fail("tls_parse_ip disagrees with inet_pton (IPv4)");
        return;
    }
    int v6 = inet_pton(AF_INET6, text, theirs);
    if (v6 == 1) {
        if (n != 16 || memcmp(ours, theirs, 16) != 0) fail("tls_parse_ip disagrees with inet_pton (IPv6)");
        return;
    }
    if (n != 0) fail("tls_parse_ip accepted what inet_pton refuses");
}

bool digits(const uint8_t *s, size_t n, int *out) {
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

void check_time(uint8_t tag, const uint8_t *s, size_t len) {
    int64_t ours = -12345;
    const int rc = tls_x509_time_to_epoch(tag, s, len, &ours);
    /* The reference: strict fields, then timegm() for the seconds (it would normalise a 31 April
       into 1 May: reject what does not come back unchanged). */
    bool valid = false;
    int64_t want = 0;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    size_t yl = tag == 0x17 ? 2 : 4;
    if (((tag == 0x17 && len == 13) || (tag == 0x18 && len == 15)) && s[len - 1] == 'Z' && digits(s, yl, &y) &&
        digits(s + yl, 2, &mo) && digits(s + yl + 2, 2, &d) && digits(s + yl + 4, 2, &h) &&
        digits(s + yl + 6, 2, &mi) && digits(s + yl + 8, 2, &se)) {
        if (tag == 0x17) y += y >= 50 ? 1900 : 2000;
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = se;
        time_t t = timegm(&tm);
        valid = mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && se <= 59 && tm.tm_mon == mo - 1 &&
                tm.tm_mday == d && tm.tm_year == y - 1900;
        want = (int64_t)t;
    }
    if (valid != (rc == 0))
        fail(valid ? "tls_x509_time_to_epoch refused a valid time" : "tls_x509_time_to_epoch accepted an invalid time");
    if (valid && ours != want) fail("tls_x509_time_to_epoch disagrees with timegm");
    if (!valid && ours != -12345) fail("tls_x509_time_to_epoch wrote its output on failure");
}

void check_sha256_hex(const char *text) {
    uint8_t ours[32], want[32];
    const int rc = tls_parse_sha256_hex(text, ours);
    int n = 0, hi = -1;
    bool ok = true;
    for (const char *p = text; *p && ok; p++) {
        if (*p == ':' || *p == ' ') continue;
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else {
            ok = false;
            break;
        }
        if (n == 32) {
            ok = false;
            break;
        }
        if (hi < 0)
            hi = v;
        else {
            want[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    ok = ok && n == 32 && hi < 0;
    if (ok != (rc == 0)) fail("tls_parse_sha256_hex verdict");
    if (ok && memcmp(ours, want, 32) != 0) fail("tls_parse_sha256_hex bytes");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 5) return 0;
    static const char *const names[] = {"broker.test", "localhost", "a.b.c.example.org", NULL};
    static const uint8_t ip4[4] = {127, 0, 0, 1};
    static const uint8_t ip6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const char *name = names[data[0] & 3];
    const uint8_t *ip = ((data[0] >> 2) & 3) == 1 ? ip4 : ((data[0] >> 2) & 3) == 2 ? ip6 : NULL;
    const size_t ip_len = ip == ip4 ? 4 : ip == ip6 ? 16 : 0;
    const uint32_t seed = ((uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4]) | 1;

    const size_t len = size - 5;
    uint8_t *der = (uint8_t *)malloc(len ? len : 1);
    memcpy(der, data + 5, len);
    static tls_cert_walker one, chunked, bytewise;
    walk(&one, ip, ip_len, name, der, len, 0, seed);
    walk(&chunked, ip, ip_len, name, der, len, 1, seed);
    same_results(one, chunked, "one push and random pieces disagree");
    if (len <= 4096) {
        walk(&bytewise, ip, ip_len, name, der, len, 2, seed);
        same_results(one, bytewise, "one push and byte by byte disagree");
    }
    free(der);

    /* The same bytes as text for the string parsers (NUL-terminated copy). */
    const size_t tlen = len < 256 ? len : 256;
    char *text = (char *)malloc(tlen + 1);
    memcpy(text, data + 5, tlen);
    text[tlen] = 0;
    check_parse_ip(text);
    check_sha256_hex(text);
    free(text);
    for (size_t off = 0; off + 13 <= len && off < 64; off++) {
        for (size_t n = 13; n <= 15 && off + n <= len; n += 2) { /* exact-size copies: ASan sees a read past */
            uint8_t *w = (uint8_t *)malloc(n);
            memcpy(w, data + 5 + off, n);
            check_time(n == 13 ? 0x17 : 0x18, w, n);
            free(w);
        }
    }
    return 0;
}
