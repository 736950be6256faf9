/*
 * tls_transport_test.cpp - the TLS transport end to end, in one process: the client under
 * test (lib/tls) talks through a fake lower transport straight into a BearSSL *server*
 * engine, so every byte the server receives is visible. This lets the tests assert what a
 * network test cannot see directly: that write() accepts nothing and the server receives
 * no application byte before verification succeeded, and that each failure gets its name.
 *
 * The PKI (EC P-256 CA for 30 days, broker certificate for 60 days with SANs DNS:broker.test,
 * IP:127.0.0.1, IP:::1) is made with openssl in a mkdtemp directory at start and removed at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "credentials_posix.h"
#include "tls_transport.h"

/* ---------------------------------------------------------------- the server side */

static br_ssl_server_context srv;
static br_ssl_session_cache_lru srv_cache;
static uint8_t srv_cache_store[4096];
static uint8_t srv_buf[BR_SSL_BUFSIZE_BIDI];
static uint8_t srv_app[4096]; /* application bytes the server received */
static size_t srv_app_len;
static tls_credentials srv_creds;

static void server_drain_app(void) {
    unsigned st = br_ssl_engine_current_state(&srv.eng);
    if (st & BR_SSL_RECVAPP) {
        size_t len;
        uint8_t *p = br_ssl_engine_recvapp_buf(&srv.eng, &len);
        if (len > sizeof srv_app - srv_app_len) len = sizeof srv_app - srv_app_len;
        memcpy(srv_app + srv_app_len, p, len);
        srv_app_len += len;
        br_ssl_engine_recvapp_ack(&srv.eng, len);
    }
}

static void server_start_with(const tls_credentials *c) {
    br_ssl_server_init_full_ec(&srv, c->chain, c->chain_len, BR_KEYTYPE_EC, &c->ec);
    br_ssl_session_cache_lru_init(&srv_cache, srv_cache_store, sizeof srv_cache_store);
    br_ssl_server_set_cache(&srv, &srv_cache.vtable);
    br_ssl_engine_set_buffer(&srv.eng, srv_buf, sizeof srv_buf, 1);
}

static void server_start(void) { server_start_with(&srv_creds); }

/* ---------------------------------------------------------------- the fake lower transport */

typedef struct {
    transport base;
    int open_calls;
    int is_open;
    int hold; /* 1: the server's bytes are "still on the wire" (read() returns 0) */
} pipe_transport;

static int p_open(transport *t, const char *, uint16_t) {
    pipe_transport *p = (pipe_transport *)t;
    p->open_calls++;
    p->is_open = 1;
    srv_app_len = 0;
    br_ssl_server_reset(&srv);
    return 0;
}

static int32_t p_write(transport *t, const uint8_t *buf, size_t len) {
    (void)t;
    unsigned st = br_ssl_engine_current_state(&srv.eng);
    if (st & BR_SSL_CLOSED) return TRANSPORT_ERR_CLOSED;
    if (!(st & BR_SSL_RECVREC)) return 0;
    size_t room;
    uint8_t *p = br_ssl_engine_recvrec_buf(&srv.eng, &room);
    if (room > len) room = len;
    memcpy(p, buf, room);
    br_ssl_engine_recvrec_ack(&srv.eng, room);
    server_drain_app();
    return (int32_t)room;
}

static int32_t p_read(transport *t, uint8_t *buf, size_t len) {
    if (((pipe_transport *)t)->hold) return 0;
    server_drain_app();
    unsigned st = br_ssl_engine_current_state(&srv.eng);
    if (st & BR_SSL_SENDREC) {
        size_t avail;
        uint8_t *p = br_ssl_engine_sendrec_buf(&srv.eng, &avail);
        if (avail > len) avail = len;
        memcpy(buf, p, avail);
        br_ssl_engine_sendrec_ack(&srv.eng, avail);
        return (int32_t)avail;
    }
    if (st & BR_SSL_CLOSED) return TRANSPORT_ERR_CLOSED;
    return 0;
}

static void p_close(transport *t) { ((pipe_transport *)t)->is_open = 0; }
static const char *p_error_name(const transport *) { return "PIPE"; }
static const char *p_error_hint(const transport *) { return ""; }

static pipe_transport lower = {{p_open, p_read, p_write, p_close, p_error_name, p_error_hint}, 0, 0, 0};

/* ---------------------------------------------------------------- client fixtures */

static tls_credentials cli_creds;
static uint8_t cli_buf[TLS_BUFFER_SIZE(1024)];
static tls_transport tls;
static tls_config cfg;
static tls_session_blob session_store; /* the node's session store: an object of its own */
static int64_t clock_s;
static char last_log[256];
static int log_lines;

static int64_t fake_epoch_ms(void *) { return clock_s * 1000; }
static void capture_log(void *, const char *line) {
    snprintf(last_log, sizeof last_log, "%s", line);
    log_lines++;
}

static uint8_t pin[32], fingerprint[32];
static char dir[64];

static void base_config(const tls_mode *mode) {
    memset(&cfg, 0, sizeof cfg);
    cfg.mode = mode;
    cfg.trust_anchors = cli_creds.anchors;
    cfg.trust_anchor_count = cli_creds.anchor_count;
    cfg.pin_sha256 = pin;
    cfg.fingerprint_sha256 = fingerprint;
    cfg.epoch_ms = fake_epoch_ms;
    cfg.log = capture_log;
    cfg.session_store = &session_store;
    cfg.profile = TLS_PROFILE_COMPAT; /* the test server's key is EC (P-256, ECDSA) */
    clock_s = (int64_t)time(NULL);
    last_log[0] = '\0';
}

