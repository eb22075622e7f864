/*
 * out_text.c - the analysis as aligned tables for a terminal.
 *
 * Byte counts are exact, with thousands separators for reading; addresses
 * are hex.  Column widths are computed from the data, so long section or
 * symbol names never break alignment.
 */
#include "output.h"

#include "accounting.h"

#include <inttypes.h>
#include "elfread.h"
#include "frozen.h"
#include "mapfile.h"
#include "owners.h"
#include "retained.h"
#include "romfs.h"
#include "esp32app.h"
#include "romuse.h"

#include <elf.h>
#include <string.h>

#define BAR_WIDTH 20

/* Format n with thousands separators into buf. */
static const char *text_bytes(uint64_t n, char *buf, size_t len)
{
    char raw[32];
    int digits = snprintf(raw, sizeof raw, "%llu", (unsigned long long)n);
    size_t o = 0;
    for (int i = 0; i < digits && o + 2 < len; i++) {
        if (i > 0 && (digits - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
    return buf;
}

static void text_bar(FILE *out, double pct)
{
    int fill = pct >= 100.0 ? BAR_WIDTH : (int)(pct * BAR_WIDTH / 100.0 + 0.5);
    fputc('[', out);
    for (int i = 0; i < BAR_WIDTH; i++)
        fputc(i < fill ? '#' : '.', out);
    fputc(']', out);
    if (pct > 100.0)
        fputs(" OVERFLOW", out);
}

/* Column width that fits name, at least w and at most 40. */
static int text_name_width(int w, const char *name)
{
    int l = (int)strlen(name);
    if (l > w)
        w = l;
    return w > 40 ? 40 : w;
}

static void text_header(FILE *out, const fs_report *rep)
{
    const fs_image *img = rep->image;
    char mbuf[32];
    fprintf(out, "%s: ELF%d %s-endian %s, entry 0x%llx, %zu sections, %zu symbols%s\n", img->path, img->elf_class,
            img->big_endian ? "big" : "little", fs_elf_machine_name(img->machine, mbuf, sizeof mbuf),
            (unsigned long long)img->entry, img->nsections, img->nsymbols, img->has_symtab ? "" : " (stripped)");
    if (rep->board)
        fprintf(out, "Board: %s%s%s\n", rep->board->name, rep->board->description ? " - " : "",
                rep->board->description ? rep->board->description : "");
}

static void text_regions(FILE *out, const fs_report *rep)
{
    if (rep->map.nregions == 0) {
        fputs("\nMemory regions: none known (give --ld firmware.ld or --board NAME; `flashsize boards` lists "
              "boards)\n",
              out);
        return;
    }
    fprintf(out, "\nMemory regions (%s: %s)\n", fs_region_source_name(rep->region_source),
            rep->region_source_detail ? rep->region_source_detail : "");
    int w = 6;
    for (size_t i = 0; i < rep->map.nregions; i++)
        w = text_name_width(w, rep->map.regions[i].name);
    fprintf(out, "  %-*s  %-10s  %13s  %13s  %13s  %7s\n", w, "region", "origin", "length", "used", "free", "use%");
    for (size_t i = 0; i < rep->map.nregions; i++) {
        const fs_region *r = &rep->map.regions[i];
        char b1[32], b2[32], b3[32];
        double pct = fs_region_percent(r);
        fprintf(out, "  %-*s  0x%08llx  %13s  %13s  %13s  %6.2f%%  ", w, r->name, (unsigned long long)r->origin,
                text_bytes(r->length, b1, sizeof b1), text_bytes(r->used, b2, sizeof b2),
                r->used <= r->length ? text_bytes(r->length - r->used, b3, sizeof b3) : "-", pct);
        text_bar(out, pct);
        fputc('\n', out);
    }
}

static void text_esp8266(FILE *out, const fs_report *rep)
{
    const fs_esp8266 *e = &rep->esp;
    char b1[32], b2[32];
    fprintf(out, "\nESP8266 flash (the CPU maps flash 0x000000-0x0fffff at 0x%08x-0x%08x)\n",
            FS_ESP8266_WINDOW_START, FS_ESP8266_WINDOW_END);
    fprintf(out, "  boot image   flash 0x000000  %s of %s bytes (%zu segment%s:", text_bytes(e->boot_image_size, b1, sizeof b1),
            text_bytes(FS_ESP8266_BOOT_LIMIT, b2, sizeof b2), e->nboot_segments, e->nboot_segments == 1 ? "" : "s");
    for (size_t i = 0; i < e->nboot_segments; i++)
        fprintf(out, "%s %s", i ? ";" : "", e->boot_segments[i].names);
    fputs(")\n", out);
    if (e->has_irom0) {
        uint64_t end = e->irom0_start + e->irom0_size;
        fprintf(out, "  irom0        flash 0x%06llx  %s bytes, ends 0x%08llx", (unsigned long long)(e->irom0_start - FS_ESP8266_WINDOW_START),
                text_bytes(e->irom0_size, b1, sizeof b1), (unsigned long long)end);
        if (e->has_irom0_region)
            fprintf(out, " (region 0x%08llx-0x%08llx)", (unsigned long long)e->irom0_region_start,
                    (unsigned long long)(e->irom0_region_start + e->irom0_region_length));
        fputc('\n', out);
    }
    if (e->has_romfs)
        fprintf(out, "  ROMFS        flash 0x%06llx  %s bytes, ends 0x%08llx\n",
                (unsigned long long)(e->romfs_start - FS_ESP8266_WINDOW_START), text_bytes(e->romfs_size, b1, sizeof b1),
                (unsigned long long)(e->romfs_start + e->romfs_size));
    uint64_t window = FS_ESP8266_WINDOW_END - FS_ESP8266_WINDOW_START;
    uint64_t used = e->window_used_end - FS_ESP8266_WINDOW_START;
    double pct = (double)used * 100.0 / (double)window;
    fprintf(out, "  1 MiB window %s of %s bytes mapped (%.2f%%)  ", text_bytes(used, b1, sizeof b1),
            text_bytes(window, b2, sizeof b2), pct);
    text_bar(out, pct);
    fputc('\n', out);
}

static void text_sections(FILE *out, const fs_report *rep)
{
    const fs_image *img = rep->image;
    size_t nalloc = 0;
    int w = 7;
    for (size_t i = 0; i < img->nsections; i++)
        if (img->sections[i].flags & SHF_ALLOC) {
            nalloc++;
            w = text_name_width(w, img->sections[i].name);
        }
    fprintf(out, "\nSections (allocated: %zu of %zu)\n", nalloc, img->nsections);
    if (!nalloc)
        return;
    fprintf(out, "  %-*s  %-10s  %-10s  %13s  %-5s  %s\n", w, "section", "address", "load", "size", "flags", "region");
    for (size_t i = 0; i < img->nsections; i++) {
        const fs_section *s = &img->sections[i];
        if (!(s->flags & SHF_ALLOC))
            continue;
        char flags[16], b1[32];
        fs_section_flags(s->flags, flags, sizeof flags);
        fprintf(out, "  %-*s  0x%08llx  0x%08llx  %13s  %-5s  %s", w, s->name, (unsigned long long)s->addr,
                (unsigned long long)s->lma, text_bytes(s->size, b1, sizeof b1), flags,
                s->vma_region >= 0 ? rep->map.regions[s->vma_region].name : "-");
        if (s->lma_region >= 0)
            fprintf(out, " (loaded from %s)", rep->map.regions[s->lma_region].name);
        fputc('\n', out);
    }
}

static int text_symbols(FILE *out, const fs_report *rep, size_t top, const fs_accounting *acct)
{
    const fs_image *img = rep->image;
    if (!img->has_symtab && rep->nby_size == 0) {
        fputs("\nSymbols: none (stripped image)\n", out);
        return 0;
    }
    size_t n = top < rep->nby_size ? top : rep->nby_size;
    fprintf(out, "\nLargest symbols (%zu of %zu)\n", n, rep->nby_size);
    if (!n)
        return 0;
    size_t *largest = fs_report_largest(rep, n, &n);
    if (!largest)
        return -1;
    bool lit = acct && acct->literals; /* --literals: the literal bytes given to each, and the sum */
    if (lit)
        fprintf(out, "  %11s  %9s  %11s  %-10s  %-6s  %-16s  %s\n", "size", "+literals", "with lit.", "address", "type",
                "section", "name");
    else
        fprintf(out, "  %11s  %-10s  %-6s  %-16s  %s\n", "size", "address", "type", "section", "name");
    for (size_t i = 0; i < n; i++) {
        const fs_symbol *s = &img->symbols[largest[i]];
        char b1[32], b2[32];
        if (lit)
            fprintf(out, "  %11s  %9" PRIu32 "  %11s  0x%08llx  %-6s  %-16s  %s\n", text_bytes(s->size, b1, sizeof b1),
                    acct->sym_literal[largest[i]], text_bytes(s->size + acct->sym_literal[largest[i]], b2, sizeof b2),
                    (unsigned long long)s->value, fs_symbol_type_name(s->type), img->sections[s->section].name,
                    s->name);
        else
            fprintf(out, "  %11s  0x%08llx  %-6s  %-16s  %s\n", text_bytes(s->size, b1, sizeof b1),
                    (unsigned long long)s->value, fs_symbol_type_name(s->type), img->sections[s->section].name, s->name);
    }
    free(largest);
    return 0;
}

static void text_findings(FILE *out, const fs_report *rep)
{
    fprintf(out, "\nFindings (%zu)\n", rep->nfindings);
    if (!rep->nfindings)
        fputs("  none\n", out);
    for (size_t i = 0; i < rep->nfindings; i++) {
        const fs_finding *f = &rep->findings[i];
        fprintf(out, "  %-7s %s: %s\n", f->severity == FS_SEV_ERROR ? "ERROR" : f->severity == FS_SEV_WARNING ? "warning" : "info",
                f->id, f->message);
        if (f->remedy)
            fprintf(out, "          fix: %s\n", f->remedy);
    }
}

/* limits: something was measured against a limit besides the regions (an
 * ESP32 app partition) */
static void text_verdict(FILE *out, const fs_report *rep, bool limits)
{
    size_t errors = 0, warnings = 0;
    for (size_t i = 0; i < rep->nfindings; i++) {
        errors += rep->findings[i].severity == FS_SEV_ERROR;
        warnings += rep->findings[i].severity == FS_SEV_WARNING;
    }
    fputc('\n', out);
    if (rep->esp.detected)
        fprintf(out, "Verdict: %s", fs_report_boots(rep) ? (errors ? "boots, but has errors" : "fits and boots")
                                                        : "WILL NOT BOOT");
    else
        fprintf(out, "Verdict: %s", errors ? "DOES NOT FIT" : rep->map.nregions || limits ? "fits" : "no limits known");
    fprintf(out, " (%zu error%s, %zu warning%s)\n", errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
}

int fs_output_text(FILE *out, const fs_report *rep, const fs_output_opts *o)
{
    text_header(out, rep);
    text_regions(out, rep);
    if (rep->esp.detected)
        text_esp8266(out, rep);
    text_sections(out, rep);
    if (o->accounting) {
        fputc('\n', out);
        fs_accounting_print(out, o->accounting, o->top);
    }
    if (text_symbols(out, rep, o->top ? o->top : 20, o->accounting) < 0)
        return -1;
    if (o->retained && (o->retained->computed || rep->image->has_symtab))
        fs_retained_text(out, o->retained, o->top ? o->top : 20);
    if (o->frozen && o->frozen->present) {
        fputc('\n', out);
        fs_frozen_print_text(out, o->frozen, rep->image->path);
    }
    if (o->romuse) {
        fputc('\n', out);
        fs_romuse_print_text(out, o->romuse, rep->image->path);
    }
    if (o->map) {
        fputc('\n', out);
        fs_mapfile_print(out, o->map, o->top ? o->top : 20);
    }
    if (o->owners) {
        fputc('\n', out);
        fs_owners_print(out, o->owners);
    }
    if (o->romfs) {
        fputc('\n', out);
        fs_romfs_output_text(out, o->romfs, o->romfs_occ, NULL);
    }
    if (o->esp32app) {
        fputc('\n', out);
        fs_esp32app_print_text(out, o->esp32app);
    }
    text_findings(out, rep);
    text_verdict(out, rep, o->esp32app != NULL);
    return ferror(out) ? -1 : 0;
}
