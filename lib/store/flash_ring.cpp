/*
 * flash_ring.cpp - see flash_ring.h.
 */
#include "flash_ring.h"

#include <string.h>

namespace {

enum slot_kind { SLOT_BLANK, SLOT_VALID, SLOT_DONE, SLOT_CORRUPT, SLOT_IO_ERROR };

/* Record layout (flash_ring.h). */
const uint32_t R_N = 0, R_TIME = 4, R_VALUES = 8, R_DONE = 16, R_BOOT = 17, R_CRC = 18;
const uint32_t LAST_WORD = 16;         /* done, boot delta, CRC: rewritten to mark done */
const uint32_t NO_CLOCK = 0xffffffffu; /* time field: the reading had no wall clock */
/* Body layout (flash_ring.h). */
const uint32_t B_VALUES = 8, B_EPOCH = 16;

uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
uint64_t get48(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 6; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
void put48(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 6; i++) p[i] = (uint8_t)(v >> (8 * i));
}
bool all_ff(const uint8_t *p, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        if (p[i] != 0xff) return false;
    }
    return true;
}

uint16_t crc16_update(uint16_t c, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        c = (uint16_t)(c ^ (p[i] << 8));
        for (int k = 0; k < 8; k++) c = (uint16_t)((c & 0x8000) ? (c << 1) ^ 0x1021 : c << 1);
    }
    return c;
}

/* A record's CRC-16 covers everything but the done byte and itself. */
uint16_t record_crc(const uint8_t *b) { return crc16_update(crc16_update(0xffff, b, R_DONE), b + R_BOOT, 1); }

/* A sector's header, decoded. */
struct header {
    bool blank; /* never written */
    bool valid; /* CRC and layout match */
    bool other; /* CRC matches, another layout: a sector of another firmware */
    uint32_t boot;
    uint64_t base; /* epoch ms; 0: clock not set */
};

uint32_t sector_of(const flash_ring *r, uint32_t slot) { return slot / r->per_sector; }
uint32_t next_slot(const flash_ring *r, uint32_t slot) { return slot + 1 == r->slots ? 0 : slot + 1; }
uint32_t slot_addr(const flash_ring *r, uint32_t slot) {
    return sector_of(r, slot) * r->io.sector_size + FLASH_HEADER_SIZE + (slot % r->per_sector) * FLASH_RECORD_SIZE;
}

/* -1: read error. */
int read_header(flash_ring *r, uint32_t sector, header *h) {
    uint32_t w[FLASH_HEADER_SIZE / 4];
    if (r->io.read(r->io.ctx, sector * r->io.sector_size, w, FLASH_HEADER_SIZE) != 0) {
        r->stats.io_errors++;
        return -1;
    }
    const uint8_t *b = (const uint8_t *)w;
    h->blank = all_ff(b, FLASH_HEADER_SIZE);
    bool crc_ok = !h->blank && flash_crc32(b, 12) == get32(b + 12);
    uint16_t layout = (uint16_t)(b[10] | (b[11] << 8));
    h->valid = crc_ok && layout == r->layout;
    h->other = crc_ok && layout != r->layout;
    h->boot = get32(b);
    h->base = get48(b + 4);
    return 0;
}

/* rec: 20 bytes, 4-byte aligned (the ESP8266's flash API reads whole words). The body is
   rebuilt from the record and its sector's header `h` when the record is valid or done. */
