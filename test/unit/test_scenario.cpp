/* Unit tests for the native node's simulated sensors: scenario lines parse (or are refused with
   a reason), and the synthesized DHT22 frames and echo times decode back through the core. */
#include "check.h"
#include "dht22.h"
#include "hal.h"
#include "hcsr04.h"
#include "scenario.h"

static void test_parse() {
    scenario_cmd c;
    CHECK(scenario_parse_line("pir 1", &c) == 0);
    CHECK_EQ(c.kind, SC_PIR);
    CHECK_EQ(c.a, 1);
    CHECK(scenario_parse_line("dht 21.5 40.2", &c) == 0);
    CHECK_EQ(c.kind, SC_DHT);
    CHECK_EQ(c.a, 215);
    CHECK_EQ(c.b, 402);
    CHECK(scenario_parse_line("dht -10.1 65", &c) == 0);
    CHECK_EQ(c.a, -101);
    CHECK(scenario_parse_line("dht fail", &c) == 0);
    CHECK_EQ(c.kind, SC_DHT_FAIL);
    CHECK(scenario_parse_line("distance 123.4", &c) == 0);
    CHECK_EQ(c.kind, SC_DISTANCE);
    CHECK_EQ(c.a, 1234);
    CHECK(scenario_parse_line("wait 500", &c) == 0);
    CHECK_EQ(c.kind, SC_WAIT);
    CHECK_EQ(c.a, 500);
    CHECK(scenario_parse_line("  # a comment", &c) == 0);
    CHECK_EQ(c.kind, SC_NONE);
    CHECK(scenario_parse_line("", &c) == 0);
    const char *bad[] = {"pir 2", "pir", "dht 21.5", "dht x y", "distance -3", "distance far", "wait -1",
                         "wait 1.5", "jump 3", "rssi 5", "link sideways", "pir 1 2 3 4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK(scenario_parse_line(bad[i], &c) != 0);
}

static void test_synthesized_frames_decode() {
    sim_sensors s;
    sim_sensors_init(&s);
    scenario_cmd c;
    const char *lines[] = {"dht 21.5 40.2", "dht -5.5 80.0", "dht -40 0", "dht 80 100"};
    const int16_t temps[] = {215, -55, -400, 800};
    const uint16_t hums[] = {402, 800, 0, 1000};
    for (int i = 0; i < 4; i++) {
        CHECK(scenario_parse_line(lines[i], &c) == 0);
        scenario_apply(&s, &c);
        uint8_t f[5];
        CHECK_EQ(sim_dht22_frame(&s, f), HAL_DHT22_OK);
        dht22_reading r;
        CHECK_EQ(dht22_decode(f, &r), DHT22_OK);
        CHECK_EQ(r.temperature_tenths, temps[i]);
        CHECK_EQ(r.humidity_tenths, hums[i]);
    }
    scenario_parse_line("dht badsum", &c);
    scenario_apply(&s, &c);
    uint8_t f[5];
    dht22_reading r;
    CHECK_EQ(sim_dht22_frame(&s, f), HAL_DHT22_OK);
    CHECK_EQ(dht22_decode(f, &r), DHT22_BAD_CHECKSUM);
    scenario_parse_line("dht fail", &c);
    scenario_apply(&s, &c);
    CHECK_EQ(sim_dht22_frame(&s, f), HAL_DHT22_TIMEOUT);
}

static void test_echo_round_trip() {
    sim_sensors s;
    sim_sensors_init(&s);
    /* Every tenth of a cm over the sensor's range survives cm -> echo us -> cm. */
    for (int32_t t = 20; t <= 4000; t++) {
        s.distance_tenths = t;
        CHECK_EQ(hcsr04_distance_tenths(sim_echo_us(&s)), t);
    }
    s.distance_tenths = 5000; /* 500 cm: echo still inside 30 ms, but out of range */
    CHECK(sim_echo_us(&s) > 0);
    CHECK_EQ(hcsr04_distance_tenths(sim_echo_us(&s)), HCSR04_NO_READING);
    s.distance_tenths = 6000; /* 600 cm: the echo times out */
    CHECK_EQ(sim_echo_us(&s), -1);
    s.distance_tenths = -1;
    CHECK_EQ(sim_echo_us(&s), -1);
}

int main() {
    RUN(test_parse);
    RUN(test_synthesized_frames_decode);
    RUN(test_echo_round_trip);
    return check_summary("test_scenario");
}
