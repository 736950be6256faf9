/* hcsr04.cpp - see hcsr04.h. */
#include "hcsr04.h"

#include "sensor_driver.h"

int32_t hcsr04_distance_tenths(int32_t echo_us) {
    if (echo_us < 0 || echo_us > HCSR04_TIMEOUT_US) return HCSR04_NO_READING;
    /* tenths = us * 0.0343 / 2 * 10 = us * 343 / 2000, rounded half up; fits in 32 bits. */
    int32_t tenths = (echo_us * 343 + 1000) / 2000;
    if (tenths < HCSR04_MIN_TENTHS || tenths > HCSR04_MAX_TENTHS) return HCSR04_NO_READING;
    return tenths;
}

/* The driver ("ultrasonic", the topic the backend knows): the HAL read returns the echo time in
   us as 4 bytes little-endian, or < 0 for no echo within 30 ms. */
static const char *ultrasonic_decode(const uint8_t *raw, int n, int32_t values[SENSOR_MAX_VALUES]) {
    int32_t us = -1;
    if (n >= 4)
        us =
            (int32_t)((uint32_t)raw[0] | ((uint32_t)raw[1] << 8) | ((uint32_t)raw[2] << 16) | ((uint32_t)raw[3] << 24));
    int32_t tenths = hcsr04_distance_tenths(us);
    if (tenths == HCSR04_NO_READING) return us < 0 ? "TIMEOUT" : "OUT_OF_RANGE";
    values[0] = tenths;
    return 0;
}

/* 0..409.5 cm in 12 bits (the sensor's range is 2-400 cm). */
static const sensor_value ultrasonic_values[] = {{"distance_cm", SENSOR_NUMBER, 1, 12, 0}};

const sensor_driver sensor_ultrasonic = {
    "ultrasonic", SENSOR_QUIET, SENSOR_TOPIC_VALUE, 1, ultrasonic_values, "-1", 0, 0, 0, ultrasonic_decode};
