/*
 * mapfile.c - read a GNU ld map file and break its bytes down by object,
 * archive, output section and memory region.
 *
 * The reader is a line-by-line state machine.  Block headers ("Memory
 * Configuration", "Linker script and memory map", ...) switch the state;
 * inside the memory map, a line is recognised by its shape, not by column
 * positions, because ld widens the columns for 64-bit addresses:
 *
 *   NAME 0xVMA 0xSIZE [load address 0xLMA]   output section (column 0)
 *   NAME  /  <spaces>0xVMA 0xSIZE [...]      the same, name too long
 *    NAME 0xADDR 0xSIZE FILE                 input section (one space)
 *    NAME  /  <spaces>0xADDR 0xSIZE FILE     the same, name too long
 *    *fill* 0xADDR 0xSIZE                    padding
 *   <spaces>0xADDR 0xSIZE LONG 0x...         linker-script data
 *   <spaces>0xADDR  symbol or assignment     ignored
 *
 * Anything else (patterns like " *(.text*)", "size before relaxing", LOAD
 * lines) is skipped.  After reading, each output section's bytes are split
 * exactly into input sections, fill and unattributed bytes by walking its
 * entries in address order and crediting each byte once; then the sections
 * are placed in the regions with regions.c's rules.
 */
#include "mapfile.h"
#include "document.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

#define MAP_MAX_TOKENS  8
#define MAP_MAX_REGIONS 4096

typedef enum {
    ST_NONE, ST_ARCHIVE, ST_COMMON, ST_DISCARDED, ST_MEMCONF, ST_MEMMAP, ST_CREF, ST_OTHER
} map_state;

#define MAP_HEADER(text, state) {text, sizeof text - 1, state}
static const struct {
    const char *text;
    size_t len;
    map_state state;
} map_headers[] = {
    MAP_HEADER("Archive member included to satisfy reference by file (symbol)", ST_ARCHIVE),
    MAP_HEADER("As-needed library included to satisfy reference by file (symbol)", ST_OTHER),
    MAP_HEADER("Merging program properties", ST_OTHER),
    MAP_HEADER("Allocating common symbols", ST_COMMON),
    MAP_HEADER("Discarded input sections", ST_DISCARDED),
    MAP_HEADER("Memory Configuration", ST_MEMCONF),
    MAP_HEADER("Linker script and memory map", ST_MEMMAP),
    MAP_HEADER("Cross Reference Table", ST_CREF),
};

/* One line split into whitespace-separated tokens (copied, NUL-terminated
 * in buf); off[i] is where token i starts in the raw line. */
typedef struct map_line {
    const char *raw;
    size_t len;
    size_t lead;           /* leading blanks */
    char *tok[MAP_MAX_TOKENS];
    size_t off[MAP_MAX_TOKENS];
    size_t ntok;
} map_line;

typedef struct map_parser {
    const char *name;
    fs_mapfile *m;
    fs_error *err;
    map_state state;
    size_t lineno;
    bool seen_memconf, seen_memmap, after_output;
    char *buf;             /* FS_MAP_MAX_LINE + 1 bytes for token copies */
    char *pending_osec;    /* output section name awaiting its numbers */
    char *pending_input;   /* input section name awaiting its numbers: NULL or pending_buf */
    char *pending_buf;     /* FS_MAP_MAX_LINE + 1 bytes */
    char *pending_member;  /* archive member awaiting its reason */
    long cur_sec;          /* section receiving input sections, -1 none */
    size_t cap_sections, cap_inputs, cap_objects, cap_members;
    int *hash;             /* object path -> index + 1, open addressing */
    int last_object;       /* the object of the last input section, -1 none */
    size_t hash_cap;
} map_parser;

/* ---- small helpers ------------------------------------------------------ */

/* The parser's strings (names, paths) live in blocks owned by the
 * fs_mapfile and freed together: a map has tens of thousands of them, and
 * a malloc and a free each cost more than the parse of the line. */
typedef struct map_block {
    struct map_block *next;
    size_t used, cap;
    char data[];
} map_block;

/* A copy of s[0..n) with a NUL, in m's blocks; NULL when out of memory. */
static char *map_str(fs_mapfile *m, const char *s, size_t n)
{
    map_block *b = m->strings;
    if (!b || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > 65536 ? n + 1 : 65536;
        map_block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        *nb = (map_block){b, 0, cap};
        m->strings = b = nb;
    }
    char *out = b->data + b->used;
    memcpy(out, s, n);
    out[n] = '\0';
    b->used += n + 1;
    return out;
}

static char *map_strz(fs_mapfile *m, const char *s)
{
    return map_str(m, s, strlen(s));
}

static int map_oom(map_parser *p)
{
    return fs_fail(p->err, "%s: out of memory", p->name);
}

static int map_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *g = realloc(*arr, n * elem);
    if (!g)
        return -1;
    *arr = g;
    *cap = n;
    return 0;
}

/* One more than the value of a hex digit, 0 for anything else. */
static const unsigned char map_hexval[256] = {
    ['0'] = 1,   ['1'] = 2,   ['2'] = 3,   ['3'] = 4,   ['4'] = 5,   ['5'] = 6,   ['6'] = 7,   ['7'] = 8,
    ['8'] = 9,   ['9'] = 10,  ['a'] = 11,  ['b'] = 12,  ['c'] = 13,  ['d'] = 14,  ['e'] = 15,  ['f'] = 16,
    ['A'] = 11,  ['B'] = 12,  ['C'] = 13,  ['D'] = 14,  ['E'] = 15,  ['F'] = 16,
};

/* "0x" and 1..16 hex digits at s: the number's length (its value in *v),
 * or 0.  What follows it is the caller's to check; a byte that is not a
 * hex digit (a NUL, a blank, the line's end) ends the digits. */
static size_t map_hex_len(const char *s, uint64_t *v)
{
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return 0;
    uint64_t x = 0;
    size_t n = 2;
    for (unsigned d; (d = map_hexval[(unsigned char)s[n]]) != 0; n++)
        x = x << 4 | (d - 1);
    if (n == 2 || n > 18) /* no digit, or more than 16 */
        return 0;
    *v = x;
    return n;
}

/* A token that is a number: "0x", 1..16 hex digits and nothing else. */
static bool map_hex(const char *s, uint64_t *v)
{
    uint64_t x;
    size_t n = s ? map_hex_len(s, &x) : 0;
    if (!n || s[n])
        return false;
    *v = x;
    return true;
}

static bool map_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The first position at or after i (below n) that is not a space or tab. */
static size_t map_blanks(const char *buf, size_t i, size_t n)
{
    const uint64_t spaces = 0x2020202020202020u;
    while (i + 8 <= n) {
        uint64_t v;
        memcpy(&v, buf + i, 8);
        if (v != spaces)
            break;
        i += 8;
    }
    while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
        i++;
    return i;
}

static void map_split(map_line *l, char *buf)
{
    memcpy(buf, l->raw, l->len);
    buf[l->len] = '\0';
    l->ntok = 0;
    /* A map is mostly runs of spaces (16 before an address, padding after
     * a name): crossed eight bytes at a time.  The line has no NUL
     * (map_read). */
    size_t n = l->len, i = map_blanks(buf, 0, n);
    l->lead = i;
    while (i < n && l->ntok < MAP_MAX_TOKENS) {
        l->off[l->ntok] = i;
        l->tok[l->ntok++] = buf + i;
        i += strcspn(buf + i, " \t"); /* libc's vectorised scan: tokens are long paths */
        if (i < n)
            buf[i++] = '\0';
        i = map_blanks(buf, i, n);
    }
}

static bool map_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The end of line[0..n)'s last word (the line has one). */
static size_t map_trim(const char *line, size_t n)
{
    while (map_blank(line[n - 1]))
        n--;
    return n;
}

/* The raw line from token i to the end, trailing blanks removed: its start
 * (in the line) and length. */