/* Drives the connection until the handshake is over. Returns 0 (done), or the error. */
static int handshake(void) {
    for (int i = 0; i < 200; i++) {
        uint8_t b[16];
        int32_t r = tls.base.read(&tls.base, b, sizeof b);
        if (r < 0) return r;
        if (tls_transport_handshake_done(&tls)) return 0;
    }
    return -100;
}

static int connect_to(const char *host) {
    lower.hold = 1; /* the server's first flight has not arrived yet */
    int r = tls.base.open(&tls.base, host, 8883);
    if (r != 0) {
        lower.hold = 0;
        return r;
    }
    /* The credential rule: before the handshake is over, write() takes nothing. */
    static const uint8_t secret[] = "CONNECT password=secret";
    CHECK_EQ(tls.base.write(&tls.base, secret, sizeof secret - 1), 0);
    CHECK_EQ(srv_app_len, 0);
    lower.hold = 0;
    r = handshake();
    if (r != 0) {
        /* still nothing: the failed connection carried no application byte */
        CHECK(tls.base.write(&tls.base, secret, sizeof secret - 1) < 0);
        CHECK_EQ(srv_app_len, 0);
    }
    return r;
}

static int exchange(void) {
    static const uint8_t msg[] = "hello broker";
    int32_t n = tls.base.write(&tls.base, msg, sizeof msg - 1);
    if (n != (int32_t)(sizeof msg - 1)) return -1;
    for (int i = 0; i < 10; i++) {
        uint8_t b[8];
        (void)tls.base.read(&tls.base, b, sizeof b);
    }
    return srv_app_len == sizeof msg - 1 && memcmp(srv_app, msg, srv_app_len) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- tests */

static void test_ca_by_name_and_resume() {
    base_config(TLS_MODE_CA);
    CHECK_EQ(tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf), 0);
    CHECK_EQ(connect_to("broker.test"), 0);
    CHECK_EQ(tls_transport_resumed(&tls), 0);
    CHECK(strstr(last_log, "tls: handshake ok (full handshake") != NULL);
    CHECK(strstr(last_log, "max fragment 1024") != NULL);
    CHECK_EQ(exchange(), 0);

    /* the server answers: the client reads it */
    static const uint8_t reply[] = "CONNACK";
    size_t room;
    uint8_t *p = br_ssl_engine_sendapp_buf(&srv.eng, &room);
    memcpy(p, reply, sizeof reply - 1);
    br_ssl_engine_sendapp_ack(&srv.eng, sizeof reply - 1);
    br_ssl_engine_flush(&srv.eng, 0);
    uint8_t got[16];
    int32_t n = 0;
    for (int i = 0; i < 10 && n == 0; i++) n = tls.base.read(&tls.base, got, sizeof got);
    CHECK_EQ(n, sizeof reply - 1);
    CHECK(memcmp(got, reply, sizeof reply - 1) == 0);
    tls.base.close(&tls.base);

    /* reconnect: the session is offered and the server resumes it */
    CHECK_EQ(connect_to("broker.test"), 0);
    CHECK_EQ(tls_transport_resumed(&tls), 1);
    CHECK(strstr(last_log, "tls: handshake ok (session resumed") != NULL);
    CHECK_EQ(exchange(), 0);
    tls.base.close(&tls.base);

    /* another peer never gets this peer's session */
    CHECK_EQ(connect_to("127.0.0.1"), 0);
    CHECK_EQ(tls_transport_resumed(&tls), 0);
    tls.base.close(&tls.base);
}

static void test_ca_by_ip() {
    base_config(TLS_MODE_CA);
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(connect_to("127.0.0.1"), 0);
    CHECK_EQ(exchange(), 0);
    tls.base.close(&tls.base);
    CHECK_EQ(connect_to("::1"), 0);
    tls.base.close(&tls.base);

    /* an IP not in the iPAddress SANs is refused by name, and nothing reaches the server */
    CHECK_EQ(connect_to("10.1.2.3"), TRANSPORT_ERR_TLS);
    CHECK_STR(tls.base.error_name(&tls.base), "X509_BAD_SERVER_IP");
    CHECK(strstr(tls.base.error_hint(&tls.base), "iPAddress SAN") != NULL);
    CHECK(strstr(last_log, "tls: handshake failed: X509_BAD_SERVER_IP") != NULL);
    CHECK_EQ(tls.base.write(&tls.base, (const uint8_t *)"x", 1), TRANSPORT_ERR_TLS);
    CHECK_EQ(srv_app_len, 0);
    tls.base.close(&tls.base);

    /* a --server-name override is what gets checked, not the host connected to */
    cfg.server_name = "10.1.2.3";
    CHECK_EQ(connect_to("127.0.0.1"), TRANSPORT_ERR_TLS);
    CHECK_STR(tls.base.error_name(&tls.base), "X509_BAD_SERVER_IP");
    cfg.server_name = "127.0.0.1";
    CHECK_EQ(connect_to("localhost"), 0);
    tls.base.close(&tls.base);
}

