/*
 * frozen.c - attribute a firmware's frozen content to its frozen modules.
 *
 * The pointer walk follows docs/frozen.md (MicroPython facts 1.6):
 * mp_frozen_mpy_content[k] -> frozen_module_M {qstr_table, obj_table,
 * proto_fun} -> raw codes (proto_fun_S {0,0,kind,gen; fun_data; children},
 * or a leaf fun_data_S, or v1.19-v1.22 raw_code_S whose words are scanned
 * for pointers) -> children -> constant objects (str/bytes data, tuple
 * items, mpz digits).  Every object reached is charged once, to the module
 * that reached it; the qstr pool is split per entry by who uses it.  The
 * section bytes come from the file (the ELF reader keeps no contents), and
 * every read is bounds-checked against the section and the file, so a
 * hostile file fails the walk instead of reading out of bounds.
 *
 * If the walk fails anywhere, the whole result is redone by symbol names
 * (strip the known prefix, longest module C name that is a prefix) with
 * the reason in fz->note.
 */
#include "frozen.h"
#include "document.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "elfread.h"

#define FZ_MAX_DEPTH 64
#define FZ_MAX_TUPLE 100000u
#define FZ_IRAM_START 0x40100000u
#define FZ_IRAM_END 0x40200000u

enum { FZ_UNREACHED = -1, FZ_SHARED = -2 };
enum { CAT_CODE, CAT_RAW, CAT_TABLES, CAT_OBJECTS };

static const char *const fz_local_prefixes[] = {
    "frozen_module_", "const_qstr_table_data_", "const_obj_table_data_", "const_obj_",
    "proto_fun_",     "raw_code_",              "fun_data_",             "children_",
    "const_table_data_"};

static const char *const fz_globals[] = {
    "mp_qstr_frozen_const_pool", "mp_qstr_frozen_const_hashes", "mp_qstr_frozen_const_lengths",
    "mp_frozen_names",           "mp_frozen_mpy_content",       "mp_frozen_str_sizes",
    "mp_frozen_str_content"};

/* The global candidates fz_by_name looks among: a few per name of
 * fz_globals (a linked image defines each once). */
#define FZ_MAX_GLOBALS 64

/* One sized symbol, in address order. */
typedef struct fz_sym {
    uint64_t value;   /* sym->value: the sort's key, the search's without a load of sym */
    const fs_symbol *sym;
    bool candidate;   /* part of the frozen content by its name */
    int owner;        /* module index, FZ_UNREACHED or FZ_SHARED */
} fz_sym;

typedef struct fz_anon {
    uint64_t addr, len;
} fz_anon;

typedef struct fz_ctx {
    const fs_image *img;
    const uint8_t *data;
    size_t len;
    unsigned ptr;          /* pointer size */
    fz_sym *syms; size_t nsyms;
    uint64_t *max_end;     /* max_end[i]: the highest end of syms[0..i] */
    fz_sym *globals[FZ_MAX_GLOBALS]; size_t nglobals; /* the global candidates (fz_globals), in address order */
    fz_anon *anon; size_t nanon, anon_cap; /* in address order */
    uint64_t anon_bytes;
    fs_frozen *fz;
    char why[256];         /* why the walk failed */
    /* qstr pool */
    uint64_t qstr_base;    /* MP_QSTRnumber_of */
    size_t nq;
    int *q_user;           /* first module using entry i, -1 none */
    int *q_last;           /* last module that counted entry i */
    size_t *q_users;       /* how many modules use entry i */
} fz_ctx;

/* ---- reading bytes at virtual addresses ---------------------------------- */

/* Pointer to n bytes at addr inside one allocated section with file data. */
static const uint8_t *fz_at(const fz_ctx *c, uint64_t addr, uint64_t n)
{
    for (size_t i = 0; i < c->img->nsections; i++) {
        const fs_section *s = &c->img->sections[i];
        if (s->type == 8 /* SHT_NOBITS */ || s->type == 0 || !(s->flags & 2 /* SHF_ALLOC */))
            continue;
        if (addr < s->addr || addr - s->addr >= s->size || n > s->size - (addr - s->addr))
            continue;
        if (s->offset > c->len || s->size > c->len - s->offset)
            return NULL;
        return c->data + s->offset + (addr - s->addr);
    }
    return NULL;
}

