/*
 * flash_ring.h - a ring of fixed-size reading records in NOR flash, that survives power cuts.
 *
 * The app's reading (the body, 24 bytes in RAM): seq (8, little-endian: boot << 32 | n), values
 * (8, opaque to the ring), epoch ms (6; 0: clock not set), 2 zero bytes. In flash it takes 20
 * bytes, so that a 4 KB sector holds 204 readings (24 h at 2 s fit the NodeMCU's 1000 KB FS
 * region): what every record of a sector shares is in the sector's header.
 *   sector = header (16) + 204 records (20 each); 4096 = 16 + 204 * 20
 *   header = boot (4) + base epoch ms (6) + layout (2) + CRC-32 of those 12 bytes (4)
 *   record = n (4) + ms since the base epoch (4; 0xffffffff: clock not set) + values (8)
 *            + done byte (1) + boot - header boot (1) + CRC-16 of the other 18 bytes (2)
 * The header is written with the sector's first record. A record whose boot is more than 255
 * above the header's, or whose time is before the base or 49 days after it, starts the next
 * sector (the rest of this one stays blank).
 *
 * A slot is blank (all 0xff, erased), valid (CRC matches, done byte 0xff: still to deliver),
 * done (done byte cleared after the broker acknowledged it) or corrupt (anything else: a write
 * cut short by a power cut, a bad sector). Flash bits only go 1 -> 0 between erases, so "done"
 * rewrites the record's last word with only the done byte cleared, and needs no erase.
 *
 * Writes go in seq order, so after a boot the record with the highest seq is the last one
 * written: the write position (head) is the slot after it, past any half-written slot. The
 * sector after the head's is always kept erased ("erased ahead"), so a write never waits for an
 * erase of data it still needs; when the ring is full, entering a sector erases the next one,
 * and its undelivered records are dropped and counted (the oldest go first, new readings are
 * never blocked). A corrupt record is skipped, counted, and marked done so it is counted once.
 *
 * The layout (the caller's: which values the 8 value bytes hold, and how) is in every header, so a
 * firmware that packs its values another way never reads an older firmware's records as its own:
 * open() erases sectors of another layout, and counts their undelivered records as dropped.
 * FLASH_LAYOUT_LEGACY is what the first firmware wrote there (the magic "RG"); a caller never uses it.
 *
 * Portable core: no heap, no platform headers; the flash itself is behind flash_io (the HAL).
 */
#ifndef FLASH_RING_H
#define FLASH_RING_H

#include <stddef.h>
#include <stdint.h>

#include "flash_io.h"

#define FLASH_RECORD_SIZE   20u
#define FLASH_HEADER_SIZE   16u
#define FLASH_BODY_SIZE     24u
#define FLASH_LAYOUT_LEGACY 0x4752u /* "RG", little-endian: the records before layouts were named */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct flash_ring_stats {
    uint32_t written;   /* records appended since open */
    uint32_t dropped;   /* undelivered records erased because the ring was full */
    uint32_t corrupt;   /* corrupt records skipped (never delivered) */
    uint32_t io_errors; /* read/write/erase calls that failed */
    uint32_t erases;    /* sectors erased since open */
} flash_ring_stats;

typedef struct flash_ring {
    flash_io io;
    uint32_t per_sector; /* records per sector */
    uint32_t slots;      /* records in the region */
    uint32_t head;       /* next slot to write */
    uint32_t cursor;     /* next slot to read (oldest not yet handed out) */
    uint32_t pending;    /* valid records from cursor to head: still to hand out */
    uint64_t last_seq;   /* seq of the newest record (0: none) */
    uint16_t layout;     /* what the value bytes mean (open()'s argument) */
    uint8_t formatted;   /* open() found no record at all but foreign data, and erased it */
    uint32_t relayout;   /* undelivered records of another layout open() erased (also in stats.dropped) */
    flash_ring_stats stats;
} flash_ring;

/* Scan the region and find head and cursor; sectors written with another `layout` are erased
   first. 0, or -1 for a bad geometry or failing flash. */
int flash_ring_open(flash_ring *r, const flash_io *io, uint16_t layout);
/* Append one record (its seq must be above every seq written before). *slot (may be NULL)
   gets where it went. 0, or -1 when the flash failed (the reading is then lost: counted). */
int flash_ring_append(flash_ring *r, const uint8_t body[FLASH_BODY_SIZE], uint32_t *slot);
/* The oldest record not yet handed out: 1 and body/slot, or 0 when there is none. Corrupt
   records on the way are skipped and counted. Does not move past it: see flash_ring_advance. */
int flash_ring_peek(flash_ring *r, uint8_t body[FLASH_BODY_SIZE], uint32_t *slot);
/* Move past the record flash_ring_peek returned (it is now in flight). */
void flash_ring_advance(flash_ring *r);
/* The record at `slot` was delivered: mark it done, if it still holds `seq` (its sector may
   have been erased meanwhile). 1 marked, 0 not there any more, -1 flash failure. */
int flash_ring_release(flash_ring *r, uint32_t slot, uint64_t seq);
/* Records the ring holds at most (one sector is always kept erased). */
uint32_t flash_ring_capacity(const flash_ring *r);

/* CRC-32 (IEEE 802.3, the zlib one), bitwise: no 1 KB table in RAM. */
uint32_t flash_crc32(const uint8_t *p, size_t n);
/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xffff), bitwise. */
uint16_t flash_crc16(const uint8_t *p, size_t n);
uint64_t flash_body_seq(const uint8_t body[FLASH_BODY_SIZE]);

#ifdef __cplusplus
}
#endif

#endif
