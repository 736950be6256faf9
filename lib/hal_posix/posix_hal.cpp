/* posix_hal.cpp - see posix_hal.h. */
#include "posix_hal.h"

#include "node_app.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace {

uint64_t mono_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

posix_hal *self(void *ctx) { return (posix_hal *)ctx; }

uint32_t h_millis(void *ctx) { return (uint32_t)(mono_ms() - self(ctx)->start_mono_ms); }

int64_t h_epoch_ms(void *ctx) {
    posix_hal *h = self(ctx);
    if (h->opt.clock_override) {
        if (h->opt.clock_s == 0) return 0;
        return h->opt.clock_s * 1000 + (int64_t)(mono_ms() - h->start_mono_ms);
    }
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint32_t h_random32(void *) {
    uint32_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) v = (uint32_t)mono_ms() * 2654435761u;
    return v;
}

void h_log(void *, const char *line) {
    /* One event per line, unbuffered, so a test waiting for a line sees it at once. */
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

uint32_t h_next_boot_count(void *ctx) { return self(ctx)->boot_count; }
int h_link_up(void *ctx) { return self(ctx)->sim.link; }
int h_rssi(void *ctx) { return self(ctx)->sim.rssi; }

void h_restart(void *ctx) {
    posix_hal *h = self(ctx);
    fprintf(stderr, "node: restart: executing /proc/self/exe again\n");
    fflush(stderr);
    /* Sockets are close-on-exec; the broker sees the connection drop, as after ESP.restart(). */
    execv("/proc/self/exe", h->opt.argv);
    fprintf(stderr, "node: restart failed: %s\n", strerror(errno));
    exit(1);
}

/* The --sensors list ("pir,ultrasonic,dht22") as node_sensor lines, in that order. */
const char *choose_sensors(posix_hal *h, const char *list, char *err, size_t cap) {
    char names[128];
    if (strlen(list) >= sizeof names) {
        snprintf(err, cap, "--sensors: list too long");
        return err;
    }
    strcpy(names, list);
    for (char *save = 0, *name = strtok_r(names, ",", &save); name; name = strtok_r(0, ",", &save)) {
        const sim_sensor *sim = sim_sensor_by_name(name);
        if (!sim) {
            size_t n = (size_t)snprintf(err, cap, "--sensors: unknown sensor \"%s\" (known:", name);
            for (size_t i = 0; i < sim_sensor_count && n < cap; i++)
                n += (size_t)snprintf(err + n, cap - n, " %s", sim_sensor_table[i].driver->name);
            if (n < cap) snprintf(err + n, cap - n, ")");
            return err;
        }
        for (uint8_t i = 0; i < h->hal.sensor_count; i++) {
            if (h->sensors[i].driver == sim->driver) {
                snprintf(err, cap, "--sensors: \"%s\" listed twice", name);
                return err;
            }
        }
        if (h->hal.sensor_count == SIM_MAX_SENSORS) {
            snprintf(err, cap, "--sensors: more than %d", SIM_MAX_SENSORS);
            return err;
        }
        node_sensor &ns = h->sensors[h->hal.sensor_count++];
        ns.driver = sim->driver;
        ns.read = sim->read;
        ns.ctx = h->sim.state[sim - sim_sensor_table];
    }
    if (h->hal.sensor_count == 0) {
        snprintf(err, cap, "--sensors: none listed");
        return err;
    }
    h->hal.sensors = h->sensors;
    if (const char *bad = node_sensors_check(h->sensors, h->hal.sensor_count)) {
        snprintf(err, cap, "--sensors: %s", bad);
        return err;
    }
    return 0;
}

void h_led(void *, int on) {
    fprintf(stderr, "node: led %s\n", on ? "on" : "off");
    fflush(stderr);
}

void h_buzzer(void *, int on) {
    fprintf(stderr, "node: buzzer %s\n", on ? "on" : "off");
    fflush(stderr);
}

/* mkdir -p with mode 0700: the default state dir (~/.local/state/...) has missing parents on
   a fresh account. */
int make_dirs(const char *dir) {
    char path[512];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != 0) continue;
        const char keep = path[i];
        path[i] = 0;
        if (mkdir(path, 0700) < 0 && errno != EEXIST) return -1;
        path[i] = keep;
    }
    return 0;
}

/* Reads, increments and stores the boot counter before anything is published. */
const char *bump_boot_count(posix_hal *h, char *err, size_t cap) {
    const char *dir = h->opt.state_dir;
    if (make_dirs(dir) < 0) {
        snprintf(err, cap, "state dir %s: %s", dir, strerror(errno));
        return err;
    }
    char path[512], tmp[520];
    snprintf(path, sizeof path, "%s/%s.boot", dir, h->opt.device_id);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unsigned long count = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        char line[32] = {0};
        char *end = 0;
        if (!fgets(line, sizeof line, f)) line[0] = 0;
        fclose(f);
        count = strtoul(line, &end, 10);
        if (end == line || (*end != '\n' && *end != 0) || count >= 0xffffffffUL) {
            /* Never guess: a reset counter would repeat seq values the backend has seen. */
            snprintf(err, cap, "boot counter file %s is corrupt (expected a number); fix or delete it", path);
            return err;
        }
    } else if (errno != ENOENT) {
        snprintf(err, cap, "boot counter file %s: %s", path, strerror(errno));
        return err;
    }
    count++;
    f = fopen(tmp, "w");
    if (!f || fprintf(f, "%lu\n", count) < 0 || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        snprintf(err, cap, "cannot write %s: %s", tmp, strerror(errno));
        if (f) fclose(f);
        return err;
    }
    fclose(f);
    if (rename(tmp, path) != 0) {
        snprintf(err, cap, "cannot rename %s: %s", tmp, strerror(errno));
        return err;
    }
    h->boot_count = (uint32_t)count;
    return 0;
}

