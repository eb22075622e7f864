/*
 * cmd_project.c - `flashsize project NAME [--default-branch BRANCH]`: show
 * or set a project's default branch in the size database (docs/store.md):
 * the branch whose newest build is a board's state on the dashboard and
 * the base of pull-request builds.
 */
#include "cli.h"
#include "store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char project_usage[] =
    "usage: flashsize project NAME [--default-branch BRANCH] [--db FILE]\n"
    "\n"
    "Show a project's default branch, or set it with --default-branch (the project is\n"
    "created when it is new, so it can be set before the first build is recorded).\n"
    "A board's state on the dashboard is its newest build of this branch; a build of\n"
    "another branch is compared with its parent commit's build, else with this\n"
    "branch's newest build before it. The default is \"" FS_STORE_DEFAULT_BRANCH "\".\n"
    "\n"
    "      --default-branch B  set the default branch\n"
    "      --db FILE           database (default $FLASHSIZE_DB or ./flashsize.db)\n"
    "\n"
    "Exit status: 0 done, 2 bad usage or a database error.\n";

int cmd_project(int argc, char **argv)
{
    enum { OPT_DB = 256, OPT_BRANCH };
    static const struct option longopts[] = {{"default-branch", required_argument, NULL, OPT_BRANCH},
                                             {"db", required_argument, NULL, OPT_DB},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *db = NULL, *branch = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DB: db = optarg; break;
        case OPT_BRANCH: branch = optarg; break;
        case 'h': fputs(project_usage, stdout); return FS_EXIT_OK;
        default: fputs(project_usage, stderr); return FS_EXIT_INPUT;
        }
    }
    if (optind + 1 != argc) {
        cli_error(optind == argc ? "project: NAME is required" : "project: unexpected argument '%s'",
                  argv[optind + (optind < argc)]);
        fputs(project_usage, stderr);
        return FS_EXIT_INPUT;
    }
    const char *name = argv[optind];
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
