/*
 * literals.c - literal words and the functions that load them (rule and
 * limits: literals.h).  One sweep over each sized function's bytes with the
 * decoders of pcrel.h collects (literal, loader) pairs; one sort by literal
 * address then loader address gives each word its first loader.
 */
#include "literals.h"

#include "pcrel.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

static int armmap_cmp(const void *pa, const void *pb)
{
    const fs_armmap *a = pa, *b = pb;
    return a->addr < b->addr ? -1 : a->addr > b->addr;
}

fs_armmap *fs_armmap_of(const fs_image *img, size_t *n)
{
    fs_armmap *m = NULL;
    *n = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t k = 0;
        for (size_t i = 0; i < img->nsymbols; i++) {
            const char *s = img->symbols[i].name;
            if (s[0] != '$' || (s[1] != 'd' && s[1] != 't' && s[1] != 'a') || (s[2] != '\0' && s[2] != '.'))
                continue;
            if (m)
                m[k] = (fs_armmap){img->symbols[i].value, s[1] == 'd'};
            k++;
        }
        if (pass == 0 && (k == 0 || !(m = malloc(k * sizeof *m))))
            return NULL;
        *n = k;
    }
    qsort(m, *n, sizeof *m, armmap_cmp);
    return m;
}

int fs_armmap_data_at(const fs_armmap *m, size_t n, uint64_t addr, uint64_t *until)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    *until = lo < n ? m[lo].addr : UINT64_MAX;
    return lo > 0 && m[lo - 1].data;
}

/* One load: the literal's address, the loader's address and symbol. */
typedef struct lit_load {
    uint64_t lit, fn;
    uint32_t sym;
} lit_load;

/* A function to decode. */
typedef struct lit_fn {
    uint64_t addr, size;
    uint32_t sym;
    bool thumb;
} lit_fn;

static int lit_fn_cmp(const void *pa, const void *pb)
{
    const lit_fn *a = pa, *b = pb;
    if (a->addr != b->addr)
        return a->addr < b->addr ? -1 : 1;
    if (a->size != b->size)
        return a->size < b->size ? -1 : 1;
    return a->sym < b->sym ? -1 : a->sym > b->sym;
}

static int lit_load_cmp(const void *pa, const void *pb)
{
    const lit_load *a = pa, *b = pb;
    if (a->lit != b->lit)
        return a->lit < b->lit ? -1 : 1;
    if (a->fn != b->fn)
        return a->fn < b->fn ? -1 : 1;
    return a->sym < b->sym ? -1 : a->sym > b->sym;
}

typedef struct lit_builder {
    lit_load *v;
    size_t n, cap;
    bool oom;
} lit_builder;

static void lit_add(lit_builder *b, uint64_t lit, const lit_fn *f)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 1024;
        lit_load *v = realloc(b->v, cap * sizeof *v);
        if (!v) {
            b->oom = true;
            return;
        }
        b->v = v, b->cap = cap;
    }
    b->v[b->n++] = (lit_load){lit, f->addr, f->sym};
}

static void lit_xtensa(lit_builder *b, const lit_fn *f, const uint8_t *p)
{
    fs_xt_walk w = {p, f->size, 0, 0};
    uint32_t insn, lit;
    unsigned len;
    uint64_t off;
    while (fs_xt_next(&w, &insn, &len, &off))
        if (fs_xt_l32r(insn, len, (uint32_t)(f->addr + off), &lit))
            lit_add(b, lit, f);
}