slot_kind read_slot(flash_ring *r, uint32_t slot, const header &h, uint32_t rec[FLASH_RECORD_SIZE / 4],
                    uint8_t body[FLASH_BODY_SIZE]) {
    if (r->io.read(r->io.ctx, slot_addr(r, slot), rec, FLASH_RECORD_SIZE) != 0) {
        r->stats.io_errors++;
        return SLOT_IO_ERROR;
    }
    const uint8_t *b = (const uint8_t *)rec;
    if (all_ff(b, FLASH_RECORD_SIZE)) return SLOT_BLANK;
    uint8_t done = b[R_DONE];
    bool crc_ok = h.valid && record_crc(b) == (uint16_t)(b[R_CRC] | (b[R_CRC + 1] << 8));
    if (crc_ok && body) {
        uint64_t seq = ((uint64_t)(h.boot + b[R_BOOT]) << 32) | get32(b + R_N);
        memset(body, 0, FLASH_BODY_SIZE);
        for (int i = 0; i < 8; i++) body[i] = (uint8_t)(seq >> (8 * i));
        memcpy(body + B_VALUES, b + R_VALUES, 8);
        uint32_t t = get32(b + R_TIME);
        put48(body + B_EPOCH, t == NO_CLOCK ? 0 : h.base + t);
    }
    /* Cleared (or half cleared by a power cut) after the ack: delivered. A cleared done byte
       also marks a corrupt record that was already counted. */
    if (done == 0 || (crc_ok && done != 0xff)) return SLOT_DONE;
    return crc_ok ? SLOT_VALID : SLOT_CORRUPT;
}

/* One slot with its own header read (peek and release go slot by slot). */
slot_kind read_one(flash_ring *r, uint32_t slot, uint32_t rec[FLASH_RECORD_SIZE / 4], uint8_t body[FLASH_BODY_SIZE]) {
    header h;
    if (read_header(r, sector_of(r, slot), &h) != 0) return SLOT_IO_ERROR;
    return read_slot(r, slot, h, rec, body);
}

