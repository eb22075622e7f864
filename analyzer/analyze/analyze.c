/*
 * analyze.c - run the analyses over one image and gather the report.
 *
 * Order: choose the memory regions (--ld, else --board, else inferred from
 * the ELF), place the sections in them, run the chip module, then the
 * generic region findings, then sort symbols by size.  Findings are kept in
 * the order they are found, which is deterministic for a given input.
 */
#include "analyze.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FS_DEFAULT_HEADROOM 90.0

const char *fs_region_source_name(fs_region_source s)
{
    switch (s) {
    case FS_REGIONS_LD: return "ld";
    case FS_REGIONS_BOARD: return "board";
    case FS_REGIONS_ELF: return "elf";
    case FS_REGIONS_MAP: return "map";
    default: return "none";
    }
}

static bool analyze_has_finding(const fs_report *rep, const char *id, const char *subject)
{
    for (size_t i = 0; i < rep->nfindings; i++)
        if (strcmp(rep->findings[i].id, id) == 0 &&
            (!subject || (rep->findings[i].subject && strcmp(rep->findings[i].subject, subject) == 0)))
            return true;
    return false;
}

static int analyze_choose_regions(fs_image *img, const fs_analyze_opts *o, fs_report *rep, fs_error *err)
{
    const char *detail = NULL;
    char buf[256];
    if (o->ld_map) {
        if (fs_memmap_copy(&rep->map, o->ld_map) < 0)
            return fs_fail(err, "out of memory");
        rep->region_source = FS_REGIONS_LD;
        detail = o->ld_path ? o->ld_path : "linker script";
    } else if (o->board) {
        if (fs_memmap_copy(&rep->map, &o->board->map) < 0)
            return fs_fail(err, "out of memory");
        rep->region_source = FS_REGIONS_BOARD;
        detail = o->board->name;
    } else if (rep->esp.detected) {
        if (fs_esp8266_infer_regions(img, &rep->map) < 0)
            return fs_fail(err, "%s: inconsistent ESP8266 linker symbols (_heap_end, _firmware_size)", img->path);
        rep->region_source = FS_REGIONS_ELF;
        snprintf(buf, sizeof buf, "MicroPython ESP8266 layout from the ELF's linker symbols%s",
                 fs_image_symbol(img, "_firmware_size") ? "" : " (no _firmware_size: irom0 assumed to end at 0x40300000)");
        detail = buf;
    } else {
        if (fs_ports_infer_regions(img, &rep->map) < 0)
            return fs_fail(err, "out of memory");
        if (rep->map.nregions) {
            rep->region_source = FS_REGIONS_ELF;
            detail = "MicroPython port regions from the ELF's linker symbols (partial: only the regions they pin)";
        }
    }
    if (detail && !(rep->region_source_detail = strdup(detail)))
        return fs_fail(err, "out of memory");
    return 0;
}