static const char *map_rest(const map_line *l, size_t i, size_t *n)
{
    size_t start = l->off[i];
    *n = map_trim(l->raw, l->len) - start;
    return l->raw + start;
}

/* ---- objects ------------------------------------------------------------- */

/* A hash of s[0..n): eight bytes a step (object paths are long). */
static uint64_t map_hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ h >> 32;
}

static int map_hash_insert(int *table, size_t cap, const fs_mapfile *m, int idx)
{
    const char *path = m->objects[idx].path;
    size_t i = (size_t)(map_hash_str(path, strlen(path)) & (cap - 1));
    while (table[i])
        i = (i + 1) & (cap - 1);
    table[i] = idx + 1;
    return 0;
}

static int map_hash_rehash(map_parser *p)
{
    size_t cap = p->hash_cap ? p->hash_cap * 2 : 256;
    int *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < p->m->nobjects; i++)
        map_hash_insert(t, cap, p->m, (int)i);
    free(p->hash);
    p->hash = t;
    p->hash_cap = cap;
    return 0;
}

static int map_object_find(map_parser *p, const char *path, size_t n);

/* Index of the object called path[0..n), added if new; -1 on OOM. */
static int map_object(map_parser *p, const char *path, size_t n)
{
    fs_mapfile *m = p->m;
    if (p->last_object >= 0) { /* an object's input sections come one after the other */
        const char *o = m->objects[p->last_object].path;
        if (strncmp(o, path, n) == 0 && o[n] == '\0')
            return p->last_object;
    }
    int found = map_object_find(p, path, n);
    if (found >= 0)
        p->last_object = found;
    return found;
}

/* map_object without the last object's shortcut. */
static int map_object_find(map_parser *p, const char *path, size_t n)
{
    fs_mapfile *m = p->m;
    if (p->hash_cap) {
        size_t i = (size_t)(map_hash_str(path, n) & (p->hash_cap - 1));
        for (; p->hash[i]; i = (i + 1) & (p->hash_cap - 1)) {
            const char *o = m->objects[p->hash[i] - 1].path;
            if (strncmp(o, path, n) == 0 && o[n] == '\0')
                return p->hash[i] - 1;
        }
    }
    if ((m->nobjects + 1) * 2 > p->hash_cap && map_hash_rehash(p) < 0)
        return -1;
    if (map_grow((void **)&m->objects, &p->cap_objects, m->nobjects + 1, sizeof *m->objects) < 0)
        return -1;
    fs_map_object *o = &m->objects[m->nobjects];
    memset(o, 0, sizeof *o);
    o->archive = -1;
    if (!(o->path = map_str(m, path, n)))
        return -1;
    map_hash_insert(p->hash, p->hash_cap, m, (int)m->nobjects);
    return (int)m->nobjects++;
}

/* ---- the blocks ------------------------------------------------------------ */

static int map_add_section(map_parser *p, const char *name, const map_line *l, size_t at)
{
    uint64_t vma, size, lma = 0;
    map_hex(l->tok[at], &vma);
    map_hex(l->tok[at + 1], &size);
    bool has_lma = l->ntok >= at + 5 && strcmp(l->tok[at + 2], "load") == 0 &&
                   strcmp(l->tok[at + 3], "address") == 0 && map_hex(l->tok[at + 4], &lma);
    if (size > UINT64_MAX - vma || (has_lma && size > UINT64_MAX - lma))
        return fs_fail(p->err, "%s:%zu: output section %s (address %#llx, size %#llx) runs past the end of the "
                       "address space", p->name, p->lineno, name, (unsigned long long)vma, (unsigned long long)size);
    fs_mapfile *m = p->m;
    if (map_grow((void **)&m->sections, &p->cap_sections, m->nsections + 1, sizeof *m->sections) < 0)
        return map_oom(p);
    fs_map_section *s = &m->sections[m->nsections];
    memset(s, 0, sizeof *s);
    if (!(s->name = map_strz(m, name)))
        return map_oom(p);
    s->vma = vma;
    s->size = size;
    s->lma = has_lma ? lma : vma;
    s->has_lma = has_lma;
    s->first_input = m->ninputs;
    s->vma_region = s->lma_region = -1;
    s->line = p->lineno;
    /* ld puts non-allocated orphans (.comment, attributes) after OUTPUT(). */
    s->alloc = !(p->after_output && vma == 0);
    p->cur_sec = (long)m->nsections++;
    return 0;
}

static int map_add_input(map_parser *p, const char *name, uint64_t addr, uint64_t size, const char *file,
                         size_t file_len)
{
    fs_mapfile *m = p->m;
    if (p->state == ST_DISCARDED) {
        m->ndiscarded++;
        m->discarded_bytes += size;
        return 0;
    }
    if (p->cur_sec < 0 || size == 0)
        return 0;
    int obj = -1;
    if (file && (obj = map_object(p, file, file_len)) < 0)
        return map_oom(p);
    if (map_grow((void **)&m->inputs, &p->cap_inputs, m->ninputs + 1, sizeof *m->inputs) < 0)
        return map_oom(p);
    fs_map_input *in = &m->inputs[m->ninputs];
    memset(in, 0, sizeof *in);
    if (!(in->name = map_strz(m, name)))
        return map_oom(p);
    in->object = obj;
    in->addr = addr;
    in->size = size;
    in->fill = file == NULL;
    m->ninputs++;
    m->sections[p->cur_sec].ninputs++;
    return 0;
}

/* Lines of an input-section list (memory map or discarded block). */
static int map_input_line(map_parser *p, const map_line *l)
{
    uint64_t a, b;
    bool nums = l->ntok >= 2 && map_hex(l->tok[0], &a) && map_hex(l->tok[1], &b);
    if (p->pending_input) {
        const char *name = p->pending_input;
        p->pending_input = NULL;
        int rc = 0;
        if (nums && l->ntok >= 3) {
            size_t n;
            const char *file = map_rest(l, 2, &n);
            rc = map_add_input(p, name, a, b, file, n);
        }
        if (rc < 0 || (nums && l->ntok >= 3))
            return rc;
    }
    if (l->lead == 1 && l->ntok >= 3 && map_hex(l->tok[1], &a) && map_hex(l->tok[2], &b)) {
        if (strcmp(l->tok[0], "*fill*") == 0)
            return map_add_input(p, "*fill*", a, b, NULL, 0);
        if (l->ntok == 3)
            return 0;
        size_t n;
        const char *file = map_rest(l, 3, &n);
        return map_add_input(p, l->tok[0], a, b, file, n);
    }
    if (l->lead == 1 && l->ntok == 1 && !strchr(l->tok[0], '(') && strcmp(l->tok[0], "*fill*") != 0) {
        p->pending_input = strcpy(p->pending_buf, l->tok[0]); /* a token of one line: it fits */
        return 0;
    }
    if (nums && l->ntok >= 3 && p->cur_sec >= 0 && p->state == ST_MEMMAP) {
        static const char *const data[] = {"BYTE", "SHORT", "LONG", "QUAD", "SQUAD"};
        for (size_t i = 0; i < sizeof data / sizeof *data; i++)
            if (strcmp(l->tok[2], data[i]) == 0)
                p->m->sections[p->cur_sec].has_data = true;
    }
    return 0;
}

