/* sensor_driver.cpp - see sensor_driver.h. */
#include "sensor_driver.h"

unsigned sensor_record_bits(const sensor_driver *d) {
    unsigned n = (d->flags & SENSOR_ALWAYS_OK) ? 0 : 1;
    for (unsigned i = 0; i < d->value_count; i++) n += d->values[i].bits;
    return n;
}

/* Bits are numbered little-endian across the bytes (bit 0 = byte 0's lowest), one at a time:
   32-bit arithmetic only, which is what the ESP8266 does well. */
static void put_bits(uint8_t *field, unsigned pos, uint32_t v, unsigned n) {
    for (unsigned k = 0; k < n; k++, pos++)
        if ((v >> k) & 1u) field[pos >> 3] = (uint8_t)(field[pos >> 3] | (1u << (pos & 7)));
}

static uint32_t get_bits(const uint8_t *field, unsigned pos, unsigned n) {
    uint32_t v = 0;
    for (unsigned k = 0; k < n; k++, pos++)
        if ((field[pos >> 3] >> (pos & 7)) & 1u) v |= 1u << k;
    return v;
}

void sensor_pack(const sensor_driver *d, uint8_t ok, const int32_t values[SENSOR_MAX_VALUES], uint8_t *field,
                 unsigned *pos) {
    if (!(d->flags & SENSOR_ALWAYS_OK)) put_bits(field, (*pos)++, ok ? 1u : 0u, 1);
    for (unsigned i = 0; i < d->value_count; i++) {
        const sensor_value &v = d->values[i];
        const uint32_t top = (1u << v.bits) - 1;
        /* Clamped: a decoder keeps its values in range, so this only guards the record. */
        const int32_t off = ok ? values[i] - v.min : 0;
        put_bits(field, *pos, off < 0 ? 0 : (uint32_t)off > top ? top : (uint32_t)off, v.bits);
        *pos += v.bits;
    }
}

void sensor_unpack(const sensor_driver *d, const uint8_t *field, unsigned *pos, uint8_t *ok,
                   int32_t values[SENSOR_MAX_VALUES]) {
    *ok = (d->flags & SENSOR_ALWAYS_OK) ? 1 : (uint8_t)get_bits(field, (*pos)++, 1);
    for (unsigned i = 0; i < d->value_count; i++) {
        const sensor_value &v = d->values[i];
        const uint32_t u = get_bits(field, *pos, v.bits);
        values[i] = *ok ? (int32_t)u + v.min : 0;
        *pos += v.bits;
    }
}

void sensor_format_value(text_buf *tb, const sensor_driver *d, unsigned i, uint8_t ok, const int32_t *values) {
    const sensor_value &v = d->values[i];
    if (!ok) {
        tb_str(tb, "null");
        return;
    }
    if (v.kind == SENSOR_BOOL) {
        tb_str(tb, values[i] ? "true" : "false");
        return;
    }
    /* Magnitude in 32 bits unsigned: -INT32_MIN does not fit an int32_t. */
    uint32_t x = values[i] < 0 ? 0u - (uint32_t)values[i] : (uint32_t)values[i];
    if (values[i] < 0) tb_char(tb, '-');
    uint32_t scale = 1;
    for (unsigned k = 0; k < v.decimals; k++) scale *= 10;
    tb_u64(tb, x / scale);
    if (v.decimals == 0) return;
    tb_char(tb, '.');
    const uint32_t frac = x % scale;
    for (uint32_t s = scale / 10; s > 0; s /= 10) tb_char(tb, (char)('0' + (frac / s) % 10));
}

int32_t sensor_widest_value(const sensor_driver *d, unsigned i) {
    const sensor_value &v = d->values[i];
    /* A negative minimum (its minus sign) or the largest value the record holds: as wide as any
       value of the drivers here (-40.0 and 164.7 degC are both 5 characters). */
    return v.min < 0 ? v.min : v.min + (int32_t)((1u << v.bits) - 1);
}
