/* text_buf.cpp - see text_buf.h. */
#include "text_buf.h"

#include "flash_str.h"

#include <string.h>

void tb_init(text_buf *b, char *p, size_t cap) {
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->overflow = cap == 0;
    if (cap) p[0] = 0;
}

void tb_char(text_buf *b, char c) {
    if (b->len + 1 >= b->cap) {
        b->overflow = true;
        return;
    }
    b->p[b->len++] = c;
    b->p[b->len] = 0;
}

void tb_strn(text_buf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) tb_char(b, s[i]);
}

void tb_str(text_buf *b, const char *s) {
    /* flash_char: s may be a FLASH_STR (a TLS error name or hint, flash_str.h) */
    for (; s != NULL && flash_char(s) != '\0'; s++) tb_char(b, flash_char(s));
}

void tb_u64(text_buf *b, uint64_t v) {
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    while (n) tb_char(b, tmp[--n]);
}

void tb_hex(text_buf *b, const uint8_t *p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        tb_char(b, digits[p[i] >> 4]);
        tb_char(b, digits[p[i] & 15]);
    }
}

void tb_i64(text_buf *b, int64_t v) {
    if (v < 0) {
        tb_char(b, '-');
        tb_u64(b, (uint64_t)(-(v + 1)) + 1); /* no overflow on INT64_MIN */
    } else {
        tb_u64(b, (uint64_t)v);
    }
}

void tb_tenths(text_buf *b, int32_t tenths) {
    /* Magnitude in 64 bits: -INT32_MIN does not fit an int32_t. */
    int64_t v = tenths;
    if (v < 0) {
        tb_char(b, '-');
        v = -v;
    }
    tb_u64(b, (uint64_t)(v / 10));
    tb_char(b, '.');
    tb_char(b, (char)('0' + (int)(v % 10)));
}

size_t utf8_decode(const char *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (k == 0 || c > 0xf4 || k > n) return 0; /* a stray continuation byte, 0xf5.., or cut short */
    uint32_t v = c & (0x7fu >> k);
    for (size_t j = 1; j < k; j++) {
        unsigned char cc = (unsigned char)s[j];
        if ((cc & 0xc0) != 0x80) return 0;
        v = (v << 6) | (cc & 0x3fu);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000}; /* shorter form exists: overlong */
    if (v < min_cp[k] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return k;
}

void tb_json_str(text_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    tb_char(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            uint32_t cp;
            size_t k = utf8_decode(s + i, n - i, &cp);
            if (k == 0) {
                tb_str(b, "\\ufffd"); /* one replacement per ill-formed byte */
            } else {
                tb_strn(b, s + i, k);
                i += k - 1;
            }
            continue;
        }
        switch (c) {
            case '"': tb_str(b, "\\\""); break;
            case '\\': tb_str(b, "\\\\"); break;
            case '\n': tb_str(b, "\\n"); break;
            case '\r': tb_str(b, "\\r"); break;
            case '\t': tb_str(b, "\\t"); break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    tb_str(b, "\\u00");
                    tb_char(b, hex[c >> 4]);
                    tb_char(b, hex[c & 15]);
                } else {
                    tb_char(b, (char)c);
                }
        }
    }
    tb_char(b, '"');
}