static uint64_t fz_uint(const fz_ctx *c, const uint8_t *p, unsigned n)
{
    if (n == 4 && !c->img->big_endian) { /* a pointer or word of a little-endian 32-bit port */
        return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[c->img->big_endian ? n - 1 - i : i] << (8 * i);
    return v;
}

/* Read an n-byte unsigned at addr; -1 if unreadable. */
static int fz_read(const fz_ctx *c, uint64_t addr, unsigned n, uint64_t *out)
{
    const uint8_t *p = fz_at(c, addr, n);
    if (!p)
        return -1;
    *out = fz_uint(c, p, n);
    return 0;
}

static int fz_word(const fz_ctx *c, uint64_t addr, uint64_t *out)
{
    return fz_read(c, addr, c->ptr, out);
}

static int fz_fail(fz_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fz_fail(fz_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- the symbol index ---------------------------------------------------- */

static bool fz_has_prefix(const char *name, const char *prefix)
{
    return strncmp(name, prefix, strlen(prefix)) == 0;
}

/* The local-object prefix name starts with, or NULL. */
static const char *fz_local_prefix(const char *name)
{
    for (size_t i = 0; i < sizeof fz_local_prefixes / sizeof *fz_local_prefixes; i++) {
        const char *p = fz_local_prefixes[i];
        /* the first two letters before the call: most names differ there */
        if (name[0] == p[0] && name[1] == p[1] && fz_has_prefix(name, p))
            return p;
    }
    return NULL;
}

static bool fz_is_global(const char *name)
{
    /* every global is mp_frozen_* or mp_qstr_frozen_*: most mp_ names are rejected by their fourth letter */
    if (strncmp(name, "mp_", 3) != 0 || (name[3] != 'f' && name[3] != 'q'))
        return false;
    for (size_t i = 0; i < sizeof fz_globals / sizeof *fz_globals; i++)
        if (strcmp(name, fz_globals[i]) == 0)
            return true;
    return false;
}

/* A symbol the index holds: sized and in a section. */
static bool fz_indexed(const fs_symbol *s)
{
    return s->size > 0 && s->section >= 0 && s->type != 4 /* STT_FILE */ && s->type != 3 /* STT_SECTION */;
}

/* (Inlined where the index is made: called for every symbol.) */
static inline __attribute__((always_inline)) bool fz_is_candidate(const fs_symbol *s)
{
    /* Every local prefix starts with one of "fcpr", every global with
     * "mp_": most names are rejected by their first letter. */
    char c0 = s->name[0];
    if (s->bind == 0 /* STB_LOCAL */)
        return (c0 == 'f' || c0 == 'c' || c0 == 'p' || c0 == 'r') && fz_local_prefix(s->name);
    return c0 == 'm' && fz_is_global(s->name);
}

/* fz_sort_keys's order for addresses 2 GiB or more apart: a byte a
 * pass, on the symbols themselves. */
static int fz_sort_wide(fz_ctx *c)
{
    size_t n = c->nsyms;
    fz_sym *src = malloc((n ? n : 1) * sizeof *src), *dst = c->syms;
    if (!src)
        return -1;
    size_t k = 0;
    uint64_t any = 0, all = UINT64_MAX;
    for (int cand = 0; cand < 2; cand++)
        for (size_t i = 0; i < n; i++)
            if (dst[i].candidate == cand)
                src[k++] = dst[i];
    for (size_t i = 0; i < n; i++) {
        any |= src[i].value;
        all &= src[i].value;
    }
    for (unsigned shift = 0; shift < 64; shift += 8) {
        if ((((any ^ all) >> shift) & 0xff) == 0)
            continue; /* this byte is the same everywhere */
        size_t start[257] = {0};
        for (size_t i = 0; i < n; i++)
            start[((src[i].value >> shift) & 0xff) + 1]++;
        for (int b = 0; b < 256; b++)
            start[b + 1] += start[b];
        for (size_t i = 0; i < n; i++)
            dst[start[(src[i].value >> shift) & 0xff]++] = src[i];
        fz_sym *t = src;
        src = dst;
        dst = t;
    }
    if (src != c->syms) {
        memcpy(c->syms, src, n * sizeof *src);
        free(src);
    } else {
        free(dst);
    }
    return 0;
}

/* The index in address order, a symbol not part of the frozen content
 * before one that is at the same address, table order otherwise, for
 * the image's `count` indexed symbols, of which `first` is the first
 * candidate, their addresses in [lo, hi] with hi - lo < 2^31: a stable radix sort of 4-byte
 * keys (the address above lo, then the candidate flag as the lowest bit),
 * at most twelve bits a pass (two on ESP8266), that name their symbol; the
 * index is written once, in order. */
static int fz_sort_keys(fz_ctx *c, size_t count, size_t first, uint64_t lo, uint64_t hi)
{
    const fs_image *img = c->img;
    typedef struct { uint32_t key, index; } fz_key;
    fz_key *src = malloc(2 * (count + 1) * sizeof *src), *dst = src + count + 1;
    if (!src)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < img->nsymbols; i++) {
        const fs_symbol *s = &img->symbols[i];
        if (fz_indexed(s))
            src[k++] = (fz_key){(uint32_t)((s->value - lo) << 1 | (i >= first && fz_is_candidate(s))), (uint32_t)i};
    }
    unsigned bits = 64 - (unsigned)__builtin_clzll((hi - lo) << 1 | 1);
    unsigned passes = (bits + 11) / 12, digit = (bits + passes - 1) / passes;
    const uint32_t mask = (1u << digit) - 1;
    for (unsigned p = 0, shift = 0; p < passes; p++, shift += digit) {
        size_t start[4097] = {0};
        for (size_t i = 0; i < k; i++)
            start[((src[i].key >> shift) & mask) + 1]++;
        for (uint32_t d = 0; d < mask + 1; d++)
            start[d + 1] += start[d];
        for (size_t i = 0; i < k; i++)
            dst[start[(src[i].key >> shift) & mask]++] = src[i];
        fz_key *t = src;
        src = dst;
        dst = t;
    }
    for (size_t i = 0; i < k; i++) {
        const fs_symbol *s = &img->symbols[src[i].index];
        c->syms[i] = (fz_sym){s->value, s, src[i].key & 1, FZ_UNREACHED};
    }
    c->nsyms = k;
    free(src < dst ? src : dst);
    return 0;
}

/* Index the sized symbols by address, when there is frozen content (a
 * candidate symbol): syms, and max_end for fz_containing. */
static int fz_index(fz_ctx *c)
{
    const fs_image *img = c->img;
    size_t first = img->nsymbols; /* the first candidate: none, no frozen content, nothing to index */
    size_t count = 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < img->nsymbols; i++) {
        const fs_symbol *s = &img->symbols[i];
        if (!fz_indexed(s))
            continue;
        count++;
        lo = s->value < lo ? s->value : lo;
        hi = s->value > hi ? s->value : hi;
        if (first == img->nsymbols && fz_is_candidate(s))
            first = i;
    }
    if (first == img->nsymbols)
        count = 0; /* no frozen content: nothing to index */
    c->syms = malloc((count ? count : 1) * sizeof *c->syms);
    if (!c->syms)
        return -1;
    if (count > 1 && hi - lo <= UINT32_MAX / 2 && img->nsymbols <= UINT32_MAX) {
        if (fz_sort_keys(c, count, first, lo, hi) < 0)
            return -1;
    } else if (count > 0) {
        for (size_t i = 0; i < img->nsymbols; i++) {
            const fs_symbol *s = &img->symbols[i];
            if (fz_indexed(s))
                c->syms[c->nsyms++] = (fz_sym){s->value, s, i >= first && fz_is_candidate(s), FZ_UNREACHED};
        }
        if (count > 1 && fz_sort_wide(c) < 0)
            return -1;
    }
    c->max_end = malloc((c->nsyms ? c->nsyms : 1) * sizeof *c->max_end);
    if (!c->max_end)
        return -1;
    uint64_t end = 0;
    for (size_t i = 0; i < c->nsyms; i++) {
        const fs_symbol *s = c->syms[i].sym;
        if (c->syms[i].candidate && s->bind != 0 /* STB_LOCAL */ && c->nglobals < FZ_MAX_GLOBALS)
            c->globals[c->nglobals++] = &c->syms[i];
        uint64_t e = s->value + s->size < s->value ? UINT64_MAX : s->value + s->size;
        c->max_end[i] = end = e > end ? e : end;
    }
    return 0;
}

/* The symbol containing addr (a frozen candidate preferred), or NULL. */
static fz_sym *fz_containing(fz_ctx *c, uint64_t addr)
{
    size_t lo = 0, hi = c->nsyms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->syms[mid].value <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    fz_sym *best = NULL;
    for (size_t i = lo; i-- > 0;) {
        if (c->max_end[i] <= addr)
            break; /* nothing at or below i reaches addr */
        fz_sym *s = &c->syms[i];
        if (addr - s->sym->value < s->sym->size && (!best || (s->candidate && !best->candidate)))
            best = s;
        if (addr - s->sym->value > (1u << 20))
            break;
    }
    return best;
}

/* The first symbol named name, one of fz_globals (so a candidate). */
static fz_sym *fz_by_name(fz_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nglobals; i++)
        if (strcmp(c->globals[i]->sym->name, name) == 0)
            return c->globals[i];
    return NULL;
}

/* ---- charging ------------------------------------------------------------ */

static void fz_add(fs_frozen_module *m, int cat, uint64_t n)
{
    switch (cat) {
    case CAT_CODE: m->code += n; break;
    case CAT_RAW: m->raw_code += n; break;
    case CAT_TABLES: m->tables += n; break;
    default: m->objects += n; break;
    }
}

/* Charge a whole symbol to module k once.  Returns true if newly charged.
 * k < 0 (bytes no one module owns, e.g. a shared qstr's string that a
 * hostile image puts inside a symbol) charges nothing: the symbol stays
 * unreached and is counted as unattributed. */