static void test_ca_wrong_name() {
    base_config(TLS_MODE_CA);
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(connect_to("other.test"), TRANSPORT_ERR_TLS);
    CHECK_STR(tls.base.error_name(&tls.base), "X509_BAD_SERVER_NAME");
    CHECK_EQ(srv_app_len, 0);
    tls.base.close(&tls.base);
}

static void test_time_checks() {
    base_config(TLS_MODE_CA);
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    const int64_t now = clock_s;

    /* clock not set: refused before any byte is sent, with a log line that says so */
    clock_s = 0;
    const int opens = lower.open_calls;
    CHECK_EQ(tls.base.open(&tls.base, "broker.test", 8883), TRANSPORT_ERR_CONFIG);
    CHECK_EQ(lower.open_calls, opens);
    CHECK_STR(tls.base.error_name(&tls.base), "CLOCK_NOT_SET");
    CHECK(strstr(last_log, "tls: clock not set") != NULL);
    clock_s = 1000; /* an ESP8266 counting from 1970 without NTP */
    CHECK_EQ(tls.base.open(&tls.base, "broker.test", 8883), TRANSPORT_ERR_CONFIG);
    CHECK_STR(tls.base.error_name(&tls.base), "CLOCK_NOT_SET");

    /* the broker certificate is valid from about now for 60 days, its CA for 30 */
    clock_s = now - 3 * 86400;
    CHECK_EQ(connect_to("broker.test"), TRANSPORT_ERR_TLS);
    CHECK_STR(tls.base.error_name(&tls.base), "X509_NOT_YET_VALID");
    CHECK(strstr(last_log, "tls: handshake failed: X509_NOT_YET_VALID") != NULL);
    clock_s = now + 61 * 86400;
    CHECK_EQ(connect_to("broker.test"), TRANSPORT_ERR_TLS);
    CHECK_STR(tls.base.error_name(&tls.base), "X509_EXPIRED");
    CHECK(strstr(tls.base.error_hint(&tls.base), "renew it with gen-certs") != NULL);
    /* the CA's own dates do not count: a trust anchor is a name and a key (BearSSL, as
       RFC 5280 6.1.1 (d)), so a broker certificate that outlives its CA is still accepted */
    clock_s = now + 40 * 86400;
    CHECK_EQ(connect_to("broker.test"), 0);
    tls.base.close(&tls.base);
    /* inside both validity periods */
    clock_s = now + 5 * 86400;
    CHECK_EQ(connect_to("broker.test"), 0);
    tls.base.close(&tls.base);
}

static void test_pin_and_fingerprint() {
    base_config(TLS_MODE_PIN);
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    clock_s = 0; /* pinning needs no clock */
    CHECK_EQ(connect_to("anything"), 0);
    CHECK_EQ(exchange(), 0);
    tls.base.close(&tls.base);
    pin[0] ^= 1;
    CHECK_EQ(connect_to("anything"), TRANSPORT_ERR_TLS);
    CHECK_STR(tls.base.error_name(&tls.base), "PIN_MISMATCH");
    CHECK_EQ(srv_app_len, 0);
    pin[0] ^= 1;

    base_config(TLS_MODE_FINGERPRINT);
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(connect_to("anything"), 0);
    tls.base.close(&tls.base);
    fingerprint[31] ^= 0x80;
    CHECK_EQ(connect_to("anything"), TRANSPORT_ERR_TLS);
    CHECK_STR(tls.base.error_name(&tls.base), "FINGERPRINT_MISMATCH");
    CHECK_EQ(srv_app_len, 0);
    fingerprint[31] ^= 0x80;
}

static void test_session_blob() {
    base_config(TLS_MODE_CA);
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    tls_saved_session blob;
    CHECK_EQ(tls_transport_save_session(&tls, &blob), 0);
    CHECK_EQ(connect_to("broker.test"), 0);
    tls.base.close(&tls.base);
    CHECK_EQ(tls_transport_save_session(&tls, &blob), 1);

    /* a fresh transport (the node after deep sleep) resumes from the blob */
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(tls_transport_load_session(&tls, &blob), 0);
    CHECK_EQ(connect_to("broker.test"), 0);
    CHECK_EQ(tls_transport_resumed(&tls), 1);
    tls.base.close(&tls.base);

    /* RTC memory garbage is rejected */
    tls_saved_session bad = blob;
    bad.blob.params.master_secret[5] ^= 1;
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(tls_transport_load_session(&tls, &bad), -1);
    CHECK_EQ(connect_to("broker.test"), 0);
    CHECK_EQ(tls_transport_resumed(&tls), 0);
    tls.base.close(&tls.base);

    /* forget: full handshake again */
    tls_transport_forget_session(&tls);
    CHECK_EQ(connect_to("broker.test"), 0);
    CHECK_EQ(tls_transport_resumed(&tls), 0);
    tls.base.close(&tls.base);
}

