/*
 * board.c - read board rule files (rules/boards/NAME.ini) with inih.
 *
 * A board file is the data that drives the chip module: its regions are the
 * same MEMORY regions a linker script would declare, written with the same
 * expression syntax (fs_expr_eval), so `length = 1M - 36K - 320K` means what
 * it means in ld.  Keys are checked strictly: a typo in a rules file must be
 * an error with file:line, never a silently ignored budget.
 */
#include "board.h"

#include "ldscript.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct board_ctx {
    fs_board *b;
    char msg[512];            /* first handler error, reported with its line */
    bool seen_board;
    bool romfs_start_set, romfs_size_set;
} board_ctx;

char *fs_board_layout_path(const char *rules_dir, const char *board)
{
    if (strchr(board, '/'))
        return NULL;
    char *dir = rules_dir ? strdup(rules_dir) : fs_rules_dir();
    if (!dir)
        return NULL;
    size_t n = strlen(dir) + strlen(board) + 16;
    char *path = malloc(n);
    struct stat st;
    if (path) {
        snprintf(path, n, "%s/boards/%s.ini", dir, board);
        if (stat(path, &st) != 0) {
            free(path);
            path = NULL;
        }
    }
    free(dir);
    return path;
}

const char *fs_chip_name(fs_chip chip)
{
    return chip == FS_CHIP_ESP8266 ? "esp8266" : "generic";
}

static int board_lookup(void *ctx, const char *func, const char *name, uint64_t *value)
{
    const fs_board *b = ctx;
    int r = fs_memmap_find(&b->map, name);
    if (!func || r < 0)
        return -1;
    if (strcmp(func, "ORIGIN") == 0)
        *value = b->map.regions[r].origin;
    else if (strcmp(func, "LENGTH") == 0)
        *value = b->map.regions[r].length;
    else
        return -1;
    return 0;
}

static int board_expr(board_ctx *c, const char *key, const char *value, uint64_t *out)
{
    char why[256];
    if (fs_expr_eval(value, board_lookup, c->b, out, why, sizeof why) < 0) {
        snprintf(c->msg, sizeof c->msg, "bad value for '%s': %s", key, why);
        return 0;
    }
    return 1;
}

static int board_set_string(board_ctx *c, char **field, const char *value)
{
    free(*field);
    *field = strdup(value);
    if (!*field) {
        snprintf(c->msg, sizeof c->msg, "out of memory");
        return 0;
    }
    return 1;
}

static int board_key_board(board_ctx *c, const char *name, const char *value)
{
    fs_board *b = c->b;
    c->seen_board = true;
    if (strcmp(name, "name") == 0)
        return board_set_string(c, &b->name, value);
    if (strcmp(name, "description") == 0)
        return board_set_string(c, &b->description, value);
    if (strcmp(name, "chip") == 0) {
        if (strcmp(value, "esp8266") == 0)
            b->chip = FS_CHIP_ESP8266;
        else if (strcmp(value, "generic") == 0)
            b->chip = FS_CHIP_GENERIC;
        else {
            snprintf(c->msg, sizeof c->msg, "unknown chip '%s' (known: esp8266, generic)", value);
            return 0;
        }
        return 1;
    }
    if (strcmp(name, "flash_size") == 0)
        return board_expr(c, name, value, &b->flash_size);
    if (strcmp(name, "headroom") == 0) {
        char *end;
        errno = 0;
        double pct = strtod(value, &end);
        if (errno || end == value || *end || !(pct > 0 && pct <= 100)) {
            snprintf(c->msg, sizeof c->msg, "bad value for 'headroom': '%s' is not a percentage in (0, 100]", value);
            return 0;
        }
        b->headroom_pct = pct;
        return 1;
    }
    snprintf(c->msg, sizeof c->msg, "unknown key '%s' in [board]", name);
    return 0;
}

static int board_key_region(board_ctx *c, const char *region, const char *name, const char *value)
{
    fs_memmap *map = &c->b->map;
    int r = fs_memmap_find(map, region);
    if (r < 0) {
        if (map->nregions >= FS_LD_MAX_REGIONS) {
            snprintf(c->msg, sizeof c->msg, "more than %d regions", FS_LD_MAX_REGIONS);
            return 0;
        }
        /* origin/length of UINT64_MAX mark "not given yet". */
        r = fs_memmap_add(map, region, UINT64_MAX, UINT64_MAX, NULL);
        if (r < 0) {
            snprintf(c->msg, sizeof c->msg, "out of memory");
            return 0;
        }
    }
    fs_region *reg = &map->regions[r];
    if (strcmp(name, "origin") == 0)
        return board_expr(c, name, value, &reg->origin);
    if (strcmp(name, "length") == 0)
        return board_expr(c, name, value, &reg->length);
    if (strcmp(name, "attrs") == 0) {
        snprintf(reg->attrs, sizeof reg->attrs, "%s", value);
        return 1;
    }
    snprintf(c->msg, sizeof c->msg, "unknown key '%s' in [region %s]", name, region);
    return 0;
}

