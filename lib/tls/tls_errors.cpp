/*
 * tls_errors.cpp - names and fixes for TLS failures (contract in tls_errors.h).
 *
 * The hints (tls_hints.def) follow the troubleshooting guide (set the time, check the SANs,
 * check the CA) but say which of them applies, because the name already tells us.
 */
#include "tls_errors.h"

#include <bearssl/bearssl.h>

#include "flash_str.h"

/* Every name and hint is a FLASH_STR and the tables are FLASH_TABLEs: on the ESP8266 they stay
   in flash, so callers read them with flash_char() / tb_str() (flash_str.h). The names are packed
   one after another (no fixed-width slots: 0.9 KB less flash than a table of char[26]). */

/* BearSSL's error codes (bearssl_ssl.h, bearssl_x509.h): BR_ERR_<name> is named "<name>". */
#define BEARSSL_ERRORS(X)                                                                                              \
    X(BAD_PARAM)                                                                                                       \
    X(BAD_STATE)                                                                                                       \
    X(UNSUPPORTED_VERSION)                                                                                             \
    X(BAD_VERSION)                                                                                                     \
    X(BAD_LENGTH)                                                                                                      \
    X(TOO_LARGE)                                                                                                       \
    X(BAD_MAC)                                                                                                         \
    X(NO_RANDOM)                                                                                                       \
    X(UNKNOWN_TYPE)                                                                                                    \
    X(UNEXPECTED)                                                                                                      \
    X(BAD_CCS)                                                                                                         \
    X(BAD_ALERT)                                                                                                       \
    X(BAD_HANDSHAKE)                                                                                                   \
    X(OVERSIZED_ID)                                                                                                    \
    X(BAD_CIPHER_SUITE)                                                                                                \
    X(BAD_COMPRESSION)                                                                                                 \
    X(BAD_FRAGLEN)                                                                                                     \
    X(BAD_SECRENEG)                                                                                                    \
    X(EXTRA_EXTENSION)                                                                                                 \
    X(BAD_SNI)                                                                                                         \
    X(BAD_HELLO_DONE)                                                                                                  \
    X(LIMIT_EXCEEDED)                                                                                                  \
    X(BAD_FINISHED)                                                                                                    \
    X(RESUME_MISMATCH)                                                                                                 \
    X(INVALID_ALGORITHM)                                                                                               \
    X(BAD_SIGNATURE)                                                                                                   \
    X(WRONG_KEY_USAGE)                                                                                                 \
    X(NO_CLIENT_AUTH)                                                                                                  \
    X(IO)                                                                                                              \
    X(X509_INVALID_VALUE)                                                                                              \
    X(X509_TRUNCATED)                                                                                                  \
    X(X509_EMPTY_CHAIN)                                                                                                \
    X(X509_INNER_TRUNC)                                                                                                \
    X(X509_BAD_TAG_CLASS)                                                                                              \
    X(X509_BAD_TAG_VALUE)                                                                                              \
    X(X509_INDEFINITE_LENGTH)                                                                                          \
    X(X509_EXTRA_ELEMENT)                                                                                              \
    X(X509_UNEXPECTED)                                                                                                 \
    X(X509_NOT_CONSTRUCTED)                                                                                            \
    X(X509_NOT_PRIMITIVE)                                                                                              \
    X(X509_PARTIAL_BYTE)                                                                                               \
    X(X509_BAD_BOOLEAN)                                                                                                \
    X(X509_OVERFLOW)                                                                                                   \
    X(X509_BAD_DN)                                                                                                     \
    X(X509_BAD_TIME)                                                                                                   \
    X(X509_UNSUPPORTED)                                                                                                \
    X(X509_LIMIT_EXCEEDED)                                                                                             \
    X(X509_WRONG_KEY_TYPE)                                                                                             \
    X(X509_BAD_SIGNATURE)                                                                                              \
    X(X509_TIME_UNKNOWN)                                                                                               \
    X(X509_EXPIRED)                                                                                                    \
    X(X509_DN_MISMATCH)                                                                                                \
    X(X509_BAD_SERVER_NAME)                                                                                            \
    X(X509_CRITICAL_EXTENSION)                                                                                         \
    X(X509_NOT_CA)                                                                                                     \
    X(X509_FORBIDDEN_KEY_USAGE)                                                                                        \
    X(X509_WEAK_PUBLIC_KEY)                                                                                            \
    X(X509_NOT_TRUSTED)

