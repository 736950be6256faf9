// fuzz/flash_ring_seeds.cpp - writes the seed corpus of flash_ring_fuzz with the ring itself (fuzz/README.md):
// byte 0 picks the geometry as the target reads it, then the region: blank, records (some delivered),
// with the clock set, wrapped past capacity, a write cut short, several boots, and foreign data.
// g++ -std=c++11 -Ilib/store -Ilib/port fuzz/flash_ring_seeds.cpp lib/store/flash_ring.cpp -o build/flash_ring_seeds && build/flash_ring_seeds fuzz/corpus/flash_ring_fuzz
#include <stdio.h>
#include <string.h>
#include "flash_ring.h"
static uint8_t mem[1000];
static uint32_t ss = 96, sc;
static int rd(void *, uint32_t a, void *b, uint32_t n) {
    memcpy(b, mem + a, n);
    return 0;
}
static int wr(void *, uint32_t a, const void *b, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) mem[a + i] &= ((const uint8_t *)b)[i];
    return 0;
}
static int er(void *, uint32_t s) {
    memset(mem + s * ss, 0xff, ss);
    return 0;
}
static void save(const char *name, uint8_t sel) {
    FILE *f = fopen(name, "wb");
    fputc(sel, f);
    fwrite(mem, 1, ss * sc, f);
    fclose(f);
}
static void body(uint8_t *b, unsigned long long seq, unsigned long long epoch) {
    memset(b, 0, 24);
    for (int i = 0; i < 8; i++) b[i] = seq >> (8 * i);
    for (int i = 0; i < 8; i++) b[8 + i] = 0x10 + i;
    for (int i = 0; i < 6; i++) b[16 + i] = epoch >> (8 * i);
}
int main(int, char **argv) {
    char path[512];
    struct {
        const char *name;
        uint8_t sel;
        int n;
        int deliver;
        int cut;
        unsigned long long boot;
        unsigned long long epoch;
    } cases[] = {
        {"blank", 0, 0, 0, 0, 1, 0},
        {"five", 0, 5, 2, 0, 1, 0},
        {"five_clock", 1, 5, 0, 0, 2, 1764000000000ull},
        {"wrapped", 2, 40, 30, 0, 3, 0},
        {"cut_write", 3, 9, 0, 1, 1, 0},
        {"two_boots", 4, 6, 1, 0, 0, 0},
    };
    for (auto &c : cases) {
        sc = 3 + c.sel % 8;
        memset(mem, 0xff, sizeof mem);
        flash_io io = {0, ss, sc, rd, wr, er};
        flash_ring r;
        flash_ring_open(&r, &io, FLASH_LAYOUT_LEGACY);
        uint8_t b[24];
        uint32_t slot;
        for (int i = 0; i < c.n; i++) {
            unsigned long long boot = c.boot ? c.boot : 1 + i / 3;
            body(b, (boot << 32) | (i + 1), c.epoch ? c.epoch + i * 2000 : 0);
            flash_ring_append(&r, b, 0);
        }
        for (int i = 0; i < c.deliver && flash_ring_peek(&r, b, &slot) == 1; i++) {
            flash_ring_advance(&r);
            flash_ring_release(&r, slot, flash_body_seq(b));
        }
        if (c.cut) {
            uint32_t a = 16 + 20 * (r.head % r.per_sector) + (r.head / r.per_sector) * ss;
            mem[a] = 0x12;
            mem[a + 4] = 0x00;
        }
        snprintf(path, sizeof path, "%s/%s", argv[1], c.name);
        save(path, c.sel);
    }
    sc = 3;
    for (uint32_t i = 0; i < ss * sc; i++) mem[i] = (uint8_t)(i * 37 + 5);
    snprintf(path, sizeof path, "%s/foreign", argv[1]);
    save(path, 0);
    return 0;
}
