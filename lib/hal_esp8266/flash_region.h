/*
 * flash_region.h - the flash_io of the NodeMCU: the reading ring lives in the region the linker
 * script gives the file system (_FS_start.._FS_end). The node has no file system (no LittleFS or
 * SPIFFS object is built: NO_GLOBAL_LITTLEFS / NO_GLOBAL_SPIFFS in platformio.ini), and OTA images
 * go below _FS_start (the core's Updater ends its free space there), so nothing else writes it.
 * Do not run `pio run -t uploadfs`: it would overwrite the ring.
 *
 * The board's layout, eagle.flash.4m1m.ld (platformio.ini, and the kit CI links with), gives 1000 KB
 * = 250 sectors of 204 20-byte records, one kept erased: 50,796 readings, 28.2 h at the default 2 s
 * interval (issue 10 asks for 24 h; test_flash_ring checks it with this geometry).
 */
#ifndef FLASH_REGION_H
#define FLASH_REGION_H

#include "flash_ring.h"

/* Fills `io` for the region; returns the number of sectors (0: the layout has no region). */
uint32_t flash_region_init(flash_io *io);

#endif
