/*
 * romsyms.c - read ROM symbol tables written as GNU ld symbol assignments.
 *
 * The ESP8266 SDK describes its mask ROM as one assignment per line:
 * `PROVIDE ( memcpy = 0x4000df48 );` (weak: a definition elsewhere wins) or
 * `__divsi3 = 0x4000dc88;` (strong).  We accept exactly those two statement
 * shapes, any spacing, several statements on a line, C block comments (also
 * spanning lines), `//` line comments and blank lines.  Anything else is an
 * error naming file:line, because a table we half understood would make the
 * ROM-vs-library analysis silently wrong.  A name defined twice is an error
 * too (mpy_ld refuses such a file).
 *
 * Values are hexadecimal with 0x, or decimal.  The file and the symbol count
 * are capped (FS_ROMSYMS_MAX_*) so that a hostile input cannot exhaust
 * memory.  Lookups are a binary search by name, behind a bit filter.  The
 * tables of rules/rom/ are also parsed when flashsize is built
 * (scripts/romtab-gen.c); a file with exactly such a table's bytes is
 * taken from there instead of parsed again.
 */
#include "romsyms.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FS_ROMSYMS_MAX_FILE (4u << 20) /* bytes */
#define FS_ROMSYMS_MAX_SYMS 65536u
#define FS_ROMSYMS_MAX_NAME 255u

/* A cursor over the text with the line number and comment state. */
typedef struct rs_cursor {
    const char *path;
    const char *p, *end;
    unsigned line;
    fs_error *err;
    size_t names_used, names_cap; /* of the table's names block */
} rs_cursor;

/* A space, tab, CR, FF or VT: one comparison for the usual space. */
static inline bool rs_blank(char ch)
{
    return ch == ' ' || (ch >= '\t' && ch <= '\r' && ch != '\n');
}

/* Skip whitespace and comments; stays on the current line unless a block
 * comment spans lines.  Stops before '\n' so the caller sees line ends. */
static int rs_skip_space(rs_cursor *c)
{
    for (;;) {
        while (c->p < c->end && rs_blank(*c->p))
            c->p++;
        if (c->end - c->p >= 2 && c->p[0] == '/' && c->p[1] == '*') {
            unsigned start = c->line;
            const char *q = c->p + 2, *close = NULL;
            for (const char *star = q; (star = memchr(star, '*', (size_t)(c->end - star))) && !close; star++)
                if (star + 1 < c->end && star[1] == '/')
                    close = star;
            if (!close)
                return fs_fail(c->err, "%s:%u: unterminated comment", c->path, start);
            for (; (q = memchr(q, '\n', (size_t)(close - q))); q++)
                c->line++;
            c->p = close + 2;
            continue;
        }
        if (c->end - c->p >= 2 && c->p[0] == '/' && c->p[1] == '/') {
            const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
            c->p = nl ? nl : c->end;
        }
        return 0;
    }
}

static bool rs_at_line_end(const rs_cursor *c)
{
    return c->p >= c->end || *c->p == '\n';
}

static int rs_expect(rs_cursor *c, char ch, const char *what)
{
    if (rs_skip_space(c) < 0)
        return -1;
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 0;
    }
    return fs_fail(c->err, "%s:%u: expected %s", c->path, c->line, what);
}

/* An identifier: [A-Za-z_.$][A-Za-z0-9_.$]*; returns its length, 0 if none. */
static bool rs_ident_char(char ch, bool first)
{
    unsigned char u = (unsigned char)ch;
    return ((u | 0x20) >= 'a' && (u | 0x20) <= 'z') || ch == '_' || ch == '.' || ch == '$' ||
           (!first && u >= '0' && u <= '9');
}

static size_t rs_ident(const rs_cursor *c)
{
    const char *q = c->p;
    if (q >= c->end || !rs_ident_char(*q, true))
        return 0;
    while (q < c->end && rs_ident_char(*q, false))
        q++;
    return (size_t)(q - c->p);
}

static int rs_number(rs_cursor *c, uint64_t *out)
{
    if (rs_skip_space(c) < 0)
        return -1;
    const char *q = c->p;
    int base = 10;
    if (c->end - q >= 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
        base = 16;
        q += 2;
    }
    uint64_t v = 0;
    size_t digits = 0;
    for (; q < c->end && isxdigit((unsigned char)*q); q++, digits++) {
        unsigned d = isdigit((unsigned char)*q) ? (unsigned)(*q - '0') : (unsigned)(tolower((unsigned char)*q) - 'a' + 10);
        if (d >= (unsigned)base)
            break;
        if (v > (UINT64_MAX - d) / (uint64_t)base)
            return fs_fail(c->err, "%s:%u: address does not fit in 64 bits", c->path, c->line);
        v = v * (uint64_t)base + d;
    }
    if (digits == 0 || (q < c->end && (isalnum((unsigned char)*q) || *q == '_')))
        return fs_fail(c->err, "%s:%u: expected a number (0x... or decimal)", c->path, c->line);
    c->p = q;
    *out = v;
    return 0;
}

