/* scenario.cpp - see scenario.h. */
#include "scenario.h"

#include <stdio.h>
#include <string.h>

namespace {

/* Split at blanks; a '#' starts a comment. At most 5 words. -1 when there are more. */
int split(char *buf, char *words[5]) {
    char *hash = strchr(buf, '#');
    if (hash) *hash = 0;
    int count = 0;
    for (char *p = strtok(buf, " \t\r"); p; p = strtok(0, " \t\r")) {
        if (count == 5) return -1;
        words[count++] = p;
    }
    return count;
}

/* A sensor command's arguments into state (starting from the current one is not needed:
   every command sets the whole state). */
const char *parse_sensor(size_t i, char *const *args, int n, scenario_cmd *out) {
    const sim_sensor &sim = sim_sensor_table[i];
    int32_t v[SIM_STATE_WORDS] = {0, 0, 0, 0};
    if (!sim.parse(args, n, v)) return sim.usage;
    out->kind = SC_SENSOR;
    out->sensor = (uint8_t)i;
    memcpy(out->v, v, sizeof v);
    return 0;
}

/* "unknown command (pir, distance, ..., rssi, link, wait)", from the table. */
const char *unknown_command() {
    static char msg[160];
    if (!msg[0]) {
        size_t n = (size_t)snprintf(msg, sizeof msg, "unknown command (");
        for (size_t i = 0; i < sim_sensor_count && n < sizeof msg; i++)
            n += (size_t)snprintf(msg + n, sizeof msg - n, "%s, ", sim_sensor_table[i].command);
        if (n < sizeof msg) snprintf(msg + n, sizeof msg - n, "rssi, link, wait)");
    }
    return msg;
}

} // namespace

void sim_sensors_init(sim_sensors *s) {
    memset(s, 0, sizeof *s);
    /* A quiet room: what the node reports before the scenario says otherwise. */
    for (size_t i = 0; i < sim_sensor_count && i < SIM_MAX_SENSORS; i++) {
        char buf[64];
        strncpy(buf, sim_sensor_table[i].initial, sizeof buf - 1);
        buf[sizeof buf - 1] = 0;
        char *words[5];
        int n = split(buf, words);
        scenario_cmd c;
        if (n >= 0 && parse_sensor(i, words, n, &c) == 0) scenario_apply(s, &c);
    }
    s->rssi = -55;
    s->link = 1;
}

const char *scenario_parse_line(const char *line, scenario_cmd *out) {
    char buf[128];
    size_t n = strlen(line);
    if (n >= sizeof buf) return "line too long";
    memcpy(buf, line, n + 1);
    char *words[5] = {0, 0, 0, 0, 0};
    int count = split(buf, words);
    memset(out, 0, sizeof *out);
    out->kind = SC_NONE;
    if (count < 0) return "too many words";
    if (count == 0) return 0;
    const char *cmd = words[0];
    for (size_t i = 0; i < sim_sensor_count && i < SIM_MAX_SENSORS; i++)
        if (strcmp(cmd, sim_sensor_table[i].command) == 0) return parse_sensor(i, words + 1, count - 1, out);
    if (strcmp(cmd, "rssi") == 0) {
        if (count != 2 || !sim_parse_int(words[1], -120, 0, &out->v[0])) return "expected: rssi -120..0";
        out->kind = SC_RSSI;
    } else if (strcmp(cmd, "link") == 0) {
        if (count == 2 && strcmp(words[1], "up") == 0)
            out->v[0] = 1;
        else if (count == 2 && strcmp(words[1], "down") == 0)
            out->v[0] = 0;
        else
            return "expected: link up|down";
        out->kind = SC_LINK;
    } else if (strcmp(cmd, "wait") == 0) {
        if (count != 2 || !sim_parse_int(words[1], 0, 86400000L, &out->v[0])) return "expected: wait MS";
        out->kind = SC_WAIT;
    } else {
        return unknown_command();
    }
    return 0;
}

void scenario_apply(sim_sensors *s, const scenario_cmd *c) {
    switch (c->kind) {
        case SC_SENSOR:
            if (c->sensor < SIM_MAX_SENSORS) memcpy(s->state[c->sensor], c->v, sizeof c->v);
            break;
        case SC_RSSI: s->rssi = c->v[0]; break;
        case SC_LINK: s->link = c->v[0]; break;
        default: break;
    }
}