static bool fz_charge(fz_ctx *c, fz_sym *s, int k, int cat)
{
    if (k < 0 || s->owner != FZ_UNREACHED)
        return false;
    s->owner = k;
    fz_add(&c->fz->modules[k], cat, s->sym->size);
    return true;
}

/* Charge n bytes at addr: the symbol holding them, or anonymous bytes. */
static int fz_charge_bytes(fz_ctx *c, uint64_t addr, uint64_t n, int k, int cat)
{
    if (!fz_at(c, addr, n))
        return fz_fail(c, "%" PRIu64 " bytes at 0x%" PRIx64 " are not in the file", n, addr);
    fz_sym *s = fz_containing(c, addr);
    if (s) {
        fz_charge(c, s, k, cat);
        return 0;
    }
    /* c->anon is kept in address order: find addr's place */
    size_t lo = 0, hi = c->nanon;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->anon[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->nanon && c->anon[lo].addr == addr)
        return 0; /* merged by the linker: charged to the first user */
    if (c->nanon == c->anon_cap) {
        size_t cap = c->anon_cap ? c->anon_cap * 2 : 64;
        fz_anon *g = realloc(c->anon, cap * sizeof *g);
        if (!g)
            return fz_fail(c, "out of memory");
        c->anon = g;
        c->anon_cap = cap;
    }
    memmove(&c->anon[lo + 1], &c->anon[lo], (c->nanon - lo) * sizeof *c->anon);
    c->anon[lo] = (fz_anon){addr, n};
    c->nanon++;
    c->anon_bytes += n;
    if (k >= 0)
        fz_add(&c->fz->modules[k], cat, n);
    return 0;
}

/* ---- the walk ------------------------------------------------------------ */

static void fz_use_qstr(fz_ctx *c, uint64_t id, int k)
{
    if (id < c->qstr_base || id - c->qstr_base >= c->nq)
        return;
    size_t i = (size_t)(id - c->qstr_base);
    if (c->q_last[i] == k)
        return;
    c->q_last[i] = k;
    c->fz->modules[k].qstrs_shared++; /* until found to be its own */
    if (c->q_users[i]++ == 0)
        c->q_user[i] = k;
}

static const char *fz_type_of(fz_ctx *c, uint64_t obj)
{
    uint64_t base;
    if (fz_word(c, obj, &base) < 0)
        return "";
    fz_sym *t = fz_containing(c, base);
    return t && t->sym->value == base ? t->sym->name : "";
}

static int fz_walk_obj(fz_ctx *c, uint64_t v, int k, int depth)
{
    if (depth > FZ_MAX_DEPTH)
        return fz_fail(c, "constant objects nested deeper than %d", FZ_MAX_DEPTH);
    if ((v & 7) == 2) { /* MP_ROM_QSTR in object representation A */
        fz_use_qstr(c, v >> 3, k);
        return 0;
    }
    if ((v & 3) != 0 || v == 0)
        return 0; /* small int or immediate */
    fz_sym *s = fz_containing(c, v);
    if (!s || !s->candidate || !fz_has_prefix(s->sym->name, "const_obj_") || s->sym->value != v)
        return 0; /* a firmware object (None, a type, ...) */
    if (!fz_charge(c, s, k, CAT_OBJECTS))
        return 0;
    const char *type = fz_type_of(c, v);
    uint64_t a, b;
    unsigned P = c->ptr;
    if (strcmp(type, "mp_type_str") == 0 || strcmp(type, "mp_type_bytes") == 0) {
        if (fz_word(c, v + 2 * P, &a) < 0 || fz_word(c, v + 3 * P, &b) < 0)
            return fz_fail(c, "%s: cannot read the string object", s->sym->name);
        if (a >= UINT32_MAX)
            return fz_fail(c, "%s: string length %" PRIu64 " is implausible", s->sym->name, a);
        uint64_t before = k >= 0 ? c->fz->modules[k].objects : 0;
        if (fz_charge_bytes(c, b, a + 1, k, CAT_OBJECTS) < 0)
            return -1;
        if (k >= 0)
            c->fz->modules[k].data += c->fz->modules[k].objects - before;
        return 0;
    }
    if (strcmp(type, "mp_type_tuple") == 0) {
        if (fz_word(c, v + P, &a) < 0 || a > FZ_MAX_TUPLE || (2 + a) * P > s->sym->size)
            return fz_fail(c, "%s: tuple length does not fit the object", s->sym->name);
        for (uint64_t i = 0; i < a; i++) {
            if (fz_word(c, v + (2 + i) * P, &b) < 0)
                return fz_fail(c, "%s: cannot read tuple item %" PRIu64, s->sym->name, i);
            if (fz_walk_obj(c, b, k, depth + 1) < 0)
                return -1;
        }
        return 0;
    }
    if (strcmp(type, "mp_type_int") == 0) {
        if (fz_word(c, v + P, &a) < 0 || fz_word(c, v + 3 * P, &b) < 0)
            return fz_fail(c, "%s: cannot read the mpz", s->sym->name);
        uint64_t alloc = c->img->big_endian ? a & ((1ull << (8 * P - 2)) - 1) : a >> 2;
        if (alloc > (1u << 20))
            return fz_fail(c, "%s: mpz digit count %" PRIu64 " is implausible", s->sym->name, alloc);
        return alloc ? fz_charge_bytes(c, b, alloc * 2, k, CAT_OBJECTS) : 0;
    }
    return 0; /* float, complex, ...: the struct alone */
}

static int fz_walk_rc(fz_ctx *c, uint64_t t, int k, int depth);

static int fz_walk_children(fz_ctx *c, uint64_t ch, int k, int depth)
{
    fz_sym *s = fz_containing(c, ch);
    if (!s)
        return fz_fail(c, "children pointer 0x%" PRIx64 " is in no symbol", ch);
    if (!fz_has_prefix(s->sym->name, "children_"))
        return fz_charge(c, s, k, CAT_CODE), 0; /* native prelude pointer, no children */
    if (!fz_charge(c, s, k, CAT_RAW))
        return 0;
    for (uint64_t off = 0; off + c->ptr <= s->sym->size; off += c->ptr) {
        uint64_t e;
        if (fz_word(c, s->sym->value + off, &e) < 0)
            return fz_fail(c, "%s: unreadable", s->sym->name);
        if (fz_walk_rc(c, e, k, depth + 1) < 0)
            return -1;
    }
    return 0;
}

/* proto_fun_S: {indicator[2], kind, is_generator; fun_data; children}. */
static int fz_walk_proto(fz_ctx *c, fz_sym *s, int k, int depth)
{
    uint64_t fd, ch;
    uint64_t t = s->sym->value;
    if (s->sym->size < 3 * c->ptr || fz_word(c, t + c->ptr, &fd) < 0 || fz_word(c, t + 2 * c->ptr, &ch) < 0)
        return fz_fail(c, "%s: not a proto_fun struct", s->sym->name);
    fz_sym *f = fz_containing(c, fd);
    if (!f || !fz_has_prefix(f->sym->name, "fun_data_"))
        return fz_fail(c, "%s: fun_data does not point at a fun_data_* object", s->sym->name);
    fz_charge(c, f, k, CAT_CODE);
    return ch ? fz_walk_children(c, ch, k, depth) : 0;
}