static int board_key_romfs(board_ctx *c, const char *name, const char *value)
{
    fs_board *b = c->b;
    b->has_romfs = true;
    if (strcmp(name, "start") == 0) {
        c->romfs_start_set = true;
        return board_expr(c, name, value, &b->romfs_start);
    }
    if (strcmp(name, "size") == 0) {
        c->romfs_size_set = true;
        return board_expr(c, name, value, &b->romfs_size);
    }
    snprintf(c->msg, sizeof c->msg, "unknown key '%s' in [romfs]", name);
    return 0;
}

static int board_handler(void *user, const char *section, const char *name, const char *value)
{
    board_ctx *c = user;
    if (c->msg[0])
        return 1; /* keep only the first error */
    if (!name)
        return 1; /* a section header alone (inih calls with name NULL when configured to) */
    if (strcmp(section, "board") == 0)
        return board_key_board(c, name, value);
    if (strncmp(section, "region ", 7) == 0 && section[7])
        return board_key_region(c, section + 7, name, value);
    if (strcmp(section, "romfs") == 0)
        return board_key_romfs(c, name, value);
    if (!section[0])
        snprintf(c->msg, sizeof c->msg, "key '%s' outside any [section]", name);
    else
        snprintf(c->msg, sizeof c->msg, "unknown section [%s] (known: [board], [region NAME], [romfs])", section);
    return 0;
}

static bool board_is_path(const char *name)
{
    size_t n = strlen(name);
    return strchr(name, '/') || (n > 4 && strcmp(name + n - 4, ".ini") == 0);
}

static int board_check(const board_ctx *c, const char *path, fs_error *err)
{
    const fs_board *b = c->b;
    if (!c->seen_board || !b->name)
        return fs_fail(err, "%s: missing [board] section with a name", path);
    for (size_t i = 0; i < b->map.nregions; i++) {
        const fs_region *r = &b->map.regions[i];
        if (r->origin == UINT64_MAX)
            return fs_fail(err, "%s: [region %s] has no origin", path, r->name);
        if (r->length == UINT64_MAX)
            return fs_fail(err, "%s: [region %s] has no length", path, r->name);
    }
    if (b->has_romfs && !(c->romfs_start_set && c->romfs_size_set))
        return fs_fail(err, "%s: [romfs] needs both start and size", path);
    return 0;
}

int fs_board_load(const char *rules_dir, const char *name, fs_board *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    if (board_is_path(name))
        snprintf(path, sizeof path, "%s", name);
    else if (!rules_dir)
        return fs_fail(err, "board '%s': no rules directory found (set FLASHSIZE_RULES)", name);
    else
        snprintf(path, sizeof path, "%s/boards/%s.ini", rules_dir, name);

    struct stat st;
    if (stat(path, &st) != 0) {
        if (!board_is_path(name))
            return fs_fail(err, "unknown board '%s' (no %s; `flashsize boards` lists them)", name, path);
        return fs_fail(err, "%s: cannot open: %s", path, strerror(errno));
    }
    board_ctx c = {.b = out};
    int rc = fs_ini_load(path, FS_BOARD_MAX_FILE_BYTES, board_handler, &c, c.msg, err);
    if (rc == 0)
        rc = board_check(&c, path, err);
    if (rc == 0 && !(out->path = strdup(path)))
        rc = fs_fail(err, "%s: out of memory", path);
    if (rc != 0)
        fs_board_free(out);
    return rc;
}

void fs_board_free(fs_board *b)
{
    if (!b)
        return;
    free(b->name);
    free(b->description);
    free(b->path);
    fs_memmap_free(&b->map);
    memset(b, 0, sizeof *b);
}

static int board_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int fs_board_list(const char *rules_dir, char ***names, size_t *count, fs_error *err)
{
    *names = NULL;
    *count = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/boards", rules_dir ? rules_dir : ".");
    DIR *d = opendir(path);
    if (!d)
        return fs_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct dirent *e;
    size_t cap = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n <= 4 || strcmp(e->d_name + n - 4, ".ini") != 0)
            continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(*names, cap * sizeof *grown);
            if (!grown)
                break;
            *names = grown;
        }
        char *name = strndup(e->d_name, n - 4);
        if (!name)
            break;
        (*names)[(*count)++] = name;
    }
    closedir(d);
    if (*count)
        qsort(*names, *count, sizeof **names, board_cmp);
    return 0;
}

char *fs_install_dir(const char *env_var, const char *name)
{
    const char *env = getenv(env_var);
    if (env && *env)
        return strdup(env);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    static const char *const candidates[] = {"/../", "/../share/flashsize/"};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s%s%s", exe, candidates[i], name);
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            return realpath(dir, NULL);
    }
    return NULL;
}

char *fs_rules_dir(void)
{
    return fs_install_dir("FLASHSIZE_RULES", "rules");
}
