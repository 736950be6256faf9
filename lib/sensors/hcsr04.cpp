/* hcsr04.cpp - see hcsr04.h. */
#include "hcsr04.h"

int32_t hcsr04_distance_tenths(int32_t echo_us) {
    if (echo_us < 0 || echo_us > HCSR04_TIMEOUT_US) return HCSR04_NO_READING;
    /* tenths = us * 0.0343 / 2 * 10 = us * 343 / 2000, rounded half up; fits in 32 bits. */
    int32_t tenths = (echo_us * 343 + 1000) / 2000;
    if (tenths < HCSR04_MIN_TENTHS || tenths > HCSR04_MAX_TENTHS) return HCSR04_NO_READING;
    return tenths;
}
