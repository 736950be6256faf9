/*
 * main.cpp - the ESP8266 sensor node: setup() and loop().
 *
 * Wires the NodeMCU HAL (lib/hal_esp8266), the WiFiClient transport, optionally TLS on top of
 * it (node_certs.cpp, lib/tls) and the portable node application (lib/node). All state is
 * static: nothing here allocates after setup().
 *
 * Settings: include/config.h (copy of include/config.example.h); identity, password and TLS
 * material: include/certs.h (host-tools/gen-certs.ts). platformio.ini sets NODE_USE_TLS and
 * NODE_MQTT_PORT per env.
 */
#include <Arduino.h>

#if defined(__has_include)
#if !__has_include("config.h")
#error "include/config.h is missing: cp include/config.example.h include/config.h and edit it"
#endif
#endif
#include "config.h"

#include "config_check.h" /* refuses the example's placeholder WiFi name at build time */

#include "flash_str.h"
#include "hal_esp8266.h"
#include "log_line.h"
#include "node_app.h"
#include "node_certs.h"
#include "wifi_tcp_transport.h"

/* Bounds transport open(): DNS and TCP connect each (the session's own connect timeout,
   CONNACK included, is longer). */
static const uint32_t kTcpConnectTimeoutMs = 5000;

static hal_esp8266 board;
static node_hal hal;

#include "sensor_table.h" /* kSensors: the sensors config.h chose, with this board's reads */
static wifi_tcp_transport tcp;
static node_app app;
static const char *setup_error; /* non-NULL: the node cannot run; loop() says why */
static transport *stream;       /* what the session talks through: TCP, or TLS over TCP */
static void (*board_restart)(void *ctx);

/* "reset" from the backend: close the connection properly before restarting. With TLS that
   sends close_notify, and only a cleanly closed session stays in the broker's cache (OpenSSL
   drops it on an unexpected EOF), so the session kept in RTC memory can be resumed after the
   restart. */
static void restart_cleanly(void *ctx) {
    stream->close(stream);
    board_restart(ctx);
}

#if NODE_USE_TLS && NODE_TLS_MODE == NODE_TLS_MODE_CA
/* CA mode checks the broker certificate's dates, so the session must not even try before NTP
   has set the clock: until then the link counts as down (the TLS transport would refuse
   anyway, but the session would count that as a failure and back off). Logged once: the clock
   stays set after that. PIN and FINGERPRINT modes check no dates and need not wait. */
static int (*wifi_link_up)(void *ctx);
static uint8_t waiting_for_clock_logged;

static int link_up_with_clock(void *ctx) {
    if (!wifi_link_up(ctx)) { return 0; }
    if (!hal_esp8266_clock_is_set()) {
        if (!waiting_for_clock_logged) {
            /* In flash, copied into a log line only when said: a literal would sit in DRAM. */
            log_text(hal.log, hal.ctx, FLASH_STR("tls: "),
                     FLASH_STR("waiting for NTP to set the clock before the first TLS connection (certificate dates "
                               "need the real time)"));
            waiting_for_clock_logged = 1;
        }
        return 0;
    }
    return 1;
}
#endif

void setup() {
    Serial.begin(115200);
    Serial.print("\r\n");

    hal_esp8266_config board_cfg;
    board_cfg.wifi_ssid = NODE_WIFI_SSID;
    board_cfg.wifi_password = NODE_WIFI_PASSWORD;
    board_cfg.ntp_server1 = NODE_NTP_SERVER1;
    board_cfg.ntp_server2 = NODE_NTP_SERVER2;
    board_cfg.tz = NODE_TZ;
    board_cfg.pin_pir = NODE_PIN_PIR;
    board_cfg.pin_hcsr04_trig = NODE_PIN_HCSR04_TRIG;
    board_cfg.pin_hcsr04_echo = NODE_PIN_HCSR04_ECHO;
    board_cfg.pin_dht22 = NODE_PIN_DHT22;
    board_cfg.pin_led = NODE_PIN_LED;
    board_cfg.pin_buzzer = NODE_PIN_BUZZER;
    hal_esp8266_begin(&board, &board_cfg, kSensors, sizeof kSensors / sizeof kSensors[0], &hal);

    board_restart = hal.restart;
    hal.restart = restart_cleanly;

    wifi_tcp_transport_init(&tcp, kTcpConnectTimeoutMs);
    stream = &tcp.base;
#if NODE_USE_TLS
#if NODE_TLS_MODE == NODE_TLS_MODE_CA
    wifi_link_up = hal.link_up;
    hal.link_up = link_up_with_clock;
#endif
    stream = node_certs_tls_begin(&tcp.base, &hal, &setup_error);
    if (stream == nullptr) { return; }
#endif

    node_identity id;
    node_certs_identity(&id);

    node_config cfg;
    node_config_defaults(&cfg);
    cfg.device_id = id.device_id;
    cfg.location = NODE_LOCATION;
    cfg.host = NODE_MQTT_HOST;
    cfg.port = NODE_MQTT_PORT;
    cfg.username = id.username;
    cfg.password = id.password;
    cfg.interval_ms = NODE_READ_INTERVAL_MS;
    cfg.publish_mode = NODE_PUBLISH_MODE;
    cfg.keepalive_s = NODE_MQTT_KEEPALIVE_S;
    setup_error = node_app_init(&app, &cfg, &hal, stream);

    char line[96];
    snprintf(line, sizeof(line), "node: esp8266 %s:%u %s", NODE_MQTT_HOST, static_cast<unsigned>(NODE_MQTT_PORT),
             NODE_USE_TLS ? "tls" : "plain (no TLS)");
    hal.log(hal.ctx, line);
}

void loop() {
    hal_esp8266_poll(&board);
    if (setup_error == nullptr) {
        node_app_poll(&app);
#if NODE_USE_TLS
        node_certs_tls_poll();
#endif
        return;
    }
    /* A configuration error cannot fix itself: say so every 5 s (so a serial monitor opened
       late still sees it) and blink the LED fast so it shows without a monitor. */
    static uint32_t last_said;
    const uint32_t now = millis();
    if (last_said == 0 || now - last_said >= 5000) {
        char line[160] = "node: config error: ";
        const size_t head = strlen(line);
        /* not %s: a TLS error name is a FLASH_STR (lib/port/flash_str.h) */
        flash_strlcpy(line + head, setup_error, sizeof(line) - head);
        hal.log(hal.ctx, line);
        last_said = now ? now : 1;
    }
    hal.led_set(hal.ctx, (now / 100) & 1);
    delay(10);
}
