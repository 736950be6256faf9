/*
 * log_line.h - the one way the core builds a log line: a tag ("mqtt: ", "tls: ", "node: ",
 * "sensor: ", "store: "), then text and numbers appended to a buffer on the stack, then one call
 * of the target's log callback (node_hal.log, or a session's or transport's copy of it).
 *
 * No printf: it is large on the ESP8266 and its float formatting can allocate. A line that does
 * not fit is cut at LOG_LINE_CAP - 1 characters, never written past.
 */
#ifndef NODE_LOG_LINE_H
#define NODE_LOG_LINE_H

#include <stddef.h>
#include <stdint.h>

#include "text_buf.h"

/* The longest line is a TLS failure: "tls: handshake failed: " + name + BearSSL code + hint. */
#define LOG_LINE_CAP 300

typedef void (*log_fn)(void *ctx, const char *line);

struct log_line {
    char buf[LOG_LINE_CAP];
    text_buf tb; /* append with tb_str, tb_u64, tb_hex ... on &line.tb */
};

/* Starts a line with its tag. */
void log_begin(log_line *l, const char *tag);
/* Hands the line to `fn` (nothing happens when fn is NULL). */
void log_send(const log_line *l, log_fn fn, void *ctx);

/* The common case in one call: the tag and up to six strings (NULL ones are skipped). */
void log_text(log_fn fn, void *ctx, const char *tag, const char *s1, const char *s2 = 0, const char *s3 = 0,
              const char *s4 = 0, const char *s5 = 0, const char *s6 = 0);

/* `v` in decimal in buf (cap >= 21 always fits), for passing a number to log_text. */
const char *u64_text(char *buf, size_t cap, uint64_t v);

#endif
