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
    if (strcmp(a->format, "text") && strcmp(a->format, "json")) {
        cli_error("--format: unknown format '%s' (text or json)", a->format);
        return -1;
    }
    if (optind + 1 != argc) {
        cli_error(optind == argc ? "map: no map file given" : "map: more than one map file given");
        fputs(map_usage, stderr);
        return -1;
    }
    a->path = argv[optind];
    return 0;
}

static int map_write_json(FILE *out, const fs_mapfile *m, size_t top)
{
    json_t *doc = fs_mapfile_json(m, top);
    if (!doc)
        return -1;
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (!text)
        return -1;
    int rc = fputs(text, out) < 0 || fputc('\n', out) == EOF ? -1 : 0;
    free(text);
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
        cli_error("%s", err.msg);
        return FS_EXIT_INPUT;
    }
    int status = FS_EXIT_INPUT;
    char *tmp;
    FILE *out = cli_open_output(a.output, &tmp);
    if (out) {
        int rc = strcmp(a.format, "json") == 0 ? map_write_json(out, &m, a.top) : fs_mapfile_print(out, &m, a.top);
        if (rc < 0)
            cli_error("%s: cannot write the report", a.output ? a.output : "standard output");
        if (cli_close_output(out, a.output, tmp, rc == 0) == 0 && rc == 0)
            status = fs_mapfile_overflowed(&m) ? FS_EXIT_FINDINGS : FS_EXIT_OK;
    }
    fs_mapfile_free(&m);
    return status;
}
