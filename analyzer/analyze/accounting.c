/*
 * accounting.c - every byte of every allocated section: symbols, literal
 * pools, string literals, object data, padding and the unattributed rest
 * (accounting.h).  One sort of the sized symbols by section and address,
 * then one walk per section over its gaps and (with a map) its input
 * sections in address order; with literal words, each gap first gives
 * the words in it to their functions.
 */
#include "accounting.h"

#include "literals.h"

#include <elf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int acct_input_cmp(const void *a, const void *b, void *ctx)
{
    const fs_map_input *in = ctx;
    const fs_map_input *x = &in[*(const size_t *)a], *y = &in[*(const size_t *)b];
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static bool acct_has(const char *name, const char *part)
{
    return strstr(name, part) != NULL;
}

/* The map's view of one section: its input sections sorted by address. */
typedef struct acct_inputs {
    const fs_mapfile *m;
    size_t *idx, n, next;
    bool xtensa_code;  /* an Xtensa code section: gcc's -mtext-section-literals puts each
                          function's literal pool in its own .text.* input section, before
                          the function's symbol */
} acct_inputs;

static bool acct_code_input(const char *name)
{
    return !strncmp(name, ".text", 5) || !strncmp(name, ".irom0.text", 11) || !strncmp(name, ".iram", 5) ||
           !strncmp(name, ".irom.text", 10);
}

static void acct_label(fs_acct_section *s, const acct_inputs *ins, const fs_map_input *in, uint64_t n)
{
    if (in->fill)
        s->padding += n;
    else if (acct_has(in->name, ".literal") || acct_has(in->name, ".lit4") ||
             (ins->xtensa_code && acct_code_input(in->name)))
        s->literal_pools += n;
    else if (acct_has(in->name, ".rodata.str") || acct_has(in->name, ".str1"))
        s->string_literals += n;
    else
        s->object_data += n;
}

/* Bytes [a, b) that no symbol covers. */
static void acct_gap(fs_acct_section *s, acct_inputs *ins, uint64_t a, uint64_t b)
{
    if (a >= b)
        return;
    if (!ins->m) {
        /* alignment padding: shorter than the alignment of where it ends */
        uint64_t align = b & (~b + 1);
        if (align == 0 || align > 16)
            align = 16;
        if (b - a < align)
            s->padding += b - a;
        else
            s->unattributed += b - a;
        return;
    }
    const fs_map_input *in = ins->m->inputs;
    while (ins->next < ins->n && in[ins->idx[ins->next]].addr + in[ins->idx[ins->next]].size <= a)
        ins->next++;
    uint64_t cur = a;
    for (size_t j = ins->next; j < ins->n && cur < b; j++) {
        const fs_map_input *x = &in[ins->idx[j]];
        if (x->addr >= b)
            break;
        uint64_t e = x->addr + x->size;
        if (e <= cur || x->size == 0)
            continue;
        if (x->addr > cur) {
            s->unattributed += x->addr - cur;
            cur = x->addr;
        }
        uint64_t take = (e < b ? e : b) - cur;
        acct_label(s, ins, x, take);
        cur += take;
    }
    s->unattributed += b - cur;
}

/* Bytes [a, b) that no symbol covers, literal words first (sorted and
 * disjoint: found by binary search on their ends). */
static void acct_span(fs_accounting *out, fs_acct_section *s, acct_inputs *ins, const fs_literals *l, uint64_t a,
                      uint64_t b)
{
    if (a >= b)
        return;
    size_t lo = 0, hi = l->nwords;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->words[mid].addr + l->words[mid].size <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t cur = a;
    for (size_t i = lo; i < l->nwords && l->words[i].addr < b; i++) {
        const fs_litword *w = &l->words[i];
        uint64_t ws = w->addr > cur ? w->addr : cur, we = w->addr + w->size < b ? w->addr + w->size : b;
        if (ws >= we)
            continue;
        acct_gap(s, ins, cur, ws);
        uint64_t n = we - ws;
        s->literal_pools += n;
        s->literal_loaded += n;
        out->sym_literal[w->owner] += (uint32_t)n;
        if (w->shared) {
            s->literal_shared += n;
            out->sym_shared[w->owner] += (uint32_t)n;
        }
        cur = we;
    }
    acct_gap(s, ins, cur, b);
}

static int acct_inputs_of(const fs_mapfile *m, const fs_section *sec, acct_inputs *ins)
{
    memset(ins, 0, sizeof *ins);
    if (!m)
        return 0;
    const fs_map_section *ms = NULL;
    for (size_t i = 0; i < m->nsections && !ms; i++)
        if (m->sections[i].vma == sec->addr && !strcmp(m->sections[i].name, sec->name))
            ms = &m->sections[i];
    ins->m = m;
    ins->xtensa_code = (sec->flags & SHF_EXECINSTR) != 0;
    if (!ms || ms->ninputs == 0)
        return 0;
    if (!(ins->idx = malloc(ms->ninputs * sizeof *ins->idx)))
        return -1;
    for (size_t i = 0; i < ms->ninputs; i++)
        ins->idx[i] = ms->first_input + i;
    ins->n = ms->ninputs;
    bool sorted = true; /* the map lists inputs in address order, unless a script reorders */
    for (size_t i = 1; i < ins->n && sorted; i++)
        sorted = m->inputs[ins->idx[i - 1]].addr <= m->inputs[ins->idx[i]].addr;
    if (!sorted)
        qsort_r(ins->idx, ins->n, sizeof *ins->idx, acct_input_cmp, m->inputs);
    return 0;
}

static bool acct_section_counts(const fs_section *s)
{
    return (s->flags & SHF_ALLOC) && s->size > 0 && !((s->flags & SHF_TLS) && s->type == SHT_NOBITS);
}

/* Where the bytes a sized symbol covers lie: section index *sec, offset
 * *off into it, *len bytes (clipped to the section; the Thumb bit dropped).
 * false when it covers none of a section that counts. */
static bool acct_range(const fs_image *img, const fs_symbol *s, size_t *sec, uint64_t *off, uint64_t *len)
{
    if (s->size == 0 || s->section < 0 || (size_t)s->section >= img->nsections ||
        !acct_section_counts(&img->sections[s->section]))
        return false;
    const fs_section *x = &img->sections[s->section];
    uint64_t v = s->value;
    if (img->machine == EM_ARM && s->type == STT_FUNC)
        v &= ~1ull; /* the Thumb bit */
    uint64_t lo = v > x->addr ? v : x->addr, hi = x->addr + x->size;
    uint64_t e = s->size > UINT64_MAX - v ? UINT64_MAX : v + s->size;
    if (e < hi)
        hi = e;
    *sec = (size_t)s->section;
    *off = lo - x->addr;
    *len = lo < hi ? hi - lo : 0;
    return lo < hi;
}

/* One section's walk in address order: each covered run is handed in
 * (start at or after the previous start), the bytes before it are a gap. */
typedef struct acct_walk {
    fs_accounting *out;
    fs_acct_section *a;
    acct_inputs ins;
    const fs_literals *lits;
    uint64_t cur; /* where the bytes not yet accounted for start */
} acct_walk;

static void acct_gap_to(acct_walk *w, uint64_t b)
{
    if (b <= w->cur)
        return;
    if (w->lits)
        acct_span(w->out, w->a, &w->ins, w->lits, w->cur, b);
    else
        acct_gap(w->a, &w->ins, w->cur, b);
    w->cur = b;
}

static void acct_covered(acct_walk *w, uint64_t start, uint64_t stop)
{
    acct_gap_to(w, start);
    if (stop > w->cur) {
        w->a->symbols += stop - w->cur;
        w->cur = stop;
    }
}

/* Coverage as one bit per byte of each counted section, when the bitmaps
 * fit in this many 64-bit words (128 MiB of sections; past that, hostile
 * or exotic images, the ranges are sorted instead). */
#define ACCT_BITMAP_WORDS ((size_t)1 << 21)

static void acct_set_bits(uint64_t *b, uint64_t lo, uint64_t hi)
{
    size_t w = (size_t)(lo / 64), e = (size_t)((hi - 1) / 64);
    uint64_t first = ~0ull << (lo % 64), last = ~0ull >> (63 - (hi - 1) % 64);
    if (w == e) {
        b[w] |= first & last;
        return;
    }
    b[w++] |= first;
    for (; w < e; w++)
        b[w] = ~0ull;
    b[e] |= last;
}

/* The first bit at or after pos that is set (want) or clear (!want); n if
 * none before n (the bits past n are clear: the first clear one found past
 * n is bit n). */
static uint64_t acct_next_bit(const uint64_t *b, uint64_t pos, uint64_t n, bool want)
{
    if (pos >= n)
        return n;
    size_t w = (size_t)(pos / 64), end = (size_t)((n + 63) / 64);
    uint64_t flip = want ? 0 : ~0ull, word = (b[w] ^ flip) & (~0ull << (pos % 64));
    while (!word && ++w < end)
        word = b[w] ^ flip;
    if (!word)
        return n;
    return (uint64_t)w * 64 + (uint64_t)__builtin_ctzll(word);
}

/* A sized symbol's range for the sorted walk: section, offset, length. */
typedef struct acct_iv {
    size_t sec;
    uint64_t off, len;
} acct_iv;

static int acct_iv_cmp(const void *pa, const void *pb)
{
    const acct_iv *x = pa, *y = pb;
    if (x->sec != y->sec)
        return x->sec < y->sec ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* The coverage's two forms: base[i], the first word of section i's bitmap
 * in bits; or iv, every range sorted by section and offset. */
typedef struct acct_cover {
    uint64_t *bits;
    size_t *base;
    acct_iv *iv;
    size_t n, k;
} acct_cover;

static int acct_cover_make(const fs_image *img, acct_cover *c)
{
    memset(c, 0, sizeof *c);
    size_t words = 0;
    bool fits = true;
    if (!(c->base = malloc((img->nsections + 1) * sizeof *c->base)))
        return -1;
    for (size_t i = 0; i < img->nsections && fits; i++) {
        c->base[i] = words;
        if (acct_section_counts(&img->sections[i])) {
            fits = img->sections[i].size <= (uint64_t)ACCT_BITMAP_WORDS * 64;
            words += fits ? (size_t)((img->sections[i].size + 63) / 64) : 0;
            fits = fits && words <= ACCT_BITMAP_WORDS;
        }
    }
    size_t sec;
    uint64_t off, len;
    if (fits) {
        if (!(c->bits = calloc(words + 1, sizeof *c->bits)))
            return -1;
        for (size_t i = 0; i < img->nsymbols; i++)
            if (acct_range(img, &img->symbols[i], &sec, &off, &len))
                acct_set_bits(c->bits + c->base[sec], off, off + len);
        return 0;
    }
    if (!(c->iv = malloc((img->nsymbols + 1) * sizeof *c->iv)))
        return -1;
    for (size_t i = 0; i < img->nsymbols; i++)
        if (acct_range(img, &img->symbols[i], &sec, &off, &len))
            c->iv[c->n++] = (acct_iv){sec, off, len};
    qsort(c->iv, c->n, sizeof *c->iv, acct_iv_cmp);
    return 0;
}

static void acct_cover_free(acct_cover *c)
{
    free(c->bits);
    free(c->base);
    free(c->iv);
}

/* Walk section i's covered runs. */
static void acct_cover_walk(acct_cover *c, const fs_section *sec, size_t i, acct_walk *w)
{
    if (c->bits) {
        const uint64_t *b = c->bits + c->base[i];
        for (uint64_t pos = 0; pos < sec->size;) {
            uint64_t one = acct_next_bit(b, pos, sec->size, true);
            if (one == sec->size)
                break;
            pos = acct_next_bit(b, one, sec->size, false);
            acct_covered(w, sec->addr + one, sec->addr + pos);
        }
        return;
    }
    for (; c->k < c->n && c->iv[c->k].sec == i; c->k++)
        acct_covered(w, sec->addr + c->iv[c->k].off, sec->addr + c->iv[c->k].off + c->iv[c->k].len);
}

int fs_accounting_build(const fs_image *img, const fs_mapfile *map, const fs_literals *lits, fs_accounting *out,
                        fs_error *err)
{
    memset(out, 0, sizeof *out);
    out->with_map = map != NULL;
    out->img = img;
    out->secs = calloc(img->nsections + 1, sizeof *out->secs);
    if (lits) {
        out->literals = true;
        out->sym_literal = calloc(img->nsymbols + 1, sizeof *out->sym_literal);
        out->sym_shared = calloc(img->nsymbols + 1, sizeof *out->sym_shared);
    }
    acct_cover cover;
    int rc = acct_cover_make(img, &cover);
    if (rc < 0 || !out->secs || (lits && (!out->sym_literal || !out->sym_shared)))
        rc = -1;
    for (size_t i = 0; i < img->nsections && rc == 0; i++) {
        const fs_section *sec = &img->sections[i];
        if (!acct_section_counts(sec))
            continue;
        fs_acct_section *a = &out->secs[out->nsecs++];
        *a = (fs_acct_section){.name = sec->name, .size = sec->size};
        acct_walk w = {.out = out, .a = a, .lits = lits, .cur = sec->addr};
        if (acct_inputs_of(map, sec, &w.ins) < 0) {
            rc = -1;
            break;
        }
        w.ins.xtensa_code = w.ins.xtensa_code && img->machine == EM_XTENSA;
        acct_cover_walk(&cover, sec, i, &w);
        acct_gap_to(&w, sec->addr + sec->size);
        free(w.ins.idx);
    }
    acct_cover_free(&cover);
    if (rc < 0) {
        fs_accounting_free(out);
        return fs_fail(err, "%s: out of memory", img->path);
    }
    if (lits) {
        uint64_t words = 0;
        for (size_t i = 0; i < lits->nwords; i++)
            words += lits->words[i].size;
        for (size_t i = 0; i < out->nsecs; i++) {
            out->loaded += out->secs[i].literal_loaded;
            out->shared += out->secs[i].literal_shared;
            out->unloaded += out->secs[i].literal_pools - out->secs[i].literal_loaded;
        }
        out->in_symbols = words > out->loaded ? words - out->loaded : 0;
        for (size_t i = 0; i < img->nsymbols; i++)
            out->nfuncs += out->sym_literal[i] != 0;
        out->ndecoded = lits->nfuncs;
        out->nloads = lits->nloads;
    }
    return 0;
}

void fs_accounting_free(fs_accounting *a)
{
    if (!a)
        return;
    free(a->secs);
    free(a->sym_literal);
    free(a->sym_shared);
    memset(a, 0, sizeof *a);
}

/* Symbols with literal bytes, most first (ties: lower address, then index). */
static int acct_lit_cmp(const void *pa, const void *pb, void *ctx)
{
    const fs_accounting *a = ctx;
    size_t x = *(const size_t *)pa, y = *(const size_t *)pb;
    if (a->sym_literal[x] != a->sym_literal[y])
        return a->sym_literal[x] > a->sym_literal[y] ? -1 : 1;
    uint64_t vx = a->img->symbols[x].value, vy = a->img->symbols[y].value;
    if (vx != vy)
        return vx < vy ? -1 : 1;
    return x < y ? -1 : 1;
}

static size_t *acct_lit_top(const fs_accounting *a, size_t top, size_t *n)
{
    *n = 0;
    size_t *v = malloc((a->nfuncs + 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < a->img->nsymbols && *n < a->nfuncs; i++)
        if (a->sym_literal[i])
            v[(*n)++] = i;
    qsort_r(v, *n, sizeof *v, acct_lit_cmp, (void *)a);
    if (top && *n > top)
        *n = top;
    return v;
}

int fs_accounting_print(FILE *out, const fs_accounting *a, size_t top)
{
    fprintf(out, "Every byte (symbols + literal pools + strings + object data + padding + unattributed = size%s)\n",
            a->with_map ? "; between symbols, from the map" : "; no map: gaps are padding or unattributed");
    fprintf(out, "  %-16s %10s %10s %9s %9s %9s %8s %9s\n", "section", "size", "symbols", "literals", "strings",
            "obj.data", "padding", "unattrib");
    for (size_t i = 0; i < a->nsecs; i++) {
        const fs_acct_section *s = &a->secs[i];
        fprintf(out, "  %-16s %10" PRIu64 " %10" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %8" PRIu64
                " %9" PRIu64 "\n", s->name, s->size, s->symbols, s->literal_pools, s->string_literals,
                s->object_data, s->padding, s->unattributed);
    }
    if (!a->literals)
        return ferror(out) ? -1 : 0;
    fprintf(out, "\nLiteral pools by the function that loads them (%zu functions decoded, %zu loads)\n", a->ndecoded,
            a->nloads);
    fprintf(out, "  given to %zu functions: %" PRIu64 " bytes (%" PRIu64 " shared: loaded by more than one, counted "
            "once, with the first loader by address)\n", a->nfuncs, a->loaded, a->shared);
    fprintf(out, "  loaded by no decoded instruction: %" PRIu64 " bytes; loaded words inside sized symbols: %" PRIu64
            " bytes\n", a->unloaded, a->in_symbols);
    size_t n;
    size_t *v = acct_lit_top(a, top ? top : 10, &n);
    if (!v)
        return -1;
    if (n)
        fprintf(out, "  %10s %9s %8s  %-10s  %s\n", "size", "literals", "shared", "address", "function");
    for (size_t i = 0; i < n; i++) {
        const fs_symbol *s = &a->img->symbols[v[i]];
        fprintf(out, "  %10" PRIu64 " %9" PRIu32 " %8" PRIu32 "  0x%08" PRIx64 "  %s\n", s->size,
                a->sym_literal[v[i]], a->sym_shared[v[i]], s->value, s->name);
    }
    free(v);
    return ferror(out) ? -1 : 0;
}
json_t *fs_accounting_json(const fs_accounting *a)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < a->nsecs; i++) {
        const fs_acct_section *s = &a->secs[i];
        json_t *o = json_object();
        json_object_set_new(o, "section", json_string(s->name));
        json_object_set_new(o, "size", json_integer((json_int_t)s->size));
        json_object_set_new(o, "symbols", json_integer((json_int_t)s->symbols));
        json_object_set_new(o, "literal_pools", json_integer((json_int_t)s->literal_pools));
        json_object_set_new(o, "string_literals", json_integer((json_int_t)s->string_literals));
        json_object_set_new(o, "object_data", json_integer((json_int_t)s->object_data));
        json_object_set_new(o, "padding", json_integer((json_int_t)s->padding));
        json_object_set_new(o, "unattributed", json_integer((json_int_t)s->unattributed));
        if (a->literals) {
            json_object_set_new(o, "literal_loaded", json_integer((json_int_t)s->literal_loaded));
            json_object_set_new(o, "literal_shared", json_integer((json_int_t)s->literal_shared));
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

json_t *fs_accounting_literals_json(const fs_accounting *a, size_t top)
{
    if (!a->literals)
        return json_null();
    size_t n;
    size_t *v = acct_lit_top(a, top, &n);
    json_t *o = json_object(), *fns = json_array();
    if (!v || !o || !fns) {
        free(v);
        json_decref(o);
        json_decref(fns);
        return NULL;
    }
    json_object_set_new(o, "functions_decoded", json_integer((json_int_t)a->ndecoded));
    json_object_set_new(o, "loads", json_integer((json_int_t)a->nloads));
    json_object_set_new(o, "functions_with_literals", json_integer((json_int_t)a->nfuncs));
    json_object_set_new(o, "loaded", json_integer((json_int_t)a->loaded));
    json_object_set_new(o, "shared", json_integer((json_int_t)a->shared));
    json_object_set_new(o, "unloaded", json_integer((json_int_t)a->unloaded));
    json_object_set_new(o, "in_symbols", json_integer((json_int_t)a->in_symbols));
    for (size_t i = 0; i < n; i++) {
        const fs_symbol *s = &a->img->symbols[v[i]];
        json_t *f = json_object();
        json_object_set_new(f, "name", json_string(s->name ? s->name : ""));
        json_object_set_new(f, "address", json_integer((json_int_t)s->value));
        json_object_set_new(f, "symbol_size", json_integer((json_int_t)s->size));
        json_object_set_new(f, "literal_bytes", json_integer((json_int_t)a->sym_literal[v[i]]));
        json_object_set_new(f, "literal_shared", json_integer((json_int_t)a->sym_shared[v[i]]));
        json_array_append_new(fns, f);
    }
    free(v);
    json_object_set_new(o, "functions", fns);
    return o;
}
