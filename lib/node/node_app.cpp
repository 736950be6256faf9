/*
 * node_app.cpp - see node_app.h.
 */
#include "node_app.h"

#include <string.h>

#include "log_line.h"
#include "text_buf.h"

namespace {

inline bool reached(uint32_t now, uint32_t at) { return (int32_t)(now - at) >= 0; }

void node_log(node_app *a, const char *tag, const char *s1, const char *s2 = 0, const char *s3 = 0, const char *s4 = 0,
              const char *s5 = 0, const char *s6 = 0) {
    log_text(a->hal->log, a->hal->ctx, tag, s1, s2, s3, s4, s5, s6);
}

bool make_topic(char *out, const char *a, const char *id, const char *b) {
    text_buf tb;
    tb_init(&tb, out, NODE_TOPIC_LEN);
    tb_str(&tb, a);
    tb_str(&tb, id);
    tb_str(&tb, b);
    return !tb.overflow;
}

/* An id goes into topics and the client id: no MQTT wildcards, separators or control bytes. */
const char *check_id(const char *id) {
    if (!id || !*id) return "device id is empty";
    size_t n = strlen(id);
    if (n > NODE_MAX_ID_LEN) return "device id is longer than 23 characters (MQTT 3.1.1 client id limit)";
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)id[i];
        if (c <= 0x20 || c == 0x7f || c == '+' || c == '#' || c == '/')
            return "device id contains a space, '/', '+', '#' or a control character";
        /* MQTT strings must be well-formed UTF-8 (MQTT-1.5.3-1); Mosquitto also refuses C1
           controls and non-characters in them and closes the connection, so the node would
           retry for ever with an id like that. */
        uint32_t cp;
        size_t k = utf8_decode(id + i, n - i, &cp);
        if (k == 0) return "device id is not valid UTF-8";
        if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe)
            return "device id contains a Unicode control character or non-character";
        i += k;
    }
    return 0;
}

bool valid_utf8(const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode(s + i, n - i, &cp);
        if (k == 0) return false;
        i += k;
    }
    return true;
}

bool bytes_equal(const uint8_t *p, size_t n, const char *word) {
    size_t w = strlen(word);
    return n == w && memcmp(p, word, n) == 0;
}

/* Skip JSON white space (the alert scanner). */
size_t skip_ws(const uint8_t *p, size_t n, size_t i) {
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
    return i;
}

/* Position just after `"key"` followed by optional spaces and ':', or 0 if absent. */
size_t find_key(const uint8_t *p, size_t n, const char *key) {
    size_t k = strlen(key);
    for (size_t i = 0; i + k + 2 <= n; i++) {
        if (p[i] == '"' && memcmp(p + i + 1, key, k) == 0 && p[i + 1 + k] == '"') {
            size_t j = skip_ws(p, n, i + k + 2);
            if (j < n && p[j] == ':') return skip_ws(p, n, j + 1);
        }
    }
    return 0;
}

void publish(node_app *a, const char *topic, size_t len) {
    if (len == 0) {
        a->payload_errors++;
        node_log(a, "node: ", "payload for ", topic, " does not fit a queue slot, not sent");
        return;
    }
    int rc = mqtt_session_publish(&a->session, topic, (const uint8_t *)a->payload, len, 0);
    if (rc != MQTT_OK) {
        a->payload_errors++;
        node_log(a, "node: ", "cannot queue ", topic, ": ", mqtt_error_name(rc));
    }
}

void store_push(node_app *a, const uint8_t *body);

/* Read sensor i now if its driver allows (min_interval_ms); otherwise its last result stands. */
void read_sensor(node_app *a, uint8_t i, uint32_t now) {
    const node_hal *h = a->hal;
    const node_sensor &ns = h->sensors[i];
    const sensor_driver *d = ns.driver;
    node_sensor_state &st = a->sensors[i];
    if (d->flags & SENSOR_EDGE) {
        st.ok = 1;
        st.values[0] = st.edge.level; /* the debounced level, kept by node_app_poll */
        return;
    }
    if (st.read_once && (uint32_t)(now - st.read_at) < d->min_interval_ms) return;
    st.read_once = 1;
    st.read_at = now;
    uint8_t raw[SENSOR_RAW_MAX];
    memset(raw, 0, sizeof raw);
    int n = ns.read(ns.ctx, raw, sizeof raw);
    int32_t values[SENSOR_MAX_VALUES] = {0, 0, 0};
    const char *failed = d->decode(raw, n, values);
    st.ok = failed == 0;
    memcpy(st.values, values, sizeof values);
    if (failed && !(d->flags & SENSOR_QUIET)) node_log(a, "sensor: ", d->name, " read failed: ", failed);
}

