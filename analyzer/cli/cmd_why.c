/*
 * cmd_why.c - `flashsize why FIRMWARE.elf SYMBOL`: the shortest chains of
 * references from a root that keep a symbol in the image (library:
 * refgraph.h; loading shared with cmd_top.c).
 */
#include "cli.h"
#include "parseopt.h"
#include "refgraph.h"

#include <stdlib.h>
#include <string.h>

int cmd_why(int argc, char **argv)
{
    const char *format = "text", *output = NULL, *board = NULL, *rules_dir = NULL;
    const char *roots[FS_REFGRAPH_MAX_ROOT_NAMES];
    size_t nroots = 0, maxpaths = 5;
    const cli_option opts[] = {
        CLI_OPT_SIZE(0, "paths", &maxpaths, "N", "chains to show, one per root (default 5, 0 = all)"),
        CLI_OPT_FORMAT(&format, NULL, "text", "json"),
        CLI_OPT_ROOT(roots, &nroots, "also a root (repeatable)"),
        CLI_OPT_BOARD(&board, "add the roots listed in the rules directory's roots/NAME.txt"),
        CLI_OPT_RULES_DIR(&rules_dir),
        CLI_OPT_OUTPUT(&output, "write to FILE instead of standard output"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "why",
        .synopsis = "flashsize why FIRMWARE.elf SYMBOL [options]",
        .about = "Show why SYMBOL (a name, or an address 0x...) is linked in: the shortest\n"
                 "chain of references from each root that reaches it (entry point, vector\n"
                 "table, named roots), shortest first, with the kind of every reference, and\n"
                 "its retained size and immediate dominator. See docs/refgraph.md.\n",
        .options = opts,
        .epilogue = "Exit status: 0 done, 2 bad input, usage or no such symbol.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    if (first + 2 != argc) {
        cli_error("why: expected a firmware ELF and a symbol");
        cli_usage(&cmd, stderr);
        return FS_EXIT_INPUT;
    }
    fs_image img = {0};
    fs_refgraph g;
    int status = cli_refgraph_open(argv[first], roots, nroots, board, rules_dir, &img, &g);
    if (status != FS_EXIT_OK)
        return status;
    status = FS_EXIT_INPUT;
    const char *name = argv[first + 1];
    uint32_t target = fs_refgraph_find(&g, name);
    fs_refpath *paths = NULL;
    size_t npaths = 0;
    fs_error err = {{0}};
    if (target == FS_REFGRAPH_NONE) {
        cli_error("%s: no function or object '%s' in the image", argv[first], name);
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
