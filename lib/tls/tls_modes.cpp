/*
 * tls_modes.cpp - the one list of trust modes by name, for command lines (the native node's
 * --tls). The firmware names its mode at compile time and does not link this file, so it links
 * only that mode's code.
 */
#include <string.h>

#include "tls_x509.h"

const tls_mode *tls_mode_by_name(const char *name) {
    static const tls_mode *const modes[] = {&tls_mode_ca, &tls_mode_pin, &tls_mode_fingerprint};
    for (size_t i = 0; name != NULL && i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(modes[i]->name, name) == 0) return modes[i];
    }
    return NULL;
}
