/*
 * bme280.h - Bosch BME280 (temperature, humidity, pressure): calibration and compensation.
 *
 * The HAL reads the registers over I2C (lib/hal_esp8266/bme280_i2c.cpp); the core turns them into
 * values here, with the datasheet's integer formulas (BST-BME280-DS002, section 4.2.3 / 8.2:
 * 32-bit temperature and humidity, 64-bit pressure), so the chip and the native node's tests run
 * the same arithmetic and no float code is linked.
 *
 * The raw block the HAL read returns (BME280_RAW_SIZE bytes, registers in address order):
 *   [0..25]  0x88..0xA1  dig_T1..dig_P9, (0xA0 unused), dig_H1
 *   [26..32] 0xE1..0xE7  dig_H2..dig_H6
 *   [33..40] 0xF7..0xFE  press_msb..xlsb, temp_msb..xlsb, hum_msb, hum_lsb
 */
#ifndef BME280_H
#define BME280_H

#include <stdint.h>

#define BME280_RAW_SIZE    41
#define BME280_CALIB1_REG  0x88 /* 26 bytes */
#define BME280_CALIB2_REG  0xE1 /* 7 bytes */
#define BME280_DATA_REG    0xF7 /* 8 bytes */
#define BME280_CHIP_ID_REG 0xD0
#define BME280_CHIP_ID     0x60

struct bme280_calib {
    uint16_t T1;
    int16_t T2, T3;
    uint16_t P1;
    int16_t P2, P3, P4, P5, P6, P7, P8, P9;
    uint8_t H1, H3;
    int16_t H2, H4, H5;
    int8_t H6;
};

struct bme280_reading {
    int32_t temperature_centi; /* 0.01 degC */
    uint32_t pressure_q24_8;   /* Pa in Q24.8 (25767236 = 100653.27 Pa) */
    uint32_t humidity_q22_10;  /* %RH in Q22.10 (47445 = 46.333 %RH) */
};

enum bme280_status {
    BME280_OK = 0,
    BME280_NO_ANSWER = 1,       /* the HAL read failed (no ACK, wrong chip id) */
    BME280_BAD_CALIBRATION = 2, /* dig_T1 or dig_P1 zero: the bus read all 0 or the part is not a BME280 */
    BME280_NOT_MEASURED = 3,    /* a channel still holds its reset value 0x80000 / 0x8000 */
    BME280_OUT_OF_RANGE = 4     /* outside -40..85 degC, 300..1100 hPa */
};

/* The calibration words from the raw block's first 33 bytes. */
void bme280_parse_calib(const uint8_t raw[BME280_RAW_SIZE], bme280_calib *c);
/* The datasheet's compensation for ADC values adc_T, adc_P (20 bits) and adc_H (16 bits). */
void bme280_compensate(const bme280_calib *c, int32_t adc_T, int32_t adc_P, int32_t adc_H, bme280_reading *out);
/* The whole raw block: BME280_OK and *out, or why not (out is zeroed then). */
bme280_status bme280_decode(const uint8_t raw[BME280_RAW_SIZE], bme280_reading *out);
const char *bme280_status_name(bme280_status s);
/* The data registers (0xF7..0xFE) that hold these ADC values: what bme280_decode reads back (the
   native node's simulated part and the tests build register blocks with it). */
void bme280_data_registers(int32_t adc_T, int32_t adc_P, int32_t adc_H, uint8_t out[8]);

struct sensor_driver;
/* The BME280 driver: temperature_c, humidity_percent (tenths), pressure_hpa (Pa, 2 decimals). */
extern const sensor_driver sensor_bme280;

#endif
