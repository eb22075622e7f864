/*
 * romfs.h - MicroPython ROMFS images (vfs.VfsRom): reader, walker and
 * partition occupancy.
 *
 * The format (facts doc 4.1): every piece of the image is a record made of
 * a kind varint, a length varint and that many payload bytes.  The image is
 * one record of kind 0x14A6B1 (the bytes D2 CD 31) whose payload holds the
 * top-level records.  Kind 1 is padding, 2 verbatim data, 3 indirect data
 * (size and offset into the filesystem payload), 4 a directory and 5 a file
 * (name length, name, nested records; the first data record is the content).
 * Kind 0 means corruption; other kinds are skipped.
 *
 * The walker accounts for every byte of the image in exactly one bucket, so
 *
 *   header + data + overhead + padding + skipped + vuint_pad == image_size
 *
 * always holds for a successfully read image (fs_romfs_parse checks it):
 *   header     the magic and the payload-length varint (3 + 1..n bytes)
 *   data       content bytes of files stored verbatim in their own record
 *   overhead   the structure of files and directories: kind and length
 *              varints of file, directory and data records, the name length
 *              varint and the name, whole indirect records, and any extra
 *              records nested inside a file after its content (metadata)
 *   padding    whole kind-1 records, wherever they are
 *   skipped    whole records VfsRom ignores: unknown kinds, and data records
 *              that are not inside a file
 *   vuint_pad  leading 0x80 bytes of the varints counted under overhead
 *              (mpremote adds one to make a record's total size even)
 * Bytes after the filesystem record are not part of the image; they are
 * counted as trailing bytes (0xFF erased flash or 0x00 write padding is
 * normal, anything else is reported).
 *
 * Ownership: fs_romfs owns its path and entries (fs_romfs_free); the image
 * bytes are not kept after the walk.  Errors follow model.h: "FILE: problem"
 * in fs_error, -1 returned, nothing printed.
 */
#ifndef FS_ROMFS_H
#define FS_ROMFS_H

#include <jansson.h>
#include <stdio.h>

#include "analyze.h"
#include "board.h"
#include "model.h"
#include "mpy.h"

/* Limits: inputs beyond these are rejected with a clear error. */
#define FS_ROMFS_MAX_IMAGE_BYTES (64ull << 20) /* file size */
#define FS_ROMFS_MAX_DEPTH       64u           /* directories inside directories */
#define FS_ROMFS_MAX_RECORDS     1000000u      /* records of any kind */

#define FS_ROMFS_KIND_FILESYSTEM 0x14A6B1u     /* encodes as D2 CD 31 */
#define FS_ROMFS_JSON_SCHEMA_VERSION 1         /* "flashsize-romfs", docs/romfs.md */

typedef enum { FS_ROMFS_FILE = 0, FS_ROMFS_DIR = 1 } fs_romfs_type;

typedef struct fs_romfs_entry {
    char *path;             /* "/lib/b.dat"; bytes outside printable ASCII as \xHH */
    fs_romfs_type type;
    unsigned depth;         /* 0 for entries at the top level */
    uint64_t offset;        /* image offset of the file or directory record */
    uint64_t record_size;   /* its whole size, kind varint to end of payload */
    /* files only: */
    uint64_t size;          /* content bytes (0 for a file with no data record) */
    uint64_t data_offset;   /* image offset of the content */
    bool has_data;          /* a data record was found */
    bool indirect;          /* the content comes from an indirect (kind 3) record */
    uint64_t stored;        /* content bytes inside this record: size, or 0 if indirect */
    uint64_t overhead;      /* see the header comment; for directories the
                               kind/len varints, name length varint and name */
    bool is_mpy;            /* content starts with a .mpy header */
    fs_mpy_header mpy;
} fs_romfs_entry;

typedef struct fs_romfs {
    char *path;
    uint64_t file_size;     /* bytes in the file */
    uint64_t image_size;    /* 3 + length varint + payload */
    uint64_t payload_size;  /* L, what `mpremote romfs query` prints */
    uint64_t header, data, overhead, padding, skipped, vuint_pad;
    uint64_t trailing, trailing_ff, trailing_00, trailing_other;
    size_t nfiles, ndirs, npadding, nskipped, nrecords;
    bool odd_size;          /* image_size is odd (mpremote pads it to even) */
    fs_romfs_entry *entries; size_t nentries; /* depth-first, in image order */
} fs_romfs;