/* TLS alerts the broker may send us (RFC 5246 7.2, RFC 8446 6.2), named SERVER_ALERT_<name>. */
#define SERVER_ALERTS(X)                                                                                               \
    X(10, UNEXPECTED_MESSAGE)                                                                                          \
    X(20, BAD_RECORD_MAC)                                                                                              \
    X(40, HANDSHAKE_FAILURE)                                                                                           \
    X(42, BAD_CERTIFICATE)                                                                                             \
    X(43, UNSUPPORTED_CERTIFICATE)                                                                                     \
    X(44, CERTIFICATE_REVOKED)                                                                                         \
    X(45, CERTIFICATE_EXPIRED)                                                                                         \
    X(46, CERTIFICATE_UNKNOWN)                                                                                         \
    X(47, ILLEGAL_PARAMETER)                                                                                           \
    X(48, UNKNOWN_CA)                                                                                                  \
    X(49, ACCESS_DENIED)                                                                                               \
    X(50, DECODE_ERROR)                                                                                                \
    X(51, DECRYPT_ERROR)                                                                                               \
    X(70, PROTOCOL_VERSION)                                                                                            \
    X(71, INSUFFICIENT_SECURITY)                                                                                       \
    X(80, INTERNAL_ERROR)                                                                                              \
    X(110, UNSUPPORTED_EXTENSION)                                                                                      \
    X(112, UNRECOGNIZED_NAME)                                                                                          \
    X(116, CERTIFICATE_REQUIRED)

#define BEARSSL_CODE(n)  BR_ERR_##n,
#define BEARSSL_NAME(n)  #n "\0"
#define ALERT_CODE(c, n) c,
#define ALERT_NAME(c, n) "SERVER_ALERT_" #n "\0"
static const uint8_t BEARSSL_CODES[] FLASH_TABLE = {BEARSSL_ERRORS(BEARSSL_CODE)};
static const char BEARSSL_NAMES[] FLASH_TABLE = BEARSSL_ERRORS(BEARSSL_NAME);
static const uint8_t ALERT_CODES[] FLASH_TABLE = {SERVER_ALERTS(ALERT_CODE)};
static const char ALERT_NAMES[] FLASH_TABLE = SERVER_ALERTS(ALERT_NAME);

/* The transport's own reasons (tls_errors.h), named in the enum's order from TLS_REASON_CLOCK_NOT_SET
   on: a packed list, not a switch (whose jump table would sit in DRAM on the chip). */
static const char OWN_NAMES[] FLASH_TABLE = "CLOCK_NOT_SET\0X509_NOT_YET_VALID\0X509_EXPIRED\0X509_BAD_SERVER_IP\0"
                                            "PIN_MISMATCH\0FINGERPRINT_MISMATCH\0TLS_VERSION_UNSUPPORTED\0"
                                            "HANDSHAKE_CLOSED\0TLS_BAD_CONFIG\0X509_NOT_SERVER_CERT\0X509_NO_SAN\0"
                                            "X509_LEAF_IS_CA\0X509_CERT_UNREADABLE\0SERVER_NOT_TLS\0SERVER_SILENT\0"
                                            "HANDSHAKE_TIMEOUT";

/* The i-th string of a packed list. */
static const char *nth(const char *names, unsigned i) {
    while (i-- > 0) {
        while (flash_char(names++) != '\0') {}
    }
    return names;
}

/* The name of `code` in a packed list: codes[i] is named by the i-th string of names. */
static const char *lookup(const uint8_t *codes, unsigned n, const char *names, int code) {
    for (unsigned i = 0; i < n; i++) {
        if ((uint8_t)flash_char((const char *)&codes[i]) == code) return nth(names, i);
    }
    return 0;
}

const char *tls_error_name(tls_reason reason, int err) {
    if (reason == TLS_REASON_NONE) return FLASH_STR("");
    if (reason != TLS_REASON_BEARSSL) {
        if (reason < TLS_REASON_CLOCK_NOT_SET || reason > TLS_REASON_HANDSHAKE_TIMEOUT) return FLASH_STR("TLS_ERROR");
        return nth(OWN_NAMES, (unsigned)(reason - TLS_REASON_CLOCK_NOT_SET));
    }
    if (err == BR_ERR_OK) return FLASH_STR("");
    if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT) {
        const char *n = lookup(ALERT_CODES, sizeof ALERT_CODES, ALERT_NAMES, err - BR_ERR_RECV_FATAL_ALERT);
        return n ? n : FLASH_STR("SERVER_ALERT");
    }
    if (err >= BR_ERR_SEND_FATAL_ALERT) return FLASH_STR("CLIENT_ALERT");
    const char *n = lookup(BEARSSL_CODES, sizeof BEARSSL_CODES, BEARSSL_NAMES, err);
    return n ? n : FLASH_STR("TLS_ERROR");
}

#if TLS_ERROR_HINTS
/* Two strings equal, either of them in flash. */
static int flash_streq(const char *a, const char *b) {
    for (;; a++, b++) {
        const char c = flash_char(a);
        if (c != flash_char(b)) return 0;
        if (c == '\0') return 1;
    }
}
#endif

const char *tls_error_hint(tls_reason reason, int err) {
#if TLS_ERROR_HINTS
    const char *name = tls_error_name(reason, err);
#define TLS_HINT(n, text)                                                                                              \
    if (flash_streq(name, FLASH_STR(#n))) return FLASH_STR(text);
#include "tls_hints.def"
#undef TLS_HINT
#else
    (void)reason;
    (void)err;
#endif
    return FLASH_STR("");
}
