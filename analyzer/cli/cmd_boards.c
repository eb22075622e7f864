/*
 * cmd_boards.c - `flashsize boards`: list the board layouts.
 */
#include "board.h"
#include "cli.h"
#include "parseopt.h"

#include <stdlib.h>
#include <string.h>

int cmd_boards(int argc, char **argv)
{
    const char *dir_opt = NULL;
    const cli_option opts[] = {CLI_OPT_RULES_DIR(&dir_opt), CLI_OPT_END};
    const cli_command cmd = {
        .name = "boards",
        .synopsis = "flashsize boards [--rules-dir DIR]",
        .about = "List the boards of the rules directory with their chip, regions and description.\n",
        .options = opts,
        .epilogue = "Exit status: 0 listed, 2 bad usage or a board that cannot be read.\n",
        .plain_errors = true,
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    if (first < argc) {
        cli_error("boards: unknown argument '%s'", argv[first]);
        return FS_EXIT_INPUT;
    }
    char *dir = dir_opt ? strdup(dir_opt) : fs_rules_dir();
    if (!dir) {
        cli_error("boards: no rules directory found (set FLASHSIZE_RULES or use --rules-dir)");
        return FS_EXIT_INPUT;
    }
    fs_error err;
    char **names;
    size_t n;
    int status = FS_EXIT_OK;
    if (fs_board_list(dir, &names, &n, &err) < 0) {
        cli_error("%s", err.msg);
        free(dir);
        return FS_EXIT_INPUT;
    }
    for (size_t i = 0; i < n; i++) {
        fs_board b;
        if (fs_board_load(dir, names[i], &b, &err) < 0) {
            cli_error("%s", err.msg);
            status = FS_EXIT_INPUT;
        } else {
            printf("%-20s %-8s %2zu regions  %s\n", b.name, fs_chip_name(b.chip), b.map.nregions,
                   b.description ? b.description : "");
            fs_board_free(&b);
        }
        free(names[i]);
    }
    free(names);
    free(dir);
    return status;
}
