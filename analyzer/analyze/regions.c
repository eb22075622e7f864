/*
 * regions.c - place allocated sections in memory regions and measure them.
 *
 * GNU ld assigns each output section to a region explicitly (`> FLASH`,
 * `AT> FLASH`); a linked ELF no longer says which.  We recover it from
 * addresses: a section belongs to the region holding its start address.  A
 * section that starts just past a region's current end belongs to that region
 * too: that is what ld does after an overflow with --noinhibit-exec, placing
 * the following sections beyond the region's end.
 *
 * "used" follows ld's --print-memory-usage: the distance from the region's
 * origin to the end of the highest byte placed in it, alignment gaps
 * included, so our figures match the ones users already see from ld.  A
 * section whose load address differs from its run address (.data in RAM,
 * loaded from FLASH) counts in both regions.
 */
#include "analyze.h"

#include <elf.h>
#include <stdlib.h>

/* Slack allowed between a region's current end and a section that follows
 * it past the region's end (alignment padding after an overflow). */
#define REGION_FOLLOW_SLACK 64

/* The region holding addr.  Among overlapping regions (an umbrella FLASH
 * over FLASH_START and FLASH_TEXT, say) the most specific: the one whose
 * origin is closest below addr, then the shortest. */
static int region_containing(const fs_memmap *map, uint64_t addr)
{
    int best = -1;
    for (size_t i = 0; i < map->nregions; i++) {
        const fs_region *r = &map->regions[i];
        if (!(addr >= r->origin && addr - r->origin < r->length))
            continue;
        const fs_region *b = best >= 0 ? &map->regions[best] : NULL;
        if (!b || r->origin > b->origin || (r->origin == b->origin && r->length < b->length))
            best = (int)i;
    }
    return best;
}

/* The region that addr continues just past the end of (overflow spill). */
static int region_followed(const fs_memmap *map, uint64_t addr)
{
    for (size_t i = 0; i < map->nregions; i++) {
        const fs_region *r = &map->regions[i];
        uint64_t end = r->origin + r->length;
        if (r->high >= end && addr >= r->high && addr - r->high <= REGION_FOLLOW_SLACK)
            return (int)i;
    }
    return -1;
}

static int region_place(fs_memmap *map, uint64_t addr, uint64_t size)
{
    int r = region_containing(map, addr);
    if (r < 0)
        r = region_followed(map, addr);
    if (r < 0)
        return -1;
    fs_region *reg = &map->regions[r];
    uint64_t end = addr + size;
    if (end > reg->high)
        reg->high = end;
    reg->used = reg->high - reg->origin;
    return r;
}

/* Sections that take space in a memory image: allocated, non-empty, and not
 * thread-local .tbss (which takes no address space of its own). */
static bool section_occupies(const fs_section *s)
{
    if (!(s->flags & SHF_ALLOC) || s->size == 0)
        return false;
    return !((s->flags & SHF_TLS) && s->type == SHT_NOBITS);
}

typedef struct placement {
    uint64_t addr;
    fs_section *sec;
    bool load_image;
} placement;

static int placement_cmp(const void *a, const void *b)
{
    const placement *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->sec->index != y->sec->index)
        return x->sec->index < y->sec->index ? -1 : 1;
    return (int)x->load_image - (int)y->load_image;
}

void fs_regions_place(fs_image *img, fs_memmap *map)
{
    for (size_t i = 0; i < map->nregions; i++)
        map->regions[i].used = map->regions[i].high = 0;
    for (size_t i = 0; i < img->nsections; i++)
        img->sections[i].vma_region = img->sections[i].lma_region = -1;
    if (img->elf_type == ET_REL || map->nregions == 0)
        return;

    /* Every run address and every distinct load address, in address order,
     * so that overflow spill is seen in the order ld laid it out. */
    placement *p = calloc(img->nsections * 2 + 1, sizeof *p);
    if (!p)
        return;
    size_t n = 0;
    for (size_t i = 0; i < img->nsections; i++) {
        fs_section *s = &img->sections[i];
        if (!section_occupies(s))
            continue;
        p[n++] = (placement){s->addr, s, false};
        if (s->type != SHT_NOBITS && s->lma != s->addr)
            p[n++] = (placement){s->lma, s, true};
    }
    qsort(p, n, sizeof *p, placement_cmp);
    for (size_t i = 0; i < n; i++) {
        int r = region_place(map, p[i].addr, p[i].sec->size);
        if (p[i].load_image)
            p[i].sec->lma_region = r;
        else
            p[i].sec->vma_region = r;
    }
    free(p);
}