/* raw_code_S (v1.19-v1.22): its size varies with the port's options, so
 * every word pointing at a fun_data_* or children_* object is followed. */
static int fz_walk_rawcode(fz_ctx *c, fz_sym *s, int k, int depth)
{
    for (uint64_t off = 0; off + c->ptr <= s->sym->size; off += c->ptr) {
        uint64_t w;
        if (fz_word(c, s->sym->value + off, &w) < 0)
            return fz_fail(c, "%s: unreadable", s->sym->name);
        fz_sym *t = fz_containing(c, w);
        if (!t || t == s || !t->candidate)
            continue;
        if (fz_has_prefix(t->sym->name, "fun_data_"))
            fz_charge(c, t, k, CAT_CODE);
        else if (fz_has_prefix(t->sym->name, "children_") && fz_walk_children(c, w, k, depth) < 0)
            return -1;
    }
    return 0;
}

static int fz_walk_rc(fz_ctx *c, uint64_t t, int k, int depth)
{
    if (depth > FZ_MAX_DEPTH)
        return fz_fail(c, "raw codes nested deeper than %d", FZ_MAX_DEPTH);
    fz_sym *s = fz_containing(c, t);
    if (!s)
        return fz_fail(c, "raw code pointer 0x%" PRIx64 " is in no symbol", t);
    const char *n = s->sym->name;
    if (fz_has_prefix(n, "fun_data_")) {
        fz_charge(c, s, k, CAT_CODE); /* leaf bytecode, or a native prelude inside fun_data */
        return 0;
    }
    if (s->sym->value != t)
        return fz_fail(c, "raw code pointer 0x%" PRIx64 " points inside %s", t, n);
    if (fz_has_prefix(n, "proto_fun_")) {
        const uint8_t *p = fz_at(c, t, 2);
        if (!p || p[0] || p[1])
            return fz_fail(c, "%s does not start with the two zero bytes of a proto_fun", n);
        return fz_charge(c, s, k, CAT_RAW) ? fz_walk_proto(c, s, k, depth) : 0;
    }
    if (fz_has_prefix(n, "raw_code_"))
        return fz_charge(c, s, k, CAT_RAW) ? fz_walk_rawcode(c, s, k, depth) : 0;
    return fz_fail(c, "raw code pointer 0x%" PRIx64 " points at %s, not a raw code", t, n);
}

static int fz_walk_module(fz_ctx *c, uint64_t fm, int k, size_t slot)
{
    fz_sym *s = fz_containing(c, fm);
    if (!s || !fz_has_prefix(s->sym->name, "frozen_module_") || s->sym->value != fm)
        return fz_fail(c, "mp_frozen_mpy_content[%zu] does not point at a frozen_module_* object", slot);
    fs_frozen_module *m = &c->fz->modules[k];
    if (!m->cname && !(m->cname = strdup(s->sym->name + strlen("frozen_module_"))))
        return fz_fail(c, "out of memory");
    if (!fz_charge(c, s, k, CAT_TABLES))
        return fz_fail(c, "%s is listed twice", s->sym->name);
    uint64_t qt, ot, pf;
    if (s->sym->size < 3 * c->ptr || fz_word(c, fm, &qt) < 0 || fz_word(c, fm + c->ptr, &ot) < 0 ||
        fz_word(c, fm + 2 * c->ptr, &pf) < 0)
        return fz_fail(c, "%s: not a frozen module struct", s->sym->name);
    if (qt) {
        fz_sym *q = fz_containing(c, qt);
        if (!q || !fz_has_prefix(q->sym->name, "const_qstr_table_data_"))
            return fz_fail(c, "%s: qstr table pointer is not a const_qstr_table_data_* object", s->sym->name);
        fz_charge(c, q, k, CAT_TABLES);
        for (uint64_t off = 0; off + 2 <= q->sym->size; off += 2) {
            uint64_t id;
            if (fz_read(c, q->sym->value + off, 2, &id) < 0)
                return fz_fail(c, "%s: unreadable", q->sym->name);
            fz_use_qstr(c, id, k);
        }
    }
    if (ot) {
        fz_sym *o = fz_containing(c, ot);
        if (!o || !fz_has_prefix(o->sym->name, "const_obj_table_data_"))
            return fz_fail(c, "%s: object table pointer is not a const_obj_table_data_* object", s->sym->name);
        fz_charge(c, o, k, CAT_TABLES);
        for (uint64_t off = 0; off + c->ptr <= o->sym->size; off += c->ptr) {
            uint64_t v;
            if (fz_word(c, o->sym->value + off, &v) < 0 || fz_walk_obj(c, v, k, 0) < 0)
                return c->why[0] ? -1 : fz_fail(c, "%s: unreadable", o->sym->name);
        }
    }
    return fz_walk_rc(c, pf, k, 0);
}

/* ---- module list, names, qstr pool --------------------------------------- */

static int fz_add_module(fs_frozen *fz, const char *name, size_t n, bool is_str)
{
    fs_frozen_module *g = realloc(fz->modules, (fz->nmodules + 1) * sizeof *g);
    if (!g)
        return -1;
    fz->modules = g;
    fs_frozen_module *m = &g[fz->nmodules];
    memset(m, 0, sizeof *m);
    m->is_str = is_str;
    m->name = strndup(name, n);
    if (!m->name)
        return -1;
    fz->nmodules++;
    return 0;
}

static void fz_add_part(fs_frozen *fz, const char *name, uint64_t bytes)
{
    if (fz->nshared < FS_FROZEN_MAX_PARTS)
        fz->shared[fz->nshared++] = (fs_frozen_part){name, bytes};
}

/* Read mp_frozen_str_sizes and mp_frozen_names: one module per name (str
 * modules first) with their table entries charged.  Returns the number of
 * .mpy names, or -1 if the tables are unreadable. */
