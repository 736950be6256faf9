/*
 * flash_file.h - the native node's "flash": a file (STATE_DIR/<id>.ring) with the same layout
 * as the ESP8266's flash region, behind the same flash_io (lib/store/flash_ring.h).
 *
 * It behaves like NOR flash: erase writes 0xff over a sector, a write can only clear bits (new
 * bytes are ANDed with the old), and bytes past the end of the file read as erased, so a file
 * cut short (a test, a full disk) is a ring whose tail was never written. No fsync: a killed
 * process keeps what it wrote (the page cache); the tests model power cuts by cutting the file.
 */
#ifndef FLASH_FILE_H
#define FLASH_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "flash_ring.h"

#define FLASH_FILE_SECTOR_SIZE 4096u /* the ESP8266's, and the largest a file may use */

struct flash_file {
    flash_io io;
    int fd;
};

/* Open or create `path` for `sectors` sectors of `sector_size` bytes (a multiple of 4, at most
   FLASH_FILE_SECTOR_SIZE; tests use small ones to fill a ring in seconds). NULL, or one line in
   err naming what failed. */
const char *flash_file_open(flash_file *f, const char *path, uint32_t sectors, uint32_t sector_size, char *err,
                            size_t cap);

#endif
