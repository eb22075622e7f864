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
#include "jsonw.h"
#include "retained.h"
#include "mapfile.h"
#include "accounting.h"
#include "owners.h"
#include "romfs.h"
#include "esp32app.h"
#include "romuse.h"

#include <elf.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A string as the documents write it (fs_json_text: bytes that are not
 * UTF-8 become \xNN text), null when out of memory. */
static json_t *jstr(const char *s)
{
    json_t *j = fs_json_text(s);
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

/* One symbol of the "symbols" list as an object. */
static json_t *json_symbol(const fs_image *img, const fs_symbol *s, const fs_accounting *acct)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", jstr(s->name));
    json_object_set_new(o, "address", fs_json_from_u64(s->value));
    json_object_set_new(o, "size", fs_json_from_u64(s->size));
    json_object_set_new(o, "type", json_string(fs_symbol_type_name(s->type)));
    json_object_set_new(o, "bind", json_string(fs_symbol_bind_name(s->bind)));
    json_object_set_new(o, "section", jstr(img->sections[s->section].name));
    if (acct && acct->literals)
        json_object_set_new(o, "literal_bytes", json_integer(acct->sym_literal[s - img->symbols]));
    return o;
}

static json_t *json_symbols(const fs_report *rep, const fs_output_opts *o)
{
    size_t top = o->top;
    const fs_image *img = rep->image;
    size_t n;
    size_t *largest = fs_report_largest(rep, top, &n);
    json_t *a = largest ? json_array() : NULL;
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_symbol(img, &img->symbols[largest[i]], o->accounting));
    free(largest);
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

/* The document's members, in order, each handed to a sink as it is made:
 * fs_report_json gathers them into one object, fs_output_json writes each
 * and frees it, so that the whole document is never in memory at once.
 * The "symbols" member, the largest by far, goes to its own callback. */
typedef void (*json_emit_fn)(fs_jemit *e, const void *ctx);
typedef struct json_sink {
    void (*member)(struct json_sink *k, const char *key, json_t *value); /* takes the reference */
    void (*symbols)(struct json_sink *k, const fs_report *rep, const fs_output_opts *o);
    /* A member told as events (jemit.h) by fn(e, ctx): the map, the
     * frozen modules and the ROM use are streamed so instead of made as
     * trees. */
    void (*emit)(struct json_sink *k, const char *key, json_emit_fn fn, const void *ctx);
} json_sink;

typedef struct json_emit_ctx {
    const fs_report *rep;
    const fs_output_opts *o;
} json_emit_ctx;

static void json_emit_map(fs_jemit *e, const void *ctx)
{
    const json_emit_ctx *c = ctx;
    fs_mapfile_emit(c->o->map, c->o->top, e);
}

static void json_emit_frozen(fs_jemit *e, const void *ctx)
{
    const json_emit_ctx *c = ctx;
    fs_frozen_emit(c->o->frozen, c->rep->image->path, e);
}

static void json_emit_rom(fs_jemit *e, const void *ctx)
{
    const json_emit_ctx *c = ctx;
    fs_romuse_emit(c->o->romuse, c->rep->image->path, e);
}

/* key: fn's value when there is one to tell (has), else null. */
static void json_emit_or_null(json_sink *k, const char *key, bool has, json_emit_fn fn, const json_emit_ctx *c)
{
    if (has)
        k->emit(k, key, fn, c);
    else
        k->member(k, key, json_null());
}

