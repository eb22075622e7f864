/*
 * cmd_analyze.c - `flashsize analyze ELF [options]`.
 */
#include "analyze.h"
#include "board.h"
#include "cli.h"
#include "elfread.h"
#include "frozen.h"
#include "ldscript.h"
#include "mapfile.h"
#include "output.h"
#include "romfs.h"
#include "romsyms.h"
#include "romuse.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST_OPTS 64

static const char analyze_usage[] =
    "usage: flashsize analyze FIRMWARE.elf [options]\n"
    "       flashsize analyze --map FIRMWARE.map [options]   (a failed link: no ELF)\n"
    "\n"
    "Report how full each memory region is, every allocated section, the largest\n"
    "symbols and findings (for ESP8266: irom0, the 1 MiB flash window, the boot image,\n"
    "ROMFS), frozen modules when the firmware has them. Regions come from --ld, else\n"
    "--board, else the ELF's own linker symbols.\n"
    "\n"
    "  -f, --format FMT     text (default), json or csv\n"
    "  -b, --board NAME     board layout from the rules directory (or a path to a .ini)\n"
    "      --ld FILE        GNU ld linker script to take MEMORY regions from\n"
    "  -L DIR               extra directory for the script's INCLUDEs (repeatable)\n"
    "      --defsym N=EXPR  define a linker-script symbol (repeatable)\n"
    "      --headroom PCT   warn when a region is at least PCT%% full (default 90)\n"
    "      --top N          symbols to list (text: 20; json/csv: all)\n"
    "      --map FILE       the link's GNU ld map: bytes per archive/object/section, IRAM objects\n"
    "      --romfs IMAGE    a ROMFS image: its occupancy of the firmware's ROMFS partition\n"
    "      --rom FILE       ROM symbol table (default for ESP8266: rules/rom/esp8266.ld): ROM\n"
    "                       functions used, and copies the firmware carries of ROM functions\n"
    "      --rules-dir DIR  rules directory (default $FLASHSIZE_RULES or the installed one)\n"
    "  -o, --output FILE    write the report to FILE instead of standard output\n"
    "\n"
    "Exit status: 0 no error findings, 1 error findings, 2 bad input or usage.\n";

typedef struct analyze_args {
    const char *elf, *format, *board, *ld, *rules_dir, *output, *map, *romfs, *rom;
    const char *search_dirs[MAX_LIST_OPTS];
    size_t nsearch_dirs;
    fs_ldsym defsyms[MAX_LIST_OPTS];
    size_t ndefsyms;
    double headroom;
    size_t top;
} analyze_args;

static int analyze_defsym(analyze_args *a, char *text)
{
    char *eq = strchr(text, '=');
    if (!eq || eq == text) {
        cli_error("--defsym: expected NAME=EXPR, got '%s'", text);
        return -1;
    }
    if (a->ndefsyms == MAX_LIST_OPTS) {
        cli_error("--defsym: more than %d given", MAX_LIST_OPTS);
        return -1;
    }
    char why[256];
    uint64_t value;
    if (fs_expr_eval(eq + 1, NULL, NULL, &value, why, sizeof why) < 0) {
        cli_error("--defsym %s: %s", text, why);
        return -1;
    }
    *eq = '\0';
    a->defsyms[a->ndefsyms++] = (fs_ldsym){text, value};
    return 0;
}

