/*
 * cmd_frozen.c - `flashsize frozen FIRMWARE.elf`: what each frozen module
 * costs (library: frozen.h).
 */
#include "cli.h"
#include "elfread.h"
#include "frozen.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char frozen_usage[] =
    "usage: flashsize frozen FIRMWARE.elf [options]\n"
    "\n"
    "List every frozen module (mp_frozen_names), .mpy and str, with the bytes each\n"
    "costs, the parts the modules share (qstr pool, name and pointer tables) and\n"
    "what nothing reached. See docs/frozen.md.\n"
    "\n"
    "  -f, --format FMT     text (default) or json\n"
    "  -o, --output FILE    write the report to FILE instead of standard output\n"
    "\n"
    "Exit status: 0 no error findings, 1 error findings, 2 bad input or usage.\n";

int cmd_frozen(int argc, char **argv)
{
    static const struct option longopts[] = {{"format", required_argument, NULL, 'f'},
                                              {"output", required_argument, NULL, 'o'},
                                              {"help", no_argument, NULL, 'h'},
                                              {NULL, 0, NULL, 0}};
    const char *format = "text", *output = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'h': fputs(frozen_usage, stdout); return FS_EXIT_OK;
        default: fputs(frozen_usage, stderr); return FS_EXIT_INPUT;
        }
    }
    if (strcmp(format, "text") && strcmp(format, "json")) {
        cli_error("--format: unknown format '%s' (text or json)", format);
        return FS_EXIT_INPUT;
    }
    if (optind + 1 != argc) {
        cli_error(optind == argc ? "frozen: no firmware ELF given" : "frozen: more than one firmware ELF given");
        fputs(frozen_usage, stderr);
        return FS_EXIT_INPUT;
    }
    const char *path = argv[optind];
    fs_error err = {{0}};
    fs_image img = {0};
    fs_frozen fz = {0};
    if (fs_elf_load(path, &img, &err) < 0 || fs_frozen_analyze_file(&img, &fz, &err) < 0) {
        cli_error("%s", err.msg);
        fs_image_free(&img);
        return FS_EXIT_INPUT;
    }
    int status = FS_EXIT_INPUT;
    char *tmp;
    FILE *out = cli_open_output(output, &tmp);
    if (out) {
        int rc = 0;
        if (strcmp(format, "json") == 0) {
            json_t *j = fs_frozen_json(&fz, path);
            rc = j && json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 && fputc('\n', out) != EOF ? 0 : -1;
            json_decref(j);
        } else {
            rc = fs_frozen_print_text(out, &fz, path);
        }
        if (cli_close_output(out, output, tmp, rc == 0) == 0 && rc == 0)
            status = FS_EXIT_OK; /* frozen findings are warnings */
    }
    fs_frozen_free(&fz);
    fs_image_free(&img);
    return status;
}
