/*
 * cmd_natmod.c - `flashsize natmod MOD.mpy [--objs A.o B.o ...] [--lib L.a]...
 * [--rom FILE|--no-rom] [--format text|json]`.
 *
 * Reads the .mpy (mpy.c), loads the ROM table (romsyms.c; for xtensa the
 * rules directory's rom/esp8266.ld unless --rom or --no-rom), summarises
 * (natmod.c) and prints through the library's formatters (natmod_out.c).  With the module's objects (and libraries) it also
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
#include "cli.h"
#include "parseopt.h"
#include "natmod.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

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

static int natmod_opt_obj(const cli_option *o, char *arg)
{
    natmod_args *a = o->value;
    return natmod_add(&a->objs, &a->nobjs, arg, "object files");
}

static int natmod_opt_lib(const cli_option *o, char *arg)
{
    natmod_args *a = o->value;
    return natmod_add(&a->libs, &a->nlibs, arg, "libraries");
}

static int natmod_parse(int argc, char **argv, natmod_args *a)
{
    const cli_option opts[] = {
        CLI_OPT_FORMAT(&a->format, NULL, "text", "json"),
        CLI_OPT_DOC("objs", "A.o B.o", "the module's object files (all following arguments up to\n"
                                       "the next option or .mpy file)"),
        CLI_OPT_CALLBACK(0, "obj", a, natmod_opt_obj, "FILE", "one more object file (repeatable)"),
        CLI_OPT_CALLBACK(0, "lib", a, natmod_opt_lib, "FILE.a",
                         "a library archive, searched in the order given (mpy_ld -l)"),
        CLI_OPT_STRING(0, "rom", &a->rom, "FILE", "ROM symbol table (GNU ld assignments); default for xtensa:\n"
                                                  "rom/esp8266.ld in the rules directory"),
        CLI_OPT_FLAG(0, "no-rom", &a->no_rom, "no ROM table"),
        CLI_OPT_RULES_DIR(&a->rules_dir),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "natmod",
        .synopsis = "flashsize natmod MODULE.mpy [options]",
        .about = "Report a native module's architecture, text/rodata/bss sizes, relocations and\n"
                 "the ROM functions it calls (inferred: un-relocated words holding ROM addresses).\n"
                 "With --objs, re-run mpy_ld's symbol resolution and classify every name the\n"
                 "module needs: own code, library member, ROM or mp_fun_table; flag copies of\n"
                 "functions the ROM already has (natmod-redundant-copy).\n",
        .options = opts,
        .epilogue = "Exit status: 0 no error findings, 1 error findings, 2 bad input or usage.\n",
    };
    a->format = "text";
    if (natmod_take_objs(argc, argv, a) < 0)
        return -1;
    int first = cli_parse(&cmd, a->nrest, a->rest);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (a->nlibs && !a->nobjs) {
        cli_error("--lib needs the module's objects (--objs)");
        return -1;
    }
    if (!(a->mpy = cli_operand_of(&cmd, a->rest, first, a->nrest, ".mpy file")))
        return -1;
    return 0;
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
        json_t *doc = fs_natmod_json(&n, rom_path, have_link ? &l : NULL, &rep);
        if (!doc || cli_write_json(stdout, doc) < 0) {
            fs_fail(&err, "%s: cannot write the JSON report", a.mpy);
            goto fail;
        }
    } else {
        fs_natmod_write_text(stdout, &n, rom_path, have_link ? &l : NULL, &rep);
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
