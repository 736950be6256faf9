/*
 * tls_cert.cpp - streaming reads of the broker certificate (see tls_cert.h for why).
 */
#include "tls_cert.h"

#include <string.h>

/* ---------------------------------------------------------------- IP literals */

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Dotted quad, exactly four decimal parts 0..255 without leading zeros (as inet_pton);
   `*end` gets the first byte after it. "010" is refused because the resolver (inet_aton,
   getaddrinfo) reads it as octal 8: we would check one address and connect to another. */
static int parse_ipv4(const char *p, uint8_t out[4], const char **end) {
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (*p != '.') return -1;
            p++;
        }
        int digits = 0;
        unsigned v = 0;
        while (*p >= '0' && *p <= '9') {
            if (digits == 1 && v == 0) return -1; /* leading zero */
            v = v * 10 + (unsigned)(*p - '0');
            if (++digits > 3 || v > 255) return -1;
            p++;
        }
        if (digits == 0) return -1;
        out[part] = (uint8_t)v;
    }
    *end = p;
    return 0;
}

static size_t parse_ipv6(const char *p, uint8_t out[16]) {
    uint16_t groups[8];
    int n = 0;
    int gap = -1; /* where "::" stands, in groups */

    if (p[0] == ':') {
        if (p[1] != ':') return 0;
        gap = 0;
        p += 2;
    }
    while (*p != '\0') {
        const char *start = p;
        unsigned v = 0;
        int digits = 0;
        while (hex_value(*p) >= 0) {
            v = (v << 4) | (unsigned)hex_value(*p);
            if (++digits > 4) return 0;
            p++;
        }
        if (*p == '.') {
            /* An IPv4 tail ("::ffff:10.0.0.1") fills the last two groups. */
            uint8_t v4[4];
            const char *end;
            if (n > 6 || parse_ipv4(start, v4, &end) != 0 || *end != '\0') return 0;
            groups[n++] = (uint16_t)((v4[0] << 8) | v4[1]);
            groups[n++] = (uint16_t)((v4[2] << 8) | v4[3]);
            p = end;
            break;
        }
        if (digits == 0 || n == 8) return 0;
        groups[n++] = (uint16_t)v;
        if (*p == ':') {
            if (p[1] == ':') {
                if (gap >= 0) return 0; /* "::" may appear once */
                gap = n;
                p += 2;
            } else {
                p++;
                if (*p == '\0') return 0; /* trailing single ':' */
            }
        } else if (*p != '\0') {
            return 0; /* zone ids ("%eth0") and anything else are not accepted */
        }
    }
    if (gap < 0 && n != 8) return 0;
    if (gap >= 0 && n > 7) return 0;

    int fill = 8 - n;
    int o = 0;
    for (int i = 0; i < n; i++) {
        if (i == gap) {
            for (int k = 0; k < fill; k++) {
                out[o++] = 0;
                out[o++] = 0;
            }
        }
        out[o++] = (uint8_t)(groups[i] >> 8);
        out[o++] = (uint8_t)groups[i];
    }
    if (gap == n) {
        for (int k = 0; k < fill; k++) {
            out[o++] = 0;
            out[o++] = 0;
        }
    }
    return 16;
}

size_t tls_parse_ip(const char *text, uint8_t out[TLS_IP_MAX]) {
    if (text == NULL || *text == '\0') return 0;
    if (strchr(text, ':') != NULL) return parse_ipv6(text, out);
    const char *end;
    if (parse_ipv4(text, out, &end) != 0 || *end != '\0') return 0;
    return 4;
}

/* ---------------------------------------------------------------- time */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
   days_from_civil): exact for every date a certificate can carry (years 0 to 9999), no tables,
   in 32-bit arithmetic (the ESP8266 has no 64-bit divide). */