static void json_members(const fs_report *rep, const fs_output_opts *o, json_sink *k)
{
    k->member(k, "schema", json_string("flashsize-analysis"));
    k->member(k, "schema_version", json_integer(FS_JSON_SCHEMA_VERSION));
    json_t *tool = json_object();
    json_object_set_new(tool, "name", json_string("flashsize"));
    json_object_set_new(tool, "version", json_string(FS_VERSION));
    k->member(k, "tool", tool);
    k->member(k, "input", json_input(rep->image));
    if (rep->board) {
        json_t *b = json_object();
        json_object_set_new(b, "name", jstr(rep->board->name));
        json_object_set_new(b, "description", jstr(rep->board->description));
        k->member(k, "board", b);
    } else {
        k->member(k, "board", json_null());
    }
    k->member(k, "chip", json_string(rep->esp.detected ? "esp8266" : "generic"));
    json_t *src = json_object();
    json_object_set_new(src, "kind", json_string(fs_region_source_name(rep->region_source)));
    json_object_set_new(src, "detail", jstr(rep->region_source_detail));
    k->member(k, "regions_source", src);
    k->member(k, "headroom_percent", json_real(rep->headroom_pct));
    k->member(k, "regions", json_regions(rep));
    k->member(k, "sections", json_sections(rep));
    k->member(k, "segments", json_segments(rep->image));
    json_t *acct = o->accounting ? fs_accounting_json(o->accounting) : NULL;
    k->member(k, "accounting", acct ? acct : json_null());
    k->member(k, "esp8266", rep->esp.detected ? json_esp8266(rep) : json_null());
    k->member(k, "symbols_total", json_integer((json_int_t)rep->nby_size));
    k->symbols(k, rep, o);
    json_t *lits = o->accounting ? fs_accounting_literals_json(o->accounting, FS_ACCT_LITERALS_TOP) : NULL;
    k->member(k, "literals", lits ? lits : json_null());
    json_t *retained = o->retained ? fs_retained_json(o->retained) : NULL;
    k->member(k, "retained", retained ? retained : json_null());
    json_emit_ctx ctx = {rep, o};
    json_emit_or_null(k, "frozen", o->frozen && o->frozen->present, json_emit_frozen, &ctx);
    json_emit_or_null(k, "rom", o->romuse != NULL, json_emit_rom, &ctx);
    json_emit_or_null(k, "map", o->map != NULL, json_emit_map, &ctx);
    json_t *owners = o->owners ? fs_owners_json(o->owners) : NULL;
    k->member(k, "owners", owners ? owners : json_null());
    json_t *romfs = o->romfs ? fs_romfs_json(o->romfs, o->romfs_occ) : NULL;
    k->member(k, "romfs", romfs ? romfs : json_null());
    json_t *esp32 = o->esp32app ? fs_esp32app_json(o->esp32app) : NULL;
    k->member(k, "esp32_app", esp32 ? esp32 : json_null());
    size_t errors = 0, warnings = 0;
    k->member(k, "findings", json_findings(rep, &errors, &warnings));
    json_t *sum = json_object();
    json_object_set_new(sum, "errors", json_integer((json_int_t)errors));
    json_object_set_new(sum, "warnings", json_integer((json_int_t)warnings));
    json_object_set_new(sum, "verdict", json_string(fs_report_verdict(rep)));
    k->member(k, "summary", sum);
}

/* ---- the document as one jansson object ----------------------------------- */

typedef struct json_tree {
    json_sink sink;
    json_t *doc;
    bool failed;
} json_tree;

static void tree_member(json_sink *k, const char *key, json_t *value)
{
    json_tree *t = (json_tree *)k;
    if (!value || json_object_set_new(t->doc, key, value) < 0)
        t->failed = true;
}

static void tree_symbols(json_sink *k, const fs_report *rep, const fs_output_opts *o)
{
    tree_member(k, "symbols", json_symbols(rep, o));
}

static void tree_emit(json_sink *k, const char *key, json_emit_fn fn, const void *ctx)
{
    fs_jemit_tree t;
    fs_jemit_tree_init(&t);
    fn(&t.base, ctx);
    tree_member(k, key, fs_jemit_tree_finish(&t));
}

json_t *fs_report_json(const fs_report *rep, const fs_output_opts *o)
{
    json_tree t = {{tree_member, tree_symbols, tree_emit}, json_object(), false};
    if (!t.doc)
        return NULL;
    json_members(rep, o, &t.sink);
    if (t.failed) {
        json_decref(t.doc);
        return NULL;
    }
    return t.doc;
}

/* ---- the document written as it is made ---------------------------------- */

/* The same bytes as json_dumps(fs_report_json(...), JSON_INDENT(2) | ...)
 * and a newline, but each member is written and freed as soon as it is
 * made, and the symbols, most of the document, are written straight from
 * the symbol table (tests/unit/test_output.c compares the two on every
 * sample). */
typedef struct json_stream {
    json_sink sink;
    size_t members;
    fs_jsonw w;
} json_stream;

static void stream_key(json_stream *s, const char *key)
{
    if (s->members++)
        fs_jsonw_lit(&s->w, ",\n  ");
    else
        fs_jsonw_lit(&s->w, "{\n  ");
    fs_jsonw_string(&s->w, key, strlen(key));
    fs_jsonw_lit(&s->w, ": ");
}

