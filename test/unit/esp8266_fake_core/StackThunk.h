/*
 * StackThunk.h - stand-in for the ESP8266 Arduino core's cores/esp8266/StackThunk.h, for the
 * host unit test of lib/hal_esp8266/tls_stack_thunk.cpp (built with CORE_MOCK=1, as in the
 * core's host emulation, so make_stack_thunk() is never used). Only the two calls that file
 * makes; the test counts them.
 */
#ifndef TEST_FAKE_STACKTHUNK_H
#define TEST_FAKE_STACKTHUNK_H

#ifdef __cplusplus
extern "C" {
#endif

void stack_thunk_add_ref(void);
void stack_thunk_del_ref(void);

#ifdef __cplusplus
}
#endif

#endif