static int analyze_parse(int argc, char **argv, analyze_args *a)
{
    enum { OPT_LD = 256, OPT_DEFSYM, OPT_HEADROOM, OPT_TOP, OPT_RULES, OPT_MAP, OPT_ROMFS, OPT_ROM };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},   {"board", required_argument, NULL, 'b'},
        {"ld", required_argument, NULL, OPT_LD},    {"defsym", required_argument, NULL, OPT_DEFSYM},
        {"headroom", required_argument, NULL, OPT_HEADROOM}, {"top", required_argument, NULL, OPT_TOP},
        {"rules-dir", required_argument, NULL, OPT_RULES},   {"output", required_argument, NULL, 'o'},
        {"map", required_argument, NULL, OPT_MAP},  {"romfs", required_argument, NULL, OPT_ROMFS},
        {"rom", required_argument, NULL, OPT_ROM},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    a->format = "text";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:b:L:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': a->format = optarg; break;
        case 'b': a->board = optarg; break;
        case 'o': a->output = optarg; break;
        case OPT_LD: a->ld = optarg; break;
        case OPT_RULES: a->rules_dir = optarg; break;
        case OPT_MAP: a->map = optarg; break;
        case OPT_ROMFS: a->romfs = optarg; break;
        case OPT_ROM: a->rom = optarg; break;
        case 'L':
            if (a->nsearch_dirs == MAX_LIST_OPTS) {
                cli_error("-L: more than %d given", MAX_LIST_OPTS);
                return -1;
            }
            a->search_dirs[a->nsearch_dirs++] = optarg;
            break;
        case OPT_DEFSYM:
            if (analyze_defsym(a, optarg) < 0)
                return -1;
            break;
        case OPT_HEADROOM:
            if (cli_parse_double("--headroom", optarg, 1, 100, &a->headroom) < 0)
                return -1;
            break;
        case OPT_TOP:
            if (cli_parse_size("--top", optarg, &a->top) < 0)
                return -1;
            break;
        case 'h': fputs(analyze_usage, stdout); return 1;
        default: fputs(analyze_usage, stderr); return -1;
        }
    }
    if (strcmp(a->format, "text") && strcmp(a->format, "json") && strcmp(a->format, "csv")) {
        cli_error("--format: unknown format '%s' (text, json or csv)", a->format);
        return -1;
    }
    if (optind == argc && a->map) {
        if (a->romfs || a->ld || a->board || a->rom) {
            cli_error("analyze: without a firmware ELF only --map, --format, --top and -o apply");
            return -1;
        }
        return 0; /* a failed link: the map alone */
    }
    if (optind + 1 != argc) {
        cli_error(optind == argc ? "analyze: no firmware ELF given" : "analyze: more than one firmware ELF given");
        fputs(analyze_usage, stderr);
        return -1;
    }
    a->elf = argv[optind];
    return 0;
}

/* A failed link leaves no usable ELF, but ld still wrote the map: report
 * its regions, the overflow as ld computed it and the largest contributors. */
