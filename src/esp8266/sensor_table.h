/*
 * sensor_table.h - the NodeMCU's sensor table: one line per sensor, chosen in config.h.
 *
 * A line is the driver (lib/sensors: decode, JSON fields, record bits, topic) and this board's
 * read for it (lib/hal_esp8266). Only the listed drivers and reads are linked. Included once, by
 * src/esp8266/main.cpp (after config.h, where `board` is defined), and by flash-size's entry
 * (host-tools/lib/flash-size/entry), which defines SENSOR_TABLE_STUB_READ to measure the same
 * drivers with a stub read (it cannot build the Arduino core).
 *
 * The values of all sensors share the reading record's 56 bits (node_app_init refuses more):
 * a BME280 with a DHT22 and an HC-SR04 does not fit, and the check below says so at build time.
 */
#ifndef SENSOR_TABLE_H
#define SENSOR_TABLE_H

#include "dht22.h"
#include "hal.h"
#include "hcsr04.h"
#include "pir.h"

/* A config.h copied before the sensor options existed: the sensors it was written for. */
#ifndef NODE_SENSOR_PIR
#define NODE_SENSOR_PIR 1
#endif
#ifndef NODE_SENSOR_HCSR04
#define NODE_SENSOR_HCSR04 1
#endif
#ifndef NODE_SENSOR_DHT22
#define NODE_SENSOR_DHT22 1
#endif
#ifndef NODE_SENSOR_BME280
#define NODE_SENSOR_BME280 0
#endif
#if NODE_SENSOR_BME280 && NODE_SENSOR_DHT22 && NODE_SENSOR_HCSR04
#error                                                                                                                 \
    "config.h: a BME280 with a DHT22 and an HC-SR04 needs more than the reading record's 56 bits: set NODE_SENSOR_DHT22 0 (the BME280 measures temperature and humidity too)"
#endif
#if !(NODE_SENSOR_PIR || NODE_SENSOR_HCSR04 || NODE_SENSOR_DHT22 || NODE_SENSOR_BME280)
#error "config.h: no sensor enabled (NODE_SENSOR_*)"
#endif

#ifdef SENSOR_TABLE_STUB_READ
#define SENSOR_READ(fn, ctx) SENSOR_TABLE_STUB_READ, 0
#else
#include "hal_esp8266.h"
#define SENSOR_READ(fn, ctx) fn, ctx
#endif

#if NODE_SENSOR_BME280
#include "bme280.h"
#ifndef SENSOR_TABLE_STUB_READ
#include "bme280_i2c.h"
static bme280_i2c bme280_bus = {NODE_PIN_BME280_SDA, NODE_PIN_BME280_SCL, NODE_BME280_ADDRESS, 0, {0}};
#endif
#endif

static const node_sensor kSensors[] = {
#if NODE_SENSOR_PIR
    {&sensor_pir, SENSOR_READ(hal_esp8266_read_pir, &board)},
#endif
#if NODE_SENSOR_HCSR04
    {&sensor_ultrasonic, SENSOR_READ(hal_esp8266_read_ultrasonic, &board)},
#endif
#if NODE_SENSOR_DHT22
    {&sensor_dht22, SENSOR_READ(hal_esp8266_read_dht22, &board)},
#endif
#if NODE_SENSOR_BME280
    {&sensor_bme280, SENSOR_READ(bme280_i2c_read, &bme280_bus)},
#endif
};

#endif
