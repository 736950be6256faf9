/* dht22.cpp - see dht22.h. */
#include "dht22.h"

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