static int rs_add(rs_cursor *c, fs_romtable *t, size_t *cap, const char *name, size_t nlen, uint64_t addr,
                  bool weak)
{
    if (nlen > FS_ROMSYMS_MAX_NAME)
        return fs_fail(c->err, "%s:%u: symbol name longer than %u characters", c->path, c->line, FS_ROMSYMS_MAX_NAME);
    if (t->nsyms == FS_ROMSYMS_MAX_SYMS)
        return fs_fail(c->err, "%s:%u: more than %u symbols", c->path, c->line, FS_ROMSYMS_MAX_SYMS);
    if (t->nsyms == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        fs_romsym *g = realloc(t->syms, ncap * sizeof *g);
        if (!g)
            return fs_fail(c->err, "%s: out of memory", c->path);
        t->syms = g;
        *cap = ncap;
    }
    fs_romsym *s = &t->syms[t->nsyms];
    if (nlen + 1 > c->names_cap - c->names_used) /* cannot happen: each name is followed by '=' */
        return fs_fail(c->err, "%s:%u: internal error: no room for the name", c->path, c->line);
    s->name = t->names + c->names_used;
    memcpy(s->name, name, nlen);
    s->name[nlen] = '\0';
    c->names_used += nlen + 1;
    s->addr = addr;
    s->weak = weak;
    s->line = c->line;
    t->nsyms++;
    return 0;
}

/* One statement: `PROVIDE ( name = num ) ;` or `name = num ;`. */
static int rs_statement(rs_cursor *c, fs_romtable *t, size_t *cap)
{
    size_t n = rs_ident(c);
    if (n == 0)
        return fs_fail(c->err, "%s:%u: expected a symbol assignment", c->path, c->line);
    bool weak = (n == 7 && memcmp(c->p, "PROVIDE", 7) == 0);
    if (weak) {
        c->p += n;
        if (rs_expect(c, '(', "'(' after PROVIDE") < 0 || rs_skip_space(c) < 0)
            return -1;
        n = rs_ident(c);
        if (n == 0)
            return fs_fail(c->err, "%s:%u: expected a symbol name in PROVIDE", c->path, c->line);
    }
    const char *name = c->p;
    c->p += n;
    uint64_t addr = 0;
    if (rs_expect(c, '=', "'=' after the symbol name") < 0 || rs_number(c, &addr) < 0)
        return -1;
    if (weak && rs_expect(c, ')', "')' closing PROVIDE") < 0)
        return -1;
    if (rs_expect(c, ';', "';' ending the assignment") < 0)
        return -1;
    return rs_add(c, t, cap, name, n, addr, weak);
}

static int rs_parse(rs_cursor *c, fs_romtable *t)
{
    size_t cap = 0;
    for (;;) {
        if (rs_skip_space(c) < 0)
            return -1;
        if (c->p >= c->end)
            return 0;
        if (*c->p == '\n') {
            c->p++;
            c->line++;
            continue;
        }
        if (*c->p == '\0')
            return fs_fail(c->err, "%s:%u: NUL byte (not a text file)", c->path, c->line);
        if (rs_statement(c, t, &cap) < 0)
            return -1;
        if (rs_skip_space(c) < 0)
            return -1;
        if (!rs_at_line_end(c) && !rs_ident(c))
            return fs_fail(c->err, "%s:%u: unexpected '%c' after the assignment", c->path, c->line,
                           isprint((unsigned char)*c->p) ? *c->p : '?');
    }
}

/* The filter's bit for a name of n bytes: its length, first and last two
 * bytes.  Most of a firmware's names miss every bit a table of a few hundred
 * names sets, and are answered without hashing the whole name. */
static unsigned rs_filter_bit(const char *name, size_t n)
{
    uint32_t h = (uint32_t)n * 0x9e3779b1u;
    h ^= (unsigned char)name[0] * 0x85ebca6bu;
    h ^= (unsigned char)name[n - 1] * 0xc2b2ae35u;
    h ^= (unsigned char)name[n > 1 ? n - 2 : 0] * 0x27d4eb2fu;
    return (h ^ h >> 15) % (sizeof ((fs_romtable *)0)->filter * 8);
}

static bool rs_filter_has(const fs_romtable *t, const char *name, size_t n)
{
    unsigned b = rs_filter_bit(name, n);
    return t->filter[b / 64] >> (b % 64) & 1;
}

/* Order of by_name: the name, then the line (so the first definition of a
 * name comes first). */
