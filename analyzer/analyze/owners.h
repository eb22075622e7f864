/*
 * owners.h - who can change what fills a memory region: the user's frozen
 * modules (one row each), the user's C modules, MicroPython itself by
 * directory (py/, extmod/, shared/, lib/, drivers/, the port), the chip
 * vendor's SDK archives and the toolchain's archives.
 *
 * Ideas (docs/mapfile.md, "Who fills it"):
 *   - The owner of an object is read from the path the map prints for it:
 *     an archive member is owned by whoever ships the archive (a rules list,
 *     rules/owners/archives.txt, names the SDK's and the toolchain's; an
 *     absolute path under /usr is the toolchain's); a plain object under
 *     the build directory belongs to MicroPython when its first directory is
 *     one of MicroPython's (py, extmod, shared, lib, drivers, ports), to the
 *     port when it sits at the top of the build directory or in another
 *     directory, and to the user's C modules when its path leaves the build
 *     directory ("/../", or an absolute path not under /usr), which is where
 *     MicroPython's make puts USER_C_MODULES objects.  frozen_content.o is
 *     the frozen modules; with the ELF's frozen analysis it is split per
 *     module.
 *   - A region's rows + "other" (fill, linker data, gaps between output
 *     sections) add up to the region's used bytes (the map's figures).
 *
 * Ownership: every struct owns its strings and arrays; free with its
 * fs_*_free function.  The map and frozen analysis are borrowed for a call.
 */
#ifndef FS_OWNERS_H
#define FS_OWNERS_H

#include <stdio.h>

#include <jansson.h>

#include "analyze.h"
#include "frozen.h"
#include "mapfile.h"

typedef enum {
    FS_OWNER_FROZEN = 0,     /* the user's frozen modules */
    FS_OWNER_USER,           /* the user's C modules */
    FS_OWNER_MICROPYTHON,    /* MicroPython's tree, by directory; the port */
    FS_OWNER_SDK,            /* the chip vendor's libraries */
    FS_OWNER_TOOLCHAIN,      /* the compiler's and C library's */
    FS_OWNER_KINDS
} fs_owner_kind;

/* The archive list (rules/owners/archives.txt). */
typedef struct fs_owner_rules {
    char **names;
    fs_owner_kind *kinds;
    size_t n;
} fs_owner_rules;

/* Load RULES_DIR/owners/archives.txt; a missing file (or rules_dir NULL)
 * gives an empty list and 0.  -1 with err on an unreadable or bad file. */
int fs_owner_rules_load(const char *rules_dir, fs_owner_rules *r, fs_error *err);
void fs_owner_rules_free(fs_owner_rules *r);

/* The owner of an object as the map prints it; group (len bytes) gets the
 * row it belongs to: "py/", "port", "libmain.a", "frozen_content.o", the
 * user module's directory... */
fs_owner_kind fs_owner_classify(const fs_owner_rules *r, const char *object, char *group, size_t len);
/* "frozen", "user", "micropython", "sdk", "toolchain". */
const char *fs_owner_kind_name(fs_owner_kind k);

typedef struct fs_owner_row {
    fs_owner_kind kind;
    char *group;            /* "py/", "libmain.a", a frozen module's name, ... */
    uint64_t bytes;
} fs_owner_row;

typedef struct fs_owner_table {
    char *region;
    uint64_t used, length;  /* the region's, as the map computes them */
    fs_owner_row *rows; size_t nrows; /* by kind, then bytes descending, then group */
    uint64_t kind_bytes[FS_OWNER_KINDS];
    uint64_t other;         /* fill, linker-script data and gaps: rows + other == used */
} fs_owner_table;

typedef struct fs_owners {
    fs_owner_table *tables; size_t ntables; /* one per region with used bytes, in map order */
} fs_owners;

/* Build the tables of every used region of m; fz (may be NULL) splits
 * frozen_content.o per module.  -1 with err on out of memory. */
int fs_owners_build(const fs_owner_rules *r, const fs_mapfile *m, const fs_frozen *fz, fs_owners *out,
                    fs_error *err);
void fs_owners_free(fs_owners *o);
const fs_owner_table *fs_owners_table(const fs_owners *o, const char *region);

/* Rewrite the remedy of every irom0-overflow / region-overflow finding of
 * rep to name the frozen modules whose removal would make the region fit
 * (from fz when given, else from the region's frozen rows in o; either may
 * be NULL).  -1 on out of memory. */
int fs_owners_amend_findings(const fs_owners *o, const fs_frozen *fz, fs_report *rep);

int fs_owners_print(FILE *out, const fs_owners *o);
json_t *fs_owners_json(const fs_owners *o);

#endif
