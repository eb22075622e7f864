/*
 * cmd_top.c - `flashsize top FIRMWARE.elf --retained`: symbols by retained
 * (dominated) size (library: refgraph.h).
 */
#include "board.h"
#include "cli.h"
#include "elfread.h"
#include "refgraph.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char top_usage[] =
    "usage: flashsize top FIRMWARE.elf --retained [options]\n"
    "\n"
    "List symbols by retained size: their own bytes plus every byte only they\n"
    "keep in the image (the dominator tree of the reference graph from the entry\n"
    "point, vector tables and named roots). See docs/refgraph.md.\n"
    "\n"
    "      --retained       order by retained size (the default, and only, order)\n"
    "      --top N          symbols to list (text: 20; json: all; 0 = all)\n"
    "  -f, --format FMT     text (default) or json\n"
    "      --root NAME      also a root: a symbol kept for reasons outside the image (repeatable)\n"
    "  -b, --board NAME     add the roots listed in the rules directory's roots/NAME.txt\n"
    "      --rules-dir DIR  rules directory (default $FLASHSIZE_RULES or the installed one)\n"
    "  -o, --output FILE    write to FILE instead of standard output\n"
    "\n"
    "Exit status: 0 done, 2 bad input or usage.\n";

int cmd_top(int argc, char **argv)
{
    enum { OPT_RETAINED = 256, OPT_TOP, OPT_ROOT, OPT_RULES };
    static const struct option longopts[] = {
        {"retained", no_argument, NULL, OPT_RETAINED}, {"top", required_argument, NULL, OPT_TOP},
        {"format", required_argument, NULL, 'f'},      {"root", required_argument, NULL, OPT_ROOT},
        {"board", required_argument, NULL, 'b'},       {"rules-dir", required_argument, NULL, OPT_RULES},
        {"output", required_argument, NULL, 'o'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *format = "text", *output = NULL, *board = NULL, *rules_dir = NULL;
    const char *roots[FS_REFGRAPH_MAX_ROOT_NAMES];
    size_t nroots = 0, top = 0;
    int have_top = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:b:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_RETAINED: break;
        case OPT_TOP:
            if (cli_parse_size("--top", optarg, &top) < 0)
                return FS_EXIT_INPUT;
            have_top = 1;
            break;
        case 'f': format = optarg; break;
        case 'b': board = optarg; break;
        case 'o': output = optarg; break;
        case OPT_RULES: rules_dir = optarg; break;
        case OPT_ROOT:
            if (cli_push_arg("--root", optarg, roots, &nroots, FS_REFGRAPH_MAX_ROOT_NAMES) < 0)
                return FS_EXIT_INPUT;
            break;
        case 'h': fputs(top_usage, stdout); return FS_EXIT_OK;
        default: fputs(top_usage, stderr); return FS_EXIT_INPUT;
        }
    }
    if (cli_check_format(format, "text", "json", NULL) < 0)
        return FS_EXIT_INPUT;
    if (optind + 1 != argc) {
        cli_error(optind == argc ? "top: no firmware ELF given" : "top: more than one firmware ELF given");
        fputs(top_usage, stderr);
        return FS_EXIT_INPUT;
    }
    fs_image img = {0};
    fs_refgraph g;
    int status = cli_refgraph_open(argv[optind], roots, nroots, board, rules_dir, &img, &g);
    if (status != FS_EXIT_OK)
        return status;
    char *tmp;
    FILE *out = cli_open_output(output, &tmp);
    status = FS_EXIT_INPUT;
    if (out) {
        int rc = strcmp(format, "json") == 0 ? cli_write_json(out, fs_refgraph_top_json(&g, top))
                                             : fs_refgraph_top_text(out, &g, have_top ? top : 20);
        if (cli_close_output(out, output, tmp, rc == 0) == 0 && rc == 0)
            status = FS_EXIT_OK;
    }
    fs_refgraph_free(&g);
    fs_image_free(&img);
    return status;
}
