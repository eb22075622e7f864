/*
 * cmd_cut.c - `flashsize cut FIRMWARE.elf --to-fit REGION`: which symbols,
 * frozen modules and (with --map) object files to remove, by retained size,
 * to bring a region under its limit (library: refgraph.h
 * fs_refgraph_cut_from).  The regions, frozen modules and map objects come
 * from the library's analysis pipeline (analysis.h, fs_analysis_run), as in
 * `flashsize analyze`, -L and --defsym included.
 */
#include "analysis.h"
#include "cli.h"
#include "refgraph.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char cut_usage[] =
    "usage: flashsize cut FIRMWARE.elf --to-fit REGION [options]\n"
    "\n"
    "Propose symbols, frozen modules and (with --map) object files to remove so\n"
    "that REGION gets under its limit (its length, or --limit): each saves its\n"
    "retained bytes in the region, everything only it keeps. Never a root, never\n"
    "one proposal inside another's retained set.\n"
    "Regions come from --ld, else --board, else the ELF. See docs/refgraph.md.\n"
    "\n"
    "      --to-fit REGION  the memory region to fit (required)\n"
    "      --limit BYTES    budget for the region instead of its length\n"
    "      --ld FILE        GNU ld linker script to take MEMORY regions from\n"
    "  -L DIR               extra directory for the script's INCLUDEs (repeatable)\n"
    "      --defsym N=EXPR  define a linker-script symbol (repeatable)\n"
    "      --map FILE       ld map file of the same link: object files become candidates\n"
    "      --rank N         also list the N largest candidates of every kind (default 10, 0 = all)\n"
    "  -b, --board NAME     board layout (and its roots/NAME.txt) from the rules directory\n"
    "      --root NAME      also a root (repeatable)\n"
    "  -f, --format FMT     text (default) or json\n"
    "      --rules-dir DIR  rules directory (default $FLASHSIZE_RULES or the installed one)\n"
    "  -o, --output FILE    write to FILE instead of standard output\n"
    "\n"
    "Exit status: 0 fits (already, or after the proposed removals), 1 no proposal\n"
    "fits, 2 bad input or usage.\n";

typedef struct cut_args {
    const char *elf, *region, *ld, *map, *board, *rules_dir, *format, *output;
    const char *roots[FS_REFGRAPH_MAX_ROOT_NAMES];
    size_t nroots;
    const char *search_dirs[CLI_MAX_LIST_OPTS];
    size_t nsearch_dirs;
    fs_ldsym defsyms[CLI_MAX_LIST_OPTS];
    size_t ndefsyms;
    size_t limit, rank;
    int have_limit;
} cut_args;

static int cut_parse(int argc, char **argv, cut_args *a)
{
    enum { OPT_FIT = 256, OPT_LIMIT, OPT_LD, OPT_DEFSYM, OPT_MAP, OPT_RANK, OPT_ROOT, OPT_RULES };
    static const struct option longopts[] = {
        {"to-fit", required_argument, NULL, OPT_FIT}, {"limit", required_argument, NULL, OPT_LIMIT},
        {"ld", required_argument, NULL, OPT_LD}, {"defsym", required_argument, NULL, OPT_DEFSYM},
        {"map", required_argument, NULL, OPT_MAP},
        {"rank", required_argument, NULL, OPT_RANK},
        {"board", required_argument, NULL, 'b'},
        {"root", required_argument, NULL, OPT_ROOT},  {"format", required_argument, NULL, 'f'},
        {"rules-dir", required_argument, NULL, OPT_RULES}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0}};
    a->format = "text";
    a->rank = 10;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:b:o:L:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FIT: a->region = optarg; break;
        case OPT_LIMIT:
            if (cli_parse_size("--limit", optarg, &a->limit) < 0)
                return -1;
            a->have_limit = 1;
            break;
        case OPT_LD: a->ld = optarg; break;
        case 'L':
            if (cli_push_arg("-L", optarg, a->search_dirs, &a->nsearch_dirs, CLI_MAX_LIST_OPTS) < 0)
                return -1;
            break;
        case OPT_DEFSYM:
            if (cli_parse_defsym(optarg, a->defsyms, &a->ndefsyms, CLI_MAX_LIST_OPTS) < 0)
                return -1;
            break;
        case OPT_MAP: a->map = optarg; break;
        case OPT_RANK:
            if (cli_parse_size("--rank", optarg, &a->rank) < 0)
                return -1;
            break;
        case 'b': a->board = optarg; break;
        case 'f': a->format = optarg; break;
        case 'o': a->output = optarg; break;
        case OPT_RULES: a->rules_dir = optarg; break;
        case OPT_ROOT:
            if (cli_push_arg("--root", optarg, a->roots, &a->nroots, FS_REFGRAPH_MAX_ROOT_NAMES) < 0)
                return -1;
            break;
        case 'h': fputs(cut_usage, stdout); return 1;
        default: fputs(cut_usage, stderr); return -1;
        }
    }
    if (cli_check_format(a->format, "text", "json", NULL) < 0)
        return -1;
    if (!a->region) {
        cli_error("cut: --to-fit REGION is required");
        return -1;
    }
    if (optind + 1 != argc) {
        cli_error(optind == argc ? "cut: no firmware ELF given" : "cut: more than one firmware ELF given");
        fputs(cut_usage, stderr);
        return -1;
    }
    a->elf = argv[optind];
    return 0;
}