static long fz_names(fz_ctx *c, size_t *nstr_out)
{
    fs_frozen *fz = c->fz;
    fz_sym *sizes = fz_by_name(c, "mp_frozen_str_sizes");
    fz_sym *content = fz_by_name(c, "mp_frozen_str_content");
    fz_sym *names = fz_by_name(c, "mp_frozen_names");
    if (!names)
        return fz_fail(c, "no mp_frozen_names symbol");
    const uint8_t *np = fz_at(c, names->sym->value, names->sym->size);
    if (!np)
        return fz_fail(c, "mp_frozen_names has no bytes in the file");
    size_t nstr = 0;
    uint64_t str_used = 0, sizes_used = 0;
    if (sizes) {
        for (uint64_t off = 0; off + 4 <= sizes->sym->size; off += 4, nstr++) {
            uint64_t v;
            if (fz_read(c, sizes->sym->value + off, 4, &v) < 0)
                return fz_fail(c, "mp_frozen_str_sizes has no bytes in the file");
            if (v == 0)
                break;
        }
    }
    size_t pos = 0, idx = 0;
    uint64_t names_used = 0;
    while (pos < names->sym->size && np[pos]) {
        const char *nm = (const char *)np + pos;
        size_t l = strnlen(nm, names->sym->size - pos);
        if (pos + l >= names->sym->size)
            return fz_fail(c, "mp_frozen_names is not NUL-terminated");
        if (fz_add_module(fz, nm, l, idx < nstr) < 0)
            return fz_fail(c, "out of memory");
        fs_frozen_module *m = &fz->modules[fz->nmodules - 1];
        m->entries += l + 1;
        names_used += l + 1;
        if (m->is_str) {
            uint64_t v = 0;
            fz_read(c, sizes->sym->value + 4 * idx, 4, &v);
            m->entries += 4;
            m->source = v + 1;
            sizes_used += 4;
            str_used += v + 1;
        }
        pos += l + 1;
        idx++;
    }
    if (idx < nstr)
        return fz_fail(c, "mp_frozen_names has %zu names but mp_frozen_str_sizes %zu sizes", idx, nstr);
    if (content && str_used > content->sym->size)
        return fz_fail(c, "str module sizes add up to %" PRIu64 " bytes, mp_frozen_str_content has %" PRIu64,
                       str_used, content->sym->size);
    if (!content && str_used)
        return fz_fail(c, "str modules but no mp_frozen_str_content symbol");
    names->owner = FZ_SHARED;
    fz_add_part(fz, "mp_frozen_names", names->sym->size - names_used);
    if (sizes) {
        sizes->owner = FZ_SHARED;
        fz_add_part(fz, "mp_frozen_str_sizes", sizes->sym->size - sizes_used);
    }
    if (content) {
        content->owner = FZ_SHARED;
        fz_add_part(fz, "mp_frozen_str_content", content->sym->size - str_used);
    }
    *nstr_out = nstr;
    return (long)(idx - nstr);
}

/* Read the pool header and allocate the per-entry user arrays. */
static int fz_pool_open(fz_ctx *c, fz_sym *pool, fz_sym *hashes, fz_sym *lengths)
{
    unsigned P = c->ptr;
    uint64_t w1, n;
    if (fz_word(c, pool->sym->value + P, &w1) < 0 || fz_word(c, pool->sym->value + 3 * P, &n) < 0)
        return fz_fail(c, "mp_qstr_frozen_const_pool has no bytes in the file");
    unsigned hdr = hashes ? 6 : 5;
    if (n > (1u << 20) || pool->sym->size != (hdr + n) * P)
        return fz_fail(c, "mp_qstr_frozen_const_pool: %" PRIu64 " bytes do not fit a %u-word header and %" PRIu64
                       " entries", pool->sym->size, hdr, n);
    if (!lengths || lengths->sym->size == 0 || (n && lengths->sym->size % n))
        return fz_fail(c, "mp_qstr_frozen_const_lengths missing or not %" PRIu64 " entries", n);
    if (hashes && (n == 0 || hashes->sym->size % n))
        return fz_fail(c, "mp_qstr_frozen_const_hashes is not %" PRIu64 " entries", n);
    c->qstr_base = c->img->big_endian ? w1 >> 1 : w1 & ((1ull << (8 * P - 1)) - 1);
    c->nq = (size_t)n;
    c->q_user = malloc((c->nq + 1) * sizeof *c->q_user);
    c->q_last = malloc((c->nq + 1) * sizeof *c->q_last);
    c->q_users = calloc(c->nq + 1, sizeof *c->q_users);
    if (!c->q_user || !c->q_last || !c->q_users)
        return fz_fail(c, "out of memory");
    for (size_t i = 0; i < c->nq; i++)
        c->q_user[i] = c->q_last[i] = -1;
    return 0;
}

/* Charge pool entries used by one module to it; the rest are shared rows. */
static int fz_pool_close(fz_ctx *c, fz_sym *pool, fz_sym *hashes, fz_sym *lengths)
{
    fs_frozen *fz = c->fz;
    unsigned P = c->ptr;
    uint64_t hw = hashes ? hashes->sym->size / c->nq : 0, lw = c->nq ? lengths->sym->size / c->nq : 0;
    uint64_t sh_ptr = 0, sh_hash = 0, sh_len = 0, sh_str = 0;
    uint64_t strs = pool->sym->value + (hashes ? 6 : 5) * P;
    for (size_t i = 0; i < c->nq; i++) {
        uint64_t sp, l;
        if (fz_word(c, strs + i * P, &sp) < 0 || fz_read(c, lengths->sym->value + i * lw, (unsigned)lw, &l) < 0)
            return fz_fail(c, "qstr pool entry %zu is unreadable", i);
        bool own = c->q_users[i] == 1;
        int k = own ? c->q_user[i] : -1;
        uint64_t before = c->anon_bytes;
        if (fz_charge_bytes(c, sp, l + 1, k, CAT_OBJECTS) < 0)
            return -1;
        if (own) {
            fs_frozen_module *m = &fz->modules[k];
            m->objects -= c->anon_bytes - before; /* move it from objects to qstrs */
            m->qstrs += c->anon_bytes - before + P + hw + lw;
            m->qstrs_owned++;
            m->qstrs_shared--;
            fz->pool_owned++;
        } else {
            sh_ptr += P;
            sh_hash += hw;
            sh_len += lw;
            sh_str += c->anon_bytes - before;
            fz->pool_shared++;
        }
    }
    fz->pool_qstrs = c->nq;
    pool->owner = FZ_SHARED;
    fz_add_part(fz, "mp_qstr_frozen_const_pool", (hashes ? 6 : 5) * P + sh_ptr);
    if (hashes) {
        hashes->owner = FZ_SHARED;
        fz_add_part(fz, "mp_qstr_frozen_const_hashes", sh_hash);
    }
    lengths->owner = FZ_SHARED;
    fz_add_part(fz, "mp_qstr_frozen_const_lengths", sh_len);
    fz_add_part(fz, "qstr-strings", sh_str);
    return 0;
}

static int fz_walk(fz_ctx *c)
{
    fs_frozen *fz = c->fz;
    fz_sym *content = fz_by_name(c, "mp_frozen_mpy_content");
    fz_sym *pool = fz_by_name(c, "mp_qstr_frozen_const_pool");
    fz_sym *hashes = fz_by_name(c, "mp_qstr_frozen_const_hashes");
    fz_sym *lengths = fz_by_name(c, "mp_qstr_frozen_const_lengths");
    size_t nstr;
    long nmpy = fz_names(c, &nstr);
    if (nmpy < 0)
        return -1;
    if (!content)
        return nmpy ? fz_fail(c, "no mp_frozen_mpy_content symbol") : 0;
    if ((uint64_t)nmpy != content->sym->size / c->ptr)
        return fz_fail(c, "mp_frozen_names lists %ld .mpy modules, mp_frozen_mpy_content has %" PRIu64 " pointers",
                       nmpy, content->sym->size / c->ptr);
    if (!pool)
        return fz_fail(c, "no mp_qstr_frozen_const_pool symbol");
    if (fz_pool_open(c, pool, hashes, lengths) < 0)
        return -1;
    for (size_t k = 0; k < (size_t)nmpy; k++) {
        uint64_t fm;
        if (fz_word(c, content->sym->value + k * c->ptr, &fm) < 0)
            return fz_fail(c, "mp_frozen_mpy_content has no bytes in the file");
        int mk = (int)(nstr + k);
        fz->modules[mk].entries += c->ptr;
        if (fz_walk_module(c, fm, mk, k) < 0)
            return -1;
    }
    content->owner = FZ_SHARED;
    fz_add_part(fz, "mp_frozen_mpy_content", content->sym->size - (uint64_t)nmpy * c->ptr);
    return fz_pool_close(c, pool, hashes, lengths);
}

