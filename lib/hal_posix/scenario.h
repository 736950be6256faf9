/*
 * scenario.h - simulated sensors for the native node, driven by a scenario (one command a line):
 *   pir 0|1                 PIR output level
 *   dht T H                 DHT22 answers T degC, H %RH (e.g. "dht 21.5 40.2", "dht -5.5 80")
 *   dht fail                DHT22 does not answer (timeout)
 *   dht badsum              DHT22 answers with a corrupted checksum
 *   distance CM             HC-SR04 object at CM cm (beyond ~514 cm the echo times out)
 *   distance none           no echo at all (timeout)
 *   rssi DBM                WiFi signal strength reported in the payload
 *   link up|down            the network link (the session does not connect while down)
 *   wait MS                 apply the following lines MS ms later
 *   # comment, empty line   ignored
 * The simulator produces what the real parts would: a 40-bit DHT22 frame and an echo time in
 * microseconds, so the core's decoding and validation (lib/sensors) run exactly as on the chip.
 */
#ifndef SCENARIO_H
#define SCENARIO_H

#include <stdint.h>

enum scenario_kind {
    SC_NONE = 0, SC_PIR, SC_DHT, SC_DHT_FAIL, SC_DHT_BADSUM, SC_DISTANCE, SC_DISTANCE_NONE,
    SC_RSSI, SC_LINK, SC_WAIT
};

struct scenario_cmd {
    scenario_kind kind;
    int32_t a;   /* pir level, temperature tenths, distance tenths, rssi, link, wait ms */
    int32_t b;   /* humidity tenths */
};

struct sim_sensors {
    int pir;
    int dht_mode;              /* SC_DHT, SC_DHT_FAIL or SC_DHT_BADSUM */
    int32_t temperature_tenths;
    int32_t humidity_tenths;
    int32_t distance_tenths;   /* -1: no echo */
    int rssi;
    int link;
};

void sim_sensors_init(sim_sensors *s);
/* Parse one line (without newline). NULL, or a short message saying what is wrong. */
const char *scenario_parse_line(const char *line, scenario_cmd *out);
void scenario_apply(sim_sensors *s, const scenario_cmd *c);
/* The DHT22 frame for the current state: HAL_DHT22_OK with `frame` filled, or HAL_DHT22_TIMEOUT. */
int sim_dht22_frame(const sim_sensors *s, uint8_t frame[5]);
/* The HC-SR04 echo time in us for the current state, or -1 on timeout (over 30 ms). */
int32_t sim_echo_us(const sim_sensors *s);

#endif