/* Next scenario line into `line`; false if none is available now. */
bool next_line(posix_hal *h, char *line, size_t cap) {
    if (h->file) {
        if (h->file_pos >= h->file_len) return false;
        const char *start = h->file + h->file_pos;
        const char *nl = (const char *)memchr(start, '\n', h->file_len - h->file_pos);
        size_t n = nl ? (size_t)(nl - start) : h->file_len - h->file_pos;
        h->file_pos += n + (nl ? 1 : 0);
        snprintf(line, cap, "%.*s", (int)n, start);
        return true;
    }
    if (!h->from_stdin) return false;
    for (;;) {
        char *nl = (char *)memchr(h->in, '\n', h->in_len);
        if (nl) {
            size_t n = (size_t)(nl - h->in);
            snprintf(line, cap, "%.*s", (int)n, h->in);
            memmove(h->in, nl + 1, h->in_len - n - 1);
            h->in_len -= n + 1;
            return true;
        }
        if (h->stdin_eof) {
            if (h->in_len == 0) return false;
            snprintf(line, cap, "%.*s", (int)h->in_len, h->in);
            h->in_len = 0;
            return true;
        }
        if (h->in_len == sizeof h->in) h->in_len = 0; /* an absurd line: drop it */
        ssize_t r = read(0, h->in + h->in_len, sizeof h->in - h->in_len);
        if (r > 0) {
            h->in_len += (size_t)r;
        } else if (r == 0) {
            h->stdin_eof = 1;
        } else {
            if (errno != EAGAIN && errno != EINTR) h->stdin_eof = 1;
            return false;
        }
    }
}

} // namespace

const char *posix_hal_init(posix_hal *h, const posix_hal_options *opt, char *err, size_t cap) {
    memset(h, 0, sizeof *h);
    h->opt = *opt;
    h->start_mono_ms = mono_ms();
    sim_sensors_init(&h->sim);
    node_hal *n = &h->hal;
    n->ctx = h;
    n->millis = h_millis;
    n->epoch_ms = h_epoch_ms;
    n->random32 = h_random32;
    n->log = h_log;
    n->next_boot_count = h_next_boot_count;
    n->link_up = h_link_up;
    n->wifi_rssi = h_rssi;
    n->restart = h_restart;
    n->led_set = h_led;
    n->buzzer_set = h_buzzer;
    if (const char *bad = choose_sensors(h, opt->sensors ? opt->sensors : POSIX_HAL_SENSORS, err, cap)) return bad;

    if (opt->scenario && strcmp(opt->scenario, "-") == 0) {
        h->from_stdin = 1;
        fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    } else if (opt->scenario) {
        FILE *f = fopen(opt->scenario, "r");
        if (!f) {
            snprintf(err, cap, "scenario %s: %s", opt->scenario, strerror(errno));
            return err;
        }
        /* Read and check the whole file first: a typo on line 40 should stop the node now,
           not after 40 lines of a test have run. */
        size_t used = 0, size = 4096;
        h->file = (char *)malloc(size);
        size_t r;
        while (h->file && (r = fread(h->file + used, 1, size - used, f)) > 0) {
            used += r;
            if (used == size) {
                if (size >= (1u << 20)) break;
                size *= 2;
                h->file = (char *)realloc(h->file, size);
            }
        }
        fclose(f);
        if (!h->file || used >= (1u << 20)) {
            snprintf(err, cap, "scenario %s: larger than 1 MB", opt->scenario);
            return err;
        }
        h->file_len = used;
        char line[256];
        unsigned no = 0;
        while (next_line(h, line, sizeof line)) {
            no++;
            scenario_cmd c;
            const char *why = scenario_parse_line(line, &c);
            if (why) {
                snprintf(err, cap, "scenario %s line %u: %s", opt->scenario, no, why);
                return err;
            }
        }
        h->file_pos = 0;
    }
    return bump_boot_count(h, err, cap);
}

void posix_hal_poll(posix_hal *h) {
    uint32_t now = h_millis(h);
    char line[256];
    for (;;) {
        if (h->waiting) {
            if ((int32_t)(now - h->wait_until) < 0) return;
            h->waiting = 0;
        }
        if (!next_line(h, line, sizeof line)) return;
        h->line_no++;
        scenario_cmd c;
        const char *why = scenario_parse_line(line, &c);
        if (why) {
            fprintf(stderr, "sensor: scenario line %u ignored: %s\n", h->line_no, why);
            continue;
        }
        if (c.kind == SC_NONE) continue;
        if (c.kind == SC_WAIT) {
            h->waiting = 1;
            h->wait_until = now + (uint32_t)c.v[0];
            continue;
        }
        scenario_apply(&h->sim, &c);
        fprintf(stderr, "sensor: scenario %s\n", line);
        fflush(stderr);
    }
}