static int analyze_region_findings(fs_report *rep)
{
    for (size_t i = 0; i < rep->map.nregions; i++) {
        const fs_region *r = &rep->map.regions[i];
        if (r->used > r->length) {
            /* irom0-overflow already says this for irom0, with its remedy */
            if (strcmp(r->name, "irom0_0_seg") == 0 && analyze_has_finding(rep, "irom0-overflow", NULL))
                continue;
            if (fs_report_add(rep, "region-overflow", FS_SEV_ERROR, r->name,
                              "Remove or shrink what is placed in this region (see the sections and top symbols), "
                              "or give it more room in the linker script.",
                              "region %s overflowed by %llu bytes (%llu used of %llu)", r->name,
                              (unsigned long long)(r->used - r->length), (unsigned long long)r->used,
                              (unsigned long long)r->length) < 0)
                return -1;
            fs_finding_num(rep, "used", r->used);
            fs_finding_num(rep, "length", r->length);
            fs_finding_num(rep, "over", r->used - r->length);
        } else if (r->length > 0 && (double)r->used * 100.0 >= rep->headroom_pct * (double)r->length) {
            if (fs_report_add(rep, "region-headroom", FS_SEV_WARNING, r->name,
                              "Budget the remaining space now: the next feature may not fit.",
                              "region %s is %.2f%% full (%llu of %llu bytes, %llu free; threshold %.0f%%)", r->name,
                              (double)r->used * 100.0 / (double)r->length, (unsigned long long)r->used,
                              (unsigned long long)r->length, (unsigned long long)(r->length - r->used),
                              rep->headroom_pct) < 0)
                return -1;
            fs_finding_num(rep, "used", r->used);
            fs_finding_num(rep, "length", r->length);
            fs_finding_num(rep, "free", r->length - r->used);
        }
    }
    for (size_t i = 0; i < rep->map.nregions; i++)
        for (size_t j = i + 1; j < rep->map.nregions; j++) {
            const fs_region *a = &rep->map.regions[i], *b = &rep->map.regions[j];
            if (a->length == 0 || b->length == 0)
                continue;
            uint64_t a_end = a->origin + a->length, b_end = b->origin + b->length;
            if (a->origin >= b_end || b->origin >= a_end)
                continue;
            /* One region inside another is a deliberate umbrella (stm32's
             * FLASH over FLASH_START/FLASH_FS/FLASH_TEXT), not a mistake. */
            if ((a->origin <= b->origin && a_end >= b_end) || (b->origin <= a->origin && b_end >= a_end))
                continue;
            uint64_t lo = a->origin > b->origin ? a->origin : b->origin;
            uint64_t hi = a_end < b_end ? a_end : b_end;
            if (fs_report_add(rep, "region-overlap", FS_SEV_WARNING, a->name,
                              "Fix the MEMORY block: regions must not share addresses, or the linker will place "
                              "code where the other region's contents go.",
                              "regions %s and %s overlap by %llu bytes (0x%llx-0x%llx)", a->name, b->name,
                              (unsigned long long)(hi - lo), (unsigned long long)lo, (unsigned long long)hi) < 0)
                return -1;
            fs_finding_num(rep, "start", lo);
            fs_finding_num(rep, "end", hi);
            fs_finding_num(rep, "overlap", hi - lo);
        }
    return 0;
}

static int analyze_unplaced(const fs_image *img, fs_report *rep)
{
    if (rep->map.nregions == 0 || img->elf_type == ET_REL)
        return 0;
    /* a port's regions from its symbols (ports.c) describe part of memory only */
    if (rep->region_source == FS_REGIONS_ELF && !rep->esp.detected)
        return 0;
    for (size_t i = 0; i < img->nsections; i++) {
        const fs_section *s = &img->sections[i];
        if (!(s->flags & SHF_ALLOC) || s->size == 0 || ((s->flags & SHF_TLS) && s->type == SHT_NOBITS))
            continue;
        if (s->vma_region >= 0 && (s->lma == s->addr || s->type == SHT_NOBITS || s->lma_region >= 0))
            continue;
        bool load = s->vma_region >= 0;
        if (fs_report_add(rep, "section-unplaced", FS_SEV_WARNING, s->name,
                          "Check that the memory regions (--ld/--board) describe the layout this image was linked "
                          "for.",
                          "section %s (%llu bytes at 0x%llx) lies in no memory region", s->name,
                          (unsigned long long)s->size, (unsigned long long)(load ? s->lma : s->addr)) < 0)
            return -1;
        fs_finding_num(rep, "address", load ? s->lma : s->addr);
        fs_finding_num(rep, "size", s->size);
    }
    return 0;
}

/* The order of the largest-symbols lists: size descending, then name, then
 * address, then table order. */
static int largest_cmp_syms(const fs_image *img, size_t a, size_t b)
{
    const fs_symbol *x = &img->symbols[a], *y = &img->symbols[b];
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return a < b ? -1 : a > b; /* table order */
}

/* A symbol as the whole-table sort sees it: eight bytes of its name (from
 * the sort's depth on), big-endian and zero after the name's end (so that
 * they compare as strcmp compares), its size (clamped to 32 bits: larger
 * sizes tie, and are ordered by largest_cmp_syms) and its index. */
typedef struct largest_rec {
    uint64_t chunk;
    uint32_t size, index;
} largest_rec;

