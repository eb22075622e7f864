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
 * Literal pools given to the functions that load them (when the caller
 * hands in the literal words, literals.h): a gap byte that is part of a
 * word an l32r / Thumb PC-relative load reads is a literal-pool byte,
 * whatever the map calls it, and is given to the word's function (the
 * first loader by address; "shared" when others load it too).  The rest of
 * literal_pools (the map's .literal bytes no decoded instruction loads) is
 * the unloaded remainder.  Words inside a sized symbol (an ARM function's
 * pool within its size) are already that symbol's bytes.
 *
 * Ownership: fs_accounting owns its arrays; section and symbol names are
 * borrowed from the image, which must outlive it.
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
    uint64_t literal_loaded;     /* of literal_pools: given to the function that loads them */
    uint64_t literal_shared;     /* of literal_loaded: loaded by more than one function */
} fs_acct_section;

typedef struct fs_accounting {
    fs_acct_section *secs; size_t nsecs;  /* allocated, non-empty sections, header order */
    bool with_map;
    /* literal attribution: only when literal words were given */
    bool literals;
    const fs_image *img;                  /* borrowed */
    uint32_t *sym_literal, *sym_shared;   /* per symbol index: literal bytes given to it, of which shared */
    size_t nfuncs;                        /* functions with literal bytes */
    size_t ndecoded, nloads;              /* functions decoded, load instructions seen */
    uint64_t loaded, shared, unloaded;    /* Σ literal_loaded, Σ literal_shared, Σ (literal_pools - literal_loaded) */
    uint64_t in_symbols;                  /* loaded words' bytes inside sized symbols */
} fs_accounting;

struct fs_literals;

/* Account for img's sections; map and lits (fs_literals_find) may be NULL.
 * -1 with err on OOM. */
int fs_accounting_build(const fs_image *img, const fs_mapfile *map, const struct fs_literals *lits, fs_accounting *out,
                        fs_error *err);
void fs_accounting_free(fs_accounting *a);

/* The table; with literals, the attribution's totals and the top functions
 * by literal bytes (top rows, 0 = 10). */
int fs_accounting_print(FILE *out, const fs_accounting *a, size_t top);
json_t *fs_accounting_json(const fs_accounting *a);
/* The "literals" member: totals and the top functions by literal bytes (0 =
 * all with any); JSON null when no attribution was made.  NULL on OOM.
 * The analysis document lists the FS_ACCT_LITERALS_TOP largest (every
 * symbol carries its own literal_bytes). */
#define FS_ACCT_LITERALS_TOP 50
json_t *fs_accounting_literals_json(const fs_accounting *a, size_t top);

#endif