static uint32_t lit_half(const fs_image *img, const uint8_t *p)
{
    return img->big_endian ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static void lit_thumb(lit_builder *b, const fs_image *img, const lit_fn *f, const uint8_t *p, const fs_armmap *map,
                      size_t nmap)
{
    for (uint64_t a = f->addr, end = f->addr + f->size; a < end;) {
        uint64_t until = end;
        int data = fs_armmap_data_at(map, nmap, a, &until);
        if (until > end || until <= a)
            until = end;
        for (uint64_t pc = a; !data && pc + 2 <= until;) {
            const uint8_t *q = p + (pc - f->addr);
            int have2 = pc + 4 <= until;
            fs_thumb_insn in;
            fs_thumb_decode(lit_half(img, q), have2 ? lit_half(img, q + 2) : 0, have2, pc, &in);
            if (in.kind == FS_THUMB_LOAD)
                for (unsigned k = 0; k < in.width; k += 4)
                    lit_add(b, (in.target + k) & 0xffffffffu, f);
            pc += in.len;
        }
        a = until;
    }
}

/* The section with contents holding [addr, addr + 4), or NULL. */
static const fs_section *lit_section(const fs_image *img, uint64_t addr)
{
    for (size_t i = 0; i < img->nsections; i++) {
        const fs_section *s = &img->sections[i];
        if ((s->flags & SHF_ALLOC) && s->type != SHT_NOBITS && addr >= s->addr && addr - s->addr + 4 <= s->size)
            return s;
    }
    return NULL;
}

/* The sized functions of executable sections with bytes in the file,
 * aliases (same address and size) once, by address. */
static lit_fn *lit_functions(const fs_image *img, size_t len, size_t *n)
{
    lit_fn *f = malloc((img->nsymbols + 1) * sizeof *f);
    *n = 0;
    if (!f)
        return NULL;
    for (size_t i = 0; i < img->nsymbols; i++) {
        const fs_symbol *s = &img->symbols[i];
        if (s->type != STT_FUNC || s->size == 0 || s->section < 0 || (size_t)s->section >= img->nsections)
            continue;
        const fs_section *sec = &img->sections[s->section];
        bool thumb = img->machine == EM_ARM && (s->value & 1);
        uint64_t addr = img->machine == EM_ARM ? s->value & ~1ull : s->value;
        if (!(sec->flags & SHF_EXECINSTR) || sec->type == SHT_NOBITS || (img->machine == EM_ARM && !thumb) ||
            addr < sec->addr || addr - sec->addr > sec->size || s->size > sec->size - (addr - sec->addr) ||
            sec->offset > len || sec->size > len - sec->offset)
            continue;
        f[(*n)++] = (lit_fn){addr, s->size, (uint32_t)i, thumb};
    }
    qsort(f, *n, sizeof *f, lit_fn_cmp);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (k == 0 || f[i].addr != f[k - 1].addr || f[i].size != f[k - 1].size)
            f[k++] = f[i];
    *n = k;
    return f;
}

int fs_literals_find(const fs_image *img, const uint8_t *data, size_t len, fs_literals *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (img->machine != EM_XTENSA && img->machine != EM_ARM)
        return 0;
    if (img->machine == EM_XTENSA && img->big_endian)
        return 0; /* lx106 is little-endian; the decoder reads that order */
    size_t nf, nmap = 0;
    lit_fn *fns = lit_functions(img, len, &nf);
    fs_armmap *map = img->machine == EM_ARM ? fs_armmap_of(img, &nmap) : NULL;
    lit_builder b = {0};
    if (!fns)
        b.oom = true;
    for (size_t i = 0; i < nf && !b.oom; i++) {
        const fs_section *sec = &img->sections[img->symbols[fns[i].sym].section];
        const uint8_t *p = data + sec->offset + (fns[i].addr - sec->addr);
        if (img->machine == EM_XTENSA)
            lit_xtensa(&b, &fns[i], p);
        else
            lit_thumb(&b, img, &fns[i], p, map, nmap);
    }
    free(fns);
    free(map);
    if (b.oom) {
        free(b.v);
        return fs_fail(err, "%s: out of memory", img->path);
    }
    out->nfuncs = nf;
    out->nloads = b.n;
    qsort(b.v, b.n, sizeof *b.v, lit_load_cmp);
    /* words, by address: each group of equal addresses is one word */
    fs_litword *w = b.n ? malloc(b.n * sizeof *w) : NULL;
    if (b.n && !w) {
        free(b.v);
        return fs_fail(err, "%s: out of memory", img->path);
    }
    size_t k = 0;
    uint64_t covered = 0; /* end of the last word kept */
    for (size_t i = 0; i < b.n;) {
        size_t j = i + 1;
        bool shared = false;
        for (; j < b.n && b.v[j].lit == b.v[i].lit; j++)
            shared = shared || b.v[j].fn != b.v[i].fn;
        uint64_t a = b.v[i].lit, e = a + 4;
        if (k && a < covered)
            a = covered;
        if (a < e && lit_section(img, b.v[i].lit)) {
            w[k++] = (fs_litword){a, (uint32_t)(e - a), b.v[i].sym, shared};
            covered = e;
        }
        i = j;
    }
    free(b.v);
    out->words = w;
    out->nwords = k;
    return 0;
}

void fs_literals_free(fs_literals *l)
{
    if (!l)
        return;
    free(l->words);
    memset(l, 0, sizeof *l);
}
