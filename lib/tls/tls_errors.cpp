/*
 * tls_errors.cpp - names and fixes for TLS failures (contract in tls_errors.h).
 *
 * The hints follow the setup guide's troubleshooting (set the time, check the SANs, check
 * the CA) but say which of them applies, because the name already tells us.
 */
#include "tls_errors.h"

#include <bearssl/bearssl.h>

#include "flash_str.h"

/* Every name and hint is a FLASH_STR and the tables are FLASH_TABLEs: on the ESP8266 they stay
   in flash (about 5.5 KB that would otherwise sit in DRAM), so callers read them with
   flash_char() / tb_str() (flash_str.h). A build short of flash may set TLS_ERROR_HINTS=0 and
   keep only the names (the host tools and the README explain each name). */
#ifndef TLS_ERROR_HINTS
#define TLS_ERROR_HINTS 1
#endif

/* Names inline (not pointers to literals), so the whole table can live in flash. */
typedef struct {
    uint16_t code;
    char name[26];
} code_name;

typedef struct {
    uint16_t code;
    char name[38];
} alert_name;

/* BearSSL's error codes by name (bearssl_ssl.h, bearssl_x509.h). */
static const code_name BEARSSL_NAMES[] FLASH_TABLE = {
    {BR_ERR_BAD_PARAM, "BAD_PARAM"},
    {BR_ERR_BAD_STATE, "BAD_STATE"},
    {BR_ERR_UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION"},
    {BR_ERR_BAD_VERSION, "BAD_VERSION"},
    {BR_ERR_BAD_LENGTH, "BAD_LENGTH"},
    {BR_ERR_TOO_LARGE, "TOO_LARGE"},
    {BR_ERR_BAD_MAC, "BAD_MAC"},
    {BR_ERR_NO_RANDOM, "NO_RANDOM"},
    {BR_ERR_UNKNOWN_TYPE, "UNKNOWN_TYPE"},
    {BR_ERR_UNEXPECTED, "UNEXPECTED"},
    {BR_ERR_BAD_CCS, "BAD_CCS"},
    {BR_ERR_BAD_ALERT, "BAD_ALERT"},
    {BR_ERR_BAD_HANDSHAKE, "BAD_HANDSHAKE"},
    {BR_ERR_OVERSIZED_ID, "OVERSIZED_ID"},
    {BR_ERR_BAD_CIPHER_SUITE, "BAD_CIPHER_SUITE"},
    {BR_ERR_BAD_COMPRESSION, "BAD_COMPRESSION"},
    {BR_ERR_BAD_FRAGLEN, "BAD_FRAGLEN"},
    {BR_ERR_BAD_SECRENEG, "BAD_SECRENEG"},
    {BR_ERR_EXTRA_EXTENSION, "EXTRA_EXTENSION"},
    {BR_ERR_BAD_SNI, "BAD_SNI"},
    {BR_ERR_BAD_HELLO_DONE, "BAD_HELLO_DONE"},
    {BR_ERR_LIMIT_EXCEEDED, "LIMIT_EXCEEDED"},
    {BR_ERR_BAD_FINISHED, "BAD_FINISHED"},
    {BR_ERR_RESUME_MISMATCH, "RESUME_MISMATCH"},
    {BR_ERR_INVALID_ALGORITHM, "INVALID_ALGORITHM"},
    {BR_ERR_BAD_SIGNATURE, "BAD_SIGNATURE"},
    {BR_ERR_WRONG_KEY_USAGE, "WRONG_KEY_USAGE"},
    {BR_ERR_NO_CLIENT_AUTH, "NO_CLIENT_AUTH"},
    {BR_ERR_IO, "IO"},
    {BR_ERR_X509_INVALID_VALUE, "X509_INVALID_VALUE"},
    {BR_ERR_X509_TRUNCATED, "X509_TRUNCATED"},
    {BR_ERR_X509_EMPTY_CHAIN, "X509_EMPTY_CHAIN"},
    {BR_ERR_X509_INNER_TRUNC, "X509_INNER_TRUNC"},
    {BR_ERR_X509_BAD_TAG_CLASS, "X509_BAD_TAG_CLASS"},
    {BR_ERR_X509_BAD_TAG_VALUE, "X509_BAD_TAG_VALUE"},
    {BR_ERR_X509_INDEFINITE_LENGTH, "X509_INDEFINITE_LENGTH"},
    {BR_ERR_X509_EXTRA_ELEMENT, "X509_EXTRA_ELEMENT"},
    {BR_ERR_X509_UNEXPECTED, "X509_UNEXPECTED"},
    {BR_ERR_X509_NOT_CONSTRUCTED, "X509_NOT_CONSTRUCTED"},
    {BR_ERR_X509_NOT_PRIMITIVE, "X509_NOT_PRIMITIVE"},
    {BR_ERR_X509_PARTIAL_BYTE, "X509_PARTIAL_BYTE"},
    {BR_ERR_X509_BAD_BOOLEAN, "X509_BAD_BOOLEAN"},
    {BR_ERR_X509_OVERFLOW, "X509_OVERFLOW"},
    {BR_ERR_X509_BAD_DN, "X509_BAD_DN"},
    {BR_ERR_X509_BAD_TIME, "X509_BAD_TIME"},
    {BR_ERR_X509_UNSUPPORTED, "X509_UNSUPPORTED"},
    {BR_ERR_X509_LIMIT_EXCEEDED, "X509_LIMIT_EXCEEDED"},
    {BR_ERR_X509_WRONG_KEY_TYPE, "X509_WRONG_KEY_TYPE"},
    {BR_ERR_X509_BAD_SIGNATURE, "X509_BAD_SIGNATURE"},
    {BR_ERR_X509_TIME_UNKNOWN, "X509_TIME_UNKNOWN"},
    {BR_ERR_X509_EXPIRED, "X509_EXPIRED"},
    {BR_ERR_X509_DN_MISMATCH, "X509_DN_MISMATCH"},
    {BR_ERR_X509_BAD_SERVER_NAME, "X509_BAD_SERVER_NAME"},
    {BR_ERR_X509_CRITICAL_EXTENSION, "X509_CRITICAL_EXTENSION"},
    {BR_ERR_X509_NOT_CA, "X509_NOT_CA"},
    {BR_ERR_X509_FORBIDDEN_KEY_USAGE, "X509_FORBIDDEN_KEY_USAGE"},
    {BR_ERR_X509_WEAK_PUBLIC_KEY, "X509_WEAK_PUBLIC_KEY"},
    {BR_ERR_X509_NOT_TRUSTED, "X509_NOT_TRUSTED"},
};

/* TLS alerts the broker may send us (RFC 5246 7.2, RFC 8446 6.2). */
static const alert_name ALERT_NAMES[] FLASH_TABLE = {
    {10, "SERVER_ALERT_UNEXPECTED_MESSAGE"},      {20, "SERVER_ALERT_BAD_RECORD_MAC"},
    {40, "SERVER_ALERT_HANDSHAKE_FAILURE"},       {42, "SERVER_ALERT_BAD_CERTIFICATE"},
    {43, "SERVER_ALERT_UNSUPPORTED_CERTIFICATE"}, {44, "SERVER_ALERT_CERTIFICATE_REVOKED"},
    {45, "SERVER_ALERT_CERTIFICATE_EXPIRED"},     {46, "SERVER_ALERT_CERTIFICATE_UNKNOWN"},
    {47, "SERVER_ALERT_ILLEGAL_PARAMETER"},       {48, "SERVER_ALERT_UNKNOWN_CA"},
    {49, "SERVER_ALERT_ACCESS_DENIED"},           {50, "SERVER_ALERT_DECODE_ERROR"},
    {51, "SERVER_ALERT_DECRYPT_ERROR"},           {70, "SERVER_ALERT_PROTOCOL_VERSION"},
    {71, "SERVER_ALERT_INSUFFICIENT_SECURITY"},   {80, "SERVER_ALERT_INTERNAL_ERROR"},
    {110, "SERVER_ALERT_UNSUPPORTED_EXTENSION"},  {112, "SERVER_ALERT_UNRECOGNIZED_NAME"},
    {116, "SERVER_ALERT_CERTIFICATE_REQUIRED"},
};

template <typename T> static const char *lookup(const T *table, unsigned n, int code) {
    for (unsigned i = 0; i < n; i++) {
        if (flash_u16(&table[i].code) == code) return table[i].name;
    }
    return 0;
}

const char *tls_error_name(tls_reason reason, int err) {
    switch (reason) {
        case TLS_REASON_NONE: return FLASH_STR("");
        case TLS_REASON_CLOCK_NOT_SET: return FLASH_STR("CLOCK_NOT_SET");
        case TLS_REASON_NOT_YET_VALID: return FLASH_STR("X509_NOT_YET_VALID");
        case TLS_REASON_EXPIRED: return FLASH_STR("X509_EXPIRED");
        case TLS_REASON_BAD_SERVER_IP: return FLASH_STR("X509_BAD_SERVER_IP");
        case TLS_REASON_PIN_MISMATCH: return FLASH_STR("PIN_MISMATCH");
        case TLS_REASON_FINGERPRINT_MISMATCH: return FLASH_STR("FINGERPRINT_MISMATCH");
        case TLS_REASON_VERSION: return FLASH_STR("TLS_VERSION_UNSUPPORTED");
        case TLS_REASON_CLOSED_IN_HANDSHAKE: return FLASH_STR("HANDSHAKE_CLOSED");
        case TLS_REASON_BAD_CONFIG: return FLASH_STR("TLS_BAD_CONFIG");
        case TLS_REASON_NOT_SERVER_CERT: return FLASH_STR("X509_NOT_SERVER_CERT");
        case TLS_REASON_NO_SAN: return FLASH_STR("X509_NO_SAN");
        case TLS_REASON_LEAF_IS_CA: return FLASH_STR("X509_LEAF_IS_CA");
        case TLS_REASON_CERT_UNREADABLE: return FLASH_STR("X509_CERT_UNREADABLE");
        case TLS_REASON_NOT_TLS: return FLASH_STR("SERVER_NOT_TLS");
        case TLS_REASON_SERVER_SILENT: return FLASH_STR("SERVER_SILENT");
        case TLS_REASON_HANDSHAKE_TIMEOUT: return FLASH_STR("HANDSHAKE_TIMEOUT");
        case TLS_REASON_BEARSSL: break;
    }
    if (err == BR_ERR_OK) return FLASH_STR("");
    if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT) {
        const char *n = lookup(ALERT_NAMES, sizeof ALERT_NAMES / sizeof ALERT_NAMES[0], err - BR_ERR_RECV_FATAL_ALERT);
        return n ? n : FLASH_STR("SERVER_ALERT");
    }
    if (err >= BR_ERR_SEND_FATAL_ALERT) return FLASH_STR("CLIENT_ALERT");
    const char *n = lookup(BEARSSL_NAMES, sizeof BEARSSL_NAMES / sizeof BEARSSL_NAMES[0], err);
    return n ? n : FLASH_STR("TLS_ERROR");
}

