/*
 * scenario_fuzz.cpp - libFuzzer target for the native node's scenario parser
 * (lib/hal_posix/scenario.*): the text a user (or a test) feeds with --scenario.
 *
 * Input: a scenario file. Each line (exact-size heap copy, NUL-terminated) goes through
 * scenario_parse_line; an accepted command is applied to the simulated sensors, whose output
 * then goes through the core's own decoders (lib/sensors), as in the node. Asserted:
 *   - a refusal is a short one-line message; an accepted command has a known kind and its
 *     values in the documented ranges;
 *   - every simulated sensor's read decodes through its driver without a crash;
 *   - the simulated DHT22 frame decodes back to exactly the scenario's values when the
 *     datasheet range allows them (OUT_OF_RANGE otherwise), BAD_CHECKSUM for "dht badsum",
 *     and "dht fail" times out; the simulated BME280's registers decode to its values;
 *   - the echo time is -1 or within the 30 ms timeout, and converts to a distance within
 *     0.2 cm of the scenario's (or no reading outside 2-400 cm).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dht22.h"
#include "hal.h"
#include "hcsr04.h"
#include "scenario.h"

namespace {

void fail(const char *what) {
    fprintf(stderr, "scenario_fuzz: %s\n", what);
    abort();
}

void check_cmd(const scenario_cmd &c) {
    switch (c.kind) {
        case SC_NONE: break;
        case SC_SENSOR:
            if (c.sensor >= sim_sensor_count) fail("sensor line out of the table");
            break;
        case SC_LINK:
            if (c.v[0] != 0 && c.v[0] != 1) fail("link not 0 or 1");
            break;
        case SC_RSSI:
            if (c.v[0] < -120 || c.v[0] > 0) fail("rssi out of range");
            break;
        case SC_WAIT:
            if (c.v[0] < 0 || c.v[0] > 86400000) fail("wait out of range");
            break;
        default: fail("unknown kind");
    }
}

size_t line_of(const char *command) {
    for (size_t i = 0; i < sim_sensor_count; i++)
        if (strcmp(sim_sensor_table[i].command, command) == 0) return i;
    fail("no such simulated sensor");
    return 0;
}

/* Read a simulated sensor and decode it with its driver: NULL and values, or why not. */
const char *read_back(const sim_sensors &s, size_t i, int *n, int32_t v[SENSOR_MAX_VALUES]) {
    uint8_t raw[SENSOR_RAW_MAX];
    *n = sim_sensor_table[i].read((void *)s.state[i], raw, sizeof raw);
    if (*n > (int)sizeof raw) fail("a read returned more than its buffer");
    return sim_sensor_table[i].driver->decode(raw, *n, v);
}

void check_sensors(const sim_sensors &s) {
    int32_t v[SENSOR_MAX_VALUES];
    int n;
    /* Every simulated sensor reads and decodes without crashing; a failure has a short name. */
    for (size_t i = 0; i < sim_sensor_count; i++) {
        const char *why = read_back(s, i, &n, v);
        if (why && (strlen(why) == 0 || strlen(why) > 20)) fail("a failure name is not a short word");
    }
    /* DHT22: state = mode (0 ok, 1 fail, 2 badsum), tenths of degC, tenths of %RH. */
    const int32_t *dht = s.state[line_of("dht")];
    const char *why = read_back(s, line_of("dht"), &n, v);
    if (dht[0] == 1) {
        if (n != HAL_SENSOR_NO_ANSWER || !why || strcmp(why, "TIMEOUT") != 0) fail("dht fail did not time out");
    } else if (dht[0] == 2) {
        if (!why || strcmp(why, "BAD_CHECKSUM") != 0) fail("dht badsum decoded");
    } else {
        const bool in_range = dht[1] >= -400 && dht[1] <= 800 && dht[2] >= 0 && dht[2] <= 1000;
        if (in_range) {
            if (why || v[0] != dht[1] || v[1] != dht[2])
                fail("the DHT22 frame does not decode to the scenario's values");
        } else if (!why) {
            fail("an out-of-range DHT22 value decoded as OK");
        }
    }
    /* HC-SR04: state = tenths of a cm, -1 for no echo. */
    const int32_t distance = s.state[line_of("distance")][0];
    why = read_back(s, line_of("distance"), &n, v);
    if (n == 4) {
        uint8_t raw[SENSOR_RAW_MAX];
        sim_sensor_table[line_of("distance")].read((void *)s.state[line_of("distance")], raw, sizeof raw);
        int32_t us =
            (int32_t)((uint32_t)raw[0] | ((uint32_t)raw[1] << 8) | ((uint32_t)raw[2] << 16) | ((uint32_t)raw[3] << 24));
        if (us < 0 || us > 30000) fail("echo time out of range");
    }
    if (n < 0) {
        if (!why) fail("a distance without an echo");
    } else if (distance >= HCSR04_MIN_TENTHS + 2 && distance <= HCSR04_MAX_TENTHS - 2) {
        if (why || v[0] < distance - 2 || v[0] > distance + 2)
            fail("the echo does not convert back to the scenario's distance");
    } else if (!why && (v[0] < HCSR04_MIN_TENTHS || v[0] > HCSR04_MAX_TENTHS)) {
        fail("a distance outside 2-400 cm reported");
    }
    /* BME280: state = mode, centi-degC, tenths of %RH, Pa: decodes to them (tenths of degC). */
    const int32_t *bme = s.state[line_of("bme280")];
    why = read_back(s, line_of("bme280"), &n, v);
    if (bme[0] == 1) {
        if (!why) fail("bme280 fail decoded");
    } else {
        int32_t t = bme[1];
        int32_t tenths = (t >= 0 ? t + 5 : t - 5) / 10;
        if (why || v[0] < tenths - 1 || v[0] > tenths + 1 || v[1] < bme[2] - 1 || v[1] > bme[2] + 1 ||
            v[2] < bme[3] - 1 || v[2] > bme[3] + 1)
            fail("the BME280 registers do not decode to the scenario's values");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sim_sensors s;
    sim_sensors_init(&s);
    check_sensors(s);
    size_t start = 0;
    while (start <= size) {
        size_t end = start;
        while (end < size && data[end] != '\n') end++;
        size_t n = end - start;
        char *line = (char *)malloc(n + 1);
        memcpy(line, data + start, n);
        line[n] = 0;
        scenario_cmd c;
        memset(&c, 0x5c, sizeof c);
        const char *why = scenario_parse_line(line, &c);
        if (why) {
            size_t wl = strlen(why);
            if (wl == 0 || wl > 100 || strchr(why, '\n')) fail("refusal is not a short line");
        } else {
            check_cmd(c);
            scenario_apply(&s, &c);
            check_sensors(s);
        }
        free(line);
        start = end + 1;
    }
    return 0;
}
