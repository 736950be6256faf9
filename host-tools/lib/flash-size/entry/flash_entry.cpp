/*
 * flash_entry.cpp - the link root for host-tools/flash-size.ts's cross-compiled estimate.
 *
 * The estimate links with --gc-sections from flash_size_entry(), so only code reachable from
 * here counts. It does what src/esp8266/main.cpp does with the portable core: a node_app with
 * a HAL, over a TLS transport (FLASH_SIZE_TLS=1, the nodemcuv2 env) or straight over TCP
 * (FLASH_SIZE_TLS=0, nodemcuv2_plain). The HAL and the TCP transport are stubs: on the chip
 * they are lib/hal_esp8266 over the Arduino core, which this toolchain cannot build, so their
 * (small) cost is not in the estimate; the PlatformIO measurement has everything.
 *
 * Never run: it only has to make the linker keep what the node really calls.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "node_app.h"
#if FLASH_SIZE_TLS
#include "tls_transport.h"
#endif

static uint32_t stub_u32(void *) { return 0; }
static int64_t stub_epoch_ms(void *) { return 0; }
static void stub_log(void *, const char *) {}
static int stub_int(void *) { return 0; }
static void stub_void(void *) {}
static int stub_read(void *, uint8_t *, size_t) { return HAL_SENSOR_NO_ANSWER; }
static void stub_set(void *, int) {}

/* The NodeMCU's sensor table with the default config (its drivers, these stub reads). */
#define SENSOR_TABLE_STUB_READ stub_read
#include "../../../../src/esp8266/sensor_table.h"

static int tcp_open(transport *, const char *, uint16_t) { return TRANSPORT_ERR_IO; }
static int32_t tcp_read(transport *, uint8_t *, size_t) { return 0; }
static int32_t tcp_write(transport *, const uint8_t *, size_t) { return 0; }
static void tcp_close(transport *) {}
static const char *tcp_name(const transport *) { return ""; }

static node_hal hal;
static transport tcp;
static node_app app;

#if FLASH_SIZE_TLS
/* The record buffers the ESP8266 build uses (1024-byte maximum fragment). */
static uint8_t tls_buf[TLS_BUFFER_SIZE(1024)];
static tls_transport tls;
static tls_config tls_cfg;
static br_x509_trust_anchor anchor;
#endif

extern "C" void flash_size_entry(void) {
    hal.millis = stub_u32;
    hal.epoch_ms = stub_epoch_ms;
    hal.random32 = stub_u32;
    hal.log = stub_log;
    hal.next_boot_count = stub_u32;
    hal.link_up = stub_int;
    hal.wifi_rssi = stub_int;
    hal.restart = stub_void;
    hal.sensors = kSensors;
    hal.sensor_count = sizeof kSensors / sizeof kSensors[0];
    hal.led_set = stub_set;
    hal.buzzer_set = stub_set;
    tcp.open = tcp_open;
    tcp.read = tcp_read;
    tcp.write = tcp_write;
    tcp.close = tcp_close;
    tcp.error_name = tcp_name;
    tcp.error_hint = tcp_name;

    transport *stream = &tcp;
#if FLASH_SIZE_TLS
    tls_cfg.mode = TLS_MODE_CA;
    tls_cfg.trust_anchors = &anchor;
    tls_cfg.trust_anchor_count = 1;
    tls_cfg.epoch_ms = hal.epoch_ms;
    tls_cfg.log = hal.log;
    tls_cfg.random32 = hal.random32;
    tls_transport_init(&tls, &tcp, &tls_cfg, tls_buf, sizeof tls_buf);
    stream = &tls.base;
#endif
    node_config cfg;
    node_config_defaults(&cfg);
    cfg.device_id = "node01";
    cfg.location = "flash-size";
    cfg.host = "broker";
    if (node_app_init(&app, &cfg, &hal, stream) == NULL) {
        for (;;) node_app_poll(&app);
    }
}

/* The SDK provides these on the chip; picolibc's time() wants the first. */
extern "C" int gettimeofday(struct timeval *tv, void *) {
    tv->tv_sec = 0;
    tv->tv_usec = 0;
    return 0;
}