/* The cut of an analysis (regions: --ld, else --board, else what the ELF
 * says), with its frozen modules and --map objects as candidates too. */
static int cut_write(const cut_args *a, const fs_analysis *an, const fs_refgraph *g, fs_error *err)
{
    const fs_report *rep = &an->rep;
    int r = fs_memmap_find(&rep->map, a->region);
    if (r < 0) {
        char names[512] = "";
        for (size_t i = 0; i < rep->map.nregions; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", rep->map.regions[i].name);
        return fs_fail(err, "%s: no region '%s' (regions: %s)", an->img.path, a->region,
                       rep->map.nregions ? names : "none");
    }
    uint64_t limit = a->have_limit ? a->limit : rep->map.regions[r].length;
    fs_cut_sources src = {an->has_frozen && an->frozen.present ? &an->frozen : NULL, an->has_map ? &an->map : NULL};
    fs_cut cut = {0};
    if (fs_refgraph_cut_from(g, rep, r, limit, &src, &cut, err) < 0)
        return -1;
    int status = FS_EXIT_INPUT;
    char *tmp;
    FILE *out = cli_open_output(a->output, &tmp);
    if (out) {
        int rc = strcmp(a->format, "json") == 0 ? cli_write_json(out, fs_refgraph_cut_json(g, rep, &cut, a->rank))
                                                : fs_refgraph_cut_text(out, g, rep, &cut, a->rank);
        if (cli_close_output(out, a->output, tmp, rc == 0) == 0 && rc == 0)
            status = cut.fits ? FS_EXIT_OK : FS_EXIT_FINDINGS;
    }
    fs_cut_free(&cut);
    return status;
}

int cmd_cut(int argc, char **argv)
{
    cut_args a = {0};
    int parsed = cut_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    fs_error err = {{0}};
    char **soft = NULL;
    size_t nsoft = 0;
    fs_analysis an;
    fs_refgraph g;
    bool have_graph = false;
    int status = FS_EXIT_INPUT;
    char *dir = a.rules_dir ? strdup(a.rules_dir) : fs_rules_dir();
    int rc = fs_refgraph_board_roots(dir, a.board, &soft, &nsoft, &err);
    free(dir);
    memset(&an, 0, sizeof an);
    fs_analysis_opts o = {.elf = a.elf, .rules_dir = a.rules_dir, .board = a.board, .ld = a.ld,
                          .search_dirs = a.search_dirs, .nsearch_dirs = a.nsearch_dirs, .defsyms = a.defsyms,
                          .ndefsyms = a.ndefsyms, .map = a.map};
    if (rc == 0)
        rc = fs_analysis_run(&o, &an, &err);
    if (rc == 0) {
        fs_refgraph_opts ro = {a.roots, a.nroots, (const char *const *)soft, nsoft};
        rc = fs_refgraph_build(&an.img, an.data, an.len, &ro, &g, &err);
        have_graph = rc == 0;
    }
    status = rc == 0 ? cut_write(&a, &an, &g, &err) : -1;
    if (status < 0)
        status = cli_fail(&err);
    if (have_graph)
        fs_refgraph_free(&g);
    fs_analysis_free(&an);
    fs_refgraph_names_free(soft, nsoft);
    return status;
}
