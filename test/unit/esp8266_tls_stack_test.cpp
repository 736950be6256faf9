/*
 * esp8266_tls_stack_test.cpp - lib/hal_esp8266/tls_stack_thunk.cpp on the host.
 *
 * Built as in the Arduino core's host emulation (CORE_MOCK=1: the thunks are direct calls) with
 * a stand-in StackThunk.h that counts stack_thunk_add_ref()/del_ref(). What it checks is what
 * the chip depends on and the emulation cannot show: the stack reference is taken before the
 * TLS transport's open() (handshake), dropped only after its close() (close_notify), exactly
 * once per connection however the session calls them, and an engine call made without a
 * reference is refused (on the chip it would run on a freed or NULL stack).
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string.h>

#include "check.h"
#include "tls_engine_thunks.h"
#include "tls_stack_thunk.h"

/* ---------------------------------------------------------------- the core's counters */

static unsigned add_refs, del_refs;
extern "C" void stack_thunk_add_ref(void) { add_refs++; }
extern "C" void stack_thunk_del_ref(void) { del_refs++; }

/* ---------------------------------------------------------------- a TLS transport stand-in */

struct fake_tls {
    transport base;
    int opens, closes;
    int open_result;
    uint32_t refs_at_open, refs_at_close;
    char last_host[32];
    uint16_t last_port;
};

static fake_tls *fk(transport *t) { return reinterpret_cast<fake_tls *>(t); }

static int f_open(transport *t, const char *host, uint16_t port) {
    fake_tls *f = fk(t);
    f->opens++;
    f->refs_at_open = tls_stack_thunk_refs();
    strncpy(f->last_host, host, sizeof f->last_host - 1);
    f->last_port = port;
    return f->open_result;
}
static void f_close(transport *t) {
    fake_tls *f = fk(t);
    f->closes++;
    f->refs_at_close = tls_stack_thunk_refs();
}
static int32_t f_read(transport *, uint8_t *buf, size_t len) {
    if (len > 0) buf[0] = 0x42;
    return 1;
}
static int32_t f_write(transport *, const uint8_t *, size_t len) { return (int32_t)len - 1; }
static const char *f_name(const transport *) { return "X509_NOT_TRUSTED"; }
static const char *f_hint(const transport *) { return "the hint"; }

static void fake_init(fake_tls *f) {
    memset(f, 0, sizeof *f);
    f->base.open = f_open;
    f->base.close = f_close;
    f->base.read = f_read;
    f->base.write = f_write;
    f->base.error_name = f_name;
    f->base.error_hint = f_hint;
}

/* ---------------------------------------------------------------- tests */

static void test_reference_follows_the_connection() {
    add_refs = del_refs = 0;
    fake_tls f;
    fake_init(&f);
    tls_stack_transport s;
    tls_stack_transport_init(&s, &f.base);
    CHECK_EQ(add_refs, 0); /* nothing allocated before the first connection */
    CHECK_EQ(tls_stack_thunk_refs(), 0);

    CHECK_EQ(s.base.open(&s.base, "broker.local", 8883), 0);
    CHECK_EQ(f.opens, 1);
    CHECK_STR(f.last_host, "broker.local");
    CHECK_EQ(f.last_port, 8883);
    CHECK_EQ(f.refs_at_open, 1); /* taken before the handshake starts */
    CHECK_EQ(add_refs, 1);

    s.base.close(&s.base);
    CHECK_EQ(f.closes, 1);
    CHECK_EQ(f.refs_at_close, 1); /* still held while close_notify goes out */
    CHECK_EQ(del_refs, 1);
    CHECK_EQ(tls_stack_thunk_refs(), 0);
}

static void test_balanced_however_called() {
    add_refs = del_refs = 0;
    fake_tls f;
    fake_init(&f);
    tls_stack_transport s;
    tls_stack_transport_init(&s, &f.base);

    s.base.close(&s.base); /* close before any open: passed on, no reference dropped */
    CHECK_EQ(f.closes, 1);
    CHECK_EQ(del_refs, 0);

    s.base.open(&s.base, "h", 1); /* open twice without close: one reference */
    s.base.open(&s.base, "h", 1);
    CHECK_EQ(add_refs, 1);
    CHECK_EQ(tls_stack_thunk_refs(), 1);

    s.base.close(&s.base);
    s.base.close(&s.base); /* twice: dropped once */
    CHECK_EQ(del_refs, 1);

    f.open_result = TRANSPORT_ERR_TLS; /* a failed open keeps it until the session's close() */
    CHECK_EQ(s.base.open(&s.base, "h", 1), TRANSPORT_ERR_TLS);
    CHECK_EQ(tls_stack_thunk_refs(), 1);
    s.base.close(&s.base);
    CHECK_EQ(add_refs, 2);
    CHECK_EQ(del_refs, 2);
    CHECK_EQ(tls_stack_thunk_refs(), 0);
}

static void test_passes_everything_else_through() {
    fake_tls f;
    fake_init(&f);
    tls_stack_transport s;
    tls_stack_transport_init(&s, &f.base);
    uint8_t b[4] = {0};
    CHECK_EQ(s.base.read(&s.base, b, sizeof b), 1);
    CHECK_EQ(b[0], 0x42);
    CHECK_EQ(s.base.write(&s.base, b, sizeof b), 3);
    CHECK_STR(s.base.error_name(&s.base), "X509_NOT_TRUSTED");
    CHECK_STR(s.base.error_hint(&s.base), "the hint");
}

/* Runs fn in a child process; returns the signal that ended it, 0 if it exited normally. */
static int run_in_child(void (*fn)(void)) {
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = {0, 0}; /* the expected abort() leaves no core file behind */
        setrlimit(RLIMIT_CORE, &no_core);
        fn();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static br_ssl_engine_context zero_engine; /* a zeroed engine: sendapp_buf reports no room */

static void engine_call() {
    size_t len = 99;
    thunk_br_ssl_engine_sendapp_buf(&zero_engine, &len);
    if (len != 0) _exit(3);
}

static void engine_call_inside_a_connection() {
    fake_tls f;
    fake_init(&f);
    tls_stack_transport s;
    tls_stack_transport_init(&s, &f.base);
    s.base.open(&s.base, "h", 1);
    engine_call();
    s.base.close(&s.base);
}

static void test_engine_call_needs_a_reference() {
    /* The child's "called without a stack-thunk reference" line on stderr is expected. */
    CHECK_EQ(run_in_child(engine_call), SIGABRT);
    CHECK_EQ(run_in_child(engine_call_inside_a_connection), 0);
}

int main() {
    RUN(test_reference_follows_the_connection);
    RUN(test_balanced_however_called);
    RUN(test_passes_everything_else_through);
    RUN(test_engine_call_needs_a_reference);
    return check_summary("esp8266_tls_stack_test");
}
