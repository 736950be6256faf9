/*
 * clock.h - the one "clock not set" threshold, part of the HAL's clock contract (hal.h epoch_ms).
 */
#ifndef NODE_CLOCK_H
#define NODE_CLOCK_H

/* 2024-01-01T00:00:00Z in Unix seconds. An ESP8266 without NTP counts from 1970, so a wall clock
   before this was never set: the ESP8266 HAL reports 0 below it, and the TLS transport refuses to
   check certificate dates below it (CLOCK_NOT_SET). */
#define HAL_CLOCK_VALID_AFTER_S 1704067200LL

#endif
