/*
 * natmod_out.c - the native-module report as text and as JSON (schema
 * "flashsize-natmod" version 1, docs/natmod.md): the .mpy summary, the
 * classification of mpy_ld's resolution (with --objs) and its findings.
 * Formatting only: the facts come from natmod.c.
 */
#include "document.h"
#include "natmod.h"
#include "output.h"

#include <jansson.h>
#include <stdio.h>

#define NATMOD_JSON_VERSION 1

/* ---- text ---------------------------------------------------------------- */

static void natmod_text_summary(FILE *out, const fs_natmod *n, const char *rom_path)
{
    const fs_mpy *m = n->mpy;
    fprintf(out, "native module %s\n", m->path);
    fprintf(out, "  arch         %s (mpy %u.%u)\n", fs_mpy_arch_name(m->hdr.arch), m->hdr.version, m->hdr.sub_version);
    fprintf(out, "  file         %zu bytes\n", m->len);
    fprintf(out, "  text         %llu bytes\n", (unsigned long long)n->text_size);
    fprintf(out, "  rodata       %llu bytes\n", (unsigned long long)n->rodata_size);
    fprintf(out, "  bss          %llu bytes (RAM at load, not in the file)\n", (unsigned long long)n->bss_size);
    fprintf(out, "  relocations  %llu entries\n", (unsigned long long)n->reloc_entries);
    for (int d = 0; d < FS_NATMOD_NDEST; d++)
        if (n->reloc_words[d])
            fprintf(out, "    %-16s %llu word(s)\n", fs_natmod_dest_name(d), (unsigned long long)n->reloc_words[d]);
    if (!n->rom_inferred)
        return;
    fprintf(out, "  ROM references (inferred from %s: un-relocated words holding ROM addresses): %zu\n", rom_path,
            n->nrom);
    for (size_t i = 0; i < n->nrom; i++)
        fprintf(out, "    text word %-5llu 0x%08llx %s\n", (unsigned long long)n->rom[i].word,
                (unsigned long long)n->rom[i].addr, n->rom[i].sym->name);
}

/* Where a need's code comes from, for the text table. */
static void natmod_need_from(const fs_natmod_link *l, const fs_natmod_need *x, char *buf, size_t len)
{
    if (x->kind == FS_NEED_OWN)
        snprintf(buf, len, "%s", l->objs[x->obj].img.path);
    else if (x->kind == FS_NEED_LIBRARY)
        snprintf(buf, len, "%s", fs_natmod_member_object(l, (size_t)x->member)->img.path);
    else if (x->kind == FS_NEED_ROM)
        snprintf(buf, len, "0x%08llx", (unsigned long long)x->rom->addr);
    else if (x->kind == FS_NEED_RUNTIME && x->fun_index >= 0)
        snprintf(buf, len, "mp_fun_table[%d] %s", x->fun_index, fs_mpy_fun_table_name((unsigned)x->fun_index));
    else if (x->kind == FS_NEED_RUNTIME)
        snprintf(buf, len, "(table)");
    else
        snprintf(buf, len, "-");
}

static void natmod_text_link(FILE *out, const fs_natmod_link *l, const char *rom_path)
{
    fprintf(out, "  classification (mpy_ld's resolution over %zu object(s), %zu librar%s, ROM table %s)\n", l->nobjs,
            l->nlibs, l->nlibs == 1 ? "y" : "ies", rom_path ? rom_path : "none");
    fprintf(out, "    own objects    %llu bytes + %llu bss\n", (unsigned long long)l->own_bytes,
            (unsigned long long)l->own_bss);
    fprintf(out, "    library        %zu member(s), %llu bytes + %llu bss\n", l->nmembers,
            (unsigned long long)l->lib_bytes, (unsigned long long)l->lib_bss);
    for (size_t m = 0; m < l->nmembers; m++)
        fprintf(out, "      %-40s %6llu bytes, for %s%s\n", fs_natmod_member_object(l, m)->img.path,
                (unsigned long long)fs_object_file_bytes(fs_natmod_member_object(l, m)), l->members[m].pulled_for,
                l->members[m].live ? "" : " (not needed: the ROM has it)");
    fprintf(out, "    wasted         %llu bytes (copies of ROM functions)\n", (unsigned long long)l->wasted);
    fprintf(out, "    %-24s %-10s %8s  %s\n", "name", "kind", "bytes", "from");
    for (size_t i = 0; i < l->nneeds; i++) {
        const fs_natmod_need *x = &l->needs[i];
        char from[512], note[128] = "";
        natmod_need_from(l, x, from, sizeof from);
        if (x->redundant)
            snprintf(note, sizeof note, "redundant: ROM 0x%08llx, %llu bytes wasted", (unsigned long long)x->rom->addr,
                     (unsigned long long)x->wasted);
        else if (!x->referenced && x->kind == FS_NEED_OWN)
            snprintf(note, sizeof note, "(not referenced by other objects)");
        fprintf(out, "    %-24s %-10s %8llu  %s%s%s\n", x->name, fs_natmod_need_kind_name(x->kind),
                (unsigned long long)x->bytes, from, *note ? "  " : "", note);
    }
}

