/*
 * flash_io.h - the flash region the HAL lends the reading store (lib/store/flash_ring.h).
 */
#ifndef NODE_FLASH_IO_H
#define NODE_FLASH_IO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The flash, as the HAL gives it. Addresses are offsets into the region; writes are 4-byte
   aligned and a multiple of 4 bytes long (what the ESP8266's SPI flash API requires). Each
   function returns 0 on success. */
typedef struct flash_io {
    void *ctx;
    uint32_t sector_size;  /* bytes, 4096 on the ESP8266 (16 + 20 * n is best; the rest is unused) */
    uint32_t sector_count; /* at least 3 */
    int (*read)(void *ctx, uint32_t addr, void *buf, uint32_t len);
    int (*write)(void *ctx, uint32_t addr, const void *buf, uint32_t len);
    int (*erase)(void *ctx, uint32_t sector);
} flash_io;

#ifdef __cplusplus
}
#endif

#endif
