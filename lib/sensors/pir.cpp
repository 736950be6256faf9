/* pir.cpp - see pir.h. */
#include "pir.h"

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
