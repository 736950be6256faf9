/*
 * hcsr04.h - HC-SR04 echo time to distance, and the range the sensor can really measure.
 *
 * The HAL sends the 10 us trigger and times the echo (30 ms timeout); the core converts:
 * cm = us * 0.0343 / 2 (speed of sound 343 m/s, there and back), in integer tenths of a cm.
 */
#ifndef HCSR04_H
#define HCSR04_H

#include <stdint.h>

#define HCSR04_TRIGGER_US 10
#define HCSR04_TIMEOUT_US 30000 /* ~514 cm: longer than any real echo */
#define HCSR04_MIN_TENTHS 20    /* 2 cm: datasheet minimum */
#define HCSR04_MAX_TENTHS 4000  /* 400 cm: datasheet maximum */
#define HCSR04_NO_READING (-1)

/* Distance in tenths of a cm, rounded; HCSR04_NO_READING for a timeout (echo_us < 0 or
   over the timeout) or a distance outside 2-400 cm. */
int32_t hcsr04_distance_tenths(int32_t echo_us);

struct sensor_driver;
/* the HC-SR04 driver, topic "ultrasonic": raw = echo us, 4 bytes little-endian. */
extern const sensor_driver sensor_ultrasonic;

#endif
