/*
 * natmod.h - what a native module (.mpy from mpy_ld) costs: text, rodata,
 * bss, its relocations by destination and the ROM functions it reaches.
 *
 * With only the .mpy, ROM references are an inference (facts doc 2.7):
 * mpy_ld writes a fixed-address symbol's ROM address into its GOT word and
 * emits no relocation for it, so a text word that no relocation patches and
 * whose value is an address in the ROM table is taken as a ROM reference.
 *
 * Ownership: fs_natmod borrows the fs_mpy and fs_romtable it was computed
 * from (both must outlive it) and owns its arrays; fs_natmod_free.
 */
#ifndef FS_NATMOD_H
#define FS_NATMOD_H

#include "mpy.h"
#include "romsyms.h"

typedef struct fs_natmod_romref {
    uint64_t word;          /* text word index */
    uint64_t addr;
    const fs_romsym *sym;   /* borrowed: the first ROM symbol at addr */
} fs_natmod_romref;

/* Relocated words per destination. */
enum { FS_NATMOD_DEST_TEXT, FS_NATMOD_DEST_RODATA, FS_NATMOD_DEST_BSS, FS_NATMOD_DEST_QSTR,
       FS_NATMOD_DEST_OBJ, FS_NATMOD_DEST_FUN_TABLE, FS_NATMOD_DEST_FUN_ENTRY, FS_NATMOD_NDEST };

typedef struct fs_natmod {
    const fs_mpy *mpy;      /* borrowed */
    size_t rawcode;         /* index of the native raw code */
    uint64_t text_size, rodata_size, bss_size;
    uint64_t reloc_words[FS_NATMOD_NDEST]; /* words patched, by destination */
    uint64_t reloc_entries;                /* entries in the stream */
    fs_natmod_romref *rom; size_t nrom;    /* inferred ROM references */
    bool rom_inferred;      /* a ROM table was given */
} fs_natmod;

/* Summarise m's native raw code; rom may be NULL (no ROM inference).
 * Fails if m holds no native module. */
int fs_natmod_analyze(const fs_mpy *m, const fs_romtable *rom, fs_natmod *out, fs_error *err);
void fs_natmod_free(fs_natmod *n);
/* "text", "rodata", "bss", "qstr_table", "obj_table", "fun_table", "fun_table_entry". */
const char *fs_natmod_dest_name(int dest);

#endif
