/*
 * cmd_top.c - `flashsize top FIRMWARE.elf --retained`: symbols by retained
 * (dominated) size (library: refgraph.h).
 */
#include "board.h"
#include "cli.h"
#include "parseopt.h"
#include "elfread.h"
#include "refgraph.h"

#include <stdlib.h>
#include <string.h>

int cmd_top(int argc, char **argv)
{
    const char *format = "text", *output = NULL, *board = NULL, *rules_dir = NULL;
    const char *roots[FS_REFGRAPH_MAX_ROOT_NAMES];
    size_t nroots = 0, top = 0;
    bool have_top = false;
    bool retained = false;
    const cli_option opts[] = {
        CLI_OPT_FLAG(0, "retained", &retained, "order by retained size (the default, and only, order)"),
        {.kind = CLI_SIZE, .long_name = "top", .value = &top, .arg = "N", .given = &have_top,
         .help = "symbols to list (text: 20; json: all; 0 = all)"},
        CLI_OPT_FORMAT(&format, NULL, "text", "json"),
        CLI_OPT_ROOT(roots, &nroots, "also a root: a symbol kept for reasons outside the image (repeatable)"),
        CLI_OPT_BOARD(&board, "add the roots listed in the rules directory's roots/NAME.txt"),
        CLI_OPT_RULES_DIR(&rules_dir),
        CLI_OPT_OUTPUT(&output, "write to FILE instead of standard output"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "top",
        .synopsis = "flashsize top FIRMWARE.elf --retained [options]",
        .about = "List symbols by retained size: their own bytes plus every byte only they\n"
                 "keep in the image (the dominator tree of the reference graph from the entry\n"
                 "point, vector tables and named roots). See docs/refgraph.md.\n",
        .options = opts,
        .epilogue = "Exit status: 0 done, 2 bad input or usage.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    const char *elf = cli_operand_of(&cmd, argv, first, argc, "firmware ELF");
    if (!elf)
        return FS_EXIT_INPUT;
    fs_image img = {0};
    fs_refgraph g;
    int status = cli_refgraph_open(elf, roots, nroots, board, rules_dir, &img, &g);
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
