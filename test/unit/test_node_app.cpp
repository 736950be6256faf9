/* Unit tests for lib/node: payloads are valid JSON with escaping, alert parsing, and the app
   end to end on a fake HAL and transport (seq, PIR edge, DHT22 failure, read_now, alert, reset). */
#include <stdlib.h>

#include "check.h"
#include "fake_transport.h"
#include "bme280.h"
#include "dht22.h"
#include "hcsr04.h"
#include "node_app.h"
#include "pir.h"
#include "text_buf.h"

/* ---- a strict little JSON checker (RFC 8259), enough to prove validity ---- */
struct jp {
    const char *s;
    size_t i, n;
};
static void ws(jp &p) {
    while (p.i < p.n && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r')) p.i++;
}
static bool value(jp &p, int depth);
/* Parses a string; if out is given, stores the unescaped text (ASCII escapes only). */
static bool string(jp &p, char *out = 0, size_t cap = 0) {
    size_t o = 0;
    if (p.i >= p.n || p.s[p.i] != '"') return false;
    p.i++;
    while (p.i < p.n) {
        unsigned char c = (unsigned char)p.s[p.i++];
        if (c == '"') {
            if (out) out[o] = 0;
            return true;
        }
        if (c < 0x20) return false; /* raw control characters are invalid */
        if (c >= 0x80) {
            /* RFC 8259 8.1: JSON text is UTF-8. Decode the sequence and refuse ill-formed ones
               (bad lead or continuation bytes, overlong forms, surrogates, above U+10FFFF). */
            size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
            if (k == 0 || c > 0xf4 || p.i + k - 1 > p.n) return false;
            unsigned long cp = c & (0x7f >> k);
            for (size_t j = 1; j < k; j++) {
                unsigned char cc = (unsigned char)p.s[p.i + j - 1];
                if ((cc & 0xc0) != 0x80) return false;
                cp = (cp << 6) | (cc & 0x3f);
            }
            static const unsigned long min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
            if (cp < min_cp[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
            if (out && o + k < cap) {
                out[o++] = (char)c;
                for (size_t j = 1; j < k; j++) out[o++] = p.s[p.i + j - 1];
            }
            p.i += k - 1;
            continue;
        }
        if (c == '\\') {
            if (p.i >= p.n) return false;
            char e = p.s[p.i++];
            const char *simple = "\"\\/bfnrt";
            const char *map = "\"\\/\b\f\n\r\t";
            const char *k = strchr(simple, e);
            if (e && k) {
                c = (unsigned char)map[k - simple];
            } else if (e == 'u') {
                if (p.i + 4 > p.n) return false;
                unsigned v = 0;
                for (int j = 0; j < 4; j++) {
                    char h = p.s[p.i++];
                    v <<= 4;
                    if (h >= '0' && h <= '9')
                        v |= (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f')
                        v |= (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F')
                        v |= (unsigned)(h - 'A' + 10);
                    else
                        return false;
                }
                /* We only ever escape ASCII control bytes, and U+FFFD for ill-formed input. */
                if (v == 0xfffd) {
                    if (out && o + 3 < cap) {
                        out[o++] = '\xef';
                        out[o++] = '\xbf';
                        out[o++] = '\xbd';
                    }
                    continue;
                }
                if (v > 0x7f) return false;
                c = (unsigned char)v;
            } else {
                return false;
            }
        }
        if (out && o + 1 < cap) out[o++] = (char)c;
    }
    return false;
}
static bool number(jp &p) {
    size_t st = p.i;
    if (p.i < p.n && p.s[p.i] == '-') p.i++;
    if (p.i >= p.n) return false;
    if (p.s[p.i] == '0')
        p.i++;
    else if (p.s[p.i] >= '1' && p.s[p.i] <= '9')
        while (p.i < p.n && p.s[p.i] >= '0' && p.s[p.i] <= '9') p.i++;
    else
        return false;
    if (p.i < p.n && p.s[p.i] == '.') {
        p.i++;
        size_t d = p.i;
        while (p.i < p.n && p.s[p.i] >= '0' && p.s[p.i] <= '9') p.i++;
        if (p.i == d) return false;
    }
    return p.i > st;
}
static bool lit(jp &p, const char *w) {
    size_t n = strlen(w);
    if (p.i + n > p.n || memcmp(p.s + p.i, w, n) != 0) return false;
    p.i += n;
    return true;
}
static bool value(jp &p, int depth) {
    if (depth > 16) return false;
    ws(p);
    if (p.i >= p.n) return false;
    char c = p.s[p.i];
    if (c == '{') {
        p.i++;
        ws(p);
        if (p.i < p.n && p.s[p.i] == '}') {
            p.i++;
            return true;
        }
        for (;;) {
            ws(p);
            if (!string(p)) return false;
            ws(p);
            if (p.i >= p.n || p.s[p.i++] != ':') return false;
            if (!value(p, depth + 1)) return false;
            ws(p);
            if (p.i < p.n && p.s[p.i] == ',') {
                p.i++;
                continue;
            }
            if (p.i < p.n && p.s[p.i] == '}') {
                p.i++;
                return true;
            }
            return false;
        }
    }
    if (c == '"') return string(p);
    if (c == 't') return lit(p, "true");
    if (c == 'f') return lit(p, "false");
    if (c == 'n') return lit(p, "null");
    return number(p);
}
static bool valid_json(const char *s) {
    jp p = {s, 0, strlen(s)};
    if (!value(p, 0)) return false;
    ws(p);
    return p.i == p.n;
}
/* The unescaped value of the string field `key` at the top level of a flat-enough object. */
static bool field_string(const char *json, const char *key, char *out, size_t cap) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *at = strstr(json, pat);
    if (!at) return false;
    jp p = {json, (size_t)(at - json) + strlen(pat), strlen(json)};
    return string(p, out, cap);
}

/* The NodeMCU's default sensors, as a table for the payload builders (reads unused there). */
static int no_read(void *, uint8_t *, size_t) { return HAL_SENSOR_NO_ANSWER; }
static const node_sensor kSensors[] = {
    {&sensor_pir, no_read, 0}, {&sensor_ultrasonic, no_read, 0}, {&sensor_dht22, no_read, 0}};
enum { PIR = 0, ULTRASONIC = 1, DHT = 2 };

static node_reading sample() {
    node_reading r;
    memset(&r, 0, sizeof r);
    r.seq = (3ull << 32) | 42;
    r.epoch_ms = 1764091380123ll;
    r.ok[PIR] = 1;
    r.values[PIR][0] = 1;
    r.ok[DHT] = 1;
    r.values[DHT][0] = 215;
    r.values[DHT][1] = 402;
    r.ok[ULTRASONIC] = 1;
    r.values[ULTRASONIC][0] = 1234;
    r.rssi = -61;
    return r;
}

static size_t combined(const char *id, const char *location, const node_reading *r, char *buf, size_t cap) {
    return node_format_combined(id, location, kSensors, 3, r, buf, cap);
}

static void test_combined_payload() {
    char buf[MQTT_SLOT_SIZE];
    node_reading r = sample();
    size_t n = combined("node01", "room 1", &r, buf, sizeof buf);
    CHECK(n > 0);
    CHECK_EQ(n, strlen(buf));
    CHECK(valid_json(buf));
    CHECK_STR(buf, "{\"device_id\":\"node01\",\"location\":\"room 1\",\"seq\":12884901930,\"timestamp\":1764091380123,"
                   "\"sensors\":{\"pir\":{\"motion_detected\":true},\"ultrasonic\":{\"distance_cm\":123.4},"
                   "\"dht22\":{\"temperature_c\":21.5,\"humidity_percent\":40.2}},\"wifi\":{\"rssi\":-61}}");
    /* Failed DHT22, out-of-range distance, clock not set: nulls, still valid JSON. */
    r.ok[DHT] = 0;
    r.ok[ULTRASONIC] = 0;
    r.epoch_ms = 0;
    r.values[PIR][0] = 0;
    r.values[DHT][0] = -101;
    n = combined("node01", "", &r, buf, sizeof buf);
    CHECK(n > 0);
    CHECK(valid_json(buf));
    CHECK(strstr(buf, "\"timestamp\":null") != 0);
    CHECK(strstr(buf, "\"distance_cm\":null") != 0);
    CHECK(strstr(buf, "\"dht22\":{\"temperature_c\":null,\"humidity_percent\":null}") != 0);
    CHECK(strstr(buf, "\"motion_detected\":false") != 0);
    /* Too small a buffer: 0, never a truncated payload. */
    CHECK_EQ(combined("node01", "room", &r, buf, 40), 0);
}

static void test_escaping() {
    char buf[MQTT_SLOT_SIZE];
    node_reading r = sample();
    const char *nasty = "Room \"5\" \\ north\n\ttab\x01\x1f end \xc3\xa9";
    size_t n = combined("node-01", nasty, &r, buf, sizeof buf);
    CHECK(n > 0);
    CHECK(valid_json(buf));
    CHECK(strstr(buf, "\"location\":\"Room \\\"5\\\" \\\\ north\\n\\ttab\\u0001\\u001f end \xc3\xa9\"") != 0);
    char back[128];
    CHECK(field_string(buf, "location", back, sizeof back));
    CHECK_STR(back, nasty); /* escaping is lossless */
    /* Negative temperatures in the per-sensor payload. */
    r.values[DHT][0] = -3;
    n = node_format_sensor("node-01", kSensors, DHT, &r, buf, sizeof buf);
    CHECK(n > 0);
    CHECK(valid_json(buf));
    CHECK_STR(
        buf,
        "{\"device_id\":\"node-01\",\"temperature_c\":-0.3,\"humidity_percent\":40.2,\"timestamp\":1764091380123}");
    /* Distance topic: cm, or -1 out of range. */
    n = node_format_sensor("node-01", kSensors, ULTRASONIC, &r, buf, sizeof buf);
    CHECK_STR(buf, "123.4");
    r.ok[ULTRASONIC] = 0;
    n = node_format_sensor("node-01", kSensors, ULTRASONIC, &r, buf, sizeof buf);
    CHECK_STR(buf, "-1");
    n = node_format_sensor("node-01", kSensors, PIR, &r, buf, sizeof buf);
    CHECK_STR(buf, "1");
    /* A failed JSON-style read sends nothing on its topic. */
    r.ok[DHT] = 0;
    CHECK_EQ(node_format_sensor("node-01", kSensors, DHT, &r, buf, sizeof buf), 0);
    /* text_buf numbers. */
    char t[32];
    text_buf tb;
    tb_init(&tb, t, sizeof t);
    tb_i64(&tb, -9223372036854775807ll - 1);
    CHECK_STR(t, "-9223372036854775808");
    tb_init(&tb, t, 4);
    tb_str(&tb, "abcdef");
    CHECK(tb.overflow);
    CHECK_STR(t, "abc");
}

/* A reading survives its 24-byte record (seq, values in 64 bits, epoch; the flash ring keeps
   bytes 0..21), for the default sensors and for a BME280 node; a set over the record is refused. */
static void test_record_round_trip_and_limit() {
    node_reading r = sample();
    uint8_t body[FLASH_BODY_SIZE];
    node_reading_pack(kSensors, 3, &r, body);
    CHECK_EQ(body[22], 0);
    CHECK_EQ(body[23], 0);
    node_reading back;
    node_reading_unpack(kSensors, 3, body, &back);
    CHECK(back.seq == r.seq);
    CHECK(back.epoch_ms == r.epoch_ms);
    CHECK_EQ(back.rssi, -61);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(back.ok[i], r.ok[i]);
        for (int k = 0; k < SENSOR_MAX_VALUES; k++) CHECK_EQ(back.values[i][k], r.values[i][k]);
    }
    r.ok[DHT] = 0;
    node_reading_pack(kSensors, 3, &r, body);
    node_reading_unpack(kSensors, 3, body, &back);
    CHECK_EQ(back.ok[DHT], 0);
    CHECK_EQ(back.values[DHT][0], 0);

    const node_sensor bme_node[] = {
        {&sensor_pir, no_read, 0}, {&sensor_ultrasonic, no_read, 0}, {&sensor_bme280, no_read, 0}};
    CHECK(node_sensors_check(bme_node, 3) == 0);
    memset(&r, 0, sizeof r);
    r.ok[0] = r.ok[1] = r.ok[2] = 1;
    r.values[1][0] = 4000;
    r.values[2][0] = -123;
    r.values[2][1] = 1000;
    r.values[2][2] = 110000;
    node_reading_pack(bme_node, 3, &r, body);
    node_reading_unpack(bme_node, 3, body, &back);
    CHECK_EQ(back.values[1][0], 4000);
    CHECK_EQ(back.values[2][0], -123);
    CHECK_EQ(back.values[2][1], 1000);
    CHECK_EQ(back.values[2][2], 110000);
    char buf[MQTT_SLOT_SIZE];
    CHECK(node_format_sensor("n1", bme_node, 2, &r, buf, sizeof buf) > 0);
    CHECK_STR(buf, "{\"device_id\":\"n1\",\"temperature_c\":-12.3,\"humidity_percent\":100.0,\"pressure_hpa\":1100.00,"
                   "\"timestamp\":null}");

    const node_sensor too_many[] = {{&sensor_pir, no_read, 0},
                                    {&sensor_ultrasonic, no_read, 0},
                                    {&sensor_dht22, no_read, 0},
                                    {&sensor_bme280, no_read, 0}};
    const char *err = node_sensors_check(too_many, 4);
    CHECK(err != 0 && strstr(err, "56 bits") != 0);

    /* The layout in the flash headers: the same for the same sensors, another for any other set
       or order (their records would unpack wrongly), never the legacy magic or erased flash. */
    const node_sensor dht_node[] = {
        {&sensor_pir, no_read, 0}, {&sensor_ultrasonic, no_read, 0}, {&sensor_dht22, no_read, 0}};
    const node_sensor dht_node2[] = {
        {&sensor_pir, no_read, 0}, {&sensor_ultrasonic, no_read, 0}, {&sensor_dht22, no_read, 0}};
    const node_sensor swapped[] = {
        {&sensor_ultrasonic, no_read, 0}, {&sensor_pir, no_read, 0}, {&sensor_dht22, no_read, 0}};
    uint16_t l_dht = node_record_layout(dht_node, 3), l_bme = node_record_layout(bme_node, 3);
    CHECK_EQ(l_dht, node_record_layout(dht_node2, 3));
    CHECK(l_dht != l_bme);
    CHECK(l_dht != node_record_layout(swapped, 3));
    CHECK(l_dht != node_record_layout(dht_node, 2));
    const uint16_t layouts[] = {l_dht, l_bme, node_record_layout(swapped, 3), node_record_layout(dht_node, 0)};
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        CHECK(layouts[i] != FLASH_LAYOUT_LEGACY && layouts[i] != 0xffff);
}

static void test_alert_parsing() {
    int act = -1;
    uint32_t dur = 0;
    const char *a = "{\"activate\":true,\"duration\":2000}";
    CHECK_EQ(node_parse_alert((const uint8_t *)a, strlen(a), &act, &dur), 1);
    CHECK_EQ(act, 1);
    CHECK_EQ(dur, 2000);
    const char *b = "{ \"duration\" : 999999999999, \"activate\" : true }";
    CHECK_EQ(node_parse_alert((const uint8_t *)b, strlen(b), &act, &dur), 1);
    CHECK_EQ(dur, NODE_BUZZER_MAX_MS); /* capped at 30 s */
    const char *c = "{\"activate\":true}";
    CHECK_EQ(node_parse_alert((const uint8_t *)c, strlen(c), &act, &dur), 1);
    CHECK_EQ(dur, NODE_BUZZER_DEFAULT_MS);
    const char *d = "{\"activate\":false}";
    CHECK_EQ(node_parse_alert((const uint8_t *)d, strlen(d), &act, &dur), 1);
    CHECK_EQ(act, 0);
    const char *bad[] = {"",
                         "{}",
                         "{\"activate\":1}",
                         "{\"activate\":tru",
                         "{\"activate\"",
                         "activate:true",
                         "{\"activate\":true,\"duration\":\"x\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* Exact-size copies so ASan sees any read past the payload. */
        size_t n = strlen(bad[i]);
        uint8_t *p = (uint8_t *)malloc(n + 1);
        memcpy(p, bad[i], n);
        CHECK_EQ(node_parse_alert(p, n, &act, &dur), 0);
        free(p);
    }
}

/* ---- the app on a fake HAL ---- */
struct fake_hal {
    uint32_t now;
    int64_t epoch;
    uint32_t boot;
    int pir;
    int dht_rc;
    uint8_t frame[5];
    int32_t echo_us;
    int led, buzzer, restarts;
    char log[32768];
};
static fake_hal fh;
static uint32_t h_millis(void *) { return fh.now; }
static int64_t h_epoch(void *) { return fh.epoch; }
static uint32_t h_random(void *) { return 0; }
static void h_log(void *, const char *line) {
    size_t n = strlen(fh.log);
    snprintf(fh.log + n, sizeof fh.log - n, "%s\n", line);
}
static uint32_t h_boot(void *) { return ++fh.boot; }
static int h_link(void *) { return 1; }
static int h_rssi(void *) { return -57; }
static void h_restart(void *) { fh.restarts++; }
static int h_pir(void *, uint8_t *raw, size_t) {
    raw[0] = (uint8_t)fh.pir;
    return 1;
}
static int h_dht(void *, uint8_t *f, size_t) {
    memcpy(f, fh.frame, 5);
    return fh.dht_rc == 0 ? 5 : HAL_SENSOR_NO_ANSWER;
}
static int h_echo(void *, uint8_t *raw, size_t) {
    if (fh.echo_us > HCSR04_TIMEOUT_US) return HAL_SENSOR_NO_ANSWER; /* the HAL's 30 ms timeout */
    for (int i = 0; i < 4; i++) raw[i] = (uint8_t)((uint32_t)fh.echo_us >> (8 * i));
    return 4;
}
static void h_led(void *, int on) { fh.led = on; }
static void h_buzzer(void *, int on) { fh.buzzer = on; }

static const node_sensor kFakeSensors[] = {
    {&sensor_pir, h_pir, 0}, {&sensor_ultrasonic, h_echo, 0}, {&sensor_dht22, h_dht, 0}};
static node_hal hal = {0,      h_millis,  h_epoch,      h_random, h_log, h_boot,   h_link,
                       h_rssi, h_restart, kFakeSensors, 3,        h_led, h_buzzer, 0};
static node_app app;
static fake_transport ft;

static void set_dht(uint16_t hum, int16_t temp) {
    uint16_t t = (uint16_t)(temp < 0 ? (0x8000 | -temp) : temp);
    fh.frame[0] = (uint8_t)(hum >> 8);
    fh.frame[1] = (uint8_t)hum;
    fh.frame[2] = (uint8_t)(t >> 8);
    fh.frame[3] = (uint8_t)t;
    fh.frame[4] = (uint8_t)(fh.frame[0] + fh.frame[1] + fh.frame[2] + fh.frame[3]);
    fh.dht_rc = 0;
}

/* Poll until `ms` have passed, 10 ms per step, acking every PUBLISH the node sends like a broker.
   Copies the publishes to `seen` ("topic payload\n"). */
static char seen[32768];
static uint16_t acked_by_node[64]; /* PUBACKs the node sent for incoming QoS 1 */
static int acked_count = 0;
static void run_for(uint32_t ms) {
    for (uint32_t t = 0; t < ms; t += 10) {
        fh.now += 10;
        node_app_poll(&app);
        mqtt_broker_packet p;
        while (fake_take(&ft, &p)) {
            if (p.type == MQTT_CONNECT) fake_connack(&ft, 0);
            if (p.type == MQTT_PUBACK && acked_count < 64) acked_by_node[acked_count++] = p.packet_id;
            if (p.type == MQTT_PUBLISH) {
                size_t n = strlen(seen);
                snprintf(seen + n, sizeof seen - n, "%.*s %.*s\n", (int)p.publish.topic_len, p.publish.topic,
                         (int)p.publish.payload_len, (const char *)p.publish.payload);
                fake_puback(&ft, p.packet_id);
            }
        }
    }
}

static void start_app(uint8_t mode) {
    memset(&fh, 0, sizeof fh);
    fh.now = 1000;
    fh.epoch = 1764091380000ll;
    fh.boot = 6;
    fh.echo_us = 7195;
    set_dht(402, 215);
    seen[0] = 0;
    acked_count = 0;
    fake_init(&ft);
    node_config cfg;
    node_config_defaults(&cfg);
    cfg.device_id = "node01";
    cfg.location = "hall";
    cfg.host = "127.0.0.1";
    cfg.password = "pw";
    cfg.publish_mode = mode;
    CHECK(node_app_init(&app, &cfg, &hal, &ft.t) == 0);
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static void test_app_defaults_and_validation() {
    node_config cfg;
    node_config_defaults(&cfg);
    CHECK_EQ(cfg.interval_ms, 2000);
    CHECK_EQ(cfg.backoff_max_ms, 60000);
    CHECK_EQ(cfg.publish_mode, NODE_PUBLISH_BOTH);
    cfg.host = "h";
    const char *bad_ids[] = {"", "a/b", "a+b", "a#", "a b", "123456789012345678901234"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        cfg.device_id = bad_ids[i];
        CHECK(node_app_init(&app, &cfg, &hal, &ft.t) != 0);
    }
    cfg.device_id = "node01";
    cfg.backoff_max_ms = 61000;
    CHECK(node_app_init(&app, &cfg, &hal, &ft.t) != 0);
}

static void test_app_readings_and_seq() {
    start_app(NODE_PUBLISH_BOTH);
    run_for(4100); /* first reading at once, then at 2 s and 4 s */
    CHECK_EQ(count(seen, "sensors/combined/node01 {"), 3);
    CHECK_EQ(count(seen, "sensors/pir/node01 0"), 3);
    CHECK_EQ(count(seen, "sensors/ultrasonic/node01 123.4"), 3);
    CHECK_EQ(count(seen, "sensors/dht22/node01 {\"device_id\":\"node01\",\"temperature_c\":21.5"), 3);
    CHECK_EQ(count(seen, "devices/node01/status online"), 1);
    /* seq = boot 7 << 32 | 1, 2, 3 */
    CHECK(strstr(seen, "\"seq\":30064771073,") != 0);
    CHECK(strstr(seen, "\"seq\":30064771074,") != 0);
    CHECK(strstr(seen, "\"seq\":30064771075,") != 0);
    CHECK(strstr(fh.log, "node: boot count 7") != 0);
    CHECK_EQ(fh.led, 1); /* connected */
    /* Every combined payload is valid JSON. */
    for (const char *p = strstr(seen, "sensors/combined/node01 "); p; p = strstr(p + 1, "sensors/combined/node01 ")) {
        char one[MQTT_SLOT_SIZE];
        const char *b = p + strlen("sensors/combined/node01 ");
        const char *e = strchr(b, '\n');
        snprintf(one, sizeof one, "%.*s", (int)(e - b), b);
        CHECK(valid_json(one));
    }
}

static void test_app_pir_edge_publishes_at_once() {
    start_app(NODE_PUBLISH_COMBINED);
    run_for(500);
    CHECK_EQ(count(seen, "sensors/combined/"), 1);
    fh.pir = 1;
    run_for(100); /* 50 ms debounce, then at once: not at the 2 s interval */
    CHECK_EQ(count(seen, "sensors/combined/"), 2);
    CHECK(strstr(seen, "\"motion_detected\":true") != 0);
    CHECK(strstr(fh.log, "sensor: motion detected") != 0);
    CHECK(strstr(seen, "sensors/pir/") == 0); /* combined mode only */
}

static void test_app_dht_failure_and_rate_limit() {
    start_app(NODE_PUBLISH_BOTH);
    fh.dht_rc = -1;
    fh.echo_us = 40000; /* no echo within 30 ms */
    run_for(100);
    CHECK(strstr(fh.log, "sensor: dht22 read failed: TIMEOUT") != 0);
    CHECK(strstr(seen, "sensors/dht22/") == 0); /* a failed read skips the dht22 topic */
    CHECK(strstr(seen, "\"temperature_c\":null,\"humidity_percent\":null") != 0);
    CHECK(strstr(seen, "sensors/ultrasonic/node01 -1") != 0);
    CHECK(strstr(seen, "\"distance_cm\":null") != 0);
    set_dht(402, 215);
    fh.frame[4] ^= 0xff;
    run_for(2000);
    CHECK(strstr(fh.log, "sensor: dht22 read failed: BAD_CHECKSUM") != 0);
    /* Rapid PIR edges force readings, but the DHT22 is read at most every 2 s. */
    set_dht(500, -55);
    seen[0] = 0;
    for (int i = 0; i < 5; i++) {
        fh.pir = 1;
        run_for(100);
        fh.pir = 0;
        run_for(100);
    }
    /* Readings were taken at each edge, all within 1 s of the last DHT read: cached result. */
    CHECK(count(seen, "sensors/combined/") >= 5);
    CHECK(strstr(seen, "-5.5") == 0);
    run_for(2500);
    CHECK(strstr(seen, "\"temperature_c\":-5.5") != 0);
}

static void push_publish(const char *topic, const char *payload, uint16_t id, uint8_t retain = 0) {
    uint8_t b[256];
    mqtt_publish in;
    memset(&in, 0, sizeof in);
    in.topic = topic;
    in.topic_len = (uint16_t)strlen(topic);
    in.payload = (const uint8_t *)payload;
    in.payload_len = strlen(payload);
    in.qos = 1;
    in.retain = retain;
    in.packet_id = id;
    int32_t n = mqtt_encode_publish(b, sizeof b, &in);
    fake_push(&ft, b, (size_t)n);
}

static void test_app_control_and_alert() {
    start_app(NODE_PUBLISH_COMBINED);
    run_for(500);
    CHECK_EQ(count(seen, "sensors/combined/"), 1);
    push_publish("devices/node01/control", "read_now", 5);
    run_for(20);
    CHECK_EQ(count(seen, "sensors/combined/"), 2);
    CHECK(strstr(fh.log, "node: control read_now") != 0);

    push_publish("alerts/fall/node01", "{\"activate\":true,\"duration\":2000}", 6);
    run_for(20);
    CHECK_EQ(fh.buzzer, 1);
    CHECK(strstr(fh.log, "node: fall alert: buzzer on for 2000 ms") != 0);
    run_for(1900);
    CHECK_EQ(fh.buzzer, 1); /* still sounding */
    run_for(200);
    CHECK_EQ(fh.buzzer, 0);
    CHECK(count(seen, "sensors/combined/") >= 3); /* the loop kept running: not a blocking delay */
    CHECK(strstr(fh.log, "node: buzzer off") != 0);

    /* Capped at 30 s. */
    push_publish("alerts/fall/node01", "{\"activate\":true,\"duration\":600000}", 7);
    run_for(29000);
    CHECK_EQ(fh.buzzer, 1);
    run_for(1100);
    CHECK_EQ(fh.buzzer, 0);

    /* reset: acked first, restart a little later. */
    push_publish("devices/node01/control", "reset", 8);
    run_for(20);
    CHECK_EQ(fh.restarts, 0);
    /* Acknowledged before the restart, or the broker would deliver "reset" again after it. */
    CHECK(acked_count > 0 && acked_by_node[acked_count - 1] == 8);
    run_for(1100);
    CHECK_EQ(fh.restarts, 1);
}

/* Review fixes ------------------------------------------------------------------------- */

/* JSON must be UTF-8 (RFC 8259 8.1): bytes that are not well-formed UTF-8 become U+FFFD,
   well-formed multi-byte characters pass through. */
static void test_json_escaping_of_ill_formed_utf8() {
    char buf[MQTT_SLOT_SIZE];
    node_reading r = sample();
    const char *cases[] = {"\xff",     "a\xc3",        "\xc3(",
                           "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                           "\xe2\x82", "\x80x",        "ok \xe2\x82\xac \xf0\x9f\x98\x80"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = combined("node01", cases[i], &r, buf, sizeof buf);
        CHECK(n > 0);
        if (!valid_json(buf)) fprintf(stderr, "  invalid JSON for case %zu: %s\n", i, buf);
        CHECK(valid_json(buf));
    }
    combined("node01",
             "a\xff"
             "b",
             &r, buf, sizeof buf);
    CHECK(strstr(buf, "\"location\":\"a\\ufffdb\"") != 0);
    combined("node01", "\xe2\x82\xac", &r, buf, sizeof buf);
    CHECK(strstr(buf, "\"location\":\"\xe2\x82\xac\"") != 0); /* the euro sign stays as it is */
}

/* The device id is the MQTT client id, the username and part of every topic; Mosquitto closes
   the connection on ill-formed UTF-8 or a C1 control character in it (MQTT-1.5.3-1), so the
   node would retry for ever. Refuse such ids (and locations that are not UTF-8) at start. */
static void test_ids_and_locations_must_be_utf8() {
    node_config cfg;
    node_config_defaults(&cfg);
    cfg.host = "h";
    const char *bad_ids[] = {"n\xff",     "n\xc3",         "\xc0\xaf",         "n\xed\xa0\x80",
                             "n\xc2\x85", "n\xef\xbf\xbe", "n\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        cfg.device_id = bad_ids[i];
        const char *err = node_config_check(&cfg);
        if (!err) fprintf(stderr, "  accepted bad id case %zu\n", i);
        CHECK(err != 0);
    }
    cfg.device_id = "n\xc3\xa9"
                    "01"; /* well-formed UTF-8 is fine */
    CHECK(node_config_check(&cfg) == 0);
    cfg.device_id = "node01";
    cfg.location = "hall \xff";
    CHECK(node_config_check(&cfg) != 0);
    cfg.location = "K\xc3\xbc"
                   "che, 1. Stock";
    CHECK(node_config_check(&cfg) == 0);
}

/* tb_tenths negated its argument: INT32_MIN overflowed (undefined behaviour, UBSan aborts). */
static void test_tenths_extremes() {
    char t[32];
    text_buf tb;
    tb_init(&tb, t, sizeof t);
    tb_tenths(&tb, (int32_t)0x80000000u);
    CHECK_STR(t, "-214748364.8");
    tb_init(&tb, t, sizeof t);
    tb_tenths(&tb, 0x7fffffff);
    CHECK_STR(t, "214748364.7");
    tb_init(&tb, t, sizeof t);
    tb_tenths(&tb, -400);
    CHECK_STR(t, "-40.0");
}

/* A retained "reset" on the control topic (say `mosquitto_pub -r`) is delivered again on every
   SUBSCRIBE, i.e. after every boot: the node would reboot every few seconds for ever (and each
   boot rewrites the boot counter in flash). A retained message is a stale command, not news:
   acknowledge it and ignore it. A live "reset" still restarts the node. */
static void test_app_ignores_retained_control_commands() {
    start_app(NODE_PUBLISH_COMBINED);
    run_for(500);
    int readings = count(seen, "sensors/combined/");
    push_publish("devices/node01/control", "reset", 21, 1);
    push_publish("devices/node01/control", "read_now", 22, 1);
    run_for(2000);
    CHECK_EQ(fh.restarts, 0);
    CHECK(strstr(fh.log, "node: control read_now") == 0);
    CHECK(count(seen, "sensors/combined/") <= readings + 1); /* at most the interval reading */
    CHECK(acked_count >= 2 && acked_by_node[acked_count - 2] == 21 && acked_by_node[acked_count - 1] == 22);
    CHECK(strstr(fh.log, "node: retained control command ignored") != 0);
    push_publish("devices/node01/control", "reset", 23, 0);
    run_for(1200);
    CHECK_EQ(fh.restarts, 1);
}

static void test_app_ignores_retained_fall_alerts() {
    start_app(NODE_PUBLISH_COMBINED);
    run_for(500);
    push_publish("alerts/fall/node01", "{\"activate\":true,\"duration\":2000}", 31, 1);
    run_for(200);
    CHECK_EQ(fh.buzzer, 0);
    CHECK(acked_count >= 1 && acked_by_node[acked_count - 1] == 31); /* still acknowledged */
    CHECK(strstr(fh.log, "node: retained fall alert ignored") != 0);
    push_publish("alerts/fall/node01", "{\"activate\":true,\"duration\":2000}", 32, 0);
    run_for(200);
    CHECK_EQ(fh.buzzer, 1); /* a live alert still sounds */
}

int main() {
    RUN(test_combined_payload);
    RUN(test_escaping);
    RUN(test_json_escaping_of_ill_formed_utf8);
    RUN(test_ids_and_locations_must_be_utf8);
    RUN(test_tenths_extremes);
    RUN(test_record_round_trip_and_limit);
    RUN(test_alert_parsing);
    RUN(test_app_defaults_and_validation);
    RUN(test_app_readings_and_seq);
    RUN(test_app_pir_edge_publishes_at_once);
    RUN(test_app_dht_failure_and_rate_limit);
    RUN(test_app_control_and_alert);
    RUN(test_app_ignores_retained_control_commands);
    RUN(test_app_ignores_retained_fall_alerts);
    return check_summary("test_node_app");
}
