/* Unit tests for lib/sensors: DHT22 frames, HC-SR04 conversion and range, PIR debounce, BME280
   compensation, the drivers' record packing and value text. */
#include <math.h>
#include <string.h>

#include "bme280.h"
#include "check.h"
#include "dht22.h"
#include "sensor_driver.h"
#include "hcsr04.h"
#include "pir.h"

static void frame_of(uint8_t f[5], uint16_t hum, int16_t temp) {
    uint16_t t = (uint16_t)(temp < 0 ? (0x8000 | -temp) : temp);
    f[0] = (uint8_t)(hum >> 8);
    f[1] = (uint8_t)hum;
    f[2] = (uint8_t)(t >> 8);
    f[3] = (uint8_t)t;
    f[4] = (uint8_t)(f[0] + f[1] + f[2] + f[3]);
}

static void test_dht22_valid() {
    /* The datasheet's example: 0x028C = 65.2 %RH, 0x015F = 35.1 C, checksum 0xEE. */
    const uint8_t f[5] = {0x02, 0x8C, 0x01, 0x5F, 0xEE};
    dht22_reading r;
    CHECK_EQ(dht22_decode(f, &r), DHT22_OK);
    CHECK_EQ(r.humidity_tenths, 652);
    CHECK_EQ(r.temperature_tenths, 351);
    uint8_t g[5];
    frame_of(g, 402, 215);
    CHECK_EQ(dht22_decode(g, &r), DHT22_OK);
    CHECK_EQ(r.humidity_tenths, 402);
    CHECK_EQ(r.temperature_tenths, 215);
    frame_of(g, 1000, 800); /* the limits are valid */
    CHECK_EQ(dht22_decode(g, &r), DHT22_OK);
}

static void test_dht22_negative() {
    /* Datasheet: 0x8065 = -10.1 C (sign bit, not two's complement). */
    const uint8_t f[5] = {0x02, 0x8C, 0x80, 0x65, (uint8_t)(0x02 + 0x8C + 0x80 + 0x65)};
    dht22_reading r;
    CHECK_EQ(dht22_decode(f, &r), DHT22_OK);
    CHECK_EQ(r.temperature_tenths, -101);
    uint8_t g[5];
    frame_of(g, 0, -400);
    CHECK_EQ(dht22_decode(g, &r), DHT22_OK);
    CHECK_EQ(r.temperature_tenths, -400);
    frame_of(g, 500, -3);
    CHECK_EQ(dht22_decode(g, &r), DHT22_OK);
    CHECK_EQ(r.temperature_tenths, -3);
}

static void test_dht22_bad_checksum() {
    uint8_t f[5];
    frame_of(f, 402, 215);
    f[4] ^= 0x01;
    dht22_reading r;
    CHECK_EQ(dht22_decode(f, &r), DHT22_BAD_CHECKSUM);
    CHECK_EQ(r.temperature_tenths, 0);
    CHECK_EQ(r.humidity_tenths, 0);
    frame_of(f, 402, 215);
    f[1] ^= 0x10; /* a flipped data bit */
    CHECK_EQ(dht22_decode(f, &r), DHT22_BAD_CHECKSUM);
    CHECK_STR(dht22_status_name(DHT22_BAD_CHECKSUM), "BAD_CHECKSUM");
}

static void test_dht22_out_of_range_and_timeout() {
    uint8_t f[5];
    dht22_reading r;
    frame_of(f, 1001, 200);
    CHECK_EQ(dht22_decode(f, &r), DHT22_OUT_OF_RANGE);
    frame_of(f, 500, 801);
    CHECK_EQ(dht22_decode(f, &r), DHT22_OUT_OF_RANGE);
    frame_of(f, 500, -401);
    CHECK_EQ(dht22_decode(f, &r), DHT22_OUT_OF_RANGE);
    /* An all-ones frame (data line stuck high) has a valid-looking checksum: 0xff*4 = 0xfc. */
    const uint8_t stuck[5] = {0xff, 0xff, 0xff, 0xff, 0xfc};
    CHECK_EQ(dht22_decode(stuck, &r), DHT22_OUT_OF_RANGE);
    /* A timeout is reported by the HAL; the core names it. */
    CHECK_STR(dht22_status_name(DHT22_TIMEOUT), "TIMEOUT");
    CHECK_EQ(DHT22_MIN_INTERVAL_MS, 2000);
}

