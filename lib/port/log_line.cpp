/* log_line.cpp - see log_line.h. */
#include "log_line.h"

void log_begin(log_line *l, const char *tag) {
    tb_init(&l->tb, l->buf, sizeof l->buf);
    tb_str(&l->tb, tag);
}

void log_send(const log_line *l, log_fn fn, void *ctx) {
    if (fn) fn(ctx, l->buf);
}

void log_text(log_fn fn, void *ctx, const char *tag, const char *s1, const char *s2, const char *s3, const char *s4,
              const char *s5, const char *s6) {
    if (!fn) return;
    log_line l;
    log_begin(&l, tag);
    const char *parts[] = {s1, s2, s3, s4, s5, s6};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) tb_str(&l.tb, parts[i]);
    log_send(&l, fn, ctx);
}

const char *u64_text(char *buf, size_t cap, uint64_t v) {
    text_buf tb;
    tb_init(&tb, buf, cap);
    tb_u64(&tb, v);
    return buf;
}