/* ---- names fallback ------------------------------------------------------ */

/* The C name MicroPython's freezer gives the module at path: current
 * master (drop the extension, '.' and others -> '_') or v1.19-v1.28
 * ('/' -> '_', drop the last 3 characters). */
static void fz_cname(const char *path, bool old_rule, char *out, size_t len)
{
    size_t n = strlen(path);
    if (old_rule) {
        n = n >= 3 ? n - 3 : 0;
    } else {
        const char *dot = strrchr(path, '.');
        if (dot)
            n = (size_t)(dot - path);
    }
    if (n >= len)
        n = len - 1;
    for (size_t i = 0; i < n; i++) {
        char ch = path[i];
        bool keep = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
        out[i] = keep ? ch : (old_rule && ch != '/') ? ch : '_';
    }
    out[n] = '\0';
}

static int fz_by_names(fz_ctx *c)
{
    fs_frozen *fz = c->fz;
    for (size_t i = 0; i < c->nsyms; i++) {
        fz_sym *s = &c->syms[i];
        if (!s->candidate || !fz_has_prefix(s->sym->name, "frozen_module_"))
            continue;
        const char *cn = s->sym->name + strlen("frozen_module_");
        char *dot = strchr(cn, '.'); /* LTO: frozen_module_x.lto_priv.0 */
        size_t n = dot ? (size_t)(dot - cn) : strlen(cn);
        bool known = false;
        for (size_t k = 0; k < fz->nmodules && !known; k++) {
            if (fz->modules[k].is_str || fz->modules[k].cname)
                continue;
            char a[256], b[256];
            fz_cname(fz->modules[k].name, false, a, sizeof a);
            fz_cname(fz->modules[k].name, true, b, sizeof b);
            if ((strlen(a) == n && !strncmp(a, cn, n)) || (strlen(b) == n && !strncmp(b, cn, n))) {
                fz->modules[k].cname = strndup(cn, n);
                known = true;
            }
        }
        if (!known) {
            if (fz_add_module(fz, cn, n, false) < 0 || !(fz->modules[fz->nmodules - 1].cname = strndup(cn, n)))
                return fz_fail(c, "out of memory");
        }
    }
    for (size_t i = 0; i < c->nsyms; i++) {
        fz_sym *s = &c->syms[i];
        const char *prefix = s->candidate && s->sym->bind == 0 ? fz_local_prefix(s->sym->name) : NULL;
        if (!prefix || s->owner != FZ_UNREACHED)
            continue;
        const char *rest = s->sym->name + strlen(prefix);
        int best = -1, matches = 0;
        size_t best_len = 0;
        for (size_t k = 0; k < fz->nmodules; k++) {
            const char *cn = fz->modules[k].cname;
            size_t l = cn ? strlen(cn) : 0;
            if (!cn || strncmp(rest, cn, l) || (rest[l] && rest[l] != '_' && rest[l] != '.'))
                continue;
            matches++;
            if (l > best_len) {
                best = (int)k;
                best_len = l;
            }
        }
        if (best < 0)
            continue;
        if (matches > 1)
            fz->ambiguous++;
        int cat = prefix[0] == 'f' && prefix[1] == 'u'                       ? CAT_CODE
                  : prefix[0] == 'p' || prefix[0] == 'r' || prefix[1] == 'h' ? CAT_RAW
                  : fz_has_prefix(prefix, "const_obj_")                      ? CAT_OBJECTS
                                                                             : CAT_TABLES;
        fz_charge(c, s, best, cat);
    }
    /* the global tables are shared rows as a whole, minus str/name entries */
    const char *whole[] = {"mp_qstr_frozen_const_pool", "mp_qstr_frozen_const_hashes", "mp_qstr_frozen_const_lengths",
                           "mp_frozen_mpy_content"};
    for (size_t i = 0; i < sizeof whole / sizeof *whole; i++) {
        fz_sym *s = fz_by_name(c, whole[i]);
        if (s && s->owner == FZ_UNREACHED) {
            s->owner = FZ_SHARED;
            fz_add_part(fz, whole[i], s->sym->size);
        }
    }
    return 0;
}

/* ---- totals -------------------------------------------------------------- */

static void fz_totals(fz_ctx *c)
{
    fs_frozen *fz = c->fz;
    fz->total = c->anon_bytes;
    fz->unattributed = 0;
    fz->nunattributed = 0;
    for (size_t i = 0; i < c->nsyms; i++) {
        fz_sym *s = &c->syms[i];
        if (!s->candidate && s->owner == FZ_UNREACHED)
            continue;
        fz->total += s->sym->size;
        if (s->owner == FZ_UNREACHED) {
            fz->unattributed += s->sym->size;
            fz->nunattributed++;
        }
        bool iram = fz->esp8266 && s->sym->value >= FZ_IRAM_START && s->sym->value < FZ_IRAM_END;
        if (iram) {
            fz->iram += s->sym->size;
            if (s->owner >= 0)
                fz->modules[s->owner].iram += s->sym->size;
        }
    }
    fz->modules_bytes = fz->shared_bytes = 0;
    for (size_t k = 0; k < fz->nmodules; k++) {
        fs_frozen_module *m = &fz->modules[k];
        m->bytes = m->code + m->raw_code + m->tables + m->objects + m->qstrs + m->entries + m->source;
        if (m->data > m->objects) /* data later found to be qstr strings moved to qstrs */
            m->data = m->objects;
        fz->modules_bytes += m->bytes;
    }
    for (size_t i = 0; i < fz->nshared; i++)
        fz->shared_bytes += fz->shared[i].bytes;
}

/* Forget everything the failed walk found. */
static void fz_clear(fz_ctx *c)
{
    fs_frozen *fz = c->fz;
    for (size_t k = 0; k < fz->nmodules; k++) {
        free(fz->modules[k].name);
        free(fz->modules[k].cname);
    }
    free(fz->modules);
    fz->modules = NULL;
    fz->nmodules = 0;
    fz->nshared = 0;
    fz->pool_qstrs = fz->pool_owned = fz->pool_shared = 0;
    for (size_t i = 0; i < c->nsyms; i++)
        c->syms[i].owner = FZ_UNREACHED;
    c->nanon = 0;
    c->anon_bytes = 0;
    c->nq = 0;
}

