/* scenario.cpp - see scenario.h. */
#include "scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hal.h"

namespace {

/* A decimal with at most one fractional digit's worth of meaning, as tenths. */
bool parse_tenths(const char *s, int32_t lo, int32_t hi, int32_t *out) {
    char *end = 0;
    double v = strtod(s, &end);
    if (end == s || *end != 0 || !isfinite(v)) return false;
    double t = round(v * 10.0);
    if (t < lo || t > hi) return false;
    *out = (int32_t)t;
    return true;
}

bool parse_int(const char *s, long lo, long hi, int32_t *out) {
    char *end = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != 0 || v < lo || v > hi) return false;
    *out = (int32_t)v;
    return true;
}

} // namespace

void sim_sensors_init(sim_sensors *s) {
    /* A quiet room: what the node reports before the scenario says otherwise. */
    s->pir = 0;
    s->dht_mode = SC_DHT;
    s->temperature_tenths = 210;
    s->humidity_tenths = 450;
    s->distance_tenths = 1500;
    s->rssi = -55;
    s->link = 1;
}

const char *scenario_parse_line(const char *line, scenario_cmd *out) {
    char buf[128];
    size_t n = strlen(line);
    if (n >= sizeof buf) return "line too long";
    memcpy(buf, line, n + 1);
    /* A '#' starts a comment, on its own line or after a command. */
    char *hash = strchr(buf, '#');
    if (hash) *hash = 0;
    char *words[4] = {0, 0, 0, 0};
    int count = 0;
    for (char *p = strtok(buf, " \t\r"); p; p = strtok(0, " \t\r")) {
        if (count == 4) return "too many words";
        words[count++] = p;
    }
    out->kind = SC_NONE;
    out->a = out->b = 0;
    if (count == 0) return 0;
    const char *cmd = words[0];
    if (strcmp(cmd, "pir") == 0) {
        if (count != 2 || !parse_int(words[1], 0, 1, &out->a)) return "expected: pir 0|1";
        out->kind = SC_PIR;
    } else if (strcmp(cmd, "dht") == 0) {
        if (count == 2 && strcmp(words[1], "fail") == 0) out->kind = SC_DHT_FAIL;
        else if (count == 2 && strcmp(words[1], "badsum") == 0) out->kind = SC_DHT_BADSUM;
        else if (count == 3 && parse_tenths(words[1], -32767, 32767, &out->a) &&
                 parse_tenths(words[2], 0, 65535, &out->b))
            out->kind = SC_DHT;
        else return "expected: dht TEMP_C HUMIDITY | dht fail | dht badsum";
    } else if (strcmp(cmd, "distance") == 0) {
        if (count == 2 && strcmp(words[1], "none") == 0) out->kind = SC_DISTANCE_NONE;
        else if (count == 2 && parse_tenths(words[1], 0, 100000, &out->a)) out->kind = SC_DISTANCE;
        else return "expected: distance CM | distance none";
    } else if (strcmp(cmd, "rssi") == 0) {
        if (count != 2 || !parse_int(words[1], -120, 0, &out->a)) return "expected: rssi -120..0";
        out->kind = SC_RSSI;
    } else if (strcmp(cmd, "link") == 0) {
        if (count == 2 && strcmp(words[1], "up") == 0) out->a = 1;
        else if (count == 2 && strcmp(words[1], "down") == 0) out->a = 0;
        else return "expected: link up|down";
        out->kind = SC_LINK;
    } else if (strcmp(cmd, "wait") == 0) {
        if (count != 2 || !parse_int(words[1], 0, 86400000L, &out->a)) return "expected: wait MS";
        out->kind = SC_WAIT;
    } else {
        return "unknown command (pir, dht, distance, rssi, link, wait)";
    }
    return 0;
}

void scenario_apply(sim_sensors *s, const scenario_cmd *c) {
    switch (c->kind) {
    case SC_PIR: s->pir = c->a; break;
    case SC_DHT:
        s->dht_mode = SC_DHT;
        s->temperature_tenths = c->a;
        s->humidity_tenths = c->b;
        break;
    case SC_DHT_FAIL:
    case SC_DHT_BADSUM: s->dht_mode = c->kind; break;
    case SC_DISTANCE: s->distance_tenths = c->a; break;
    case SC_DISTANCE_NONE: s->distance_tenths = -1; break;
    case SC_RSSI: s->rssi = c->a; break;
    case SC_LINK: s->link = c->a; break;
    default: break;
    }
}

int sim_dht22_frame(const sim_sensors *s, uint8_t f[5]) {
    if (s->dht_mode == SC_DHT_FAIL) return HAL_DHT22_TIMEOUT;
    uint16_t hum = (uint16_t)s->humidity_tenths;
    int32_t t = s->temperature_tenths;
    /* Sign and magnitude, as the sensor sends it. */
    uint16_t traw = (uint16_t)(t < 0 ? (0x8000 | (uint16_t)(-t)) : (uint16_t)t);
    f[0] = (uint8_t)(hum >> 8);
    f[1] = (uint8_t)hum;
    f[2] = (uint8_t)(traw >> 8);
    f[3] = (uint8_t)traw;
    f[4] = (uint8_t)(f[0] + f[1] + f[2] + f[3]);
    if (s->dht_mode == SC_DHT_BADSUM) f[4] ^= 0x5a;
    return HAL_DHT22_OK;
}

int32_t sim_echo_us(const sim_sensors *s) {
    if (s->distance_tenths < 0) return -1;
    /* us = cm * 2 / 0.0343 = tenths * 2000 / 343, rounded to the microsecond like a timer. */
    int64_t us = ((int64_t)s->distance_tenths * 2000 + 171) / 343;
    if (us > 30000) return -1; /* the HAL's 30 ms echo timeout */
    return (int32_t)us;
}
