/*
 * mapfile.h - the GNU ld map file reader and its breakdown (docs/mapfile.md).
 *
 * A map file (ld -Map=FILE, optionally --cref) is the one record of a link
 * that survives when the link fails: ld still writes it, with every output
 * section, every input section and the object or archive member it came
 * from.  This module reads it into an fs_mapfile and derives:
 *
 *   - the memory regions of the "Memory Configuration" block, with "used"
 *     computed the way ld computes it for --print-memory-usage and for its
 *     "region `X' overflowed by N bytes" message (the end of the highest
 *     output section placed in the region, by run address and, for sections
 *     with contents, by load address, minus the region's origin);
 *   - per output section: the bytes of each object, the *fill* bytes and
 *     the bytes no input section or fill covers ("unattributed": linker
 *     script data such as LONG(0), or gaps), which always add up to the
 *     section's size exactly;
 *   - per object file, per archive and per region totals.
 *
 * The map does not say which region an output section was assigned to, nor
 * which sections are allocated or have contents.  Regions are recovered
 * from addresses with the rules of regions.c (fs_regions_place).  A section
 * is taken as not allocated when its name is one of the known non-allocated
 * kinds (.comment, .debug*, attributes, ...) or when it follows the
 * OUTPUT(...) line at address 0 (where ld puts non-allocated orphans); it
 * has no contents (no load image) when every input section in it is a
 * .bss-like or COMMON section and it holds no BYTE/SHORT/LONG/QUAD data.
 *
 * Reading is tolerant: lines the reader does not know are skipped.  Input
 * that is not a map (no "Memory Configuration" or no "Linker script and
 * memory map" block), binary data, over-long lines and over-large files are
 * errors that name the file and the problem.
 *
 * Ownership: an fs_mapfile owns every string and array it points to; release
 * it with fs_mapfile_free().  Contribution lists returned by the
 * fs_mapfile_*_objects functions are malloc'd arrays owned by the caller
 * (free() them); their names are borrowed from the fs_mapfile.
 */
#ifndef FS_MAPFILE_H
#define FS_MAPFILE_H

#include <jansson.h>
#include <stdio.h>

#include "analyze.h"
#include "jemit.h"
#include "model.h"

/* Limits: inputs beyond these are rejected with a clear error. */
#define FS_MAP_MAX_FILE_BYTES (512ull << 20)  /* 512 MiB */
#define FS_MAP_MAX_LINE       65536u          /* bytes in one line */

/* Version of the JSON document written by fs_mapfile_json (docs/mapfile.md). */
#define FS_MAP_JSON_SCHEMA_VERSION 1

/* One input section (or *fill*) of an output section, in map order. */
typedef struct fs_map_input {
    char *name;         /* input section name, e.g. ".text.gc_collect"; "*fill*" for fill */
    int object;         /* index into fs_mapfile.objects; -1 for fill */
    uint64_t addr, size;/* as ld printed them */
    uint64_t counted;   /* bytes of the output section this entry is credited with:
                           size, less any part overlapping an earlier entry (merged
                           strings) or lying outside the output section */
    bool fill;
} fs_map_input;

/* One output section. */
typedef struct fs_map_section {
    char *name;
    uint64_t vma, size;
    uint64_t lma;       /* "load address 0x..." when printed, else = vma */
    bool has_lma;
    bool alloc;         /* takes memory (see the header comment for the rule) */
    bool load;          /* has contents, so a load image where lma != vma */
    bool has_data;      /* holds BYTE/SHORT/LONG/QUAD statements */
    size_t first_input, ninputs;   /* its entries in fs_mapfile.inputs */
    uint64_t inputs_lo, inputs_hi; /* the lowest address and the highest end of its inputs */
    uint64_t input_bytes;          /* sum of counted bytes of input sections */
    uint64_t fill_bytes;           /* sum of counted bytes of *fill* */
    uint64_t unattributed;         /* bytes covered by neither */
    int vma_region, lma_region;    /* index into fs_mapfile.map.regions, -1 if none;
                                      lma_region only for load images elsewhere */
    size_t line;                   /* line number in the map, for messages */
} fs_map_section;

/* An object file as ld printed it: "build/py/gc.o" or "dir/libmain.a(user_interface.o)". */
typedef struct fs_map_object {
    char *path;
    int archive;        /* index into fs_mapfile.archives, -1 for a plain object */
    uint64_t bytes;     /* counted bytes in allocated output sections */
} fs_map_object;

typedef struct fs_map_archive {
    char *path;         /* "dir/libmain.a" */
    uint64_t bytes;     /* sum over its members */
    size_t nobjects;    /* members that contributed input sections */
} fs_map_archive;

/* A line of "Archive member included to satisfy reference by file (symbol)". */
typedef struct fs_map_member {
    char *member;       /* "dir/libfoo.a(bar.o)" */
    char *referenced_by;/* the file whose reference pulled it in */
    char *symbol;       /* the symbol referenced */
} fs_map_member;

