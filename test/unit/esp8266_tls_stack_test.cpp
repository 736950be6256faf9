/*
 * esp8266_tls_stack_test.cpp - lib/hal_esp8266/tls_stack_thunk.cpp on the host.
 *
 * Built as in the Arduino core's host emulation (CORE_MOCK=1: the thunks are direct calls) with
 * a stand-in StackThunk.h that counts stack_thunk_add_ref()/del_ref(). What it checks is what
 * the chip depends on and the emulation cannot show: the node takes exactly one reference on the
 * core's BearSSL stack and never drops it (allocated once, at start), and an engine call made
 * without a reference is refused (on the chip it would run on a freed or NULL stack).
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "tls_engine_thunks.h"
#include "tls_stack_thunk.h"

/* ---------------------------------------------------------------- the core's counters */

static unsigned add_refs, del_refs;
extern "C" void stack_thunk_add_ref(void) { add_refs++; }
extern "C" void stack_thunk_del_ref(void) { del_refs++; }

/* ---------------------------------------------------------------- tests */

static void test_hold_takes_one_reference_and_keeps_it() {
    CHECK_EQ(tls_stack_thunk_refs(), 0);
    CHECK_EQ(add_refs, 0); /* nothing allocated before setup() asks */
    tls_stack_thunk_hold();
    CHECK_EQ(add_refs, 1);
    CHECK_EQ(tls_stack_thunk_refs(), 1);
    tls_stack_thunk_hold(); /* again (e.g. a second init): still one reference */
    CHECK_EQ(add_refs, 1);
    CHECK_EQ(del_refs, 0); /* never dropped: no free/malloc per reconnect */
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

static br_ssl_engine_context zero_engine; /* a zeroed engine: flush has no record to send */

static void engine_call() {
    thunk_tls_engine_flush(&zero_engine, 0);
    if (br_ssl_engine_current_state(&zero_engine) != 0) _exit(3);
}

static void engine_call_after_hold() {
    tls_stack_thunk_hold();
    engine_call();
}

static void test_engine_call_needs_a_reference() {
    /* The child's "called without a stack-thunk reference" line on stderr is expected. */
    CHECK_EQ(run_in_child(engine_call), SIGABRT);
    CHECK_EQ(run_in_child(engine_call_after_hold), 0);
}

int main() {
    RUN(test_engine_call_needs_a_reference); /* first: its children must start with no reference */
    RUN(test_hold_takes_one_reference_and_keeps_it);
    return check_summary("esp8266_tls_stack_test");
}
