/*
 * esp32app.h - an ESP32 application image against the app partitions of
 * its partition table: the check ESP-IDF's build runs after every link
 * (components/partition_table/check_sizes.py, what `idf.py build`/`idf.py
 * size` users see as "micropython.bin binary size 0x... bytes. Smallest app
 * partition is 0x... bytes").
 *
 * The image size comes from the app image file when one is given (the ESP
 * image format: 24-byte header (magic 0xE9, segment count, SPI mode and
 * size/frequency, entry, then the 16-byte extended header whose last byte
 * says whether a SHA-256 digest follows), segments (8-byte header: load
 * address, length; then the data), zero padding to a 16-byte boundary
 * ending with the checksum byte, then the 32-byte digest), else it is
 * computed from the ELF the way esptool's elf2image writes the image
 * (facts from esptool's esptool/bin_image.py and esptool/cmds.py, no code):
 *   - ELF sections of type PROGBITS, INIT_ARRAY, FINI_ARRAY, PREINIT_ARRAY
 *     with a non-zero address and size, in section header order, each
 *     padded to 4 bytes;
 *   - adjacent sections merged when one ends where the next starts and both
 *     start in the same memory types of the chip's memory map;
 *   - flash-mapped segments (IROM 0x400D0000-0x40400000, DROM
 *     0x3F400000-0x3F800000) sorted by address, each placed so that its
 *     data's file offset is congruent to its address modulo 64 KiB: the gap
 *     before it filled with the start of the first RAM segment (split off)
 *     when the gap is larger than a segment header, else a zero padding
 *     segment; on the ESP32 a flash segment ending less than 0x24 bytes
 *     past a 64 KiB boundary is padded up to 0x24 past it;
 *   - the remaining RAM segments, then the checksum padding and the digest.
 */
#ifndef FS_ESP32APP_H
#define FS_ESP32APP_H

#include <jansson.h>
#include <stdio.h>

#include "analyze.h"
#include "esppart.h"
#include "model.h"

#define FS_ESP32_IMAGE_MAGIC     0xE9u
#define FS_ESP32_IMAGE_HEADER    24u       /* common 8 + extended 16 */
#define FS_ESP32_SEG_HEADER      8u
#define FS_ESP32_IROM_ALIGN      0x10000u  /* MMU page: 64 KiB on the ESP32 */
#define FS_ESP32_MAX_ELF_SEGMENTS 16u      /* esptool refuses more (after merging) */
#define FS_ESP32_MAX_IMAGE_BYTES (64ull << 20)
#define FS_ESP32_HEADROOM_PCT    5.0       /* check_sizes.py: "nearly full" below 5% free */

typedef enum { FS_ESP32_SIZE_IMAGE = 0, FS_ESP32_SIZE_ELF = 1 } fs_esp32_size_source;

typedef struct fs_esp32_image {
    fs_esp32_size_source source;
    char *path;              /* the image file, or the ELF */
    uint64_t size;           /* what check_sizes.py compares: the .bin's size */
    uint64_t content_size;   /* header through checksum (and digest): the image proper */
    unsigned segments;       /* segments in the image, padding segments included */
    unsigned flash_segments; /* IROM/DROM segments */
    uint64_t padding;        /* bytes of padding segments and the 0x24 quirk */
    bool digest;             /* a SHA-256 digest is appended */
    bool digest_ok;          /* image file: the digest matches */
    bool checksum_ok;        /* image file: the checksum byte matches */
    uint64_t flash_size;     /* the image header's flash size (0: not known / from the ELF); informative */
} fs_esp32_image;

typedef struct fs_esp32app {
    fs_esppart table;
    fs_esp32_image image;
    const fs_esppart_entry *target;  /* the smallest partition the app must fit (into table) */
    size_t ntargets;                 /* partitions it must fit: factory + ota_N, or the one named */
    bool named;                      /* --app-partition chose the target */
    int64_t free;                    /* target size - image size (negative: over) */
    double free_pct;
} fs_esp32app;

/* The image size esptool's elf2image would write for img (ESP32, default
 * options: SHA-256 appended, no secure padding). */
int fs_esp32_image_from_elf(const fs_image *img, fs_esp32_image *out, fs_error *err);
/* Read an app image file and check its structure (header, segments,
 * checksum, digest); errors name the file and the offset. */
int fs_esp32_image_load(const char *path, fs_esp32_image *out, fs_error *err);
int fs_esp32_image_parse(const char *name, const uint8_t *data, size_t len, fs_esp32_image *out, fs_error *err);
void fs_esp32_image_free(fs_esp32_image *im);

/* Put it together: the table (path), the image (image_path, else the
 * ELF), the target partition (app_partition, else every factory/ota_N
 * partition, the smallest counts).  flash_size 0: not known, not checked
 * (the image header's flash size is only reported: esptool writes 1MB
 * there unless told otherwise). */
int fs_esp32app_run(const char *table_path, const char *image_path, const char *app_partition, const fs_image *elf,
                    uint64_t flash_size, fs_esp32app *out, fs_error *err);
void fs_esp32app_free(fs_esp32app *a);
/* The part of fs_esp32app_run after reading: with a->table and a->image
 * filled, choose the target partition and compute the free space. */
int fs_esp32app_check(fs_esp32app *a, const char *app_partition, fs_error *err);

/* app-partition-overflow (error), app-partition-headroom (warning). */
int fs_esp32app_findings(const fs_esp32app *a, fs_report *rep);
int fs_esp32app_print_text(FILE *out, const fs_esp32app *a);
json_t *fs_esp32app_json(const fs_esp32app *a);

#endif
