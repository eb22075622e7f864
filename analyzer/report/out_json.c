/*
 * out_json.c - the analysis as a JSON document (schema "flashsize-analysis",
 * version FS_JSON_SCHEMA_VERSION; documented in docs/json-schema.md).
 *
 * The document is the contract between the CLI, the store, the server, the
 * web page and the PR bot, so: keys in a fixed order, every size and address
 * an exact integer, nothing that varies between runs (no time, no heap
 * addresses).  Integers above 2^63-1 (possible only for addresses in 64-bit
 * images) are written as "0x..." strings because JSON numbers beyond that
 * are not portable.
 */
#include "output.h"
#include "document.h"

#include "elfread.h"
#include "frozen.h"
#include "retained.h"
#include "mapfile.h"
#include "romfs.h"
#include "romuse.h"

#include <elf.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* json_string() rejects invalid UTF-8; symbol names from hostile ELFs may be
 * anything, so escape non-ASCII bytes as \xNN. */
static json_t *jstr(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t n = strlen(s);
    char *buf = malloc(n * 4 + 1);
    if (!buf)
        return json_null();
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80)
            buf[o++] = (char)*p;
        else
            o += (size_t)sprintf(buf + o, "\\x%02x", *p);
    }
    buf[o] = '\0';
    j = json_string(buf);
    free(buf);
    return j ? j : json_null();
}

static const char *json_elf_type(uint16_t t)
{
    switch (t) {
    case ET_REL: return "REL";
    case ET_EXEC: return "EXEC";
    case ET_DYN: return "DYN";
    case ET_CORE: return "CORE";
    default: return "OTHER";
    }
}

static json_t *json_input(const fs_image *img)
{
    char mbuf[32];
    json_t *o = json_object();
    json_object_set_new(o, "path", jstr(img->path));
    json_object_set_new(o, "file_size", fs_json_from_u64(img->file_size));
    json_object_set_new(o, "class", json_integer(img->elf_class));
    json_object_set_new(o, "endian", json_string(img->big_endian ? "big" : "little"));
    json_object_set_new(o, "machine", json_string(fs_elf_machine_name(img->machine, mbuf, sizeof mbuf)));
    json_object_set_new(o, "e_machine", json_integer(img->machine));
    json_object_set_new(o, "type", json_string(json_elf_type(img->elf_type)));
    json_object_set_new(o, "entry", fs_json_from_u64(img->entry));
    json_object_set_new(o, "has_symtab", json_boolean(img->has_symtab));
    return o;
}

static json_t *json_region_name(const fs_report *rep, int r)
{
    return r >= 0 ? jstr(rep->map.regions[r].name) : json_null();
}