static void test_bad_config() {
    base_config(TLS_MODE_CA);
    CHECK_EQ(tls_transport_init(&tls, &lower.base, &cfg, cli_buf, TLS_BUFFER_SIZE(512) - 1), TRANSPORT_ERR_CONFIG);
    CHECK_STR(tls.base.error_name(&tls.base), "TLS_BAD_CONFIG");
    CHECK_EQ(tls.base.open(&tls.base, "broker.test", 8883), TRANSPORT_ERR_CONFIG);
    cfg.trust_anchor_count = 0;
    CHECK_EQ(tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf), TRANSPORT_ERR_CONFIG);
    base_config(TLS_MODE_PIN);
    cfg.pin_sha256 = NULL;
    CHECK_EQ(tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf), TRANSPORT_ERR_CONFIG);
    base_config(TLS_MODE_CA);
    cfg.client_chain = cli_creds.chain; /* a chain without a key */
    cfg.client_chain_len = 1;
    CHECK_EQ(tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf), TRANSPORT_ERR_CONFIG);

    /* 512-byte fragments: smaller buffers, still a working connection */
    static uint8_t small[TLS_BUFFER_SIZE(512)];
    base_config(TLS_MODE_CA);
    CHECK_EQ(tls_transport_init(&tls, &lower.base, &cfg, small, sizeof small), 0);
    CHECK_EQ(connect_to("broker.test"), 0);
    CHECK(strstr(last_log, "max fragment 512") != NULL);
    CHECK_EQ(exchange(), 0);
    tls.base.close(&tls.base);
}

static void test_old_tls_version() {
    /* A server that stops at TLS 1.1 answers our 1.2-only hello with its own version. */
    br_ssl_engine_set_versions(&srv.eng, BR_TLS10, BR_TLS11);
    base_config(TLS_MODE_CA);
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(connect_to("broker.test"), TRANSPORT_ERR_TLS);
    CHECK_STR(tls.base.error_name(&tls.base), "TLS_VERSION_UNSUPPORTED");
    CHECK(strstr(tls.base.error_hint(&tls.base), "tlsv1.2") != NULL);
    tls.base.close(&tls.base);
    server_start(); /* back to TLS 1.0-1.2 (a fresh server context, as after a broker restart) */
    CHECK_EQ(connect_to("broker.test"), 0);
    tls.base.close(&tls.base);
}

/* An empty name would reach BearSSL's minimal engine as "", which it treats like NULL: no
   name check at all, so any certificate of the CA would do. CA mode refuses it up front. */
static void test_empty_server_name() {
    base_config(TLS_MODE_CA);
    CHECK_EQ(tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf), 0);
    cfg.server_name = "";
    const int opens = lower.open_calls;
    srv_app_len = 0; /* (reset by the lower open(), which must not even happen here) */
    CHECK_EQ(connect_to("other.test"), TRANSPORT_ERR_CONFIG);
    CHECK_EQ(lower.open_calls, opens); /* refused before any TCP connect */
    CHECK_STR(tls.base.error_name(&tls.base), "TLS_BAD_CONFIG");
    CHECK_EQ(srv_app_len, 0);
    CHECK_EQ(tls.base.open(&tls.base, "", 8883), TRANSPORT_ERR_CONFIG);
    tls.base.close(&tls.base);

    /* PIN mode checks no name anyway: an empty one is fine there */
    base_config(TLS_MODE_PIN);
    CHECK_EQ(tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf), 0);
    cfg.server_name = "";
    CHECK_EQ(connect_to("other.test"), 0);
    tls.base.close(&tls.base);
}

/* A CA with the same DN but another key (gen-certs run again, certs.h reflashed) must not be
   handed a session that was verified under the old CA: resuming skips the certificate check. */
static tls_credentials other_ca;
static void test_resume_needs_same_anchor() {
    CHECK_EQ(other_ca.anchor_count, 1);
    CHECK(other_ca.anchors[0].dn.len == cli_creds.anchors[0].dn.len &&
          memcmp(other_ca.anchors[0].dn.data, cli_creds.anchors[0].dn.data, other_ca.anchors[0].dn.len) == 0);
    base_config(TLS_MODE_CA);
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(connect_to("broker.test"), 0);
    tls.base.close(&tls.base);
    tls_saved_session blob;
    CHECK_EQ(tls_transport_save_session(&tls, &blob), 1);

    /* the same anchor resumes (the control case) */
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(tls_transport_load_session(&tls, &blob), 0);
    CHECK_EQ(connect_to("broker.test"), 0);
    CHECK_EQ(tls_transport_resumed(&tls), 1);
    tls.base.close(&tls.base);

    /* after boot with a new CA of the same name: full handshake, and the broker is not trusted */
    cfg.trust_anchors = other_ca.anchors;
    cfg.trust_anchor_count = other_ca.anchor_count;
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(tls_transport_load_session(&tls, &blob), 0);
    CHECK_EQ(connect_to("broker.test"), TRANSPORT_ERR_TLS);
    CHECK_EQ(tls_transport_resumed(&tls), 0);
    CHECK_STR(tls.base.error_name(&tls.base), "X509_NOT_TRUSTED");
    CHECK_EQ(srv_app_len, 0);
    tls.base.close(&tls.base);

    /* nor under another client identity (here: a client certificate where there was none) */
    base_config(TLS_MODE_CA);
    cfg.client_chain = srv_creds.chain;
    cfg.client_chain_len = srv_creds.chain_len;
    cfg.client_ec_key = &srv_creds.ec;
    cfg.client_auth = tls_client_auth_ec;
    CHECK_EQ(tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf), 0);
    CHECK_EQ(tls_transport_load_session(&tls, &blob), 0);
    CHECK_EQ(connect_to("broker.test"), 0);
    CHECK_EQ(tls_transport_resumed(&tls), 0);
    tls.base.close(&tls.base);
}

