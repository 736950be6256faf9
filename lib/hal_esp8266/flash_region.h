/*
 * flash_region.h - the flash_io of the NodeMCU: the reading ring lives in the region the linker
 * script gives the file system (_FS_start.._FS_end). The node has no file system (no LittleFS or
 * SPIFFS object is built: NO_GLOBAL_LITTLEFS / NO_GLOBAL_SPIFFS in platformio.ini), and OTA images
 * go below _FS_start (the core's Updater ends its free space there), so nothing else writes it.
 * Do not run `pio run -t uploadfs`: it would overwrite the ring.
 *
 * The board's layout, eagle.flash.4m1m.ld (platformio.ini, and the kit CI links with), gives 1000 KB
 * = 250 sectors = 31,872 readings, 17.7 h at the default 2 s interval: short of the 24 h issue 10
 * asks for (eagle.flash.4m2m.ld would give 2024 KB, 35.9 h, but the kit has no such script; the open
 * options are smaller records or a project linker script, see docs/reading-store.md).
 */
#ifndef FLASH_REGION_H
#define FLASH_REGION_H

#include "flash_ring.h"

/* Fills `io` for the region; returns the number of sectors (0: the layout has no region). */
uint32_t flash_region_init(flash_io *io);

#endif