void take_reading(node_app *a, uint32_t now) {
    const node_hal *h = a->hal;
    node_reading r;
    memset(&r, 0, sizeof r);
    for (uint8_t i = 0; i < h->sensor_count; i++) {
        read_sensor(a, i, now);
        r.ok[i] = a->sensors[i].ok;
        memcpy(r.values[i], a->sensors[i].values, sizeof r.values[i]);
    }
    a->counter++;
    r.seq = ((uint64_t)a->boot_count << 32) | a->counter;
    r.epoch_ms = h->epoch_ms(h->ctx);
    r.rssi = h->wifi_rssi(h->ctx);
    a->last_reading_at = now;

    {
        /* "sensor: reading seq=N pir=0 distance_cm=123.4 ...": a boolean under its sensor's
           name, numbers under their field names, null for a failed read. */
        char line[200];
        text_buf tb;
        tb_init(&tb, line, sizeof line);
        tb_str(&tb, "sensor: reading seq=");
        tb_u64(&tb, r.seq);
        for (uint8_t i = 0; i < h->sensor_count; i++) {
            const sensor_driver *d = h->sensors[i].driver;
            for (unsigned k = 0; k < d->value_count; k++) {
                tb_char(&tb, ' ');
                if (d->values[k].kind == SENSOR_BOOL) {
                    tb_str(&tb, d->name);
                    tb_char(&tb, '=');
                    tb_u64(&tb, r.values[i][k] ? 1 : 0);
                } else {
                    tb_str(&tb, d->values[k].key);
                    tb_char(&tb, '=');
                    sensor_format_value(&tb, d, k, r.ok[i], r.values[i]);
                }
            }
        }
        h->log(h->ctx, line);
    }

    uint8_t body[FLASH_BODY_SIZE];
    node_reading_pack(h->sensors, h->sensor_count, &r, body);
    store_push(a, body);
}

/* ---- the reading store: flash ring (older) then RAM ring (newer) ----
   Invariant: every record in flash is older than every record in RAM, and a reading taken
   from RAM is in flight only while flash holds nothing not yet taken. So "oldest first" is
   simply: flash first, then RAM; spilling to flash appends the in-flight RAM readings first. */

void flash_append(node_app *a, const uint8_t *body, uint32_t *slot) {
    uint32_t before = a->flash.stats.dropped;
    if (flash_ring_append(&a->flash, body, slot) != 0) node_log(a, "store: ", "flash write failed, reading lost");
    if (a->flash.stats.dropped != before) {
        char num[12];
        node_log(a, "store: ", "flash ring full, dropped the oldest readings (",
                 u64_text(num, sizeof num, a->flash.stats.dropped), " so far)");
        a->report_due = 1;
    }
}

/* In-flight readings taken from RAM go to flash, as taken (the session still sends them). */
void persist_inflight(node_app *a) {
    for (uint8_t i = 0; i < a->inflight_count; i++) {
        node_inflight &f = a->inflight[i];
        if (f.in_flash) continue;
        uint32_t slot = 0xffffffffu;
        flash_append(a, f.body, &slot);
        if (slot == 0xffffffffu) continue;
        f.in_flash = 1;
        f.slot = slot;
        if (a->flash.cursor == slot) flash_ring_advance(&a->flash); /* taken already */
    }
}

void spill_oldest_ram(node_app *a) {
    flash_append(a, a->ram[a->ram_head], 0);
    a->ram_head = (uint16_t)((a->ram_head + 1) % NODE_RAM_READINGS);
    a->ram_count--;
}

void persist_all(node_app *a) {
    if (!a->has_flash) return;
    uint16_t moved = a->ram_count;
    persist_inflight(a);
    while (a->ram_count) spill_oldest_ram(a);
    if (moved) {
        char num[12];
        node_log(a, "store: ", "broker unreachable, moved ", u64_text(num, sizeof num, moved),
                 " readings from RAM to flash");
    }
}

void store_push(node_app *a, const uint8_t *body) {
    if (a->has_flash && !a->connected) {
        /* Write-through while the broker is unreachable: a power cut now loses at most this one. */
        persist_all(a);
        flash_append(a, body, 0);
        return;
    }
    if (a->ram_count == NODE_RAM_READINGS) {
        if (a->has_flash) {
            persist_inflight(a);
            spill_oldest_ram(a);
        } else {
            a->ram_head = (uint16_t)((a->ram_head + 1) % NODE_RAM_READINGS);
            a->ram_count--;
            a->lost++;
            a->report_due = 1;
            char num[12];
            node_log(a, "store: ", "RAM full and no flash, dropped the oldest reading (",
                     u64_text(num, sizeof num, a->lost), " so far)");
        }
    }
    memcpy(a->ram[(a->ram_head + a->ram_count) % NODE_RAM_READINGS], body, FLASH_BODY_SIZE);
    a->ram_count++;
}