static void test_distance_conversion() {
    /* cm = us * 0.0343 / 2 */
    CHECK_EQ(hcsr04_distance_tenths(5831), 1000); /* 100.0 cm (100.003) */
    CHECK_EQ(hcsr04_distance_tenths(7195), 1234); /* 123.4 cm (123.39) */
    CHECK_EQ(hcsr04_distance_tenths(583), 100);   /* 10.0 cm */
    CHECK_EQ(hcsr04_distance_tenths(1000), 172);  /* 17.15 -> 17.2 (rounded half up) */
}

static void test_distance_range() {
    CHECK_EQ(hcsr04_distance_tenths(117), 20);                  /* 2.0 cm: the minimum */
    CHECK_EQ(hcsr04_distance_tenths(110), HCSR04_NO_READING);   /* 1.9 cm */
    CHECK_EQ(hcsr04_distance_tenths(23323), 4000);              /* 400.0 cm: the maximum */
    CHECK_EQ(hcsr04_distance_tenths(23330), HCSR04_NO_READING); /* 400.1 cm */
    CHECK_EQ(hcsr04_distance_tenths(-1), HCSR04_NO_READING);    /* HAL timeout */
    CHECK_EQ(hcsr04_distance_tenths(0), HCSR04_NO_READING);
    CHECK_EQ(hcsr04_distance_tenths(30001), HCSR04_NO_READING);
    CHECK_EQ(hcsr04_distance_tenths(0x7fffffff), HCSR04_NO_READING); /* no overflow */
}

static void test_pir_debounce() {
    pir_debounce d;
    pir_debounce_init(&d, 50);
    CHECK_EQ(pir_debounce_update(&d, 0, 0), 0);
    /* Chatter shorter than 50 ms: no edge. */
    CHECK_EQ(pir_debounce_update(&d, 1, 100), 0);
    CHECK_EQ(pir_debounce_update(&d, 0, 120), 0);
    CHECK_EQ(pir_debounce_update(&d, 1, 130), 0);
    CHECK_EQ(pir_debounce_update(&d, 1, 179), 0);
    CHECK_EQ(pir_debounce_update(&d, 1, 180), 1); /* stable 50 ms: one rising edge */
    CHECK_EQ(pir_debounce_update(&d, 1, 500), 0); /* and only one */
    CHECK_EQ(d.level, 1);
    CHECK_EQ(pir_debounce_update(&d, 0, 600), 0);
    CHECK_EQ(pir_debounce_update(&d, 0, 650), -1);
    /* Across the 32-bit millis() wrap. */
    pir_debounce_init(&d, 50);
    CHECK_EQ(pir_debounce_update(&d, 0, 0xffffff00u), 0);
    CHECK_EQ(pir_debounce_update(&d, 1, 0xfffffff0u), 0);
    CHECK_EQ(pir_debounce_update(&d, 1, 0x00000030u), 1);
}

/* ---- BME280 ---- */

/* The calibration and ADC values of Bosch's worked example (BMP280 datasheet BST-BMP280-DS001,
   section 3.12: the BME280 uses the same temperature and pressure formulas), plus humidity
   words as a real BME280 holds them. */
static void bme280_block(uint8_t raw[BME280_RAW_SIZE], int32_t adc_T, int32_t adc_P, int32_t adc_H) {
    memset(raw, 0, BME280_RAW_SIZE);
    const int32_t words[12] = {27504, 26435, -1000, 36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000};
    for (int i = 0; i < 12; i++) {
        raw[2 * i] = (uint8_t)(words[i] & 0xff);
        raw[2 * i + 1] = (uint8_t)((words[i] >> 8) & 0xff);
    }
    raw[25] = 75;                    /* dig_H1 */
    raw[26] = (uint8_t)(362 & 0xff); /* dig_H2 = 362 */
    raw[27] = (uint8_t)(362 >> 8);
    raw[28] = 0;                                  /* dig_H3 */
    raw[29] = (uint8_t)(324 >> 4);                /* dig_H4 = 324: 0xE4 = 0x14, 0xE5[3:0] = 4 */
    raw[30] = (uint8_t)((324 & 0x0f) | (0 << 4)); /* dig_H5 = 0: 0xE5[7:4] = 0, 0xE6 = 0 */
    raw[31] = 0;
    raw[32] = 30; /* dig_H6 */
    bme280_data_registers(adc_T, adc_P, adc_H, raw + 33);
}

