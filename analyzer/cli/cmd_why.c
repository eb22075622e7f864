/*
 * cmd_why.c - `flashsize why FIRMWARE.elf SYMBOL`: the shortest chains of
 * references from a root that keep a symbol in the image (library:
 * refgraph.h; loading shared with cmd_top.c).
 */
#include "cli.h"
#include "refgraph.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char why_usage[] =
    "usage: flashsize why FIRMWARE.elf SYMBOL [options]\n"
    "\n"
    "Show why SYMBOL (a name, or an address 0x...) is linked in: the shortest\n"
    "chain of references from each root that reaches it (entry point, vector\n"
    "table, named roots), shortest first, with the kind of every reference, and\n"
    "its retained size and immediate dominator. See docs/refgraph.md.\n"
    "\n"
    "      --paths N        chains to show, one per root (default 5, 0 = all)\n"
    "  -f, --format FMT     text (default) or json\n"
    "      --root NAME      also a root (repeatable)\n"
    "  -b, --board NAME     add the roots listed in the rules directory's roots/NAME.txt\n"
    "      --rules-dir DIR  rules directory (default $FLASHSIZE_RULES or the installed one)\n"
    "  -o, --output FILE    write to FILE instead of standard output\n"
    "\n"
    "Exit status: 0 done, 2 bad input, usage or no such symbol.\n";

int cmd_why(int argc, char **argv)
{
    enum { OPT_PATHS = 256, OPT_ROOT, OPT_RULES };
    static const struct option longopts[] = {
        {"paths", required_argument, NULL, OPT_PATHS}, {"format", required_argument, NULL, 'f'},
        {"root", required_argument, NULL, OPT_ROOT},   {"board", required_argument, NULL, 'b'},
        {"rules-dir", required_argument, NULL, OPT_RULES}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},              {NULL, 0, NULL, 0}};
    const char *format = "text", *output = NULL, *board = NULL, *rules_dir = NULL;
    const char *roots[FS_REFGRAPH_MAX_ROOT_NAMES];
    size_t nroots = 0, maxpaths = 5;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:b:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_PATHS:
            if (cli_parse_size("--paths", optarg, &maxpaths) < 0)
                return FS_EXIT_INPUT;
            break;
        case 'f': format = optarg; break;
        case 'b': board = optarg; break;
        case 'o': output = optarg; break;
        case OPT_RULES: rules_dir = optarg; break;
        case OPT_ROOT:
            if (cli_push_arg("--root", optarg, roots, &nroots, FS_REFGRAPH_MAX_ROOT_NAMES) < 0)
                return FS_EXIT_INPUT;
            break;
        case 'h': fputs(why_usage, stdout); return FS_EXIT_OK;
        default: fputs(why_usage, stderr); return FS_EXIT_INPUT;
        }
    }
    if (cli_check_format(format, "text", "json", NULL) < 0)
        return FS_EXIT_INPUT;
    if (optind + 2 != argc) {
        cli_error("why: expected a firmware ELF and a symbol");
        fputs(why_usage, stderr);
        return FS_EXIT_INPUT;
    }
    fs_image img = {0};
    fs_refgraph g;
    int status = cli_refgraph_open(argv[optind], roots, nroots, board, rules_dir, &img, &g);
    if (status != FS_EXIT_OK)
        return status;
    status = FS_EXIT_INPUT;
    const char *name = argv[optind + 1];
    uint32_t target = fs_refgraph_find(&g, name);
    fs_refpath *paths = NULL;
    size_t npaths = 0;
    fs_error err = {{0}};
    if (target == FS_REFGRAPH_NONE) {
        cli_error("%s: no function or object '%s' in the image", argv[optind], name);
    } else if (fs_refgraph_paths(&g, target, maxpaths, &paths, &npaths, &err) < 0) {
        cli_error("%s", err.msg);
    } else {
        char *tmp;
        FILE *out = cli_open_output(output, &tmp);
        if (out) {
            int rc = strcmp(format, "json") == 0 ? cli_write_json(out, fs_refgraph_why_json(&g, target, paths, npaths))
                                                 : fs_refgraph_why_text(out, &g, target, paths, npaths);
            if (cli_close_output(out, output, tmp, rc == 0) == 0 && rc == 0)
                status = FS_EXIT_OK;
        }
    }
    fs_refpaths_free(paths, npaths);
    fs_refgraph_free(&g);
    fs_image_free(&img);
    return status;
}