static uint64_t largest_chunk(const char *name)
{
    unsigned char b[8] = {0};
    memcpy(b, name, strnlen(name, 8));
    return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 | (uint64_t)b[3] << 32 |
           (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 | (uint64_t)b[6] << 8 | b[7];
}

/* Digit d of a record, most significant first: 11..8 the size's bytes,
 * high first, inverted (largest first); 7..0 the chunk's, high first. */
static inline unsigned largest_digit(const largest_rec *r, int d)
{
    return d >= 8 ? 255 - ((r->size >> (8 * (d - 8))) & 255) : (unsigned)(r->chunk >> (8 * d)) & 255;
}

/* Order v[0..n) by digit d, stably, through tmp; false (nothing moved)
 * when every record has the same digit.  Not inlined: its counts stay off
 * the stack of largest_msd's recursion. */
static __attribute__((noinline)) bool largest_scatter(largest_rec *v, largest_rec *tmp, size_t n, int d)
{
    size_t start[257] = {0};
    for (size_t i = 0; i < n; i++)
        start[largest_digit(&v[i], d) + 1]++;
    if (start[largest_digit(&v[0], d) + 1] == n)
        return false;
    for (unsigned b = 0; b < 256; b++)
        start[b + 1] += start[b];
    for (size_t i = 0; i < n; i++)
        tmp[start[largest_digit(&v[i], d)]++] = v[i];
    memcpy(v, tmp, n * sizeof *v);
    return true;
}

/* The order of two records whose chunks are the same bytes of their names
 * (the names agree before them): the keys they carry, then the symbols. */
static inline int largest_rec_order(const fs_image *img, const largest_rec *x, const largest_rec *y)
{
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    if (x->chunk != y->chunk && x->size != UINT32_MAX) /* (clamped sizes may still differ) */
        return x->chunk < y->chunk ? -1 : 1;
    return largest_cmp_syms(img, x->index, y->index);
}

static int largest_rec_cmp(const void *a, const void *b, void *img)
{
    return largest_rec_order(img, a, b);
}

/* A few records, by insertion. */
static void largest_insert(const fs_image *img, largest_rec *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        largest_rec x = v[i];
        size_t j = i;
        for (; j > 0 && largest_rec_order(img, &x, &v[j - 1]) < 0; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* Names compared eight bytes at a time this deep, at most: past it (long
 * names alike in their first 256 bytes), by strcmp. */
#define LARGEST_DEPTH 256

/* Sort v[0..n) by largest_cmp_syms, the records agreeing on every digit
 * above d and on their names' first depth bytes: MSD radix, a byte at a
 * time, each bucket in turn; when the digits run out, the next eight
 * bytes of the names.  A few records, names that end, and sizes past 32
 * bits by the whole comparison.  tmp holds n records. */
static void largest_msd(const fs_image *img, largest_rec *v, largest_rec *tmp, size_t n, int d, size_t depth)
{
    for (;;) {
        if (n <= 16) {
            largest_insert(img, v, n);
            return;
        }
        /* sizes past 32 bits (all of v's, once the size digits agree) tie
         * in the keys: the names must not order them before the sizes */
        if ((d < 8 && v[0].size == UINT32_MAX) || (d < 0 && ((v[0].chunk & 255) == 0 || depth + 8 >= LARGEST_DEPTH))) {
            qsort_r(v, n, sizeof *v, largest_rec_cmp, (void *)img);
            return;
        }
        if (d < 0) {
            depth += 8;
            for (size_t i = 0; i < n; i++)
                v[i].chunk = largest_chunk(img->symbols[v[i].index].name + depth);
            d = 7;
        }
        if (largest_scatter(v, tmp, n, d))
            break;
        d--;
    }
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        unsigned b = largest_digit(&v[lo], d);
        for (hi = lo + 1; hi < n && largest_digit(&v[hi], d) == b;)
            hi++;
        if (hi - lo > 1)
            largest_msd(img, v + lo, tmp + lo, hi - lo, d - 1, depth);
    }
}

/* best[0..*nbest) is sorted and holds at most n indexes: put k in its
 * place if it belongs among the n first. */
static void largest_offer(const fs_image *img, size_t *best, size_t *nbest, size_t n, size_t k)
{
    size_t i = *nbest;
    if (i == n) {
        if (largest_cmp_syms(img, k, best[n - 1]) >= 0)
            return;
        i--;
    } else {
        (*nbest)++;
    }
    for (; i > 0 && largest_cmp_syms(img, k, best[i - 1]) < 0; i--)
        best[i] = best[i - 1];
    best[i] = k;
}

size_t *fs_report_largest(const fs_report *rep, size_t n, size_t *count)
{
    const fs_image *img = rep->image;
    size_t total = rep->nby_size;
    if (n == 0 || n > total)
        n = total;
    *count = n;
    size_t *out = malloc((n + 1) * sizeof *out);
    if (!out)
        return NULL;
    if (n < total) {
        /* A few of many (the text report's top 20): one pass that keeps
         * the n best in order, instead of sorting every symbol. */
        size_t nbest = 0;
        for (size_t i = 0; i < total; i++) {
            size_t k = rep->by_size[i];
            if (nbest < n || img->symbols[k].size >= img->symbols[out[n - 1]].size) /* else smaller than all n */
                largest_offer(img, out, &nbest, n, k);
        }
        return out;
    }
    /* Every one: sorted as records that carry their keys. */
    largest_rec *v = img->nsymbols <= UINT32_MAX ? malloc((2 * total + 1) * sizeof *v) : NULL;
    if (!v) {
        free(out);
        return NULL;
    }
    for (size_t i = 0; i < total; i++) {
        const fs_symbol *s = &img->symbols[rep->by_size[i]];
        v[i] = (largest_rec){largest_chunk(s->name), s->size < UINT32_MAX ? (uint32_t)s->size : UINT32_MAX,
                             (uint32_t)rep->by_size[i]};
    }
    uint32_t sizes = 0; /* the size's bytes that are 0 in every record need no pass */
    for (size_t i = 0; i < total; i++)
        sizes |= v[i].size;
    int d = 11;
    while (d > 8 && (sizes >> (8 * (d - 8))) == 0)
        d--;
    largest_msd(img, v, v + total, total, d, 0);
    for (size_t i = 0; i < total; i++)
        out[i] = v[i].index;
    free(v);
    return out;
}

static int analyze_sized_symbols(const fs_image *img, fs_report *rep)
{
    rep->by_size = malloc((img->nsymbols + 1) * sizeof *rep->by_size);
    if (!rep->by_size)
        return -1;
    for (size_t i = 0; i < img->nsymbols; i++) {
        const fs_symbol *s = &img->symbols[i];
        if (s->size > 0 && s->section >= 0)
            rep->by_size[rep->nby_size++] = i;
    }
    return 0;
}

int fs_analyze(fs_image *img, const fs_analyze_opts *o, fs_report *rep, fs_error *err)
{
    memset(rep, 0, sizeof *rep);
    rep->image = img;
    rep->board = o->board;
    rep->headroom_pct = o->headroom_pct > 0 ? o->headroom_pct
                        : (o->board && o->board->headroom_pct > 0) ? o->board->headroom_pct
                                                                    : FS_DEFAULT_HEADROOM;
    rep->esp.detected = fs_esp8266_detect(img, o->board);
    if (analyze_choose_regions(img, o, rep, err) < 0)
        return -1;
    fs_regions_place(img, &rep->map);
    if (rep->esp.detected) {
        fs_esp8266_analyze(img, rep);
        if (fs_esp8266_findings(rep) < 0)
            return fs_fail(err, "out of memory");
    }
    if (analyze_region_findings(rep) < 0 || analyze_unplaced(img, rep) < 0 || analyze_sized_symbols(img, rep) < 0)
        return fs_fail(err, "out of memory");
    return 0;
}

void fs_report_free(fs_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->nfindings; i++) {
        free(rep->findings[i].subject);
        free(rep->findings[i].message);
        free(rep->findings[i].remedy);
    }
    free(rep->findings);
    free(rep->by_size);
    free(rep->region_source_detail);
    fs_memmap_free(&rep->map);
    memset(rep, 0, sizeof *rep);
}