static int map_memmap_line(map_parser *p, const map_line *l)
{
    uint64_t a, b;
    if (p->pending_osec) {
        char *name = p->pending_osec;
        p->pending_osec = NULL;
        int rc = 0;
        bool numbers = l->lead > 0 && l->ntok >= 2 && map_hex(l->tok[0], &a) && map_hex(l->tok[1], &b) &&
                       (l->ntok == 2 || strcmp(l->tok[2], "load") == 0);
        if (numbers)
            rc = map_add_section(p, name, l, 0);
        free(name);
        if (numbers || rc < 0)
            return rc;
    }
    if (l->lead > 0)
        return map_input_line(p, l);
    p->pending_input = NULL;
    const char *t = l->tok[0];
    if (map_prefix(t, "OUTPUT(")) {
        p->after_output = true;
        free(p->m->output);
        /* the name within the word (the raw line runs on into the next) */
        size_t n = strcspn(t + 7, ")");
        if (!(p->m->output = strndup(t + 7, n)))
            return map_oom(p);
        return 0;
    }
    if (strcmp(t, "LOAD") == 0 || strcmp(t, "START") == 0 || strcmp(t, "END") == 0 || strchr(t, '('))
        return 0;
    if (l->ntok >= 3 && map_hex(l->tok[1], &a) && map_hex(l->tok[2], &b))
        return map_add_section(p, t, l, 1);
    if (l->ntok == 1) {
        p->cur_sec = -1;  /* an empty output section, unless numbers follow */
        if (!(p->pending_osec = strdup(t)))
            return map_oom(p);
    }
    return 0;
}

static int map_memconf_line(map_parser *p, const map_line *l)
{
    uint64_t origin, length;
    if (l->lead != 0 || l->ntok < 3 || !map_hex(l->tok[1], &origin) || !map_hex(l->tok[2], &length))
        return 0;
    if (strcmp(l->tok[0], "*default*") == 0) {
        p->m->has_default_region = true;
        return 0;
    }
    if (p->m->map.nregions == MAP_MAX_REGIONS)
        return fs_fail(p->err, "%s:%zu: more than %d memory regions", p->name, p->lineno, MAP_MAX_REGIONS);
    if (fs_memmap_find(&p->m->map, l->tok[0]) >= 0)
        return fs_fail(p->err, "%s:%zu: memory region %s listed twice", p->name, p->lineno, l->tok[0]);
    if (fs_memmap_add(&p->m->map, l->tok[0], origin, length, l->ntok >= 4 ? l->tok[3] : NULL) < 0)
        return map_oom(p);
    return 0;
}

static int map_add_member(map_parser *p, const char *member, const map_line *l, size_t from)
{
    fs_mapfile *m = p->m;
    if (map_grow((void **)&m->members, &p->cap_members, m->nmembers + 1, sizeof *m->members) < 0)
        return map_oom(p);
    fs_map_member *mb = &m->members[m->nmembers];
    memset(mb, 0, sizeof *mb);
    m->nmembers++;
    size_t n;
    const char *raw = map_rest(l, from, &n);
    char *rest = map_str(m, raw, n);
    if (!rest || !(mb->member = map_strz(m, member)))
        return map_oom(p);
    /* "FILE (SYMBOL)": the symbol is the last parenthesised word. */
    char *open = strrchr(rest, '(');
    if (open && open > rest && open[-1] == ' ' && rest[n - 1] == ')') {
        rest[n - 1] = '\0';
        mb->symbol = open + 1;
        char *end = open;
        while (end > rest && end[-1] == ' ')
            end--;
        *end = '\0';
    } else {
        mb->symbol = rest + n; /* "" */
    }
    mb->referenced_by = rest;
    return 0;
}

static int map_archive_line(map_parser *p, const map_line *l)
{
    if (l->lead == 0) {
        free(p->pending_member);
        p->pending_member = NULL;
        if (l->ntok >= 2)
            return map_add_member(p, l->tok[0], l, 1);
        if (!(p->pending_member = strdup(l->tok[0])))
            return map_oom(p);
        return 0;
    }
    if (!p->pending_member)
        return 0;
    int rc = map_add_member(p, p->pending_member, l, 0);
    free(p->pending_member);
    p->pending_member = NULL;
    return rc;
}

static void map_clear_pending(map_parser *p)
{
    free(p->pending_osec);
    free(p->pending_member);
    p->pending_osec = p->pending_input = p->pending_member = NULL;
}

/* A block header ("Memory Configuration", ...) as the line raw[0..len)
 * (which starts with neither a space nor a tab) switches the state: true. */
static bool map_header(map_parser *p, const char *raw, size_t len)
{
    while (len > 0 && (raw[len - 1] == ' ' || raw[len - 1] == '\t'))
        len--;
    for (size_t i = 0; i < sizeof map_headers / sizeof *map_headers; i++)
        if (map_headers[i].len == len && memcmp(map_headers[i].text, raw, len) == 0) {
            map_clear_pending(p);
            p->state = map_headers[i].state;
            p->seen_memconf |= p->state == ST_MEMCONF;
            p->seen_memmap |= p->state == ST_MEMMAP;
            p->cur_sec = -1;
            return true;
        }
    return false;
}

/* Blocks whose lines the parser does not read (the cross-reference table,
 * a quarter of a map, common symbols, ...): only a header ends them. */
static bool map_state_ignored(map_state s)
{
    return s == ST_NONE || s == ST_COMMON || s == ST_CREF || s == ST_OTHER;
}

static int map_line_dispatch(map_parser *p, map_line *l)
{
    if (l->ntok == 0)
        return 0;
    if (l->lead == 0 && map_header(p, l->raw, l->len))
        return 0;
    switch (p->state) {
    case ST_ARCHIVE: return map_archive_line(p, l);
    case ST_DISCARDED: return map_input_line(p, l);
    case ST_MEMCONF: return map_memconf_line(p, l);
    case ST_MEMMAP: return map_memmap_line(p, l);
    default: return 0;
    }
}

/* ---- derived facts ---------------------------------------------------------- */

typedef struct map_range {
    uint64_t addr, size;
    size_t idx;
} map_range;

static int map_range_cmp(const void *a, const void *b)
{
    const map_range *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Credit each byte of [start, start + len) to at most one range, in address
 * order; counted[i] gets range i's share.  Returns the uncovered bytes. */
static uint64_t map_cover(map_range *r, size_t n, uint64_t start, uint64_t len, uint64_t *counted)
{
    bool sorted = true; /* ld lists a section's inputs in address order, unless a script reorders */
    for (size_t i = 1; i < n && sorted; i++)
        sorted = map_range_cmp(&r[i - 1], &r[i]) < 0;
    if (!sorted)
        qsort(r, n, sizeof *r, map_range_cmp);
    uint64_t cursor = start, end = start + len, gaps = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t a = r[i].addr, e = r[i].addr + r[i].size;
        if (e < a)
            e = UINT64_MAX;
        if (a < cursor)
            a = cursor;
        if (e > end)
            e = end;
        uint64_t got = e > a ? e - a : 0;
        if (got) {
            gaps += a - cursor;
            cursor = e;
        }
        if (counted)
            counted[r[i].idx] = got;
    }
    return gaps + (end - cursor);
}

/* A section name pattern: the name itself, or a prefix when it ends in '*'. */
typedef struct map_pattern {
    const char *text;
    size_t len; /* without the '*' */
    bool prefix;
} map_pattern;
#define MAP_NAME(s)   {s, sizeof s - 1, false}
#define MAP_PREFIX(s) {s, sizeof s - 1, true}

static bool map_name_in(const char *name, const map_pattern *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (name[0] == list[i].text[0] && name[1] == list[i].text[1] && strncmp(name, list[i].text, list[i].len) == 0 &&
            (list[i].prefix || name[list[i].len] == '\0'))
            return true;
    return false;
}

static bool map_nonalloc_name(const char *name)
{
    static const map_pattern names[] = {
        MAP_NAME(".comment"), MAP_PREFIX(".debug"), MAP_PREFIX(".zdebug"), MAP_NAME(".line"), MAP_PREFIX(".stab"),
        MAP_NAME(".gnu.build.attributes"), MAP_NAME(".ARM.attributes"), MAP_NAME(".riscv.attributes"),
        MAP_NAME(".xtensa.info"), MAP_PREFIX(".xt.prop"), MAP_PREFIX(".xt.lit"), MAP_NAME(".gnu.attributes"),
        MAP_NAME(".note.GNU-stack"), MAP_NAME(".GCC.command.line"), MAP_NAME(".gnu_debuglink"),
        MAP_NAME(".gnu_debugaltlink"), MAP_PREFIX(".mdebug"), MAP_NAME(".pdr"), MAP_NAME(".symtab"),
        MAP_NAME(".strtab"), MAP_NAME(".shstrtab"), MAP_NAME(".ident")};
    return map_name_in(name, names, sizeof names / sizeof *names);
}

