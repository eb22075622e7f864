/*
 * cmd_cut.c - `flashsize cut FIRMWARE.elf --to-fit REGION`: which symbols,
 * frozen modules and (with --map) object files to remove, by retained size,
 * to bring a region under its limit (library: refgraph.h
 * fs_refgraph_cut_from; regions from analyze.h, modules from frozen.h,
 * objects from mapfile.h).
 */
#include "analyze.h"
#include "board.h"
#include "cli.h"
#include "frozen.h"
#include "ldscript.h"
#include "mapfile.h"
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
    size_t limit, rank;
    int have_limit;
} cut_args;

static int cut_parse(int argc, char **argv, cut_args *a)
{
    enum { OPT_FIT = 256, OPT_LIMIT, OPT_LD, OPT_MAP, OPT_RANK, OPT_ROOT, OPT_RULES };
    static const struct option longopts[] = {
        {"to-fit", required_argument, NULL, OPT_FIT}, {"limit", required_argument, NULL, OPT_LIMIT},
        {"ld", required_argument, NULL, OPT_LD}, {"map", required_argument, NULL, OPT_MAP},
        {"rank", required_argument, NULL, OPT_RANK},
        {"board", required_argument, NULL, 'b'},
        {"root", required_argument, NULL, OPT_ROOT},  {"format", required_argument, NULL, 'f'},
        {"rules-dir", required_argument, NULL, OPT_RULES}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},             {NULL, 0, NULL, 0}};
    a->format = "text";
    a->rank = 10;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:b:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_FIT: a->region = optarg; break;
        case OPT_LIMIT:
            if (cli_parse_size("--limit", optarg, &a->limit) < 0)
                return -1;
            a->have_limit = 1;
            break;
        case OPT_LD: a->ld = optarg; break;
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

/* The optional candidate sources: the image's frozen modules (when it has
 * frozen content) and the objects of --map. */
static int cut_sources(const cut_args *a, const fs_image *img, fs_frozen *fz, fs_mapfile *map, fs_cut_sources *src,
                       fs_error *err)
{
    if (img->has_symtab) {
        if (fs_frozen_analyze_file(img, fz, err) < 0)
            return -1;
        if (fz->present)
            src->frozen = fz;
    }
    if (a->map) {
        if (fs_mapfile_load(a->map, map, err) < 0)
            return -1;
        src->map = map;
    }
    return 0;
}

/* Regions: --ld, else --board, else what fs_analyze infers; then the cut. */
static int cut_run(const cut_args *a, fs_image *img, const fs_refgraph *g, FILE **outp)
{
    fs_error err = {{0}};
    fs_board board = {0};
    fs_memmap ld = {0};
    fs_report rep = {0};
    fs_cut cut = {0};
    fs_frozen fz = {0};
    fs_mapfile map = {0};
    fs_cut_sources src = {NULL, NULL};
    int have_board = 0, have_rep = 0, status = FS_EXIT_INPUT;
    char *rules = a->rules_dir ? strdup(a->rules_dir) : fs_rules_dir();
    if (a->board && fs_board_load(rules, a->board, &board, &err) < 0)
        goto fail;
    have_board = a->board != NULL;
    if (a->ld && fs_ldscript_load(a->ld, NULL, &ld, &err) < 0)
        goto fail;
    if (cut_sources(a, img, &fz, &map, &src, &err) < 0)
        goto fail;
    fs_analyze_opts ao = {a->ld ? &ld : NULL, a->ld, have_board ? &board : NULL, 0};
    if (fs_analyze(img, &ao, &rep, &err) < 0)
        goto fail;
    have_rep = 1;
    int r = fs_memmap_find(&rep.map, a->region);
    if (r < 0) {
        char names[512] = "";
        for (size_t i = 0; i < rep.map.nregions; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", rep.map.regions[i].name);
        fs_fail(&err, "%s: no region '%s' (regions: %s)", img->path, a->region, rep.map.nregions ? names : "none");
        goto fail;
    }
    uint64_t limit = a->have_limit ? a->limit : rep.map.regions[r].length;
    if (fs_refgraph_cut_from(g, &rep, r, limit, &src, &cut, &err) < 0)
        goto fail;
    char *tmp;
    *outp = cli_open_output(a->output, &tmp);
    if (*outp) {
        int rc = strcmp(a->format, "json") == 0 ? cli_write_json(*outp, fs_refgraph_cut_json(g, &rep, &cut, a->rank))
                                                : fs_refgraph_cut_text(*outp, g, &rep, &cut, a->rank);
        if (cli_close_output(*outp, a->output, tmp, rc == 0) == 0 && rc == 0)
            status = cut.fits ? FS_EXIT_OK : FS_EXIT_FINDINGS;
    }
    goto done;
fail:
    cli_error("%s", err.msg);
done:
    fs_cut_free(&cut);
    fs_frozen_free(&fz);
    fs_mapfile_free(&map);
    if (have_rep)
        fs_report_free(&rep);
    if (have_board)
        fs_board_free(&board);
    fs_memmap_free(&ld);
    free(rules);
    return status;
}

int cmd_cut(int argc, char **argv)
{
    cut_args a = {0};
    int parsed = cut_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    fs_image img = {0};
    fs_refgraph g;
    int status = cli_refgraph_open(a.elf, a.roots, a.nroots, a.board, a.rules_dir, &img, &g);
    if (status != FS_EXIT_OK)
        return status;
    FILE *out = NULL;
    status = cut_run(&a, &img, &g, &out);
    fs_refgraph_free(&g);
    fs_image_free(&img);
    return status;
}
