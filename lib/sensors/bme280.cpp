/* bme280.cpp - see bme280.h. */
#include "bme280.h"

#include <string.h>

#include "sensor_driver.h"

namespace {

uint16_t u16le(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
int16_t s16le(const uint8_t *p) { return (int16_t)u16le(p); }

/* The datasheet shifts signed values left; that is undefined behaviour in C++11 for negative
   ones, so those shifts are written as multiplications (same result, same code on the chip). */
const int64_t kP47 = (int64_t)1 << 47;

} // namespace

void bme280_parse_calib(const uint8_t raw[BME280_RAW_SIZE], bme280_calib *c) {
    c->T1 = u16le(raw + 0);
    c->T2 = s16le(raw + 2);
    c->T3 = s16le(raw + 4);
    c->P1 = u16le(raw + 6);
    c->P2 = s16le(raw + 8);
    c->P3 = s16le(raw + 10);
    c->P4 = s16le(raw + 12);
    c->P5 = s16le(raw + 14);
    c->P6 = s16le(raw + 16);
    c->P7 = s16le(raw + 18);
    c->P8 = s16le(raw + 20);
    c->P9 = s16le(raw + 22);
    c->H1 = raw[25];
    const uint8_t *e = raw + 26; /* 0xE1.. */
    c->H2 = s16le(e + 0);
    c->H3 = e[2];
    /* dig_H4 = 0xE4[7:0] << 4 | 0xE5[3:0], dig_H5 = 0xE6[7:0] << 4 | 0xE5[7:4]: signed 12 bits
       (the registers' high byte is signed, datasheet table 16). */
    c->H4 = (int16_t)((int16_t)(int8_t)e[3] * 16 | (e[4] & 0x0f));
    c->H5 = (int16_t)((int16_t)(int8_t)e[5] * 16 | (e[4] >> 4));
    c->H6 = (int8_t)e[6];
}

void bme280_compensate(const bme280_calib *c, int32_t adc_T, int32_t adc_P, int32_t adc_H, bme280_reading *out) {
    /* Temperature (datasheet 4.2.3, BME280_compensate_T_int32). */
    int32_t var1 = (((adc_T >> 3) - ((int32_t)c->T1 * 2)) * (int32_t)c->T2) >> 11;
    int32_t d = (adc_T >> 4) - (int32_t)c->T1;
    int32_t var2 = (((d * d) >> 12) * (int32_t)c->T3) >> 14;
    int32_t t_fine = var1 + var2;
    out->temperature_centi = (t_fine * 5 + 128) >> 8;

    /* Pressure (BME280_compensate_P_int64). */
    int64_t v1 = (int64_t)t_fine - 128000;
    int64_t v2 = v1 * v1 * (int64_t)c->P6;
    v2 = v2 + v1 * (int64_t)c->P5 * 131072;                              /* << 17 */
    v2 = v2 + (int64_t)c->P4 * 34359738368ll;                            /* << 35 */
    v1 = ((v1 * v1 * (int64_t)c->P3) >> 8) + v1 * (int64_t)c->P2 * 4096; /* << 12 */
    v1 = ((kP47 + v1) * (int64_t)c->P1) >> 33;
    if (v1 == 0) {
        out->pressure_q24_8 = 0; /* the datasheet's guard against a division by zero */
    } else {
        int64_t p = 1048576 - adc_P;
        p = ((p * 2147483648ll - v2) * 3125) / v1; /* p << 31 */
        v1 = ((int64_t)c->P9 * (p >> 13) * (p >> 13)) >> 25;
        v2 = ((int64_t)c->P8 * p) >> 19;
        p = ((p + v1 + v2) >> 8) + (int64_t)c->P7 * 16; /* << 4 */
        out->pressure_q24_8 = (uint32_t)p;
    }

    /* Humidity (bme280_compensate_H_int32). */
    int32_t x = t_fine - 76800;
    x = ((((adc_H * 16384) - ((int32_t)c->H4 * 1048576) - ((int32_t)c->H5 * x)) + 16384) >> 15) *
        (((((((x * (int32_t)c->H6) >> 10) * (((x * (int32_t)c->H3) >> 11) + 32768)) >> 10) + 2097152) * (int32_t)c->H2 +
          8192) >>
         14);
    x = x - (((((x >> 15) * (x >> 15)) >> 7) * (int32_t)c->H1) >> 4);
    x = x < 0 ? 0 : x;
    x = x > 419430400 ? 419430400 : x;
    out->humidity_q22_10 = (uint32_t)(x >> 12);
}

bme280_status bme280_decode(const uint8_t raw[BME280_RAW_SIZE], bme280_reading *out) {
    memset(out, 0, sizeof *out);
    bme280_calib c;
    bme280_parse_calib(raw, &c);
    if (c.T1 == 0 || c.P1 == 0) return BME280_BAD_CALIBRATION;
    const uint8_t *m = raw + 33;
    int32_t adc_P = (int32_t)(((uint32_t)m[0] << 12) | ((uint32_t)m[1] << 4) | (m[2] >> 4));
    int32_t adc_T = (int32_t)(((uint32_t)m[3] << 12) | ((uint32_t)m[4] << 4) | (m[5] >> 4));
    int32_t adc_H = (int32_t)(((uint32_t)m[6] << 8) | m[7]);
    if (adc_P == 0x80000 || adc_T == 0x80000 || adc_H == 0x8000) return BME280_NOT_MEASURED;
    bme280_reading r;
    bme280_compensate(&c, adc_T, adc_P, adc_H, &r);
    /* The operating range (datasheet table 1); outside it the values are not specified. */
    const uint32_t pa = (r.pressure_q24_8 + 128) >> 8;
    if (r.temperature_centi < -4000 || r.temperature_centi > 8500 || pa < 30000u || pa > 110000u)
        return BME280_OUT_OF_RANGE;
    *out = r;
    return BME280_OK;
}

void bme280_data_registers(int32_t adc_T, int32_t adc_P, int32_t adc_H, uint8_t m[8]) {
    /* 20-bit pressure and temperature: msb, lsb, xlsb[7:4]; 16-bit humidity: msb, lsb. */
    m[0] = (uint8_t)(adc_P >> 12);
    m[1] = (uint8_t)(adc_P >> 4);
    m[2] = (uint8_t)((adc_P & 0x0f) << 4);
    m[3] = (uint8_t)(adc_T >> 12);
    m[4] = (uint8_t)(adc_T >> 4);
    m[5] = (uint8_t)((adc_T & 0x0f) << 4);
    m[6] = (uint8_t)(adc_H >> 8);
    m[7] = (uint8_t)adc_H;
}

const char *bme280_status_name(bme280_status s) {
    switch (s) {
        case BME280_OK: return "OK";
        case BME280_NO_ANSWER: return "NO_ANSWER";
        case BME280_BAD_CALIBRATION: return "BAD_CALIBRATION";
        case BME280_NOT_MEASURED: return "NOT_MEASURED";
        case BME280_OUT_OF_RANGE: return "OUT_OF_RANGE";
    }
    return "UNKNOWN";
}

/* The driver: raw = the 41-byte block (bme280.h), or < 0 when the part did not answer. */
static const char *bme280_driver_decode(const uint8_t *raw, int n, int32_t values[SENSOR_MAX_VALUES]) {
    if (n < BME280_RAW_SIZE) return bme280_status_name(BME280_NO_ANSWER);
    bme280_reading r;
    bme280_status st = bme280_decode(raw, &r);
    if (st != BME280_OK) return bme280_status_name(st);
    int32_t t = r.temperature_centi;
    values[0] = (t >= 0 ? t + 5 : t - 5) / 10;                             /* tenths, rounded */
    values[1] = (int32_t)(((uint64_t)r.humidity_q22_10 * 10 + 512) >> 10); /* tenths of %RH */
    values[2] = (int32_t)((r.pressure_q24_8 + 128) >> 8);                  /* Pa = hPa, 2 decimals */
    return 0;
}

/* -40.0..164.7 degC (11 bits), 0..102.3 %RH (10 bits), 300.00..1610.71 hPa (17 bits of Pa). */
static const sensor_value bme280_values[] = {{"temperature_c", SENSOR_NUMBER, 1, 11, -400},
                                             {"humidity_percent", SENSOR_NUMBER, 1, 10, 0},
                                             {"pressure_hpa", SENSOR_NUMBER, 2, 17, 30000}};

const sensor_driver sensor_bme280 = {"bme280", 0, SENSOR_TOPIC_JSON,   3, bme280_values, 0, 0,
                                     0,        0, bme280_driver_decode};
