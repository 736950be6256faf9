/*
 * flash_str.h - constant text that stays in flash on the ESP8266, read byte by byte.
 *
 * The ESP8266 keeps string literals in DRAM (.rodata), and DRAM is what the heap is made of.
 * Text that is only logged (TLS error names and hints) goes to flash instead (PROGMEM), where
 * only aligned 32-bit loads work: such a string must be read with flash_char() (or tb_str(),
 * which uses it), never with *p, strlen() or printf's %s. flash_char() also reads RAM, so a
 * function may return either kind. Everywhere else (native node, tests, the host emulation)
 * these are plain C strings and plain reads.
 */
#ifndef FLASH_STR_H
#define FLASH_STR_H

#include <stddef.h>
#include <stdint.h>

#if defined(ESP8266) && !defined(CORE_MOCK)
#include <sys/pgmspace.h>
/* A string literal placed in flash; its value is a pointer for flash_char(). */
#define FLASH_STR(s) PSTR(s)
/* A const table placed in flash: read its members with flash_char() / flash_u16(). */
#define FLASH_TABLE  PROGMEM
static inline char flash_char(const char *p) { return (char)pgm_read_byte(p); }
static inline uint16_t flash_u16(const uint16_t *p) { return (uint16_t)pgm_read_word(p); }
#else
#define FLASH_STR(s) (s)
#define FLASH_TABLE
static inline char flash_char(const char *p) { return *p; }
static inline uint16_t flash_u16(const uint16_t *p) { return *p; }
#endif

/* Copies the string at s (flash or RAM) into out[cap], always NUL-terminated; its length. */
static inline size_t flash_strlcpy(char *out, const char *s, size_t cap) {
    size_t n = 0;
    if (cap == 0) return 0;
    while (s != NULL && n + 1 < cap && flash_char(s + n) != '\0') {
        out[n] = flash_char(s + n);
        n++;
    }
    out[n] = '\0';
    return n;
}

#endif
