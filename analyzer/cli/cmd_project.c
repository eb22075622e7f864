/*
 * cmd_project.c - `flashsize project NAME [--default-branch BRANCH]`: show
 * or set a project's default branch in the size database (docs/store.md):
 * the branch whose newest build is a board's state on the dashboard and
 * the base of pull-request builds.
 */
#include "cli.h"
#include "parseopt.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

int cmd_project(int argc, char **argv)
{
    const char *db = NULL, *branch = NULL;
    const cli_option opts[] = {
        CLI_OPT_STRING(0, "default-branch", &branch, "B", "set the default branch"),
        CLI_OPT_DB(&db, "file or postgresql:// URI (default $FLASHSIZE_DB or ./flashsize.db)"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "project",
        .synopsis = "flashsize project NAME [--default-branch BRANCH] [--db DB]",
        .about = "Show a project's default branch, or set it with --default-branch (the project is\n"
                 "created when it is new, so it can be set before the first build is recorded).\n"
                 "A board's state on the dashboard is its newest build of this branch; a build of\n"
                 "another branch is compared with its parent commit's build, else with this\n"
                 "branch's newest build before it. The default is \"" FS_STORE_DEFAULT_BRANCH "\".\n",
        .options = opts,
        .epilogue = "Exit status: 0 done, 2 bad usage or a database error.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    const char *name = cli_operand_of(&cmd, argv, first, argc, "project NAME");
    if (!name)
        return FS_EXIT_INPUT;
    if (!*name || (branch && (!*branch || strlen(branch) > 256))) {
        cli_error(!*name ? "project: NAME must not be empty" : "--default-branch: must be 1 to 256 bytes");
        return FS_EXIT_INPUT;
    }
    fs_error err = {{0}};
    fs_store *s;
    fs_store_opts so = {.readonly = branch == NULL};
    if (fs_store_open(fs_store_path(db), &so, &s, &err) < 0)
        return cli_fail(&err);
    char cur[300];
    int rc = branch ? fs_store_set_default_branch(s, name, branch, &err)
                    : fs_store_default_branch(s, name, cur, sizeof cur, &err);
    fs_store_close(s);
    if (rc < 0)
        return cli_fail(&err);
    printf("%s: default branch %s\n", name, branch ? branch : cur);
    return FS_EXIT_OK;
}
