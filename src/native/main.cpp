/*
 * main.cpp - the native node: the portable core (lib/node, lib/mqtt, lib/sensors) on the POSIX
 * HAL with simulated sensors. Used by the tests, the harness, the demo and the benchmarks.
 *
 *   mqtt_node --id node01 --host 127.0.0.1 --scenario readings.txt
 *   NODE_PASSWORD=... mqtt_node --id node01 ...
 *
 * Exit status: 0 after SIGTERM/SIGINT, 2 for bad flags or settings (one line on stderr naming
 * what is wrong), 1 for a runtime failure.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "native_options.h"
#include "flash_file.h"
#include "native_transport.h"
#include "node_app.h"
#include "posix_hal.h"
#include "tls_transport.h"

namespace {

enum kind { K_STR, K_U32, K_U16, K_FLAG, K_MODE, K_TLS, K_I64 };

struct opt_def {
    const char *flag;
    const char *env;
    kind k;
    void *dst;
    uint32_t min, max;
    const char *arg;
    const char *help;
};

native_options o;
volatile sig_atomic_t stop_signal = 0;
int password_from_flag = 0;

opt_def defs[] = {
    {"--host", "NODE_HOST", K_STR, &o.host, 0, 0, "HOST", "broker host name or IP (default 127.0.0.1)"},
    {"--port", "NODE_PORT", K_U16, &o.port, 1, 65535, "PORT", "broker port (default 1883 plain, 8883 with TLS)"},
    {"--id", "NODE_ID", K_STR, &o.id, 0, 0, "ID",
     "device id: client id, MQTT user and topic part (required, <= 23 chars)"},
    {"--location", "NODE_LOCATION", K_STR, &o.location, 0, 0, "TEXT", "location put in the combined payload"},
    {"--username", "NODE_USERNAME", K_STR, &o.username, 0, 0, "USER", "MQTT username (default: the id)"},
    {"--password", "NODE_PASSWORD", K_STR, &o.password, 0, 0, "PASS",
     "MQTT password; prefer NODE_PASSWORD (a flag shows in ps)"},
    {"--interval-ms", "NODE_INTERVAL_MS", K_U32, &o.interval_ms, 100, 86400000, "MS",
     "reading interval (default 2000)"},
    {"--publish-mode", "NODE_PUBLISH_MODE", K_MODE, &o.publish_mode, 0, 0, "MODE",
     "combined, per-sensor or both (default both)"},
    {"--scenario", "NODE_SCENARIO", K_STR, &o.scenario, 0, 0, "FILE|-",
     "sensor scenario file, or - for stdin (default: constant readings)"},
    {"--sensors", "NODE_SENSORS", K_STR, &o.sensors, 0, 0, "LIST",
     "simulated sensors by driver name, comma-separated, in payload order (default " POSIX_HAL_SENSORS
     "; with bme280: pir,ultrasonic,bme280)"},
    {"--state-dir", "NODE_STATE_DIR", K_STR, &o.state_dir, 0, 0, "DIR",
     "where the boot counter is kept (default $XDG_STATE_HOME or ~/.local/state, /esp8266-mqtt-tls)"},
    {"--keepalive", "NODE_KEEPALIVE", K_U16, &o.keepalive_s, 1, 65535, "S", "MQTT keepalive in seconds (default 30)"},
    {"--backoff-min-ms", "NODE_BACKOFF_MIN_MS", K_U32, &o.backoff_min_ms, 1, 60000, "MS",
     "first reconnect delay (default 1000)"},
    {"--backoff-max-ms", "NODE_BACKOFF_MAX_MS", K_U32, &o.backoff_max_ms, 1, 60000, "MS",
     "reconnect delay cap (default and maximum 60000)"},
    {"--queue", "NODE_QUEUE", K_U16, &o.queue, 1, MQTT_QUEUE_SLOTS, "N",
     "QoS 1 messages in flight, the window (default 4, as on the chip)"},
    {"--flash-sectors", "NODE_FLASH_SECTORS", K_U32, &o.flash_sectors, 0, 65536, "N",
     "4 KB sectors of the flash ring file STATE_DIR/ID.ring (default 250: 28 h at 2 s, as on the chip; 0: RAM only)"},
    {"--flash-sector-bytes", "NODE_FLASH_SECTOR_BYTES", K_U32, &o.flash_sector_bytes, 36, 4096, "BYTES",
     "sector size of the ring file (default 4096, as on the chip: 204 readings; 16 + 20 x N; tests use small ones to "
     "fill a ring in seconds)"},
    {"--per-sensor-max-age-ms", "NODE_PER_SENSOR_MAX_AGE_MS", K_U32, &o.per_sensor_max_age_ms, 0, 4294967295u, "MS",
     "older readings send only the combined message (default 300000; 0: always all)"},
    {"--connect-timeout-ms", "NODE_CONNECT_TIMEOUT_MS", K_U32, &o.connect_timeout_ms, 100, 60000, "MS",
     "TCP connect timeout (default 5000)"},
    {"--connack-timeout-ms", "NODE_CONNACK_TIMEOUT_MS", K_U32, &o.connack_timeout_ms, 500, 60000, "MS",
     "from connecting to the broker's CONNACK, TLS handshake included (default 15000)"},
    {"--tls", "NODE_TLS", K_TLS, &o.tls, 0, 0, "MODE",
     "ca (default, as on the chip: needs --ca), pin, fingerprint, or plain"},
    {"--plain", "NODE_PLAIN", K_FLAG, &o.plain, 0, 0, 0,
     "plain MQTT without TLS (a plain listener, e.g. 1883; same as --tls plain)"},
    {"--mtls", "NODE_MTLS", K_FLAG, &o.mtls, 0, 0, 0, "send a client certificate (--cert, --key)"},
    {"--ca", "NODE_CA", K_STR, &o.ca_file, 0, 0, "FILE", "CA certificate (PEM) for --tls ca"},
    {"--cert", "NODE_CERT", K_STR, &o.cert_file, 0, 0, "FILE", "client certificate (PEM) for --mtls"},
    {"--key", "NODE_KEY", K_STR, &o.key_file, 0, 0, "FILE", "client private key (PEM) for --mtls"},
    {"--pin", "NODE_PIN", K_STR, &o.pin_hex, 0, 0, "HEX", "SHA-256 of the broker's public key (SPKI) for --tls pin"},
    {"--fingerprint", "NODE_FINGERPRINT", K_STR, &o.fingerprint_hex, 0, 0, "HEX",
     "SHA-256 of the broker's certificate for --tls fingerprint"},
    {"--server-name", "NODE_SERVER_NAME", K_STR, &o.server_name, 0, 0, "NAME",
     "name or IP to verify and send as SNI (default: the host connected to)"},
    {"--tls-profile", "NODE_TLS_PROFILE", K_STR, &o.tls_profile_name, 0, 0, "NAME",
     "default (ECDHE_RSA over X25519: a gen-certs broker) or compat (adds ECDHE_ECDSA, P-256, EC keys)"},
    {"--tls-buffer", "NODE_TLS_BUFFER", K_U32, &o.tls_buffer, 512, 4096, "BYTES",
     "TLS maximum fragment length: 512, 1024 (default), 2048 or 4096"},
    {"--clock", "NODE_CLOCK", K_I64, &o.clock_s, 0, 0, "EPOCH_S",
     "wall clock at start in Unix seconds, for tests (0: not set)"},
};
const size_t n_defs = sizeof defs / sizeof defs[0];

void usage(FILE *f) {
    fprintf(f, "usage: mqtt_node --id ID [options]\n"
               "The native sensor node: the firmware's core with simulated sensors, publishing QoS 1\n"
               "readings to an MQTT broker. Every option can also come from the environment variable\n"
               "shown (the flag wins). Logs go to stderr, one event per line (mqtt:, tls:, sensor:, node:).\n\n");
    for (size_t i = 0; i < n_defs; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", defs[i].flag, defs[i].arg ? " " : "", defs[i].arg ? defs[i].arg : "");
        fprintf(f, "  %-28s %s [%s]\n", left, defs[i].help, defs[i].env);
    }
    fprintf(f, "  %-28s %s\n", "--help", "this text");
    fprintf(f, "\nScenario lines: pir 0|1, dht TEMP HUM, dht fail, dht badsum, distance CM, distance none,\n"
               "rssi DBM, link up|down, wait MS, # comment.\n"
               "Exit status: 0 after SIGTERM/SIGINT, 2 for bad options, 1 for a runtime failure.\n");
}

[[noreturn]] void fail(const char *what, const char *why, const char *value) {
    if (value)
        fprintf(stderr, "mqtt_node: %s: %s (got '%s')\n", what, why, value);
    else
        fprintf(stderr, "mqtt_node: %s: %s\n", what, why);
    exit(2);
}

void set_value(const opt_def &d, const char *v, const char *source) {
    char *end = 0;
    switch (d.k) {
        case K_STR:
            if (!*v) fail(source, "must not be empty", v);
            *(const char **)d.dst = v;
            break;
        case K_U32:
        case K_U16: {
            errno = 0;
            unsigned long x = strtoul(v, &end, 10);
            if (!*v || *end || errno || *v == '-' || x < d.min || x > d.max) {
                char why[64];
                snprintf(why, sizeof why, "expected a whole number %u..%u", (unsigned)d.min, (unsigned)d.max);
                fail(source, why, v);
            }
            if (d.dst == &o.flash_sectors) o.flash_sectors_set = 1;
            if (d.dst == &o.per_sensor_max_age_ms) o.per_sensor_max_age_set = 1;
            if (d.k == K_U32)
                *(uint32_t *)d.dst = (uint32_t)x;
            else
                *(uint16_t *)d.dst = (uint16_t)x;
            break;
        }
        case K_I64: {
            errno = 0;
            long long x = strtoll(v, &end, 10);
            if (!*v || *end || errno || x < 0 || x > 32503680000LL)
                fail(source, "expected Unix seconds (0..32503680000)", v);
            *(int64_t *)d.dst = x;
            o.clock_override = 1;
            break;
        }
        case K_FLAG:
            if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
                *(int *)d.dst = 1;
            else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
                *(int *)d.dst = 0;
            else
                fail(source, "expected 1/true or 0/false", v);
            break;
        case K_MODE:
            if (strcmp(v, "combined") == 0)
                o.publish_mode = NODE_PUBLISH_COMBINED;
            else if (strcmp(v, "per-sensor") == 0)
                o.publish_mode = NODE_PUBLISH_PER_SENSOR;
            else if (strcmp(v, "both") == 0)
                o.publish_mode = NODE_PUBLISH_BOTH;
            else
                fail(source, "expected combined, per-sensor or both", v);
            break;
        case K_TLS:
            o.tls_set = 1;
            if (strcmp(v, "plain") == 0)
                o.tls = NULL;
            else if (tls_mode_by_name(v) != NULL)
                o.tls = tls_mode_by_name(v);
            else
                fail(source, "expected plain, ca, pin or fingerprint", v);
            break;
    }
}

/* 32 bytes of hex, with or without colons (openssl prints "AB:CD:..."). */
bool sha256_hex(const char *v) {
    int digits = 0;
    for (const char *p = v; *p; p++) {
        if (*p == ':') continue;
        bool hex = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F');
        if (!hex) return false;
        digits++;
    }
    return digits == 64;
}

