/*
 * accounting.h - every byte of every allocated section accounted for:
 * symbols + what lies between them + an explicit unattributed remainder =
 * the section's size, exactly (docs/json-schema.md, "accounting").
 *
 * The bytes between sized symbols are labelled from the link map when
 * there is one (the map names the input section and the object each range
 * comes from): Xtensa/ARM literal pools (.literal / .lit4 input sections),
 * string literals (.rodata.str* merged strings), other data of an object
 * that no symbol covers (anonymous constants, switch tables), and ld's
 * *fill* (alignment padding).  Without a map, a gap shorter than the
 * alignment of the address it ends at is alignment padding and the rest is
 * unattributed.  Overlapping symbols (aliases) are counted once.
 *
 * Ownership: fs_accounting owns its array; section names are borrowed from
 * the image, which must outlive it.
 */
#ifndef FS_ACCOUNTING_H
#define FS_ACCOUNTING_H

#include <stdio.h>

#include <jansson.h>

#include "mapfile.h"
#include "model.h"

typedef struct fs_acct_section {
    const char *name;            /* borrowed from the image */
    uint64_t size;
    uint64_t symbols;            /* covered by sized symbols (union) */
    uint64_t literal_pools;      /* map: .literal / .lit4 input sections between symbols */
    uint64_t string_literals;    /* map: .rodata.str* / .str input sections */
    uint64_t object_data;        /* map: other input-section bytes no symbol covers */
    uint64_t padding;            /* map *fill*, or (no map) alignment gaps */
    uint64_t unattributed;       /* the rest: size - all of the above */
} fs_acct_section;

typedef struct fs_accounting {
    fs_acct_section *secs; size_t nsecs;  /* allocated, non-empty sections, header order */
    bool with_map;
} fs_accounting;

/* Account for img's sections; map may be NULL.  -1 with err on OOM. */
int fs_accounting_build(const fs_image *img, const fs_mapfile *map, fs_accounting *out, fs_error *err);
void fs_accounting_free(fs_accounting *a);

int fs_accounting_print(FILE *out, const fs_accounting *a);
json_t *fs_accounting_json(const fs_accounting *a);

#endif
