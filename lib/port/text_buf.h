/*
 * text_buf.h - append text, numbers and JSON strings to a caller buffer, never past its end.
 *
 * The core does not use printf: newlib/picolibc float formatting can allocate, and we need
 * only integers, fixed-point tenths and escaped strings. The buffer is always NUL-terminated;
 * `overflow` records that something did not fit, so callers can refuse a truncated payload.
 */
#ifndef TEXT_BUF_H
#define TEXT_BUF_H

#include <stddef.h>
#include <stdint.h>

struct text_buf {
    char *p;
    size_t cap; /* including the NUL */
    size_t len;
    bool overflow;
};

void tb_init(text_buf *b, char *p, size_t cap);
void tb_char(text_buf *b, char c);
void tb_str(text_buf *b, const char *s); /* s in RAM or a FLASH_STR (flash_str.h) */
void tb_strn(text_buf *b, const char *s, size_t n);
void tb_u64(text_buf *b, uint64_t v);
void tb_i64(text_buf *b, int64_t v);
/* Bytes as lowercase hex, two digits each ("a01f"). */
void tb_hex(text_buf *b, const uint8_t *p, size_t n);
/* A value in tenths as a decimal with one digit: 215 -> "21.5", -3 -> "-0.3". */
void tb_tenths(text_buf *b, int32_t tenths);
/* A JSON string literal with quotes; escapes ", \ and control characters (RFC 8259).
   Well-formed UTF-8 passes through; any byte that is not part of a well-formed sequence
   becomes \ufffd, so the result is always valid JSON (which must be UTF-8, RFC 8259 8.1). */
void tb_json_str(text_buf *b, const char *s, size_t n);

/* The well-formed UTF-8 sequence at s[0..n) (RFC 3629: no overlong forms, no surrogates, at
   most U+10FFFF): its length 1..4 with the code point in *cp, or 0 if it is ill-formed. */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

#endif
