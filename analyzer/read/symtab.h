/*
 * symtab.h - a build's symbol table as plain C records, for the engines
 * that compare builds symbol by symbol (diff.c, budget.c, store.c).
 *
 * An analysis document's "symbols" array is its largest part by far (a
 * MicroPython ESP8266 firmware: ~1,000 objects of 6 keys, 95% of the
 * document's bytes).  Read through jansson, each comparison pays a hash
 * lookup per key per symbol; the server's upload path (docparse.h) never
 * builds those objects at all and decodes the array straight into a table.
 *
 * A table either borrows its strings from a JSON document (from_json: the
 * document must outlive it) or owns them (filled by fs_symtab_add, strings
 * copied into blocks that never move).  fs_symtab_index sorts a name index
 * once; fs_symtab_find then answers by binary search.
 */
#ifndef FS_SYMTAB_H
#define FS_SYMTAB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fs_sym {
    const char *name, *type, *bind;
    const char *section; /* NULL when the symbol has none */
    uint64_t address, size;
} fs_sym;

typedef struct fs_symtab_block fs_symtab_block;

typedef struct fs_symtab {
    fs_sym *v;               /* in the document's order */
    size_t n, cap;
    const fs_sym **by_name;  /* sorted by name (fs_symtab_index), or NULL */
    fs_symtab_block *blocks; /* owned strings */
} fs_symtab;

void fs_symtab_free(fs_symtab *t);

/* The table of a validated document's "symbols" array (strings borrowed
 * from it), indexed; -1 when out of memory. */
int fs_symtab_from_json(fs_symtab *t, const json_t *symbols);

/* Append a record (its strings copied with fs_symtab_strdup first); NULL
 * when out of memory. */
fs_sym *fs_symtab_add(fs_symtab *t);
/* A copy of s[0..n) owned by the table, NUL-terminated; NULL when out of memory. */
const char *fs_symtab_strdup(fs_symtab *t, const char *s, size_t n);

/* Sort the name index (-1 when out of memory); then find a symbol by name. */
int fs_symtab_index(fs_symtab *t);
const fs_sym *fs_symtab_find(const fs_symtab *t, const char *name);

#endif