static const char *fz_naming(const fz_ctx *c)
{
    bool proto = false, raw = false;
    for (size_t i = 0; i < c->nsyms; i++) {
        if (!c->syms[i].candidate)
            continue;
        proto |= fz_has_prefix(c->syms[i].sym->name, "proto_fun_");
        raw |= fz_has_prefix(c->syms[i].sym->name, "raw_code_");
    }
    return proto ? "proto_fun" : raw ? "raw_code" : NULL;
}

/* The names fallback after a failed walk: module names from the tables if
 * they can be read, bytes by symbol names. */
static int fz_fallback(fz_ctx *c)
{
    fs_frozen *fz = c->fz;
    char why[sizeof c->why];
    memcpy(why, c->why, sizeof why);
    fz_clear(c);
    size_t nstr;
    c->why[0] = '\0';
    bool names = fz_names(c, &nstr) >= 0;
    if (!names)
        fz_clear(c);
    if (!strcmp(why, "out of memory") || !strcmp(c->why, "out of memory"))
        return -1;
    fz->method = FS_FROZEN_NAMES;
    snprintf(fz->note, sizeof fz->note, "pointer walk impossible (%s); bytes attributed by symbol names%s", why,
             names ? "" : ", module names from frozen_module_* symbols");
    return fz_by_names(c);
}

int fs_frozen_analyze(const fs_image *img, const uint8_t *data, size_t len, fs_frozen *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!img->has_symtab)
        return fs_fail(err, "%s: no symbol table (stripped?): frozen modules cannot be found", img->path);
    fz_ctx c = {.img = img, .data = data, .len = len, .ptr = img->elf_class == 64 ? 8 : 4, .fz = out};
    if (fz_index(&c) < 0) {
        free(c.syms);
        free(c.max_end);
        return fs_fail(err, "%s: out of memory", img->path);
    }
    for (size_t i = 0; i < c.nsyms && !out->present; i++)
        out->present = c.syms[i].candidate;
    out->esp8266 = fs_esp8266_detect(img, NULL);
    const fs_section *irom = fs_image_section(img, ".irom0.text");
    out->irom0_size = out->esp8266 && irom ? irom->size : 0;
    out->naming = fz_naming(&c);
    int rc = 0;
    if (out->present && fz_walk(&c) < 0) {
        free(c.q_user);
        free(c.q_last);
        free(c.q_users);
        c.q_user = c.q_last = NULL;
        c.q_users = NULL;
        if (fz_fallback(&c) < 0)
            rc = fs_fail(err, "%s: out of memory", img->path);
    }
    if (rc == 0)
        fz_totals(&c);
    free(c.syms);
    free(c.max_end);
    free(c.anon);
    free(c.q_user);
    free(c.q_last);
    free(c.q_users);
    if (rc < 0)
        fs_frozen_free(out);
    return rc;
}

int fs_frozen_analyze_file(const fs_image *img, fs_frozen *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    const unsigned char *buf;
    size_t n;
    if (fs_elf_reread(img, &buf, &n, err) < 0)
        return -1;
    int rc = fs_frozen_analyze(img, buf, n, out, err);
    fs_unmap_file(buf, n);
    return rc;
}

void fs_frozen_free(fs_frozen *fz)
{
    if (!fz)
        return;
    for (size_t k = 0; k < fz->nmodules; k++) {
        free(fz->modules[k].name);
        free(fz->modules[k].cname);
    }
    free(fz->modules);
    memset(fz, 0, sizeof *fz);
}

double fs_frozen_percent(const fs_frozen *fz, uint64_t bytes)
{
    return fz->irom0_size ? 100.0 * (double)bytes / (double)fz->irom0_size : 0.0;
}

int fs_frozen_findings(const fs_frozen *fz, fs_report *rep)
{
    for (size_t k = 0; k < fz->nmodules; k++) {
        const fs_frozen_module *m = &fz->modules[k];
        if (!m->iram)
            continue;
        if (fs_report_add(rep, "frozen-in-iram", FS_SEV_WARNING, m->name,
                          "freeze it as bytecode, or place frozen_content.o's .text in irom0 in the linker script",
                          "frozen module %s has %" PRIu64 " bytes of code in IRAM (.text) instead of irom0",
                          m->name, m->iram) < 0)
            return -1;
        fs_finding_num(rep, "bytes", m->iram);
    }
    return 0;
}

int fs_frozen_data_findings(const fs_frozen *fz, uint64_t romfs_free, fs_report *rep)
{
    const fs_esp8266 *esp = &rep->esp;
    bool romfs = esp->has_romfs || (rep->board && rep->board->has_romfs);
    uint64_t romfs_size = esp->has_romfs ? esp->romfs_size : romfs ? rep->board->romfs_size : 0;
    for (size_t k = 0; k < fz->nmodules; k++) {
        const fs_frozen_module *m = &fz->modules[k];
        if (m->data < FS_FROZEN_DATA_MIN || m->data * 2 < m->bytes)
            continue;
        /* irom0 shrinks by the data; the window too unless a ROMFS partition
         * (inside the window) ends it anyway or the data go into it */
        uint64_t irom0 = esp->detected ? m->data : 0;
        uint64_t window = esp->detected && !esp->has_romfs ? irom0 : 0;
        char where[256];
        if (romfs && romfs_free != UINT64_MAX)
            snprintf(where, sizeof where, "this board's ROMFS partition (%" PRIu64 " bytes, %" PRIu64 " free%s)",
                     romfs_size, romfs_free, romfs_free < m->data ? ": not enough" : "");
        else if (romfs)
            snprintf(where, sizeof where, "this board's ROMFS partition (%" PRIu64 " bytes; give --romfs IMAGE for its "
                     "free space)", romfs_size);
        else
            snprintf(where, sizeof where, "the filesystem (this board has no ROMFS partition)");
        char frees[200] = "";
        if (esp->detected)
            snprintf(frees, sizeof frees, "; moving them frees %" PRIu64 " bytes of irom0 and %" PRIu64
                     " of the 1 MiB window%s", irom0, window,
                     esp->has_romfs ? " (the ROMFS partition already ends the window)" : "");
        if (fs_report_add(rep, "frozen-data-module", FS_SEV_INFO, m->name,
                          "Keep the data as a raw file (no module overhead) and read it from there: "
                          "mpremote romfs deploy for the ROMFS partition, mpremote cp for the filesystem.",
                          "frozen module %s is %" PRIu64 " bytes, %" PRIu64 " of them str/bytes constants: they "
                          "could live in %s%s", m->name, m->bytes, m->data, where, frees) < 0)
            return -1;
        fs_finding_num(rep, "bytes", m->bytes);
        fs_finding_num(rep, "data", m->data);
        fs_finding_num(rep, "irom0_freed", irom0);
        fs_finding_num(rep, "window_freed", window);
        if (romfs) {
            fs_finding_num(rep, "romfs_size", romfs_size);
            if (romfs_free != UINT64_MAX)
                fs_finding_num(rep, "romfs_free", romfs_free);
        }
    }
    return 0;
}

/* ---- output: JSON and text (format only) --------------------------------- */