static bool map_bss_name(const char *name)
{
    static const map_pattern names[] = {MAP_NAME(".bss"),      MAP_PREFIX(".bss."),   MAP_PREFIX(".sbss"),
                                        MAP_PREFIX(".tbss"),   MAP_NAME("COMMON"),    MAP_NAME(".scommon"),
                                        MAP_NAME(".dynbss"),   MAP_PREFIX(".lbss"),   MAP_PREFIX(".noinit"),
                                        MAP_PREFIX("*COM")};
    return map_name_in(name, names, sizeof names / sizeof *names);
}

static int map_section_totals(map_parser *p, fs_map_section *s)
{
    fs_map_input *in = s->ninputs ? p->m->inputs + s->first_input : NULL; /* NULL + 0 is UB */
    map_range *r = malloc((s->ninputs + 1) * sizeof *r);
    uint64_t *counted = malloc((s->ninputs + 1) * sizeof *counted);
    if (!r || !counted) {
        free(r);
        free(counted);
        return map_oom(p);
    }
    s->inputs_lo = UINT64_MAX;
    s->inputs_hi = 0;
    for (size_t i = 0; i < s->ninputs; i++) {
        r[i] = (map_range){in[i].addr, in[i].size, i};
        uint64_t end = in[i].size > UINT64_MAX - in[i].addr ? UINT64_MAX : in[i].addr + in[i].size;
        s->inputs_lo = in[i].addr < s->inputs_lo ? in[i].addr : s->inputs_lo;
        s->inputs_hi = end > s->inputs_hi ? end : s->inputs_hi;
    }
    s->unattributed = map_cover(r, s->ninputs, s->vma, s->size, counted);
    bool contents = s->has_data;
    for (size_t i = 0; i < s->ninputs; i++) {
        in[i].counted = counted[i];
        if (in[i].fill)
            s->fill_bytes += counted[i];
        else
            s->input_bytes += counted[i];
        if (!in[i].fill && !map_bss_name(in[i].name))
            contents = true;
    }
    s->load = contents;
    if (map_nonalloc_name(s->name))
        s->alloc = false;
    free(r);
    free(counted);
    return 0;
}

static int map_attribute(map_parser *p)
{
    fs_mapfile *m = p->m;
    for (size_t i = 0; i < m->nsections; i++)
        if (map_section_totals(p, &m->sections[i]) < 0)
            return -1;
    for (size_t i = 0; i < m->nsections; i++) {
        const fs_map_section *s = &m->sections[i];
        if (!s->alloc)
            continue;
        for (size_t j = 0; j < s->ninputs; j++) {
            const fs_map_input *in = &m->inputs[s->first_input + j];
            if (in->object >= 0)
                m->objects[in->object].bytes += in->counted;
        }
    }
    /* Archives: "dir/libx.a(member.o)" belongs to "dir/libx.a". */
    size_t cap = 0;
    for (size_t i = 0; i < m->nobjects; i++) {
        fs_map_object *o = &m->objects[i];
        char *open = strrchr(o->path, '(');
        size_t n = strlen(o->path);
        if (!open || open == o->path || o->path[n - 1] != ')')
            continue;
        size_t alen = (size_t)(open - o->path);
        size_t a = 0;
        while (a < m->narchives && !(strlen(m->archives[a].path) == alen && !memcmp(m->archives[a].path, o->path, alen)))
            a++;
        if (a == m->narchives) {
            if (map_grow((void **)&m->archives, &cap, a + 1, sizeof *m->archives) < 0)
                return map_oom(p);
            memset(&m->archives[a], 0, sizeof m->archives[a]);
            if (!(m->archives[a].path = map_str(m, o->path, alen)))
                return map_oom(p);
            m->narchives++;
        }
        o->archive = (int)a;
        m->archives[a].bytes += o->bytes;
        m->archives[a].nobjects++;
    }
    return 0;
}

/* Place the allocated sections in the regions with regions.c's rules. */
static int map_place(map_parser *p)
{
    fs_mapfile *m = p->m;
    fs_image img = {0};
    img.sections = calloc(m->nsections + 1, sizeof *img.sections);
    if (!img.sections)
        return map_oom(p);
    for (size_t i = 0; i < m->nsections; i++) {
        const fs_map_section *s = &m->sections[i];
        fs_section *e = &img.sections[img.nsections++];
        e->name = s->name;
        e->index = (uint32_t)i + 1;
        e->type = s->load ? SHT_PROGBITS : SHT_NOBITS;
        e->flags = s->alloc ? SHF_ALLOC : 0;
        e->addr = s->vma;
        e->lma = s->lma;
        e->size = s->size;
    }
    fs_regions_place(&img, &m->map);
    for (size_t i = 0; i < m->nsections; i++) {
        m->sections[i].vma_region = img.sections[i].vma_region;
        m->sections[i].lma_region = img.sections[i].lma_region;
    }
    free(img.sections);
    return 0;
}

/* ---- reading --------------------------------------------------------------- */

/* A memory map's symbol line, "<16 blanks>0xADDR<blanks>name = ...": nothing
 * the parser keeps, so it is passed over without being split, unless a
 * name waits for its numbers.  A line whose second word starts with '0'
 * may be an input section's numbers or data (0x... 0x4 LONG ...): those
 * are split as usual. */
static bool map_symbol_line(const map_parser *p, const char *line, size_t n)
{
    static const char lead[] = "                0x";
    if (p->state != ST_MEMMAP || p->pending_input || p->pending_osec || n <= sizeof lead ||
        memcmp(line, lead, sizeof lead - 1) != 0)
        return false;
    size_t i = sizeof lead - 1;
    while (i < n && map_hexval[(unsigned char)line[i]])
        i++;
    if (i == n || (line[i] != ' ' && line[i] != '\t'))
        return false;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i < n && line[i] != '0';
}

/* A number at line[*i] (i < n) followed by a blank: *v, and *i moves to
 * the blank (map_hex's rule for a word that is not the line's last).
 * line[n] is the line's '\r' or '\n' (map_read): it ends the digits. */
static bool map_hex_at(const char *line, size_t *i, uint64_t *v)
{
    uint64_t x;
    size_t n = map_hex_len(line + *i, &x);
    if (!n || !map_blank(line[*i + n]))
        return false;
    *v = x;
    *i += n;
    return true;
}

/* A memory map's or the discarded list's line that starts with a blank,
 * read in place as map_input_line reads it once split, for the shapes that
 * make most of a map: " NAME" (an input section whose numbers follow),
 * "<blanks>0xADDR<blanks>0xSIZE<blanks>FILE" after it, " NAME 0xADDR 0xSIZE
 * [FILE]" and the lines map_input_line passes over ("<blanks>0xSIZE (size
 * before relaxing)").  1 done, 0 for the general path, -1 on error. */
