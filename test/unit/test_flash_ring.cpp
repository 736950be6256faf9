/* Unit tests for lib/store/flash_ring: wrap-around, a power cut at every byte offset of a
   record, corrupt records and sectors, a full ring, and the boot scan finding its place again.
   The flash is simulated as NOR: erase sets 0xff, a write can only clear bits, and a "power cut"
   stops a write after a given number of bytes. */
#include <stdlib.h>

#include "check.h"
#include "flash_ring.h"

static const uint32_t SECTOR = 256; /* 16-byte header + 12 records: small, so wrap-around is quick */
static const uint32_t PER = 12;
static const uint32_t SECTORS = 5;
static uint8_t mem[SECTOR * SECTORS];
static long cut_after = -1; /* bytes still written before the "power cut"; -1: none */
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
static const uint16_t LAYOUT = 0x1234; /* the caller's record layout (node_record_layout on the node) */

/* A body as the app packs it: seq (8), values (8), epoch ms (6; 0: no clock), 2 zero bytes. */
static void body_at(uint64_t seq, uint64_t epoch_ms, uint8_t b[FLASH_BODY_SIZE]) {
    memset(b, 0, FLASH_BODY_SIZE);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(seq >> (8 * i));
    for (uint32_t i = 8; i < 16; i++) b[i] = (uint8_t)(seq * 7 + i);
    for (int i = 0; i < 6; i++) b[16 + i] = (uint8_t)(epoch_ms >> (8 * i));
}
static uint64_t epoch_of(uint64_t seq) { return 1700000000000ull + (seq & 0xffffffffu) * 2000u + (seq >> 32) * 7u; }
static void body_for(uint64_t seq, uint8_t b[FLASH_BODY_SIZE]) { body_at(seq, epoch_of(seq), b); }
/* Where slot `slot` of the test region starts in mem. */
static uint32_t rec_addr(uint32_t slot) {
    return (slot / PER) * SECTOR + FLASH_HEADER_SIZE + (slot % PER) * FLASH_RECORD_SIZE;
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
    CHECK_EQ(flash_ring_open(&r, &bad, LAYOUT), -1);
    bad = io;
    bad.sector_size = 30;
    CHECK_EQ(flash_ring_open(&r, &bad, LAYOUT), -1);
    CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
    CHECK_EQ(r.per_sector, PER);
    CHECK_EQ(flash_ring_capacity(&r), 4 * PER);
    CHECK_EQ(r.pending, 0);
    uint8_t b[FLASH_BODY_SIZE];
    CHECK_EQ(flash_ring_peek(&r, b, 0), 0);
}