static void stream_member(json_sink *k, const char *key, json_t *value)
{
    json_stream *s = (json_stream *)k;
    stream_key(s, key);
    fs_jsonw_value(&s->w, value, 1);
    json_decref(value);
}

static void stream_emit(json_sink *k, const char *key, json_emit_fn fn, const void *ctx)
{
    json_stream *s = (json_stream *)k;
    stream_key(s, key);
    fs_jsonw_emitter e;
    fs_jsonw_emitter_init(&e, &s->w, 1);
    fn(&e.e, ctx);
    if (e.e.failed || e.depth != 0)
        s->w.failed = true;
}

/* A string as jstr makes it: bytes that are not UTF-8 become \xNN text. */
static void stream_string(fs_jsonw *w, const char *s)
{
    if (fs_jsonw_ascii(w, s))
        return;
    json_t *j = jstr(s);
    fs_jsonw_value(w, j, 2);
    json_decref(j);
}

/* An unsigned number as fs_json_from_u64 makes it (document.h). */
static void stream_num(fs_jsonw *w, uint64_t v)
{
    if (v <= INT64_MAX) {
        fs_jsonw_int(w, (int64_t)v);
        return;
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "\"0x%llx\"", (unsigned long long)v);
    fs_jsonw_put(w, buf, (size_t)n);
}

/* A short name quoted for JSON ahead of time; n = 0 when it is not plain
 * ASCII or too long (then it is written the long way each time). */
typedef struct sym_quoted {
    char q[64];
    size_t n;
} sym_quoted;

static void sym_quote(sym_quoted *out, const char *name)
{
    size_t len = strlen(name);
    out->n = 0;
    if (len + 2 > sizeof out->q || fs_jsonw_plain(name, len) != len)
        return;
    out->q[0] = '"';
    memcpy(out->q + 1, name, len);
    out->q[len + 1] = '"';
    out->n = len + 2;
}

static void sym_put_quoted(fs_jsonw *w, const sym_quoted *q, const char *name)
{
    if (q && q->n)
        fs_jsonw_put(w, q->q, q->n);
    else
        stream_string(w, name);
}

/* The literal text of a record, between its values. */
#define SYM_OPEN    "    {\n      \"name\": "
#define SYM_ADDRESS ",\n      \"address\": "
#define SYM_SIZE    ",\n      \"size\": "
#define SYM_TYPE    ",\n      \"type\": "
#define SYM_BIND    ",\n      \"bind\": "
#define SYM_SECTION ",\n      \"section\": "
#define SYM_LITERAL ",\n      \"literal_bytes\": "
#define SYM_NEXT    "\n    },\n"
#define SYM_LAST    "\n    }\n  ]"
#define SYM_PUT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

/* One symbol's record written in place, when everything in it is plain:
 * its name needs no escape, its numbers fit in int64_t, its type, bind and
 * section were quoted ahead.  false (nothing written) otherwise. */
static bool sym_record_fast(fs_jsonw *w, const fs_symbol *s, const sym_quoted *ty, const sym_quoted *bi,
                            const sym_quoted *sec, const int64_t *literal, bool last)
{
    size_t nl = strlen(s->name);
    if (!ty || !ty->n || !bi || !bi->n || !sec || !sec->n || s->value > INT64_MAX || s->size > INT64_MAX ||
        nl > 4096 || fs_jsonw_plain(s->name, nl) != nl)
        return false;
    /* the quoted names are copied whole (a fixed size: no call), so the
     * room reserved covers a copy past the record's end */
    char *o = fs_jsonw_reserve(w, nl + 4 * sizeof ty->q + 256);
    if (!o)
        return false;
    o = SYM_PUT(o, SYM_OPEN);
    *o++ = '"';
    memcpy(o, s->name, nl);
    o += nl;
    *o++ = '"';
    o = SYM_PUT(o, SYM_ADDRESS);
    o = fs_jsonw_fmt_int(o, (int64_t)s->value);
    o = SYM_PUT(o, SYM_SIZE);
    o = fs_jsonw_fmt_int(o, (int64_t)s->size);
    o = SYM_PUT(o, SYM_TYPE);
    memcpy(o, ty->q, sizeof ty->q);
    o += ty->n;
    o = SYM_PUT(o, SYM_BIND);
    memcpy(o, bi->q, sizeof bi->q);
    o += bi->n;
    o = SYM_PUT(o, SYM_SECTION);
    memcpy(o, sec->q, sizeof sec->q);
    o += sec->n;
    if (literal) {
        o = SYM_PUT(o, SYM_LITERAL);
        o = fs_jsonw_fmt_int(o, *literal);
    }
    o = last ? SYM_PUT(o, SYM_LAST) : SYM_PUT(o, SYM_NEXT);
    fs_jsonw_commit(w, o);
    return true;
}

