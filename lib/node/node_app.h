/*
 * node_app.h - the sensor node: readings, topics, JSON payloads, control and fall alerts.
 *
 * Both targets run exactly this; they differ only in the node_hal and transport they pass in.
 *   static node_app app;                        // static: it holds the MQTT queue
 *   node_config cfg; node_config_defaults(&cfg); cfg.device_id = ...;
 *   const char *err = node_app_init(&app, &cfg, &hal, &transport);   // NULL or what is wrong
 *   for (;;) node_app_poll(&app);               // Arduino: call it from loop()
 *
 * Sensors are drivers (lib/sensors/sensor_driver.h) in the HAL's table (node_hal.sensors); this
 * file names none of them. Topics (compatible with the existing backend):
 *   sensors/combined/<id>   {"device_id","location","seq","timestamp","sensors":{"<name>":{<fields>},...},
 *                           "wifi":{"rssi"}}; a failed sensor's fields are null
 *   sensors/<name>/<id>     one per sensor, as its driver says: the bare value (pir: 1 / 0,
 *                           ultrasonic: cm or -1) or {"device_id",<fields>,"timestamp"} (dht22,
 *                           bme280; skipped on a failed read)
 *   devices/<id>/status     online / offline (retained; offline is the will)
 *   sensors/store/<id>      {"device_id","boot","lost","corrupt"} (retained): readings this boot
 *                           dropped because RAM and flash were full, and corrupt flash records
 * Subscribed (QoS 1): devices/<id>/control ("reset", "read_now"), alerts/fall/<id>
 * ({"activate":true,"duration":2000}: buzzer for that long, capped at 30 s).
 *
 * seq = boot_count << 32 | n, n = 1, 2, 3 ... per boot: within a boot it increases by one per
 * reading, and it never repeats across reboots (the boot counter is stored by the HAL). It stays
 * below 2^53 for 2 million boots, so JavaScript and Python backends read it exactly.
 *
 * Readings, not packets, wait for the broker: each is a 24-byte record (node_reading_pack: the
 * sensors' values share 64 bits of it, sensor_driver.h) in a
 * RAM ring; the MQTT messages are encoded from it only when the session's in-flight window has
 * room, and the record is released when every message of it is acknowledged. While the broker
 * is unreachable (and when the RAM ring is full) records go to the flash ring (lib/store), so a
 * power cut or reset loses at most the reading being written. Oldest first, always with the
 * reading's own timestamp; a reading older than per_sensor_max_age_ms sends only its combined
 * message.
 */
#ifndef NODE_APP_H
#define NODE_APP_H

#include <stddef.h>
#include <stdint.h>

#include "flash_ring.h"
#include "hal.h"
#include "mqtt_session.h"
#include "pir.h"
#include "sensor_driver.h"
#include "transport.h"

#define NODE_MAX_ID_LEN          23 /* MQTT 3.1.1 guarantees client ids up to 23 bytes */
#define NODE_MAX_LOCATION_LEN    64
#define NODE_TOPIC_LEN           64
#define NODE_DEFAULT_INTERVAL_MS 2000u
#define NODE_BUZZER_MAX_MS       30000u
#define NODE_BUZZER_DEFAULT_MS   5000u
/* Delay between a "reset" command and the restart, so its PUBACK gets out first (otherwise
   the broker would deliver the same "reset" again after the reboot). */
#define NODE_RESET_DELAY_MS      1000u
/* Readings the RAM ring holds: sized so that node_app needs no more static RAM on the chip than
   the 16 x 384-byte packet queue it replaced (scripts/xtensa-build.sh prints the total). */
#ifndef NODE_RAM_READINGS
#define NODE_RAM_READINGS 179
#endif
#define NODE_MAX_INFLIGHT                  MQTT_QUEUE_SLOTS
#define NODE_DEFAULT_PER_SENSOR_MAX_AGE_MS 300000u
/* Sensors a node may have (the record's 56 value bits are the tighter limit in practice). */
#define NODE_MAX_SENSORS                   4

enum node_publish_mode { NODE_PUBLISH_COMBINED = 1, NODE_PUBLISH_PER_SENSOR = 2, NODE_PUBLISH_BOTH = 3 };

struct node_config {
    const char *device_id;
    const char *location;
    const char *host;
    uint16_t port;
    const char *username;           /* NULL: the device id */
    const char *password;           /* NULL: none */
    uint32_t interval_ms;           /* default 2000 */
    uint8_t publish_mode;           /* default both, for compatibility */
    uint16_t keepalive_s;           /* default 30 */
    uint32_t backoff_min_ms;        /* default 1000 */
    uint32_t backoff_max_ms;        /* default 60000 */
    uint16_t queue_limit;           /* default MQTT_QUEUE_SLOTS */
    uint16_t connack_timeout_ms;    /* TCP, TLS handshake and CONNACK; 0: the session's default (15 s) */
    uint32_t pir_stable_ms;         /* default 50 */
    uint32_t per_sensor_max_age_ms; /* older readings send only the combined message; 0: never skip */
};

/* One reading, as published: sensor i of the HAL's table has ok[i] and values[i]. */
struct node_reading {
    uint64_t seq;
    int64_t epoch_ms; /* 0: clock not set -> "timestamp":null */
    int32_t rssi;
    uint8_t ok[NODE_MAX_SENSORS]; /* 0: the read failed, its fields are null */
    int32_t values[NODE_MAX_SENSORS][SENSOR_MAX_VALUES];
};

