/*
 * pir.h - debounce the PIR output level.
 *
 * The HC-SR501 output can chatter for a few ms around a transition; a level counts only after
 * it has been stable for `stable_ms`, so one movement gives one rising edge (one publish).
 */
#ifndef PIR_H
#define PIR_H

#include <stdint.h>

#define PIR_DEFAULT_STABLE_MS 50u

struct pir_debounce {
    uint32_t stable_ms;
    uint32_t changed_at; /* when the raw level last changed */
    uint8_t raw;         /* last raw level seen */
    uint8_t level;       /* debounced level */
    uint8_t started;
};

void pir_debounce_init(pir_debounce *d, uint32_t stable_ms);
/* Feed the raw level at time now_ms. Returns +1 on a debounced rising edge, -1 on a falling
   edge, 0 otherwise. */
int pir_debounce_update(pir_debounce *d, int raw, uint32_t now_ms);

struct sensor_driver;
/* the PIR driver: raw[0] = output level; debounced by node_app (SENSOR_EDGE). */
extern const sensor_driver sensor_pir;

#endif
