/*
 * natmod.h - what a native module (.mpy from mpy_ld) costs: text, rodata,
 * bss, its relocations by destination and the ROM functions it reaches.
 *
 * With only the .mpy, ROM references are an inference (facts doc 2.7):
 * mpy_ld writes a fixed-address symbol's ROM address into its GOT word and
 * emits no relocation for it, so a text word that no relocation patches and
 * whose value is an address in the ROM table is taken as a ROM reference.
 *
 * Given the module's objects, the ROM table and the libraries as well,
 * fs_natmod_link_run classifies every name the module needs (own code,
 * library member, ROM, mp_fun_table) and finds redundant copies of ROM
 * functions; see the second half of this header.
 *
 * Ownership: fs_natmod borrows the fs_mpy and fs_romtable it was computed
 * from (both must outlive it) and owns its arrays; fs_natmod_free.
 * fs_natmod_link borrows its objects, archives and ROM table and owns its
 * arrays; fs_natmod_link_free.
 */
#ifndef FS_NATMOD_H
#define FS_NATMOD_H

#include "analyze.h"
#include "archive.h"
#include "mpy.h"
#include "romsyms.h"

#include <stdio.h>

typedef struct fs_natmod_romref {
    uint64_t word; /* text word index */
    uint64_t addr;
    const fs_romsym *sym; /* borrowed: the first ROM symbol at addr */
} fs_natmod_romref;

/* Relocated words per destination. */
enum {
    FS_NATMOD_DEST_TEXT,
    FS_NATMOD_DEST_RODATA,
    FS_NATMOD_DEST_BSS,
    FS_NATMOD_DEST_QSTR,
    FS_NATMOD_DEST_OBJ,
    FS_NATMOD_DEST_FUN_TABLE,
    FS_NATMOD_DEST_FUN_ENTRY,
    FS_NATMOD_NDEST
};

typedef struct fs_natmod {
    const fs_mpy *mpy; /* borrowed */
    size_t rawcode;    /* index of the native raw code */
    uint64_t text_size, rodata_size, bss_size;
    uint64_t reloc_words[FS_NATMOD_NDEST]; /* words patched, by destination */
    uint64_t reloc_entries;                /* entries in the stream */
    fs_natmod_romref *rom;
    size_t nrom;       /* inferred ROM references */
    bool rom_inferred; /* a ROM table was given */
} fs_natmod;

/* Summarise m's native raw code; rom may be NULL (no ROM inference).
 * Fails if m holds no native module. */
int fs_natmod_analyze(const fs_mpy *m, const fs_romtable *rom, fs_natmod *out, fs_error *err);
void fs_natmod_free(fs_natmod *n);
/* "text", "rodata", "bss", "qstr_table", "obj_table", "fun_table", "fun_table_entry". */
const char *fs_natmod_dest_name(int dest);

/* ---- classification: re-running mpy_ld's symbol resolution offline -------
 *
 * Given the module's own objects (.o), the ROM table (mpy_ld's --externs)
 * and the library archives (-l, in order), fs_natmod_link resolves every
 * name the way mpy_ld does (facts doc 3.2, 3.5):
 *
 *   1. the own objects' GLOBAL/WEAK definitions are known; their non-weak
 *      undefined references are to be resolved (a name defined twice is an
 *      error, as in mpy_ld);
 *   2. every such name the own objects do not define is searched in the
 *      archives in order, ROM names included; the first member that defines
 *      it is pulled in whole, its definitions become known and its own
 *      non-weak undefined references are searched in turn (closure);
 *   3. each referenced name then resolves to: a definition (own object or
 *      pulled member); else the ROM table; else mp_fun_table (the 14
 *      runtime objects, memset/memmove/memcpy; mp_fun_table and the qstr/obj
 *      tables themselves); else it is unresolved (mpy_ld: undefined symbol).
 *
 * Where the ROM table has a name, the GOT word holds the ROM address even
 * when an own object or a pulled member defines it (mpy_ld's populate_got):
 * such a definition is a redundant copy.  Its waste is the symbol's size for
 * own code and for a member still needed for other names; a member that is
 * reached only through ROM names (it and whatever it pulled) wastes all of
 * its bytes, counted under the ROM name that pulled it in.
 */