static int32_t days_from_civil(int32_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int32_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

int tls_x509_time_to_epoch(uint8_t tag, const uint8_t *s, size_t len, int64_t *out) {
    /* UTCTime YYMMDDhhmmssZ (13 bytes) or GeneralizedTime YYYYMMDDhhmmssZ (15): one loop reads
       the year, then five two-digit fields (one parser, not one per field: flash). */
    const size_t ylen = tag == 0x17 ? 2 : 4;
    if (!((tag == 0x17 && len == 13) || (tag == 0x18 && len == 15)) || s[len - 1] != 'Z') return -1;
    unsigned v[6] = {0, 0, 0, 0, 0, 0}; /* year, month, day, hour, minute, second */
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        const size_t k = i < ylen ? 0 : 1 + (i - ylen) / 2;
        v[k] = v[k] * 10 + (unsigned)(s[i] - '0');
    }
    unsigned year = v[0];
    const unsigned mon = v[1], day = v[2];
    if (ylen == 2) year += year >= 50 ? 1900 : 2000; /* UTCTime: YY >= 50 is 19YY (RFC 5280 4.1.2.5.1) */
    static const uint8_t mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || v[3] > 23 || v[4] > 59 || v[5] > 59) { return -1; }
    const int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (mon == 2 && day == 29 && !leap) return -1;

    *out = (int64_t)days_from_civil((int32_t)year, mon, day) * 86400 + (int32_t)(v[3] * 3600 + v[4] * 60 + v[5]);
    return 0;
}

void tls_epoch_to_bearssl(int64_t epoch_s, uint32_t *days, uint32_t *seconds) {
    /* 719528 = days from 1 Jan 0 AD to 1 Jan 1970; the clock is known to be after 2020. */
    int64_t d = epoch_s / 86400;
    int64_t r = epoch_s % 86400;
    if (r < 0) {
        r += 86400;
        d -= 1;
    }
    *days = (uint32_t)(d + 719528);
    *seconds = (uint32_t)r;
}

int tls_validity_check(int64_t now_s, int64_t not_before_s, int64_t not_after_s) {
    if (now_s < not_before_s) return -1;
    if (now_s > not_after_s) return 1;
    return 0;
}

int tls_sha256_equal(const uint8_t a[32], const uint8_t b[32]) {
    uint8_t diff = 0;
    for (int i = 0; i < 32; i++) diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}

int tls_parse_sha256_hex(const char *hex, uint8_t out[32]) {
    int n = 0;
    int hi = -1;
    if (hex == NULL) return -1;
    for (const char *p = hex; *p != '\0'; p++) {
        if (*p == ':' || *p == ' ') continue;
        int v = hex_value(*p);
        if (v < 0 || n == 32) return -1;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)((hi << 4) | v);
            hi = -1;
        }
    }
    return (n == 32 && hi < 0) ? 0 : -1;
}

/* ---------------------------------------------------------------- DER walker */

enum { ST_TAG, ST_LEN0, ST_LENN, ST_CONTENT };
enum { A_SKIP, A_ENTER, A_CAP_OID, A_CAP_NOT_BEFORE, A_CAP_NOT_AFTER, A_CAP_IP, A_DNS, A_CAP_CA, A_CAP_PURPOSE };
enum {
    WK_NONE,
    WK_CERT,
    WK_TBS,
    WK_VALIDITY,
    WK_EXT_WRAP,
    WK_EXTS,
    WK_EXT,
    WK_EXT_OCTETS,
    WK_NAMES,
    WK_BASIC,
    WK_PURPOSES
};
enum { TLS_EXT_OTHER, TLS_EXT_SAN, TLS_EXT_BASIC, TLS_EXT_EKU };

/* The extensions the walker reads, by OID content bytes. */
static const uint8_t OID_SAN[3] = {0x55, 0x1D, 0x11};   /* id-ce-subjectAltName 2.5.29.17 */
static const uint8_t OID_BASIC[3] = {0x55, 0x1D, 0x13}; /* id-ce-basicConstraints 2.5.29.19 */
static const uint8_t OID_EKU[3] = {0x55, 0x1D, 0x25};   /* id-ce-extKeyUsage 2.5.29.37 */
/* id-kp-serverAuth, 1.3.6.1.5.5.7.3.1 */
static const uint8_t OID_SERVER_AUTH[8] = {0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};

