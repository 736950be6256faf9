/*
 * sensor_driver.h - what the node knows about one kind of sensor, in one const struct.
 *
 * A driver says how to turn the bytes its HAL read returns into values (decode), which JSON
 * fields those values are, how they pack into the reading record, and what goes on its
 * per-sensor topic sensors/<name>/<id>. node_app handles every sensor through this struct
 * only; a target lists its sensors in one table of node_sensor lines (lib/port/hal.h: the
 * driver and that target's read function): src/esp8266/main.cpp (selected by config.h) and
 * lib/hal_posix/sim_sensors.cpp (the native node, selected by --sensors).
 *
 * Adding a sensor: a driver (here: its decode and its const sensor_driver), a read function per
 * target, a scenario command for the native node, and its table lines (docs/architecture.md,
 * "A new sensor").
 *
 * The record: a reading's values share 64 bits of its store record (lib/store/flash_ring.h,
 * "values"): 8 for the RSSI, then per sensor an "ok" bit (unless SENSOR_ALWAYS_OK) and each
 * value in `bits` bits as value - min. node_app_init refuses a sensor set that needs more.
 */
#ifndef SENSOR_DRIVER_H
#define SENSOR_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "text_buf.h"

#define SENSOR_MAX_VALUES  3
/* Bytes a HAL read may return (the BME280's calibration block and data: 41). */
#define SENSOR_RAW_MAX     48
/* Bits of the record for sensor values (64 - 8 for the RSSI). */
#define SENSOR_RECORD_BITS 56

enum sensor_value_kind { SENSOR_NUMBER = 0, SENSOR_BOOL = 1 };

/* One value: one JSON field. Numbers are integers with `decimals` implied decimals
   (tenths: 215 -> 21.5). */
struct sensor_value {
    const char *key;  /* JSON field, e.g. "temperature_c" */
    uint8_t kind;     /* sensor_value_kind */
    uint8_t decimals; /* 0..3 */
    uint8_t bits;     /* record bits: the value must lie in min .. min + 2^bits - 1 */
    int32_t min;
};

enum sensor_flags {
    SENSOR_ALWAYS_OK = 1, /* never fails (no ok bit in the record, never null) */
    SENSOR_EDGE = 2,      /* read at every poll, value 0 debounced; a rising edge takes a reading */
    SENSOR_QUIET = 4      /* a failed read is not logged (HC-SR04: no echo = nothing in range) */
};

enum sensor_topic_style {
    SENSOR_TOPIC_VALUE = 0, /* the bare value ("1", "123.4"), or `missing` when the read failed */
    SENSOR_TOPIC_JSON = 1   /* {"device_id",<fields>,"timestamp"}; not sent when the read failed */
};

struct sensor_driver {
    const char *name;    /* topic sensors/<name>/<id>, key in the combined "sensors" */
    uint8_t flags;       /* sensor_flags */
    uint8_t topic_style; /* sensor_topic_style */
    uint8_t value_count; /* 1..SENSOR_MAX_VALUES */
    const sensor_value *values;
    const char *missing;      /* SENSOR_TOPIC_VALUE: payload for a failed read ("-1") */
    uint32_t min_interval_ms; /* never read more often; the last result stands in between */
    const char *rise_log;     /* SENSOR_EDGE: log on a rising / falling edge */
    const char *fall_log;
    /* raw: what the HAL read returned, n its length (< 0: the sensor did not answer).
       Fills values[] and returns NULL, or returns the failure's name for the log
       ("TIMEOUT", "BAD_CHECKSUM"). */
    const char *(*decode)(const uint8_t *raw, int n, int32_t values[SENSOR_MAX_VALUES]);
};

#ifdef __cplusplus
extern "C" {
#endif

/* Record bits this driver needs. */
unsigned sensor_record_bits(const sensor_driver *d);
/* Pack / unpack one sensor's ok flag and values at bit *pos of the record's value bytes (bits
   numbered little-endian: bit 0 is byte 0's lowest). pack only sets bits: start from zeros. */
void sensor_pack(const sensor_driver *d, uint8_t ok, const int32_t values[SENSOR_MAX_VALUES], uint8_t *field,
                 unsigned *pos);
void sensor_unpack(const sensor_driver *d, const uint8_t *field, unsigned *pos, uint8_t *ok,
                   int32_t values[SENSOR_MAX_VALUES]);
/* Value i as JSON (number with its decimals, true/false), or null when !ok. */
void sensor_format_value(text_buf *tb, const sensor_driver *d, unsigned i, uint8_t ok, const int32_t *values);
/* The widest text value i can take (for the "does the widest payload fit" check). */
int32_t sensor_widest_value(const sensor_driver *d, unsigned i);

#ifdef __cplusplus
}
#endif

#endif
