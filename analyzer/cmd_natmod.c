/*
 * cmd_natmod.c - `flashsize natmod MOD.mpy [--objs A.o B.o ...] [--lib L.a]...
 * [--rom FILE|--no-rom] [--format text|json]`.
 *
 * Reads the .mpy (mpy.c), loads the ROM table (romsyms.c; for xtensa the
 * rules directory's rom/esp8266.ld unless --rom or --no-rom), summarises
 * (natmod.c) and prints.  With the module's objects (and libraries) it also
 * re-runs mpy_ld's symbol resolution (fs_natmod_link_run) and reports where
 * every name comes from, with natmod-redundant-copy / natmod-unresolved
 * findings.  The JSON document is "flashsize-natmod" version 1; the
 * classification, findings and summary keys were added compatibly
 * (docs/natmod.md).
 *
 * --objs takes every following argument that does not start with '-' and
 * does not end in ".mpy", so both `natmod M.mpy --objs a.o b.o` and
 * `natmod --objs a.o b.o M.mpy` work; --obj FILE adds one.
 */
#include "board.h"
#include "document.h"
#include "cli.h"
#include "natmod.h"
#include "output.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define NATMOD_JSON_VERSION 1

static const char natmod_usage[] =
    "usage: flashsize natmod MODULE.mpy [options]\n"
    "\n"
    "Report a native module's architecture, text/rodata/bss sizes, relocations and\n"
    "the ROM functions it calls (inferred: un-relocated words holding ROM addresses).\n"
    "With --objs, re-run mpy_ld's symbol resolution and classify every name the\n"
    "module needs: own code, library member, ROM or mp_fun_table; flag copies of\n"
    "functions the ROM already has (natmod-redundant-copy).\n"
    "\n"
    "  -f, --format FMT     text (default) or json\n"
    "      --objs A.o B.o   the module's object files (all following arguments up to\n"
    "                       the next option or .mpy file)\n"
    "      --obj FILE       one more object file (repeatable)\n"
    "      --lib FILE.a     a library archive, searched in the order given (mpy_ld -l)\n"
    "      --rom FILE       ROM symbol table (GNU ld assignments); default for xtensa:\n"
    "                       rom/esp8266.ld in the rules directory\n"
    "      --no-rom         no ROM table\n"
    "      --rules-dir DIR  rules directory (default $FLASHSIZE_RULES or the installed one)\n"
    "\n"
    "Exit status: 0 no error findings, 1 error findings, 2 bad input or usage.\n";

typedef struct natmod_args {
    const char *mpy, *format, *rom, *rules_dir;
    bool no_rom;
    const char **objs;
    size_t nobjs;
    const char **libs;
    size_t nlibs;
    char **rest; /* argv without the --objs groups */
    int nrest;
} natmod_args;

static int natmod_add(const char ***list, size_t *n, const char *path, const char *what)
{
    if (*n == FS_NATMOD_MAX_INPUTS) {
        cli_error("natmod: more than %u %s", FS_NATMOD_MAX_INPUTS, what);
        return -1;
    }
    const char **g = realloc(*list, (*n + 1) * sizeof *g);
    if (!g) {
        cli_error("natmod: out of memory");
        return -1;
    }
    *list = g;
    g[(*n)++] = path;
    return 0;
}

static bool natmod_is_mpy(const char *s)
{
    size_t n = strlen(s);
    return n >= 4 && strcmp(s + n - 4, ".mpy") == 0;
}

/* Take the --objs groups out of argv (getopt cannot take a list). */
static int natmod_take_objs(int argc, char **argv, natmod_args *a)
{
    a->rest = calloc((size_t)argc + 1, sizeof *a->rest);
    if (!a->rest) {
        cli_error("natmod: out of memory");
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--objs") == 0) {
            int first = i + 1;
            while (i + 1 < argc && argv[i + 1][0] != '-' && !natmod_is_mpy(argv[i + 1]))
                if (natmod_add(&a->objs, &a->nobjs, argv[++i], "object files") < 0)
                    return -1;
            if (i + 1 == first) {
                cli_error("--objs: no object files follow");
                return -1;
            }
            continue;
        }
        a->rest[a->nrest++] = argv[i];
    }
    return 0;
}

static int natmod_parse(int argc, char **argv, natmod_args *a)
{
    enum { OPT_ROM = 256, OPT_NO_ROM, OPT_RULES, OPT_OBJ, OPT_LIB };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},  {"rom", required_argument, NULL, OPT_ROM},
        {"no-rom", no_argument, NULL, OPT_NO_ROM}, {"rules-dir", required_argument, NULL, OPT_RULES},
        {"obj", required_argument, NULL, OPT_OBJ}, {"lib", required_argument, NULL, OPT_LIB},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    a->format = "text";
    if (natmod_take_objs(argc, argv, a) < 0)
        return -1;
    optind = 1;
    int c;
    while ((c = getopt_long(a->nrest, a->rest, "f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': a->format = optarg; break;
        case OPT_ROM: a->rom = optarg; break;
        case OPT_NO_ROM: a->no_rom = true; break;
        case OPT_RULES: a->rules_dir = optarg; break;
        case OPT_OBJ:
            if (natmod_add(&a->objs, &a->nobjs, optarg, "object files") < 0)
                return -1;
            break;
        case OPT_LIB:
            if (natmod_add(&a->libs, &a->nlibs, optarg, "libraries") < 0)
                return -1;
            break;
        case 'h': fputs(natmod_usage, stdout); return 1;
        default: fputs(natmod_usage, stderr); return -1;
        }
    }
    if (cli_check_format(a->format, "text", "json", (char *)NULL) < 0)
        return -1;
    if (a->nlibs && !a->nobjs) {
        cli_error("--lib needs the module's objects (--objs)");
        return -1;
    }
    if (!(a->mpy = cli_operand(a->rest, optind, a->nrest, "natmod", ".mpy file", natmod_usage)))
        return -1;
    return 0;
}

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

