/* sim_sensors.cpp - see sim_sensors.h. One block per simulated sensor, then the table. */
#include "sim_sensors.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bme280.h"
#include "dht22.h"
#include "hcsr04.h"
#include "pir.h"

bool sim_parse_fixed(const char *s, int32_t scale, int32_t lo, int32_t hi, int32_t *out) {
    char *end = 0;
    double v = strtod(s, &end);
    if (end == s || *end != 0 || !isfinite(v)) return false;
    double t = round(v * scale);
    if (t < lo || t > hi) return false;
    *out = (int32_t)t;
    return true;
}

bool sim_parse_int(const char *s, long lo, long hi, int32_t *out) {
    char *end = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != 0 || v < lo || v > hi) return false;
    *out = (int32_t)v;
    return true;
}

namespace {

enum { SIM_OK = 0, SIM_FAIL = 1, SIM_BADSUM = 2 };

int32_t *st(void *state) { return (int32_t *)state; }

/* ---- pir 0|1: the output level ---- */
bool pir_parse(char *const *w, int n, int32_t s[SIM_STATE_WORDS]) { return n == 1 && sim_parse_int(w[0], 0, 1, &s[0]); }
int pir_read(void *state, uint8_t *raw, size_t cap) {
    if (cap < 1) return HAL_SENSOR_NO_ANSWER;
    raw[0] = (uint8_t)st(state)[0];
    return 1;
}

/* ---- distance CM | none: an object at CM cm (beyond ~514 cm the echo times out) ---- */
bool distance_parse(char *const *w, int n, int32_t s[SIM_STATE_WORDS]) {
    if (n == 1 && strcmp(w[0], "none") == 0) {
        s[0] = -1;
        return true;
    }
    return n == 1 && sim_parse_fixed(w[0], 10, 0, 100000, &s[0]);
}
int distance_read(void *state, uint8_t *raw, size_t cap) {
    int32_t tenths = st(state)[0];
    if (tenths < 0 || cap < 4) return HAL_SENSOR_NO_ANSWER;
    /* us = cm * 2 / 0.0343 = tenths * 2000 / 343, rounded to the microsecond like a timer. */
    int64_t us = ((int64_t)tenths * 2000 + 171) / 343;
    if (us > HCSR04_TIMEOUT_US) return HAL_SENSOR_NO_ANSWER; /* the HAL's 30 ms echo timeout */
    for (int i = 0; i < 4; i++) raw[i] = (uint8_t)((uint32_t)us >> (8 * i));
    return 4;
}

/* ---- dht T H | fail | badsum: the 40-bit frame ---- */
bool dht_parse(char *const *w, int n, int32_t s[SIM_STATE_WORDS]) {
    if (n == 1 && strcmp(w[0], "fail") == 0) {
        s[0] = SIM_FAIL;
        return true;
    }
    if (n == 1 && strcmp(w[0], "badsum") == 0) {
        s[0] = SIM_BADSUM;
        return true;
    }
    s[0] = SIM_OK;
    return n == 2 && sim_parse_fixed(w[0], 10, -32767, 32767, &s[1]) && sim_parse_fixed(w[1], 10, 0, 65535, &s[2]);
}
int dht_read(void *state, uint8_t *f, size_t cap) {
    const int32_t *s = st(state);
    if (s[0] == SIM_FAIL || cap < 5) return HAL_SENSOR_NO_ANSWER;
    uint16_t hum = (uint16_t)s[2];
    int32_t t = s[1];
    /* Sign and magnitude, as the sensor sends it. */
    uint16_t traw = (uint16_t)(t < 0 ? (0x8000 | (uint16_t)(-t)) : (uint16_t)t);
    f[0] = (uint8_t)(hum >> 8);
    f[1] = (uint8_t)hum;
    f[2] = (uint8_t)(traw >> 8);
    f[3] = (uint8_t)traw;
    f[4] = (uint8_t)(f[0] + f[1] + f[2] + f[3]);
    if (s[0] == SIM_BADSUM) f[4] ^= 0x5a;
    return 5;
}

/* ---- bme280 T H P | fail: the registers of a BME280 that measures T degC, H %RH, P hPa ----
   A fixed calibration (the datasheet example's temperature and pressure words, a real part's
   humidity words); the ADC values are found by bisection through the core's own compensation,
   which is monotonic in each of them, so the decoder sees registers a real part could hold. */
const uint8_t kBmeCalib[33] = {0x70, 0x6b, 0x43, 0x67, 0x18, 0xfc, 0x7d, 0x8e, 0x43, 0xd6, 0xd0, 0x0b, 0x27, 0x0b,
                               0x8c, 0x00, 0xf9, 0xff, 0x8c, 0x3c, 0xf8, 0xc6, 0x70, 0x17, 0x00, 0x4b, /* 0x88..0xA1 */
                               0x6a, 0x01, 0x00, 0x14, 0x04, 0x00, 0x1e};                              /* 0xE1..0xE7 */

bool bme_parse(char *const *w, int n, int32_t s[SIM_STATE_WORDS]) {
    if (n == 1 && strcmp(w[0], "fail") == 0) {
        s[0] = SIM_FAIL;
        return true;
    }
    s[0] = SIM_OK;
    /* The part's range: -40..85 degC, 0..100 %RH, 300..1100 hPa (in centi-degrees, tenths, Pa). */
    return n == 3 && sim_parse_fixed(w[0], 100, -4000, 8500, &s[1]) && sim_parse_fixed(w[1], 10, 0, 1000, &s[2]) &&
           sim_parse_fixed(w[2], 100, 30000, 110000, &s[3]);
}

/* The ADC value in [lo, hi] whose compensated output (rising: grows with it) is nearest want. */
template <typename F> int32_t bisect(int32_t lo, int32_t hi, bool rising, int64_t want, F out) {
    const int32_t first = lo;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        bool below = rising ? out(mid) < want : out(mid) > want;
        if (below)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > first) {
        int64_t a = out(lo) - want, b = out(lo - 1) - want;
        if ((b < 0 ? -b : b) < (a < 0 ? -a : a)) return lo - 1;
    }
    return lo;
}

