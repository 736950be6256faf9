/*
 * flash_ring.cpp - see flash_ring.h.
 */
#include "flash_ring.h"

#include <string.h>

namespace {

enum slot_kind { SLOT_BLANK, SLOT_VALID, SLOT_DONE, SLOT_CORRUPT, SLOT_IO_ERROR };

const uint32_t DONE_OFFSET = FLASH_BODY_SIZE + 4;

uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint32_t sector_of(const flash_ring *r, uint32_t slot) { return slot / r->per_sector; }
uint32_t next_slot(const flash_ring *r, uint32_t slot) { return slot + 1 == r->slots ? 0 : slot + 1; }

/* rec: 32 bytes, 4-byte aligned (the ESP8266's flash API reads whole words). */
slot_kind read_slot(flash_ring *r, uint32_t slot, uint32_t rec[FLASH_RECORD_SIZE / 4]) {
    if (r->io.read(r->io.ctx, slot * FLASH_RECORD_SIZE, rec, FLASH_RECORD_SIZE) != 0) {
        r->stats.io_errors++;
        return SLOT_IO_ERROR;
    }
    const uint8_t *b = (const uint8_t *)rec;
    bool blank = true;
    for (uint32_t i = 0; i < FLASH_RECORD_SIZE; i++) {
        if (b[i] != 0xff) {
            blank = false;
            break;
        }
    }
    if (blank) return SLOT_BLANK;
    uint32_t done = get32(b + DONE_OFFSET);
    bool crc_ok = flash_crc32(b, FLASH_BODY_SIZE) == get32(b + FLASH_BODY_SIZE);
    /* Cleared (or half cleared by a power cut) after the ack: delivered. A cleared done word
       also marks a corrupt record that was already counted. */
    if (done == 0 || (crc_ok && done != 0xffffffffu)) return SLOT_DONE;
    return crc_ok ? SLOT_VALID : SLOT_CORRUPT;
}

bool sector_blank(flash_ring *r, uint32_t sector) {
    uint32_t rec[FLASH_RECORD_SIZE / 4];
    for (uint32_t i = 0; i < r->per_sector; i++) {
        if (read_slot(r, sector * r->per_sector + i, rec) != SLOT_BLANK) return false;
    }
    return true;
}

int erase_sector(flash_ring *r, uint32_t sector) {
    r->stats.erases++;
    if (r->io.erase(r->io.ctx, sector) != 0) {
        r->stats.io_errors++;
        return -1;
    }
    return 0;
}

int mark_done(flash_ring *r, uint32_t slot) {
    static const uint32_t zero = 0;
    if (r->io.write(r->io.ctx, slot * FLASH_RECORD_SIZE + DONE_OFFSET, &zero, 4) != 0) {
        r->stats.io_errors++;
        return -1;
    }
    return 0;
}

/* Make `sector` blank before the head reaches it. It is the oldest sector: records in it not
   yet handed out are dropped (counted). A cursor inside it moves to the next sector. */
int clear_sector(flash_ring *r, uint32_t sector) {
    if (sector_blank(r, sector)) return 0;
    uint32_t first = sector * r->per_sector;
    bool cursor_inside = sector_of(r, r->cursor) == sector && r->cursor != r->head;
    if (cursor_inside) {
        uint32_t rec[FLASH_RECORD_SIZE / 4];
        for (uint32_t s = r->cursor; s < first + r->per_sector; s++) {
            if (read_slot(r, s, rec) == SLOT_VALID) {
                r->stats.dropped++;
                if (r->pending) r->pending--;
            }
        }
        r->cursor = (first + r->per_sector) % r->slots;
    }
    return erase_sector(r, sector);
}

} // namespace