void tls_cert_walker_init(tls_cert_walker *w, const uint8_t *ip, size_t ip_len, const char *name) {
    memset(w, 0, sizeof *w);
    if (ip != NULL && (ip_len == 4 || ip_len == 16)) {
        memcpy(w->want_ip, ip, ip_len);
        w->want_ip_len = (uint8_t)ip_len;
    }
    if (name != NULL && name[0] != '\0') {
        w->want_name = name;
        w->want_name_len = (uint32_t)strlen(name);
    }
}

static int cap_is(const tls_cert_walker *w, const uint8_t *oid, size_t len) {
    return !w->cap_overflow && w->cap_len == len && memcmp(w->cap, oid, len) == 0;
}

static uint8_t lower_ascii(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

/*
 * One byte of a dNSName SAN, compared with want_name as it streams by (RFC 6125 6.4): equal
 * ignoring ASCII case, or "*." + the rest, where "*" stands for exactly the first label of
 * want_name (not empty, no dot): the same wildcard rule as BearSSL's engine.
 */
static void dns_step(tls_cert_walker *w, uint8_t b) {
    const uint32_t at = w->dns_pos++;
    if (!w->dns_ok) return;
    if (at == 0 && b == '*') {
        w->dns_wild = 1;
        return;
    }
    if (at == 1 && w->dns_wild) {
        /* "*." : skip want_name's first label, which must exist and not be empty */
        uint32_t dot = 0;
        while (dot < w->want_name_len && w->want_name[dot] != '.') dot++;
        if (b != '.' || dot == 0 || dot == w->want_name_len) {
            w->dns_ok = 0;
            return;
        }
        w->dns_off = dot + 1;
        return;
    }
    if (w->dns_off >= w->want_name_len || lower_ascii(b) != lower_ascii((uint8_t)w->want_name[w->dns_off])) {
        w->dns_ok = 0;
        return;
    }
    w->dns_off++;
}

/* Decides what to do with the element whose header was just read; sets *kind for ENTER. */
static int classify(tls_cert_walker *w, uint8_t *kind) {
    const uint8_t parent = w->depth == 0 ? (uint8_t)WK_NONE : w->kind[w->depth - 1];
    const uint8_t idx = w->index[w->depth];
    if (w->index[w->depth] < 255) w->index[w->depth]++;
    const uint8_t tag = w->tag;

    switch (parent) {
        case WK_NONE:
            if (idx != 0 || tag != 0x30) break;
            *kind = WK_CERT;
            return A_ENTER;
        case WK_CERT:
            if (idx != 0) return A_SKIP; /* signatureAlgorithm, signatureValue */
            if (tag != 0x30) break;
            *kind = WK_TBS;
            return A_ENTER;
        case WK_TBS: {
            if (idx == 0 && tag == 0xA0) { /* [0] version */
                w->has_version = 1;
                return A_SKIP;
            }
            const int k = idx - w->has_version; /* serial, sigalg, issuer, validity, subject, spki */
            if (k == 3) {
                if (tag != 0x30) break;
                *kind = WK_VALIDITY;
                return A_ENTER;
            }
            if (k == 5) {
                if (tag != 0x30) break;
                /* The pin covers the whole SubjectPublicKeyInfo TLV, header included. */
                br_sha256_init(&w->spki_hash);
                br_sha256_update(&w->spki_hash, w->hdr, w->hdr_len);
                w->hashing = 1;
                return A_SKIP;
            }
            if (tag == 0xA3) {
                *kind = WK_EXT_WRAP;
                return A_ENTER;
            }
            return A_SKIP;
        }
        case WK_VALIDITY:
            if (tag != 0x17 && tag != 0x18) break;
            if (idx == 0) return A_CAP_NOT_BEFORE;
            if (idx == 1) return A_CAP_NOT_AFTER;
            break;
        case WK_EXT_WRAP:
            if (tag != 0x30) break;
            *kind = WK_EXTS;
            return A_ENTER;
        case WK_EXTS:
            if (tag != 0x30) break;
            w->ext_kind = TLS_EXT_OTHER;
            *kind = WK_EXT;
            return A_ENTER;
        case WK_EXT:
            if (idx == 0) return tag == 0x06 ? A_CAP_OID : -1;
            if (tag == 0x04 && w->ext_kind != TLS_EXT_OTHER) {
                /* extnValue wraps the DER of the extension's value */
                *kind = WK_EXT_OCTETS;
                return A_ENTER;
            }
            return A_SKIP; /* the critical flag, or an extension we do not read */
        case WK_EXT_OCTETS:
            if (tag != 0x30) break;
            /* GeneralNames, BasicConstraints and ExtKeyUsageSyntax are each one SEQUENCE */
            *kind = w->ext_kind == TLS_EXT_SAN ? WK_NAMES : w->ext_kind == TLS_EXT_BASIC ? WK_BASIC : WK_PURPOSES;
            return A_ENTER;
        case WK_NAMES:
            if (tag == 0x87) return A_CAP_IP; /* [7] iPAddress OCTET STRING */
            if (tag == 0x82) {                /* [2] dNSName IA5String */
                w->dns_pos = 0;
                w->dns_off = 0;
                w->dns_wild = 0;
                w->dns_ok = w->want_name != NULL;
                return A_DNS;
            }
            return A_SKIP;
        case WK_BASIC:
            if (idx == 0 && tag == 0x01) return A_CAP_CA; /* cA BOOLEAN (absent: FALSE) */
            return A_SKIP;                                /* pathLenConstraint */
        case WK_PURPOSES:
            if (tag != 0x06) break;
            return A_CAP_PURPOSE;
        default: break;
    }
    return -1;
}

/* Closes every container that ends at the current position. */
static void pop_finished(tls_cert_walker *w) {
    while (w->depth > 0 && w->end[w->depth - 1] == w->pos) {
        w->depth--;
        if (w->depth == 0) w->done = 1;
    }
}

static void finish_element(tls_cert_walker *w) {
    switch (w->action) {
        case A_CAP_OID:
            w->ext_kind = cap_is(w, OID_SAN, sizeof OID_SAN)       ? TLS_EXT_SAN
                          : cap_is(w, OID_BASIC, sizeof OID_BASIC) ? TLS_EXT_BASIC
                          : cap_is(w, OID_EKU, sizeof OID_EKU)     ? TLS_EXT_EKU
                                                                   : TLS_EXT_OTHER;
            if (w->ext_kind == TLS_EXT_SAN) w->san_found = 1;
            if (w->ext_kind == TLS_EXT_EKU) w->eku_found = 1;
            break;
        case A_DNS:
            /* the whole name matched; after "*." at least one more byte (a bare "*." names nothing) */
            if (w->dns_ok && w->dns_off == w->want_name_len && w->dns_pos > (w->dns_wild ? 2u : 0u)) {
                w->dns_match = 1;
            }
            break;
        case A_CAP_CA:
            /* DER encodes TRUE as 0xFF; anything non-zero is read as TRUE, the safe side here */
            if (w->cap_overflow || w->cap_len != 1) {
                w->error = 1;
                return;
            }
            if (w->cap[0] != 0) w->is_ca = 1;
            break;
        case A_CAP_PURPOSE:
            if (cap_is(w, OID_SERVER_AUTH, sizeof OID_SERVER_AUTH)) w->eku_server = 1;
            break;
        case A_CAP_NOT_BEFORE:
        case A_CAP_NOT_AFTER: {
            int64_t t;
            if (w->cap_overflow || tls_x509_time_to_epoch(w->tag, w->cap, w->cap_len, &t) != 0) {
                w->error = 1;
                return;
            }
            if (w->action == A_CAP_NOT_BEFORE) {
                w->not_before = t;
                w->validity_found |= 1;
            } else {
                w->not_after = t;
                w->validity_found |= 2;
            }
            break;
        }
        case A_CAP_IP:
            if (!w->cap_overflow && (w->cap_len == 4 || w->cap_len == 16)) {
                if (w->ip_san_count < 255) w->ip_san_count++;
                if (w->want_ip_len == w->cap_len && memcmp(w->cap, w->want_ip, w->cap_len) == 0) { w->ip_match = 1; }
            }
            break;
        default: break;
    }
    if (w->hashing) {
        br_sha256_out(&w->spki_hash, w->spki_sha256);
        w->hashing = 0;
        w->spki_done = 1;
    }
    w->state = ST_TAG;
    pop_finished(w);
}

static void header_done(tls_cert_walker *w) {
    uint8_t kind = WK_NONE;
    int a = classify(w, &kind);
    if (a < 0 || w->len > 0x00FFFFFFu) {
        w->error = 1;
        return;
    }
    const uint32_t end = w->pos + w->len;
    if (w->depth > 0 && end > w->end[w->depth - 1]) {
        w->error = 1; /* child runs past its parent */
        return;
    }
    w->action = (uint8_t)a;
    if (a == A_ENTER) {
        if (w->depth == TLS_CERT_MAX_DEPTH) {
            w->error = 1;
            return;
        }
        w->end[w->depth] = end;
        w->kind[w->depth] = kind;
        w->depth++;
        w->index[w->depth] = 0;
        w->state = ST_TAG;
        pop_finished(w); /* an empty container */
        return;
    }
    w->cap_len = 0;
    w->cap_overflow = 0;
    w->content_left = w->len;
    w->state = ST_CONTENT;
    if (w->len == 0) finish_element(w);
}

void tls_cert_walker_push(tls_cert_walker *w, const uint8_t *data, size_t len) {
    size_t i = 0;
    while (i < len && !w->error) {
        if (w->done) {
            w->error = 1; /* bytes after the certificate */
            return;
        }
        if (w->state == ST_CONTENT) {
            size_t n = len - i;
            if (n > w->content_left) n = w->content_left;
            if (w->hashing) br_sha256_update(&w->spki_hash, data + i, n);
            if (w->action == A_DNS) {
                for (size_t k = 0; k < n; k++) dns_step(w, data[i + k]);
            } else if (w->action != A_SKIP) {
                for (size_t k = 0; k < n; k++) {
                    if (w->cap_len < sizeof w->cap) {
                        w->cap[w->cap_len++] = data[i + k];
                    } else {
                        w->cap_overflow = 1;
                    }
                }
            }
            i += n;
            w->pos += (uint32_t)n;
            w->content_left -= (uint32_t)n;
            if (w->content_left == 0) finish_element(w);
            continue;
        }

        const uint8_t b = data[i++];
        w->pos++;
        if (w->hashing) br_sha256_update(&w->spki_hash, &b, 1);
        switch (w->state) {
            case ST_TAG:
                if ((b & 0x1F) == 0x1F) { /* multi-byte tags never occur in certificates */
                    w->error = 1;
                    return;
                }
                w->tag = b;
                w->hdr[0] = b;
                w->hdr_len = 1;
                w->state = ST_LEN0;
                break;
            case ST_LEN0:
                w->hdr[w->hdr_len++] = b;
                if (b < 0x80) {
                    w->len = b;
                    header_done(w);
                } else if (b == 0x80 || b > 0x84) { /* indefinite (not DER) or absurd */
                    w->error = 1;
                } else {
                    w->len_left = (uint8_t)(b & 0x7F);
                    w->len = 0;
                    w->state = ST_LENN;
                }
                break;
            case ST_LENN:
                w->hdr[w->hdr_len++] = b;
                w->len = (w->len << 8) | b;
                if (--w->len_left == 0) header_done(w);
                break;
            default: w->error = 1; break;
        }
    }
}
