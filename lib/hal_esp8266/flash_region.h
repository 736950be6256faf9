/*
 * flash_region.h - the flash_io of the NodeMCU: the reading ring lives in the region the linker
 * script gives the file system (_FS_start.._FS_end). The node has no file system (no LittleFS or
 * SPIFFS object is built: NO_GLOBAL_LITTLEFS / NO_GLOBAL_SPIFFS in platformio.ini), and OTA images
 * go below _FS_start (the core's Updater ends its free space there), so nothing else writes it.
 * Do not run `pio run -t uploadfs`: it would overwrite the ring.
 *
 * platformio.ini selects eagle.flash.4m2m.ld: 2024 KB of region = 506 sectors = 64,640 readings,
 * 35.9 h at the default 2 s interval (eagle.flash.4m1m.ld would give 1000 KB: 17.7 h).
 */
#ifndef FLASH_REGION_H
#define FLASH_REGION_H

#include "flash_ring.h"

/* Fills `io` for the region; returns the number of sectors (0: the layout has no region). */
uint32_t flash_region_init(flash_io *io);

#endif
