/* bme280_i2c.cpp - see bme280_i2c.h. */
#include "bme280_i2c.h"

#include <Arduino.h>
#include <twi.h>

#include "bme280.h"
#include "hal.h"

/* Registers (datasheet 5.3): humidity oversampling, measurement control, config. */
static const uint8_t kCtrlHum = 0xF2;
static const uint8_t kCtrlMeas = 0xF4;
static const uint8_t kConfig = 0xF5;
/* osrs_h x1; osrs_t x1, osrs_p x1, normal mode; t_standby 1000 ms, filter off. */
static const uint8_t kHumX1 = 0x01;
static const uint8_t kMeasNormalX1 = 0x27;
static const uint8_t kStandby1s = 0xA0;
/* A conversion at x1 oversampling takes at most 9.3 ms (datasheet 9.1). */
static const uint32_t kFirstConversionMs = 10;

static bool write_reg(uint8_t address, uint8_t reg, uint8_t value) {
    uint8_t b[2] = {reg, value};
    return twi_writeTo(address, b, 2, 1) == 0;
}

/* Burst read from `reg` on (the chip increments the address). */
static bool read_regs(uint8_t address, uint8_t reg, uint8_t *out, size_t n) {
    if (twi_writeTo(address, &reg, 1, 1) != 0) return false;
    return twi_readFrom(address, out, static_cast<unsigned int>(n), 1) == 0;
}

static bool start(bme280_i2c *b) {
    twi_init(b->sda, b->scl);
    uint8_t id = 0;
    if (!read_regs(b->address, BME280_CHIP_ID_REG, &id, 1) || id != BME280_CHIP_ID) return false;
    if (!read_regs(b->address, BME280_CALIB1_REG, b->calib, 26) ||
        !read_regs(b->address, BME280_CALIB2_REG, b->calib + 26, 7)) {
        return false;
    }
    /* ctrl_hum takes effect with the next ctrl_meas write; config is written while asleep. */
    if (!write_reg(b->address, kCtrlHum, kHumX1) || !write_reg(b->address, kConfig, kStandby1s) ||
        !write_reg(b->address, kCtrlMeas, kMeasNormalX1)) {
        return false;
    }
    delay(kFirstConversionMs); /* once per start: the data registers hold reset values until then */
    return true;
}

int bme280_i2c_read(void *ctx, uint8_t *raw, size_t cap) {
    bme280_i2c *b = static_cast<bme280_i2c *>(ctx);
    if (cap < BME280_RAW_SIZE) return HAL_SENSOR_NO_ANSWER;
    if (!b->started) b->started = start(b) ? 1 : 0;
    if (!b->started) return HAL_SENSOR_NO_ANSWER;
    memcpy(raw, b->calib, sizeof b->calib);
    if (!read_regs(b->address, BME280_DATA_REG, raw + 33, 8)) {
        b->started = 0; /* unplugged or reset: find it again next time */
        return HAL_SENSOR_NO_ANSWER;
    }
    return BME280_RAW_SIZE;
}