/* Read and walk the image at path (out is overwritten).  On failure out is
 * left empty and err names the file and the problem. */
int fs_romfs_load(const char *path, fs_romfs *out, fs_error *err);
/* The same from memory; name is used in messages.  data is borrowed for the
 * duration of the call only. */
int fs_romfs_parse(const char *name, const uint8_t *data, size_t len, fs_romfs *out, fs_error *err);
void fs_romfs_free(fs_romfs *r);

/* ---- occupancy: the image against its partition ------------------------ */

typedef enum {
    FS_ROMFS_PART_NONE = 0,  /* no partition known: no free-space findings */
    FS_ROMFS_PART_OPTION,    /* --partition-size */
    FS_ROMFS_PART_FIRMWARE,  /* the ELF's _micropy_hw_romfs_part0_start/_size */
    FS_ROMFS_PART_BOARD      /* the board file's [romfs] */
} fs_romfs_part_source;

typedef struct fs_romfs_occupancy {
    fs_romfs_part_source source;
    bool has_start;
    uint64_t start, size;   /* partition address (memory-mapped) and bytes */
    uint64_t free;          /* size - image_size, 0 when over */
    uint64_t over;          /* image_size - size, 0 when it fits */
    double percent;         /* image_size * 100 / size */
    double headroom_pct;    /* threshold used for romfs-headroom */
    bool esp8266;           /* the 1 MiB window check applies */
    /* which .mpy native archs the firmware loads: [arch_lo, arch_hi] */
    bool arch_known;
    uint8_t arch_lo, arch_hi;
    const char *arch_from;  /* static string: how it was decided */
    /* the firmware and the board disagree about the partition */
    bool mismatch;
    uint64_t other_start, other_size;
} fs_romfs_occupancy;

/* Work out the partition and the firmware's .mpy arch.  Any of firmware and
 * board may be NULL; partition_size 0 = not given; headroom 0 = the board's
 * or 90.  Size precedence: partition_size, firmware, board. */
int fs_romfs_occupancy_compute(const fs_romfs *img, const fs_image *firmware, const fs_board *board,
                               uint64_t partition_size, double headroom, fs_romfs_occupancy *occ,
                               fs_error *err);

/* Append the ROMFS findings to rep: romfs-full (error), romfs-headroom
 * (warning), romfs-unmapped (error, ESP8266), romfs-arch-mismatch (error),
 * romfs-odd-size (warning), romfs-trailing-data (warning),
 * romfs-partition-mismatch (warning). */
int fs_romfs_findings(const fs_romfs *img, const fs_romfs_occupancy *occ, fs_report *rep, fs_error *err);

/* Both of the above: the one call `analyze --romfs` needs.  occ may be NULL
 * when the caller does not want the numbers. */
int fs_romfs_analyze(const fs_romfs *img, const fs_image *firmware, const fs_board *board,
                     uint64_t partition_size, double headroom, fs_romfs_occupancy *occ, fs_report *rep,
                     fs_error *err);

/* ---- output ------------------------------------------------------------ */

/* The "romfs" JSON object (image, totals, entries, partition); the caller
 * owns the reference.  NULL on out-of-memory. */
json_t *fs_romfs_json(const fs_romfs *img, const fs_romfs_occupancy *occ);
/* The whole `flashsize romfs --format json` document (schema
 * "flashsize-romfs"), with rep's findings.  0/-1. */
int fs_romfs_output_json(FILE *out, const fs_romfs *img, const fs_romfs_occupancy *occ, const fs_report *rep);
/* The text report: tree, totals, partition, then rep's findings and a
 * verdict; with rep NULL the findings section is left out (for embedding in
 * another report that lists its own findings).  0/-1. */
int fs_romfs_output_text(FILE *out, const fs_romfs *img, const fs_romfs_occupancy *occ, const fs_report *rep);

const char *fs_romfs_part_source_name(fs_romfs_part_source s);

#endif
