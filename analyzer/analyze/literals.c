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

/* A function to decode (key = address << 32 | size, flag = Thumb) or one
 * load (key = literal address << 32 | loader's address, flag unused): ELF32
 * addresses, so that one radix sort on the key orders either. */
typedef struct lit_item {
    uint64_t key;
    uint32_t sym, flag;
} lit_item;

#define LIT_DIGIT 11

/* LSD radix sort on key, LIT_DIGIT bits a pass, skipping digits that are
 * the same in every key; stable (equal keys keep symbol-index order).
 * -1 when out of memory. */
static int lit_radix(lit_item *v, size_t n)
{
    if (n < 2)
        return 0;
    uint64_t any = 0, all = ~0ull;
    for (size_t i = 0; i < n; i++)
        any |= v[i].key, all &= v[i].key;
    lit_item *tmp = NULL;
    size_t count[(1u << LIT_DIGIT) + 1];
    for (unsigned shift = 0; shift < 64; shift += LIT_DIGIT) {
        const uint64_t mask = (1u << LIT_DIGIT) - 1;
        if ((((any ^ all) >> shift) & mask) == 0)
            continue;
        if (!tmp && !(tmp = malloc(n * sizeof *tmp)))
            return -1;
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[((v[i].key >> shift) & mask) + 1]++;
        for (size_t k = 1; k <= mask + 1; k++)
            count[k] += count[k - 1];
        for (size_t i = 0; i < n; i++)
            tmp[count[(v[i].key >> shift) & mask]++] = v[i];
        memcpy(v, tmp, n * sizeof *v);
    }
    free(tmp);
    return 0;
}

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
    /* by address: a radix sort (stable: a $d and a $t at one address keep
     * the symbol table's order), qsort when out of memory for it */
    lit_item *t = malloc(*n * sizeof *t);
    if (t) {
        for (size_t i = 0; i < *n; i++)
            t[i] = (lit_item){m[i].addr, 0, (uint32_t)m[i].data};
        if (lit_radix(t, *n) == 0) {
            for (size_t i = 0; i < *n; i++)
                m[i] = (fs_armmap){t[i].key, (int)t[i].flag};
            free(t);
            return m;
        }
        free(t);
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

typedef struct lit_builder {
    lit_item *v;
    size_t n, cap;
    bool oom;
} lit_builder;

static void lit_add(lit_builder *b, uint64_t lit, const lit_item *f)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 1024;
        lit_item *v = realloc(b->v, cap * sizeof *v);
        if (!v) {
            b->oom = true;
            return;
        }
        b->v = v, b->cap = cap;
    }
    b->v[b->n++] = (lit_item){(lit & 0xffffffffu) << 32 | f->key >> 32, f->sym, 0};
}

static void lit_xtensa(lit_builder *b, const lit_item *f, const uint8_t *p)
{
    uint64_t addr = f->key >> 32;
    fs_xt_walk w = {p, f->key & 0xffffffffu, 0, 0};
    uint32_t insn, lit;
    unsigned len;
    uint64_t off;
    while (fs_xt_next(&w, &insn, &len, &off))
        if (fs_xt_l32r(insn, len, (uint32_t)(addr + off), &lit))
            lit_add(b, lit, f);
}

static uint32_t lit_half(const fs_image *img, const uint8_t *p)
{
    return img->big_endian ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

static void lit_thumb(lit_builder *b, const fs_image *img, const lit_item *f, const uint8_t *p, const fs_armmap *map,
                      size_t nmap)
{
    uint64_t addr = f->key >> 32;
    for (uint64_t a = addr, end = addr + (f->key & 0xffffffffu); a < end;) {
        uint64_t until = end;
        int data = fs_armmap_data_at(map, nmap, a, &until);
        if (until > end || until <= a)
            until = end;
        for (uint64_t pc = a; !data && pc + 2 <= until;) {
            const uint8_t *q = p + (pc - addr);
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
 * aliases (same address and size) once, by address.  NULL on OOM. */
static lit_item *lit_functions(const fs_image *img, size_t len, size_t *n)
{
    lit_item *f = malloc((img->nsymbols + 1) * sizeof *f);
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
            sec->offset > len || sec->size > len - sec->offset || addr > UINT32_MAX || s->size > UINT32_MAX)
            continue;
        f[(*n)++] = (lit_item){addr << 32 | s->size, (uint32_t)i, thumb};
    }
    if (lit_radix(f, *n) < 0) {
        free(f);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (k == 0 || f[i].key != f[k - 1].key)
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
    lit_item *fns = lit_functions(img, len, &nf);
    fs_armmap *map = img->machine == EM_ARM ? fs_armmap_of(img, &nmap) : NULL;
    lit_builder b = {0};
    if (!fns)
        b.oom = true;
    for (size_t i = 0; i < nf && !b.oom; i++) {
        const fs_section *sec = &img->sections[img->symbols[fns[i].sym].section];
        const uint8_t *p = data + sec->offset + ((fns[i].key >> 32) - sec->addr);
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
    if (lit_radix(b.v, b.n) < 0) {
        free(b.v);
        return fs_fail(err, "%s: out of memory", img->path);
    }
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
        uint64_t lit = b.v[i].key >> 32;
        for (; j < b.n && b.v[j].key >> 32 == lit; j++)
            shared = shared || b.v[j].key != b.v[i].key;
        uint64_t a = lit, e = a + 4;
        if (k && a < covered)
            a = covered;
        if (a < e && lit_section(img, lit)) {
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