int bme_read(void *state, uint8_t *raw, size_t cap) {
    const int32_t *s = st(state);
    if (s[0] == SIM_FAIL || cap < BME280_RAW_SIZE) return HAL_SENSOR_NO_ANSWER;
    memcpy(raw, kBmeCalib, sizeof kBmeCalib);
    bme280_calib c;
    bme280_parse_calib(raw, &c);
    bme280_reading r;
    const int32_t adc_T = bisect(0, 0xfffff, true, s[1], [&](int32_t a) {
        bme280_compensate(&c, a, 0x80000, 0, &r);
        return (int64_t)r.temperature_centi;
    });
    const int32_t adc_P = bisect(0, 0xfffff, false, (int64_t)s[3] * 256, [&](int32_t a) {
        bme280_compensate(&c, adc_T, a, 0, &r);
        return (int64_t)r.pressure_q24_8;
    });
    const int32_t adc_H = bisect(0, 0xffff, true, ((int64_t)s[2] * 1024 + 5) / 10, [&](int32_t a) {
        bme280_compensate(&c, adc_T, adc_P, a, &r);
        return (int64_t)r.humidity_q22_10;
    });
    bme280_data_registers(adc_T, adc_P, adc_H, raw + 33);
    return BME280_RAW_SIZE;
}

} // namespace

/* The table: one line per simulated sensor. */
const sim_sensor sim_sensor_table[] = {
    {&sensor_pir, "pir", "expected: pir 0|1", "0", pir_parse, pir_read},
    {&sensor_ultrasonic, "distance", "expected: distance CM | distance none", "150", distance_parse, distance_read},
    {&sensor_dht22, "dht", "expected: dht TEMP_C HUMIDITY | dht fail | dht badsum", "21 45", dht_parse, dht_read},
    {&sensor_bme280, "bme280", "expected: bme280 TEMP_C HUMIDITY PRESSURE_HPA | bme280 fail", "21 45 1013.25",
     bme_parse, bme_read},
};
const size_t sim_sensor_count = sizeof sim_sensor_table / sizeof sim_sensor_table[0];

const sim_sensor *sim_sensor_by_name(const char *name) {
    for (size_t i = 0; i < sim_sensor_count; i++)
        if (strcmp(sim_sensor_table[i].driver->name, name) == 0) return &sim_sensor_table[i];
    return 0;
}
