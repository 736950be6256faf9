/*
 * scenario.h - simulated sensors for the native node, driven by a scenario (one command a line):
 *   <sensor command> ...    a simulated sensor's new state (sim_sensors.cpp, one line each):
 *     pir 0|1                 PIR output level
 *     dht T H                 DHT22 answers T degC, H %RH (e.g. "dht 21.5 40.2", "dht -5.5 80")
 *     dht fail                DHT22 does not answer (timeout)
 *     dht badsum              DHT22 answers with a corrupted checksum
 *     distance CM             HC-SR04 object at CM cm (beyond ~514 cm the echo times out)
 *     distance none           no echo at all (timeout)
 *     bme280 T H P            BME280 measures T degC, H %RH, P hPa (e.g. "bme280 21.5 40 1013.25")
 *     bme280 fail             BME280 does not answer on the I2C bus
 *   rssi DBM                WiFi signal strength reported in the payload
 *   link up|down            the network link (the session does not connect while down)
 *   wait MS                 apply the following lines MS ms later
 *   # comment, empty line   ignored
 * The simulator produces what the real parts would (a 40-bit DHT22 frame, an echo time in
 * microseconds, BME280 registers), so the core's decoding and validation (lib/sensors) run
 * exactly as on the chip.
 */
#ifndef SCENARIO_H
#define SCENARIO_H

#include <stdint.h>

#include "sim_sensors.h"

enum scenario_kind { SC_NONE = 0, SC_SENSOR, SC_RSSI, SC_LINK, SC_WAIT };

struct scenario_cmd {
    scenario_kind kind;
    uint8_t sensor;             /* SC_SENSOR: its line in sim_sensor_table */
    int32_t v[SIM_STATE_WORDS]; /* SC_SENSOR: the new state; otherwise v[0]: rssi, link, wait ms */
};

struct sim_sensors {
    int32_t state[SIM_MAX_SENSORS][SIM_STATE_WORDS]; /* per line of sim_sensor_table */
    int rssi;
    int link;
};

void sim_sensors_init(sim_sensors *s);
/* Parse one line (without newline). NULL, or a short message saying what is wrong. */
const char *scenario_parse_line(const char *line, scenario_cmd *out);
void scenario_apply(sim_sensors *s, const scenario_cmd *c);

#endif