const char *tls_error_hint(tls_reason reason, int err) {
#if !TLS_ERROR_HINTS
    (void)reason;
    (void)err;
    return FLASH_STR("");
#else
    switch (reason) {
        case TLS_REASON_NONE: return FLASH_STR("");
        case TLS_REASON_CLOCK_NOT_SET:
            return FLASH_STR(
                "set the time first: the node must sync NTP before TLS (native node: system clock or --clock)");
        case TLS_REASON_NOT_YET_VALID:
            return FLASH_STR("the broker certificate is not valid yet: check the node's clock (NTP) and the "
                             "certificate's notBefore");
        case TLS_REASON_EXPIRED:
            return FLASH_STR("the broker certificate has expired: renew it with gen-certs and restart Mosquitto (or "
                             "fix the node's clock)");
        case TLS_REASON_BAD_SERVER_IP:
            return FLASH_STR("the broker certificate has no iPAddress SAN for this IP: connect by a name it lists or "
                             "regenerate it with gen-certs including this IP");
        case TLS_REASON_PIN_MISMATCH:
            return FLASH_STR("the broker's public key is not the pinned one: check you reach the right broker; if its "
                             "key changed, regenerate certs.h (gen-certs)");
        case TLS_REASON_FINGERPRINT_MISMATCH:
            return FLASH_STR("the broker certificate is not the one whose fingerprint is configured: if it was "
                             "renewed, regenerate certs.h (gen-certs)");
        case TLS_REASON_VERSION:
            return FLASH_STR("the broker does not offer TLS 1.2: set 'tls_version tlsv1.2' in the Mosquitto listener");
        case TLS_REASON_CLOSED_IN_HANDSHAKE:
            return FLASH_STR(
                "the broker closed the connection during the handshake: check the port (8883) and the Mosquitto log");
        case TLS_REASON_BAD_CONFIG:
            return FLASH_STR(
                "TLS is not configured completely: check the CA / pin / fingerprint, the client certificate and key, "
                "the buffer size (TLS_BUFFER_SIZE(512) at least) and the broker name (63 characters at most)");
        case TLS_REASON_NOT_SERVER_CERT:
            return FLASH_STR("the certificate offered is not a server certificate (no serverAuth usage): it may be a "
                             "device's certificate; check the broker uses server.crt from gen-certs");
        case TLS_REASON_NO_SAN:
            return FLASH_STR("the broker certificate lists no names (no subjectAltName): re-issue it with gen-certs, "
                             "which writes every --host name and IP");
        case TLS_REASON_LEAF_IS_CA:
            return FLASH_STR("the broker certificate is a CA certificate (CA:TRUE): the broker must use server.crt "
                             "from gen-certs, not a CA");
        case TLS_REASON_CERT_UNREADABLE:
            return FLASH_STR("the broker certificate could not be read: re-issue it with gen-certs");
        case TLS_REASON_NOT_TLS: /* one hint for both: each string costs RAM on the chip */
        case TLS_REASON_SERVER_SILENT: return FLASH_STR("not a TLS port: use the broker's TLS port, 8883");
        case TLS_REASON_HANDSHAKE_TIMEOUT: return FLASH_STR("a busy broker or a lossy link");
        case TLS_REASON_BEARSSL: break;
    }
    switch (err) {
        case BR_ERR_OK: return FLASH_STR("");
        case BR_ERR_X509_EXPIRED:
            return FLASH_STR("a certificate in the chain is outside its validity dates: check the node's clock, then "
                             "renew with gen-certs");
        case BR_ERR_X509_BAD_SERVER_NAME:
            return FLASH_STR("the broker certificate does not list this host name in its SANs: use a name it lists or "
                             "regenerate it with gen-certs");
        case BR_ERR_X509_NOT_TRUSTED:
            return FLASH_STR("the broker certificate is not signed by the configured CA: check the CA (certs.h / --ca) "
                             "is the ca.crt that signed server.crt");
        case BR_ERR_X509_TIME_UNKNOWN: return FLASH_STR("set the time first: the node must sync NTP before TLS");
        case BR_ERR_UNSUPPORTED_VERSION:
        case BR_ERR_RECV_FATAL_ALERT + 70:
            return FLASH_STR("the broker does not offer TLS 1.2: set 'tls_version tlsv1.2' in the Mosquitto listener");
        case BR_ERR_BAD_CIPHER_SUITE:
            return FLASH_STR(
                "no common cipher suite or curve: the default profile needs ECDHE_RSA with ChaCha20-Poly1305 over "
                "X25519 (an RSA broker key); an EC broker key or no X25519 needs the compat profile");
        case BR_ERR_RECV_FATAL_ALERT + 40:
            return FLASH_STR("the broker refused the handshake: it requires a client certificate (use mutual TLS), or "
                             "its key is EC / it lacks X25519 (use the compat TLS profile)");
        case BR_ERR_TOO_LARGE:
            return FLASH_STR("the broker sent a record larger than the TLS buffer: it must honour max_fragment_length "
                             "(OpenSSL >= 1.1.1)");
        case BR_ERR_RECV_FATAL_ALERT + 42:
        case BR_ERR_RECV_FATAL_ALERT + 48:
        case BR_ERR_RECV_FATAL_ALERT + 116:
            return FLASH_STR("the broker rejected the client certificate: check the device certificate and key were "
                             "issued by the broker's CA");
        default: return FLASH_STR("");
    }
#endif
}