void complete_inflight(node_app *a, uint8_t i) {
    node_inflight &f = a->inflight[i];
    if (f.in_flash && a->has_flash) flash_ring_release(&a->flash, f.slot, flash_body_seq(f.body));
    for (uint8_t k = i; k + 1 < a->inflight_count; k++) a->inflight[k] = a->inflight[k + 1];
    a->inflight_count--;
}

void on_acked(void *ctx, uint16_t id) {
    node_app *a = (node_app *)ctx;
    for (uint8_t i = 0; i < a->inflight_count; i++) {
        node_inflight &f = a->inflight[i];
        for (uint8_t k = 0; k < 1 + NODE_MAX_SENSORS; k++) {
            if (f.ids[k] != id) continue;
            f.ids[k] = 0;
            if (--f.waiting == 0) complete_inflight(a, i);
            return;
        }
    }
}

void track(node_inflight &f, node_app *a, const char *topic, size_t len) {
    uint32_t before = a->payload_errors;
    publish(a, topic, len);
    if (a->payload_errors == before && f.waiting < 1 + NODE_MAX_SENSORS) f.ids[f.waiting++] = a->session.last_packet_id;
}

/* Whether a reading sends sensor d's per-sensor message. */
bool sends_topic(const sensor_driver *d, uint8_t ok) {
    return ok || (d->topic_style == SENSOR_TOPIC_VALUE && d->missing);
}

bool sensor_topic(char *out, const sensor_driver *d, const char *id) {
    text_buf tb;
    tb_init(&tb, out, NODE_TOPIC_LEN);
    tb_str(&tb, "sensors/");
    tb_str(&tb, d->name);
    tb_char(&tb, '/');
    tb_str(&tb, id);
    return !tb.overflow;
}

/* The JSON fields of sensor i: "key":value,... */
void sensor_fields(text_buf *tb, const sensor_driver *d, const node_reading *r, uint8_t i) {
    for (unsigned k = 0; k < d->value_count; k++) {
        if (k) tb_char(tb, ',');
        tb_char(tb, '"');
        tb_str(tb, d->values[k].key);
        tb_str(tb, "\":");
        sensor_format_value(tb, d, k, r->ok[i], r->values[i]);
    }
}

uint32_t lost_total(const node_app *a) { return a->lost + (a->has_flash ? a->flash.stats.dropped : 0); }
uint32_t corrupt_total(const node_app *a) { return a->has_flash ? a->flash.stats.corrupt : 0; }

void publish_report(node_app *a) {
    text_buf tb;
    tb_init(&tb, a->payload, sizeof a->payload);
    tb_str(&tb, "{\"device_id\":");
    tb_json_str(&tb, a->cfg.device_id, strlen(a->cfg.device_id));
    tb_str(&tb, ",\"boot\":");
    tb_u64(&tb, a->boot_count);
    tb_str(&tb, ",\"lost\":");
    tb_u64(&tb, lost_total(a));
    tb_str(&tb, ",\"corrupt\":");
    tb_u64(&tb, corrupt_total(a));
    tb_char(&tb, '}');
    if (tb.overflow) return;
    if (mqtt_session_publish(&a->session, a->t_store, (const uint8_t *)a->payload, tb.len, 1) == MQTT_OK) {
        a->reported_lost = lost_total(a);
        a->reported_corrupt = corrupt_total(a);
        a->report_due = 0;
    }
}