bool sector_blank(flash_ring *r, uint32_t sector) {
    header h;
    if (read_header(r, sector, &h) != 0 || !h.blank) return false;
    uint32_t rec[FLASH_RECORD_SIZE / 4];
    for (uint32_t i = 0; i < r->per_sector; i++) {
        if (read_slot(r, sector * r->per_sector + i, h, rec, 0) != SLOT_BLANK) return false;
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

/* Clear the done byte: the record's last word again, with only that byte cleared. */
int mark_done(flash_ring *r, uint32_t slot, const uint32_t rec[FLASH_RECORD_SIZE / 4]) {
    uint32_t last = rec[LAST_WORD / 4];
    ((uint8_t *)&last)[0] = 0; /* byte R_DONE == LAST_WORD */
    if (r->io.write(r->io.ctx, slot_addr(r, slot) + LAST_WORD, &last, 4) != 0) {
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
        header h;
        bool ok = read_header(r, sector, &h) == 0;
        uint32_t rec[FLASH_RECORD_SIZE / 4];
        for (uint32_t s = r->cursor; ok && s < first + r->per_sector; s++) {
            if (read_slot(r, s, h, rec, 0) == SLOT_VALID) {
                r->stats.dropped++;
                if (r->pending) r->pending--;
            }
        }
        r->cursor = (first + r->per_sector) % r->slots;
    }
    return erase_sector(r, sector);
}

/* The head moved into a new sector (erased ahead before): erase the one after it now. */
int entered_sector(flash_ring *r) { return clear_sector(r, (sector_of(r, r->head) + 1) % r->io.sector_count); }

/* Can a reading with this seq and epoch go under header `h`? */
bool fits_header(const header &h, uint64_t seq, uint64_t epoch) {
    uint32_t boot = (uint32_t)(seq >> 32);
    if (!h.valid || boot < h.boot || boot - h.boot > 255u) return false;
    if (epoch == 0) return true;
    return h.base != 0 && epoch >= h.base && epoch - h.base < NO_CLOCK;
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

uint16_t flash_crc16(const uint8_t *p, size_t n) { return crc16_update(0xffff, p, n); }

uint64_t flash_body_seq(const uint8_t body[FLASH_BODY_SIZE]) {
    return (uint64_t)get32(body) | ((uint64_t)get32(body + 4) << 32);
}

uint32_t flash_ring_capacity(const flash_ring *r) { return r->slots - r->per_sector; }

int flash_ring_open(flash_ring *r, const flash_io *io, uint16_t layout) {
    memset(r, 0, sizeof *r);
    r->io = *io;
    r->layout = layout;
    if (io->sector_count < 3 || io->sector_size < FLASH_HEADER_SIZE + FLASH_RECORD_SIZE || io->sector_size % 4)
        return -1;
    r->per_sector = (io->sector_size - FLASH_HEADER_SIZE) / FLASH_RECORD_SIZE;
    r->slots = r->per_sector * io->sector_count;

    /* Pass 0: another firmware's records (another layout) cannot be read as ours: count the
       undelivered ones as dropped and erase their sectors. */
    for (uint32_t sec = 0; sec < io->sector_count; sec++) {
        header h;
        if (read_header(r, sec, &h) != 0) return -1;
        if (!h.other) continue;
        h.valid = true; /* the framing (CRC-16, done byte) is the same in every layout */
        uint32_t rec[FLASH_RECORD_SIZE / 4];
        for (uint32_t i = 0; i < r->per_sector; i++) {
            slot_kind k = read_slot(r, sec * r->per_sector + i, h, rec, 0);
            if (k == SLOT_IO_ERROR) return -1;
            if (k == SLOT_VALID) r->relayout++;
        }
        if (erase_sector(r, sec) != 0) return -1;
    }
    r->stats.dropped += r->relayout;

    /* Pass 1: the newest record (highest seq) was the last one written. */
    uint32_t rec[FLASH_RECORD_SIZE / 4];
    uint8_t body[FLASH_BODY_SIZE];
    bool found = false, foreign = false;
    uint32_t newest = 0;
    for (uint32_t sec = 0; sec < io->sector_count; sec++) {
        header h;
        if (read_header(r, sec, &h) != 0) return -1;
        if (!h.blank && !h.valid) foreign = true;
        for (uint32_t i = 0; i < r->per_sector; i++) {
            uint32_t s = sec * r->per_sector + i;
            memset(body, 0, sizeof body);
            slot_kind k = read_slot(r, s, h, rec, body);
            if (k == SLOT_IO_ERROR) return -1;
            if (k == SLOT_VALID || k == SLOT_DONE) {
                uint64_t seq = flash_body_seq(body);
                if (seq == 0) continue; /* a counted corrupt record, or a done one that decayed: no seq to trust */
                if (!found || seq > r->last_seq) {
                    found = true;
                    r->last_seq = seq;
                    newest = s;
                }
            } else if (k != SLOT_BLANK) {
                foreign = true;
            }
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
        header h;
        if (read_header(r, sector_of(r, r->head), &h) != 0) return -1;
        uint32_t end = (sector_of(r, r->head) + 1) * r->per_sector;
        uint32_t after_last = r->head;
        for (uint32_t s = r->head; s < end; s++) {
            if (read_slot(r, s, h, rec, 0) != SLOT_BLANK) after_last = s + 1;
        }
        r->head = after_last % r->slots;
        if (!h.valid) r->head = (end % r->slots); /* cannot add to a sector whose header is gone */
    }

    /* Pass 2, oldest first (the sector after the head's): the first record still to deliver. */
    uint32_t start = ((sector_of(r, r->head) + 1) % io->sector_count) * r->per_sector;
    bool have_cursor = false;
    r->cursor = r->head;
    header h;
    uint32_t h_sector = 0xffffffffu;
    for (uint32_t i = 0, s = start; i < r->slots && s != r->head; i++, s = next_slot(r, s)) {
        if (sector_of(r, s) != h_sector) {
            h_sector = sector_of(r, s);
            if (read_header(r, h_sector, &h) != 0) return -1;
        }
        slot_kind k = read_slot(r, s, h, rec, 0);
        if (k == SLOT_VALID) r->pending++;
        if ((k == SLOT_VALID || k == SLOT_CORRUPT) && !have_cursor) {
            have_cursor = true;
            r->cursor = s;
        }
    }

    /* At a sector start the head's sector must be blank (the erase ahead may have been cut
       short, or a header written without its record), and the next one is erased ahead. */
    if (r->head % r->per_sector == 0 && clear_sector(r, sector_of(r, r->head)) != 0) return -1;
    if (entered_sector(r) != 0) return -1;
    return 0;
}

int flash_ring_append(flash_ring *r, const uint8_t body[FLASH_BODY_SIZE], uint32_t *slot) {
    uint64_t seq = flash_body_seq(body);
    uint64_t epoch = get48(body + B_EPOCH);
    int rc = 0;
    /* The head sector's header: read again rather than kept, 16 B of RAM less (appends happen
       only while the broker is unreachable, one per reading). */
    header h;
    h.valid = false;
    h.boot = 0;
    h.base = 0;
    if (r->head % r->per_sector != 0 && read_header(r, sector_of(r, r->head), &h) != 0) rc = -1;
    if (r->head % r->per_sector != 0 && !fits_header(h, seq, epoch)) {
        /* Another boot far from the sector's, or a clock jump: this reading starts a sector. */
        r->head = (sector_of(r, r->head) + 1) % r->io.sector_count * r->per_sector;
        if (entered_sector(r) != 0) rc = -1;
    }
    uint32_t at = r->head;
    if (at % r->per_sector == 0) {
        uint32_t hw[FLASH_HEADER_SIZE / 4];
        uint8_t *hb = (uint8_t *)hw;
        put32(hb, (uint32_t)(seq >> 32));
        put48(hb + 4, epoch);
        hb[10] = (uint8_t)(r->layout & 0xff);
        hb[11] = (uint8_t)(r->layout >> 8);
        put32(hb + 12, flash_crc32(hb, 12));
        if (r->io.write(r->io.ctx, sector_of(r, at) * r->io.sector_size, hw, FLASH_HEADER_SIZE) != 0) {
            r->stats.io_errors++;
            rc = -1;
        }
        h.boot = (uint32_t)(seq >> 32);
        h.base = epoch;
    }
    uint32_t rec[FLASH_RECORD_SIZE / 4];
    uint8_t *b = (uint8_t *)rec;
    put32(b + R_N, (uint32_t)seq);
    put32(b + R_TIME, epoch == 0 ? NO_CLOCK : (uint32_t)(epoch - h.base));
    memcpy(b + R_VALUES, body + B_VALUES, 8);
    b[R_DONE] = 0xff;
    b[R_BOOT] = (uint8_t)((uint32_t)(seq >> 32) - h.boot);
    uint16_t crc = record_crc(b);
    b[R_CRC] = (uint8_t)crc;
    b[R_CRC + 1] = (uint8_t)(crc >> 8);
    /* The whole record in one write; the done byte stays erased. */
    if (rc == 0 && r->io.write(r->io.ctx, slot_addr(r, at), rec, FLASH_RECORD_SIZE) != 0) {
        r->stats.io_errors++;
        rc = -1;
    }
    r->head = next_slot(r, at);
    if (rc == 0) {
        r->stats.written++;
        r->pending++;
        r->last_seq = seq;
        if (slot) *slot = at;
    } else {
        r->stats.dropped++;
    }
    if (r->head % r->per_sector == 0 && entered_sector(r) != 0) rc = -1;
    return rc == 0 ? 0 : -1;
}

int flash_ring_peek(flash_ring *r, uint8_t body[FLASH_BODY_SIZE], uint32_t *slot) {
    uint32_t rec[FLASH_RECORD_SIZE / 4];
    while (r->cursor != r->head) {
        slot_kind k = read_one(r, r->cursor, rec, body);
        if (k == SLOT_VALID) {
            if (slot) *slot = r->cursor;
            return 1;
        }
        if (k == SLOT_IO_ERROR) return 0;
        if (k == SLOT_CORRUPT) {
            /* Never published; marked done so the next boot does not count it again. */
            r->stats.corrupt++;
            mark_done(r, r->cursor, rec);
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
    uint8_t body[FLASH_BODY_SIZE];
    slot_kind k = read_one(r, slot, rec, body);
    if (k == SLOT_IO_ERROR) return -1;
    if (k != SLOT_VALID || flash_body_seq(body) != seq) return 0;
    return mark_done(r, slot, rec) == 0 ? 1 : -1;
}

} // extern "C"