/* Where a name's code comes from. */
typedef enum {
    FS_NEED_OWN,       /* defined by one of the module's objects */
    FS_NEED_LIBRARY,   /* defined by a pulled archive member */
    FS_NEED_ROM,       /* only the ROM table has it */
    FS_NEED_RUNTIME,   /* mp_fun_table (entry, or the table itself) */
    FS_NEED_UNRESOLVED /* nowhere: mpy_ld would refuse to link */
} fs_need_kind;

/* An archive member the closure pulled in. */
typedef struct fs_natmod_member {
    size_t lib;             /* index into the libraries */
    size_t member;          /* index into that archive's members */
    const char *pulled_for; /* the name it was pulled for (borrowed) */
    long parent;            /* the pulled member whose reference pulled it; -1: an own object's */
    bool live;              /* still needed when ROM names go to the ROM */
    uint64_t wasted;        /* bytes counted as waste (its own, when not live) */
} fs_natmod_member;

typedef struct fs_natmod_need {
    const char *name; /* borrowed from an object's symbols */
    fs_need_kind kind;
    uint8_t type;         /* STT_* of the definition (STT_NOTYPE when none) */
    uint64_t size;        /* st_size of the definition */
    size_t obj;           /* FS_NEED_OWN: index into the objects */
    long member;          /* FS_NEED_LIBRARY: index into fs_natmod_link.members */
    uint64_t bytes;       /* own: the symbol's size; library: the member's file bytes */
    const fs_romsym *rom; /* the ROM table's entry for the name, or NULL (borrowed) */
    int fun_index;        /* FS_NEED_RUNTIME: mp_fun_table index, -1 for a table itself */
    bool referenced;      /* an undefined reference in an object or pulled member names it */
    bool redundant;       /* defined here although the ROM has it */
    uint64_t wasted;      /* bytes that copy wastes (0 when counted under another name) */
} fs_natmod_need;

#define FS_NATMOD_MAX_INPUTS 4096u /* objects and libraries each */

typedef struct fs_natmod_link {
    const fs_object *objs;
    size_t nobjs; /* borrowed */
    const fs_archive *libs;
    size_t nlibs;           /* borrowed */
    const fs_romtable *rom; /* borrowed, may be NULL */
    fs_natmod_member *members;
    size_t nmembers; /* in pull order */
    fs_natmod_need *needs;
    size_t nneeds;               /* sorted by kind, then name */
    uint64_t own_bytes, own_bss; /* all own objects: text+rodata+data, bss */
    uint64_t lib_bytes, lib_bss; /* all pulled members */
    uint64_t wasted;             /* sum of the needs' waste */
} fs_natmod_link;

/* The ELF machine (EM_*) of a .mpy arch code, 0 when unknown. */
uint16_t fs_natmod_arch_machine(uint8_t arch);

/* Resolve as described above.  machine (EM_*, 0 = any) is checked against
 * every object and pulled member (with 0, against the first object's).  Fails on a machine mismatch or a
 * duplicate definition among the own objects (err names the objects). */
int fs_natmod_link_run(const fs_object *objs, size_t nobjs, const fs_archive *libs, size_t nlibs,
                       const fs_romtable *rom, uint16_t machine, fs_natmod_link *out, fs_error *err);
void fs_natmod_link_free(fs_natmod_link *l);
/* Add natmod-redundant-copy (warning) and natmod-unresolved (error)
 * findings to rep.  0/-1 (out of memory). */
int fs_natmod_link_findings(const fs_natmod_link *l, fs_report *rep);
/* "own", "library", "rom", "runtime", "unresolved". */
const char *fs_natmod_need_kind_name(fs_need_kind k);
/* The pulled member's object and archive path. */
const fs_object *fs_natmod_member_object(const fs_natmod_link *l, size_t member);
const char *fs_natmod_member_archive(const fs_natmod_link *l, size_t member);

/* ---- the report (natmod_out.c) ------------------------------------------------ */

/* The text report: n's summary (ROM references from rom_path, may be
 * NULL), then with l (may be NULL) the classification and rep's findings.
 * 0, or -1 on a write error. */
int fs_natmod_write_text(FILE *out, const fs_natmod *n, const char *rom_path, const fs_natmod_link *l,
                         const fs_report *rep);
/* The JSON document (schema "flashsize-natmod"); NULL when out of memory. */
struct json_t;
struct json_t *fs_natmod_json(const fs_natmod *n, const char *rom_path, const fs_natmod_link *l,
                              const fs_report *rep);

#endif
