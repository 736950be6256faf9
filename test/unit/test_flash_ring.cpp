/* Unit tests for lib/store/flash_ring: wrap-around, a power cut at every byte offset of a
   record, corrupt records and sectors, a full ring, and the boot scan finding its place again.
   The flash is simulated as NOR: erase sets 0xff, a write can only clear bits, and a "power cut"
   stops a write after a given number of bytes. */
#include <stdlib.h>

#include "check.h"
#include "flash_ring.h"

static const uint32_t SECTOR = 256; /* 8 records per sector: small, so wrap-around is quick */
static const uint32_t SECTORS = 5;
static uint8_t mem[SECTOR * SECTORS];
static long cut_after = -1;          /* bytes still written before the "power cut"; -1: none */
static int fail_reads = 0;

static int f_read(void *, uint32_t addr, void *buf, uint32_t len) {
    if (fail_reads) return -1;
    if (addr + len > sizeof mem) return -1;
    memcpy(buf, mem + addr, len);
    return 0;
}
static int f_write(void *, uint32_t addr, const void *buf, uint32_t len) {
    if (addr % 4 || len % 4 || addr + len > sizeof mem) return -1;
    const uint8_t *b = (const uint8_t *)buf;
    for (uint32_t i = 0; i < len; i++) {
        if (cut_after == 0) return -1; /* the power is gone: nothing more reaches the flash */
        if (cut_after > 0) cut_after--;
        mem[addr + i] &= b[i];
    }
    return 0;
}
static int f_erase(void *, uint32_t sector) {
    if (sector >= SECTORS) return -1;
    memset(mem + sector * SECTOR, 0xff, SECTOR);
    return 0;
}
static flash_io io = {0, SECTOR, SECTORS, f_read, f_write, f_erase};

static void body_for(uint64_t seq, uint8_t b[FLASH_BODY_SIZE]) {
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(seq >> (8 * i));
    for (uint32_t i = 8; i < FLASH_BODY_SIZE; i++) b[i] = (uint8_t)(seq * 7 + i);
}

static void wipe() {
    memset(mem, 0xff, sizeof mem);
    cut_after = -1;
    fail_reads = 0;
}

/* Read everything still to deliver, releasing each; returns how many, checks they are in order. */
static uint32_t drain(flash_ring *r, uint64_t *first, uint64_t *last) {
    uint8_t b[FLASH_BODY_SIZE];
    uint32_t slot, n = 0;
    uint64_t prev = 0;
    while (flash_ring_peek(r, b, &slot)) {
        uint64_t seq = flash_body_seq(b);
        uint8_t want[FLASH_BODY_SIZE];
        body_for(seq, want);
        CHECK(memcmp(b, want, FLASH_BODY_SIZE) == 0);
        CHECK(seq > prev);
        if (n == 0 && first) *first = seq;
        prev = seq;
        flash_ring_advance(r);
        CHECK_EQ(flash_ring_release(r, slot, seq), 1);
        n++;
    }
    if (last) *last = prev;
    return n;
}

static void test_geometry() {
    wipe();
    flash_ring r;
    flash_io bad = io;
    bad.sector_count = 2;
    CHECK_EQ(flash_ring_open(&r, &bad), -1);
    bad = io;
    bad.sector_size = 100;
    CHECK_EQ(flash_ring_open(&r, &bad), -1);
    CHECK_EQ(flash_ring_open(&r, &io), 0);
    CHECK_EQ(flash_ring_capacity(&r), 4 * 8);
    CHECK_EQ(r.pending, 0);
    uint8_t b[FLASH_BODY_SIZE];
    CHECK_EQ(flash_ring_peek(&r, b, 0), 0);
}