/* By IP only an iPAddress SAN counts: not a dNSName that spells the IP, not the CN. */
static tls_credentials dns_ip_creds, cn_ip_creds;
static void test_ip_only_from_ip_san() {
    base_config(TLS_MODE_CA);
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    server_start_with(&dns_ip_creds);       /* SAN DNS:127.0.0.1, DNS:broker.test; CN=127.0.0.1 */
    CHECK_EQ(connect_to("broker.test"), 0); /* control: a good certificate of the CA */
    tls.base.close(&tls.base);
    CHECK_EQ(connect_to("127.0.0.1"), TRANSPORT_ERR_TLS);
    CHECK_STR(tls.base.error_name(&tls.base), "X509_BAD_SERVER_IP");
    CHECK_EQ(srv_app_len, 0);
    tls.base.close(&tls.base);
    server_start_with(&cn_ip_creds); /* no SAN at all; CN=127.0.0.1: a name only in the CN never counts */
    CHECK_EQ(connect_to("127.0.0.1"), TRANSPORT_ERR_TLS);
    CHECK_STR(tls.base.error_name(&tls.base), "X509_NO_SAN");
    CHECK_EQ(srv_app_len, 0);
    tls.base.close(&tls.base);
    /* an IPv4-mapped IPv6 literal is 16 bytes and never matches the 4-byte IP:127.0.0.1 */
    server_start();
    CHECK_EQ(connect_to("::ffff:127.0.0.1"), TRANSPORT_ERR_TLS);
    CHECK_STR(tls.base.error_name(&tls.base), "X509_BAD_SERVER_IP");
    tls.base.close(&tls.base);
    CHECK_EQ(connect_to("127.0.0.1"), 0);
    tls.base.close(&tls.base);
}

/* A buffer between two sizes: the fragment the log announces is the one BearSSL asks for. */
static void test_odd_buffer_size() {
    static uint8_t odd[2000]; /* more than TLS_BUFFER_SIZE(512), less than TLS_BUFFER_SIZE(1024) */
    base_config(TLS_MODE_CA);
    CHECK_EQ(tls_transport_init(&tls, &lower.base, &cfg, odd, sizeof odd), 0);
    CHECK_EQ(connect_to("broker.test"), 0);
    CHECK(strstr(last_log, "max fragment 512") != NULL);
    CHECK_EQ(tls.cc.eng.max_frag_len, 512);     /* what the client negotiated, as logged */
    CHECK_EQ(srv.eng.peer_log_max_frag_len, 9); /* the server was asked for 2^9 */
    CHECK_EQ(exchange(), 0);
    tls.base.close(&tls.base);
    server_start(); /* a BearSSL server keeps the negotiated fragment length across resets */
}

static int sh(const char *cmd) {
    char full[1024];
    snprintf(full, sizeof full, "cd %s && { %s ; } >/dev/null 2>&1", dir, cmd); /* cmd may redirect itself */
    return system(full);
}