static int rs_by_name_cmp(const void *a, const void *b, void *ctx)
{
    const fs_romsym *syms = ctx, *x = &syms[*(const uint32_t *)a], *y = &syms[*(const uint32_t *)b];
    int c = strcmp(x->name, y->name);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Index the names for fs_romtable_find (a firmware has thousands of
 * symbols to look up): the filter, and the symbols sorted by name; a name
 * defined twice is an error naming the second definition's line (the
 * earliest such line in the file). */
static int rs_index(fs_romtable *t, fs_error *err)
{
    t->by_name = malloc((t->nsyms + 1) * sizeof *t->by_name);
    if (!t->by_name)
        return fs_fail(err, "%s: out of memory", t->path);
    for (size_t i = 0; i < t->nsyms; i++) {
        size_t n = strlen(t->syms[i].name);
        unsigned b = rs_filter_bit(t->syms[i].name, n);
        t->filter[b / 64] |= 1ull << (b % 64);
        t->by_name[i] = (uint32_t)i;
    }
    qsort_r(t->by_name, t->nsyms, sizeof *t->by_name, rs_by_name_cmp, t->syms);
    const fs_romsym *first = NULL, *second = NULL;
    for (size_t i = 1; i < t->nsyms; i++) {
        const fs_romsym *x = &t->syms[t->by_name[i - 1]], *y = &t->syms[t->by_name[i]];
        if (strcmp(x->name, y->name) == 0 && (!second || y->line < second->line)) {
            size_t k = i - 1; /* the name's first definition */
            while (k > 0 && strcmp(t->syms[t->by_name[k - 1]].name, y->name) == 0)
                k--;
            first = &t->syms[t->by_name[k]];
            second = y;
        }
    }
    if (second)
        return fs_fail(err, "%s:%u: symbol '%s' defined twice (first on line %u)", t->path, second->line,
                       second->name, first->line);
    return 0;
}

/* A table built in (romtab_builtin.c, made from rules/rom/ at build time)
 * whose text is exactly text[0..len), or NULL. */
static const fs_romtable_builtin *rs_builtin(const char *text, size_t len)
{
    for (size_t i = 0; i < fs_romtable_nbuiltins; i++)
        if (fs_romtable_builtins[i].len == len && memcmp(fs_romtable_builtins[i].text, text, len) == 0)
            return &fs_romtable_builtins[i];
    return NULL;
}

int fs_romtable_load(const char *path, fs_romtable *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    unsigned char *data;
    size_t len;
    if (fs_read_file(path, FS_ROMSYMS_MAX_FILE, "ROM table", &data, &len, err) < 0)
        return -1;
    char *text = (char *)data;
    out->path = strdup(path);
    if (!out->path) {
        free(text);
        return fs_fail(err, "%s: out of memory", path);
    }
    const fs_romtable_builtin *b = rs_builtin(text, len);
    if (b) {
        /* the same bytes as a table shipped in rules/rom/: parsed when
         * flashsize was built (a tenth of the cost of parsing it here) */
        free(text);
        out->syms = b->syms;
        out->nsyms = b->nsyms;
        out->by_name = (uint32_t *)b->by_name;
        memcpy(out->filter, b->filter, sizeof out->filter);
        out->builtin = true;
        return 0;
    }
    /* every name is a piece of the text followed by at least one byte that
     * is not part of it, so len + 1 bytes hold them all */
    out->names = malloc(len + 1);
    if (!out->names) {
        free(text);
        fs_romtable_free(out);
        return fs_fail(err, "%s: out of memory", path);
    }
    rs_cursor c = {path, text, text + len, 1, err, 0, len + 1};
    int rc = rs_parse(&c, out);
    free(text);
    if (rc == 0 && out->nsyms == 0)
        rc = fs_fail(err, "%s: no symbol assignments (not a ROM table)", path);
    if (rc == 0)
        rc = rs_index(out, err);
    if (rc < 0)
        fs_romtable_free(out);
    return rc;
}

void fs_romtable_free(fs_romtable *t)
{
    if (!t)
        return;
    if (!t->builtin) {
        free(t->names);
        free(t->syms);
        free(t->by_name);
    }
    free(t->path);
    memset(t, 0, sizeof *t);
}

const fs_romsym *fs_romtable_find(const fs_romtable *t, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > FS_ROMSYMS_MAX_NAME || !t->by_name || !rs_filter_has(t, name, n))
        return NULL;
    size_t lo = 0, hi = t->nsyms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->syms[t->by_name[mid]].name, name);
        if (c == 0)
            return &t->syms[t->by_name[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const fs_romsym *fs_romtable_at(const fs_romtable *t, uint64_t addr)
{
    for (size_t i = 0; i < t->nsyms; i++)
        if (t->syms[i].addr == addr)
            return &t->syms[i];
    return NULL;
}
