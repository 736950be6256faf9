/*
 * tls_cert.h - what the TLS transport reads from the broker's certificate itself.
 *
 * BearSSL's minimal X.509 engine validates the chain, but it matches only dNSName
 * subjectAltNames (a node that connects by IP would fail, or check no name at all), it
 * reports "expired" and "not yet valid" with one error code, and it does not expose the
 * certificate's SubjectPublicKeyInfo bytes that a key pin is computed over.
 *
 * It also ignores what a certificate is *for*: BearSSL's X.509 engine does not look at the
 * extended key usage (a device's clientAuth-only certificate from the same CA would pass as
 * the broker's), it accepts an end-entity certificate that says CA:TRUE, and it matches the
 * host name against the Common Name as well as the SANs (RFC 6125 says SANs only).
 *
 * tls_cert_walker fills those gaps by streaming over the end-entity certificate's DER as
 * the handshake delivers it (no copy of the certificate is kept: that would cost ~1 KB
 * of RAM on the ESP8266). It follows only the path it needs:
 *   Certificate > TBSCertificate > validity (notBefore, notAfter)
 *                                > subjectPublicKeyInfo (hashed with SHA-256 for PIN mode)
 *                                > [3] extensions > subjectAltName > dNSName, iPAddress entries
 *                                                 > basicConstraints > cA
 *                                                 > extKeyUsage > key purpose OIDs
 * and skips everything else. Every byte it keeps goes into a fixed-size field with a bound
 * check: the certificate comes from whoever answers on the broker's port.
 *
 * Portable core: no heap, no POSIX, BearSSL only for SHA-256.
 */
#ifndef TLS_CERT_H
#define TLS_CERT_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl/bearssl.h>

/* Longest IP address in binary form (IPv6). */
#define TLS_IP_MAX         16
/* Deepest nesting the walker follows: cert, tbs, [3], exts, ext, octets, names/sequence. */
#define TLS_CERT_MAX_DEPTH 8

/*
 * Parses a textual IP address ("192.168.1.10", "::1", "fe80::1:2", "::ffff:10.0.0.1") into
 * network-order bytes. Returns 4 or 16, or 0 if `text` is not an IP literal (a host name).
 */
size_t tls_parse_ip(const char *text, uint8_t out[TLS_IP_MAX]);

/*
 * Converts an X.509 time string (UTCTime "YYMMDDHHMMSSZ" when `tag` is 0x17, GeneralizedTime
 * "YYYYMMDDHHMMSSZ" when it is 0x18) into seconds since the Unix epoch. Returns 0 on success,
 * -1 if the string is malformed (only the "Z" forms are valid in certificates, RFC 5280).
 */
int tls_x509_time_to_epoch(uint8_t tag, const uint8_t *s, size_t len, int64_t *out);

/* Seconds since the Unix epoch -> BearSSL's (days since 1 Jan 0 AD, seconds in day). */
void tls_epoch_to_bearssl(int64_t epoch_s, uint32_t *days, uint32_t *seconds);

/* -1 not yet valid, 0 valid, 1 expired: now is compared with [not_before, not_after]. */
int tls_validity_check(int64_t now_s, int64_t not_before_s, int64_t not_after_s);

/* Constant-time comparison of two 32-byte SHA-256 values; 1 when equal. */
int tls_sha256_equal(const uint8_t a[32], const uint8_t b[32]);

/* Parses 64 hex digits (":" and " " separators allowed) into 32 bytes; 0 on success. */
int tls_parse_sha256_hex(const char *hex, uint8_t out[32]);

typedef struct tls_cert_walker {
    /* Parser state. */
    uint32_t pos;                          /* bytes consumed */
    uint32_t end[TLS_CERT_MAX_DEPTH];      /* absolute end of each open container */
    uint8_t kind[TLS_CERT_MAX_DEPTH];      /* what each open container is (TLS_WK_*) */
    uint8_t index[TLS_CERT_MAX_DEPTH + 1]; /* children seen so far in each container */
    uint8_t depth;
    uint8_t state;
    uint8_t tag;
    uint8_t len_left;
    uint32_t len;
    uint32_t content_left;
    uint8_t action;
    uint8_t hdr[6]; /* the current element's tag and length bytes */
    uint8_t hdr_len;
    uint8_t has_version;
    uint8_t cap[TLS_IP_MAX]; /* captured primitive (OID, time, IP) */
    uint8_t cap_len;
    uint8_t cap_overflow;
    uint8_t ext_kind; /* the extension being read (TLS_EXT_*) */
    uint8_t hashing;
    uint8_t dns_ok;   /* the dNSName being read still matches want_name */
    uint8_t dns_wild; /* it began with "*" */
    uint32_t dns_pos; /* bytes of it read */
    uint32_t dns_off; /* bytes of want_name matched */

    /* What we look for. */
    uint8_t want_ip[TLS_IP_MAX];
    uint8_t want_ip_len;   /* 0: no IP check */
    const char *want_name; /* DNS name to match against dNSName SANs, or NULL */
    uint32_t want_name_len;

    /* Results. */
    int error;            /* 1 when the DER was not what a certificate is */
    int done;             /* 1 when the whole certificate was seen */
    uint8_t ip_san_count; /* iPAddress SANs seen */
    uint8_t ip_match;     /* 1 when one equals want_ip */
    uint8_t san_found;    /* a subjectAltName extension was present */
    uint8_t dns_match;    /* a dNSName SAN matches want_name (RFC 6125 rules) */
    uint8_t is_ca;        /* basicConstraints says cA TRUE */
    uint8_t eku_found;    /* an extKeyUsage extension was present */
    uint8_t eku_server;   /* ... and it lists id-kp-serverAuth */
    uint8_t spki_done;
    uint8_t spki_sha256[32];
    uint8_t validity_found; /* bit 0: notBefore, bit 1: notAfter */
    int64_t not_before;
    int64_t not_after;
    br_sha256_context spki_hash;
} tls_cert_walker;

/* Starts a walk over one certificate; `ip`/`ip_len` is the address to look for (or 0, 0),
   `name` the DNS name (or NULL; it must stay valid for the walk). */
void tls_cert_walker_init(tls_cert_walker *w, const uint8_t *ip, size_t ip_len, const char *name);
/* Feeds the next `len` bytes of the certificate's DER. */
void tls_cert_walker_push(tls_cert_walker *w, const uint8_t *data, size_t len);

#endif