static void stream_symbols(json_sink *k, const fs_report *rep, const fs_output_opts *o)
{
    size_t top = o->top;
    const fs_accounting *acct = o->accounting && o->accounting->literals ? o->accounting : NULL;
    json_stream *st = (json_stream *)k;
    fs_jsonw *w = &st->w;
    const fs_image *img = rep->image;
    size_t n;
    size_t *largest = fs_report_largest(rep, top, &n);
    stream_key(st, "symbols");
    if (!largest) {
        w->failed = true;
        return;
    }
    if (n)
        fs_jsonw_lit(w, "[\n");
    else
        fs_jsonw_lit(w, "[]");
    /* A symbol's type and bind (four bits each in ELF) are one of a few
     * short names, and its section one of a few more: each is quoted once
     * here, not once per symbol. */
    sym_quoted types[16], binds[16];
    for (unsigned v = 0; v < 16; v++) {
        sym_quote(&types[v], fs_symbol_type_name((uint8_t)v));
        sym_quote(&binds[v], fs_symbol_bind_name((uint8_t)v));
    }
    sym_quoted *secs = img->nsections <= 1024 ? malloc((img->nsections + 1) * sizeof *secs) : NULL;
    for (size_t i = 0; secs && i < img->nsections; i++)
        sym_quote(&secs[i], img->sections[i].name);
    for (size_t i = 0; i < n; i++) {
        /* The symbols come in size order, scattered over the table: ask
         * for a later one's record, and for a nearer one's name, ahead. */
        if (i + 16 < n)
            __builtin_prefetch(&img->symbols[largest[i + 16]]);
        if (i + 8 < n)
            __builtin_prefetch(img->symbols[largest[i + 8]].name);
        const fs_symbol *s = &img->symbols[largest[i]];
        const sym_quoted *ty = s->type < 16 ? &types[s->type] : NULL, *bi = s->bind < 16 ? &binds[s->bind] : NULL;
        int64_t lit = acct ? acct->sym_literal[largest[i]] : 0;
        if (sym_record_fast(w, s, ty, bi, secs ? &secs[s->section] : NULL, acct ? &lit : NULL, i + 1 == n))
            continue;
        fs_jsonw_lit(w, SYM_OPEN);
        stream_string(w, s->name);
        fs_jsonw_lit(w, SYM_ADDRESS);
        stream_num(w, s->value);
        fs_jsonw_lit(w, SYM_SIZE);
        stream_num(w, s->size);
        fs_jsonw_lit(w, SYM_TYPE);
        sym_put_quoted(w, ty, fs_symbol_type_name(s->type));
        fs_jsonw_lit(w, SYM_BIND);
        sym_put_quoted(w, bi, fs_symbol_bind_name(s->bind));
        fs_jsonw_lit(w, SYM_SECTION);
        stream_string(w, img->sections[s->section].name);
        if (acct) {
            fs_jsonw_lit(w, SYM_LITERAL);
            fs_jsonw_int(w, lit);
        }
        if (i + 1 < n)
            fs_jsonw_lit(w, SYM_NEXT);
        else
            fs_jsonw_lit(w, SYM_LAST);
    }
    free(secs);
    free(largest);
}

int fs_output_json(FILE *out, const fs_report *rep, const fs_output_opts *o)
{
    json_stream *s = malloc(sizeof *s);
    if (!s)
        return -1;
    s->sink = (json_sink){stream_member, stream_symbols, stream_emit};
    s->members = 0;
    fs_jsonw_init(&s->w, out, 10);
    json_members(rep, o, &s->sink);
    fs_jsonw_lit(&s->w, "\n}\n");
    int rc = fs_jsonw_finish(&s->w);
    free(s);
    return rc;
}
