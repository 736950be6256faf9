/* Unit tests for lib/sensors: DHT22 frames, HC-SR04 conversion and range, PIR debounce. */
#include "check.h"
#include "dht22.h"
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
    CHECK_EQ(hcsr04_distance_tenths(5831), 1000);   /* 100.0 cm (100.003) */
    CHECK_EQ(hcsr04_distance_tenths(7195), 1234);   /* 123.4 cm (123.39) */
    CHECK_EQ(hcsr04_distance_tenths(583), 100);     /* 10.0 cm */
    CHECK_EQ(hcsr04_distance_tenths(1000), 172);    /* 17.15 -> 17.2 (rounded half up) */
}

static void test_distance_range() {
    CHECK_EQ(hcsr04_distance_tenths(117), 20);      /* 2.0 cm: the minimum */
    CHECK_EQ(hcsr04_distance_tenths(110), HCSR04_NO_READING); /* 1.9 cm */
    CHECK_EQ(hcsr04_distance_tenths(23323), 4000);  /* 400.0 cm: the maximum */
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
    CHECK_EQ(pir_debounce_update(&d, 1, 180), 1);   /* stable 50 ms: one rising edge */
    CHECK_EQ(pir_debounce_update(&d, 1, 500), 0);   /* and only one */
    CHECK_EQ(d.level, 1);
    CHECK_EQ(pir_debounce_update(&d, 0, 600), 0);
    CHECK_EQ(pir_debounce_update(&d, 0, 650), -1);
    /* Across the 32-bit millis() wrap. */
    pir_debounce_init(&d, 50);
    CHECK_EQ(pir_debounce_update(&d, 0, 0xffffff00u), 0);
    CHECK_EQ(pir_debounce_update(&d, 1, 0xfffffff0u), 0);
    CHECK_EQ(pir_debounce_update(&d, 1, 0x00000030u), 1);
}

int main() {
    RUN(test_dht22_valid);
    RUN(test_dht22_negative);
    RUN(test_dht22_bad_checksum);
    RUN(test_dht22_out_of_range_and_timeout);
    RUN(test_distance_conversion);
    RUN(test_distance_range);
    RUN(test_pir_debounce);
    return check_summary("test_sensors");
}