void parse(int argc, char **argv) {
    memset(&o, 0, sizeof o);
    for (size_t i = 0; i < n_defs; i++) {
        const char *v = getenv(defs[i].env);
        if (v && *v) set_value(defs[i], v, defs[i].env);
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        const char *eq = strchr(a, '=');
        size_t name_len = eq ? (size_t)(eq - a) : strlen(a);
        const opt_def *d = 0;
        for (size_t j = 0; j < n_defs; j++) {
            if (strlen(defs[j].flag) == name_len && strncmp(defs[j].flag, a, name_len) == 0) d = &defs[j];
        }
        if (!d) fail(a, "unknown option (see --help)", 0);
        if (d->k == K_FLAG && !eq) {
            *(int *)d->dst = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : 0);
        if (!v) fail(d->flag, "needs a value", 0);
        if (d->dst == &o.password) password_from_flag = 1;
        set_value(*d, v, d->flag);
    }

    if (!o.id) fail("--id", "is required (or NODE_ID)", 0);
    /* TLS unless asked otherwise, like the chip (issue 14): plain MQTT only with --plain. */
    if (o.plain && o.tls_set && o.tls != NULL) fail("--plain", "contradicts --tls (choose one)", 0);
    if (o.plain)
        o.tls = NULL;
    else if (!o.tls_set)
        o.tls = TLS_MODE_CA;
    if (!o.host) o.host = "127.0.0.1";
    if (!o.port) o.port = o.tls == NULL ? 1883 : 8883;
    if (!o.interval_ms) o.interval_ms = NODE_DEFAULT_INTERVAL_MS;
    if (!o.publish_mode) o.publish_mode = NODE_PUBLISH_BOTH;
    if (!o.keepalive_s) o.keepalive_s = MQTT_DEFAULT_KEEPALIVE_S;
    if (!o.backoff_min_ms) o.backoff_min_ms = MQTT_DEFAULT_BACKOFF_MIN_MS;
    if (!o.backoff_max_ms) o.backoff_max_ms = MQTT_DEFAULT_BACKOFF_MAX_MS;
    if (o.backoff_min_ms > o.backoff_max_ms) fail("--backoff-min-ms", "is larger than --backoff-max-ms", 0);
    if (!o.queue) o.queue = 4;
    if (!o.flash_sectors_set) o.flash_sectors = 250;
    if (o.flash_sectors > 0 && o.flash_sectors < 3)
        fail("--flash-sectors", "must be 0 (no flash ring) or at least 3", 0);
    if (!o.flash_sector_bytes) o.flash_sector_bytes = FLASH_FILE_SECTOR_SIZE;
    if (o.flash_sector_bytes % 4)
        fail("--flash-sector-bytes", "must be a multiple of 4 (the ESP8266's flash writes words)", 0);
    if (!o.per_sensor_max_age_set) o.per_sensor_max_age_ms = NODE_DEFAULT_PER_SENSOR_MAX_AGE_MS;
    if (!o.connect_timeout_ms) o.connect_timeout_ms = 5000;
    if (!o.tls_buffer) o.tls_buffer = 1024;
    /* The TLS max_fragment_length extension knows only these sizes (RFC 6066). */
    if (o.tls_buffer != 512 && o.tls_buffer != 1024 && o.tls_buffer != 2048 && o.tls_buffer != 4096)
        fail("--tls-buffer", "must be 512, 1024, 2048 or 4096 (the TLS maximum fragment length)", 0);
    if (!o.state_dir) {
        static char dir[512];
        const char *xdg = getenv("XDG_STATE_HOME");
        const char *home = getenv("HOME");
        if (xdg && *xdg)
            snprintf(dir, sizeof dir, "%s/esp8266-mqtt-tls", xdg);
        else if (home && *home)
            snprintf(dir, sizeof dir, "%s/.local/state/esp8266-mqtt-tls", home);
        else
            fail("--state-dir", "is required when neither XDG_STATE_HOME nor HOME is set", 0);
        o.state_dir = dir;
    }
    /* The TLS settings are checked here, so the transport gets a consistent set. */
    if (o.tls == NULL && (o.mtls || o.ca_file || o.pin_hex || o.fingerprint_hex))
        fail(o.plain ? "--plain" : "--tls", "is plain, but TLS options were given (--mtls/--ca/--pin/--fingerprint)",
             0);
    if (o.tls == TLS_MODE_CA && !o.ca_file && !o.tls_set)
        fail("TLS",
             "is the default, as on the chip: give --ca FILE (the CA that signed the broker), or --tls "
             "pin|fingerprint, or --plain for a plain listener",
             0);
    if (o.tls == TLS_MODE_CA && !o.ca_file) fail("--tls ca", "needs --ca FILE", 0);
    if (o.tls == TLS_MODE_PIN && !o.pin_hex) fail("--tls pin", "needs --pin HEX", 0);
    if (o.tls == TLS_MODE_FINGERPRINT && !o.fingerprint_hex) fail("--tls fingerprint", "needs --fingerprint HEX", 0);
    if (o.pin_hex && !sha256_hex(o.pin_hex)) fail("--pin", "expected 64 hex digits (SHA-256)", o.pin_hex);
    if (o.fingerprint_hex && !sha256_hex(o.fingerprint_hex))
        fail("--fingerprint", "expected 64 hex digits (SHA-256)", o.fingerprint_hex);
    if (o.mtls && (!o.cert_file || !o.key_file)) fail("--mtls", "needs --cert FILE and --key FILE", 0);
    o.tls_profile = tls_profile_by_name(o.tls_profile_name ? o.tls_profile_name : "default");
    if (!o.tls_profile) fail("--tls-profile", "expected default or compat", o.tls_profile_name);
}