/* Write, read back after a "reboot", in order; then many times round the ring. */
static void test_wrap_around() {
    wipe();
    flash_ring r;
    CHECK_EQ(flash_ring_open(&r, &io), 0);
    uint8_t b[FLASH_BODY_SIZE];
    uint64_t seq = 0;
    for (int i = 0; i < 20; i++) {
        body_for(++seq, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    flash_ring r2; /* reboot */
    CHECK_EQ(flash_ring_open(&r2, &io), 0);
    CHECK_EQ(r2.pending, 20);
    CHECK(r2.last_seq == 20);
    uint64_t first = 0, last = 0;
    CHECK_EQ(drain(&r2, &first, &last), 20);
    CHECK(first == 1 && last == 20);
    /* Round and round: 10 laps of the ring, a reboot after every 13 records, nothing lost. */
    uint64_t expect = 21;
    for (int lap = 0; lap < 30; lap++) {
        for (int i = 0; i < 13; i++) {
            body_for(++seq, b);
            CHECK_EQ(flash_ring_append(&r2, b, 0), 0);
        }
        CHECK_EQ(flash_ring_open(&r2, &io), 0);
        CHECK_EQ(r2.pending, 13);
        CHECK_EQ(drain(&r2, &first, &last), 13);
        CHECK(first == expect && last == expect + 12);
        expect += 13;
        CHECK_EQ(r2.stats.dropped, 0);
    }
    /* Delivered records are not delivered again after a reboot. */
    CHECK_EQ(flash_ring_open(&r2, &io), 0);
    CHECK_EQ(r2.pending, 0);
    CHECK_EQ(drain(&r2, 0, 0), 0);
}

/* Full ring: the oldest are dropped and counted, new ones always go in, order is kept. */
static void test_full_ring() {
    wipe();
    flash_ring r;
    CHECK_EQ(flash_ring_open(&r, &io), 0);
    uint8_t b[FLASH_BODY_SIZE];
    const uint32_t n = 100; /* capacity 32 */
    for (uint64_t s = 1; s <= n; s++) {
        body_for(s, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    uint32_t held = r.pending;
    CHECK(held <= flash_ring_capacity(&r));
    CHECK(held >= flash_ring_capacity(&r) - 8);
    CHECK_EQ(r.stats.dropped + held, n);
    flash_ring r2;
    CHECK_EQ(flash_ring_open(&r2, &io), 0);
    CHECK_EQ(r2.pending, held);
    uint64_t first = 0, last = 0;
    CHECK_EQ(drain(&r2, &first, &last), held);
    CHECK(last == n);
    CHECK(first == n - held + 1); /* exactly the newest survive */
    /* Full while some are in flight (read, not yet released): a later release of an erased
       record does not touch the new data in its place. */
    wipe();
    CHECK_EQ(flash_ring_open(&r, &io), 0);
    body_for(1, b);
    uint32_t slot1 = 0;
    CHECK_EQ(flash_ring_append(&r, b, &slot1), 0);
    uint32_t s;
    CHECK_EQ(flash_ring_peek(&r, b, &s), 1);
    flash_ring_advance(&r);
    for (uint64_t q = 2; q <= 60; q++) {
        body_for(q, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    CHECK_EQ(flash_ring_release(&r, slot1, 1), 0); /* seq 1's sector was erased and reused */
    CHECK_EQ(flash_ring_open(&r2, &io), 0);
    CHECK_EQ(drain(&r2, &first, &last), r.pending);
    CHECK(last == 60);
}

/* A power cut after every possible number of bytes of a record write (0..27, and during the
   done-word write): after the reboot every earlier record is there, the cut one is either
   complete or skipped as corrupt (counted, never returned), and new records go on after it. */
static void test_power_cut_every_offset() {
    for (int where = 0; where < 2; where++) {
        for (long cut = 0; cut <= (long)(FLASH_BODY_SIZE + 4); cut++) {
            wipe();
            flash_ring r;
            CHECK_EQ(flash_ring_open(&r, &io), 0);
            uint8_t b[FLASH_BODY_SIZE];
            /* Fill to just before a sector boundary (where = 1) or to mid-sector. */
            uint32_t before = where ? 15 : 11;
            for (uint64_t s = 1; s <= before; s++) {
                body_for(s, b);
                CHECK_EQ(flash_ring_append(&r, b, 0), 0);
            }
            /* Release the first 3, as after acks. */
            uint32_t slot;
            for (int i = 0; i < 3; i++) {
                CHECK_EQ(flash_ring_peek(&r, b, &slot), 1);
                flash_ring_advance(&r);
                flash_ring_release(&r, slot, flash_body_seq(b));
            }
            cut_after = cut;
            body_for(before + 1, b);
            flash_ring_append(&r, b, 0);
            cut_after = -1;
            flash_ring r2; /* reboot */
            CHECK_EQ(flash_ring_open(&r2, &io), 0);
            bool complete = cut >= (long)(FLASH_BODY_SIZE + 4);
            uint64_t first = 0, last = 0;
            uint32_t got = drain(&r2, &first, &last);
            CHECK_EQ(got, before - 3 + (complete ? 1 : 0));
            CHECK(first == 4);
            CHECK(last == (complete ? before + 1 : before));
            /* A cut that left nothing at all is no corrupt record; any other partial write is. */
            CHECK_EQ(r2.stats.corrupt, (!complete && cut > 0) ? 1 : 0);
            /* Writing goes on after it, and a second reboot finds all of that. */
            for (uint64_t s = before + 2; s <= before + 12; s++) {
                body_for(s, b);
                CHECK_EQ(flash_ring_append(&r2, b, 0), 0);
            }
            flash_ring r3;
            CHECK_EQ(flash_ring_open(&r3, &io), 0);
            CHECK_EQ(r3.stats.corrupt, 0);
            CHECK_EQ(drain(&r3, &first, &last), 11);
            CHECK(first == before + 2 && last == before + 12);
        }
    }
    /* A cut while clearing the done word (1..3 of its 4 bytes): the record counts as delivered
       (its ack had come), and nothing else changes. */
    for (long cut = 1; cut < 4; cut++) {
        wipe();
        flash_ring r;
        CHECK_EQ(flash_ring_open(&r, &io), 0);
        uint8_t b[FLASH_BODY_SIZE];
        for (uint64_t s = 1; s <= 5; s++) {
            body_for(s, b);
            CHECK_EQ(flash_ring_append(&r, b, 0), 0);
        }
        uint32_t slot;
        CHECK_EQ(flash_ring_peek(&r, b, &slot), 1);
        flash_ring_advance(&r);
        cut_after = cut;
        flash_ring_release(&r, slot, 1);
        cut_after = -1;
        flash_ring r2;
        CHECK_EQ(flash_ring_open(&r2, &io), 0);
        uint64_t first = 0, last = 0;
        CHECK_EQ(drain(&r2, &first, &last), 4);
        CHECK(first == 2 && last == 5);
    }
}

/* A power cut during the erase ahead: the sector is left half erased (garbage); the boot scan
   erases it again before use and loses nothing that was still to deliver. */
static void test_cut_erase_and_corrupt_sector() {
    wipe();
    flash_ring r;
    CHECK_EQ(flash_ring_open(&r, &io), 0);
    uint8_t b[FLASH_BODY_SIZE];
    for (uint64_t s = 1; s <= 12; s++) {
        body_for(s, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    /* head is in sector 1; sector 2 was erased ahead. Make it half-erased garbage. */
    for (uint32_t i = 0; i < SECTOR; i += 3) mem[2 * SECTOR + i] = 0x5a;
    flash_ring r2;
    CHECK_EQ(flash_ring_open(&r2, &io), 0);
    CHECK_EQ(r2.stats.corrupt, 0);
    uint64_t first = 0, last = 0;
    CHECK_EQ(drain(&r2, &first, &last), 12);
    CHECK(first == 1 && last == 12);
    for (uint32_t i = 0; i < SECTOR; i++) CHECK(mem[2 * SECTOR + i] == 0xff);

    /* Bit rot in stored records: each bad one is skipped and counted once, never returned. */
    wipe();
    CHECK_EQ(flash_ring_open(&r, &io), 0);
    for (uint64_t s = 1; s <= 20; s++) {
        body_for(s, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    mem[4 * FLASH_RECORD_SIZE + 10] ^= 0x01;  /* seq 5: payload bit */
    mem[9 * FLASH_RECORD_SIZE + 25] ^= 0x80;  /* seq 10: CRC byte */
    mem[14 * FLASH_RECORD_SIZE + 0] ^= 0x10;  /* seq 15: seq byte */
    CHECK_EQ(flash_ring_open(&r2, &io), 0);
    uint32_t n = 0, slot;
    while (flash_ring_peek(&r2, b, &slot)) {
        uint64_t seq = flash_body_seq(b);
        CHECK(seq != 5 && seq != 10 && seq != 15);
        flash_ring_advance(&r2);
        flash_ring_release(&r2, slot, seq);
        n++;
    }
    CHECK_EQ(n, 17);
    CHECK_EQ(r2.stats.corrupt, 3);
    flash_ring r3;
    CHECK_EQ(flash_ring_open(&r3, &io), 0);
    CHECK_EQ(drain(&r3, 0, 0), 0);
    CHECK_EQ(r3.stats.corrupt, 0); /* counted once, not again on the next boot */

    /* A whole sector of garbage in the middle of the data (a bad sector). */
    wipe();
    CHECK_EQ(flash_ring_open(&r, &io), 0);
    for (uint64_t s = 1; s <= 30; s++) {
        body_for(s, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    for (uint32_t i = 0; i < SECTOR; i++) mem[1 * SECTOR + i] = (uint8_t)(i * 37 + 1);
    CHECK_EQ(flash_ring_open(&r2, &io), 0);
    CHECK_EQ(drain(&r2, &first, &last), 22);
    CHECK_EQ(r2.stats.corrupt, 8);
    CHECK(last == 30);

    /* A region full of foreign data (first boot after flashing): formatted, nothing counted. */
    for (uint32_t i = 0; i < sizeof mem; i++) mem[i] = (uint8_t)(i * 13 + 5);
    CHECK_EQ(flash_ring_open(&r, &io), 0);
    CHECK_EQ(r.formatted, 1);
    CHECK_EQ(r.pending, 0);
    CHECK_EQ(r.stats.corrupt, 0);
    body_for(1, b);
    CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    CHECK_EQ(flash_ring_open(&r2, &io), 0);
    CHECK_EQ(drain(&r2, 0, 0), 1);

    /* Failing reads: open says so. */
    fail_reads = 1;
    CHECK_EQ(flash_ring_open(&r, &io), -1);
    fail_reads = 0;
}

static void test_crc() {
    /* The standard check value of CRC-32/ISO-HDLC. */
    CHECK(flash_crc32((const uint8_t *)"123456789", 9) == 0xcbf43926u);
}

int main() {
    test_crc();
    test_geometry();
    test_wrap_around();
    test_full_ring();
    test_power_cut_every_offset();
    test_cut_erase_and_corrupt_sector();
    return check_summary("test_flash_ring");
}