static int analyze_map_only(const analyze_args *a)
{
    fs_error err;
    fs_mapfile m;
    if (fs_mapfile_load(a->map, &m, &err) < 0) {
        cli_error("%s", err.msg);
        return FS_EXIT_INPUT;
    }
    fs_report rep = {0};
    int status = FS_EXIT_INPUT;
    if (fs_mapfile_report(&m, &rep, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    char *tmp;
    FILE *out = cli_open_output(a->output, &tmp);
    if (!out)
        goto done;
    int rc = 0;
    if (strcmp(a->format, "json") == 0) {
        json_t *doc = fs_mapfile_json(&m, a->top);
        rc = doc && json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 && fputc('\n', out) != EOF ? 0 : -1;
        json_decref(doc);
    } else {
        rc = fs_mapfile_print(out, &m, a->top ? a->top : 20);
        for (size_t i = 0; rc == 0 && i < rep.nfindings; i++)
            fprintf(out, "%s %s: %s\n", rep.findings[i].severity == FS_SEV_ERROR ? "ERROR" : "warning",
                    rep.findings[i].id, rep.findings[i].message);
    }
    if (cli_close_output(out, a->output, tmp, rc == 0) < 0 || rc < 0)
        goto done;
    status = fs_report_worst(&rep) == FS_SEV_ERROR ? FS_EXIT_FINDINGS : FS_EXIT_OK;
done:
    fs_report_free(&rep);
    fs_mapfile_free(&m);
    return status;
}

int cmd_analyze(int argc, char **argv)
{
    analyze_args a = {0};
    int parsed = analyze_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    if (!a.elf)
        return analyze_map_only(&a);

    int status = FS_EXIT_INPUT;
    fs_error err = {{0}};
    fs_image img = {0};
    fs_board board = {0};
    fs_memmap ld = {0};
    fs_report rep = {0};
    fs_frozen frozen = {0};
    fs_mapfile map = {0};
    fs_romfs romfs = {0};
    fs_romfs_occupancy romfs_occ;
    fs_romtable romtable = {0};
    fs_romuse romuse = {0};
    bool have_frozen = false, have_map = false, have_romfs = false, have_romtable = false, have_romuse = false;
    char *rules_dir = a.rules_dir ? strdup(a.rules_dir) : fs_rules_dir();
    bool have_board = false, have_ld = false, have_report = false;

    if (a.board) {
        if (fs_board_load(rules_dir, a.board, &board, &err) < 0)
            goto fail;
        have_board = true;
    }
    if (a.ld) {
        fs_ld_options lo = {a.search_dirs, a.nsearch_dirs, a.defsyms, a.ndefsyms};
        have_ld = true;
        if (fs_ldscript_load(a.ld, &lo, &ld, &err) < 0)
            goto fail;
    }
    if (fs_elf_load(a.elf, &img, &err) < 0)
        goto fail;
    fs_analyze_opts ao = {have_ld ? &ld : NULL, a.ld, have_board ? &board : NULL, a.headroom};
    if (fs_analyze(&img, &ao, &rep, &err) < 0)
        goto fail;
    have_report = true;

    /* The optional parts of the analysis add their findings to the same report.
     * Frozen modules are found through symbols: a stripped image has none. */
    if (img.has_symtab) {
        if (fs_frozen_analyze_file(&img, &frozen, &err) < 0)
            goto fail;
        have_frozen = true;
    }
    if (have_frozen && frozen.present && fs_frozen_findings(&frozen, &rep) < 0)
        goto oom;
    if (a.map) {
        if (fs_mapfile_load(a.map, &map, &err) < 0)
            goto fail;
        have_map = true;
        if (fs_mapfile_reconcile(&map, &img, &rep, &err) < 0)
            goto fail;
    }
    /* ROM functions: with --rom, or the chip's own table when there is one. */
    char rom_path[4096] = "";
    const char *default_rom = fs_romuse_default_table(&img, have_board ? &board : NULL);
    if (a.rom)
        snprintf(rom_path, sizeof rom_path, "%s", a.rom);
    else if (default_rom && rules_dir)
        snprintf(rom_path, sizeof rom_path, "%s/%s", rules_dir, default_rom);
    if (rom_path[0] && img.has_symtab) {
        if (fs_romtable_load(rom_path, &romtable, &err) < 0)
            goto fail;
        have_romtable = true;
        if (fs_romuse_analyze_file(&img, &romtable, have_map ? &map : NULL, &romuse, &err) < 0)
            goto fail;
        have_romuse = true;
        if (fs_romuse_findings(&romuse, &rep) < 0)
            goto oom;
    }
    if (a.romfs) {
        if (fs_romfs_load(a.romfs, &romfs, &err) < 0)
            goto fail;
        have_romfs = true;
        if (fs_romfs_analyze(&romfs, &img, have_board ? &board : NULL, 0, a.headroom, &romfs_occ, &rep, &err) < 0)
            goto fail;
    }

    char *tmp;
    FILE *out = cli_open_output(a.output, &tmp);
    if (!out)
        goto done;
    fs_output_opts oo = {a.top,
                         have_frozen ? &frozen : NULL,
                         have_romuse ? &romuse : NULL,
                         have_map ? &map : NULL,
                         have_romfs ? &romfs : NULL,
                         have_romfs ? &romfs_occ : NULL};
    int rc = strcmp(a.format, "json") == 0  ? fs_output_json(out, &rep, &oo)
             : strcmp(a.format, "csv") == 0 ? fs_output_csv(out, &rep, &oo)
                                            : fs_output_text(out, &rep, &oo);
    if (cli_close_output(out, a.output, tmp, rc == 0) < 0 || rc < 0)
        goto done;
    status = fs_report_worst(&rep) == FS_SEV_ERROR ? FS_EXIT_FINDINGS : FS_EXIT_OK;
    goto done;
oom:
    fs_fail(&err, "out of memory");
fail:
    cli_error("%s", err.msg);
done:
    if (have_frozen)
        fs_frozen_free(&frozen);
    if (have_map)
        fs_mapfile_free(&map);
    if (have_romfs)
        fs_romfs_free(&romfs);
    if (have_romuse)
        fs_romuse_free(&romuse);
    if (have_romtable)
        fs_romtable_free(&romtable);
    if (have_report)
        fs_report_free(&rep);
    fs_image_free(&img);
    if (have_board)
        fs_board_free(&board);
    fs_memmap_free(&ld);
    free(rules_dir);
    return status;
}
