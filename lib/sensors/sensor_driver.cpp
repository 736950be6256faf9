/* sensor_driver.cpp - see sensor_driver.h. */
#include "sensor_driver.h"

unsigned sensor_record_bits(const sensor_driver *d) {
    unsigned n = (d->flags & SENSOR_ALWAYS_OK) ? 0 : 1;
    for (unsigned i = 0; i < d->value_count; i++) n += d->values[i].bits;
    return n;
}

void sensor_pack(const sensor_driver *d, uint8_t ok, const int32_t values[SENSOR_MAX_VALUES], uint64_t *field,
                 unsigned *pos) {
    if (!(d->flags & SENSOR_ALWAYS_OK)) {
        if (ok) *field |= 1ull << *pos;
        (*pos)++;
    }
    for (unsigned i = 0; i < d->value_count; i++) {
        const sensor_value &v = d->values[i];
        uint64_t top = (1ull << v.bits) - 1;
        /* Clamped: a decoder keeps its values in range, so this only guards the record. */
        int64_t off = ok ? (int64_t)values[i] - v.min : 0;
        uint64_t u = off < 0 ? 0 : (uint64_t)off > top ? top : (uint64_t)off;
        *field |= u << *pos;
        *pos += v.bits;
    }
}

void sensor_unpack(const sensor_driver *d, uint64_t field, unsigned *pos, uint8_t *ok,
                   int32_t values[SENSOR_MAX_VALUES]) {
    *ok = 1;
    if (!(d->flags & SENSOR_ALWAYS_OK)) {
        *ok = (uint8_t)((field >> *pos) & 1);
        (*pos)++;
    }
    for (unsigned i = 0; i < d->value_count; i++) {
        const sensor_value &v = d->values[i];
        uint64_t u = (field >> *pos) & ((1ull << v.bits) - 1);
        values[i] = *ok ? (int32_t)((int64_t)u + v.min) : 0;
        *pos += v.bits;
    }
}

void sensor_format_value(text_buf *tb, const sensor_driver *d, unsigned i, uint8_t ok, const int32_t *values) {
    const sensor_value &v = d->values[i];
    if (!ok) {
        tb_str(tb, "null");
    } else if (v.kind == SENSOR_BOOL) {
        tb_str(tb, values[i] ? "true" : "false");
    } else {
        int64_t x = values[i];
        if (v.decimals == 0) {
            tb_i64(tb, x);
            return;
        }
        int64_t scale = 1;
        for (unsigned k = 0; k < v.decimals; k++) scale *= 10;
        if (x < 0) {
            tb_char(tb, '-');
            x = -x;
        }
        tb_u64(tb, (uint64_t)(x / scale));
        tb_char(tb, '.');
        int64_t frac = x % scale;
        for (int64_t s = scale / 10; s > 0; s /= 10) tb_char(tb, (char)('0' + (int)((frac / s) % 10)));
    }
}

int32_t sensor_widest_value(const sensor_driver *d, unsigned i) {
    const sensor_value &v = d->values[i];
    /* Every digit of the largest value the record can hold; the minus sign if it can be negative. */
    int64_t max = (int64_t)v.min + ((1ll << v.bits) - 1);
    return v.min < 0 && -(int64_t)v.min * 10 > max ? v.min : (int32_t)max;
}