/* The datasheet's floating-point humidity formula (BME280 datasheet 8.1), to check the integer
   one against. */
static double humidity_double(const bme280_calib &c, int32_t adc_T, int32_t adc_H) {
    double v1 = (adc_T / 16384.0 - c.T1 / 1024.0) * c.T2;
    double v2 = (adc_T / 131072.0 - c.T1 / 8192.0) * (adc_T / 131072.0 - c.T1 / 8192.0) * c.T3;
    double t_fine = v1 + v2;
    double h = t_fine - 76800.0;
    h = (adc_H - (c.H4 * 64.0 + c.H5 / 16384.0 * h)) *
        (c.H2 / 65536.0 * (1.0 + c.H6 / 67108864.0 * h * (1.0 + c.H3 / 67108864.0 * h)));
    h = h * (1.0 - c.H1 * h / 524288.0);
    return h < 0 ? 0 : h > 100 ? 100 : h;
}

static void test_bme280_datasheet_example() {
    uint8_t raw[BME280_RAW_SIZE];
    bme280_block(raw, 519888, 415148, 30000);
    bme280_calib c;
    bme280_parse_calib(raw, &c);
    CHECK_EQ(c.T1, 27504);
    CHECK_EQ(c.T3, -1000);
    CHECK_EQ(c.P8, -14600);
    CHECK_EQ(c.H2, 362);
    CHECK_EQ(c.H4, 324);
    CHECK_EQ(c.H6, 30);
    bme280_reading r;
    CHECK_EQ(bme280_decode(raw, &r), BME280_OK);
    CHECK_EQ(r.temperature_centi, 2508); /* 25.08 degC, the datasheet's result */
    /* The datasheet's table prints 25767236 (100653.27 Pa) for the 64-bit formula; executing that
       formula exactly gives 25767233 (100653.25 Pa, 0.01 Pa less), as other implementations of it
       also note. Its 32-bit formula's result, 100653 Pa, is what the driver reports. */
    CHECK_EQ(r.pressure_q24_8, 25767233u);
    CHECK_EQ((r.pressure_q24_8 + 128) >> 8, 100653u);
    /* Humidity: the integer formula against the datasheet's double one, over the range. */
    for (int32_t adc_H = 20000; adc_H <= 40000; adc_H += 2500) {
        bme280_compensate(&c, 519888, 415148, adc_H, &r);
        double want = humidity_double(c, 519888, adc_H);
        double got = r.humidity_q22_10 / 1024.0;
        if (fabs(got - want) > 0.01) fprintf(stderr, "  adc_H %d: integer %.4f, double %.4f\n", (int)adc_H, got, want);
        CHECK(fabs(got - want) <= 0.01);
    }
    /* Signed 12-bit H4/H5 split across 0xE4..0xE6. */
    raw[29] = 0xff;
    raw[30] = 0x8e;
    raw[31] = 0x80;
    bme280_parse_calib(raw, &c);
    CHECK_EQ(c.H4, -2);    /* 0xff << 4 | 0xe */
    CHECK_EQ(c.H5, -2040); /* 0x80 << 4 | 0x8 */
}