static void test_credentials_formats() {
    static tls_credentials c;
    char path[128], crt[128];
    /* PKCS#8 RSA key ("PRIVATE KEY", what openssl genpkey writes) */
    CHECK_EQ(sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa8.key"), 0);
    CHECK_EQ(sh("openssl req -x509 -new -key rsa8.key -subj /CN=dev -days 1 -out rsa8.crt"), 0);
    /* CRLF line ends (node-forge and Windows write them) */
    CHECK_EQ(sh("sed 's/$/\\r/' ca.crt > ca-crlf.crt"), 0);
    tls_credentials_init(&c);
    snprintf(crt, sizeof crt, "%s/rsa8.crt", dir);
    snprintf(path, sizeof path, "%s/rsa8.key", dir);
    CHECK_EQ(tls_credentials_load_client(&c, crt, path), 0);
    CHECK_EQ(c.key_type, BR_KEYTYPE_RSA);
    CHECK_EQ(c.rsa.n_bitlen, 1024);
    CHECK_EQ(c.chain_len, 1);
    /* the key's DER was only a scratch copy: nothing of it is left behind the key parts */
    CHECK(c.used < 1024 + 5 * 80);
    snprintf(path, sizeof path, "%s/ca-crlf.crt", dir);
    CHECK_EQ(tls_credentials_load_ca(&c, path), 0);
    CHECK_EQ(c.anchor_count, 1);
    CHECK(c.anchors[0].dn.len == cli_creds.anchors[0].dn.len &&
          memcmp(c.anchors[0].dn.data, cli_creds.anchors[0].dn.data, c.anchors[0].dn.len) == 0);
}

static void test_credentials_errors() {
    static tls_credentials c;
    tls_credentials_init(&c);
    char path[128];
    CHECK_EQ(tls_credentials_load_ca(&c, "/nonexistent/ca.crt"), -1);
    CHECK(strstr(c.error, "/nonexistent/ca.crt: ") == c.error);
    snprintf(path, sizeof path, "%s/server.key", dir);
    CHECK_EQ(tls_credentials_load_ca(&c, path), -1);
    CHECK(strstr(c.error, "no CERTIFICATE") != NULL);
    snprintf(path, sizeof path, "%s/junk.pem", dir);
    FILE *f = fopen(path, "w");
    fputs("hello\n", f);
    fclose(f);
    CHECK_EQ(tls_credentials_load_ca(&c, path), -1);
    CHECK(strstr(c.error, "no PEM object") != NULL);
}

/* A key that is refused must not stay behind in the credentials arena (it lives as long as the
   process): the scratch copy of its DER is wiped on every failure path, not only on success. */
static void test_credentials_key_not_left_behind() {
    static tls_credentials c;
    char crt[128], key[128], der[128];
    CHECK_EQ(sh("openssl ecparam -name secp384r1 -genkey -noout -out p384.key"), 0);
    CHECK_EQ(sh("openssl ec -in p384.key -outform DER -out p384.der"), 0);
    snprintf(crt, sizeof crt, "%s/server.crt", dir);
    snprintf(key, sizeof key, "%s/p384.key", dir);
    snprintf(der, sizeof der, "%s/p384.der", dir);
    static uint8_t key_der[512];
    FILE *f = fopen(der, "rb");
    CHECK(f != NULL);
    if (f == NULL) return;
    const size_t der_len = fread(key_der, 1, sizeof key_der, f);
    fclose(f);
    CHECK(der_len > 100);

    tls_credentials_init(&c);
    CHECK_EQ(tls_credentials_load_client(&c, crt, key), -1);
    CHECK(strstr(c.error, "P-256") != NULL);
    CHECK_EQ(c.key_type, 0);
    int found = 0;
    for (size_t off = 0; off + der_len <= sizeof c.arena; off++) {
        if (memcmp(c.arena + off, key_der, der_len) == 0) found = 1;
    }
    CHECK_EQ(found, 0);
    /* and the arena holds just the certificate: the key's room was given back */
    CHECK(c.used < 1024);
}

/* Found by fuzz/credentials_fuzz.cpp: a PEM file that turns bad after a few hundred bytes left
   those bytes' decoded DER claimed in the arena (c->used not given back) on the "not a valid PEM
   file" path, although cert_hashes gives its room back on every other path. A failed read takes
   nothing from the arena. */
static void test_credentials_failed_read_gives_arena_back() {
    static tls_credentials c;
    char path[128], ca[128];
    snprintf(path, sizeof path, "%s/bad-late.pem", dir);
    snprintf(ca, sizeof ca, "%s/ca.crt", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f == NULL) return;
    fputs("-----BEGIN CERTIFICATE-----\n", f);
    for (int i = 0; i < 20; i++) fputs("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n", f);
    fputs("!!!!\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    uint8_t fp[32], spki[32];
    tls_credentials_init(&c);
    CHECK_EQ(tls_credentials_cert_hashes(&c, path, fp, spki), -1);
    CHECK(strstr(c.error, "not a valid PEM file") != NULL);
    CHECK_EQ(c.used, 0);
    CHECK_EQ(tls_credentials_load_ca(&c, ca), 0);
    const size_t after_ca = c.used;
    CHECK_EQ(tls_credentials_load_ca(&c, path), -1);
    CHECK_EQ(c.used, after_ca);
    CHECK_EQ(c.anchor_count, 1);
}

/* Renegotiation: Mosquitto never asks for one, and a second handshake on a live connection is
   only attack surface (a new certificate mid-connection, the triple-handshake class). The
   client refuses it (BR_OPT_NO_RENEGOTIATION). */
static void test_no_renegotiation() {
    base_config(TLS_MODE_CA);
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(connect_to("broker.test"), 0);
    uint8_t client_random[32]; /* a second ClientHello would bring a new one */
    memcpy(client_random, srv.eng.client_random, sizeof client_random);
    CHECK_EQ(br_ssl_engine_renegotiate(&srv.eng), 1); /* the server sends HelloRequest */
    for (int i = 0; i < 20; i++) {
        uint8_t b[8];
        (void)tls.base.read(&tls.base, b, sizeof b);
    }
    /* no second ClientHello reached the server; it got a no_renegotiation alert (a BearSSL
       server then ends the connection, an OpenSSL one carries on) */
    CHECK(memcmp(client_random, srv.eng.client_random, sizeof client_random) == 0);
    CHECK_EQ(br_ssl_engine_last_error(&srv.eng), BR_ERR_RECV_FATAL_ALERT + BR_ALERT_NO_RENEGOTIATION);
    CHECK_EQ(tls.handshakes, 1);
    tls.base.close(&tls.base);
}

/* Issue 8: what the broker's certificate is for. Every case is signed by the node's own CA
   with the right name somewhere, so only the usage / CA / SAN rules can refuse it. */
typedef struct {
    const char *what;
    const char *subject;
    const char *ext;    /* openssl -extfile lines */
    const char *host;   /* what the node connects to */
    const char *expect; /* error name, or "" for accepted */
    tls_credentials creds;
} cert_case;

static cert_case cert_cases[] = {
    {"device certificate (clientAuth only)",
     "/CN=broker.test",
     "extendedKeyUsage=clientAuth\nsubjectAltName=DNS:broker.test\n",
     "broker.test",
     "X509_NOT_SERVER_CERT",
     {}},
    {"device certificate without SAN",
     "/CN=broker.test",
     "extendedKeyUsage=clientAuth\n",
     "broker.test",
     "X509_NOT_SERVER_CERT",
     {}},
    {"anyExtendedKeyUsage only",
     "/CN=broker.test",
     "extendedKeyUsage=anyExtendedKeyUsage\nsubjectAltName=DNS:broker.test\n",
     "broker.test",
     "X509_NOT_SERVER_CERT",
     {}},
    {"serverAuth and clientAuth",
     "/CN=broker.test",
     "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:broker.test\n",
     "broker.test",
     "",
     {}},
    {"no EKU at all (any purpose, RFC 5280)", "/CN=x", "subjectAltName=DNS:broker.test\n", "broker.test", "", {}},
    {"leaf with CA:TRUE",
     "/CN=broker.test",
     "basicConstraints=critical,CA:TRUE\nsubjectAltName=DNS:broker.test\n",
     "broker.test",
     "X509_LEAF_IS_CA",
     {}},
    {"no SAN, name in the CN", "/CN=broker.test", "basicConstraints=CA:FALSE\n", "broker.test", "X509_NO_SAN", {}},
    {"SAN for another name, name in the CN",
     "/CN=broker.test",
     "subjectAltName=DNS:other.test\n",
     "broker.test",
     "X509_BAD_SERVER_NAME",
     {}},
    {"wildcard for the first label", "/CN=x", "subjectAltName=DNS:*.test\n", "broker.test", "", {}},
    {"wildcard one level too deep",
     "/CN=x",
     "subjectAltName=DNS:*.broker.test\n",
     "broker.test",
     "X509_BAD_SERVER_NAME",
     {}},
    {"name in other case", "/CN=x", "subjectAltName=DNS:BROKER.Test\n", "broker.test", "", {}},
    {"name with a suffix", "/CN=x", "subjectAltName=DNS:broker.test.evil\n", "broker.test", "X509_BAD_SERVER_NAME", {}},
    {"name as a prefix", "/CN=x", "subjectAltName=DNS:broker.tes\n", "broker.test", "X509_BAD_SERVER_NAME", {}},
};

static int make_case_cert(cert_case *c, int i) {
    char path[160], cmd[512];
    snprintf(path, sizeof path, "%s/case%d.ext", dir, i);
    FILE *f = fopen(path, "w");
    if (f == NULL) return -1;
    fputs(c->ext, f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "openssl req -new -key server.key -subj %s -out case%d.csr && "
             "openssl x509 -req -in case%d.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 60 "
             "-extfile case%d.ext -out case%d.crt",
             c->subject, i, i, i, i);
    if (sh(cmd) != 0) return -1;
    char crt[160], key[160];
    snprintf(crt, sizeof crt, "%s/case%d.crt", dir, i);
    snprintf(key, sizeof key, "%s/server.key", dir);
    tls_credentials_init(&c->creds);
    return tls_credentials_load_client(&c->creds, crt, key);
}

static void test_certificate_purpose() {
    for (size_t i = 0; i < sizeof cert_cases / sizeof cert_cases[0]; i++) {
        cert_case *c = &cert_cases[i];
        base_config(TLS_MODE_CA);
        tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
        server_start_with(&c->creds);
        const int r = connect_to(c->host);
        const char *got = r == 0 ? "" : tls.base.error_name(&tls.base);
        if (strcmp(got, c->expect) != 0) fprintf(stderr, "case: %s\n", c->what);
        CHECK_STR(got, c->expect);
        if (c->expect[0] != '\0') CHECK_EQ(srv_app_len, 0);
        tls.base.close(&tls.base);
    }
    server_start();
}

/* Issue 8, defence in depth: a session that did not come from our own handshake (an overrun,
   a tampered RTC copy) is never offered, even with a correct-looking magic. */
static void test_session_store_sealed() {
    base_config(TLS_MODE_CA);
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(connect_to("broker.test"), 0);
    tls.base.close(&tls.base);
    CHECK_EQ(session_store.magic != 0, 1);

    /* a planted session id / master secret with the old magic and checks left as they were */
    session_store.params.master_secret[0] ^= 0x55;
    CHECK_EQ(connect_to("broker.test"), 0);
    CHECK_EQ(tls_transport_resumed(&tls), 0);
    CHECK_EQ(tls.offered_resume, 0);
    tls.base.close(&tls.base);

    /* the store written by another transport (another key) is not ours to offer */
    tls_saved_session saved;
    CHECK_EQ(tls_transport_save_session(&tls, &saved), 1);
    saved.key[3] ^= 1;
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(tls_transport_load_session(&tls, &saved), -1);
    saved.key[3] ^= 1;
    session_store = saved.blob; /* copied in without its key: the fresh transport's key differs */
    CHECK_EQ(connect_to("broker.test"), 0);
    CHECK_EQ(tls.offered_resume, 0);
    tls.base.close(&tls.base);

    /* no session store: handshakes work, nothing is kept */
    base_config(TLS_MODE_CA);
    cfg.session_store = NULL;
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(connect_to("broker.test"), 0);
    tls.base.close(&tls.base);
    CHECK_EQ(tls_transport_save_session(&tls, &saved), 0);
    CHECK_EQ(connect_to("broker.test"), 0);
    CHECK_EQ(tls_transport_resumed(&tls), 0);
    tls.base.close(&tls.base);
}

/* Issue 12: the default profile carries only what a gen-certs broker needs (ECDHE_RSA over
   X25519, RSA signatures). The test server's key is EC: refused by name, with the way out in
   the hint; the compat profile (every other test here) connects. */
static void test_default_profile_refuses_ec_broker() {
    base_config(TLS_MODE_CA);
    cfg.profile = TLS_PROFILE_DEFAULT;
    tls_transport_init(&tls, &lower.base, &cfg, cli_buf, sizeof cli_buf);
    CHECK_EQ(connect_to("broker.test"), TRANSPORT_ERR_TLS);
    CHECK(strstr(last_log, "compat") != NULL);
    CHECK_EQ(srv_app_len, 0);
    tls.base.close(&tls.base);
    server_start();
    CHECK(tls_profile_by_name("default") == TLS_PROFILE_DEFAULT);
    CHECK(tls_profile_by_name("compat") == TLS_PROFILE_COMPAT);
    CHECK(tls_profile_by_name("p256") == NULL);
    CHECK(tls_mode_by_name("pin") == TLS_MODE_PIN);
    CHECK(tls_mode_by_name("PIN") == NULL);
}

/* ---------------------------------------------------------------- setup */

int main() {
    snprintf(dir, sizeof dir, "/tmp/tls_transport_test.XXXXXX");
    if (mkdtemp(dir) == NULL) return 1;
    int r = 0;
    r |= sh("openssl ecparam -name prime256v1 -genkey -noout -out ca.key");
    r |= sh("openssl req -x509 -new -key ca.key -subj /CN=UnitCA -days 30 -out ca.crt");
    r |= sh("openssl ecparam -name prime256v1 -genkey -noout -out server.key");
    r |= sh("openssl req -new -key server.key -subj /CN=broker.test -out server.csr");
    char ext[128];
    snprintf(ext, sizeof ext, "%s/ext", dir);
    FILE *f = fopen(ext, "w");
    if (f == NULL) return 1;
    fputs("subjectAltName=DNS:broker.test,IP:127.0.0.1,IP:::1\n", f);
    fclose(f);
    r |= sh("openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 60 -extfile ext -out "
            "server.crt");
    CHECK_EQ(r, 0);

    char ca[128], crt[128], key[128];
    snprintf(ca, sizeof ca, "%s/ca.crt", dir);
    snprintf(crt, sizeof crt, "%s/server.crt", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    tls_credentials_init(&srv_creds);
    tls_credentials_init(&cli_creds);
    CHECK_EQ(tls_credentials_load_client(&srv_creds, crt, key), 0);
    CHECK_EQ(srv_creds.key_type, BR_KEYTYPE_EC);
    CHECK_EQ(tls_credentials_load_ca(&cli_creds, ca), 0);
    CHECK_EQ(cli_creds.anchor_count, 1);
    CHECK_EQ(cli_creds.anchors[0].flags, BR_X509_TA_CA);
    CHECK_EQ(tls_credentials_cert_hashes(&cli_creds, crt, fingerprint, pin), 0);
    /* broker certificates that spell the IP only as a dNSName or only in the CN */
    f = fopen(ext, "w");
    if (f == NULL) return 1;
    fputs("subjectAltName=DNS:127.0.0.1,DNS:broker.test\n", f);
    fclose(f);
    r |= sh("openssl req -new -key server.key -subj /CN=127.0.0.1 -out ip.csr");
    r |= sh(
        "openssl x509 -req -in ip.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 60 -extfile ext -out dns-ip.crt");
    f = fopen(ext, "w");
    if (f == NULL) return 1;
    fputs("basicConstraints=CA:FALSE\n", f);
    fclose(f);
    r |= sh(
        "openssl x509 -req -in ip.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 60 -extfile ext -out cn-ip.crt");
    CHECK_EQ(r, 0);
    char other[128];
    snprintf(other, sizeof other, "%s/dns-ip.crt", dir);
    tls_credentials_init(&dns_ip_creds);
    CHECK_EQ(tls_credentials_load_client(&dns_ip_creds, other, key), 0);
    snprintf(other, sizeof other, "%s/cn-ip.crt", dir);
    tls_credentials_init(&cn_ip_creds);
    CHECK_EQ(tls_credentials_load_client(&cn_ip_creds, other, key), 0);
    /* a second CA with the same name and another key */
    r |= sh("openssl ecparam -name prime256v1 -genkey -noout -out ca2.key");
    r |= sh("openssl req -x509 -new -key ca2.key -subj /CN=UnitCA -days 30 -out ca2.crt");
    CHECK_EQ(r, 0);
    char ca2[128];
    snprintf(ca2, sizeof ca2, "%s/ca2.crt", dir);
    tls_credentials_init(&other_ca);
    CHECK_EQ(tls_credentials_load_ca(&other_ca, ca2), 0);

    for (size_t i = 0; i < sizeof cert_cases / sizeof cert_cases[0]; i++) {
        CHECK_EQ(make_case_cert(&cert_cases[i], (int)i), 0);
    }

    server_start();
    RUN(test_ca_by_name_and_resume);
    RUN(test_ca_by_ip);
    RUN(test_ca_wrong_name);
    RUN(test_time_checks);
    RUN(test_pin_and_fingerprint);
    RUN(test_session_blob);
    RUN(test_bad_config);
    RUN(test_old_tls_version);
    RUN(test_ip_only_from_ip_san);
    RUN(test_odd_buffer_size);
    RUN(test_empty_server_name);
    RUN(test_resume_needs_same_anchor);
    RUN(test_credentials_formats);
    RUN(test_credentials_errors);
    RUN(test_credentials_key_not_left_behind);
    RUN(test_credentials_failed_read_gives_arena_back);
    RUN(test_no_renegotiation);
    RUN(test_certificate_purpose);
    RUN(test_session_store_sealed);
    RUN(test_default_profile_refuses_ec_broker);

    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    if (system(rm) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("tls_transport_test");
}