static json_t *json_regions(const fs_report *rep)
{
    json_t *a = json_array();
    for (size_t i = 0; i < rep->map.nregions; i++) {
        const fs_region *r = &rep->map.regions[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", jstr(r->name));
        json_object_set_new(o, "origin", fs_json_from_u64(r->origin));
        json_object_set_new(o, "length", fs_json_from_u64(r->length));
        json_object_set_new(o, "end", fs_json_from_u64(r->origin + r->length));
        json_object_set_new(o, "used", fs_json_from_u64(r->used));
        json_object_set_new(o, "free", r->used <= r->length ? fs_json_from_u64(r->length - r->used) : json_integer(0));
        json_object_set_new(o, "overflow", r->used > r->length ? fs_json_from_u64(r->used - r->length) : json_integer(0));
        json_object_set_new(o, "percent", json_real((double)(int64_t)(fs_region_percent(r) * 100.0 + 0.5) / 100.0));
        json_object_set_new(o, "attrs", json_string(r->attrs));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *json_sections(const fs_report *rep)
{
    const fs_image *img = rep->image;
    json_t *a = json_array();
    for (size_t i = 0; i < img->nsections; i++) {
        const fs_section *s = &img->sections[i];
        char flags[16];
        fs_section_flags(s->flags, flags, sizeof flags);
        json_t *o = json_object();
        json_object_set_new(o, "name", jstr(s->name));
        json_object_set_new(o, "index", json_integer(s->index));
        json_object_set_new(o, "type", json_string(fs_section_type_name(s->type)));
        json_object_set_new(o, "flags", json_string(flags));
        json_object_set_new(o, "address", fs_json_from_u64(s->addr));
        json_object_set_new(o, "lma", fs_json_from_u64(s->lma));
        json_object_set_new(o, "size", fs_json_from_u64(s->size));
        json_object_set_new(o, "offset", fs_json_from_u64(s->offset));
        json_object_set_new(o, "align", fs_json_from_u64(s->align));
        json_object_set_new(o, "region", json_region_name(rep, s->vma_region));
        json_object_set_new(o, "load_region", json_region_name(rep, s->lma_region));
        json_array_append_new(a, o);
    }
    return a;
}

static const char *json_segment_type(uint32_t t)
{
    switch (t) {
    case PT_NULL: return "NULL";
    case PT_LOAD: return "LOAD";
    case PT_DYNAMIC: return "DYNAMIC";
    case PT_INTERP: return "INTERP";
    case PT_NOTE: return "NOTE";
    case PT_PHDR: return "PHDR";
    case PT_TLS: return "TLS";
    case PT_GNU_EH_FRAME: return "GNU_EH_FRAME";
    case PT_GNU_STACK: return "GNU_STACK";
    case PT_GNU_RELRO: return "GNU_RELRO";
    default: return "OTHER";
    }
}

static json_t *json_segments(const fs_image *img)
{
    json_t *a = json_array();
    for (size_t i = 0; i < img->nsegments; i++) {
        const fs_segment *p = &img->segments[i];
        char flags[4] = {p->flags & PF_R ? 'R' : '-', p->flags & PF_W ? 'W' : '-', p->flags & PF_X ? 'X' : '-', 0};
        json_t *o = json_object();
        json_object_set_new(o, "type", json_string(json_segment_type(p->type)));
        json_object_set_new(o, "flags", json_string(flags));
        json_object_set_new(o, "offset", fs_json_from_u64(p->offset));
        json_object_set_new(o, "vaddr", fs_json_from_u64(p->vaddr));
        json_object_set_new(o, "paddr", fs_json_from_u64(p->paddr));
        json_object_set_new(o, "filesz", fs_json_from_u64(p->filesz));
        json_object_set_new(o, "memsz", fs_json_from_u64(p->memsz));
        json_object_set_new(o, "align", fs_json_from_u64(p->align));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *json_esp8266(const fs_report *rep)
{
    const fs_esp8266 *e = &rep->esp;
    json_t *o = json_object();
    json_object_set_new(o, "window_start", fs_json_from_u64(FS_ESP8266_WINDOW_START));
    json_object_set_new(o, "window_end", fs_json_from_u64(FS_ESP8266_WINDOW_END));
    json_object_set_new(o, "window_used_end", fs_json_from_u64(e->window_used_end));
    json_object_set_new(o, "boots", json_boolean(fs_report_boots(rep)));
    json_t *boot = json_object();
    json_object_set_new(boot, "size", fs_json_from_u64(e->boot_image_size));
    json_object_set_new(boot, "limit", fs_json_from_u64(FS_ESP8266_BOOT_LIMIT));
    json_t *segs = json_array();
    for (size_t i = 0; i < e->nboot_segments; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "address", fs_json_from_u64(e->boot_segments[i].addr));
        json_object_set_new(s, "size", fs_json_from_u64(e->boot_segments[i].size));
        json_object_set_new(s, "sections", json_string(e->boot_segments[i].names));
        json_array_append_new(segs, s);
    }
    json_object_set_new(boot, "segments", segs);
    json_object_set_new(o, "boot_image", boot);
    if (e->has_irom0) {
        json_t *i = json_object();
        json_object_set_new(i, "start", fs_json_from_u64(e->irom0_start));
        json_object_set_new(i, "size", fs_json_from_u64(e->irom0_size));
        json_object_set_new(i, "end", fs_json_from_u64(e->irom0_start + e->irom0_size));
        if (e->has_irom0_region) {
            json_object_set_new(i, "region_start", fs_json_from_u64(e->irom0_region_start));
            json_object_set_new(i, "region_length", fs_json_from_u64(e->irom0_region_length));
        }
        json_object_set_new(o, "irom0", i);
    } else {
        json_object_set_new(o, "irom0", json_null());
    }
    json_object_set_new(o, "firmware_size", e->has_firmware_size ? fs_json_from_u64(e->firmware_size) : json_null());
    if (e->has_romfs) {
        json_t *r = json_object();
        json_object_set_new(r, "start", fs_json_from_u64(e->romfs_start));
        json_object_set_new(r, "size", fs_json_from_u64(e->romfs_size));
        json_object_set_new(o, "romfs", r);
    } else {
        json_object_set_new(o, "romfs", json_null());
    }
    return o;
}

static json_t *json_symbols(const fs_report *rep, size_t top)
{
    const fs_image *img = rep->image;
    size_t n = top && top < rep->nby_size ? top : rep->nby_size;
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const fs_symbol *s = &img->symbols[rep->by_size[i]];
        json_t *o = json_object();
        json_object_set_new(o, "name", jstr(s->name));
        json_object_set_new(o, "address", fs_json_from_u64(s->value));
        json_object_set_new(o, "size", fs_json_from_u64(s->size));
        json_object_set_new(o, "type", json_string(fs_symbol_type_name(s->type)));
        json_object_set_new(o, "bind", json_string(fs_symbol_bind_name(s->bind)));
        json_object_set_new(o, "section", jstr(img->sections[s->section].name));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *json_findings(const fs_report *rep, size_t *errors, size_t *warnings)
{
    json_t *a = json_array();
    for (size_t i = 0; i < rep->nfindings; i++) {
        const fs_finding *f = &rep->findings[i];
        *errors += f->severity == FS_SEV_ERROR;
        *warnings += f->severity == FS_SEV_WARNING;
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(f->id));
        json_object_set_new(o, "severity", json_string(fs_severity_name(f->severity)));
        json_object_set_new(o, "subject", jstr(f->subject));
        json_object_set_new(o, "message", jstr(f->message));
        json_object_set_new(o, "remedy", jstr(f->remedy));
        json_t *nums = json_object();
        for (size_t k = 0; k < f->nnums; k++)
            json_object_set_new(nums, f->nums[k].key, fs_json_from_u64(f->nums[k].value));
        json_object_set_new(o, "numbers", nums);
        json_array_append_new(a, o);
    }
    return a;
}

json_t *fs_report_json(const fs_report *rep, const fs_output_opts *o)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "schema", json_string("flashsize-analysis"));
    json_object_set_new(doc, "schema_version", json_integer(FS_JSON_SCHEMA_VERSION));
    json_t *tool = json_object();
    json_object_set_new(tool, "name", json_string("flashsize"));
    json_object_set_new(tool, "version", json_string(FS_VERSION));
    json_object_set_new(doc, "tool", tool);
    json_object_set_new(doc, "input", json_input(rep->image));
    if (rep->board) {
        json_t *b = json_object();
        json_object_set_new(b, "name", jstr(rep->board->name));
        json_object_set_new(b, "description", jstr(rep->board->description));
        json_object_set_new(doc, "board", b);
    } else {
        json_object_set_new(doc, "board", json_null());
    }
    json_object_set_new(doc, "chip", json_string(rep->esp.detected ? "esp8266" : "generic"));
    json_t *src = json_object();
    json_object_set_new(src, "kind", json_string(fs_region_source_name(rep->region_source)));
    json_object_set_new(src, "detail", jstr(rep->region_source_detail));
    json_object_set_new(doc, "regions_source", src);
    json_object_set_new(doc, "headroom_percent", json_real(rep->headroom_pct));
    json_object_set_new(doc, "regions", json_regions(rep));
    json_object_set_new(doc, "sections", json_sections(rep));
    json_object_set_new(doc, "segments", json_segments(rep->image));
    json_object_set_new(doc, "esp8266", rep->esp.detected ? json_esp8266(rep) : json_null());
    json_object_set_new(doc, "symbols_total", json_integer((json_int_t)rep->nby_size));
    json_object_set_new(doc, "symbols", json_symbols(rep, o->top));
    json_t *retained = o->retained ? fs_retained_json(o->retained) : NULL;
    json_object_set_new(doc, "retained", retained ? retained : json_null());
    json_t *frozen = o->frozen && o->frozen->present ? fs_frozen_json(o->frozen, rep->image->path) : NULL;
    json_object_set_new(doc, "frozen", frozen ? frozen : json_null());
    json_t *rom = o->romuse ? fs_romuse_json(o->romuse, rep->image->path) : NULL;
    json_object_set_new(doc, "rom", rom ? rom : json_null());
    json_t *map = o->map ? fs_mapfile_json(o->map, o->top) : NULL;
    json_object_set_new(doc, "map", map ? map : json_null());
    json_t *romfs = o->romfs ? fs_romfs_json(o->romfs, o->romfs_occ) : NULL;
    json_object_set_new(doc, "romfs", romfs ? romfs : json_null());
    size_t errors = 0, warnings = 0;
    json_object_set_new(doc, "findings", json_findings(rep, &errors, &warnings));
    json_t *sum = json_object();
    json_object_set_new(sum, "errors", json_integer((json_int_t)errors));
    json_object_set_new(sum, "warnings", json_integer((json_int_t)warnings));
    json_object_set_new(sum, "verdict", json_string(fs_report_verdict(rep)));
    json_object_set_new(doc, "summary", sum);
    return doc;
}

int fs_output_json(FILE *out, const fs_report *rep, const fs_output_opts *o)
{
    json_t *doc = fs_report_json(rep, o);
    if (!doc)
        return -1;
    /* One buffer and one write: json_dumpf writes token by token, which
     * costs more than building the whole document. */
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (!text)
        return -1;
    size_t len = strlen(text);
    int rc = fwrite(text, 1, len, out) == len && fputc('\n', out) != EOF ? 0 : -1;
    free(text);
    return rc;
}
