/*
 * frozen.h - frozen Python modules inside a MicroPython firmware ELF: what
 * each module costs in flash, what the modules share, and what is left.
 *
 * Ideas (facts from MicroPython's freezer, docs/frozen.md):
 *   - The freezer writes frozen_content.c: a qstr pool shared by all
 *     modules, then per module a tree of C objects (frozen_module_M ->
 *     qstr table, constant table, raw codes -> bytecode, children,
 *     constant objects), then the names list and the module pointer table.
 *   - The exact method walks that tree through the section bytes, from
 *     mp_frozen_mpy_content, so every byte is charged to the module that
 *     reaches it; qstrs used by one module only are charged to it, the
 *     rest of the pool is a shared row.
 *   - When the walk is impossible (no section bytes, missing symbols, an
 *     unknown layout) the symbol names alone are used, and the result says
 *     so (method "names").
 *   - "Frozen content" = every symbol the freezer emits (the 7 global
 *     tables and the local frozen_module_/const_qstr_table_data_/
 *     const_obj_table_data_/const_obj_/proto_fun_/raw_code_/fun_data_/
 *     children_/const_table_data_ objects) + anonymous objects the walk
 *     reaches (string data, mpz digits, qstr strings).  Invariant:
 *     Σ module bytes + Σ shared rows + unattributed == total, exactly.
 *
 * Ownership: fs_frozen owns its arrays and strings; free with
 * fs_frozen_free().  The image passed in is borrowed for the call only.
 */
#ifndef FS_FROZEN_H
#define FS_FROZEN_H

#include <stdio.h>

#include <jansson.h>

#include "jemit.h"
#include "analyze.h"
#include "model.h"

/* Version of the JSON document fs_frozen_json writes (docs/frozen.md). */
#define FS_FROZEN_SCHEMA_VERSION 1

typedef enum { FS_FROZEN_WALK = 0, FS_FROZEN_NAMES = 1 } fs_frozen_method;

typedef struct fs_frozen_module {
    char *name;          /* import path ("pkg/__init__.py"); in names mode
                            without readable names: the C name */
    char *cname;         /* escaped C name (frozen_module_<cname>), NULL for str */
    bool is_str;
    uint64_t bytes;      /* everything below, summed */
    uint64_t code;       /* fun_data_* (bytecode or machine code) */
    uint64_t raw_code;   /* proto_fun_* / raw_code_* structs, children_* arrays */
    uint64_t tables;     /* frozen_module_*, const_qstr_table_data_*, const_obj_table_data_* */
    uint64_t objects;    /* const_obj_* and the data they point at */
    uint64_t data;       /* of objects: the bytes of its str/bytes constants' data */
    uint64_t qstrs;      /* pool entries only this module uses (pointer, hash, length, string) */
    uint64_t entries;    /* its mp_frozen_names entry, mp_frozen_mpy_content pointer / str size word */
    uint64_t source;     /* str modules: source text + NUL */
    uint64_t iram;       /* of these bytes, those in ESP8266 IRAM (.text) */
    size_t qstrs_owned, qstrs_shared;
} fs_frozen_module;

typedef struct fs_frozen_part {
    const char *name;    /* static: "mp_qstr_frozen_const_pool", "qstr-strings", ... */
    uint64_t bytes;
} fs_frozen_part;

#define FS_FROZEN_MAX_PARTS 8

typedef struct fs_frozen {
    bool present;              /* the firmware has frozen content */
    fs_frozen_method method;
    char note[512];            /* why the names fallback was used, or "" */
    const char *naming;        /* "proto_fun" (v1.23+), "raw_code" (v1.19-v1.22), or NULL */
    fs_frozen_module *modules; size_t nmodules;
    fs_frozen_part shared[FS_FROZEN_MAX_PARTS]; size_t nshared;
    uint64_t modules_bytes;    /* Σ modules[].bytes */
    uint64_t shared_bytes;     /* Σ shared[].bytes */
    uint64_t unattributed;     /* frozen symbols nothing reached (or, by name, no module matched) */
    size_t nunattributed;      /* how many symbols */
    uint64_t total;            /* frozen content, counted independently of the rows */
    size_t pool_qstrs, pool_owned, pool_shared; /* frozen qstr pool entries */
    size_t ambiguous;          /* names mode: symbols matching several modules */
    bool esp8266;
    uint64_t irom0_size;       /* .irom0.text size on ESP8266, else 0 */
    uint64_t iram;             /* frozen bytes in ESP8266 IRAM */
} fs_frozen;

/* Analyze img, whose file bytes are data[0..len) (borrowed for the call).
 * A firmware without frozen content gives present = false and returns 0;
 * -1 only for unusable input (err names the file and the problem). */
int fs_frozen_analyze(const fs_image *img, const uint8_t *data, size_t len, fs_frozen *out, fs_error *err);
/* The same, reading img->path. */
int fs_frozen_analyze_file(const fs_image *img, fs_frozen *out, fs_error *err);
void fs_frozen_free(fs_frozen *fz);

/* Percent of .irom0.text a module takes (0 when not an ESP8266 image). */
double fs_frozen_percent(const fs_frozen *fz, uint64_t bytes);

/* The JSON document (schema "flashsize-frozen"); NULL on out of memory. */
json_t *fs_frozen_json(const fs_frozen *fz, const char *path);
/* The same document told as events (jemit.h): fs_frozen_json builds it so;
 * `analyze --format json` streams it. */
void fs_frozen_emit(const fs_frozen *fz, const char *path, fs_jemit *e);
/* A text table; returns 0 or -1 on a write error. */
int fs_frozen_print_text(FILE *out, const fs_frozen *fz, const char *path);
/* Add the findings (frozen-in-iram, warning, per module) to rep. */
int fs_frozen_findings(const fs_frozen *fz, fs_report *rep);

/* A module whose bytes are mostly str/bytes constants (data >= half its
 * bytes and at least FS_FROZEN_DATA_MIN): an info finding
 * "frozen-data-module" saying where the data could live instead (the ROMFS
 * partition of rep's image or board, with its free space when romfs_free
 * is not UINT64_MAX; else the filesystem) and what moving it frees in
 * irom0 and in the 1 MiB window (ESP8266).  nums: bytes, data, irom0_freed,
 * window_freed, and romfs_size / romfs_free when known. */
#define FS_FROZEN_DATA_MIN 1024u
int fs_frozen_data_findings(const fs_frozen *fz, uint64_t romfs_free, fs_report *rep);

#endif
