/*
 * flash_ring_fuzz.cpp - libFuzzer target for the flash ring's record reader (lib/store/flash_ring.*):
 * what flash_ring_open and flash_ring_peek make of whatever the flash holds after a power cut, a
 * bad sector or a region last used by something else.
 *
 * Input: byte 0 picks the geometry (3 to 10 sectors of 16 + 20 * 4 = 96 bytes, or one with unused
 * tail bytes) and the records' layout (the seeds' or another), the rest is the region's content (padded with 0xff, erased flash). The flash is
 * emulated as NOR: a write only clears bits, an erase sets a sector to 0xff. Asserted:
 *   - every flash call stays inside the region, writes are 4-byte aligned and sized;
 *   - open succeeds (the geometry is valid and the flash never fails) with head, cursor and
 *     pending inside the ring;
 *   - draining with peek / advance / release hands out at most `slots` records, each from a
 *     slot inside the ring with a seq of 0 never handed out, and ends;
 *   - afterwards three appends (seq above every seq seen) come back from peek in order, byte for
 *     byte, and a reopen of the same flash finds the newest of them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash_ring.h"

namespace {

void fail(const char *what) {
    fprintf(stderr, "flash_ring_fuzz: %s\n", what);
    abort();
}

struct nor {
    uint8_t mem[10 * 100];
    uint32_t sector_size;
    uint32_t sector_count;
};

int nor_read(void *ctx, uint32_t addr, void *buf, uint32_t len) {
    nor *f = static_cast<nor *>(ctx);
    if ((uint64_t)addr + len > (uint64_t)f->sector_size * f->sector_count) fail("read outside the region");
    memcpy(buf, f->mem + addr, len);
    return 0;
}

int nor_write(void *ctx, uint32_t addr, const void *buf, uint32_t len) {
    nor *f = static_cast<nor *>(ctx);
    if ((uint64_t)addr + len > (uint64_t)f->sector_size * f->sector_count) fail("write outside the region");
    if (addr % 4 || len % 4) fail("unaligned write");
    const uint8_t *b = static_cast<const uint8_t *>(buf);
    for (uint32_t i = 0; i < len; i++) f->mem[addr + i] &= b[i]; /* NOR: bits only go 1 -> 0 */
    return 0;
}

int nor_erase(void *ctx, uint32_t sector) {
    nor *f = static_cast<nor *>(ctx);
    if (sector >= f->sector_count) fail("erase outside the region");
    memset(f->mem + sector * f->sector_size, 0xff, f->sector_size);
    return 0;
}

void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

void check_ring(const flash_ring &r) {
    if (r.head >= r.slots || r.cursor >= r.slots || r.pending > r.slots)
        fail("head, cursor or pending outside the ring");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static nor f;
    f.sector_count = 3u + data[0] % 8u;
    f.sector_size = (data[0] & 0x80) ? 100u : 96u; /* 100: 4 bytes past the last record, unused */
    uint32_t region = f.sector_size * f.sector_count;
    memset(f.mem, 0xff, sizeof f.mem);
    memcpy(f.mem, data + 1, size - 1 < region ? size - 1 : region);
    flash_io io = {&f, f.sector_size, f.sector_count, nor_read, nor_write, nor_erase};
    /* The records' layout: the seeds' (legacy), or another one, whose open() erases those sectors. */
    uint16_t layout = (data[0] & 0x40) ? 0x0001u : FLASH_LAYOUT_LEGACY;

    static flash_ring r;
    if (flash_ring_open(&r, &io, layout) != 0) fail("open failed on a valid geometry and working flash");
    check_ring(r);
    if (r.per_sector != 4) fail("records per sector");

    uint8_t body[FLASH_BODY_SIZE];
    uint32_t slot = 0;
    uint64_t top = r.last_seq;
    uint32_t handed = 0;
    while (flash_ring_peek(&r, body, &slot) == 1) {
        if (++handed > r.slots) fail("peek hands out more records than the ring has slots");
        if (slot >= r.slots) fail("peek slot outside the ring");
        uint64_t seq = flash_body_seq(body);
        if (seq == 0) fail("a record with seq 0 handed out");
        if (seq > top) top = seq;
        flash_ring_advance(&r);
        if (flash_ring_release(&r, slot, seq) < 0) fail("release failed on working flash");
        check_ring(r);
    }
    if (r.pending != 0) fail("pending left after the ring drained");

    /* New readings after whatever was there: they come back in order, byte for byte. */
    if (top > (1ull << 62)) return 0;
    uint8_t sent[3][FLASH_BODY_SIZE];
    for (int i = 0; i < 3; i++) {
        memset(sent[i], 0, FLASH_BODY_SIZE);
        put64(sent[i], top + 1 + (uint64_t)i);
        for (int k = 0; k < 8; k++)
            sent[i][8 + k] = (uint8_t)(data[0] * 31 + i * 7 + k); /* values; epoch 0: clock not set */
        if (flash_ring_append(&r, sent[i], 0) != 0) fail("append failed on working flash");
        check_ring(r);
    }
    for (int i = 0; i < 3; i++) {
        if (flash_ring_peek(&r, body, &slot) != 1) fail("an appended record is not handed out");
        if (memcmp(body, sent[i], FLASH_BODY_SIZE) != 0) fail("an appended record came back changed");
        flash_ring_advance(&r);
    }
    if (flash_ring_peek(&r, body, &slot) != 0) fail("more records than were appended");

    /* A reboot now: the newest record is the last one appended. */
    if (flash_ring_open(&r, &io, layout) != 0) fail("reopen failed");
    check_ring(r);
    if (r.last_seq != top + 3) fail("reopen did not find the newest record");
    return 0;
}
