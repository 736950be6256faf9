/*
 * tls_errors.h - every way a TLS connection can fail, as a stable name and a fix.
 *
 * BearSSL reports numbers (54 means "expired OR not yet valid"); users see names in the log
 * and tests assert them, so the names here are a contract: X509_EXPIRED, X509_NOT_YET_VALID,
 * X509_BAD_SERVER_NAME, X509_BAD_SERVER_IP, X509_NOT_TRUSTED, X509_NOT_SERVER_CERT,
 * X509_NO_SAN, X509_LEAF_IS_CA, X509_CERT_UNREADABLE, SERVER_NOT_TLS, SERVER_SILENT, HANDSHAKE_TIMEOUT, PIN_MISMATCH, FINGERPRINT_MISMATCH, CLOCK_NOT_SET, TLS_VERSION_UNSUPPORTED, SERVER_ALERT_<name>, and
 * BearSSL's own error names (without the BR_ERR_ prefix) for the rest.
 */
#ifndef TLS_ERRORS_H
#define TLS_ERRORS_H

#include <stdint.h>

/* Failures the transport decides itself, on top of BearSSL's error codes. tls_errors.cpp names
   them by position (OWN_NAMES): a new reason goes last, with its name at the end of that list. */
typedef enum tls_reason {
    TLS_REASON_NONE = 0,
    TLS_REASON_BEARSSL,              /* use the BearSSL error code */
    TLS_REASON_CLOCK_NOT_SET,        /* CA mode and the wall clock is not set (no NTP yet) */
    TLS_REASON_NOT_YET_VALID,        /* BearSSL said "expired"; the broker cert starts in the future */
    TLS_REASON_EXPIRED,              /* BearSSL said "expired"; the broker cert ended in the past */
    TLS_REASON_BAD_SERVER_IP,        /* connected by IP; no iPAddress SAN matches */
    TLS_REASON_PIN_MISMATCH,         /* SHA-256 of the SPKI differs from the pin */
    TLS_REASON_FINGERPRINT_MISMATCH, /* SHA-256 of the certificate differs from the fingerprint */
    TLS_REASON_VERSION,              /* the server does not speak TLS 1.2 */
    TLS_REASON_CLOSED_IN_HANDSHAKE,  /* TCP closed before the handshake finished, without an alert */
    TLS_REASON_BAD_CONFIG,           /* the transport is configured wrongly (no CA, no pin, buffer) */
    TLS_REASON_NOT_SERVER_CERT,      /* extended key usage without serverAuth (e.g. a device certificate) */
    TLS_REASON_NO_SAN,               /* no subjectAltName: the name would rest on the Common Name */
    TLS_REASON_LEAF_IS_CA,           /* the broker's own certificate says CA:TRUE */
    TLS_REASON_CERT_UNREADABLE,      /* the broker certificate's DER is not what a certificate is */
    TLS_REASON_NOT_TLS,              /* the server answered with bytes that are no TLS record (HTTP, ...) */
    TLS_REASON_SERVER_SILENT,        /* given up (connect timeout) with not one byte from the server */
    TLS_REASON_HANDSHAKE_TIMEOUT     /* given up (connect timeout) in the middle of the handshake */
} tls_reason;

/* The hints (tls_hints.def) are linked where flash is plentiful (the native node) and left to the
   host on the chip: there the log line names the failure and says where its fix is
   (`doctor --explain NAME`), which saves about 3 KB of flash (bench/results.md). -DTLS_ERROR_HINTS=1
   puts them back on the chip. */
#ifndef TLS_ERROR_HINTS
#if defined(ESP8266) && !defined(CORE_MOCK)
#define TLS_ERROR_HINTS 0
#else
#define TLS_ERROR_HINTS 1
#endif
#endif

/* Name for a failure: `reason`, and for TLS_REASON_BEARSSL the BearSSL error code. Names and
   hints are FLASH_STRs (lib/port/flash_str.h): in flash on the ESP8266, read with flash_char(). */
const char *tls_error_name(tls_reason reason, int bearssl_err);
/* One line telling the user what to do about it ("" if there is nothing useful to say, and
   always "" without TLS_ERROR_HINTS). The hint of the failure's name, from tls_hints.def. */
const char *tls_error_hint(tls_reason reason, int bearssl_err);

#endif