/* What the app keeps per sensor between readings. */
struct node_sensor_state {
    pir_debounce edge; /* SENSOR_EDGE sensors: the debounced level */
    uint32_t read_at;
    uint8_t read_once;
    uint8_t ok;
    int32_t values[SENSOR_MAX_VALUES];
};

/* A reading handed to the session: released when all its messages are acknowledged. */
struct node_inflight {
    uint8_t body[FLASH_BODY_SIZE];
    uint32_t slot;                      /* its flash slot, when in_flash */
    uint16_t ids[1 + NODE_MAX_SENSORS]; /* packet ids still waiting for PUBACK (0: acknowledged) */
    uint8_t waiting;
    uint8_t in_flash;
};

struct node_app {
    node_config cfg;
    const node_hal *hal;
    mqtt_session session;

    /* Per-sensor topics are built when sent (sensors/<name>/<id>: checked to fit at init). */
    char t_combined[NODE_TOPIC_LEN], t_status[NODE_TOPIC_LEN], t_control[NODE_TOPIC_LEN], t_alert[NODE_TOPIC_LEN],
        t_store[NODE_TOPIC_LEN];

    uint32_t boot_count;
    uint32_t counter; /* readings this boot */
    uint32_t last_reading_at;
    uint8_t read_now;

    node_sensor_state sensors[NODE_MAX_SENSORS];

    uint8_t buzzer_on;
    uint32_t buzzer_until;
    uint8_t led_state; /* 0xff: unknown, forces the first write */
    uint8_t connected;
    uint8_t restart_pending;
    uint32_t restart_at;

    uint32_t payload_errors; /* payloads that did not fit a queue slot */
    char payload[MQTT_SLOT_SIZE];

    /* The reading store: flash ring (older) then RAM ring (newer), oldest delivered first. */
    uint8_t ram[NODE_RAM_READINGS][FLASH_BODY_SIZE];
    uint16_t ram_head, ram_count;
    flash_ring flash;
    uint8_t has_flash;
    uint8_t inflight_count;
    node_inflight inflight[NODE_MAX_INFLIGHT];
    uint32_t lost; /* readings dropped (RAM full without flash; flash full or failing) */
    uint32_t reported_lost, reported_corrupt;
    uint8_t report_due;
};

#ifdef __cplusplus
extern "C" {
#endif

void node_config_defaults(node_config *cfg);
/* Check a config without touching anything (no HAL calls): NULL, or a one-line message. */
const char *node_config_check(const node_config *cfg);
/* Validate the config, build the topics, read the boot counter, set up the session.
   Returns NULL, or a one-line message naming what is wrong ("device id ..."). */
const char *node_app_init(node_app *app, const node_config *cfg, const node_hal *hal, transport *t);
/* Everything that is due: sensors, readings, buzzer, LED, MQTT. Never blocks. */
void node_app_poll(node_app *app);
/* Take and publish a reading now (also what "read_now" and a PIR rising edge do). */
void node_app_read_now(node_app *app);
/* Before a controlled stop or restart: write every reading not yet acknowledged to flash. */
void node_app_persist(node_app *app);
/* Readings not yet acknowledged: in RAM, in flash (not yet sent), in flight. */
uint32_t node_app_backlog(const node_app *app);

/* A reading of these sensors as its 24-byte store record (lib/store/flash_ring.h: seq first;
   the values in 64 bits, sensor_driver.h), and back. */
void node_reading_pack(const node_sensor *sensors, uint8_t count, const node_reading *r, uint8_t body[FLASH_BODY_SIZE]);
void node_reading_unpack(const node_sensor *sensors, uint8_t count, const uint8_t body[FLASH_BODY_SIZE],
                         node_reading *r);
/* What the record's value bytes mean for these sensors (a hash of what node_reading_pack
   depends on), written into every flash sector header: a firmware with another sensor set or
   record format never reads this one's records as its own (flash_ring.h). */
uint16_t node_record_layout(const node_sensor *sensors, uint8_t count);
/* NULL if these sensors fit a node (count, record bits), or a one-line message. */
const char *node_sensors_check(const node_sensor *sensors, uint8_t count);

/* Payload builders (pure; used by the app and the unit tests). Each returns the length, or 0
   when the result would not fit `cap` (nothing usable is left in buf then). */
size_t node_format_combined(const char *device_id, const char *location, const node_sensor *sensors, uint8_t count,
                            const node_reading *r, char *buf, size_t cap);
/* Sensor i's per-sensor payload; also 0 when nothing is sent for it (a failed JSON-style read). */
size_t node_format_sensor(const char *device_id, const node_sensor *sensors, uint8_t i, const node_reading *r,
                          char *buf, size_t cap);

/* Parse a fall alert payload. Returns 1 if it is one: *activate and *duration_ms (default
   NODE_BUZZER_DEFAULT_MS, capped at NODE_BUZZER_MAX_MS). 0 for anything else. */
int node_parse_alert(const uint8_t *payload, size_t len, int *activate, uint32_t *duration_ms);

#ifdef __cplusplus
}
#endif

#endif