static void natmod_text_findings(FILE *out, const fs_report *rep)
{
    if (rep->nfindings)
        fprintf(out, "  findings\n");
    for (size_t i = 0; i < rep->nfindings; i++) {
        const fs_finding *f = &rep->findings[i];
        fprintf(out, "    %s %s: %s\n", fs_severity_name(f->severity), f->id, f->message);
        if (f->remedy)
            fprintf(out, "      -> %s\n", f->remedy);
    }
    fprintf(out, "  verdict: %s\n", fs_report_verdict(rep));
}

int fs_natmod_write_text(FILE *out, const fs_natmod *n, const char *rom_path, const fs_natmod_link *l,
                         const fs_report *rep)
{
    natmod_text_summary(out, n, rom_path);
    if (l) {
        natmod_text_link(out, l, rom_path);
        natmod_text_findings(out, rep);
    }
    return ferror(out) ? -1 : 0;
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *natmod_json_object(const fs_object *o)
{
    return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "path", o->img.path, "text", fs_json_from_u64(o->text), "rodata",
                     fs_json_from_u64(o->rodata), "data", fs_json_from_u64(o->data), "bss", fs_json_from_u64(o->bss), "bytes",
                     fs_json_from_u64(fs_object_file_bytes(o)));
}

static json_t *natmod_json_need(const fs_natmod_link *l, const fs_natmod_need *x)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:b}", "name", x->name, "kind", fs_natmod_need_kind_name(x->kind), "type",
                          fs_symbol_type_name(x->type), "size", fs_json_from_u64(x->size), "referenced", x->referenced);
    json_object_set_new(o, "object", x->kind == FS_NEED_OWN ? json_string(l->objs[x->obj].img.path) : json_null());
    bool lib = x->kind == FS_NEED_LIBRARY;
    json_object_set_new(o, "archive", lib ? json_string(fs_natmod_member_archive(l, (size_t)x->member)) : json_null());
    json_object_set_new(o, "member",
                        lib ? json_string(fs_natmod_member_object(l, (size_t)x->member)->name) : json_null());
    json_object_set_new(o, "bytes", fs_json_from_u64(x->bytes));
    json_object_set_new(o, "rom_address", x->rom ? fs_json_from_u64(x->rom->addr) : json_null());
    bool entry = x->kind == FS_NEED_RUNTIME && x->fun_index >= 0;
    json_object_set_new(o, "fun_table_index", entry ? json_integer(x->fun_index) : json_null());
    json_object_set_new(o, "redundant", json_boolean(x->redundant));
    json_object_set_new(o, "wasted", fs_json_from_u64(x->wasted));
    return o;
}

static json_t *natmod_json_link(const fs_natmod_link *l, const char *rom_path)
{
    json_t *objs = json_array(), *libs = json_array(), *members = json_array(), *syms = json_array();
    for (size_t i = 0; i < l->nobjs; i++)
        json_array_append_new(objs, natmod_json_object(&l->objs[i]));
    for (size_t i = 0; i < l->nlibs; i++)
        json_array_append_new(libs, json_string(l->libs[i].path));
    for (size_t m = 0; m < l->nmembers; m++) {
        const fs_natmod_member *pm = &l->members[m];
        json_t *o = natmod_json_object(fs_natmod_member_object(l, m));
        json_object_set_new(o, "archive", json_string(fs_natmod_member_archive(l, m)));
        json_object_set_new(o, "member", json_string(fs_natmod_member_object(l, m)->name));
        json_object_set_new(o, "pulled_for", json_string(pm->pulled_for));
        json_object_set_new(o, "pulled_by",
                            pm->parent >= 0 ? json_string(fs_natmod_member_object(l, (size_t)pm->parent)->img.path)
                                            : json_null());
        json_object_set_new(o, "live", json_boolean(pm->live));
        json_object_set_new(o, "wasted", fs_json_from_u64(pm->wasted));
        json_array_append_new(members, o);
    }
    size_t count[FS_NEED_UNRESOLVED + 1] = {0};
    for (size_t i = 0; i < l->nneeds; i++) {
        json_array_append_new(syms, natmod_json_need(l, &l->needs[i]));
        count[l->needs[i].kind]++;
    }
    json_t *totals = json_pack("{s:o,s:o,s:o,s:o,s:o}", "own_bytes", fs_json_from_u64(l->own_bytes), "own_bss",
                               fs_json_from_u64(l->own_bss), "library_bytes", fs_json_from_u64(l->lib_bytes), "library_bss",
                               fs_json_from_u64(l->lib_bss), "wasted", fs_json_from_u64(l->wasted));
    json_t *counts = json_object();
    for (int k = FS_NEED_OWN; k <= FS_NEED_UNRESOLVED; k++)
        json_object_set_new(counts, fs_natmod_need_kind_name((fs_need_kind)k), fs_json_from_u64(count[k]));
    json_object_set_new(totals, "symbols", counts);
    return json_pack("{s:s?,s:o,s:o,s:o,s:o,s:o}", "rom_table", rom_path, "objects", objs, "libraries", libs, "members",
                     members, "symbols", syms, "totals", totals);
}

