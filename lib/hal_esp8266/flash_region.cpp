/* flash_region.cpp - see flash_region.h. */
#include "flash_region.h"

#include <Arduino.h>
#include <flash_hal.h>

namespace {

/* Byte offsets of the region in the flash chip (flash_hal.h turns the linker symbols into them). */
uint32_t region_start() { return FS_PHYS_ADDR; }
uint32_t region_end() { return FS_PHYS_ADDR + FS_PHYS_SIZE; }

/* The ring passes 4-byte aligned buffers and lengths (flash_ring.cpp), as the SDK requires. */
int fr_read(void *, uint32_t addr, void *buf, uint32_t len) {
    return ESP.flashRead(region_start() + addr, (uint32_t *)buf, len) ? 0 : -1;
}
int fr_write(void *, uint32_t addr, const void *buf, uint32_t len) {
    return ESP.flashWrite(region_start() + addr, (const uint32_t *)buf, len) ? 0 : -1;
}
int fr_erase(void *, uint32_t sector) {
    return ESP.flashEraseSector(region_start() / FLASH_SECTOR_SIZE + sector) ? 0 : -1;
}

} // namespace

uint32_t flash_region_init(flash_io *io) {
    uint32_t start = region_start(), end = region_end();
    uint32_t sectors = end > start ? (end - start) / FLASH_SECTOR_SIZE : 0;
    io->ctx = 0;
    io->sector_size = FLASH_SECTOR_SIZE;
    io->sector_count = sectors;
    io->read = fr_read;
    io->write = fr_write;
    io->erase = fr_erase;
    return sectors;
}