static int map_input_fast(map_parser *p, const char *line, size_t n)
{
    if (!(p->state == ST_DISCARDED || (p->state == ST_MEMMAP && !p->pending_osec)) || n < 2 || !map_blank(line[0]))
        return 0;
    size_t i = map_blanks(line, 0, n), k = i;
    if (i == n) /* no words */
        return 1;
    uint64_t a, b;
    /* two numbers: k moves past them, to the next word */
    bool nums = map_hex_at(line, &k, &a) && (k = map_blanks(line, k, n)) < n && map_hex_at(line, &k, &b);
    if (nums)
        k = map_blanks(line, k, n);
    if (p->pending_input) {
        /* only numbers and a file take the waiting name; any other line drops it */
        const char *name = p->pending_input;
        p->pending_input = NULL;
        if (nums && k < n)
            return map_add_input(p, name, a, b, line + k, map_trim(line, n) - k) < 0 ? -1 : 1;
    }
    if (i > 1) /* deeper: only "0xADDR 0xSIZE WORD..." (data, BYTE(...)) is read */
        return nums && k < n ? 0 : 1;
    /* the word ends at a blank or at line[n] (a '\r' within the line is
     * part of it: the general path's, as the next word is not a number) */
    size_t end = 1 + strcspn(line + 1, " \t\r\n");
    bool fill = end == 7 && memcmp(line + 1, "*fill*", 6) == 0;
    if ((k = map_blanks(line, end, n)) == n) {
        if (!fill && !memchr(line + 1, '(', end - 1)) { /* a name, not a script's input pattern */
            memcpy(p->pending_buf, line + 1, end - 1);
            p->pending_buf[end - 1] = '\0';
            p->pending_input = p->pending_buf;
        }
        return 1;
    }
    if (!map_hex_at(line, &k, &a) || (k = map_blanks(line, k, n)) == n || !map_hex_at(line, &k, &b))
        return 0;
    if (fill)
        return map_add_input(p, "*fill*", a, b, NULL, 0) < 0 ? -1 : 1;
    if ((k = map_blanks(line, k, n)) == n) /* no file */
        return 1;
    memcpy(p->buf, line + 1, end - 1);
    p->buf[end - 1] = '\0';
    return map_add_input(p, p->buf, a, b, line + k, map_trim(line, n) - k) < 0 ? -1 : 1;
}

static int map_read(map_parser *p, const char *text, size_t len)
{
    const char *nul = memchr(text, '\0', len); /* one scan of the whole file */
    size_t pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        p->lineno++;
        if (n > FS_MAP_MAX_LINE)
            return fs_fail(p->err, "%s:%zu: line longer than %u bytes; not a GNU ld map file", p->name, p->lineno,
                           FS_MAP_MAX_LINE);
        if (nul && nul < line + n)
            return fs_fail(p->err, "%s:%zu: binary data (NUL byte); not a GNU ld map file", p->name, p->lineno);
        if (!nl)
            return fs_fail(p->err, "%s:%zu: file ends in the middle of a line (truncated?)", p->name, p->lineno);
        pos += n + 1;
        if (n && line[n - 1] == '\r')
            n--;
        if (map_state_ignored(p->state)) {
            if (n && line[0] != ' ' && line[0] != '\t')
                map_header(p, line, n);
            continue;
        }
        if (map_symbol_line(p, line, n))
            continue;
        int fast = map_input_fast(p, line, n);
        if (fast < 0)
            return -1;
        if (fast)
            continue;
        map_line l; /* not zeroed: map_split sets what is read */
        l.raw = line;
        l.len = n;
        map_split(&l, p->buf);
        if (map_line_dispatch(p, &l) < 0)
            return -1;
    }
    p->m->nlines = p->lineno;
    if (!p->seen_memconf || !p->seen_memmap)
        return fs_fail(p->err, "%s: not a GNU ld map file (no \"%s\" block)", p->name,
                       p->seen_memconf ? "Linker script and memory map" : "Memory Configuration");
    return 0;
}

int fs_mapfile_parse(const char *name, const char *text, size_t len, fs_mapfile *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (len == 0)
        return fs_fail(err, "%s: empty file, not a GNU ld map file", name);
    if (len > FS_MAP_MAX_FILE_BYTES)
        return fs_fail(err, "%s: map file is %zu bytes, larger than the %llu-byte limit", name, len,
                       FS_MAP_MAX_FILE_BYTES);
    map_parser p = {.name = name, .m = out, .err = err, .cur_sec = -1, .last_object = -1};
    int rc = -1;
    if (!(out->path = strdup(name)) || !(p.buf = malloc(FS_MAP_MAX_LINE + 1)) ||
        !(p.pending_buf = malloc(FS_MAP_MAX_LINE + 1)))
        map_oom(&p);
    else if (map_read(&p, text, len) == 0 && map_attribute(&p) == 0 && map_place(&p) == 0)
        rc = 0;
    map_clear_pending(&p);
    free(p.buf);
    free(p.pending_buf);
    free(p.hash);
    if (rc < 0)
        fs_mapfile_free(out);
    return rc;
}

int fs_mapfile_load(const char *path, fs_mapfile *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    const unsigned char *text; /* mapped, not copied: the parser reads every byte once */
    size_t len;
    if (fs_map_file(path, FS_MAP_MAX_FILE_BYTES, "map file", &text, &len, err) < 0)
        return -1;
    int rc = fs_mapfile_parse(path, (const char *)text, len, out, err);
    fs_unmap_file(text, len);
    return rc;
}