/* Hand readings to the session, oldest first, while its window has room for all of a reading. */
void dispatch(node_app *a) {
    if (!a->connected) return;
    if (lost_total(a) != a->reported_lost || corrupt_total(a) != a->reported_corrupt) a->report_due = 1;
    if (a->report_due && mqtt_session_room(&a->session) > 0) publish_report(a);
    const node_hal *h = a->hal;
    while (a->inflight_count < NODE_MAX_INFLIGHT) {
        node_inflight f;
        memset(&f, 0, sizeof f);
        if (a->has_flash && flash_ring_peek(&a->flash, f.body, &f.slot)) {
            f.in_flash = 1;
        } else if (a->ram_count) {
            memcpy(f.body, a->ram[a->ram_head], FLASH_BODY_SIZE);
        } else {
            break;
        }
        node_reading r;
        node_reading_unpack(h->sensors, h->sensor_count, f.body, &r);
        uint8_t mode = a->cfg.publish_mode;
        if ((mode & NODE_PUBLISH_PER_SENSOR) && a->cfg.per_sensor_max_age_ms) {
            /* A late reading is history: the combined message (with its timestamp) says it all. */
            int64_t now_e = h->epoch_ms(h->ctx);
            bool old = r.epoch_ms > 0 && now_e > 0 ? now_e - r.epoch_ms > (int64_t)a->cfg.per_sensor_max_age_ms
                                                   : (uint32_t)(r.seq >> 32) != a->boot_count;
            if (old) mode = NODE_PUBLISH_COMBINED;
        }
        uint16_t need = (mode & NODE_PUBLISH_COMBINED) ? 1 : 0;
        if (mode & NODE_PUBLISH_PER_SENSOR) {
            for (uint8_t i = 0; i < h->sensor_count; i++)
                need = (uint16_t)(need + (sends_topic(h->sensors[i].driver, r.ok[i]) ? 1 : 0));
        }
        if (mqtt_session_room(&a->session) < need) break;
        if (f.in_flash) {
            flash_ring_advance(&a->flash);
        } else {
            a->ram_head = (uint16_t)((a->ram_head + 1) % NODE_RAM_READINGS);
            a->ram_count--;
        }
        if (mode & NODE_PUBLISH_COMBINED) {
            track(f, a, a->t_combined,
                  node_format_combined(a->cfg.device_id, a->cfg.location, h->sensors, h->sensor_count, &r, a->payload,
                                       sizeof a->payload));
        }
        if (mode & NODE_PUBLISH_PER_SENSOR) {
            for (uint8_t i = 0; i < h->sensor_count; i++) {
                if (!sends_topic(h->sensors[i].driver, r.ok[i])) continue;
                char topic[NODE_TOPIC_LEN];
                sensor_topic(topic, h->sensors[i].driver, a->cfg.device_id); /* fits: checked at init */
                track(f, a, topic,
                      node_format_sensor(a->cfg.device_id, h->sensors, i, &r, a->payload, sizeof a->payload));
            }
        }
        a->inflight[a->inflight_count++] = f;
        if (f.waiting == 0) complete_inflight(a, (uint8_t)(a->inflight_count - 1));
    }
}

void on_message(void *ctx, const char *topic, uint16_t topic_len, const uint8_t *payload, size_t len, int retained) {
    node_app *a = (node_app *)ctx;
    uint32_t now = a->hal->millis(a->hal->ctx);
    const int is_control = topic_len == strlen(a->t_control) && memcmp(topic, a->t_control, topic_len) == 0;
    const int is_alert = topic_len == strlen(a->t_alert) && memcmp(topic, a->t_alert, topic_len) == 0;
    if ((is_control || is_alert) && retained) {
        /* The broker re-sends a retained message on every SUBSCRIBE, i.e. after every connect:
           a retained "reset" would reboot the node for ever, a retained alert would sound a stale
           fall again and again. Commands and alerts are news, not state; alerts sent while the
           node was away still arrive, queued by its persistent session (not retained). */
        node_log(a, "node: ", is_control ? "retained control command ignored" : "retained fall alert ignored",
                 " (clear it: publish an empty retained message)");
        return;
    }
    if (is_control) {
        /* Accept the bare word, with surrounding white space or quotes ("reset" from a JSON-minded
           backend). */
        size_t b = 0, e = len;
        while (b < e && (payload[b] == ' ' || payload[b] == '"' || payload[b] == '\n' || payload[b] == '\r')) b++;
        while (e > b &&
               (payload[e - 1] == ' ' || payload[e - 1] == '"' || payload[e - 1] == '\n' || payload[e - 1] == '\r'))
            e--;
        if (bytes_equal(payload + b, e - b, "read_now")) {
            node_log(a, "node: ", "control read_now");
            a->read_now = 1;
        } else if (bytes_equal(payload + b, e - b, "reset")) {
            node_log(a, "node: ", "control reset: restarting in 1 s");
            a->restart_pending = 1;
            a->restart_at = now + NODE_RESET_DELAY_MS;
        } else {
            node_log(a, "node: ", "unknown control command ignored");
        }
        return;
    }
    if (is_alert) {
        int activate = 0;
        uint32_t duration = 0;
        if (!node_parse_alert(payload, len, &activate, &duration)) {
            node_log(a, "node: ", "fall alert payload not understood, ignored");
            return;
        }
        char num[12];
        if (activate) {
            a->buzzer_on = 1;
            a->buzzer_until = now + duration;
            a->hal->buzzer_set(a->hal->ctx, 1);
            node_log(a, "node: ", "fall alert: buzzer on for ", u64_text(num, sizeof num, duration), " ms");
        } else {
            if (a->buzzer_on) a->hal->buzzer_set(a->hal->ctx, 0);
            a->buzzer_on = 0;
            node_log(a, "node: ", "fall alert cleared: buzzer off");
        }
        return;
    }
    node_log(a, "node: ", "message on an unexpected topic ignored");
}

