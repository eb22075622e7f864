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
 * address, then table order.  The keys are copied next to the index so that the sort does
 * not chase pointers into the symbol table; prefix holds the name's first
 * eight bytes, big-endian, so that most names compare as integers. */
typedef struct largest_key {
    uint64_t size, prefix, value;
    const char *name;
    size_t index;
} largest_key;

static inline int largest_cmp_keys(const largest_key *x, const largest_key *y)
{
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    if (x->prefix != y->prefix) /* strcmp compares unsigned bytes, as this does */
        return x->prefix < y->prefix ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index; /* table order */
}

static int largest_cmp(const void *a, const void *b)
{
    return largest_cmp_keys(a, b);
}

/* Sort pos[0..n) (positions into keys) by largest_cmp_keys: a bottom-up
 * merge sort with the comparison inlined (qsort_r's indirect calls were
 * most of the JSON report's sort).  tmp holds n positions. */
static void largest_sort(uint32_t *pos, uint32_t *tmp, size_t n, const largest_key *k)
{
    for (size_t i = 0; i + 1 < n; i += 2) /* runs of two */
        if (largest_cmp_keys(&k[pos[i + 1]], &k[pos[i]]) < 0) {
            uint32_t t = pos[i];
            pos[i] = pos[i + 1];
            pos[i + 1] = t;
        }
    uint32_t *src = pos, *dst = tmp;
    for (size_t w = 2; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                dst[o++] = largest_cmp_keys(&k[src[j]], &k[src[i]]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[o++] = src[i++];
            while (j < hi)
                dst[o++] = src[j++];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != pos)
        memcpy(pos, src, n * sizeof *pos);
}

/* The key a radix pass of the largest-symbols order reads: the size
 * (descending) or the name's prefix (ascending). */
static inline uint64_t largest_digit(const largest_key *k, bool by_size, unsigned shift)
{
    return by_size ? 2047 - ((k->size >> shift) & 2047) : (k->prefix >> shift) & 2047;
}

/* A stable radix sort of pos[0..n) by size or by prefix, eleven bits a
 * pass, the passes where every key has the same bits skipped; tmp holds n
 * positions. */
static void largest_radix(uint32_t *pos, uint32_t *tmp, size_t n, const largest_key *k, bool by_size)
{
    uint64_t any = 0, all = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        uint64_t key = by_size ? k[pos[i]].size : k[pos[i]].prefix;
        any |= key;
        all &= key;
    }
    uint32_t *src = pos, *dst = tmp;
    for (unsigned shift = 0; shift < 64; shift += 11) {
        if ((((any ^ all) >> shift) & 2047) == 0)
            continue;
        size_t start[2049] = {0};
        for (size_t i = 0; i < n; i++)
            start[largest_digit(&k[src[i]], by_size, shift) + 1]++;
        for (int d = 0; d < 2048; d++)
            start[d + 1] += start[d];
        for (size_t i = 0; i < n; i++)
            dst[start[largest_digit(&k[src[i]], by_size, shift)]++] = src[i];
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != pos)
        memcpy(pos, src, n * sizeof *pos);
}

/* The order of largest_cmp_keys, sooner: a radix sort by size, largest
 * first (stable, so equal sizes stay in by_size's table order), then each
 * run of equal sizes by the rest of the comparison: a long run (thousands
 * of 4-byte functions in a large image) by a radix sort on the names'
 * first eight bytes first, then the runs of equal prefixes, and the short
 * ones, merged by the whole comparison.  (k is not const: with const, gcc 12
 * warns that the caller's freshly filled keys may be uninitialized.) */
static void largest_sort_runs(uint32_t *pos, uint32_t *tmp, size_t n, largest_key *k, bool by_size)
{
    largest_radix(pos, tmp, n, k, by_size);
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        for (hi = lo + 1; hi < n && (by_size ? k[pos[hi]].size == k[pos[lo]].size
                                             : k[pos[hi]].prefix == k[pos[lo]].prefix);)
            hi++;
        if (by_size && hi - lo > 2048) /* where the radix passes cost less than the merges */
            largest_sort_runs(pos + lo, tmp, hi - lo, k, false);
        else if (hi - lo > 1)
            largest_sort(pos + lo, tmp, hi - lo, k);
    }
}

static largest_key largest_key_of(const fs_image *img, size_t index)
{
    const fs_symbol *s = &img->symbols[index];
    return (largest_key){s->size, 0, s->value, s->name, index};
}

/* The name's first eight bytes, big-endian, zero after its end. */
static uint64_t largest_prefix(const char *name)
{
    unsigned char b[8] = {0};
    memcpy(b, name, strnlen(name, 8));
    return (uint64_t)b[0] << 56 | (uint64_t)b[1] << 48 | (uint64_t)b[2] << 40 | (uint64_t)b[3] << 32 |
           (uint64_t)b[4] << 24 | (uint64_t)b[5] << 16 | (uint64_t)b[6] << 8 | b[7];
}

/* best[0..*nbest) is sorted and holds at most n keys: put k in its place
 * if it belongs among the n first. */
static void largest_offer(largest_key *best, size_t *nbest, size_t n, largest_key k)
{
    size_t i = *nbest;
    if (i == n) {
        if (largest_cmp_keys(&k, &best[n - 1]) >= 0)
            return;
        i--;
    } else {
        (*nbest)++;
    }
    for (; i > 0 && largest_cmp_keys(&k, &best[i - 1]) < 0; i--)
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
    largest_key *keys = malloc((n + 1) * sizeof *keys);
    size_t *out = malloc((n + 1) * sizeof *out);
    if (!keys || !out) {
        free(keys);
        free(out);
        return NULL;
    }
    if (n == total) {
        for (size_t i = 0; i < total; i++) {
            keys[i] = largest_key_of(img, rep->by_size[i]);
            keys[i].prefix = largest_prefix(keys[i].name);
        }
        /* Sorted as positions into keys: moving 4-byte positions costs less
         * than moving the 32-byte keys. */
        uint32_t *pos = total <= UINT32_MAX ? malloc((2 * total + 1) * sizeof *pos) : NULL;
        if (pos) {
            for (size_t i = 0; i < total; i++)
                pos[i] = (uint32_t)i;
            largest_sort_runs(pos, pos + total, total, keys, true);
            for (size_t i = 0; i < n; i++)
                out[i] = keys[pos[i]].index;
            free(pos);
            free(keys);
            return out;
        }
        qsort(keys, total, sizeof *keys, largest_cmp);
    } else {
        /* A few of many (the text report's top 20): one pass that keeps
         * the n best in order, instead of sorting every symbol. */
        size_t nbest = 0;
        for (size_t i = 0; i < total; i++)
            largest_offer(keys, &nbest, n, largest_key_of(img, rep->by_size[i]));
    }
    for (size_t i = 0; i < n; i++)
        out[i] = keys[i].index;
    free(keys);
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
