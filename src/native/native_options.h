/*
 * native_options.h - the native node's settings, from flags or the environment (flag wins).
 * Parsed by main.cpp; native_transport.cpp reads the TLS part.
 */
#ifndef NATIVE_OPTIONS_H
#define NATIVE_OPTIONS_H

#include <stdint.h>

struct tls_mode;
struct tls_profile;

struct native_options {
    /* broker and identity */
    const char *host;     /* --host, NODE_HOST (default 127.0.0.1) */
    uint16_t port;        /* --port, NODE_PORT (default 1883 plain, 8883 TLS) */
    const char *id;       /* --id, NODE_ID (required) */
    const char *location; /* --location, NODE_LOCATION */
    const char *username; /* --username, NODE_USERNAME (default: the id) */
    const char *password; /* NODE_PASSWORD (preferred: not visible in ps) or --password */
    /* behaviour */
    uint32_t interval_ms;        /* --interval-ms (default 2000) */
    uint8_t publish_mode;        /* --publish-mode combined|per-sensor|both (default both) */
    const char *scenario;        /* --scenario FILE|- */
    const char *sensors;         /* --sensors LIST (default POSIX_HAL_SENSORS) */
    const char *state_dir;       /* --state-dir DIR (boot counter) */
    uint16_t keepalive_s;        /* --keepalive S (default 30) */
    uint32_t backoff_min_ms;     /* --backoff-min-ms (default 1000) */
    uint32_t backoff_max_ms;     /* --backoff-max-ms (default 60000, the maximum) */
    uint16_t queue;              /* --queue N (default 16, as on the chip) */
    uint32_t connect_timeout_ms; /* --connect-timeout-ms (TCP connect; default 5000) */
    uint32_t connack_timeout_ms; /* --connack-timeout-ms (up to CONNACK, TLS handshake included; default 15000) */
    uint32_t flash_sectors;      /* --flash-sectors N: STATE_DIR/<id>.ring (default 250, as on the chip; 0: none) */
    int flash_sectors_set;
    uint32_t flash_sector_bytes;    /* --flash-sector-bytes N (default 4096; tests: small rings) */
    uint32_t per_sensor_max_age_ms; /* --per-sensor-max-age-ms (default 300000; 0: never skip) */
    int per_sensor_max_age_set;
    /* TLS (implemented by lib/tls; see native_transport.cpp) */
    const struct tls_mode *tls;   /* --tls: NULL for plain, else tls_mode_by_name() (lib/tls) */
    int tls_set;                  /* --tls given (else CA mode, the default, unless --plain) */
    int plain;                    /* --plain: plain MQTT (same as --tls plain) */
    const char *tls_profile_name; /* --tls-profile default|compat */
    const struct tls_profile *tls_profile;
    int mtls;                    /* --mtls */
    const char *ca_file;         /* --ca FILE (PEM) */
    const char *cert_file;       /* --cert FILE (PEM) */
    const char *key_file;        /* --key FILE (PEM) */
    const char *pin_hex;         /* --pin HEX: SHA-256 of the broker's SubjectPublicKeyInfo */
    const char *fingerprint_hex; /* --fingerprint HEX: SHA-256 of the broker's certificate */
    const char *server_name;     /* --server-name NAME (default: the host connected to) */
    uint32_t tls_buffer;         /* --tls-buffer BYTES: max fragment (default 1024, min 512) */
    int clock_override;          /* --clock given */
    int64_t clock_s;             /* --clock EPOCH_SECONDS (0: clock not set) */
};

#endif
