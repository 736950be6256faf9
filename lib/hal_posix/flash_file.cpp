/* flash_file.cpp - see flash_file.h. */
#include "flash_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

int ff_read(void *ctx, uint32_t addr, void *buf, uint32_t len) {
    flash_file *f = (flash_file *)ctx;
    memset(buf, 0xff, len); /* past the end of the file: erased */
    ssize_t n = pread(f->fd, buf, len, addr);
    if (n < 0) return -1;
    if ((uint32_t)n < len) memset((uint8_t *)buf + n, 0xff, len - (uint32_t)n);
    return 0;
}

/* A write past the end of the file would leave a hole, and a hole reads as zeros: that is
   "written" in flash terms. Fill up to `off` with 0xff (erased) first. */
int fill_to(flash_file *f, off_t off) {
    struct stat st;
    if (fstat(f->fd, &st) != 0) return -1;
    uint8_t ff[FLASH_FILE_SECTOR_SIZE];
    memset(ff, 0xff, sizeof ff);
    for (off_t at = st.st_size; at < off;) {
        size_t n = (size_t)(off - at) < sizeof ff ? (size_t)(off - at) : sizeof ff;
        if (pwrite(f->fd, ff, n, at) != (ssize_t)n) return -1;
        at += (off_t)n;
    }
    return 0;
}

int ff_write(void *ctx, uint32_t addr, const void *buf, uint32_t len) {
    flash_file *f = (flash_file *)ctx;
    if (addr % 4 || len % 4 || len > 64) return -1; /* the ring writes records, done words */
    if (fill_to(f, addr) != 0) return -1;
    uint8_t cur[64];
    if (ff_read(ctx, addr, cur, len) != 0) return -1;
    for (uint32_t i = 0; i < len; i++) cur[i] &= ((const uint8_t *)buf)[i]; /* NOR: 1 -> 0 only */
    return pwrite(f->fd, cur, len, addr) == (ssize_t)len ? 0 : -1;
}

int ff_erase(void *ctx, uint32_t sector) {
    flash_file *f = (flash_file *)ctx;
    uint8_t ff[FLASH_FILE_SECTOR_SIZE];
    const uint32_t size = f->io.sector_size;
    memset(ff, 0xff, size);
    off_t at = (off_t)sector * size;
    if (fill_to(f, at) != 0) return -1;
    return pwrite(f->fd, ff, size, at) == (ssize_t)size ? 0 : -1;
}

} // namespace

const char *flash_file_open(flash_file *f, const char *path, uint32_t sectors, uint32_t sector_size, char *err,
                            size_t cap) {
    memset(f, 0, sizeof *f);
    if (sector_size % 4 || sector_size > FLASH_FILE_SECTOR_SIZE) {
        snprintf(err, cap, "flash ring file %s: sector size %u is not a multiple of 4 up to %u", path,
                 (unsigned)sector_size, (unsigned)FLASH_FILE_SECTOR_SIZE);
        return err;
    }
    f->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (f->fd < 0) {
        snprintf(err, cap, "flash ring file %s: %s", path, strerror(errno));
        return err;
    }
    f->io.ctx = f;
    f->io.sector_size = sector_size;
    f->io.sector_count = sectors;
    f->io.read = ff_read;
    f->io.write = ff_write;
    f->io.erase = ff_erase;
    return 0;
}
