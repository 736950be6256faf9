/*
 * tls_bench.cpp - TLS handshake cost of lib/tls, for scripts/bench.sh (not a test).
 *
 * Connects to a local TLS server (openssl s_server, started by bench.sh) N times with a full
 * handshake, then N times resuming the session, each time writing one small record and
 * closing. The two loops are separate functions so callgrind can count them separately:
 *   valgrind --tool=callgrind --toggle-collect=bench_full_handshakes build/.../tls_bench ...
 * Also prints the static RAM of the transport (context + record buffers).
 *
 * The TCP transport here is a minimal one for the bench (the node has its own in hal_posix).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "credentials_posix.h"
#include "tls_transport.h"

typedef struct {
    transport base;
    int fd;
    const char *err;
} tcp_transport;

static int tcp_open(transport *t, const char *host, uint16_t port) {
    tcp_transport *s = (tcp_transport *)t;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    if (getaddrinfo(host, ps, &hints, &res) != 0 || res == NULL) {
        s->err = "EAI_NONAME";
        return TRANSPORT_ERR_IO;
    }
    s->fd = socket(res->ai_family, SOCK_STREAM, 0);
    int r = connect(s->fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (r != 0) {
        s->err = "ECONNREFUSED";
        close(s->fd);
        s->fd = -1;
        return TRANSPORT_ERR_IO;
    }
    fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

static int32_t tcp_read(transport *t, uint8_t *buf, size_t len) {
    tcp_transport *s = (tcp_transport *)t;
    ssize_t n = recv(s->fd, buf, len, 0);
    if (n > 0) return (int32_t)n;
    if (n == 0) return TRANSPORT_ERR_CLOSED;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    s->err = "EIO";
    return TRANSPORT_ERR_IO;
}

static int32_t tcp_write(transport *t, const uint8_t *buf, size_t len) {
    tcp_transport *s = (tcp_transport *)t;
    ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) return (int32_t)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    s->err = "EPIPE";
    return TRANSPORT_ERR_IO;
}

static void tcp_close(transport *t) {
    tcp_transport *s = (tcp_transport *)t;
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}

static const char *tcp_error_name(const transport *t) { return ((const tcp_transport *)t)->err; }
static const char *tcp_error_hint(const transport *) { return ""; }

static tcp_transport tcp = {{tcp_open, tcp_read, tcp_write, tcp_close, tcp_error_name, tcp_error_hint}, -1, ""};
static tls_credentials creds;
static tls_config cfg;
static tls_session_blob session_store;
static tls_transport tls;
static uint8_t tls_buf[TLS_BUFFER_SIZE(4096)];
static const char *host = "127.0.0.1";
static uint16_t port = 0;
static int verbose = 0;
static int64_t clock_s = 0;

static int64_t bench_epoch_ms(void *) { return clock_s != 0 ? clock_s * 1000 : (int64_t)time(NULL) * 1000; }
static void bench_log(void *, const char *line) {
    if (verbose) fprintf(stderr, "%s\n", line);
}

/* One connection: handshake, one application record, close. 0 on success. */
static int one_connection(void) {
    if (tls.base.open(&tls.base, host, port) != 0) return -1;
    static const uint8_t msg[] = "bench\n";
    size_t sent = 0;
    for (int spins = 0; spins < 20000 && sent < sizeof msg - 1; spins++) {
        int32_t n = tls.base.write(&tls.base, msg + sent, sizeof msg - 1 - sent);
        if (n < 0) return -1;
        if (n == 0) {
            struct pollfd p = {tcp.fd, POLLIN, 0};
            poll(&p, 1, 5);
        }
        sent += (size_t)n;
    }
    tls.base.close(&tls.base);
    return sent == sizeof msg - 1 ? 0 : -1;
}

/* Kept out of line so callgrind's --toggle-collect can name them. */
__attribute__((noinline)) int bench_full_handshakes(int n) {
    int ok = 0;
    for (int i = 0; i < n; i++) {
        tls_transport_forget_session(&tls);
        if (one_connection() == 0 && !tls_transport_resumed(&tls)) ok++;
    }
    return ok;
}

__attribute__((noinline)) int bench_resumed_handshakes(int n) {
    int ok = 0;
    for (int i = 0; i < n; i++) {
        if (one_connection() == 0 && tls_transport_resumed(&tls)) ok++;
    }
    return ok;
}

static void usage(void) {
    fprintf(stderr,
            "usage: tls_bench --port N [--host H] (--ca FILE | --pin HEX | --fingerprint HEX)\n"
            "                 [--cert FILE --key FILE] [--server-name NAME] [--fragment 512|1024|2048|4096]\n"
            "                 [--full N] [--resumed N] [--clock EPOCH_SECONDS] [--x25519 m15|i15] [--verbose]\n");
}