extern "C" {

uint32_t flash_crc32(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

uint64_t flash_body_seq(const uint8_t body[FLASH_BODY_SIZE]) {
    return (uint64_t)get32(body) | ((uint64_t)get32(body + 4) << 32);
}

uint32_t flash_ring_capacity(const flash_ring *r) { return r->slots - r->per_sector; }

int flash_ring_open(flash_ring *r, const flash_io *io) {
    memset(r, 0, sizeof *r);
    r->io = *io;
    if (io->sector_count < 3 || io->sector_size < FLASH_RECORD_SIZE || io->sector_size % FLASH_RECORD_SIZE)
        return -1;
    r->per_sector = io->sector_size / FLASH_RECORD_SIZE;
    r->slots = r->per_sector * io->sector_count;

    /* Pass 1: the newest record (highest seq) was the last one written. */
    uint32_t rec[FLASH_RECORD_SIZE / 4];
    bool found = false, foreign = false;
    uint32_t newest = 0;
    for (uint32_t s = 0; s < r->slots; s++) {
        slot_kind k = read_slot(r, s, rec);
        if (k == SLOT_IO_ERROR) return -1;
        if (k == SLOT_VALID || k == SLOT_DONE) {
            uint64_t seq = flash_body_seq((const uint8_t *)rec);
            if (k == SLOT_DONE && flash_crc32((const uint8_t *)rec, FLASH_BODY_SIZE) != get32((const uint8_t *)rec + FLASH_BODY_SIZE))
                continue; /* a counted corrupt record, or a done one that decayed: no seq to trust */
            if (!found || seq > r->last_seq) {
                found = true;
                r->last_seq = seq;
                newest = s;
            }
        } else if (k != SLOT_BLANK) {
            foreign = true;
        }
    }
    if (!found && foreign) {
        /* Not one record of ours, but not erased either: a region used before for something
           else (first boot after flashing). Erase what is not blank, once. */
        for (uint32_t sec = 0; sec < io->sector_count; sec++) {
            if (!sector_blank(r, sec) && erase_sector(r, sec) != 0) return -1;
        }
        r->formatted = 1;
    }
    r->head = found ? next_slot(r, newest) : 0;

    /* Past a write that was cut short: the rest of the head's sector must be blank. */
    if (r->head % r->per_sector != 0) {
        uint32_t end = (sector_of(r, r->head) + 1) * r->per_sector;
        uint32_t after_last = r->head;
        for (uint32_t s = r->head; s < end; s++) {
            if (read_slot(r, s, rec) != SLOT_BLANK) after_last = s + 1;
        }
        r->head = after_last % r->slots;
    }

    /* Pass 2, oldest first (the sector after the head's): the first record still to deliver. */
    uint32_t start = ((sector_of(r, r->head) + 1) % io->sector_count) * r->per_sector;
    bool have_cursor = false;
    r->cursor = r->head;
    for (uint32_t i = 0, s = start; i < r->slots && s != r->head; i++, s = next_slot(r, s)) {
        slot_kind k = read_slot(r, s, rec);
        if (k == SLOT_VALID) r->pending++;
        if ((k == SLOT_VALID || k == SLOT_CORRUPT) && !have_cursor) {
            have_cursor = true;
            r->cursor = s;
        }
    }

    /* At a sector start the head's sector must be blank (the erase ahead may have been cut
       short), and the next one is erased ahead. */
    if (r->head % r->per_sector == 0 && clear_sector(r, sector_of(r, r->head)) != 0) return -1;
    if (clear_sector(r, (sector_of(r, r->head) + 1) % io->sector_count) != 0) return -1;
    return 0;
}

int flash_ring_append(flash_ring *r, const uint8_t body[FLASH_BODY_SIZE], uint32_t *slot) {
    uint32_t rec[FLASH_RECORD_SIZE / 4];
    uint8_t *b = (uint8_t *)rec;
    memcpy(b, body, FLASH_BODY_SIZE);
    uint32_t crc = flash_crc32(b, FLASH_BODY_SIZE);
    b[FLASH_BODY_SIZE] = (uint8_t)crc;
    b[FLASH_BODY_SIZE + 1] = (uint8_t)(crc >> 8);
    b[FLASH_BODY_SIZE + 2] = (uint8_t)(crc >> 16);
    b[FLASH_BODY_SIZE + 3] = (uint8_t)(crc >> 24);
    uint32_t at = r->head;
    /* Body and CRC in one write; the done word stays erased. */
    int rc = r->io.write(r->io.ctx, at * FLASH_RECORD_SIZE, rec, FLASH_BODY_SIZE + 4);
    if (rc != 0) r->stats.io_errors++;
    r->head = next_slot(r, at);
    if (rc == 0) {
        r->stats.written++;
        r->pending++;
        r->last_seq = flash_body_seq(body);
        if (slot) *slot = at;
    } else {
        r->stats.dropped++;
    }
    if (r->head % r->per_sector == 0) {
        /* Entered the next sector (erased ahead before): erase the one after it now. */
        if (clear_sector(r, (sector_of(r, r->head) + 1) % r->io.sector_count) != 0) rc = -1;
    }
    return rc == 0 ? 0 : -1;
}

int flash_ring_peek(flash_ring *r, uint8_t body[FLASH_BODY_SIZE], uint32_t *slot) {
    uint32_t rec[FLASH_RECORD_SIZE / 4];
    while (r->cursor != r->head) {
        slot_kind k = read_slot(r, r->cursor, rec);
        if (k == SLOT_VALID) {
            memcpy(body, rec, FLASH_BODY_SIZE);
            if (slot) *slot = r->cursor;
            return 1;
        }
        if (k == SLOT_IO_ERROR) return 0;
        if (k == SLOT_CORRUPT) {
            /* Never published; marked done so the next boot does not count it again. */
            r->stats.corrupt++;
            mark_done(r, r->cursor);
        }
        r->cursor = next_slot(r, r->cursor);
    }
    r->pending = 0;
    return 0;
}

void flash_ring_advance(flash_ring *r) {
    if (r->cursor == r->head) return;
    r->cursor = next_slot(r, r->cursor);
    if (r->pending) r->pending--;
}

int flash_ring_release(flash_ring *r, uint32_t slot, uint64_t seq) {
    if (slot >= r->slots) return 0;
    uint32_t rec[FLASH_RECORD_SIZE / 4];
    slot_kind k = read_slot(r, slot, rec);
    if (k == SLOT_IO_ERROR) return -1;
    if (k != SLOT_VALID || flash_body_seq((const uint8_t *)rec) != seq) return 0;
    return mark_done(r, slot) == 0 ? 1 : -1;
}

} // extern "C"
