/*
 * tls_errors_test.cpp - every TLS failure has a stable name (tests and users grep for them)
 * and the ones a user can fix have a hint that says how.
 */
#include <bearssl/bearssl.h>
#include <string.h>

#include "check.h"
#include "tls_errors.h"

static void test_own_reasons() {
    CHECK_STR(tls_error_name(TLS_REASON_NONE, 0), "");
    CHECK_STR(tls_error_hint(TLS_REASON_NONE, 0), "");
    CHECK_STR(tls_error_name(TLS_REASON_CLOCK_NOT_SET, 0), "CLOCK_NOT_SET");
    CHECK_STR(tls_error_name(TLS_REASON_NOT_YET_VALID, BR_ERR_X509_EXPIRED), "X509_NOT_YET_VALID");
    CHECK_STR(tls_error_name(TLS_REASON_EXPIRED, BR_ERR_X509_EXPIRED), "X509_EXPIRED");
    CHECK_STR(tls_error_name(TLS_REASON_BAD_SERVER_IP, BR_ERR_X509_BAD_SERVER_NAME), "X509_BAD_SERVER_IP");
    CHECK_STR(tls_error_name(TLS_REASON_PIN_MISMATCH, BR_ERR_X509_NOT_TRUSTED), "PIN_MISMATCH");
    CHECK_STR(tls_error_name(TLS_REASON_FINGERPRINT_MISMATCH, BR_ERR_X509_NOT_TRUSTED), "FINGERPRINT_MISMATCH");
    CHECK_STR(tls_error_name(TLS_REASON_VERSION, BR_ERR_UNSUPPORTED_VERSION), "TLS_VERSION_UNSUPPORTED");
    CHECK_STR(tls_error_name(TLS_REASON_CLOSED_IN_HANDSHAKE, 0), "HANDSHAKE_CLOSED");
    CHECK_STR(tls_error_name(TLS_REASON_BAD_CONFIG, 0), "TLS_BAD_CONFIG");
    CHECK_STR(tls_error_name(TLS_REASON_NOT_SERVER_CERT, 0), "X509_NOT_SERVER_CERT");
    CHECK_STR(tls_error_name(TLS_REASON_NO_SAN, 0), "X509_NO_SAN");
    CHECK_STR(tls_error_name(TLS_REASON_LEAF_IS_CA, 0), "X509_LEAF_IS_CA");
    CHECK_STR(tls_error_name(TLS_REASON_CERT_UNREADABLE, 0), "X509_CERT_UNREADABLE");
    CHECK_STR(tls_error_name(TLS_REASON_NOT_TLS, 0), "SERVER_NOT_TLS");
    CHECK_STR(tls_error_name(TLS_REASON_SERVER_SILENT, 0), "SERVER_SILENT");
    CHECK_STR(tls_error_name(TLS_REASON_HANDSHAKE_TIMEOUT, 0), "HANDSHAKE_TIMEOUT");
    CHECK_STR(tls_error_name((tls_reason)(TLS_REASON_HANDSHAKE_TIMEOUT + 1), 0), "TLS_ERROR"); /* past the list */

    /* the fixes the setup guide's troubleshooting gives, for the case at hand */
    CHECK(strstr(tls_error_hint(TLS_REASON_CLOCK_NOT_SET, 0), "NTP") != NULL);
    CHECK(strstr(tls_error_hint(TLS_REASON_NOT_YET_VALID, 0), "clock") != NULL);
    CHECK(strstr(tls_error_hint(TLS_REASON_EXPIRED, 0), "renew") != NULL);
    CHECK(strstr(tls_error_hint(TLS_REASON_BAD_SERVER_IP, 0), "iPAddress SAN") != NULL);
    CHECK(strstr(tls_error_hint(TLS_REASON_PIN_MISMATCH, 0), "gen-certs") != NULL);
    CHECK(strstr(tls_error_hint(TLS_REASON_FINGERPRINT_MISMATCH, 0), "renewed") != NULL);
    CHECK(strstr(tls_error_hint(TLS_REASON_VERSION, 0), "tlsv1.2") != NULL);
}

static void test_bearssl_codes() {
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, BR_ERR_OK), "");
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, BR_ERR_X509_EXPIRED), "X509_EXPIRED");
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, BR_ERR_X509_BAD_SERVER_NAME), "X509_BAD_SERVER_NAME");
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, BR_ERR_X509_NOT_TRUSTED), "X509_NOT_TRUSTED");
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, BR_ERR_UNSUPPORTED_VERSION), "UNSUPPORTED_VERSION");
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, BR_ERR_BAD_MAC), "BAD_MAC");
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, 11), "TLS_ERROR"); /* unassigned code */
    CHECK(strstr(tls_error_hint(TLS_REASON_BEARSSL, BR_ERR_X509_NOT_TRUSTED), "CA") != NULL);
    CHECK(strstr(tls_error_hint(TLS_REASON_BEARSSL, BR_ERR_X509_BAD_SERVER_NAME), "SAN") != NULL);
    CHECK(strstr(tls_error_hint(TLS_REASON_BEARSSL, BR_ERR_X509_EXPIRED), "clock") != NULL);
    CHECK(strstr(tls_error_hint(TLS_REASON_BEARSSL, BR_ERR_TOO_LARGE), "max_fragment_length") != NULL);

    /* every BearSSL code from 1 to 62 has a name */
    for (int e = 1; e <= 62; e++) {
        const char *n = tls_error_name(TLS_REASON_BEARSSL, e);
        CHECK(n != NULL && *n != '\0');
    }
}

static void test_alerts() {
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, BR_ERR_RECV_FATAL_ALERT + 40), "SERVER_ALERT_HANDSHAKE_FAILURE");
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, BR_ERR_RECV_FATAL_ALERT + 48), "SERVER_ALERT_UNKNOWN_CA");
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, BR_ERR_RECV_FATAL_ALERT + 70), "SERVER_ALERT_PROTOCOL_VERSION");
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, BR_ERR_RECV_FATAL_ALERT + 116), "SERVER_ALERT_CERTIFICATE_REQUIRED");
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, BR_ERR_RECV_FATAL_ALERT + 99), "SERVER_ALERT");
    CHECK_STR(tls_error_name(TLS_REASON_BEARSSL, BR_ERR_SEND_FATAL_ALERT + 42), "CLIENT_ALERT");
    CHECK(strstr(tls_error_hint(TLS_REASON_BEARSSL, BR_ERR_RECV_FATAL_ALERT + 116), "client certificate") != NULL);
}

int main() {
    RUN(test_own_reasons);
    RUN(test_bearssl_codes);
    RUN(test_alerts);
    return check_summary("tls_errors_test");
}
