/*
 * scenario_fuzz.cpp - libFuzzer target for the native node's scenario parser
 * (lib/hal_posix/scenario.*): the text a user (or a test) feeds with --scenario.
 *
 * Input: a scenario file. Each line (exact-size heap copy, NUL-terminated) goes through
 * scenario_parse_line; an accepted command is applied to the simulated sensors, whose output
 * then goes through the core's own decoders (lib/sensors), as in the node. Asserted:
 *   - a refusal is a short one-line message; an accepted command has a known kind and its
 *     values in the documented ranges;
 *   - the simulated DHT22 frame decodes back to exactly the scenario's values when the
 *     datasheet range allows them (OUT_OF_RANGE otherwise), BAD_CHECKSUM for "dht badsum",
 *     and "dht fail" times out;
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

void fail(const char *what)
{
    fprintf(stderr, "scenario_fuzz: %s\n", what);
    abort();
}

void check_cmd(const scenario_cmd &c)
{
    switch (c.kind) {
    case SC_NONE: case SC_DHT_FAIL: case SC_DHT_BADSUM: case SC_DISTANCE_NONE: break;
    case SC_PIR: case SC_LINK: if (c.a != 0 && c.a != 1) fail("pir/link not 0 or 1"); break;
    case SC_DHT: if (c.a < -32767 || c.a > 32767 || c.b < 0 || c.b > 65535) fail("dht values out of range"); break;
    case SC_DISTANCE: if (c.a < 0 || c.a > 100000) fail("distance out of range"); break;
    case SC_RSSI: if (c.a < -120 || c.a > 0) fail("rssi out of range"); break;
    case SC_WAIT: if (c.a < 0 || c.a > 86400000) fail("wait out of range"); break;
    default: fail("unknown kind");
    }
}

void check_sensors(const sim_sensors &s)
{
    uint8_t frame[5];
    int rc = sim_dht22_frame(&s, frame);
    if (s.dht_mode == SC_DHT_FAIL) {
        if (rc != HAL_DHT22_TIMEOUT) fail("dht fail did not time out");
    } else {
        if (rc != HAL_DHT22_OK) fail("dht frame");
        dht22_reading r;
        dht22_status st = dht22_decode(frame, &r);
        if (s.dht_mode == SC_DHT_BADSUM) {
            if (st != DHT22_BAD_CHECKSUM) fail("dht badsum decoded");
        } else {
            const bool in_range = s.temperature_tenths >= -400 && s.temperature_tenths <= 800 &&
                                  s.humidity_tenths >= 0 && s.humidity_tenths <= 1000;
            if (in_range) {
                if (st != DHT22_OK || r.temperature_tenths != s.temperature_tenths ||
                    r.humidity_tenths != s.humidity_tenths)
                    fail("the DHT22 frame does not decode to the scenario's values");
            } else if (st == DHT22_OK) {
                fail("an out-of-range DHT22 value decoded as OK");
            }
        }
        (void)dht22_status_name(st);
    }
    int32_t us = sim_echo_us(&s);
    if (us < -1 || us > 30000) fail("echo time out of range");
    int32_t d = hcsr04_distance_tenths(us);
    if (us < 0) {
        if (d != HCSR04_NO_READING) fail("a distance without an echo");
    } else if (s.distance_tenths >= HCSR04_MIN_TENTHS + 2 && s.distance_tenths <= HCSR04_MAX_TENTHS - 2) {
        if (d == HCSR04_NO_READING || d < s.distance_tenths - 2 || d > s.distance_tenths + 2)
            fail("the echo does not convert back to the scenario's distance");
    } else if (d != HCSR04_NO_READING && (d < HCSR04_MIN_TENTHS || d > HCSR04_MAX_TENTHS)) {
        fail("a distance outside 2-400 cm reported");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
