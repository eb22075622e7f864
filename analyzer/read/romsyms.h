/*
 * romsyms.h - ROM symbol tables in the GNU ld form the ESP8266 SDK uses
 * (eagle.rom.addr.v6.ld): `PROVIDE ( name = 0x4000df48 );` (weak) and
 * `name = 0x4000dc88;` (strong), with C comments.  Malformed lines are
 * errors naming file:line.
 */
#ifndef FS_ROMSYMS_H
#define FS_ROMSYMS_H

#include "model.h"

typedef struct fs_romsym {
    char *name;
    uint64_t addr;
    bool weak;       /* PROVIDE(...) */
    unsigned line;
} fs_romsym;

typedef struct fs_romtable {
    char *path;
    fs_romsym *syms; /* in file order */
    char *names;     /* the names, one block (syms[i].name point into it) */
    size_t nsyms;
    uint32_t *by_name;   /* indexes of syms sorted by name, for fs_romtable_find */
    uint64_t filter[64]; /* a bit per (length, first and last bytes) of a name in the table */
    bool builtin;        /* syms and by_name are a built-in table's (not freed) */
} fs_romtable;

/* A table of rules/rom/ parsed when flashsize was built
 * (build/gen/romtab_builtin.c, written by scripts/romtab-gen.c): its text
 * and what fs_romtable_load makes of it. */
typedef struct fs_romtable_builtin {
    const char *text;
    size_t len;
    fs_romsym *syms;
    size_t nsyms;
    const uint32_t *by_name;
    uint64_t filter[64];
} fs_romtable_builtin;
extern const fs_romtable_builtin fs_romtable_builtins[];
extern const size_t fs_romtable_nbuiltins;

int fs_romtable_load(const char *path, fs_romtable *out, fs_error *err);
void fs_romtable_free(fs_romtable *t);
/* The entry for name, or NULL. */
const fs_romsym *fs_romtable_find(const fs_romtable *t, const char *name);
/* The first entry at addr, or NULL. */
const fs_romsym *fs_romtable_at(const fs_romtable *t, uint64_t addr);

#endif
