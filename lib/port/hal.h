/*
 * hal.h - everything the portable core needs from a target, injected as function pointers.
 *
 * Two implementations: lib/hal_posix (native Linux node, simulated sensors driven by a
 * scenario) and lib/hal_esp8266 (NodeMCU on Arduino core 3.x). The core never includes an
 * Arduino or POSIX header; timing-critical pin work (the DHT22 bit stream, the HC-SR04 echo, an
 * I2C transfer) lives behind this interface, decoding and validation live in the core
 * (lib/sensors, one driver per sensor).
 */
#ifndef NODE_HAL_H
#define NODE_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "flash_io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A sensor read's result when the part did not answer (no echo, no DHT22 edge, I2C NACK). */
#define HAL_SENSOR_NO_ANSWER (-1)

typedef struct node_hal node_hal;
struct sensor_driver; /* lib/sensors/sensor_driver.h */

/* One line of a target's sensor table: the driver (what the bytes mean) and this target's
   read function for it, which fills raw[0..cap) in the driver's raw format and returns the
   byte count, or HAL_SENSOR_NO_ANSWER. ctx is the line's own (pins, a simulated state). */
typedef struct node_sensor {
    const struct sensor_driver *driver;
    int (*read)(void *ctx, uint8_t *raw, size_t cap);
    void *ctx;
} node_sensor;

struct node_hal {
    void *ctx;

    /* Monotonic milliseconds since start (wraps after 49 days; compare with subtraction). */
    uint32_t (*millis)(void *ctx);
    /* Wall clock in ms since the Unix epoch, or 0 while the clock is not set (no NTP yet). */
    int64_t (*epoch_ms)(void *ctx);
    /* 32 random bits (reconnect jitter). */
    uint32_t (*random32)(void *ctx);
    /* One log line, without newline. */
    void (*log)(void *ctx, const char *line);

    /* Reads, increments and stores the boot counter; called once at start. Makes `seq`
       unique across reboots. */
    uint32_t (*next_boot_count)(void *ctx);
    /* 1 when the network link (WiFi) is up; the session does not try to connect while it is 0. */
    int (*link_up)(void *ctx);
    /* Signal strength in dBm (0 when unknown). */
    int (*wifi_rssi)(void *ctx);
    /* Restart the node (control message "reset"). */
    void (*restart)(void *ctx);

    /* The sensors this node has, in the order of the payload. */
    const node_sensor *sensors;
    uint8_t sensor_count;
    /* Actuators. */
    void (*led_set)(void *ctx, int on); /* logical on/off; the HAL knows GPIO2 is active low */
    void (*buzzer_set)(void *ctx, int on);

    /* The flash region for readings that wait for the broker (lib/store/flash_ring.h), or NULL:
       then they wait in RAM only and a power cut loses them. */
    const flash_io *flash;
};

#ifdef __cplusplus
}
#endif

#endif
