/*
 * hal_esp8266.h - lib/port/hal.h for a NodeMCU (ESP8266) on Arduino core 3.x.
 *
 * What lives here and not in the portable core: everything that touches a pin or the SDK,
 * and the code whose timing matters (the DHT22 bit stream, the HC-SR04 echo). Decoding and
 * validation (checksum, cm conversion, range, PIR debounce) stay in lib/sensors. Each sensor's
 * read is one function here, named in src/esp8266/main.cpp's sensor table (ctx = the board);
 * the BME280's is bme280_i2c.h.
 *
 * Usage (src/esp8266/main.cpp):
 *     static hal_esp8266 board;
 *     static node_hal hal;
 *     hal_esp8266_begin(&board, &cfg, sensors, count, &hal); // setup(): pins, WiFi.begin, configTime
 *     hal_esp8266_poll(&board);                // in every loop(): WiFi watchdog, clock-set log
 *
 * Nothing here allocates after hal_esp8266_begin() (the SDK and lwIP keep their own pools).
 */
#ifndef HAL_ESP8266_H
#define HAL_ESP8266_H

#include <stddef.h>
#include <stdint.h>

#include "flash_region.h"
#include "hal.h"

struct hal_esp8266_config {
    const char *wifi_ssid;
    const char *wifi_password;
    const char *ntp_server1;
    const char *ntp_server2; /* may be NULL */
    const char *tz;          /* POSIX TZ string, e.g. "UTC0" */
    uint8_t pin_pir;
    uint8_t pin_hcsr04_trig;
    uint8_t pin_hcsr04_echo;
    uint8_t pin_dht22;
    uint8_t pin_led;    /* active low (the NodeMCU's on-board LED on GPIO2) */
    uint8_t pin_buzzer; /* active buzzer module: high = sounding */
};

struct hal_esp8266 {
    hal_esp8266_config cfg;
    /* WiFi watchdog: the SDK reconnects by itself, but a changed password or an AP that
       went away for long can leave it stuck; we restart the association now and then. */
    int last_wifi_status;
    uint32_t wifi_begin_ms;
    uint8_t clock_was_set;
    /* The DHT22 must not be read more often than every 2 s (datasheet); a faster caller
       gets the previous result instead of a garbled frame. */
    uint8_t dht_have_last;
    int dht_last_result;
    uint32_t dht_last_ms;
    uint8_t dht_last_frame[5];
    uint8_t pir_ready, dht_ready, hcsr04_ready; /* pins set up by the first read */
    flash_io flash;                             /* the reading ring's region (flash_region.h) */
};

/* Sets up pins, serial is assumed begun by the caller; starts WiFi (non-blocking) and SNTP, and
   fills `out` with this board's functions (ctx = board) and the sensor table. */
void hal_esp8266_begin(hal_esp8266 *board, const hal_esp8266_config *cfg, const node_sensor *sensors,
                       uint8_t sensor_count, node_hal *out);

/* node_sensor reads (ctx = the board): the PIR level (1 byte), the HC-SR04 echo in us (4 bytes,
   little-endian), the DHT22 frame (5 bytes); HAL_SENSOR_NO_ANSWER on a timeout. */
int hal_esp8266_read_pir(void *ctx, uint8_t *raw, size_t cap);
int hal_esp8266_read_ultrasonic(void *ctx, uint8_t *raw, size_t cap);
int hal_esp8266_read_dht22(void *ctx, uint8_t *raw, size_t cap);

/* Call from every loop(): logs WiFi up/down with the reason, restarts a stuck association,
   logs once when NTP has set the clock. Never blocks. */
void hal_esp8266_poll(hal_esp8266 *board);

/* 1 once the wall clock has been set (by SNTP), else 0. TLS must not start before. */
int hal_esp8266_clock_is_set(void);

#endif