static void fz_module_emit(fs_jemit *e, const fs_frozen *fz, const fs_frozen_module *m)
{
    fs_jemit_open(e, false);
    fs_jemit_ktext(e, "name", m->name);
    fs_jemit_ktext(e, "kind", m->is_str ? "str" : "mpy");
    fs_jemit_ktext(e, "c_name", m->cname);
    fs_jemit_ku64(e, "bytes", m->bytes);
    if (fz->irom0_size)
        fs_jemit_kreal(e, "percent_irom0", (double)(int64_t)(fs_frozen_percent(fz, m->bytes) * 100 + 0.5) / 100);
    else
        fs_jemit_knull(e, "percent_irom0");
    fs_jemit_ku64(e, "code", m->code);
    fs_jemit_ku64(e, "raw_code", m->raw_code);
    fs_jemit_ku64(e, "tables", m->tables);
    fs_jemit_ku64(e, "objects", m->objects);
    fs_jemit_ku64(e, "data", m->data);
    fs_jemit_ku64(e, "qstrs", m->qstrs);
    fs_jemit_ku64(e, "entries", m->entries);
    fs_jemit_ku64(e, "source", m->source);
    fs_jemit_ku64(e, "qstrs_owned", m->qstrs_owned);
    fs_jemit_ku64(e, "qstrs_shared", m->qstrs_shared);
    fs_jemit_ku64(e, "iram_bytes", m->iram);
    fs_jemit_close(e);
}

void fs_frozen_emit(const fs_frozen *fz, const char *path, fs_jemit *e)
{
    fs_jemit_open(e, false);
    fs_jemit_ktext(e, "schema", "flashsize-frozen");
    fs_jemit_kint(e, "schema_version", FS_FROZEN_SCHEMA_VERSION);
    fs_jemit_ktext(e, "file", path ? path : "");
    fs_jemit_kbool(e, "present", fz->present);
    fs_jemit_ktext(e, "method", fz->method == FS_FROZEN_WALK ? "walk" : "names");
    fs_jemit_ktext(e, "note", fz->note[0] ? fz->note : NULL);
    fs_jemit_ktext(e, "naming", fz->naming);
    fs_jemit_ku64(e, "total", fz->total);
    fs_jemit_ku64(e, "modules_bytes", fz->modules_bytes);
    fs_jemit_ku64(e, "shared_bytes", fz->shared_bytes);
    fs_jemit_ku64(e, "unattributed", fz->unattributed);
    fs_jemit_ku64(e, "unattributed_symbols", fz->nunattributed);
    fs_jemit_ku64(e, "ambiguous_symbols", fz->ambiguous);
    if (fz->irom0_size)
        fs_jemit_ku64(e, "irom0_size", fz->irom0_size);
    else
        fs_jemit_knull(e, "irom0_size");
    fs_jemit_ku64(e, "iram_bytes", fz->iram);
    fs_jemit_kopen(e, "qstrs", false);
    fs_jemit_ku64(e, "pool", fz->pool_qstrs);
    fs_jemit_ku64(e, "owned", fz->pool_owned);
    fs_jemit_ku64(e, "shared", fz->pool_shared);
    fs_jemit_close(e);
    fs_jemit_kopen(e, "modules", true);
    for (size_t k = 0; k < fz->nmodules; k++)
        fz_module_emit(e, fz, &fz->modules[k]);
    fs_jemit_close(e);
    fs_jemit_kopen(e, "shared", true);
    for (size_t i = 0; i < fz->nshared; i++) {
        fs_jemit_open(e, false);
        fs_jemit_ktext(e, "name", fz->shared[i].name);
        fs_jemit_ku64(e, "bytes", fz->shared[i].bytes);
        fs_jemit_close(e);
    }
    fs_jemit_close(e);
    fs_jemit_kopen(e, "findings", true);
    for (size_t k = 0; k < fz->nmodules; k++) {
        const fs_frozen_module *m = &fz->modules[k];
        if (!m->iram)
            continue;
        fs_jemit_open(e, false);
        fs_jemit_ktext(e, "id", "frozen-in-iram");
        fs_jemit_ktext(e, "severity", "warning");
        fs_jemit_ktext(e, "subject", m->name);
        fs_jemit_ku64(e, "bytes", m->iram);
        fs_jemit_close(e);
    }
    fs_jemit_close(e);
    fs_jemit_close(e);
}

json_t *fs_frozen_json(const fs_frozen *fz, const char *path)
{
    fs_jemit_tree t;
    fs_jemit_tree_init(&t);
    fs_frozen_emit(fz, path, &t.base);
    return fs_jemit_tree_finish(&t);
}

int fs_frozen_print_text(FILE *out, const fs_frozen *fz, const char *path)
{
    fprintf(out, "Frozen modules in %s\n", path ? path : "");
    if (!fz->present) {
        fprintf(out, "  no frozen content (none of the freezer's symbols)\n");
        return ferror(out) ? -1 : 0;
    }
    fprintf(out, "  method: %s%s%s\n", fz->method == FS_FROZEN_WALK ? "pointer walk" : "symbol names",
            fz->naming ? ", naming " : "", fz->naming ? fz->naming : "");
    if (fz->note[0])
        fprintf(out, "  note: %s\n", fz->note);
    fprintf(out, "\n  %-32s %-4s %8s %7s %7s %7s %7s %7s %7s\n", "module", "kind", "bytes", "%irom0", "code", "rawcode",
            "tables", "objects", "qstrs");
    for (size_t k = 0; k < fz->nmodules; k++) {
        const fs_frozen_module *m = &fz->modules[k];
        char pct[16] = "-";
        if (fz->irom0_size)
            snprintf(pct, sizeof pct, "%.2f", fs_frozen_percent(fz, m->bytes));
        fprintf(out, "  %-32s %-4s %8" PRIu64 " %7s %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 "\n",
                m->name, m->is_str ? "str" : "mpy", m->bytes, pct, m->code, m->raw_code, m->tables, m->objects,
                m->qstrs);
    }
    fprintf(out, "\n  shared:\n");
    for (size_t i = 0; i < fz->nshared; i++)
        fprintf(out, "    %-30s %8" PRIu64 "\n", fz->shared[i].name, fz->shared[i].bytes);
    fprintf(out, "\n  modules %" PRIu64 " + shared %" PRIu64 " + unattributed %" PRIu64 " (%zu symbols) = total %" PRIu64
                 " bytes\n", fz->modules_bytes, fz->shared_bytes, fz->unattributed, fz->nunattributed, fz->total);
    fprintf(out, "  qstr pool: %zu entries, %zu used by one module, %zu shared or unused\n", fz->pool_qstrs,
            fz->pool_owned, fz->pool_shared);
    if (fz->ambiguous)
        fprintf(out, "  %zu symbols matched more than one module name (the longest was taken)\n", fz->ambiguous);
    for (size_t k = 0; k < fz->nmodules; k++)
        if (fz->modules[k].iram)
            fprintf(out, "  warning [frozen-in-iram] %s: %" PRIu64 " bytes in IRAM (.text) instead of irom0\n",
                    fz->modules[k].name, fz->modules[k].iram);
    return ferror(out) ? -1 : 0;
}
