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
        [FS_ERR_UNAVAILABLE] = "unavailable",
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

int fs_open_input(const char *path, struct stat *st, fs_error *err)
{
    struct stat own;
    if (!st)
        st = &own;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return fs_fail(err, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        return fs_fail(err, "%s: cannot open: %s", path, strerror(e));
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return fs_fail(err, "%s: not a regular file", path);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        return fs_fail(err, "%s: cannot open: %s", path, strerror(e));
    }
    return fd;
}

FILE *fs_fopen_input(const char *path, const char *mode, fs_error *err)
{
    int fd = fs_open_input(path, NULL, err);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, mode);
    if (!f) {
        int e = errno;
        close(fd);
        fs_fail(err, "%s: cannot open: %s", path, strerror(e));
    }
    return f;
}

int fs_read_file(const char *path, uint64_t max, const char *what, unsigned char **data, size_t *len, fs_error *err)
{
    *data = NULL;
    *len = 0;
    struct stat st;
    int fd = fs_open_input(path, &st, err);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return fs_fail(err, "%s: out of memory", path);
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
    struct stat st;
    int fd = fs_open_input(path, &st, err);
    if (fd < 0)
        return -1;
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

/* One section header or key line of an .ini file, for the duplicate rule. */
typedef struct ini_item {
    const char *sec;  /* section name (for a key: its section's), in the text */
    size_t seclen;
    const char *key;  /* NULL for a section header */
    size_t keylen;
    unsigned line;
} ini_item;

static int ini_item_cmp(const void *pa, const void *pb)
{
    const ini_item *a = pa, *b = pb;
    size_t n = a->seclen < b->seclen ? a->seclen : b->seclen;
    int c = memcmp(a->sec, b->sec, n);
    if (c || a->seclen != b->seclen)
        return c ? c : (a->seclen < b->seclen ? -1 : 1);
    if (!a->key != !b->key)
        return a->key ? 1 : -1;
    if (a->key) {
        n = a->keylen < b->keylen ? a->keylen : b->keylen;
        c = memcmp(a->key, b->key, n);
        if (c || a->keylen != b->keylen)
            return c ? c : (a->keylen < b->keylen ? -1 : 1);
    }
    return a->line < b->line ? -1 : a->line > b->line;
}

static bool ini_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The checks inih cannot make, over the text as inih will read it (its
 * syntax: ';' or '#' comment lines, [section], key = value or key: value,
 * an indented line after a key continuing its value). */
static int ini_precheck(const char *path, const char *text, size_t len, fs_error *err)
{
    size_t cap = 0, n = 0;
    ini_item *items = NULL;
    const char *sec = "";
    size_t seclen = 0;
    bool have_key = false;
    int rc = 0;
    unsigned line = 1;
    for (size_t pos = 0; pos < len && rc == 0; line++) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t linelen = nl ? (size_t)(nl - s) : len - pos;
        pos += linelen + 1;
        if (linelen > FS_INI_MAX_LINE) {
            rc = fs_fail(err, "%s:%u: line too long (%zu characters; the limit is %d)", path, line, linelen,
                         FS_INI_MAX_LINE);
            break;
        }
        size_t i = 0;
        if (line == 1 && linelen >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
            i = 3;
        size_t lead = i;
        while (i < linelen && ini_space(s[i]))
            i++;
        size_t end = linelen;
        while (end > i && ini_space(s[end - 1]))
            end--;
        if (i == end || s[i] == ';' || s[i] == '#')
            continue;
        if (have_key && i > lead)
            continue; /* a continuation of the previous value */
        ini_item it = {.line = line};
        if (s[i] == '[') {
            const char *close = memchr(s + i, ']', end - i);
            if (!close)
                continue; /* inih's own syntax error */
            sec = s + i + 1;
            seclen = (size_t)(close - sec);
            it.sec = sec;
            it.seclen = seclen;
            have_key = false;
        } else {
            size_t k = i;
            while (k < end && s[k] != '=' && s[k] != ':' && !(s[k] == ';' && k > i && ini_space(s[k - 1])))
                k++;
            if (k == end || s[k] == ';')
                continue; /* inih's own syntax error */
            size_t kend = k;
            while (kend > i && ini_space(s[kend - 1]))
                kend--;
            it.sec = sec;
            it.seclen = seclen;
            it.key = s + i;
            it.keylen = kend - i;
            have_key = true;
        }
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            ini_item *grown = realloc(items, ncap * sizeof *grown);
            if (!grown) {
                rc = fs_fail(err, "%s: out of memory", path);
                break;
            }
            items = grown;
            cap = ncap;
        }
        items[n++] = it;
    }
    if (rc == 0 && n > 1) {
        qsort(items, n, sizeof *items, ini_item_cmp);
        /* The first duplicate in the file is the one reported. */
        const ini_item *dup = NULL, *first = NULL;
        for (size_t i = 1; i < n; i++) {
            const ini_item *a = &items[i - 1], *b = &items[i];
            ini_item a0 = *a, b0 = *b;
            a0.line = b0.line = 0; /* the same section (and key) on different lines */
            if (ini_item_cmp(&a0, &b0) == 0 && (!dup || b->line < dup->line))
                dup = b, first = a;
        }
        if (dup && !dup->key)
            rc = fs_fail(err, "%s:%u: section [%.*s] given twice (first on line %u)", path, dup->line,
                         (int)dup->seclen, dup->sec, first->line);
        else if (dup)
            rc = fs_fail(err, "%s:%u: '%.*s' given twice in [%.*s] (first on line %u)", path, dup->line,
                         (int)dup->keylen, dup->key, (int)dup->seclen, dup->sec, first->line);
    }
    free(items);
    return rc;
}

int fs_ini_load(const char *path, uint64_t max, fs_ini_handler handler, void *user, const char *reason,
                fs_error *err)
{
    unsigned char *text;
    size_t len;
    if (fs_read_file(path, max, "file", &text, &len, err) < 0)
        return -1;
    if (ini_precheck(path, (const char *)text, len, err) < 0) {
        free(text);
        return -1;
    }
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
