/*
 * cmd_map.c - `flashsize map FIRMWARE.map [options]`: what fills each region,
 * read from a GNU ld map file alone (docs/mapfile.md).  Works for a failed
 * link, which leaves no usable ELF but still writes the map.
 */
#include "cli.h"
#include "mapfile.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char map_usage[] =
    "usage: flashsize map FIRMWARE.map [options]\n"
    "\n"
    "Break a GNU ld map file (ld -Map=FILE) down by memory region, output section,\n"
    "archive and object file, and report regions that overflowed with the numbers\n"
    "ld computed and their largest contributors.  No ELF is needed.\n"
    "\n"
    "  -f, --format FMT   text (default) or json\n"
    "      --top N        rows per table (text default 10; json default all)\n"
    "  -o, --output FILE  write the report to FILE instead of standard output\n"
    "\n"
    "Exit status: 0 no region overflowed, 1 a region overflowed, 2 bad input or usage.\n";

typedef struct map_args {
    const char *path, *format, *output;
    size_t top;
} map_args;

static int map_parse_args(int argc, char **argv, map_args *a)
{
    enum { OPT_TOP = 256 };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {"top", required_argument, NULL, OPT_TOP},
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    a->format = "text";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': a->format = optarg; break;
        case 'o': a->output = optarg; break;
        case OPT_TOP:
            if (cli_parse_size("--top", optarg, &a->top) < 0)
                return -1;
            break;
        case 'h': fputs(map_usage, stdout); return 1;
        default: fputs(map_usage, stderr); return -1;
        }
    }
    if (cli_check_format(a->format, "text", "json", (char *)NULL) < 0)
        return -1;
    if (!(a->path = cli_operand(argv, optind, argc, "map", "map file", map_usage)))
        return -1;
    return 0;
}

typedef struct map_job {
    const map_args *a;
    const fs_mapfile *m;
} map_job;

static int map_write(FILE *out, const void *ctx)
{
    const map_job *j = ctx;
    int rc = strcmp(j->a->format, "json") == 0
                 ? cli_write_json_with(out, fs_mapfile_json(j->m, j->a->top), 10)
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
