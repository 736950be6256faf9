/* Unit tests for the native node's simulated sensors: scenario lines parse (or are refused with
   a reason), and what the simulated parts return decodes back through the core's drivers. */
#include <string.h>

#include "bme280.h"
#include "check.h"
#include "dht22.h"
#include "hal.h"
#include "hcsr04.h"
#include "scenario.h"

static size_t line_of(const char *command) {
    for (size_t i = 0; i < sim_sensor_count; i++)
        if (strcmp(sim_sensor_table[i].command, command) == 0) return i;
    return SIM_MAX_SENSORS;
}

/* Read simulated sensor `command` in state s and decode it with its driver: NULL and values, or
   the failure's name. */
static const char *read_back(sim_sensors *s, const char *command, int32_t v[SENSOR_MAX_VALUES]) {
    size_t i = line_of(command);
    uint8_t raw[SENSOR_RAW_MAX];
    int n = sim_sensor_table[i].read(s->state[i], raw, sizeof raw);
    return sim_sensor_table[i].driver->decode(raw, n, v);
}

static void test_parse() {
    scenario_cmd c;
    CHECK(scenario_parse_line("pir 1", &c) == 0);
    CHECK_EQ(c.kind, SC_SENSOR);
    CHECK_EQ(c.sensor, line_of("pir"));
    CHECK_EQ(c.v[0], 1);
    CHECK(scenario_parse_line("dht 21.5 40.2", &c) == 0);
    CHECK_EQ(c.kind, SC_SENSOR);
    CHECK_EQ(c.sensor, line_of("dht"));
    CHECK_EQ(c.v[1], 215);
    CHECK_EQ(c.v[2], 402);
    CHECK(scenario_parse_line("dht -10.1 65", &c) == 0);
    CHECK_EQ(c.v[1], -101);
    CHECK(scenario_parse_line("distance 123.4", &c) == 0);
    CHECK_EQ(c.sensor, line_of("distance"));
    CHECK_EQ(c.v[0], 1234);
    CHECK(scenario_parse_line("bme280 21.5 40 1013.25", &c) == 0);
    CHECK_EQ(c.sensor, line_of("bme280"));
    CHECK_EQ(c.v[1], 2150);
    CHECK_EQ(c.v[2], 400);
    CHECK_EQ(c.v[3], 101325);
    CHECK(scenario_parse_line("wait 500", &c) == 0);
    CHECK_EQ(c.kind, SC_WAIT);
    CHECK_EQ(c.v[0], 500);
    CHECK(scenario_parse_line("  # a comment", &c) == 0);
    CHECK_EQ(c.kind, SC_NONE);
    CHECK(scenario_parse_line("", &c) == 0);
    const char *bad[] = {"pir 2",
                         "pir",
                         "dht 21.5",
                         "dht x y",
                         "distance -3",
                         "distance far",
                         "wait -1",
                         "wait 1.5",
                         "jump 3",
                         "rssi 5",
                         "link sideways",
                         "pir 1 2 3 4 5",
                         "bme280 21 40",
                         "bme280 21 40 200",
                         "bme280 90 40 1000",
                         "bme280 21 101 1000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(scenario_parse_line(bad[i], &c) != 0);
    /* The refusals say what was expected; an unknown command lists the table's. */
    CHECK_STR(scenario_parse_line("bme280 x", &c), "expected: bme280 TEMP_C HUMIDITY PRESSURE_HPA | bme280 fail");
    CHECK(strstr(scenario_parse_line("jump 3", &c), "bme280") != 0);
}

static void test_synthesized_frames_decode() {
    sim_sensors s;
    sim_sensors_init(&s);
    scenario_cmd c;
    int32_t v[SENSOR_MAX_VALUES];
    /* The quiet room. */
    CHECK(read_back(&s, "dht", v) == 0);
    CHECK_EQ(v[0], 210);
    CHECK_EQ(v[1], 450);
    const char *lines[] = {"dht 21.5 40.2", "dht -5.5 80.0", "dht -40 0", "dht 80 100"};
    const int16_t temps[] = {215, -55, -400, 800};
    const uint16_t hums[] = {402, 800, 0, 1000};
    for (int i = 0; i < 4; i++) {
        CHECK(scenario_parse_line(lines[i], &c) == 0);
        scenario_apply(&s, &c);
        CHECK(read_back(&s, "dht", v) == 0);
        CHECK_EQ(v[0], temps[i]);
        CHECK_EQ(v[1], hums[i]);
    }
    scenario_parse_line("dht badsum", &c);
    scenario_apply(&s, &c);
    CHECK_STR(read_back(&s, "dht", v), "BAD_CHECKSUM");
    scenario_parse_line("dht fail", &c);
    scenario_apply(&s, &c);
    CHECK_STR(read_back(&s, "dht", v), "TIMEOUT");
}

/* The simulated BME280's registers decode to the scenario's values through the datasheet's
   compensation, over the part's range. */
static void test_bme280_registers_decode() {
    sim_sensors s;
    sim_sensors_init(&s);
    scenario_cmd c;
    int32_t v[SENSOR_MAX_VALUES];
    CHECK(read_back(&s, "bme280", v) == 0);
    CHECK_EQ(v[0], 210);
    CHECK_EQ(v[1], 450);
    CHECK_EQ(v[2], 101325);
    const char *lines[] = {"bme280 21.5 40 1013.25", "bme280 -12.3 5.5 950", "bme280 -40 0 300", "bme280 85 100 1100",
                           "bme280 0 99.9 1000.01"};
    const int32_t want[][3] = {
        {215, 400, 101325}, {-123, 55, 95000}, {-400, 0, 30000}, {850, 1000, 110000}, {0, 999, 100001}};
    for (int i = 0; i < 5; i++) {
        CHECK(scenario_parse_line(lines[i], &c) == 0);
        scenario_apply(&s, &c);
        const char *why = read_back(&s, "bme280", v);
        if (why) fprintf(stderr, "  %s: %s\n", lines[i], why);
        CHECK(why == 0);
        CHECK_EQ(v[0], want[i][0]);
        CHECK_EQ(v[1], want[i][1]);
        CHECK_EQ(v[2], want[i][2]);
    }
    scenario_parse_line("bme280 fail", &c);
    scenario_apply(&s, &c);
    CHECK_STR(read_back(&s, "bme280", v), "NO_ANSWER");
}

static void test_echo_round_trip() {
    sim_sensors s;
    sim_sensors_init(&s);
    int32_t *distance = s.state[line_of("distance")];
    int32_t v[SENSOR_MAX_VALUES];
    /* Every tenth of a cm over the sensor's range survives cm -> echo us -> cm. */
    for (int32_t t = 20; t <= 4000; t++) {
        distance[0] = t;
        CHECK(read_back(&s, "distance", v) == 0);
        CHECK_EQ(v[0], t);
    }
    distance[0] = 5000; /* 500 cm: echo still inside 30 ms, but out of range */
    CHECK_STR(read_back(&s, "distance", v), "OUT_OF_RANGE");
    distance[0] = 6000; /* 600 cm: the echo times out */
    CHECK_STR(read_back(&s, "distance", v), "TIMEOUT");
    distance[0] = -1;
    CHECK_STR(read_back(&s, "distance", v), "TIMEOUT");
}

int main() {
    RUN(test_parse);
    RUN(test_synthesized_frames_decode);
    RUN(test_bme280_registers_decode);
    RUN(test_echo_round_trip);
    return check_summary("test_scenario");
}
