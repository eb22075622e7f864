/*
 * esppart.h - ESP-IDF partition tables (ESP32 family): the CSV a project
 * writes (MicroPython's ports/esp32/partitions-*.csv) and the binary table
 * the build flashes at 0x8000 (build/partition_table/partition-table.bin).
 *
 * Format facts from ESP-IDF's components/partition_table/gen_esp32part.py
 * (v5.x): see docs/esp32.md for the summary this reader follows.
 *   CSV    one partition per line: name, type, subtype, offset, size, flags;
 *          '#' lines and blank lines are skipped; missing trailing fields
 *          are empty; numbers as Python's int(x, 0) reads them (0x.., 0o..,
 *          0b.., decimal) with an optional k/K (x1024) or m/M (x1048576)
 *          suffix; an empty offset follows the previous partition's end
 *          (the first: the end of the table, offset + 0x1000), aligned to
 *          64 KiB for app partitions and 4 KiB for the others; a negative
 *          size -E means "up to address E".
 *   binary 32-byte entries: magic AA 50, type, subtype, offset (LE32), size
 *          (LE32), name (16 bytes, NUL padded), flags (LE32); an entry
 *          starting EB EB holds the MD5 of the entries before it (bytes
 *          16..31); 32 bytes of FF end the table; entries fit in 0xC00 bytes.
 * Checks (gen_esp32part.py's verify): offsets aligned (app 0x10000, others
 * 0x1000), app sizes multiples of 0x1000, no partition below the end of the
 * table, no overlap, unique names, at most one otadata (size 0x2000), and,
 * when the flash size is known, nothing past its end.
 *
 * Errors follow model.h: "FILE:LINE: problem" (CSV) or "FILE: entry N:
 * problem" (binary, N from 1), -1 returned, nothing printed.
 */
#ifndef FS_ESPPART_H
#define FS_ESPPART_H

#include "model.h"

#define FS_ESPPART_MAX_CSV_BYTES   (1u << 20)
#define FS_ESPPART_MAX_BIN_BYTES   0x1000u   /* the flash sector holding the table */
#define FS_ESPPART_MAX_TABLE_BYTES 0xC00u    /* entries + MD5 entry (gen_esp32part.py MAX_PARTITION_LENGTH) */
#define FS_ESPPART_MAX_ENTRIES     (FS_ESPPART_MAX_TABLE_BYTES / 32u) /* 32-byte slots in the table */
#define FS_ESPPART_MAX_PARTITIONS  94u  /* + the MD5 entry + the end marker within 0xC00 */
#define FS_ESPPART_TABLE_OFFSET    0x8000u   /* CONFIG_PARTITION_TABLE_OFFSET default */
#define FS_ESPPART_TABLE_SIZE      0x1000u
#define FS_ESPPART_NAME_MAX        16u

#define FS_ESPPART_TYPE_APP  0x00u
#define FS_ESPPART_TYPE_DATA 0x01u
#define FS_ESPPART_SUBTYPE_FACTORY 0x00u
#define FS_ESPPART_SUBTYPE_OTA_0   0x10u     /* ota_0 .. ota_15: 0x10 .. 0x1F */
#define FS_ESPPART_SUBTYPE_TEST    0x20u

typedef struct fs_esppart_entry {
    char name[FS_ESPPART_NAME_MAX + 1]; /* bytes outside printable ASCII are refused */
    uint8_t type, subtype;
    uint32_t offset, size;
    uint32_t flags;       /* bit 0 encrypted, bit 1 readonly */
    unsigned line;        /* CSV line, or binary entry number (from 1) */
} fs_esppart_entry;

typedef struct fs_esppart {
    char *path;
    bool binary;          /* read from the binary table */
    bool has_md5;         /* binary: an MD5 entry was present (and matched) */
    fs_esppart_entry *entries; size_t nentries; /* in table order */
} fs_esppart;

/* Read a table, CSV or binary (binary when the file starts AA 50 or EB EB),
 * and verify it.  flash_size 0: not known (no end-of-flash check). */
int fs_esppart_load(const char *path, uint64_t flash_size, fs_esppart *out, fs_error *err);
/* The same from bytes; name is used in messages. */
int fs_esppart_parse(const char *name, const uint8_t *data, size_t len, uint64_t flash_size, fs_esppart *out,
                     fs_error *err);
void fs_esppart_free(fs_esppart *t);

/* Is the entry an app partition an application image is written to
 * (factory or ota_N)? */
bool fs_esppart_is_app_slot(const fs_esppart_entry *e);
/* "app"/"data"/NULL, and the subtype's name ("factory", "ota_3", "nvs"...) or
 * NULL when it has none. */
const char *fs_esppart_type_name(uint8_t type);
const char *fs_esppart_subtype_name(uint8_t type, uint8_t subtype, char *buf, size_t len);

#endif