void on_connection(void *ctx, int connected) {
    node_app *a = (node_app *)ctx;
    a->connected = connected ? 1 : 0;
    if (connected) {
        uint32_t waiting = a->ram_count + (a->has_flash ? a->flash.pending : 0);
        if (waiting) {
            char n1[12], n2[12];
            node_log(a, "store: ", "broker reachable, delivering ", u64_text(n1, sizeof n1, waiting),
                     " waiting readings, oldest first (in flash: ",
                     u64_text(n2, sizeof n2, a->has_flash ? a->flash.pending : 0), ")");
        }
    } else {
        persist_all(a);
    }
}

/* The session's callbacks reach the HAL through the app. */
void cb_log(void *ctx, const char *line) {
    node_app *a = (node_app *)ctx;
    a->hal->log(a->hal->ctx, line);
}
uint32_t cb_random(void *ctx) {
    node_app *a = (node_app *)ctx;
    return a->hal->random32(a->hal->ctx);
}
int cb_link_up(void *ctx) {
    node_app *a = (node_app *)ctx;
    return a->hal->link_up(a->hal->ctx);
}

void set_led(node_app *a, uint8_t on) {
    if (a->led_state == on) return;
    a->led_state = on;
    a->hal->led_set(a->hal->ctx, on);
}

} // namespace

