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
#include "parseopt.h"
#include "refgraph.h"

#include <stdlib.h>
#include <string.h>

typedef struct cut_args {
    const char *elf, *region, *ld, *map, *board, *rules_dir, *format, *output;
    const char *roots[FS_REFGRAPH_MAX_ROOT_NAMES];
    size_t nroots;
    const char *search_dirs[CLI_MAX_LIST_OPTS];
    size_t nsearch_dirs;
    fs_ldsym defsyms[CLI_MAX_LIST_OPTS];
    size_t ndefsyms;
    size_t limit, rank;
    bool have_limit;
} cut_args;

static int cut_parse(int argc, char **argv, cut_args *a)
{
    a->format = "text";
    a->rank = 10;
    const cli_option opts[] = {
        CLI_OPT_STRING(0, "to-fit", &a->region, "REGION", "the memory region to fit (required)"),
        {.kind = CLI_SIZE, .long_name = "limit", .value = &a->limit, .arg = "BYTES", .given = &a->have_limit,
         .help = "budget for the region instead of its length"},
        CLI_OPT_LD(&a->ld),
        CLI_OPT_SEARCH_DIRS(a->search_dirs, &a->nsearch_dirs, CLI_MAX_LIST_OPTS),
        CLI_OPT_DEFSYM(a->defsyms, &a->ndefsyms, CLI_MAX_LIST_OPTS),
        CLI_OPT_STRING(0, "map", &a->map, "FILE", "ld map file of the same link: object files become candidates"),
        CLI_OPT_SIZE(0, "rank", &a->rank, "N", "also list the N largest candidates of every kind (default 10, 0 = all)"),
        CLI_OPT_BOARD(&a->board, "board layout (and its roots/NAME.txt) from the rules directory"),
        CLI_OPT_ROOT(a->roots, &a->nroots, "also a root (repeatable)"),
        CLI_OPT_FORMAT(&a->format, NULL, "text", "json"),
        CLI_OPT_RULES_DIR(&a->rules_dir),
        CLI_OPT_OUTPUT(&a->output, "write to FILE instead of standard output"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "cut",
        .synopsis = "flashsize cut FIRMWARE.elf --to-fit REGION [options]",
        .about = "Propose symbols, frozen modules and (with --map) object files to remove so\n"
                 "that REGION gets under its limit (its length, or --limit): each saves its\n"
                 "retained bytes in the region, everything only it keeps. Never a root, never\n"
                 "one proposal inside another's retained set.\n"
                 "Regions come from --ld, else --board, else the ELF. See docs/refgraph.md.\n",
        .options = opts,
        .epilogue = "Exit status: 0 fits (already, or after the proposed removals), 1 no proposal\n"
                    "fits, 2 bad input or usage.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (!a->region) {
        cli_error("cut: --to-fit REGION is required");
        return -1;
    }
    if (!(a->elf = cli_operand_of(&cmd, argv, first, argc, "firmware ELF")))
        return -1;
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
