/*
 * board.h - board rule files (rules/boards/NAME.ini): the memory layout,
 * chip, ROMFS partition and thresholds of one board.
 *
 * Format (INI, read with inih; full reference in docs/rules.md):
 *   [board]            name, description, chip (esp8266|generic), flash_size,
 *                      headroom (percent, default 90)
 *   [region NAME]      origin, length (ld expressions: 1M - 36K, ORIGIN(x)...),
 *                      attrs (optional, e.g. rx)
 *   [romfs]            start, size (absolute, memory-mapped address and bytes)
 * Unknown sections or keys, bad numbers and missing required keys are errors
 * that name file:line.
 */
#ifndef FS_BOARD_H
#define FS_BOARD_H

#include "model.h"

#define FS_BOARD_MAX_FILE_BYTES (1u << 20)

typedef enum { FS_CHIP_GENERIC = 0, FS_CHIP_ESP8266 } fs_chip;

typedef struct fs_board {
    char *name;
    char *description;
    char *path;
    fs_chip chip;
    uint64_t flash_size;     /* 0 if not given */
    double headroom_pct;     /* 0 if not given */
    fs_memmap map;
    bool has_romfs;
    uint64_t romfs_start, romfs_size;
} fs_board;

/* Load a board by name (looked up as DIR/boards/NAME.ini) or by path (when
 * name contains a '/' or ends in .ini). rules_dir may be NULL for paths. */
int fs_board_load(const char *rules_dir, const char *name, fs_board *out, fs_error *err);
void fs_board_free(fs_board *b);

/* Names of every board in DIR/boards, sorted; caller frees each and the array. */
int fs_board_list(const char *rules_dir, char ***names, size_t *count, fs_error *err);

/* The rules directory: $FLASHSIZE_RULES, else ../rules or
 * ../share/flashsize/rules next to the running executable.  Returns a
 * malloc'd path or NULL. */
char *fs_rules_dir(void);

/* A directory installed with flashsize (rules, web): $env_var when set and
 * not empty, else ../NAME or ../share/flashsize/NAME next to the running
 * executable, resolved.  Returns a malloc'd path or NULL. */
char *fs_install_dir(const char *env_var, const char *name);

/* DIR/boards/BOARD.ini (DIR: rules_dir, else fs_rules_dir()) when that file
 * exists, as a malloc'd path for the caller to free; NULL when it does not,
 * when board contains a '/' or when there is no rules directory.  What
 * check, record and import lay an ELF out with when its board has a file. */
char *fs_board_layout_path(const char *rules_dir, const char *board);

const char *fs_chip_name(fs_chip chip);

#endif
