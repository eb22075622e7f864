/*
 * romsyms.h - ROM symbol tables in the GNU ld form the ESP8266 SDK uses
 * (eagle.rom.addr.v6.ld): `PROVIDE ( name = 0x4000df48 );` (weak) and
 * `name = 0x4000dc88;` (strong), with C comments.  Malformed lines are
 * errors naming file:line.
 */
#ifndef FS_ROMSYMS_H
#define FS_ROMSYMS_H

#include <search.h>

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
    size_t names_used, names_cap;
    size_t nsyms;
    struct hsearch_data *index; /* names -> syms, for fs_romtable_find (libc's hash table) */
    uint64_t filter[64];        /* a bit per (length, first and last bytes) of a name in the table */
} fs_romtable;

int fs_romtable_load(const char *path, fs_romtable *out, fs_error *err);
void fs_romtable_free(fs_romtable *t);
/* The entry for name, or NULL. */
const fs_romsym *fs_romtable_find(const fs_romtable *t, const char *name);
/* The first entry at addr, or NULL. */
const fs_romsym *fs_romtable_at(const fs_romtable *t, uint64_t addr);

#endif
