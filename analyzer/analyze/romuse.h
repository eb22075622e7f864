/*
 * romuse.h - ROM versus library code in a linked firmware: which mask-ROM
 * functions it calls, and which ROM functions it carries its own copy of.
 *
 * Ideas (docs/frozen.md, "flashsize rom"; MicroPython facts 3.5 and 5.6):
 *   - A firmware linked against a ROM table (eagle.rom.addr.v6.ld) gets the
 *     ROM functions it uses as absolute (SHN_ABS) symbols at ROM addresses.
 *     PROVIDE'd (weak) entries are only defined when something referenced
 *     them, so their presence is proof of use; strong entries are always
 *     defined, so for them we count the words in the image's loaded
 *     sections that hold the ROM address (Xtensa long calls load it from a
 *     literal pool) and call the function used when there is one.
 *   - A defined function (STT_FUNC, size > 0, not local) whose name is in
 *     the table is a copy of something the ROM already has: its bytes could
 *     be saved.  With a linker map, the object or archive member it came
 *     from is named.
 *
 * Ownership: fs_romuse owns its arrays and strings; free with
 * fs_romuse_free().  The image, table and map are borrowed for the call.
 */
#ifndef FS_ROMUSE_H
#define FS_ROMUSE_H

#include <stdio.h>

#include <jansson.h>

#include "jemit.h"
#include "analyze.h"
#include "mapfile.h"
#include "model.h"
#include "owners.h"
#include "romsyms.h"

/* Version of the JSON document fs_romuse_json writes (docs/frozen.md). */
#define FS_ROMUSE_SCHEMA_VERSION 2

typedef struct fs_romuse_used {
    char *name;
    uint64_t addr;        /* the ELF symbol's value */
    bool weak;            /* PROVIDE'd in the table: defined because referenced */
    size_t refs;          /* aligned words in loaded sections holding addr */
    bool addr_matches;    /* the ELF value equals the table's address */
} fs_romuse_used;

typedef struct fs_romuse_dup {
    char *name;
    uint64_t addr, size;  /* the firmware's own copy (addr without the Thumb bit) */
    uint64_t rom_addr;    /* where the ROM has it */
    char *section;        /* ELF section holding the copy */
    char *object;         /* object / archive member from the map, or NULL */
    char *origin;         /* the archive of a member, else the object; NULL without a map */
    fs_owner_kind owner;  /* who built it (fs_romuse_set_owners); FS_OWNER_KINDS: unknown */
} fs_romuse_dup;

typedef struct fs_romuse {
    char *table;          /* path of the ROM table used */
    size_t table_syms;
    fs_romuse_used *used; size_t nused;
    size_t unreferenced;  /* strong table symbols defined but never referenced */
    fs_romuse_dup *dups; size_t ndups;
    uint64_t dup_bytes;
    bool with_map;
} fs_romuse;

/* Analyze img (file bytes data[0..len), borrowed) against rom; map may be
 * NULL.  Returns 0, or -1 with err naming the file and the problem. */
int fs_romuse_analyze(const fs_image *img, const uint8_t *data, size_t len, const fs_romtable *rom,
                      const fs_mapfile *map, fs_romuse *out, fs_error *err);
/* The same, reading img->path. */
int fs_romuse_analyze_file(const fs_image *img, const fs_romtable *rom, const fs_mapfile *map, fs_romuse *out,
                           fs_error *err);
void fs_romuse_free(fs_romuse *ru);

/* The ROM table for this image under the rules directory ("rom/esp8266.ld"
 * for an ESP8266 image or board), or NULL when none is known. */
const char *fs_romuse_default_table(const fs_image *img, const fs_board *board);

/* The one choice of ROM table, for every command: rom when given (--rom),
 * else the chip's own table under rules_dir.  0 with *path (malloc'd) set;
 * FS_ROMTABLE_NONE when no table is known for this chip;
 * FS_ROMTABLE_NO_RULES when it is known but rules_dir is NULL; -1 when out
 * of memory. */
#define FS_ROMTABLE_NONE     1
#define FS_ROMTABLE_NO_RULES 2
int fs_romuse_table_path(const char *rom, const fs_image *img, const fs_board *board, const char *rules_dir,
                         char **path);

/* The JSON document (schema "flashsize-rom"); NULL on out of memory. */
json_t *fs_romuse_json(const fs_romuse *ru, const char *path);
/* The same document told as events (jemit.h): fs_romuse_json builds it so;
 * `analyze --format json` streams it. */
void fs_romuse_emit(const fs_romuse *ru, const char *path, fs_jemit *e);
int fs_romuse_print_text(FILE *out, const fs_romuse *ru, const char *path);
/* Set each copy's origin and owner from its object (owners.h); rules may
 * be NULL (owners from paths alone).  -1 on out of memory. */
int fs_romuse_set_owners(fs_romuse *ru, const fs_owner_rules *rules);
/* The severity of a copy made by owner k: warning only for the user's own
 * objects (user C modules), info for MicroPython's, the SDK's, the
 * toolchain's and unknown ones. */
fs_severity fs_romuse_severity(fs_owner_kind k);
/* Add one rom-duplicate finding per origin (archive, or object; one for
 * copies of unknown origin), largest total first: subject the origin,
 * nums bytes and copies, the symbols and their sizes in the message. */
int fs_romuse_findings(const fs_romuse *ru, fs_report *rep);

#endif
