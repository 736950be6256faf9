/*
 * bme280_i2c.h - the BME280's node_sensor read on the NodeMCU: its registers over I2C.
 *
 * Uses the Arduino core's I2C master (twi.h, the code the Wire library wraps: same bus
 * transfers, no TwoWire object and its buffers). On the first read, and again after a failed
 * one, it checks the chip id, caches the calibration block and starts normal mode (x1
 * oversampling for each channel, a conversion every second); every read then returns the
 * 41-byte block lib/sensors/bme280.h decodes. Only linked when config.h's NODE_SENSOR_BME280
 * puts bme280_i2c_read in the sensor table.
 */
#ifndef BME280_I2C_H
#define BME280_I2C_H

#include <stddef.h>
#include <stdint.h>

struct bme280_i2c {
    uint8_t sda, scl;  /* GPIO numbers */
    uint8_t address;   /* 0x76 (SDO to GND) or 0x77 (SDO to VDDIO) */
    uint8_t started;   /* chip found, calibration cached, normal mode on */
    uint8_t calib[33]; /* registers 0x88..0xA1, 0xE1..0xE7 */
};

/* node_sensor.read with ctx = a bme280_i2c: BME280_RAW_SIZE bytes, or HAL_SENSOR_NO_ANSWER. */
int bme280_i2c_read(void *ctx, uint8_t *raw, size_t cap);

#endif