/* Write, read back after a "reboot", in order; then many times round the ring. */
static void test_wrap_around() {
    wipe();
    flash_ring r;
    CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
    uint8_t b[FLASH_BODY_SIZE];
    uint64_t seq = 0;
    for (int i = 0; i < 20; i++) {
        body_for(++seq, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    flash_ring r2; /* reboot */
    CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
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
        CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
        CHECK_EQ(r2.pending, 13);
        CHECK_EQ(drain(&r2, &first, &last), 13);
        CHECK(first == expect && last == expect + 12);
        expect += 13;
        CHECK_EQ(r2.stats.dropped, 0);
    }
    /* Delivered records are not delivered again after a reboot. */
    CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
    CHECK_EQ(r2.pending, 0);
    CHECK_EQ(drain(&r2, 0, 0), 0);
}

/* Full ring: the oldest are dropped and counted, new ones always go in, order is kept. */
static void test_full_ring() {
    wipe();
    flash_ring r;
    CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
    uint8_t b[FLASH_BODY_SIZE];
    const uint32_t n = 150; /* capacity 48 */
    for (uint64_t s = 1; s <= n; s++) {
        body_for(s, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    uint32_t held = r.pending;
    CHECK(held <= flash_ring_capacity(&r));
    CHECK(held >= flash_ring_capacity(&r) - PER);
    CHECK_EQ(r.stats.dropped + held, n);
    flash_ring r2;
    CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
    CHECK_EQ(r2.pending, held);
    uint64_t first = 0, last = 0;
    CHECK_EQ(drain(&r2, &first, &last), held);
    CHECK(last == n);
    CHECK(first == n - held + 1); /* exactly the newest survive */
    /* Full while some are in flight (read, not yet released): a later release of an erased
       record does not touch the new data in its place. */
    wipe();
    CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
    body_for(1, b);
    uint32_t slot1 = 0;
    CHECK_EQ(flash_ring_append(&r, b, &slot1), 0);
    uint32_t s;
    CHECK_EQ(flash_ring_peek(&r, b, &s), 1);
    flash_ring_advance(&r);
    for (uint64_t q = 2; q <= 80; q++) {
        body_for(q, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    CHECK_EQ(flash_ring_release(&r, slot1, 1), 0); /* seq 1's sector was erased and reused */
    CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
    CHECK_EQ(drain(&r2, &first, &last), r.pending);
    CHECK(last == 80);
}

/* A power cut after every possible number of bytes of a record write (0..20; for the first
   record of a sector, of its 16-byte header write too): after the reboot every earlier record is
   there, the cut one is either complete or skipped (counted as corrupt when it is left in a
   sector that stays in use), and new records go on after it. */
static void test_power_cut_every_offset() {
    for (int where = 0; where < 3; where++) {
        /* Mid-sector; the last record of a sector; the first of a sector (header + record). */
        const uint32_t before = where == 0 ? 5 : where == 1 ? 2 * PER - 1 : 2 * PER;
        const long hdr = where == 2 ? (long)FLASH_HEADER_SIZE : 0;
        const long total = hdr + (long)FLASH_RECORD_SIZE;
        for (long cut = 0; cut <= total; cut++) {
            wipe();
            flash_ring r;
            CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
            uint8_t b[FLASH_BODY_SIZE];
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
            CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
            bool complete = cut >= total;
            uint64_t first = 0, last = 0;
            uint32_t got = drain(&r2, &first, &last);
            CHECK_EQ(got, before - 3 + (complete ? 1 : 0));
            CHECK(first == 4);
            CHECK(last == (complete ? before + 1 : before));
            /* A cut that left no record byte is no corrupt record. A partial first record of a
               sector holds the head at that sector's start: the sector is erased again (the
               reading being written is the one lost, as allowed). Elsewhere it is counted. */
            CHECK_EQ(r2.stats.corrupt, (!complete && cut > hdr && where != 2) ? 1 : 0);
            /* Writing goes on after it, and a second reboot finds all of that. */
            for (uint64_t s = before + 2; s <= before + 12; s++) {
                body_for(s, b);
                CHECK_EQ(flash_ring_append(&r2, b, 0), 0);
            }
            flash_ring r3;
            CHECK_EQ(flash_ring_open(&r3, &io, LAYOUT), 0);
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
        CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
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
        CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
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
    CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
    uint8_t b[FLASH_BODY_SIZE];
    for (uint64_t s = 1; s <= 12; s++) {
        body_for(s, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    /* head is in sector 1; sector 2 was erased ahead. Make it half-erased garbage. */
    for (uint32_t i = 0; i < SECTOR; i += 3) mem[2 * SECTOR + i] = 0x5a;
    flash_ring r2;
    CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
    CHECK_EQ(r2.stats.corrupt, 0);
    uint64_t first = 0, last = 0;
    CHECK_EQ(drain(&r2, &first, &last), 12);
    CHECK(first == 1 && last == 12);
    for (uint32_t i = 0; i < SECTOR; i++) CHECK(mem[2 * SECTOR + i] == 0xff);

    /* Bit rot in stored records: each bad one is skipped and counted once, never returned. */
    wipe();
    CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
    for (uint64_t s = 1; s <= 20; s++) {
        body_for(s, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    mem[rec_addr(4) + 10] ^= 0x01;  /* seq 5: a value bit */
    mem[rec_addr(9) + 18] ^= 0x80;  /* seq 10: CRC byte */
    mem[rec_addr(14) + 0] ^= 0x10;  /* seq 15: seq byte */
    mem[rec_addr(16) + 17] ^= 0x01; /* seq 17: boot byte */
    CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
    uint32_t n = 0, slot;
    while (flash_ring_peek(&r2, b, &slot)) {
        uint64_t seq = flash_body_seq(b);
        CHECK(seq != 5 && seq != 10 && seq != 15 && seq != 17);
        flash_ring_advance(&r2);
        flash_ring_release(&r2, slot, seq);
        n++;
    }
    CHECK_EQ(n, 16);
    CHECK_EQ(r2.stats.corrupt, 4);
    flash_ring r3;
    CHECK_EQ(flash_ring_open(&r3, &io, LAYOUT), 0);
    CHECK_EQ(drain(&r3, 0, 0), 0);
    CHECK_EQ(r3.stats.corrupt, 0); /* counted once, not again on the next boot */

    /* A whole sector of garbage in the middle of the data (a bad sector). */
    wipe();
    CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
    for (uint64_t s = 1; s <= 30; s++) {
        body_for(s, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    for (uint32_t i = 0; i < SECTOR; i++) mem[1 * SECTOR + i] = (uint8_t)(i * 37 + 1);
    CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
    CHECK_EQ(drain(&r2, &first, &last), 30 - PER);
    CHECK_EQ(r2.stats.corrupt, PER);
    CHECK(last == 30);

    /* A corrupt sector header (bit rot): its records cannot be decoded and are counted. */
    wipe();
    CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
    for (uint64_t s = 1; s <= 30; s++) {
        body_for(s, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    mem[0 * SECTOR + 2] ^= 0x04; /* sector 0's boot */
    CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
    CHECK_EQ(drain(&r2, &first, &last), 30 - PER);
    CHECK_EQ(r2.stats.corrupt, PER);
    CHECK(first == PER + 1 && last == 30);
    /* ... and the head's sector header: the ring goes on in the next sector. */
    wipe();
    CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
    for (uint64_t s = 1; s <= 5; s++) {
        body_for(s, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    mem[0 * SECTOR + 12] ^= 0x01; /* header CRC */
    CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
    for (uint64_t s = 6; s <= 9; s++) {
        body_for(s, b);
        CHECK_EQ(flash_ring_append(&r2, b, 0), 0);
    }
    CHECK_EQ(flash_ring_open(&r3, &io, LAYOUT), 0);
    CHECK_EQ(drain(&r3, &first, &last), 4);
    CHECK(first == 6 && last == 9);

    /* A region full of foreign data (first boot after flashing): formatted, nothing counted. */
    for (uint32_t i = 0; i < sizeof mem; i++) mem[i] = (uint8_t)(i * 13 + 5);
    CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
    CHECK_EQ(r.formatted, 1);
    CHECK_EQ(r.pending, 0);
    CHECK_EQ(r.stats.corrupt, 0);
    body_for(1, b);
    CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
    CHECK_EQ(drain(&r2, 0, 0), 1);

    /* Failing reads: open says so. */
    fail_reads = 1;
    CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), -1);
    fail_reads = 0;
}

static void test_crc() {
    /* The standard check values of CRC-32/ISO-HDLC and CRC-16/CCITT-FALSE. */
    CHECK(flash_crc32((const uint8_t *)"123456789", 9) == 0xcbf43926u);
    CHECK(flash_crc16((const uint8_t *)"123456789", 9) == 0x29b1u);
}

/* What the sector header shares: boots and clocks. Readings of several boots share a sector
   (up to 255 boots apart), readings without a clock take none, and a boot or clock jump that the
   header cannot express starts the next sector. Every body comes back exactly. */
static void test_boots_and_clocks() {
    wipe();
    flash_ring r;
    CHECK_EQ(flash_ring_open(&r, &io, LAYOUT), 0);
    uint64_t seqs[40], epochs[40];
    uint32_t n = 0;
    const uint64_t B = 1ull << 32;
    const uint64_t t0 = 1700000000000ull;
    /* boot 1: 3 readings; boot 2 (same sector): 2 without a clock, then 2 with; boot 300 (too far:
       new sector); boot 301, its clock 1 h behind the sector's (new sector); 60 days later (new
       sector); the clock back at 0 for a while. */
    struct {
        uint64_t seq, epoch;
    } in[] = {
        {1 * B + 1, t0},
        {1 * B + 2, t0 + 2000},
        {1 * B + 3, t0 + 4000},
        {2 * B + 1, 0},
        {2 * B + 2, 0},
        {2 * B + 3, t0 + 60000},
        {2 * B + 4, t0 + 62000},
        {300 * B + 1, t0 + 100000},
        {300 * B + 2, t0 + 102000},
        {301 * B + 1, t0 + 100000 - 3600000},
        {301 * B + 2, t0 - 3500000},
        {301 * B + 3, t0 + 60ull * 86400000},
        {301 * B + 4, 0},
        {301 * B + 5, t0 + 60ull * 86400000 + 9},
    };
    for (auto &x : in) {
        uint8_t b[FLASH_BODY_SIZE];
        body_at(x.seq, x.epoch, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
        seqs[n] = x.seq;
        epochs[n++] = x.epoch;
    }
    /* 14 readings in 12-record sectors: boot 300 starts sector 1, the clock 1 h back sector 2, 60
       days on sector 3 (sector 4 is erased ahead, so the ring holds them all). */
    CHECK_EQ(r.head, 3 * PER + 3);
    flash_ring r2;
    CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
    CHECK_EQ(r2.pending, n);
    CHECK(r2.last_seq == 301 * B + 5);
    uint8_t b[FLASH_BODY_SIZE];
    uint32_t slot, i = 0;
    while (flash_ring_peek(&r2, b, &slot)) {
        uint8_t want[FLASH_BODY_SIZE];
        body_at(seqs[i], epochs[i], want);
        CHECK(i < n && memcmp(b, want, FLASH_BODY_SIZE) == 0);
        flash_ring_advance(&r2);
        i++;
    }
    CHECK_EQ(i, n);
    /* Appending after the reboot continues in the head's sector with its header. */
    body_at(301 * B + 6, t0 + 60ull * 86400000 + 2000, b);
    CHECK_EQ(flash_ring_append(&r2, b, 0), 0);
    CHECK_EQ(r2.head, 3 * PER + 4);
}

/* The real geometry: the NodeMCU's 1000 KB FS region (250 sectors of 4 KB) holds 24 h of readings
   at the default 2 s interval, across reboots, and gives every one back. */
static uint8_t big[250 * 4096];
static int b_read(void *, uint32_t addr, void *buf, uint32_t len) {
    if (addr + len > sizeof big) return -1;
    memcpy(buf, big + addr, len);
    return 0;
}
static int b_write(void *, uint32_t addr, const void *buf, uint32_t len) {
    if (addr % 4 || len % 4 || addr + len > sizeof big) return -1;
    for (uint32_t i = 0; i < len; i++) big[addr + i] &= ((const uint8_t *)buf)[i];
    return 0;
}
static int b_erase(void *, uint32_t sector) {
    if (sector >= 250) return -1;
    memset(big + sector * 4096, 0xff, 4096);
    return 0;
}
static void test_24_hours_in_the_nodemcu_region() {
    memset(big, 0xff, sizeof big);
    flash_io bio = {0, 4096, 250, b_read, b_write, b_erase};
    flash_ring r;
    CHECK_EQ(flash_ring_open(&r, &bio, LAYOUT), 0);
    CHECK_EQ(r.per_sector, 204);
    CHECK_EQ(flash_ring_capacity(&r), 249 * 204); /* 50,796 readings = 28.2 h at 2 s */
    const uint32_t day = 24 * 3600 / 2;
    uint8_t b[FLASH_BODY_SIZE];
    uint64_t seq = 0;
    for (uint32_t k = 0; k < day; k++) {
        if (k % 5000 == 0) seq = ((seq >> 32) + 1) << 32; /* a reboot now and then */
        seq++;
        body_at(seq, 1700000000000ull + (uint64_t)k * 2000u, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    CHECK_EQ(r.stats.dropped, 0);
    flash_ring r2;
    CHECK_EQ(flash_ring_open(&r2, &bio, LAYOUT), 0);
    CHECK_EQ(r2.pending, day);
    uint32_t got = 0, slot;
    uint64_t prev = 0;
    while (flash_ring_peek(&r2, b, &slot)) {
        CHECK(flash_body_seq(b) > prev);
        prev = flash_body_seq(b);
        flash_ring_advance(&r2);
        got++;
    }
    CHECK_EQ(got, day);
    CHECK(prev == seq);
}

/* A firmware that packs its values another way (another layout) must never read an older
   firmware's records as its own: their sectors are erased at open and the undelivered ones
   counted as dropped; the legacy "RG" sectors are another layout too. */
static void test_other_layout() {
    wipe();
    flash_ring r, r2, r3;
    uint8_t b[FLASH_BODY_SIZE];
    CHECK_EQ(flash_ring_open(&r, &io, FLASH_LAYOUT_LEGACY), 0);
    for (uint64_t seq = 1; seq <= 20; seq++) {
        body_for(seq, b);
        CHECK_EQ(flash_ring_append(&r, b, 0), 0);
    }
    /* Three delivered (peeked, then released), seventeen still waiting. */
    for (int i = 0; i < 3; i++) {
        uint32_t slot;
        CHECK_EQ(flash_ring_peek(&r, b, &slot), 1);
        flash_ring_advance(&r);
        CHECK_EQ(flash_ring_release(&r, slot, (uint64_t)(i + 1)), 1);
    }
    CHECK_EQ(flash_ring_open(&r2, &io, LAYOUT), 0);
    CHECK_EQ(r2.relayout, 17);
    CHECK_EQ(r2.stats.dropped, 17);
    CHECK_EQ(r2.pending, 0);
    CHECK_EQ(r2.stats.corrupt, 0);
    for (uint32_t i = 0; i < sizeof mem; i++) CHECK_EQ(mem[i], 0xff); /* nothing of the old layout left */
    /* The new layout's records are its own, and the next open finds nothing to drop. */
    body_for(((uint64_t)2 << 32) | 1, b);
    CHECK_EQ(flash_ring_append(&r2, b, 0), 0);
    CHECK_EQ(flash_ring_open(&r3, &io, LAYOUT), 0);
    CHECK_EQ(r3.relayout, 0);
    CHECK_EQ(r3.pending, 1);
    /* And going back to the old layout (a downgrade) drops this one the same way. */
    CHECK_EQ(flash_ring_open(&r, &io, FLASH_LAYOUT_LEGACY), 0);
    CHECK_EQ(r.relayout, 1);
    CHECK_EQ(r.pending, 0);
}

int main() {
    test_crc();
    test_geometry();
    test_wrap_around();
    test_full_ring();
    test_power_cut_every_offset();
    test_cut_erase_and_corrupt_sector();
    test_boots_and_clocks();
    test_24_hours_in_the_nodemcu_region();
    test_other_layout();
    return check_summary("test_flash_ring");
}