typedef struct fs_mapfile {
    char *path;
    char *output;       /* the OUTPUT(...) file name, or NULL */
    fs_memmap map;      /* regions of Memory Configuration without *default*; used/high set */
    bool has_default_region;
    fs_map_section *sections; size_t nsections;
    fs_map_input *inputs;     size_t ninputs;
    fs_map_object *objects;   size_t nobjects;
    fs_map_archive *archives; size_t narchives;
    fs_map_member *members;   size_t nmembers;
    size_t ndiscarded;        /* entries of "Discarded input sections" */
    uint64_t discarded_bytes; /* and their total size */
    size_t nlines;
    void *strings;            /* the blocks holding every name and path above (mapfile.c) */
} fs_mapfile;

/* A row of a breakdown: name borrowed from the fs_mapfile. */
typedef struct fs_map_contrib {
    const char *name;
    uint64_t bytes;
    size_t index;       /* the object's (or archive's) index in the fs_mapfile */
} fs_map_contrib;

/* Read the map file at path into out (zeroed by the caller).  On failure out
 * is left empty and err names the file and the problem.  The file is mapped
 * while it is parsed (fs_map_file: a file that shrinks meanwhile raises
 * SIGBUS). */
int fs_mapfile_load(const char *path, fs_mapfile *out, fs_error *err);
/* The same from memory; name is used in messages; text is borrowed for the
 * duration of the call only. */
int fs_mapfile_parse(const char *name, const char *text, size_t len, fs_mapfile *out, fs_error *err);
void fs_mapfile_free(fs_mapfile *m);

/* First output section called name, or NULL. */
const fs_map_section *fs_mapfile_section(const fs_mapfile *m, const char *name);
/* Index of the object printed as path, or -1. */
int fs_mapfile_object(const fs_mapfile *m, const char *path);

/* Objects of output section sec, largest first (ties by name).  *out gets a
 * malloc'd array (NULL when empty); returns the count or -1 on OOM. */
long fs_mapfile_section_objects(const fs_mapfile *m, size_t sec, fs_map_contrib **out);
/* What else a region holds besides objects. */
typedef struct fs_map_region_rest {
    uint64_t fill;          /* *fill* bytes of the sections placed in it */
    uint64_t unattributed;  /* their unattributed bytes */
    uint64_t gaps;          /* bytes of [origin, origin + used) no placed section covers
                               (alignment between output sections) */
} fs_map_region_rest;

/* Objects placed in region r (by run address, and by load address for load
 * images), largest first; *rest gets the region's other bytes.  When no two
 * placed sections overlap, objects + fill + unattributed + gaps == used.
 * Returns the count or -1 on OOM. */
long fs_mapfile_region_objects(const fs_mapfile *m, int r, fs_map_contrib **out, fs_map_region_rest *rest);
/* Archives, largest first.  Returns the count or -1 on OOM. */
long fs_mapfile_archive_list(const fs_mapfile *m, fs_map_contrib **out);

/* Does any region hold more than its length? */
bool fs_mapfile_overflowed(const fs_mapfile *m);

/* For a failed link with no ELF: copy the map's regions into rep->map
 * (region_source FS_REGIONS_LD, detail "map file PATH") and append a
 * "region-overflow" error finding per overflowing region with ld's numbers
 * (nums used, length, over) and its three largest objects in the message.
 * rep must be zeroed or hold a report; rep->image is left as it is. */
int fs_mapfile_report(const fs_mapfile *m, fs_report *rep, fs_error *err);
/* Only the region-overflow findings of fs_mapfile_report, appended to rep. */
int fs_mapfile_findings(const fs_mapfile *m, fs_report *rep, fs_error *err);
/* With an ELF of the same link: append a "map-elf-mismatch" warning per
 * allocated output section of the map whose size differs from the ELF
 * section of that name (or that the ELF lacks).  Returns the number of
 * mismatches, or -1 on OOM. */
int fs_mapfile_reconcile(const fs_mapfile *m, const fs_image *img, fs_report *rep, fs_error *err);

/* Text tables: regions, output sections, the top objects of each output
 * section with (fill) and (unattributed) rows, archives, objects per region,
 * and overflows with their largest contributors.  top = rows per table
 * (0 = 10).  Returns 0, or -1 on a write error. */
int fs_mapfile_print(FILE *out, const fs_mapfile *m, size_t top);
/* The same as a JSON document (schema "flashsize-map"); top = rows per
 * list, 0 = all.  NULL on OOM.  The caller owns the result (json_decref). */
json_t *fs_mapfile_json(const fs_mapfile *m, size_t top);
/* The same document told as events (jemit.h): fs_mapfile_json is this into
 * a tree; `analyze --format json` streams it. */
void fs_mapfile_emit(const fs_mapfile *m, size_t top, fs_jemit *e);

#endif
