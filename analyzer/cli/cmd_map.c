/*
 * cmd_map.c - `flashsize map FIRMWARE.map [options]`: what fills each region,
 * read from a GNU ld map file alone (docs/mapfile.md).  Works for a failed
 * link, which leaves no usable ELF but still writes the map.
 */
#include "cli.h"
#include "parseopt.h"
#include "mapfile.h"

#include <stdlib.h>
#include <string.h>

typedef struct map_args {
    const char *path, *format, *output;
    size_t top;
} map_args;

static int map_parse_args(int argc, char **argv, map_args *a)
{
    const cli_option opts[] = {
        CLI_OPT_FORMAT(&a->format, NULL, "text", "json"),
        CLI_OPT_TOP(&a->top, "rows per table (text default 10; json default all)"),
        CLI_OPT_OUTPUT(&a->output, "write the report to FILE instead of standard output"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "map",
        .synopsis = "flashsize map FIRMWARE.map [options]",
        .about = "Break a GNU ld map file (ld -Map=FILE) down by memory region, output section,\n"
                 "archive and object file, and report regions that overflowed with the numbers\n"
                 "ld computed and their largest contributors.  No ELF is needed.\n",
        .options = opts,
        .epilogue = "Exit status: 0 no region overflowed, 1 a region overflowed, 2 bad input or usage.\n",
    };
    a->format = "text";
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (!(a->path = cli_operand_of(&cmd, argv, first, argc, "map file")))
        return -1;
    return 0;
}

typedef struct map_job {
    const map_args *a;
    const fs_mapfile *m;
} map_job;

static void map_emit(fs_jemit *e, const void *ctx)
{
    const map_job *j = ctx;
    fs_mapfile_emit(j->m, j->a->top, e);
}

static int map_write(FILE *out, const void *ctx)
{
    const map_job *j = ctx;
    int rc = strcmp(j->a->format, "json") == 0 ? cli_write_emitted(out, 10, map_emit, j)
                                                : fs_mapfile_print(out, j->m, j->a->top);
    if (rc < 0)
        cli_error("%s: cannot write the report", j->a->output ? j->a->output : "standard output");
    return rc;
}

int cmd_map(int argc, char **argv)
{
    map_args a = {0};
    int parsed = map_parse_args(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;

    fs_error err = {{0}};
    fs_mapfile m;
    if (fs_mapfile_load(a.path, &m, &err) < 0) {
        return cli_fail(&err);
    }
    int status = FS_EXIT_INPUT;
    map_job job = {&a, &m};
    if (cli_write_output(a.output, map_write, &job) == 0)
        status = fs_mapfile_overflowed(&m) ? FS_EXIT_FINDINGS : FS_EXIT_OK;
    fs_mapfile_free(&m);
    return status;
}
