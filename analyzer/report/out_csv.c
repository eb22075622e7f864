/*
 * out_csv.c - the analysis as one CSV table (RFC 4180 quoting).
 *
 * One header, one row per record; the first column says what the row is:
 *   record,name,address,load_address,size,used,free,percent,region,severity,message
 *   region   name, origin, -, length, used, free, percent
 *   section  name, address, load address, size, region
 *   symbol   name, address, -, size, section name in "region"
 *   finding  id in "name", subject in "region", severity, message
 * Unused cells are empty.
 */
#include "output.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

static void csv_field(FILE *out, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

int fs_output_csv(FILE *out, const fs_report *rep, const fs_output_opts *o)
{
    const fs_image *img = rep->image;
    fputs("record,name,address,load_address,size,used,free,percent,region,severity,message\n", out);
    for (size_t i = 0; i < rep->map.nregions; i++) {
        const fs_region *r = &rep->map.regions[i];
        fputs("region,", out);
        csv_field(out, r->name);
        fprintf(out, ",%llu,,%llu,%llu,%llu,%.2f,,,\n", (unsigned long long)r->origin, (unsigned long long)r->length,
                (unsigned long long)r->used, (unsigned long long)(r->used <= r->length ? r->length - r->used : 0),
                fs_region_percent(r));
    }
    for (size_t i = 0; i < img->nsections; i++) {
        const fs_section *s = &img->sections[i];
        if (!(s->flags & SHF_ALLOC))
            continue;
        fputs("section,", out);
        csv_field(out, s->name);
        fprintf(out, ",%llu,%llu,%llu,,,,", (unsigned long long)s->addr, (unsigned long long)s->lma,
                (unsigned long long)s->size);
        csv_field(out, s->vma_region >= 0 ? rep->map.regions[s->vma_region].name : NULL);
        fputs(",,\n", out);
    }
    size_t n;
    size_t *largest = fs_report_largest(rep, o->top, &n);
    if (!largest)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const fs_symbol *s = &img->symbols[largest[i]];
        fputs("symbol,", out);
        csv_field(out, s->name);
        fprintf(out, ",%llu,,%llu,,,,", (unsigned long long)s->value, (unsigned long long)s->size);
        csv_field(out, img->sections[s->section].name);
        fputs(",,\n", out);
    }
    free(largest);
    for (size_t i = 0; i < rep->nfindings; i++) {
        const fs_finding *f = &rep->findings[i];
        fputs("finding,", out);
        csv_field(out, f->id);
        fputs(",,,,,,,", out);
        csv_field(out, f->subject);
        fprintf(out, ",%s,", fs_severity_name(f->severity));
        csv_field(out, f->message);
        fputc('\n', out);
    }
    return ferror(out) ? -1 : 0;
}