void fs_mapfile_free(fs_mapfile *m)
{
    if (!m)
        return;
    for (map_block *b = m->strings, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(m->sections);
    free(m->inputs);
    free(m->objects);
    free(m->archives);
    free(m->members);
    free(m->path);
    free(m->output);
    fs_memmap_free(&m->map);
    memset(m, 0, sizeof *m);
}

/* ---- queries ---------------------------------------------------------------- */

const fs_map_section *fs_mapfile_section(const fs_mapfile *m, const char *name)
{
    for (size_t i = 0; i < m->nsections; i++)
        if (strcmp(m->sections[i].name, name) == 0)
            return &m->sections[i];
    return NULL;
}

int fs_mapfile_object(const fs_mapfile *m, const char *path)
{
    for (size_t i = 0; i < m->nobjects; i++)
        if (strcmp(m->objects[i].path, path) == 0)
            return (int)i;
    return -1;
}

static int map_contrib_cmp(const void *a, const void *b)
{
    const fs_map_contrib *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Turn per-object totals into a sorted list of the non-zero ones. */
static long map_contrib_list(const fs_mapfile *m, const uint64_t *per_object, fs_map_contrib **out)
{
    *out = NULL;
    size_t n = 0;
    for (size_t i = 0; i < m->nobjects; i++)
        n += per_object[i] != 0;
    if (n == 0)
        return 0;
    fs_map_contrib *c = malloc(n * sizeof *c);
    if (!c)
        return -1;
    n = 0;
    for (size_t i = 0; i < m->nobjects; i++)
        if (per_object[i])
            c[n++] = (fs_map_contrib){m->objects[i].path, per_object[i], i};
    qsort(c, n, sizeof *c, map_contrib_cmp);
    *out = c;
    return (long)n;
}

static void map_add_section_objects(const fs_mapfile *m, const fs_map_section *s, uint64_t *per_object)
{
    for (size_t j = 0; j < s->ninputs; j++) {
        const fs_map_input *in = &m->inputs[s->first_input + j];
        if (in->object >= 0)
            per_object[in->object] += in->counted;
    }
}

long fs_mapfile_section_objects(const fs_mapfile *m, size_t sec, fs_map_contrib **out)
{
    *out = NULL;
    if (sec >= m->nsections)
        return 0;
    uint64_t *per = calloc(m->nobjects + 1, sizeof *per);
    if (!per)
        return -1;
    map_add_section_objects(m, &m->sections[sec], per);
    long n = map_contrib_list(m, per, out);
    free(per);
    return n;
}

long fs_mapfile_region_objects(const fs_mapfile *m, int r, fs_map_contrib **out, fs_map_region_rest *rest)
{
    *out = NULL;
    memset(rest, 0, sizeof *rest);
    if (r < 0 || (size_t)r >= m->map.nregions)
        return 0;
    uint64_t *per = calloc(m->nobjects + 1, sizeof *per);
    map_range *ranges = calloc(m->nsections * 2 + 1, sizeof *ranges);
    if (!per || !ranges) {
        free(per);
        free(ranges);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < m->nsections; i++) {
        const fs_map_section *s = &m->sections[i];
        for (int image = 0; image < 2; image++) {
            if ((image ? s->lma_region : s->vma_region) != r)
                continue;
            map_add_section_objects(m, s, per);
            rest->fill += s->fill_bytes;
            rest->unattributed += s->unattributed;
            ranges[n] = (map_range){image ? s->lma : s->vma, s->size, n};
            n++;
        }
    }
    const fs_region *reg = &m->map.regions[r];
    rest->gaps = reg->used ? map_cover(ranges, n, reg->origin, reg->used, NULL) : 0;
    long count = map_contrib_list(m, per, out);
    free(per);
    free(ranges);
    return count;
}

long fs_mapfile_archive_list(const fs_mapfile *m, fs_map_contrib **out)
{
    *out = NULL;
    if (m->narchives == 0)
        return 0;
    fs_map_contrib *c = malloc(m->narchives * sizeof *c);
    if (!c)
        return -1;
    for (size_t i = 0; i < m->narchives; i++)
        c[i] = (fs_map_contrib){m->archives[i].path, m->archives[i].bytes, i};
    qsort(c, m->narchives, sizeof *c, map_contrib_cmp);
    *out = c;
    return (long)m->narchives;
}

bool fs_mapfile_overflowed(const fs_mapfile *m)
{
    for (size_t i = 0; i < m->map.nregions; i++)
        if (m->map.regions[i].used > m->map.regions[i].length)
            return true;
    return false;
}

/* ---- findings ---------------------------------------------------------------- */

int fs_mapfile_findings(const fs_mapfile *m, fs_report *rep, fs_error *err)
{
    for (size_t i = 0; i < m->map.nregions; i++) {
        const fs_region *r = &m->map.regions[i];
        if (r->used <= r->length)
            continue;
        fs_map_contrib *c;
        fs_map_region_rest rest;
        long n = fs_mapfile_region_objects(m, (int)i, &c, &rest);
        if (n < 0)
            return fs_fail(err, "%s: out of memory", m->path);
        char top[600] = "";
        size_t used = 0;
        for (long k = 0; k < n && k < 3 && used < sizeof top; k++)
            used += (size_t)snprintf(top + used, sizeof top - used, "%s%s %llu", k ? ", " : "; largest: ",
                                     c[k].name, (unsigned long long)c[k].bytes);
        free(c);
        uint64_t over = r->used - r->length;
        /* ESP8266's irom0: the same id and numbers as from the ELF (esp8266.c) */
        const fs_map_section *irom = fs_mapfile_section(m, ".irom0.text");
        if (strcmp(r->name, "irom0_0_seg") == 0 && irom && irom->vma_region == (int)i) {
            if (fs_report_add(rep, "irom0-overflow", FS_SEV_ERROR, ".irom0.text",
                              "Drop frozen modules or C modules (see `flashsize frozen`), or use a layout with a "
                              "larger irom0 (esp8266-2m); do not raise LENGTH(irom0_0_seg) past the 1 MiB window.",
                              ".irom0.text is %llu bytes but irom0_0_seg holds %llu: over by %llu bytes (per the map "
                              "file)%s", (unsigned long long)r->used, (unsigned long long)r->length,
                              (unsigned long long)over, top) < 0)
                return fs_fail(err, "%s: out of memory", m->path);
            fs_finding_num(rep, "size", r->used);
            fs_finding_num(rep, "limit", r->length);
            fs_finding_num(rep, "over", over);
            continue;
        }
        if (fs_report_add(rep, "region-overflow", FS_SEV_ERROR, r->name,
                          "Remove or shrink the largest objects placed in this region, or give it more room "
                          "in the linker script.",
                          "region %s overflowed by %llu bytes (%llu used of %llu, per the map file)%s", r->name,
                          (unsigned long long)over, (unsigned long long)r->used, (unsigned long long)r->length,
                          top) < 0)
            return fs_fail(err, "%s: out of memory", m->path);
        fs_finding_num(rep, "used", r->used);
        fs_finding_num(rep, "length", r->length);
        fs_finding_num(rep, "over", over);
    }
    return 0;
}

int fs_mapfile_report(const fs_mapfile *m, fs_report *rep, fs_error *err)
{
    fs_memmap_free(&rep->map);
    free(rep->region_source_detail);
    rep->region_source_detail = NULL;
    if (fs_memmap_copy(&rep->map, &m->map) < 0)
        return fs_fail(err, "%s: out of memory", m->path);
    rep->region_source = FS_REGIONS_LD;
    size_t n = strlen(m->path) + 16;
    if (!(rep->region_source_detail = malloc(n)))
        return fs_fail(err, "%s: out of memory", m->path);
    snprintf(rep->region_source_detail, n, "map file %s", m->path);
    return fs_mapfile_findings(m, rep, err);
}

int fs_mapfile_reconcile(const fs_mapfile *m, const fs_image *img, fs_report *rep, fs_error *err)
{
    int mismatches = 0;
    for (size_t i = 0; i < m->nsections; i++) {
        const fs_map_section *s = &m->sections[i];
        if (!s->alloc || s->size == 0)
            continue;
        const fs_section *e = fs_image_section(img, s->name);
        if (e && e->size == s->size && e->addr == s->vma)
            continue;
        mismatches++;
        int rc = e ? fs_report_add(rep, "map-elf-mismatch", FS_SEV_WARNING, s->name,
                                   "Make sure the map file and the ELF come from the same link.",
                                   "section %s is %llu bytes at %#llx in the map file but %llu bytes at %#llx in "
                                   "the ELF", s->name, (unsigned long long)s->size, (unsigned long long)s->vma,
                                   (unsigned long long)e->size, (unsigned long long)e->addr)
                   : fs_report_add(rep, "map-elf-mismatch", FS_SEV_WARNING, s->name,
                                   "Make sure the map file and the ELF come from the same link.",
                                   "section %s (%llu bytes) is in the map file but not in the ELF", s->name,
                                   (unsigned long long)s->size);
        if (rc < 0)
            return fs_fail(err, "%s: out of memory", m->path);
        fs_finding_num(rep, "map_size", s->size);
        if (e)
            fs_finding_num(rep, "elf_size", e->size);
    }
    return mismatches;
}

/* ---- text output ---------------------------------------------------------------- */

static const char *map_region_name(const fs_mapfile *m, int r)
{
    return r >= 0 ? m->map.regions[r].name : "-";
}

static double map_pct(uint64_t part, uint64_t whole)
{
    return whole ? (double)part * 100.0 / (double)whole : 0.0;
}

static int map_width(const fs_mapfile *m, bool regions)
{
    size_t w = 8;
    size_t n = regions ? m->map.nregions : m->nsections;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(regions ? m->map.regions[i].name : m->sections[i].name);
        if (k > w)
            w = k;
    }
    return (int)(w > 32 ? 32 : w);
}

static void map_print_regions(FILE *out, const fs_mapfile *m)
{
    int w = map_width(m, true);
    fprintf(out, "Memory regions (the map's Memory Configuration; used as ld computes it)\n");
    fprintf(out, "  %-*s  %-18s  %10s  %10s  %10s  %7s  %s\n", w, "region", "origin", "length", "used", "free",
            "use%", "attr");
    for (size_t i = 0; i < m->map.nregions; i++) {
        const fs_region *r = &m->map.regions[i];
        char freebuf[32];
        if (r->used > r->length)
            snprintf(freebuf, sizeof freebuf, "-%llu", (unsigned long long)(r->used - r->length));
        else
            snprintf(freebuf, sizeof freebuf, "%llu", (unsigned long long)(r->length - r->used));
        fprintf(out, "  %-*s  0x%-16llx  %10llu  %10llu  %10s  %6.2f%%  %s%s\n", w, r->name,
                (unsigned long long)r->origin, (unsigned long long)r->length, (unsigned long long)r->used, freebuf,
                map_pct(r->used, r->length), r->attrs, r->used > r->length ? "  OVERFLOW" : "");
    }
    if (m->map.nregions == 0)
        fprintf(out, "  (none: the map has only the *default* region)\n");
}

static void map_print_sections(FILE *out, const fs_mapfile *m)
{
    int w = map_width(m, false), rw = map_width(m, true);
    fprintf(out, "\nOutput sections (inputs + fill + unattributed = size)\n");
    fprintf(out, "  %-*s  %-18s  %-18s  %10s  %-*s  %10s  %8s  %8s\n", w, "section", "address", "load address",
            "size", rw, "region", "inputs", "fill", "unattrib");
    for (size_t i = 0; i < m->nsections; i++) {
        const fs_map_section *s = &m->sections[i];
        char lma[24] = "-";
        if (s->has_lma && s->lma != s->vma)
            snprintf(lma, sizeof lma, "%#llx", (unsigned long long)s->lma);
        char region[80];
        if (!s->alloc)
            snprintf(region, sizeof region, "(not allocated)");
        else if (s->lma_region >= 0)
            snprintf(region, sizeof region, "%s+%s", map_region_name(m, s->vma_region),
                     map_region_name(m, s->lma_region));
        else
            snprintf(region, sizeof region, "%s", map_region_name(m, s->vma_region));
        fprintf(out, "  %-*s  0x%-16llx  %-18s  %10llu  %-*s  %10llu  %8llu  %8llu\n", w, s->name,
                (unsigned long long)s->vma, lma, (unsigned long long)s->size, rw, region,
                (unsigned long long)s->input_bytes, (unsigned long long)s->fill_bytes,
                (unsigned long long)s->unattributed);
    }
}

/* Rows of a breakdown: the top objects, the rest summed, then extra rows. */
static void map_print_rows(FILE *out, const fs_map_contrib *c, long n, size_t top, uint64_t whole,
                           const char *const *extra_names, const uint64_t *extra, size_t nextra)
{
    fprintf(out, "  %10s  %6s  %s\n", "bytes", "%", "object");
    uint64_t rest = 0;
    for (long k = 0; k < n; k++) {
        if ((size_t)k < top)
            fprintf(out, "  %10llu  %5.1f%%  %s\n", (unsigned long long)c[k].bytes, map_pct(c[k].bytes, whole),
                    c[k].name);
        else
            rest += c[k].bytes;
    }
    if ((size_t)n > top)
        fprintf(out, "  %10llu  %5.1f%%  (%ld more objects)\n", (unsigned long long)rest, map_pct(rest, whole),
                n - (long)top);
    for (size_t k = 0; k < nextra; k++)
        if (extra[k])
            fprintf(out, "  %10llu  %5.1f%%  %s\n", (unsigned long long)extra[k], map_pct(extra[k], whole),
                    extra_names[k]);
}

static int map_print_section_objects(FILE *out, const fs_mapfile *m, size_t top)
{
    static const char *const names[] = {"(fill)", "(unattributed)"};
    for (size_t i = 0; i < m->nsections; i++) {
        const fs_map_section *s = &m->sections[i];
        if (!s->alloc || s->size == 0)
            continue;
        fs_map_contrib *c;
        long n = fs_mapfile_section_objects(m, i, &c);
        if (n < 0)
            return -1;
        fprintf(out, "\n%s: %llu bytes at %#llx in %s, %ld objects\n", s->name, (unsigned long long)s->size,
                (unsigned long long)s->vma, map_region_name(m, s->vma_region), n);
        uint64_t extra[] = {s->fill_bytes, s->unattributed};
        map_print_rows(out, c, n, top, s->size, names, extra, 2);
        free(c);
    }
    return 0;
}

static int map_print_region_objects(FILE *out, const fs_mapfile *m, size_t top)
{
    static const char *const names[] = {"(fill)", "(unattributed)", "(gaps between sections)"};
    for (size_t i = 0; i < m->map.nregions; i++) {
        const fs_region *r = &m->map.regions[i];
        if (r->used == 0)
            continue;
        fs_map_contrib *c;
        fs_map_region_rest rest;
        long n = fs_mapfile_region_objects(m, (int)i, &c, &rest);
        if (n < 0)
            return -1;
        fprintf(out, "\nObjects in region %s: %llu of %llu bytes used, %ld objects\n", r->name,
                (unsigned long long)r->used, (unsigned long long)r->length, n);
        uint64_t extra[] = {rest.fill, rest.unattributed, rest.gaps};
        map_print_rows(out, c, n, top, r->used, names, extra, 3);
        free(c);
    }
    return 0;
}

static int map_print_archives(FILE *out, const fs_mapfile *m, size_t top)
{
    fs_map_contrib *c;
    long n = fs_mapfile_archive_list(m, &c);
    if (n <= 0)
        return (int)n;
    fprintf(out, "\nArchives (bytes of their members in allocated sections)\n");
    fprintf(out, "  %10s  %7s  %s\n", "bytes", "members", "archive");
    for (long k = 0; k < n && (size_t)k < top; k++) {
        size_t members = 0;
        for (size_t a = 0; a < m->narchives; a++)
            if (strcmp(m->archives[a].path, c[k].name) == 0)
                members = m->archives[a].nobjects;
        fprintf(out, "  %10llu  %7zu  %s\n", (unsigned long long)c[k].bytes, members, c[k].name);
    }
    if ((size_t)n > top)
        fprintf(out, "  (%ld more archives)\n", n - (long)top);
    free(c);
    return 0;
}

static int map_print_overflows(FILE *out, const fs_mapfile *m, size_t top)
{
    for (size_t i = 0; i < m->map.nregions; i++) {
        const fs_region *r = &m->map.regions[i];
        if (r->used <= r->length)
            continue;
        fs_map_contrib *c;
        fs_map_region_rest rest;
        long n = fs_mapfile_region_objects(m, (int)i, &c, &rest);
        if (n < 0)
            return -1;
        fprintf(out, "\nOVERFLOW: region %s overflowed by %llu bytes (%llu used of %llu)\n", r->name,
                (unsigned long long)(r->used - r->length), (unsigned long long)r->used,
                (unsigned long long)r->length);
        fprintf(out, "  largest contributors:\n");
        for (long k = 0; k < n && (size_t)k < top; k++)
            fprintf(out, "  %10llu  %s\n", (unsigned long long)c[k].bytes, c[k].name);
        free(c);
    }
    return 0;
}

int fs_mapfile_print(FILE *out, const fs_mapfile *m, size_t top)
{
    if (top == 0)
        top = 10;
    fprintf(out, "Map file: %s", m->path);
    if (m->output)
        fprintf(out, "  (output %s)", m->output);
    fputc('\n', out);
    fprintf(out, "%zu output sections, %zu input sections, %zu objects, %zu archives; %zu discarded input "
            "sections (%llu bytes)\n\n", m->nsections, m->ninputs, m->nobjects, m->narchives, m->ndiscarded,
            (unsigned long long)m->discarded_bytes);
    map_print_regions(out, m);
    map_print_sections(out, m);
    if (map_print_section_objects(out, m, top) < 0 || map_print_archives(out, m, top) < 0 ||
        map_print_region_objects(out, m, top) < 0 || map_print_overflows(out, m, top) < 0)
        return -1;
    return ferror(out) ? -1 : 0;
}

/* ---- JSON output ------------------------------------------------------------------ */

/* [{"name", "bytes"}...] of the first top rows (0 = all), plus the rest summed. */
/* A breakdown's rows under key, at most top (0 = all), and what the rest
 * holds: KEY_omitted rows of KEY_omitted_bytes. */
static void map_emit_rows(fs_jemit *e, const fs_map_contrib *c, long n, size_t top, const char *key)
{
    uint64_t rest = 0;
    fs_jemit_kopen(e, key, true);
    for (long k = 0; k < n; k++) {
        if (top && (size_t)k >= top) {
            rest += c[k].bytes;
            continue;
        }
        fs_jemit_open(e, false);
        fs_jemit_ktext(e, "name", c[k].name);
        fs_jemit_ku64(e, "bytes", c[k].bytes);
        fs_jemit_close(e);
    }
    fs_jemit_close(e);
    char omitted[64];
    snprintf(omitted, sizeof omitted, "%s_omitted", key);
    fs_jemit_kint(e, omitted, top && (size_t)n > top ? n - (long)top : 0);
    snprintf(omitted, sizeof omitted, "%s_omitted_bytes", key);
    fs_jemit_ku64(e, omitted, rest);
}

static void map_emit_region(fs_jemit *e, const fs_mapfile *m, size_t i, size_t top)
{
    const fs_region *r = &m->map.regions[i];
    fs_jemit_open(e, false);
    fs_jemit_ktext(e, "name", r->name);
    fs_jemit_ku64(e, "origin", r->origin);
    fs_jemit_ku64(e, "length", r->length);
    fs_jemit_ktext(e, "attributes", r->attrs);
    fs_jemit_ku64(e, "used", r->used);
    fs_jemit_ku64(e, "free", r->used > r->length ? 0 : r->length - r->used);
    fs_jemit_ku64(e, "overflow", r->used > r->length ? r->used - r->length : 0);
    fs_jemit_kreal(e, "percent", map_pct(r->used, r->length));
    fs_map_contrib *c;
    fs_map_region_rest rest;
    long n = fs_mapfile_region_objects(m, (int)i, &c, &rest);
    if (n < 0) {
        e->failed = true;
    } else {
        fs_jemit_ku64(e, "fill", rest.fill);
        fs_jemit_ku64(e, "unattributed", rest.unattributed);
        fs_jemit_ku64(e, "gaps", rest.gaps);
        map_emit_rows(e, c, n, top, "objects");
        free(c);
    }
    fs_jemit_close(e);
}

static void map_emit_region_name(fs_jemit *e, const char *key, const fs_mapfile *m, int r)
{
    if (r >= 0)
        fs_jemit_ktext(e, key, map_region_name(m, r));
    else
        fs_jemit_knull(e, key);
}

static void map_emit_section(fs_jemit *e, const fs_mapfile *m, size_t i, size_t top)
{
    const fs_map_section *s = &m->sections[i];
    fs_jemit_open(e, false);
    fs_jemit_ktext(e, "name", s->name);
    fs_jemit_ku64(e, "address", s->vma);
    if (s->has_lma)
        fs_jemit_ku64(e, "load_address", s->lma);
    else
        fs_jemit_knull(e, "load_address");
    fs_jemit_ku64(e, "size", s->size);
    fs_jemit_kbool(e, "allocated", s->alloc);
    fs_jemit_kbool(e, "has_contents", s->load);
    map_emit_region_name(e, "region", m, s->vma_region);
    map_emit_region_name(e, "load_region", m, s->lma_region);
    fs_jemit_ku64(e, "input_bytes", s->input_bytes);
    fs_jemit_ku64(e, "fill", s->fill_bytes);
    fs_jemit_ku64(e, "unattributed", s->unattributed);
    fs_map_contrib *c;
    long n = fs_mapfile_section_objects(m, i, &c);
    if (n < 0) {
        e->failed = true;
    } else {
        map_emit_rows(e, c, n, top, "objects");
        free(c);
    }
    fs_jemit_close(e);
}

static void map_emit_objects(fs_jemit *e, const fs_mapfile *m, size_t top)
{
    uint64_t *per = calloc(m->nobjects + 1, sizeof *per);
    fs_map_contrib *c = NULL;
    long n = -1;
    if (per) {
        for (size_t i = 0; i < m->nobjects; i++)
            per[i] = m->objects[i].bytes;
        n = map_contrib_list(m, per, &c);
        free(per);
    }
    if (n < 0) {
        e->failed = true;
        fs_jemit_null(e);
        return;
    }
    fs_jemit_open(e, true);
    for (long k = 0; k < n && (!top || (size_t)k < top); k++) {
        const fs_map_object *o = &m->objects[c[k].index];
        fs_jemit_open(e, false);
        fs_jemit_ktext(e, "name", c[k].name);
        if (o->archive >= 0)
            fs_jemit_ktext(e, "archive", m->archives[o->archive].path);
        else
            fs_jemit_knull(e, "archive");
        fs_jemit_ku64(e, "bytes", c[k].bytes);
        fs_jemit_close(e);
    }
    fs_jemit_close(e);
    free(c);
}

static void map_emit_archives(fs_jemit *e, const fs_mapfile *m)
{
    fs_map_contrib *c;
    long n = fs_mapfile_archive_list(m, &c);
    if (n < 0) {
        e->failed = true;
        fs_jemit_null(e);
        return;
    }
    fs_jemit_open(e, true);
    for (long k = 0; k < n; k++) {
        fs_jemit_open(e, false);
        fs_jemit_ktext(e, "name", c[k].name);
        fs_jemit_ku64(e, "bytes", c[k].bytes);
        fs_jemit_kint(e, "members", (int64_t)m->archives[c[k].index].nobjects);
        fs_jemit_close(e);
    }
    fs_jemit_close(e);
    free(c);
}

void fs_mapfile_emit(const fs_mapfile *m, size_t top, fs_jemit *e)
{
    fs_jemit_open(e, false);
    fs_jemit_ktext(e, "schema", "flashsize-map");
    fs_jemit_kint(e, "schema_version", FS_MAP_JSON_SCHEMA_VERSION);
    fs_jemit_ktext(e, "file", m->path);
    fs_jemit_ktext(e, "output", m->output);
    fs_jemit_kopen(e, "regions", true);
    for (size_t i = 0; i < m->map.nregions; i++)
        map_emit_region(e, m, i, top);
    fs_jemit_close(e);
    fs_jemit_kopen(e, "sections", true);
    for (size_t i = 0; i < m->nsections; i++)
        map_emit_section(e, m, i, top);
    fs_jemit_close(e);
    fs_jemit_kopen(e, "overflows", true);
    for (size_t i = 0; i < m->map.nregions; i++) {
        const fs_region *reg = &m->map.regions[i];
        if (reg->used <= reg->length)
            continue;
        fs_jemit_open(e, false);
        fs_jemit_ktext(e, "region", reg->name);
        fs_jemit_ku64(e, "used", reg->used);
        fs_jemit_ku64(e, "length", reg->length);
        fs_jemit_ku64(e, "over", reg->used - reg->length);
        fs_jemit_close(e);
    }
    fs_jemit_close(e);
    fs_jemit_key(e, "objects");
    map_emit_objects(e, m, top);
    fs_jemit_key(e, "archives");
    map_emit_archives(e, m);
    fs_jemit_kopen(e, "archive_members", true);
    for (size_t i = 0; i < m->nmembers; i++) {
        fs_jemit_open(e, false);
        fs_jemit_ktext(e, "member", m->members[i].member);
        fs_jemit_ktext(e, "referenced_by", m->members[i].referenced_by);
        fs_jemit_ktext(e, "symbol", m->members[i].symbol);
        fs_jemit_close(e);
    }
    fs_jemit_close(e);
    fs_jemit_kopen(e, "discarded", false);
    fs_jemit_kint(e, "sections", (int64_t)m->ndiscarded);
    fs_jemit_ku64(e, "bytes", m->discarded_bytes);
    fs_jemit_close(e);
    fs_jemit_close(e);
}

json_t *fs_mapfile_json(const fs_mapfile *m, size_t top)
{
    fs_jemit_tree t;
    fs_jemit_tree_init(&t);
    fs_mapfile_emit(m, top, &t.base);
    return fs_jemit_tree_finish(&t);
}
