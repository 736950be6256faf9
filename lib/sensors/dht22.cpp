/* dht22.cpp - see dht22.h. */
#include "dht22.h"

#include "sensor_driver.h"

dht22_status dht22_decode(const uint8_t frame[5], dht22_reading *out) {
    out->temperature_tenths = 0;
    out->humidity_tenths = 0;
    uint8_t sum = (uint8_t)(frame[0] + frame[1] + frame[2] + frame[3]);
    if (sum != frame[4]) return DHT22_BAD_CHECKSUM;
    uint16_t hum = (uint16_t)((frame[0] << 8) | frame[1]);
    /* Sign-magnitude, not two's complement: bit 15 is the sign (datasheet 7.2). */
    int16_t temp = (int16_t)(((frame[2] & 0x7f) << 8) | frame[3]);
    if (frame[2] & 0x80) temp = (int16_t)-temp;
    if (hum > 1000 || temp < -400 || temp > 800) return DHT22_OUT_OF_RANGE;
    out->humidity_tenths = hum;
    out->temperature_tenths = temp;
    return DHT22_OK;
}

const char *dht22_status_name(dht22_status s) {
    switch (s) {
        case DHT22_OK: return "OK";
        case DHT22_TIMEOUT: return "TIMEOUT";
        case DHT22_BAD_CHECKSUM: return "BAD_CHECKSUM";
        case DHT22_OUT_OF_RANGE: return "OUT_OF_RANGE";
    }
    return "UNKNOWN";
}

/* The driver: the HAL read returns the 40-bit frame (5 bytes), or < 0 when the sensor did not
   answer. */
static const char *dht22_driver_decode(const uint8_t *raw, int n, int32_t values[SENSOR_MAX_VALUES]) {
    if (n < 5) return dht22_status_name(DHT22_TIMEOUT);
    dht22_reading r;
    dht22_status st = dht22_decode(raw, &r);
    if (st != DHT22_OK) return dht22_status_name(st);
    values[0] = r.temperature_tenths;
    values[1] = r.humidity_tenths;
    return 0;
}

/* -40.0..164.7 degC in 11 bits, 0..102.3 %RH in 10 (the decoder allows -40..80, 0..100). */
static const sensor_value dht22_values[] = {{"temperature_c", SENSOR_NUMBER, 1, 11, -400},
                                            {"humidity_percent", SENSOR_NUMBER, 1, 10, 0}};

const sensor_driver sensor_dht22 = {"dht22", 0, SENSOR_TOPIC_JSON,  2, dht22_values, 0, DHT22_MIN_INTERVAL_MS,
                                    0,       0, dht22_driver_decode};
