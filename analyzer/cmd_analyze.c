/*
 * cmd_analyze.c - `flashsize analyze ELF [options]`.
 */
#include "analyze.h"
#include "board.h"
#include "cli.h"
#include "elfread.h"
#include "ldscript.h"
#include "output.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST_OPTS 64

static const char analyze_usage[] =
    "usage: flashsize analyze FIRMWARE.elf [options]\n"
    "\n"
    "Report how full each memory region is, every allocated section, the largest\n"
    "symbols and findings (for ESP8266: irom0, the 1 MiB flash window, the boot image,\n"
    "ROMFS). Regions come from --ld, else --board, else the ELF's own linker symbols.\n"
    "\n"
    "  -f, --format FMT     text (default), json or csv\n"
    "  -b, --board NAME     board layout from the rules directory (or a path to a .ini)\n"
    "      --ld FILE        GNU ld linker script to take MEMORY regions from\n"
    "  -L DIR               extra directory for the script's INCLUDEs (repeatable)\n"
    "      --defsym N=EXPR  define a linker-script symbol (repeatable)\n"
    "      --headroom PCT   warn when a region is at least PCT%% full (default 90)\n"
    "      --top N          symbols to list (text: 20; json/csv: all)\n"
    "      --rules-dir DIR  rules directory (default $FLASHSIZE_RULES or the installed one)\n"
    "  -o, --output FILE    write the report to FILE instead of standard output\n"
    "\n"
    "Exit status: 0 no error findings, 1 error findings, 2 bad input or usage.\n";

typedef struct analyze_args {
    const char *elf, *format, *board, *ld, *rules_dir, *output;
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
    enum { OPT_LD = 256, OPT_DEFSYM, OPT_HEADROOM, OPT_TOP, OPT_RULES };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},   {"board", required_argument, NULL, 'b'},
        {"ld", required_argument, NULL, OPT_LD},    {"defsym", required_argument, NULL, OPT_DEFSYM},
        {"headroom", required_argument, NULL, OPT_HEADROOM}, {"top", required_argument, NULL, OPT_TOP},
        {"rules-dir", required_argument, NULL, OPT_RULES},   {"output", required_argument, NULL, 'o'},
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
    if (optind + 1 != argc) {
        cli_error(optind == argc ? "analyze: no firmware ELF given" : "analyze: more than one firmware ELF given");
        fputs(analyze_usage, stderr);
        return -1;
    }
    a->elf = argv[optind];
    return 0;
}

int cmd_analyze(int argc, char **argv)
{
    analyze_args a = {0};
    int parsed = analyze_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;

    int status = FS_EXIT_INPUT;
    fs_error err = {{0}};
    fs_image img = {0};
    fs_board board = {0};
    fs_memmap ld = {0};
    fs_report rep = {0};
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

    char *tmp;
    FILE *out = cli_open_output(a.output, &tmp);
    if (!out)
        goto done;
    fs_output_opts oo = {a.top};
    int rc = strcmp(a.format, "json") == 0  ? fs_output_json(out, &rep, &oo)
             : strcmp(a.format, "csv") == 0 ? fs_output_csv(out, &rep, &oo)
                                            : fs_output_text(out, &rep, &oo);
    if (cli_close_output(out, a.output, tmp, rc == 0) < 0 || rc < 0)
        goto done;
    status = fs_report_worst(&rep) == FS_SEV_ERROR ? FS_EXIT_FINDINGS : FS_EXIT_OK;
    goto done;
fail:
    cli_error("%s", err.msg);
done:
    if (have_report)
        fs_report_free(&rep);
    fs_image_free(&img);
    if (have_board)
        fs_board_free(&board);
    fs_memmap_free(&ld);
    free(rules_dir);
    return status;
}
