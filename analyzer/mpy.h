/*
 * mpy.h - MicroPython .mpy files (format version 6; facts doc section 2,
 * py/persistentcode.h).  The header reader is shared by the ROMFS walker
 * (to report .mpy files inside an image) and the natmod analysis.
 */
#ifndef FS_MPY_H
#define FS_MPY_H

#include "model.h"

#define FS_MPY_MAGIC 'M'

typedef struct fs_mpy_header {
    uint8_t version;        /* major version, 6 for v1.19 and later */
    uint8_t sub_version;    /* feature byte bits 1..0 */
    uint8_t arch;           /* MP_NATIVE_ARCH_*, 0 for bytecode only */
    uint8_t small_int_bits; /* byte 3 */
    bool has_arch_flags;    /* feature bit 6: an arch-flags vuint follows */
    uint64_t arch_flags;
    size_t header_len;      /* 4, or more with the arch-flags vuint */
} fs_mpy_header;

/* Parse the header at data[0..len); name is used in messages. */
int fs_mpy_read_header(const char *name, const uint8_t *data, size_t len, fs_mpy_header *out, fs_error *err);

/* "xtensa", "armv7m", ... or "unknown" for codes outside the table. */
const char *fs_mpy_arch_name(uint8_t arch);

/* Read a .mpy vuint (MSB-first groups of 7 bits) at *pos, advancing it.
 * Fails on a truncated or over-long (more than 64 bits) value. */
int fs_mpy_read_vuint(const uint8_t *data, size_t len, size_t *pos, uint64_t *out);

#endif
