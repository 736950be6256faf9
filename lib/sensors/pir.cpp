/* pir.cpp - see pir.h. */
#include "pir.h"

#include "sensor_driver.h"

void pir_debounce_init(pir_debounce *d, uint32_t stable_ms) {
    d->stable_ms = stable_ms;
    d->changed_at = 0;
    d->raw = 0;
    d->level = 0;
    d->started = 0;
}

int pir_debounce_update(pir_debounce *d, int raw, uint32_t now_ms) {
    uint8_t r = raw ? 1 : 0;
    if (!d->started || r != d->raw) {
        d->started = 1;
        d->raw = r;
        d->changed_at = now_ms;
    }
    /* Unsigned subtraction: correct across the 49-day millis() wrap. */
    if (r != d->level && (uint32_t)(now_ms - d->changed_at) >= d->stable_ms) {
        d->level = r;
        return r ? 1 : -1;
    }
    return 0;
}

/* The driver: the HAL read returns the raw level in raw[0]; node_app debounces it (SENSOR_EDGE). */
static const char *pir_decode(const uint8_t *raw, int n, int32_t values[SENSOR_MAX_VALUES]) {
    values[0] = n >= 1 && raw[0] ? 1 : 0;
    return 0;
}

static const sensor_value pir_values[] = {{"motion_detected", SENSOR_BOOL, 0, 1, 0}};

const sensor_driver sensor_pir = {"pir",
                                  SENSOR_ALWAYS_OK | SENSOR_EDGE,
                                  SENSOR_TOPIC_VALUE,
                                  1,
                                  pir_values,
                                  0,
                                  0,
                                  "motion detected",
                                  "motion ended",
                                  pir_decode};
