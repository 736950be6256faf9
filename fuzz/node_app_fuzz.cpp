/*
 * node_app_fuzz.cpp - libFuzzer target for the node app's control and alert handler
 * (lib/node/node_app.*): what anyone allowed to publish on devices/<id>/control or
 * alerts/fall/<id> can send to a node.
 *
 * The whole app runs on a fake HAL and the fake transport of the unit tests
 * (test/unit/fake_transport.h), connected and subscribed; the harness plays the broker.
 * Input: records of [flags][length][payload]: flags pick the topic (control, alert, another),
 * retained, QoS 0/1 and the time that passes before the next one. Each payload is delivered in
 * a real PUBLISH through the session, then the app polls. Asserted after every poll:
 *   - the buzzer pin follows the app's state, and never stays on longer than 30 s;
 *   - a restart happens only 1 s or more after a non-retained control message that says reset;
 *   - node_parse_alert on the same payload (exact-size copy) gives a duration <= 30 s;
 *   - every log line is one line; every message the node publishes is valid for the broker.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_transport.h"
#include "dht22.h"
#include "hcsr04.h"
#include "node_app.h"
#include "pir.h"

namespace {

void fail(const char *what) {
    fprintf(stderr, "node_app_fuzz: %s\n", what);
    abort();
}

struct fake_hal_state {
    uint32_t now;
    int buzzer, led, restarts;
    uint32_t buzzer_set_on_at;
} fh;

uint32_t h_millis(void *) { return fh.now; }
int64_t h_epoch(void *) { return 1764091380000ll + fh.now; }
uint32_t h_random(void *) { return 12345; }
void h_log(void *, const char *line) {
    if (strchr(line, '\n') || strchr(line, '\r')) fail("a log line with a line break");
}
uint32_t h_boot(void *) { return 7; }
int h_link(void *) { return 1; }
int h_rssi(void *) { return -57; }
void h_restart(void *) { fh.restarts++; }
int h_pir(void *, uint8_t *raw, size_t) {
    raw[0] = 0;
    return 1;
}
int h_dht(void *, uint8_t *f, size_t) {
    const uint8_t frame[5] = {0x01, 0x92, 0x00, 0xd7, 0x6a}; /* 40.2 %, 21.5 degC */
    memcpy(f, frame, 5);
    return 5;
}
int h_echo(void *, uint8_t *raw, size_t) {
    const uint32_t us = 7195; /* 123.4 cm */
    for (int i = 0; i < 4; i++) raw[i] = (uint8_t)(us >> (8 * i));
    return 4;
}
void h_led(void *, int on) { fh.led = on; }
void h_buzzer(void *, int on) { fh.buzzer = on; }

const node_sensor sensors[] = {{&sensor_pir, h_pir, 0}, {&sensor_ultrasonic, h_echo, 0}, {&sensor_dht22, h_dht, 0}};
node_hal hal = {0,      h_millis,  h_epoch, h_random, h_log, h_boot,   h_link,
                h_rssi, h_restart, sensors, 3,        h_led, h_buzzer, 0};
node_app app;
fake_transport ft;
uint16_t next_in_id;

/* The broker's side: acknowledge what the node sends, answer CONNECT and SUBSCRIBE. */
void broker_step() {
    mqtt_broker_packet p;
    while (fake_take(&ft, &p)) {
        uint8_t b[16];
        int32_t n;
        switch (p.type) {
            case MQTT_CONNECT: fake_connack(&ft, 0); break;
            case MQTT_SUBSCRIBE: {
                const uint8_t codes[2] = {1, 1};
                n = mqtt_encode_suback(b, sizeof b, p.packet_id, codes, 2);
                fake_push(&ft, b, (size_t)n);
                break;
            }
            case MQTT_PUBLISH:
                if (p.publish.qos != 1) fail("the node published with QoS 0");
                fake_puback(&ft, p.packet_id);
                break;
            case MQTT_PINGREQ: {
                n = mqtt_encode_pingresp(b, sizeof b);
                fake_push(&ft, b, (size_t)n);
                break;
            }
            case MQTT_PUBACK: break;
            default: fail("the node sent an unexpected packet");
        }
    }
    if (ft.out_taken == ft.out_len) ft.out_len = ft.out_taken = 0;
}