static void test_bme280_failures() {
    uint8_t raw[BME280_RAW_SIZE];
    bme280_reading r;
    bme280_block(raw, 0x80000, 415148, 30000); /* temperature channel skipped */
    CHECK_EQ(bme280_decode(raw, &r), BME280_NOT_MEASURED);
    bme280_block(raw, 519888, 415148, 0x8000);
    CHECK_EQ(bme280_decode(raw, &r), BME280_NOT_MEASURED);
    memset(raw, 0, sizeof raw); /* a bus that reads 0 */
    CHECK_EQ(bme280_decode(raw, &r), BME280_BAD_CALIBRATION);
    CHECK_EQ(r.temperature_centi, 0);
    bme280_block(raw, 900000, 415148, 30000); /* far too hot */
    CHECK_EQ(bme280_decode(raw, &r), BME280_OUT_OF_RANGE);
    CHECK_STR(bme280_status_name(BME280_OUT_OF_RANGE), "OUT_OF_RANGE");
}

/* The driver: values in the payload's units, failures by name. */
static void test_bme280_driver() {
    uint8_t raw[BME280_RAW_SIZE];
    bme280_block(raw, 519888, 415148, 30000);
    int32_t v[SENSOR_MAX_VALUES] = {0, 0, 0};
    CHECK(sensor_bme280.decode(raw, BME280_RAW_SIZE, v) == 0);
    CHECK_EQ(v[0], 251);    /* 25.08 -> 25.1 degC */
    CHECK_EQ(v[2], 100653); /* Pa: "pressure_hpa":1006.53 */
    CHECK(v[1] > 0 && v[1] <= 1000);
    CHECK_STR(sensor_bme280.decode(raw, -1, v), "NO_ANSWER");
    char buf[32];
    text_buf tb;
    tb_init(&tb, buf, sizeof buf);
    sensor_format_value(&tb, &sensor_bme280, 2, 1, v);
    CHECK_STR(buf, "1006.53");
    v[2] = 30005;
    tb_init(&tb, buf, sizeof buf);
    sensor_format_value(&tb, &sensor_bme280, 2, 1, v);
    CHECK_STR(buf, "300.05"); /* leading zeros of the fraction kept */
    v[0] = -5;
    tb_init(&tb, buf, sizeof buf);
    sensor_format_value(&tb, &sensor_bme280, 0, 1, v);
    CHECK_STR(buf, "-0.5");
}

/* Every driver's values survive the record's bit packing, at both ends of their range. */
static void test_record_packing() {
    const sensor_driver *all[] = {&sensor_pir, &sensor_ultrasonic, &sensor_bme280};
    int32_t lo[3][SENSOR_MAX_VALUES] = {{0}, {20}, {-400, 0, 30000}};
    int32_t hi[3][SENSOR_MAX_VALUES] = {{1}, {4000}, {850, 1000, 110000}};
    for (int pass = 0; pass < 2; pass++) {
        uint8_t field[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        unsigned pos = 8;
        for (int i = 0; i < 3; i++) sensor_pack(all[i], 1, pass ? hi[i] : lo[i], field, &pos);
        CHECK(pos <= 64);
        pos = 8;
        for (int i = 0; i < 3; i++) {
            uint8_t ok = 0;
            int32_t back[SENSOR_MAX_VALUES] = {9, 9, 9};
            sensor_unpack(all[i], field, &pos, &ok, back);
            CHECK_EQ(ok, 1);
            for (unsigned k = 0; k < all[i]->value_count; k++) CHECK_EQ(back[k], (pass ? hi[i] : lo[i])[k]);
        }
    }
    /* A failed read: the ok bit clear, values zero. */
    uint8_t field[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    unsigned pos = 0;
    int32_t v[SENSOR_MAX_VALUES] = {250, 400, 0};
    sensor_pack(&sensor_dht22, 0, v, field, &pos);
    CHECK_EQ(pos, sensor_record_bits(&sensor_dht22));
    for (int i = 0; i < 8; i++) CHECK_EQ(field[i], 0);
}

int main() {
    RUN(test_dht22_valid);
    RUN(test_dht22_negative);
    RUN(test_dht22_bad_checksum);
    RUN(test_dht22_out_of_range_and_timeout);
    RUN(test_distance_conversion);
    RUN(test_distance_range);
    RUN(test_pir_debounce);
    RUN(test_bme280_datasheet_example);
    RUN(test_bme280_failures);
    RUN(test_bme280_driver);
    RUN(test_record_packing);
    return check_summary("test_sensors");
}
