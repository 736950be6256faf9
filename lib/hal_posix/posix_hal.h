/*
 * posix_hal.h - the node_hal of the native Linux node.
 *
 * Clock: CLOCK_MONOTONIC for millis(); the wall clock is the system's, or a fixed start time
 * (`clock_s`, for tests) that then advances with the monotonic clock; 0 means "not set yet",
 * like an ESP8266 before NTP. Sensors come from a scenario (scenario.h) in a file or on stdin.
 * The boot counter lives in STATE_DIR/<id>.boot and is written (atomically) before the node
 * publishes anything, so `seq` never repeats across restarts. restart() re-executes the program.
 */
#ifndef POSIX_HAL_H
#define POSIX_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "hal.h"
#include "scenario.h"

struct posix_hal_options {
    const char *device_id;
    const char *state_dir;
    int clock_override;   /* 1: use clock_s instead of the system clock */
    int64_t clock_s;      /* seconds since the epoch at start; 0: clock not set */
    const char *scenario; /* file, "-" for stdin, NULL for constant readings */
    const char *sensors;  /* driver names, comma-separated (sim_sensors.cpp); NULL: POSIX_HAL_SENSORS */
    char *const *argv;    /* for restart() */
};

/* The sensors of the NodeMCU build's default config.h. */
#define POSIX_HAL_SENSORS "pir,ultrasonic,dht22"

struct posix_hal {
    node_hal hal;
    posix_hal_options opt;
    uint64_t start_mono_ms;
    uint32_t boot_count;
    sim_sensors sim;
    node_sensor sensors[SIM_MAX_SENSORS]; /* node_hal.sensors: the chosen lines, ctx = their state */
    /* Scenario source: a whole file read at start (and checked), or stdin read a line at a time. */
    char *file;
    size_t file_len, file_pos;
    int from_stdin, stdin_eof;
    char in[4096];
    size_t in_len;
    unsigned line_no;
    int waiting;
    uint32_t wait_until;
};

/* Set up. NULL, or one line saying what is wrong (bad scenario line, unknown sensor, unusable
   state dir). */
const char *posix_hal_init(posix_hal *h, const posix_hal_options *opt, char *err, size_t err_cap);
/* Apply the scenario lines that are due. Call from the main loop. */
void posix_hal_poll(posix_hal *h);

#endif