bool reset_seen;
uint32_t reset_at;

void poll_for(uint32_t ms) {
    for (uint32_t t = 0; t <= ms; t += 50) {
        fh.now += 50;
        node_app_poll(&app);
        broker_step();
        if (fh.buzzer != (app.buzzer_on ? 1 : 0)) fail("the buzzer pin does not follow the app");
        if (app.buzzer_on && (int32_t)(app.buzzer_until - fh.now) > (int32_t)NODE_BUZZER_MAX_MS)
            fail("buzzer on for more than 30 s");
        if (fh.restarts && (!reset_seen || (uint32_t)(fh.now - reset_at) < NODE_RESET_DELAY_MS))
            fail("restarted without a reset command, or too early");
    }
}

bool mentions_reset(const uint8_t *p, size_t n) {
    for (size_t i = 0; i + 5 <= n; i++)
        if (memcmp(p + i, "reset", 5) == 0) return true;
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    memset(&fh, 0, sizeof fh);
    fh.now = 1000;
    reset_seen = false;
    next_in_id = 0;
    fake_init(&ft);
    node_config cfg;
    node_config_defaults(&cfg);
    cfg.device_id = "node01";
    cfg.location = "hall";
    cfg.host = "127.0.0.1";
    cfg.password = "pw";
    cfg.interval_ms = 60000; /* readings are not what this target is about */
    if (node_app_init(&app, &cfg, &hal, &ft.t) != NULL) fail("init");
    poll_for(200);
    if (!mqtt_session_connected(&app.session)) fail("did not connect");

    static const char *const topics[4] = {"devices/node01/control", "alerts/fall/node01", "devices/node02/control",
                                          "alerts/fall/node01"};
    size_t at = 0;
    while (at + 2 <= size) {
        const uint8_t flags = data[at];
        size_t len = data[at + 1];
        at += 2;
        if (len > size - at) len = size - at;
        const uint8_t *payload = data + at;
        at += len;

        /* The pure parser, on an exact-size copy. */
        uint8_t *copy = (uint8_t *)malloc(len ? len : 1);
        memcpy(copy, payload, len);
        int activate = 7;
        uint32_t duration = 0xdeadbeef;
        int ok = node_parse_alert(copy, len, &activate, &duration);
        if (ok != 0 && ok != 1) fail("node_parse_alert result");
        if (ok && ((activate != 0 && activate != 1) || duration > NODE_BUZZER_MAX_MS))
            fail("alert values out of range");

        mqtt_publish pub;
        memset(&pub, 0, sizeof pub);
        pub.topic = topics[flags & 3];
        pub.topic_len = (uint16_t)strlen(pub.topic);
        pub.payload = copy;
        pub.payload_len = len;
        pub.retain = (flags >> 2) & 1;
        pub.qos = (flags >> 3) & 1;
        if (pub.qos) {
            if (++next_in_id == 0) next_in_id = 1;
            pub.packet_id = next_in_id;
        }
        uint8_t pkt[512];
        int32_t n = mqtt_encode_publish(pkt, sizeof pkt, &pub);
        if (n <= 0) fail("encode");
        if (ft.in_len + (size_t)n <= sizeof ft.in) fake_push(&ft, pkt, (size_t)n);
        if ((flags & 3) == 0 && !pub.retain && mentions_reset(copy, len) && !reset_seen) {
            reset_seen = true;
            reset_at = fh.now + 50; /* delivered at the next poll */
        }
        free(copy);
        poll_for(50u + (uint32_t)(flags >> 4) * 400u);
    }
    poll_for(2000);
    return 0;
}
