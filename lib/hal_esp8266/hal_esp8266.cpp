/*
 * hal_esp8266.cpp - the NodeMCU's pins, WiFi, clock and boot counter behind node_hal.
 *
 * Timing notes (the reason this file exists apart from the portable core):
 *  - DHT22: the 40-bit stream encodes bits as the width of a high pulse (26-28 us = 0,
 *    70 us = 1). A WiFi interrupt in the middle of a pulse stretches it by tens of us and
 *    flips bits, so interrupts are off for the bit stream only (about 4 ms, at most ~8.5 ms
 *    when every edge is late), never for the 2 ms start pulse, which may be longer without harm.
 *  - HC-SR04: 10 us trigger, echo width measured against micros() with a 30 ms timeout
 *    (pulseIn-style busy wait, interrupts on: an ISR adds a few us = a few mm, acceptable;
 *    30 ms = ~5 m, past the sensor's 4 m range).
 */
#include "hal_esp8266.h"

#include <Arduino.h>
#include <EEPROM.h>
#include <ESP8266WiFi.h>
#include <interrupts.h>
#include <sys/time.h>
#include <time.h>

/* A clock before HAL_CLOCK_VALID_AFTER_S (hal.h) is "not set": the ESP8266 boots at epoch 0
   and only SNTP moves it; any real date is later than this. */
static const time_t kClockValidAfter = (time_t)HAL_CLOCK_VALID_AFTER_S;

/* Restart the association if WiFi has not come up for this long (the SDK's own retries can
   stall after an AP reboot with changed channel). */
static const uint32_t kWifiRetryMs = 30000;

/* DHT22: no start signal within this long of power-up (datasheet: "wait 1 s ... don't send any
   instruction"); a read before then reports a timeout, so the node's first reading, taken at
   boot, has null DHT fields and the next one (2 s later) reads the sensor. */
static const uint32_t kDhtPowerUpMs = 1000;
/* DHT22: minimum time between two reads (datasheet: sampling period 2 s). */
static const uint32_t kDhtMinIntervalMs = 2000;
/* DHT22: no single level of the protocol lasts longer than 80 us; 100 us means "gone". */
static const uint32_t kDhtEdgeTimeoutUs = 100;
/* DHT22: a high pulse longer than this is a 1 (0 = 26-28 us, 1 = 70 us; split in the middle). */
static const uint32_t kDhtOneThresholdUs = 48;

/* HC-SR04: echo timeout; the sensor's own timeout is ~38 ms with no obstacle. */
static const uint32_t kEchoTimeoutUs = 30000;

/* Boot counter record in the core's EEPROM-emulation sector (see next_boot_count()). */
static const uint32_t kBootMagic = 0x4D514E31; /* "MQN1" */
struct boot_record {
    uint32_t magic;
    uint32_t count;
    uint32_t check; /* ~(magic ^ count): catches a torn or foreign sector */
};

static hal_esp8266 *as_board(void *ctx) { return static_cast<hal_esp8266 *>(ctx); }

/* ---- time ---------------------------------------------------------------------------- */

static uint32_t hal_millis(void *) { return millis(); }

int hal_esp8266_clock_is_set(void) { return time(nullptr) > kClockValidAfter ? 1 : 0; }

