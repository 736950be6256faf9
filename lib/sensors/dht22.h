/*
 * dht22.h - decode and validate the DHT22 (AM2302) 40-bit frame.
 *
 * The HAL clocks the 40 bits in (timing-critical, per target); the core decodes them here so
 * the same checks run on the chip and in the native node's tests.
 * Frame: humidity x10 (16 bits), temperature x10 (15 bits + sign bit 15), checksum = low
 * byte of the sum of the first four bytes.
 */
#ifndef DHT22_H
#define DHT22_H

#include <stdint.h>

enum dht22_status {
    DHT22_OK = 0,
    DHT22_TIMEOUT = 1, /* the sensor did not answer */
    DHT22_BAD_CHECKSUM = 2,
    DHT22_OUT_OF_RANGE = 3 /* checksum fine but outside the datasheet range: a bit slipped */
};

/* The sensor must not be read more often than this (datasheet: 2 s sampling period). */
#define DHT22_MIN_INTERVAL_MS 2000u

struct dht22_reading {
    int16_t temperature_tenths; /* -400..800 */
    uint16_t humidity_tenths;   /* 0..1000 */
};

/* Decode a frame. On anything but DHT22_OK the reading is left zeroed. */
dht22_status dht22_decode(const uint8_t frame[5], dht22_reading *out);

/* The name of a status, for log lines ("TIMEOUT", "BAD_CHECKSUM", ...). */
const char *dht22_status_name(dht22_status s);

struct sensor_driver;
/* the DHT22 driver: raw = the 5-byte frame. */
extern const sensor_driver sensor_dht22;

#endif
