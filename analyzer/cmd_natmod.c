/*
 * cmd_natmod.c - `flashsize natmod MOD.mpy [--rom FILE] [--format text|json]`.
 *
 * Reads the .mpy (mpy.c), loads the ROM table (romsyms.c; for xtensa the
 * rules directory's rom/esp8266.ld unless --rom or --no-rom), summarises
 * (natmod.c) and prints.  The JSON document is "flashsize-natmod" version 1
 * (docs/natmod.md).
 */
#include "board.h"
#include "cli.h"
#include "natmod.h"

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
    "\n"
    "  -f, --format FMT     text (default) or json\n"
    "      --rom FILE       ROM symbol table (GNU ld assignments); default for xtensa:\n"
    "                       rom/esp8266.ld in the rules directory\n"
    "      --no-rom         do not look for ROM references\n"
    "      --rules-dir DIR  rules directory (default $FLASHSIZE_RULES or the installed one)\n"
    "\n"
    "Exit status: 0 no error findings, 1 error findings, 2 bad input or usage.\n";

typedef struct natmod_args {
    const char *mpy, *format, *rom, *rules_dir;
    bool no_rom;
} natmod_args;

static int natmod_parse(int argc, char **argv, natmod_args *a)
{
    enum { OPT_ROM = 256, OPT_NO_ROM, OPT_RULES };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {"rom", required_argument, NULL, OPT_ROM},
        {"no-rom", no_argument, NULL, OPT_NO_ROM}, {"rules-dir", required_argument, NULL, OPT_RULES},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    a->format = "text";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': a->format = optarg; break;
        case OPT_ROM: a->rom = optarg; break;
        case OPT_NO_ROM: a->no_rom = true; break;
        case OPT_RULES: a->rules_dir = optarg; break;
        case 'h': fputs(natmod_usage, stdout); return 1;
        default: fputs(natmod_usage, stderr); return -1;
        }
    }
    if (strcmp(a->format, "text") && strcmp(a->format, "json")) {
        cli_error("--format: unknown format '%s' (text or json)", a->format);
        return -1;
    }
    if (optind + 1 != argc) {
        cli_error(optind == argc ? "natmod: no .mpy file given" : "natmod: more than one .mpy file given");
        fputs(natmod_usage, stderr);
        return -1;
    }
    a->mpy = argv[optind];
    return 0;
}

static void natmod_text(FILE *out, const fs_natmod *n, const char *rom_path)
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

static int natmod_json(FILE *out, const fs_natmod *n, const char *rom_path)
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
    json_t *doc = json_pack("{s:s,s:i,s:s,s:s,s:i,s:i,s:I,s:s?,s:I,s:I,s:I,s:I,s:o,s:o,s:{s:b,s:s?,s:o}}",
                            "schema", "flashsize-natmod", "schema_version", NATMOD_JSON_VERSION, "file", m->path,
                            "arch", fs_mpy_arch_name(m->hdr.arch), "mpy_version", m->hdr.version, "mpy_sub_version",
                            m->hdr.sub_version, "file_size", (json_int_t)m->len, "name",
                            m->rawcodes[n->rawcode].name, "text_size", (json_int_t)n->text_size, "rodata_size",
                            (json_int_t)n->rodata_size, "bss_size", (json_int_t)n->bss_size, "reloc_entries",
                            (json_int_t)n->reloc_entries, "reloc_words", by_dest, "relocations", relocs,
                            "rom_references", "inferred", n->rom_inferred, "table", rom_path, "items", rom);
    if (!doc)
        return -1;
    int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', out);
    json_decref(doc);
    return rc;
}

int cmd_natmod(int argc, char **argv)
{
    natmod_args a = {0};
    int parsed = natmod_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    fs_error err = {{0}};
    fs_mpy m;
    fs_romtable rom = {0};
    fs_natmod n = {0};
    char *rom_path = NULL;
    int status = FS_EXIT_INPUT;
    bool have_rom = false;
    if (fs_mpy_load(a.mpy, &m, &err) < 0)
        goto fail;
    if (!a.no_rom && (a.rom || m.hdr.arch == 9)) {
        if (a.rom)
            rom_path = strdup(a.rom);
        else {
            char *dir = a.rules_dir ? strdup(a.rules_dir) : fs_rules_dir();
            if (!dir) {
                fs_fail(&err, "cannot find the rules directory for the default ROM table (use --rom or --no-rom)");
                goto fail;
            }
            if (asprintf(&rom_path, "%s/rom/esp8266.ld", dir) < 0)
                rom_path = NULL;
            free(dir);
        }
        if (!rom_path || fs_romtable_load(rom_path, &rom, &err) < 0)
            goto fail;
        have_rom = true;
    }
    if (fs_natmod_analyze(&m, have_rom ? &rom : NULL, &n, &err) < 0)
        goto fail;
    if (strcmp(a.format, "json") == 0) {
        if (natmod_json(stdout, &n, rom_path) < 0) {
            fs_fail(&err, "%s: cannot write the JSON report", a.mpy);
            goto fail;
        }
    } else {
        natmod_text(stdout, &n, rom_path);
    }
    status = FS_EXIT_OK;
    goto done;
fail:
    cli_error("%s", err.msg);
done:
    fs_natmod_free(&n);
    fs_romtable_free(&rom);
    fs_mpy_free(&m);
    free(rom_path);
    return status;
}
