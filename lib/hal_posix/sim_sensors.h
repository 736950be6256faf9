/*
 * sim_sensors.h - the native node's simulated sensors: one table line per sensor.
 *
 * Each line is a scenario command (scenario.h) and a read function that produces what the real
 * part would give its HAL (a DHT22 frame, an echo time, a BME280's registers), in its driver's
 * raw format, so the core's decoders (lib/sensors) run exactly as on the chip. A simulated
 * sensor's state is four numbers, set by its command and read by its read function.
 */
#ifndef SIM_SENSORS_H
#define SIM_SENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "hal.h"
#include "sensor_driver.h"

#define SIM_STATE_WORDS 4
#define SIM_MAX_SENSORS 8

struct sim_sensor {
    const sensor_driver *driver; /* whose raw format read() produces; --sensors names it */
    const char *command;         /* scenario command word ("dht") */
    const char *usage;           /* the refusal: "expected: dht TEMP_C HUMIDITY | dht fail | dht badsum" */
    const char *initial;         /* the arguments of a quiet room, applied at start */
    /* The words after the command: true and the new state, or false (then `usage` says why). */
    bool (*parse)(char *const *words, int count, int32_t state[SIM_STATE_WORDS]);
    /* node_sensor.read, with ctx = this sensor's int32_t state[SIM_STATE_WORDS]. */
    int (*read)(void *state, uint8_t *raw, size_t cap);
};

extern const sim_sensor sim_sensor_table[];
extern const size_t sim_sensor_count;

/* The simulated sensor for a driver name ("dht22"), or NULL. */
const sim_sensor *sim_sensor_by_name(const char *name);

/* Number parsing shared by the commands: a decimal as tenths (or hundredths: scale 100). */
bool sim_parse_fixed(const char *s, int32_t scale, int32_t lo, int32_t hi, int32_t *out);
bool sim_parse_int(const char *s, long lo, long hi, int32_t *out);

#endif