static int natmod_json(FILE *out, const fs_natmod *n, const char *rom_path, const fs_natmod_link *l,
                       const fs_report *rep)
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
        return -1;
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
    return cli_write_json(out, doc);
}

/* ---- inputs -------------------------------------------------------------- */

typedef struct natmod_inputs {
    fs_object *objs;
    size_t nobjs;
    fs_archive *libs;
    size_t nlibs;
} natmod_inputs;

static int natmod_load_inputs(const natmod_args *a, natmod_inputs *in, fs_error *err)
{
    in->objs = calloc(a->nobjs ? a->nobjs : 1, sizeof *in->objs);
    in->libs = calloc(a->nlibs ? a->nlibs : 1, sizeof *in->libs);
    if (!in->objs || !in->libs)
        return fs_fail(err, "out of memory");
    for (; in->nobjs < a->nobjs; in->nobjs++)
        if (fs_object_load(a->objs[in->nobjs], &in->objs[in->nobjs], err) < 0)
            return -1;
    for (; in->nlibs < a->nlibs; in->nlibs++)
        if (fs_archive_load(a->libs[in->nlibs], &in->libs[in->nlibs], err) < 0)
            return -1;
    return 0;
}

static void natmod_free_inputs(natmod_inputs *in)
{
    for (size_t i = 0; in->objs && i < in->nobjs; i++)
        fs_object_free(&in->objs[i]);
    for (size_t i = 0; in->libs && i < in->nlibs; i++)
        fs_archive_free(&in->libs[i]);
    free(in->objs);
    free(in->libs);
}

static int natmod_load_rom(const natmod_args *a, const fs_mpy *m, fs_romtable *rom, char **rom_path, fs_error *err)
{
    if (a->no_rom || (!a->rom && m->hdr.arch != 9))
        return 0;
    if (a->rom)
        *rom_path = strdup(a->rom);
    else {
        char *dir = a->rules_dir ? strdup(a->rules_dir) : fs_rules_dir();
        if (!dir)
            return fs_fail(err, "cannot find the rules directory for the default ROM table (use --rom or --no-rom)");
        if (asprintf(rom_path, "%s/rom/esp8266.ld", dir) < 0)
            *rom_path = NULL;
        free(dir);
    }
    if (!*rom_path)
        return fs_fail(err, "out of memory");
    return fs_romtable_load(*rom_path, rom, err);
}

int cmd_natmod(int argc, char **argv)
{
    natmod_args a = {0};
    int parsed = natmod_parse(argc, argv, &a);
    if (parsed != 0) {
        free(a.objs);
        free(a.libs);
        free(a.rest);
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    }
    fs_error err = {{0}};
    fs_mpy m = {0};
    fs_romtable rom = {0};
    fs_natmod n = {0};
    fs_natmod_link l = {0};
    natmod_inputs in = {0};
    fs_report rep = {0};
    char *rom_path = NULL;
    int status = FS_EXIT_INPUT;
    bool have_link = false;
    if (fs_mpy_load(a.mpy, &m, &err) < 0)
        goto fail;
    if (natmod_load_rom(&a, &m, &rom, &rom_path, &err) < 0)
        goto fail;
    const fs_romtable *romp = rom_path ? &rom : NULL;
    if (fs_natmod_analyze(&m, romp, &n, &err) < 0)
        goto fail;
    if (a.nobjs) {
        if (natmod_load_inputs(&a, &in, &err) < 0 ||
            fs_natmod_link_run(in.objs, in.nobjs, in.libs, in.nlibs, romp, fs_natmod_arch_machine(m.hdr.arch), &l,
                               &err) < 0)
            goto fail;
        have_link = true;
        if (fs_natmod_link_findings(&l, &rep) < 0) {
            fs_fail(&err, "%s: out of memory", a.mpy);
            goto fail;
        }
    }
    if (strcmp(a.format, "json") == 0) {
        if (natmod_json(stdout, &n, rom_path, have_link ? &l : NULL, &rep) < 0) {
            fs_fail(&err, "%s: cannot write the JSON report", a.mpy);
            goto fail;
        }
    } else {
        natmod_text_summary(stdout, &n, rom_path);
        if (have_link) {
            natmod_text_link(stdout, &l, rom_path);
            natmod_text_findings(stdout, &rep);
        }
    }
    status = fs_report_worst(&rep) == FS_SEV_ERROR ? FS_EXIT_FINDINGS : FS_EXIT_OK;
    goto done;
fail:
    status = cli_fail(&err);
done:
    fs_report_free(&rep);
    fs_natmod_link_free(&l);
    natmod_free_inputs(&in);
    fs_natmod_free(&n);
    fs_romtable_free(&rom);
    fs_mpy_free(&m);
    free(rom_path);
    free(a.objs);
    free(a.libs);
    free(a.rest);
    return status;
}