static int64_t hal_epoch_ms(void *) {
    struct timeval tv;
    if (gettimeofday(&tv, nullptr) != 0 || tv.tv_sec <= kClockValidAfter) {
        return 0; /* the contract: 0 while not set, so TLS refuses and payloads say so */
    }
    return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

/* Arduino's random() reads the hardware RNG register (RANDOM_REG32) as long as nobody
   called randomSeed(); two 16-bit halves because random(n) works on signed long. */
static uint32_t hal_random32(void *) {
    uint32_t hi = static_cast<uint32_t>(random(0x10000));
    uint32_t lo = static_cast<uint32_t>(random(0x10000));
    return (hi << 16) | lo;
}

static void hal_log(void *, const char *line) {
    Serial.print(line);
    Serial.print("\r\n");
}

/* ---- boot counter ---------------------------------------------------------------------- */

/* Persisted with the core's EEPROM emulation rather than LittleFS: one 4 KB flash sector that
   the core reserves anyway, no file-system code in the image (~25 KB less flash), and one
   sector erase per boot (100k cycles = 100k reboots) is well inside the flash's endurance.
   The 12-byte buffer EEPROM.begin() takes is freed again by EEPROM.end(), at start only. */
static uint32_t hal_next_boot_count(void *) {
    boot_record rec;
    EEPROM.begin(sizeof(rec));
    EEPROM.get(0, rec);
    uint32_t count = 0;
    if (rec.magic == kBootMagic && rec.check == ~(rec.magic ^ rec.count)) { count = rec.count; }
    count++;
    rec.magic = kBootMagic;
    rec.count = count;
    rec.check = ~(rec.magic ^ rec.count);
    EEPROM.put(0, rec);
    EEPROM.commit();
    EEPROM.end();
    return count;
}

/* ---- network --------------------------------------------------------------------------- */

static int hal_link_up(void *) { return WiFi.status() == WL_CONNECTED ? 1 : 0; }

static int hal_wifi_rssi(void *) { return WiFi.status() == WL_CONNECTED ? WiFi.RSSI() : 0; }

static void hal_restart(void *) { ESP.restart(); }

static const char *wifi_status_name(int status) {
    switch (status) {
        case WL_IDLE_STATUS: return "IDLE";
        case WL_NO_SSID_AVAIL: return "NO_SSID_AVAIL (check NODE_WIFI_SSID, is the AP in range?)";
        case WL_CONNECTED: return "CONNECTED";
        case WL_CONNECT_FAILED: return "CONNECT_FAILED";
        case WL_CONNECTION_LOST: return "CONNECTION_LOST";
        case WL_WRONG_PASSWORD: return "WRONG_PASSWORD (check NODE_WIFI_PASSWORD)";
        case WL_DISCONNECTED: return "DISCONNECTED";
        default: return "UNKNOWN";
    }
}

/* ---- sensors and actuators --------------------------------------------------------------- */

/* Each read sets its pins up on its first call, so a sensor left out of the table (config.h)
   never touches its pins. */
int hal_esp8266_read_pir(void *ctx, uint8_t *raw, size_t cap) {
    hal_esp8266 *b = as_board(ctx);
    if (!b->pir_ready) {
        pinMode(b->cfg.pin_pir, INPUT); /* the PIR module drives its output both ways */
        b->pir_ready = 1;
    }
    if (cap < 1) return HAL_SENSOR_NO_ANSWER;
    raw[0] = digitalRead(b->cfg.pin_pir) == HIGH ? 1 : 0;
    return 1;
}

/* Busy-waits until `pin` reads `level`; returns the cycles waited, or -1 after timeout_us.
   Cycle counter, not micros(): it is a register read, exact at 80 and 160 MHz, and safe with
   interrupts off. */
static int32_t wait_for_level(uint8_t pin, int level, uint32_t timeout_us) {
    const uint32_t start = ESP.getCycleCount();
    const uint32_t limit = microsecondsToClockCycles(timeout_us);
    while (digitalRead(pin) != level) {
        if (ESP.getCycleCount() - start > limit) { return -1; }
    }
    return static_cast<int32_t>(ESP.getCycleCount() - start);
}

static int dht22_read_bus(uint8_t pin, uint8_t frame[5]) {
    uint32_t high_cycles[40];

    /* Start signal: host pulls the line low for >= 1 ms (2 ms here; delay() lets WiFi run),
       then releases it to the pull-up and the sensor answers within 20-40 us. */
    pinMode(pin, OUTPUT);
    digitalWrite(pin, LOW);
    delay(2);
    {
        esp8266::InterruptLock no_irq; /* bit stream only: restored at the end of this block */
        pinMode(pin, INPUT_PULLUP);
        /* Response: released high (20-40 us), sensor low 80 us, sensor high 80 us. */
        if (wait_for_level(pin, LOW, kDhtEdgeTimeoutUs) < 0 || wait_for_level(pin, HIGH, kDhtEdgeTimeoutUs) < 0 ||
            wait_for_level(pin, LOW, kDhtEdgeTimeoutUs) < 0) {
            return HAL_SENSOR_NO_ANSWER;
        }
        /* 40 bits: each a ~50 us low, then a high whose width is the bit. */
        for (int i = 0; i < 40; i++) {
            if (wait_for_level(pin, HIGH, kDhtEdgeTimeoutUs) < 0) { return HAL_SENSOR_NO_ANSWER; }
            int32_t high = wait_for_level(pin, LOW, kDhtEdgeTimeoutUs);
            if (high < 0) { return HAL_SENSOR_NO_ANSWER; }
            high_cycles[i] = static_cast<uint32_t>(high);
        }
    }
    /* Classify outside the critical section. */
    const uint32_t one = microsecondsToClockCycles(kDhtOneThresholdUs);
    for (int i = 0; i < 5; i++) { frame[i] = 0; }
    for (int i = 0; i < 40; i++) {
        frame[i / 8] = static_cast<uint8_t>(frame[i / 8] << 1);
        if (high_cycles[i] > one) { frame[i / 8] |= 1; }
    }
    return 5; /* checksum is checked by dht22_decode() in the core */
}

int hal_esp8266_read_dht22(void *ctx, uint8_t *frame, size_t cap) {
    hal_esp8266 *b = as_board(ctx);
    if (cap < 5) return HAL_SENSOR_NO_ANSWER;
    if (!b->dht_ready) {
        pinMode(b->cfg.pin_dht22, INPUT_PULLUP); /* idle high; the module has its own 10 k too */
        b->dht_ready = 1;
    }
    const uint32_t now = millis();
    if (!b->dht_have_last && now < kDhtPowerUpMs) return HAL_SENSOR_NO_ANSWER;
    if (!b->dht_have_last || now - b->dht_last_ms >= kDhtMinIntervalMs) {
        b->dht_last_result = dht22_read_bus(b->cfg.pin_dht22, b->dht_last_frame);
        b->dht_last_ms = now;
        b->dht_have_last = 1;
    }
    for (int i = 0; i < 5; i++) { frame[i] = b->dht_last_frame[i]; }
    return b->dht_last_result;
}

static int32_t hcsr04_echo_us(hal_esp8266 *b) {
    const uint8_t trig = b->cfg.pin_hcsr04_trig;
    const uint8_t echo = b->cfg.pin_hcsr04_echo;
    if (!b->hcsr04_ready) {
        pinMode(trig, OUTPUT);
        digitalWrite(trig, LOW);
        pinMode(echo, INPUT);
        b->hcsr04_ready = 1;
    }

    /* A previous echo still high (no obstacle: ~38 ms) would be measured as ours. */
    uint32_t t0 = micros();
    while (digitalRead(echo) == HIGH) {
        if (micros() - t0 > kEchoTimeoutUs) { return -1; }
    }
    digitalWrite(trig, LOW);
    delayMicroseconds(2);
    digitalWrite(trig, HIGH);
    delayMicroseconds(10); /* the HC-SR04 needs >= 10 us to start a burst */
    digitalWrite(trig, LOW);

    t0 = micros();
    while (digitalRead(echo) == LOW) {
        if (micros() - t0 > kEchoTimeoutUs) { return -1; }
    }
    const uint32_t rise = micros();
    while (digitalRead(echo) == HIGH) {
        if (micros() - rise > kEchoTimeoutUs) { return -1; }
    }
    return static_cast<int32_t>(micros() - rise);
}

int hal_esp8266_read_ultrasonic(void *ctx, uint8_t *raw, size_t cap) {
    const int32_t us = hcsr04_echo_us(as_board(ctx));
    if (us < 0 || cap < 4) return HAL_SENSOR_NO_ANSWER;
    for (int i = 0; i < 4; i++) { raw[i] = static_cast<uint8_t>(static_cast<uint32_t>(us) >> (8 * i)); }
    return 4;
}

static void hal_led_set(void *ctx, int on) {
    /* GPIO2 drives the LED's cathode: low = lit. */
    digitalWrite(as_board(ctx)->cfg.pin_led, on ? LOW : HIGH);
}

static void hal_buzzer_set(void *ctx, int on) {
    /* An active buzzer module: it makes its own tone when the pin is high. (A passive piezo
       would need tone(), i.e. a timer interrupt for as long as it sounds; not worth it.) */
    digitalWrite(as_board(ctx)->cfg.pin_buzzer, on ? HIGH : LOW);
}

/* ---- setup and poll ---------------------------------------------------------------------- */

void hal_esp8266_begin(hal_esp8266 *board, const hal_esp8266_config *cfg, const node_sensor *sensors,
                       uint8_t sensor_count, node_hal *out) {
    board->cfg = *cfg;
    board->last_wifi_status = -1;
    board->clock_was_set = 0;
    board->dht_have_last = 0;
    board->dht_last_result = HAL_SENSOR_NO_ANSWER;
    board->dht_last_ms = 0;
    board->pir_ready = 0;
    board->dht_ready = 0;
    board->hcsr04_ready = 0;

    pinMode(cfg->pin_led, OUTPUT);
    digitalWrite(cfg->pin_led, HIGH); /* off */
    pinMode(cfg->pin_buzzer, OUTPUT);
    digitalWrite(cfg->pin_buzzer, LOW);

    /* WiFi: station only, credentials not written to the SDK's flash area on every boot
       (persistent(false)), the SDK's own reconnect on; begin() returns at once. */
    WiFi.persistent(false);
    WiFi.mode(WIFI_STA);
    WiFi.setAutoReconnect(true);
    WiFi.begin(cfg->wifi_ssid, cfg->wifi_password);
    board->wifi_begin_ms = millis();

    /* SNTP starts in the background and sets the clock once the link is up. */
    configTime(cfg->tz, cfg->ntp_server1, cfg->ntp_server2);

    out->ctx = board;
    out->millis = hal_millis;
    out->epoch_ms = hal_epoch_ms;
    out->random32 = hal_random32;
    out->log = hal_log;
    out->next_boot_count = hal_next_boot_count;
    out->link_up = hal_link_up;
    out->wifi_rssi = hal_wifi_rssi;
    out->restart = hal_restart;
    out->sensors = sensors;
    out->sensor_count = sensor_count;
    out->led_set = hal_led_set;
    out->buzzer_set = hal_buzzer_set;
    out->flash = flash_region_init(&board->flash) >= 3 ? &board->flash : nullptr;
}

void hal_esp8266_poll(hal_esp8266 *board) {
    char line[112];
    const int status = WiFi.status();
    if (status != board->last_wifi_status) {
        if (status == WL_CONNECTED) {
            /* Octets, not IPAddress::toString(): that builds a heap String. */
            const IPAddress ip = WiFi.localIP();
            snprintf(line, sizeof(line), "node: wifi up ip=%u.%u.%u.%u rssi=%d", ip[0], ip[1], ip[2], ip[3],
                     static_cast<int>(WiFi.RSSI()));
        } else {
            snprintf(line, sizeof(line), "node: wifi down status=%s", wifi_status_name(status));
            board->wifi_begin_ms = millis();
        }
        hal_log(board, line);
        board->last_wifi_status = status;
    }
    if (status != WL_CONNECTED && millis() - board->wifi_begin_ms > kWifiRetryMs) {
        hal_log(board, "node: wifi still down after 30 s, restarting the association");
        WiFi.disconnect(false);
        WiFi.begin(board->cfg.wifi_ssid, board->cfg.wifi_password);
        board->wifi_begin_ms = millis();
    }
    if (!board->clock_was_set && hal_esp8266_clock_is_set()) {
        board->clock_was_set = 1;
        snprintf(line, sizeof(line), "node: clock set by NTP, epoch=%lu", static_cast<unsigned long>(time(nullptr)));
        hal_log(board, line);
    }
}