void on_signal(int sig) { stop_signal = sig; }

node_app app; /* static storage: holds the MQTT queue, as on the chip */
posix_hal hal;
flash_file ring;

} // namespace

int main(int argc, char **argv) {
    parse(argc, argv);

    posix_hal_options ho;
    memset(&ho, 0, sizeof ho);
    ho.device_id = o.id;
    ho.state_dir = o.state_dir;
    ho.clock_override = o.clock_override;
    ho.clock_s = o.clock_s;
    ho.scenario = o.scenario;
    ho.sensors = o.sensors;
    ho.argv = argv;
    char err[600];
    node_config cfg;
    node_config_defaults(&cfg);
    cfg.device_id = o.id;
    cfg.location = o.location ? o.location : "";
    cfg.host = o.host;
    cfg.port = o.port;
    cfg.username = o.username;
    cfg.password = o.password;
    cfg.interval_ms = o.interval_ms;
    cfg.publish_mode = o.publish_mode;
    cfg.keepalive_s = o.keepalive_s;
    cfg.backoff_min_ms = o.backoff_min_ms;
    cfg.backoff_max_ms = o.backoff_max_ms;
    cfg.queue_limit = o.queue;
    cfg.connack_timeout_ms = (uint16_t)o.connack_timeout_ms;
    cfg.per_sensor_max_age_ms = o.per_sensor_max_age_ms;
    /* Check everything before the HAL touches the disk (the boot counter): bad input leaves
       nothing behind. The id also names the boot counter file. */
    if (strlen(o.id) > NODE_MAX_ID_LEN || strpbrk(o.id, "/+# \t"))
        fail("--id", "must be 1..23 characters without '/', '+', '#' or spaces", o.id);
    if (const char *bad = node_config_check(&cfg)) {
        fprintf(stderr, "mqtt_node: %s\n", bad);
        return 2;
    }
    /* The transport reads and checks --ca/--cert/--key/--pin/... (files, PEM, hex), so it comes
       before the HAL bumps the boot counter: a bad credential exits without writing state. */
    transport *t = native_transport_create(&o);
    if (!t) return 2;
    if (posix_hal_init(&hal, &ho, err, sizeof err)) {
        fprintf(stderr, "mqtt_node: %s\n", err);
        return 2;
    }
    if (native_transport_attach(&hal.hal) != 0) return 2;
    if (o.flash_sectors) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s.ring", o.state_dir, o.id);
        if (flash_file_open(&ring, path, o.flash_sectors, o.flash_sector_bytes, err, sizeof err)) {
            fprintf(stderr, "mqtt_node: %s\n", err);
            return 2;
        }
        hal.hal.flash = &ring.io;
    }

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, 0);
    sigaction(SIGINT, &sa, 0);

    if (password_from_flag)
        fprintf(stderr, "node: warning: --password is visible to other users in ps; prefer NODE_PASSWORD\n");
    const char *why = node_app_init(&app, &cfg, &hal.hal, t);
    if (why) {
        fprintf(stderr, "mqtt_node: %s\n", why);
        return 2;
    }
    fprintf(stderr, "node: broker %s port %u, publish mode %s, interval %u ms, queue %u\n", o.host, (unsigned)o.port,
            o.publish_mode == NODE_PUBLISH_COMBINED     ? "combined"
            : o.publish_mode == NODE_PUBLISH_PER_SENSOR ? "per-sensor"
                                                        : "both",
            (unsigned)o.interval_ms, (unsigned)o.queue);

    while (!stop_signal) {
        posix_hal_poll(&hal);
        node_app_poll(&app);
        /* 2 ms: well below any MQTT or sensor deadline, and idle enough for several nodes on
           two cores. */
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, 0);
    }
    /* No DISCONNECT on purpose: the broker then publishes the will ("offline"), which is the
       truth for a node that stops. */
    /* Whatever is not acknowledged yet goes to the flash ring, for the next start. */
    node_app_persist(&app);
    fprintf(stderr, "node: stopping on %s, %u message(s) still queued, %u reading(s) not yet acknowledged\n",
            stop_signal == SIGINT ? "SIGINT" : "SIGTERM", (unsigned)mqtt_session_pending(&app.session),
            (unsigned)node_app_backlog(&app));
    t->close(t);
    return 0;
}