static json_t *natmod_json_findings(const fs_report *rep)
{
    json_t *a = json_array();
    for (size_t i = 0; i < rep->nfindings; i++) {
        const fs_finding *f = &rep->findings[i];
        json_t *nums = json_object();
        for (size_t k = 0; k < f->nnums; k++)
            json_object_set_new(nums, f->nums[k].key, fs_json_from_u64(f->nums[k].value));
        json_array_append_new(a, json_pack("{s:s,s:s,s:s?,s:s,s:s?,s:o}", "id", f->id, "severity",
                                           fs_severity_name(f->severity), "subject", f->subject, "message", f->message,
                                           "remedy", f->remedy, "numbers", nums));
    }
    return a;
}

json_t *fs_natmod_json(const fs_natmod *n, const char *rom_path, const fs_natmod_link *l, const fs_report *rep)
{
    const fs_mpy *m = n->mpy;
    json_t *relocs = json_array(), *by_dest = json_object(), *rom = json_array();
    for (size_t i = 0; i < m->nrelocs; i++) {
        const fs_mpy_reloc *r = &m->relocs[i];
        char dest[64];
        fs_mpy_reloc_dest(r, dest, sizeof dest);
        json_array_append_new(relocs, json_pack("{s:s,s:I,s:I,s:i,s:s,s:I}", "base", r->base ? "rodata" : "text",
                                                "word", (json_int_t)r->word, "count", (json_int_t)r->count, "kind",
                                                r->kind, "dest", dest, "offset", (json_int_t)r->offset));
    }
    for (int d = 0; d < FS_NATMOD_NDEST; d++)
        json_object_set_new(by_dest, fs_natmod_dest_name(d), json_integer((json_int_t)n->reloc_words[d]));
    for (size_t i = 0; i < n->nrom; i++)
        json_array_append_new(rom, json_pack("{s:I,s:I,s:s,s:b}", "word", (json_int_t)n->rom[i].word, "address",
                                             (json_int_t)n->rom[i].addr, "name", n->rom[i].sym->name, "weak",
                                             n->rom[i].sym->weak));
    json_t *doc = json_pack(
        "{s:s,s:i,s:s,s:s,s:i,s:i,s:I,s:s?,s:I,s:I,s:I,s:I,s:o,s:o,s:{s:b,s:s?,s:o}}", "schema", "flashsize-natmod",
        "schema_version", NATMOD_JSON_VERSION, "file", m->path, "arch", fs_mpy_arch_name(m->hdr.arch), "mpy_version",
        m->hdr.version, "mpy_sub_version", m->hdr.sub_version, "file_size", (json_int_t)m->len, "name",
        m->rawcodes[n->rawcode].name, "text_size", (json_int_t)n->text_size, "rodata_size", (json_int_t)n->rodata_size,
        "bss_size", (json_int_t)n->bss_size, "reloc_entries", (json_int_t)n->reloc_entries, "reloc_words", by_dest,
        "relocations", relocs, "rom_references", "inferred", n->rom_inferred, "table", rom_path, "items", rom);
    if (!doc)
        return NULL;
    json_object_set_new(doc, "classification", l ? natmod_json_link(l, rom_path) : json_null());
    json_object_set_new(doc, "findings", natmod_json_findings(rep));
    int worst = fs_report_worst(rep);
    size_t errors = 0, warnings = 0;
    for (size_t i = 0; i < rep->nfindings; i++) {
        errors += rep->findings[i].severity == FS_SEV_ERROR;
        warnings += rep->findings[i].severity == FS_SEV_WARNING;
    }
    json_object_set_new(doc, "summary",
                        json_pack("{s:I,s:I,s:s}", "errors", (json_int_t)errors, "warnings", (json_int_t)warnings,
                                  "verdict",
                                  worst == FS_SEV_ERROR     ? "fail"
                                  : worst == FS_SEV_WARNING ? "warnings"
                                                            : "ok"));
    return doc;
}
