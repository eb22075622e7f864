/*
 * util.c - errors and the small containers shared by every module.
 */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_fail(fs_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->kind = FS_ERR_INPUT;
    }
    return -1;
}

int fs_fail_kind(fs_error *err, fs_error_kind kind, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->kind = kind;
    }
    return -1;
}

const char *fs_error_kind_name(fs_error_kind kind)
{
    static const char *const names[FS_ERR_KINDS] = {
        [FS_ERR_INPUT] = "input",       [FS_ERR_LIMIT] = "limit", [FS_ERR_NOMEM] = "out of memory",
        [FS_ERR_BUSY] = "busy",         [FS_ERR_READONLY] = "read-only", [FS_ERR_IO] = "I/O",
        [FS_ERR_NOTFOUND] = "not found", [FS_ERR_AUTH] = "auth", [FS_ERR_INTERNAL] = "internal",
    };
    return kind < FS_ERR_KINDS ? names[kind] : "unknown";
}

void fs_memmap_free(fs_memmap *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->nregions; i++)
        free(map->regions[i].name);
    for (size_t i = 0; i < map->nsymbols; i++)
        free(map->symbols[i].name);
    free(map->regions);
    free(map->symbols);
    memset(map, 0, sizeof *map);
}

int fs_memmap_find(const fs_memmap *map, const char *name)
{
    for (size_t i = 0; i < map->nregions; i++)
        if (strcmp(map->regions[i].name, name) == 0)
            return (int)i;
    return -1;
}

int fs_memmap_add(fs_memmap *map, const char *name, uint64_t origin, uint64_t length, const char *attrs)
{
    fs_region *grown = realloc(map->regions, (map->nregions + 1) * sizeof *grown);
    if (!grown)
        return -1;
    map->regions = grown;
    fs_region *r = &map->regions[map->nregions];
    memset(r, 0, sizeof *r);
    r->name = strdup(name);
    if (!r->name)
        return -1;
    r->origin = origin;
    r->length = length;
    if (attrs)
        snprintf(r->attrs, sizeof r->attrs, "%s", attrs);
    return (int)map->nregions++;
}

int fs_memmap_copy(fs_memmap *dst, const fs_memmap *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < src->nregions; i++) {
        const fs_region *r = &src->regions[i];
        if (fs_memmap_add(dst, r->name, r->origin, r->length, r->attrs) < 0)
            goto oom;
    }
    if (src->nsymbols) {
        dst->symbols = calloc(src->nsymbols, sizeof *dst->symbols);
        if (!dst->symbols)
            goto oom;
        for (size_t i = 0; i < src->nsymbols; i++) {
            dst->symbols[i].value = src->symbols[i].value;
            dst->symbols[i].name = strdup(src->symbols[i].name);
            dst->nsymbols = i + 1;
            if (!dst->symbols[i].name)
                goto oom;
        }
    }
    return 0;
oom:
    fs_memmap_free(dst);
    return -1;
}

int fs_read_file(const char *path, uint64_t max, const char *what, unsigned char **data, size_t *len, fs_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fs_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return fs_fail(err, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        fclose(f);
        return fs_fail_kind(err, FS_ERR_LIMIT, "%s: %s is %lld bytes, larger than the %llu-byte limit", path, what,
                       (long long)st.st_size, (unsigned long long)max);
    }
    size_t size = (size_t)st.st_size;
    unsigned char *buf = malloc(size + 1);
    if (!buf) {
        fclose(f);
        return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = fread(buf, 1, size, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != size) {
        free(buf);
        return fs_fail(err, "%s: read error", path);
    }
    buf[size] = '\0';
    *data = buf;
    *len = size;
    return 0;
}

int fs_map_file(const char *path, uint64_t max, const char *what, const unsigned char **data, size_t *len,
                fs_error *err)
{
    static const unsigned char empty[1];
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fs_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fs_fail(err, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return fs_fail_kind(err, FS_ERR_LIMIT, "%s: %s is %lld bytes, larger than the %llu-byte limit", path, what,
                       (long long)st.st_size, (unsigned long long)max);
    }
    size_t size = (size_t)st.st_size;
    void *p = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0) : (void *)empty;
    int saved = errno;
    close(fd);
    if (p == MAP_FAILED)
        return fs_fail(err, "%s: cannot map: %s", path, strerror(saved));
    *data = p;
    *len = size;
    return 0;
}

void fs_unmap_file(const unsigned char *data, size_t len)
{
    if (data && len)
        munmap((void *)(uintptr_t)data, len);
}

int fs_ini_load(const char *path, uint64_t max, fs_ini_handler handler, void *user, const char *reason,
                fs_error *err)
{
    unsigned char *text;
    size_t len;
    if (fs_read_file(path, max, "file", &text, &len, err) < 0)
        return -1;
    int line = 0;
    if (len > 0) {
        /* inih reads a stream line by line, as from the file itself */
        FILE *f = fmemopen(text, len, "r");
        line = f ? ini_parse_file(f, handler, user) : -1;
        if (f)
            fclose(f);
    }
    free(text);
    if (line < 0)
        return fs_fail(err, "%s: cannot read", path);
    if (line > 0)
        return fs_fail(err, "%s:%d: %s", path, line,
                       reason[0] ? reason : "syntax error (expected [section] or key = value)");
    return 0;
}
