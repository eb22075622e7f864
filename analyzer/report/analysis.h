/*
 * analysis.h - one whole analysis of a firmware, as `flashsize analyze`
 * runs it: the ELF, its regions (--ld / --board / inferred), the report, and
 * the optional parts (frozen modules, ROM use, map file, ROMFS image) that
 * add their findings to the same report, and the largest retained sizes of
 * the reference graph when the caller hands in the function that computes
 * them (opts.retained = fs_retained_for_analysis from refgraph.h).
 *
 * Every command that turns an ELF into an analysis (analyze, record, diff,
 * check, the server's ELF upload) goes through fs_analysis_run, so an ELF
 * analyzed anywhere gives the same document, findings included.
 *
 * Ownership: fs_analysis owns everything it holds; release it with
 * fs_analysis_free (also after a failed run).
 */
#ifndef FS_ANALYSIS_H
#define FS_ANALYSIS_H

#include <jansson.h>

#include "accounting.h"
#include "analyze.h"
#include "board.h"
#include "esp32app.h"
#include "frozen.h"
#include "mapfile.h"
#include "model.h"
#include "output.h"
#include "owners.h"
#include "retained.h"
#include "romfs.h"
#include "romsyms.h"
#include "romuse.h"

typedef struct fs_analysis_opts {
    const char *elf;                 /* path of the firmware ELF */
    const void *elf_data;            /* or its bytes (then elf names it in messages) */
    size_t elf_len;
    const char *rules_dir;           /* NULL: fs_rules_dir() */
    const char *board;               /* --board NAME or path, or NULL */
    const char *ld;                  /* --ld script, or NULL */
    const char *const *search_dirs;  /* -L */
    size_t nsearch_dirs;
    const fs_ldsym *defsyms;         /* --defsym */
    size_t ndefsyms;
    const char *map;                 /* --map, or NULL: firmware.map beside the ELF when there is one */
    const char *romfs;               /* --romfs image, or NULL */
    const char *rom;                 /* --rom table, or NULL for the chip's own */
    const char *partitions;          /* --partitions: ESP-IDF partition table (CSV or binary), or NULL:
                                        partition_table/partition-table.bin beside the ELF when there is one */
    const char *app_image;           /* --app-image: the ESP32 app .bin, or NULL: NAME.bin beside NAME.elf
                                        when the table was found or given, else computed from the ELF */
    const char *app_partition;       /* --app-partition NAME, or NULL: the smallest factory/ota_N */
    double headroom_pct;             /* 0: the board's or 90 */
    fs_retained_fn retained;         /* computes the retained part, or NULL for none */
    bool literals;                   /* give literal pools to the functions that load them (a decode of
                                        every function: analyze --literals) */
} fs_analysis_opts;

typedef struct fs_analysis {
    fs_image img;
    fs_board board;
    fs_memmap ld;
    fs_report rep;
    fs_frozen frozen;
    fs_romtable romtable;
    fs_romuse romuse;
    fs_mapfile map;
    fs_romfs romfs;
    fs_romfs_occupancy romfs_occ;
    fs_retained retained;            /* largest retained sizes (refgraph.h) */
    fs_owner_rules owner_rules;      /* rules/owners/archives.txt */
    fs_owners owners;                /* who fills each region (with a map) */
    char *map_path;                  /* the map read: --map or the one beside the ELF */
    fs_accounting accounting;        /* every byte of each section */
    fs_esp32app esp32app;            /* the ESP32 app image against its partition table */
    bool has_board, has_report, has_frozen, has_romtable, has_romuse, has_map, has_romfs, has_retained, has_owners, has_accounting, has_esp32app;
    char *rules_dir;
    const uint8_t *data;             /* the ELF file's bytes (mapped, or the caller's elf_data) */
    size_t len;
    bool mapped;                     /* data is fs_map_file's */
} fs_analysis;

/* Run the whole analysis.  Returns 0, or -1 with err naming the file and
 * the problem (bad input). */
int fs_analysis_run(const fs_analysis_opts *o, fs_analysis *a, fs_error *err);
void fs_analysis_free(fs_analysis *a);

/* Output options that include every part the analysis has; top as given. */
fs_output_opts fs_analysis_output_opts(const fs_analysis *a, size_t top);

/* The JSON document (schema flashsize-analysis) of the whole analysis, all
 * symbols included; NULL on out of memory. */
json_t *fs_analysis_json(const fs_analysis *a);

#endif