extern "C" {

void node_config_defaults(node_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->location = "";
    cfg->port = 1883;
    cfg->interval_ms = NODE_DEFAULT_INTERVAL_MS;
    cfg->publish_mode = NODE_PUBLISH_BOTH;
    cfg->keepalive_s = MQTT_DEFAULT_KEEPALIVE_S;
    cfg->backoff_min_ms = MQTT_DEFAULT_BACKOFF_MIN_MS;
    cfg->backoff_max_ms = MQTT_DEFAULT_BACKOFF_MAX_MS;
    cfg->queue_limit = MQTT_QUEUE_SLOTS;
    cfg->pir_stable_ms = PIR_DEFAULT_STABLE_MS;
    cfg->per_sensor_max_age_ms = NODE_DEFAULT_PER_SENSOR_MAX_AGE_MS;
}

void node_reading_pack(const node_sensor *sensors, uint8_t count, const node_reading *r, uint8_t b[FLASH_BODY_SIZE]) {
    memset(b, 0, FLASH_BODY_SIZE);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(r->seq >> (8 * i));
    /* The 8 value bytes: RSSI (byte 8), then each sensor's ok bit and values (sensor_driver.h). */
    int32_t rssi = r->rssi < -128 ? -128 : r->rssi > 127 ? 127 : r->rssi;
    b[8] = (uint8_t)(int8_t)rssi;
    unsigned pos = 8;
    for (uint8_t i = 0; i < count; i++) sensor_pack(sensors[i].driver, r->ok[i], r->values[i], b + 8, &pos);
    /* 48 bits of epoch ms last until the year 10889. */
    uint64_t t = r->epoch_ms > 0 ? (uint64_t)r->epoch_ms : 0;
    for (int i = 0; i < 6; i++) b[16 + i] = (uint8_t)(t >> (8 * i));
}

void node_reading_unpack(const node_sensor *sensors, uint8_t count, const uint8_t b[FLASH_BODY_SIZE], node_reading *r) {
    memset(r, 0, sizeof *r);
    r->seq = flash_body_seq(b);
    r->rssi = (int8_t)b[8];
    unsigned pos = 8;
    for (uint8_t i = 0; i < count; i++) sensor_unpack(sensors[i].driver, b + 8, &pos, &r->ok[i], r->values[i]);
    uint64_t t = 0;
    for (int i = 0; i < 6; i++) t |= (uint64_t)b[16 + i] << (8 * i);
    r->epoch_ms = (int64_t)t;
}

namespace {
uint32_t fnv_bytes(uint32_t h, const void *p, size_t n) {
    const uint8_t *b = (const uint8_t *)p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 16777619u;
    return h;
}
uint32_t fnv_str(uint32_t h, const char *s) { return fnv_bytes(h, s, strlen(s) + 1); }
} // namespace

uint16_t node_record_layout(const node_sensor *sensors, uint8_t count) {
    /* Everything node_reading_pack depends on: the format (2: RSSI then the drivers' bits) and,
       per sensor, its name, ok bit, and each value's key, bits and offset. */
    uint32_t h = fnv_bytes(2166136261u, "rec2", 4);
    for (uint8_t i = 0; i < count; i++) {
        const sensor_driver *d = sensors[i].driver;
        h = fnv_str(h, d->name);
        uint8_t always_ok = (d->flags & SENSOR_ALWAYS_OK) ? 1 : 0;
        h = fnv_bytes(h, &always_ok, 1);
        for (uint8_t v = 0; v < d->value_count; v++) {
            h = fnv_str(h, d->values[v].key);
            uint8_t bits = d->values[v].bits;
            h = fnv_bytes(h, &bits, 1);
            uint32_t min = (uint32_t)d->values[v].min;
            h = fnv_bytes(h, &min, sizeof min);
        }
    }
    uint16_t layout = (uint16_t)(h ^ (h >> 16));
    /* Never the first firmware's magic, nor what erased flash reads as. */
    if (layout == FLASH_LAYOUT_LEGACY || layout == 0xffffu) layout = (uint16_t)(layout ^ 0x0101u);
    return layout;
}

const char *node_sensors_check(const node_sensor *sensors, uint8_t count) {
    if (count > NODE_MAX_SENSORS) return "more sensors than NODE_MAX_SENSORS";
    unsigned bits = 0;
    for (uint8_t i = 0; i < count; i++) {
        const sensor_driver *d = sensors[i].driver;
        if (!d || !sensors[i].read || d->value_count == 0 || d->value_count > SENSOR_MAX_VALUES)
            return "a sensor table line is incomplete";
        bits += sensor_record_bits(d);
    }
    if (bits > SENSOR_RECORD_BITS)
        return "the sensors' values need more than the reading record's 56 bits: leave one out";
    return 0;
}

size_t node_format_combined(const char *device_id, const char *location, const node_sensor *sensors, uint8_t count,
                            const node_reading *r, char *buf, size_t cap) {
    text_buf tb;
    tb_init(&tb, buf, cap);
    tb_str(&tb, "{\"device_id\":");
    tb_json_str(&tb, device_id, strlen(device_id));
    tb_str(&tb, ",\"location\":");
    tb_json_str(&tb, location ? location : "", location ? strlen(location) : 0);
    tb_str(&tb, ",\"seq\":");
    tb_u64(&tb, r->seq);
    tb_str(&tb, ",\"timestamp\":");
    if (r->epoch_ms > 0)
        tb_i64(&tb, r->epoch_ms);
    else
        tb_str(&tb, "null");
    tb_str(&tb, ",\"sensors\":{");
    for (uint8_t i = 0; i < count; i++) {
        if (i) tb_char(&tb, ',');
        tb_char(&tb, '"');
        tb_str(&tb, sensors[i].driver->name);
        tb_str(&tb, "\":{");
        sensor_fields(&tb, sensors[i].driver, r, i);
        tb_char(&tb, '}');
    }
    tb_str(&tb, "},\"wifi\":{\"rssi\":");
    tb_i64(&tb, r->rssi);
    tb_str(&tb, "}}");
    return tb.overflow ? 0 : tb.len;
}

size_t node_format_sensor(const char *device_id, const node_sensor *sensors, uint8_t i, const node_reading *r,
                          char *buf, size_t cap) {
    const sensor_driver *d = sensors[i].driver;
    if (!sends_topic(d, r->ok[i])) return 0;
    text_buf tb;
    tb_init(&tb, buf, cap);
    if (d->topic_style == SENSOR_TOPIC_VALUE) {
        if (!r->ok[i])
            tb_str(&tb, d->missing);
        else if (d->values[0].kind == SENSOR_BOOL)
            tb_char(&tb, r->values[i][0] ? '1' : '0');
        else
            sensor_format_value(&tb, d, 0, 1, r->values[i]);
    } else {
        tb_str(&tb, "{\"device_id\":");
        tb_json_str(&tb, device_id, strlen(device_id));
        tb_char(&tb, ',');
        sensor_fields(&tb, d, r, i);
        tb_str(&tb, ",\"timestamp\":");
        if (r->epoch_ms > 0)
            tb_i64(&tb, r->epoch_ms);
        else
            tb_str(&tb, "null");
        tb_char(&tb, '}');
    }
    return tb.overflow ? 0 : tb.len;
}

int node_parse_alert(const uint8_t *p, size_t n, int *activate, uint32_t *duration_ms) {
    size_t i = find_key(p, n, "activate");
    if (i == 0) return 0;
    if (i + 4 <= n && memcmp(p + i, "true", 4) == 0)
        *activate = 1;
    else if (i + 5 <= n && memcmp(p + i, "false", 5) == 0)
        *activate = 0;
    else
        return 0;
    *duration_ms = NODE_BUZZER_DEFAULT_MS;
    size_t d = find_key(p, n, "duration");
    if (d) {
        if (d >= n || p[d] < '0' || p[d] > '9') return 0;
        uint32_t v = 0;
        while (d < n && p[d] >= '0' && p[d] <= '9') {
            if (v < 1000000000u) v = v * 10 + (uint32_t)(p[d] - '0'); /* saturate: capped below anyway */
            d++;
        }
        *duration_ms = v;
    }
    if (*duration_ms > NODE_BUZZER_MAX_MS) *duration_ms = NODE_BUZZER_MAX_MS;
    return 1;
}

const char *node_config_check(const node_config *cfg) {
    const char *err = check_id(cfg->device_id);
    if (err) return err;
    const char *location = cfg->location ? cfg->location : "";
    if (strlen(location) > NODE_MAX_LOCATION_LEN) return "location is longer than 64 bytes";
    if (!valid_utf8(location)) return "location is not valid UTF-8";
    if (!cfg->host || !*cfg->host) return "broker host is empty";
    if (cfg->port == 0) return "broker port is 0";
    if (cfg->interval_ms < 100) return "interval is below 100 ms";
    if (cfg->publish_mode < NODE_PUBLISH_COMBINED || cfg->publish_mode > NODE_PUBLISH_BOTH)
        return "publish mode is not combined, per-sensor or both";
    if (cfg->queue_limit == 0 || cfg->queue_limit > MQTT_QUEUE_SLOTS)
        return "queue size is 0 or above the build's MQTT_QUEUE_SLOTS";
    if (cfg->backoff_min_ms == 0 || cfg->backoff_max_ms < cfg->backoff_min_ms)
        return "backoff limits: need 0 < min <= max";
    if (cfg->backoff_max_ms > MQTT_DEFAULT_BACKOFF_MAX_MS) return "backoff maximum is above 60 s";

    return 0;
}

/* What the sensors add to the config's checks (node_app_init: the HAL brings the sensors). */
const char *check_with_sensors(const node_config *cfg, const node_hal *hal) {
    const char *err = node_sensors_check(hal->sensors, hal->sensor_count);
    if (err) return err;
    /* All messages of one reading must fit the window at once (they are released together). */
    if ((cfg->publish_mode & NODE_PUBLISH_PER_SENSOR) && cfg->queue_limit < 1 + hal->sensor_count)
        return "queue size is below the messages of one reading (1 + one per sensor, publish mode per-sensor or both)";
    char topic[NODE_TOPIC_LEN];
    for (uint8_t i = 0; i < hal->sensor_count; i++)
        if (!sensor_topic(topic, hal->sensors[i].driver, cfg->device_id)) return "device id too long for a topic";

    /* The widest reading this id and location can produce must fit a queue slot, or the
       node would silently publish nothing. Check once, here, with every field at its widest. */
    node_reading wide;
    memset(&wide, 0, sizeof wide);
    wide.seq = 0xffffffffffffffffull;
    wide.epoch_ms = 9999999999999ll;
    wide.rssi = -100;
    for (uint8_t i = 0; i < hal->sensor_count; i++) {
        wide.ok[i] = 1;
        for (unsigned k = 0; k < hal->sensors[i].driver->value_count; k++)
            wide.values[i][k] = sensor_widest_value(hal->sensors[i].driver, k);
    }
    /* A scratch copy on the stack: this runs once, at start. */
    char probe[MQTT_SLOT_SIZE - 64];
    if (node_format_combined(cfg->device_id, cfg->location ? cfg->location : "", hal->sensors, hal->sensor_count, &wide,
                             probe, sizeof probe) == 0)
        return "device id and location are too long for one payload";
    return 0;
}

const char *node_app_init(node_app *a, const node_config *cfg, const node_hal *hal, transport *t) {
    memset(a, 0, sizeof *a);
    const char *err = node_config_check(cfg);
    if (!err) err = check_with_sensors(cfg, hal);
    if (err) return err;
    a->cfg = *cfg;
    a->hal = hal;
    if (!cfg->location) a->cfg.location = "";

    const char *id = a->cfg.device_id;
    if (!make_topic(a->t_combined, "sensors/combined/", id, "") ||
        !make_topic(a->t_status, "devices/", id, "/status") || !make_topic(a->t_control, "devices/", id, "/control") ||
        !make_topic(a->t_alert, "alerts/fall/", id, "") || !make_topic(a->t_store, "sensors/store/", id, ""))
        return "device id too long for a topic";

    for (uint8_t i = 0; i < hal->sensor_count; i++) pir_debounce_init(&a->sensors[i].edge, cfg->pir_stable_ms);
    a->led_state = 0xff;
    a->read_now = 1; /* first reading right away */
    a->boot_count = hal->next_boot_count(hal->ctx);

    mqtt_session_config sc;
    memset(&sc, 0, sizeof sc);
    sc.host = cfg->host;
    sc.port = cfg->port;
    sc.client_id = id;
    sc.username = cfg->username ? cfg->username : id;
    sc.password = cfg->password;
    sc.status_topic = a->t_status;
    sc.subscriptions[0] = a->t_control;
    sc.subscriptions[1] = a->t_alert;
    sc.subscription_count = 2;
    sc.keepalive_s = cfg->keepalive_s;
    sc.backoff_min_ms = cfg->backoff_min_ms;
    sc.backoff_max_ms = cfg->backoff_max_ms;
    sc.queue_limit = cfg->queue_limit;
    sc.connect_timeout_ms = cfg->connack_timeout_ms;
    mqtt_session_callbacks cb;
    cb.ctx = a;
    cb.log = cb_log;
    cb.random32 = cb_random;
    cb.link_up = cb_link_up;
    cb.on_message = on_message;
    cb.on_connection = on_connection;
    cb.on_acked = on_acked;
    uint32_t now = hal->millis(hal->ctx);
    mqtt_session_init(&a->session, &sc, &cb, t, now);

    char num[12];
    node_log(a, "node: ", "started ", id);
    if (hal->flash) {
        if (flash_ring_open(&a->flash, hal->flash, node_record_layout(hal->sensors, hal->sensor_count)) != 0) {
            node_log(a, "store: ", "flash ring unusable (bad geometry or read error): readings wait in RAM only");
        } else {
            a->has_flash = 1;
            char n1[12], n2[12], n3[12];
            if (a->flash.formatted) node_log(a, "store: ", "flash region held foreign data: erased it");
            if (a->flash.relayout)
                node_log(a, "store: ", "flash held ", u64_text(n1, sizeof n1, a->flash.relayout),
                         " readings of a firmware that stores its values another way (another sensor set or "
                         "version): they cannot be read back, dropped and counted");
            node_log(a, "store: ", "flash ring ", u64_text(n1, sizeof n1, hal->flash->sector_count), " sectors, ",
                     u64_text(n2, sizeof n2, flash_ring_capacity(&a->flash)), " readings");
            node_log(a, "store: ", u64_text(n3, sizeof n3, a->flash.pending),
                     " readings waiting from before the start");
            /* seq must keep growing in the ring even if the boot counter was reset. */
            if ((uint32_t)(a->flash.last_seq >> 32) >= a->boot_count) {
                a->boot_count = (uint32_t)(a->flash.last_seq >> 32) + 1;
                node_log(a, "store: ", "boot counter behind the flash ring, using ",
                         u64_text(num, sizeof num, a->boot_count));
            }
        }
    }
    node_log(a, "store: ", "RAM ring ", u64_text(num, sizeof num, NODE_RAM_READINGS), " readings");
    node_log(a, "node: ", "boot count ", u64_text(num, sizeof num, a->boot_count));
    return 0;
}

void node_app_persist(node_app *a) { persist_all(a); }

uint32_t node_app_backlog(const node_app *a) {
    return a->ram_count + a->inflight_count + (a->has_flash ? a->flash.pending : 0);
}

void node_app_read_now(node_app *a) { a->read_now = 1; }

void node_app_poll(node_app *a) {
    const node_hal *h = a->hal;
    uint32_t now = h->millis(h->ctx);

    for (uint8_t i = 0; i < h->sensor_count; i++) {
        const node_sensor &ns = h->sensors[i];
        if (!(ns.driver->flags & SENSOR_EDGE)) continue;
        uint8_t raw[SENSOR_RAW_MAX];
        int32_t values[SENSOR_MAX_VALUES] = {0, 0, 0};
        int n = ns.read(ns.ctx, raw, sizeof raw);
        ns.driver->decode(raw, n, values);
        int edge = pir_debounce_update(&a->sensors[i].edge, values[0], now);
        if (edge > 0) {
            node_log(a, "sensor: ", ns.driver->rise_log);
            a->read_now = 1; /* a movement is news now, not at the next interval */
        } else if (edge < 0) {
            node_log(a, "sensor: ", ns.driver->fall_log);
        }
    }

    if (a->read_now || (uint32_t)(now - a->last_reading_at) >= a->cfg.interval_ms) {
        a->read_now = 0;
        take_reading(a, now);
    }

    if (a->buzzer_on && reached(now, a->buzzer_until)) {
        a->buzzer_on = 0;
        h->buzzer_set(h->ctx, 0);
        node_log(a, "node: ", "buzzer off");
    }
    /* LED: blinks during an alert, otherwise on while connected to the broker. */
    set_led(a, a->buzzer_on ? (uint8_t)((now / 250u) & 1u) : a->connected);

    dispatch(a);
    mqtt_session_poll(&a->session, now);

    if (a->restart_pending && reached(now, a->restart_at)) {
        a->restart_pending = 0;
        persist_all(a);
        node_log(a, "node: ", "restarting");
        h->restart(h->ctx);
    }
}

} // extern "C"
