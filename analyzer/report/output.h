/*
 * output.h - formatters for an analysis report: text table, JSON, CSV.
 * They only format: every number comes from the report.
 */
#ifndef FS_OUTPUT_H
#define FS_OUTPUT_H

#include <stdio.h>

#include "analyze.h"

/* Version of the JSON document written by fs_output_json (docs/json-schema.md). */
#define FS_JSON_SCHEMA_VERSION 1

struct fs_mapfile;
struct fs_romfs;
struct fs_romfs_occupancy;
struct fs_frozen;
struct fs_romuse;
struct fs_retained;
struct fs_owners;
struct fs_accounting;
struct fs_esp32app;

typedef struct fs_output_opts {
    size_t top;          /* symbols to list: text default 20; JSON/CSV 0 = all sized symbols */
    /* Optional parts of the same analysis, borrowed; NULL when absent. */
    const struct fs_frozen *frozen;           /* frozen modules (ELF has frozen content) */
    const struct fs_romuse *romuse;           /* ROM functions used and copied (a ROM table is known) */
    const struct fs_mapfile *map;             /* --map */
    const struct fs_romfs *romfs;             /* --romfs, with its occupancy */
    const struct fs_romfs_occupancy *romfs_occ;
    const struct fs_retained *retained;       /* largest retained sizes (refgraph.h) */
    const struct fs_owners *owners;           /* who fills each region (owners.h), with a map */
    const struct fs_accounting *accounting;   /* every byte of each section (accounting.h) */
    const struct fs_esp32app *esp32app;       /* ESP32 app image vs partition table (esp32app.h) */
} fs_output_opts;

int fs_output_text(FILE *out, const fs_report *rep, const fs_output_opts *o);
int fs_output_json(FILE *out, const fs_report *rep, const fs_output_opts *o);
/* The document fs_output_json writes, as a jansson value (the caller owns
 * the reference); NULL when out of memory. */
struct json_t *fs_report_json(const fs_report *rep, const fs_output_opts *o);
int fs_output_csv(FILE *out, const fs_report *rep, const fs_output_opts *o);

/* Shared helpers for the formatters. */
const char *fs_section_type_name(uint32_t type);
const char *fs_symbol_type_name(uint8_t type);
const char *fs_symbol_bind_name(uint8_t bind);
/* "WAX"-style flag letters, as readelf prints them. */
void fs_section_flags(uint64_t flags, char *buf, size_t len);
/* Region percent used, 0 for an empty region. */
double fs_region_percent(const fs_region *r);
/* One-word verdict: "ok", "warnings", "fail". */
const char *fs_report_verdict(const fs_report *rep);
/* For ESP8266 images: will it boot (no error among the boot-blocking findings)? */
bool fs_report_boots(const fs_report *rep);

#endif