/* The default profile with BearSSL's other X25519 (--x25519 i15): 3.7 KB less flash on the chip,
   measured here for what it costs the handshake (issue 12; bench/results.md). */
static tls_profile default_x25519_i15;

int main(int argc, char **argv) {
    int full = 10, resumed = 10;
    size_t fragment = TLS_DEFAULT_FRAGMENT;
    const char *ca = NULL, *cert = NULL, *key = NULL;
    static uint8_t pin[32], fp[32];
    tls_credentials_init(&creds);
    cfg.mode = TLS_MODE_CA;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--verbose") == 0) {
            verbose = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0) {
            usage();
            return 0;
        }
        if (v == NULL) {
            usage();
            return 2;
        }
        i++;
        if (strcmp(a, "--host") == 0)
            host = v;
        else if (strcmp(a, "--port") == 0)
            port = (uint16_t)atoi(v);
        else if (strcmp(a, "--ca") == 0)
            ca = v;
        else if (strcmp(a, "--cert") == 0)
            cert = v;
        else if (strcmp(a, "--key") == 0)
            key = v;
        else if (strcmp(a, "--server-name") == 0)
            cfg.server_name = v;
        else if (strcmp(a, "--full") == 0)
            full = atoi(v);
        else if (strcmp(a, "--resumed") == 0)
            resumed = atoi(v);
        else if (strcmp(a, "--fragment") == 0)
            fragment = (size_t)atoi(v);
        else if (strcmp(a, "--clock") == 0)
            clock_s = atoll(v);
        else if (strcmp(a, "--pin") == 0) {
            if (tls_parse_sha256_hex(v, pin) != 0) {
                fprintf(stderr, "tls_bench: --pin: not 64 hex digits\n");
                return 2;
            }
            cfg.mode = TLS_MODE_PIN;
            cfg.pin_sha256 = pin;
        } else if (strcmp(a, "--x25519") == 0) {
            if (strcmp(v, "i15") == 0) {
                default_x25519_i15 = tls_profile_default;
                default_x25519_i15.ec = &br_ec_c25519_i15;
                cfg.profile = &default_x25519_i15;
            } else if (strcmp(v, "m15") != 0) {
                fprintf(stderr, "tls_bench: --x25519: m15 or i15\n");
                return 2;
            }
        } else if (strcmp(a, "--fingerprint") == 0) {
            if (tls_parse_sha256_hex(v, fp) != 0) {
                fprintf(stderr, "tls_bench: --fingerprint: not 64 hex digits\n");
                return 2;
            }
            cfg.mode = TLS_MODE_FINGERPRINT;
            cfg.fingerprint_sha256 = fp;
        } else {
            usage();
            return 2;
        }
    }
    if (port == 0) {
        usage();
        return 2;
    }
    if (ca != NULL && tls_credentials_load_ca(&creds, ca) != 0) {
        fprintf(stderr, "tls_bench: %s\n", creds.error);
        return 2;
    }
    if (cert != NULL && tls_credentials_load_client(&creds, cert, key ? key : "") != 0) {
        fprintf(stderr, "tls_bench: %s\n", creds.error);
        return 2;
    }
    cfg.trust_anchors = creds.anchors;
    cfg.trust_anchor_count = creds.anchor_count;
    if (cert != NULL) tls_credentials_use_client(&creds, &cfg);
    cfg.epoch_ms = bench_epoch_ms;
    cfg.log = bench_log;
    cfg.session_store = &session_store;
    if (tls_transport_init(&tls, &tcp.base, &cfg, tls_buf, TLS_BUFFER_SIZE(fragment)) != 0) {
        fprintf(stderr, "tls_bench: %s\n", tls.base.error_name(&tls.base));
        return 2;
    }
    int ok_full = bench_full_handshakes(full);
    if (ok_full != full) {
        fprintf(stderr, "tls_bench: full handshake failed: %s (%s)\n", tls.base.error_name(&tls.base),
                tls.base.error_hint(&tls.base));
        return 1;
    }
    int ok_resumed = bench_resumed_handshakes(resumed);
    printf("tls_bench: %d/%d full, %d/%d resumed handshakes; static RAM: tls_transport %zu B + buffers %zu B "
           "(max fragment %zu)\n",
           ok_full, full, ok_resumed, resumed, sizeof(tls_transport), (size_t)TLS_BUFFER_SIZE(fragment), fragment);
    return ok_resumed == resumed ? 0 : 1;
}
