/*
 * cmd_frozen.c - `flashsize frozen FIRMWARE.elf`: what each frozen module
 * costs (library: frozen.h).
 */
#include "cli.h"
#include "parseopt.h"
#include "elfread.h"
#include "frozen.h"

#include <stdlib.h>
#include <string.h>

typedef struct frozen_job {
    const fs_frozen *fz;
    const char *path;
    bool json;
} frozen_job;

static void frozen_emit(fs_jemit *e, const void *ctx)
{
    const frozen_job *j = ctx;
    fs_frozen_emit(j->fz, j->path, e);
}

static int frozen_write(FILE *out, const void *ctx)
{
    const frozen_job *j = ctx;
    return j->json ? cli_write_emitted(out, 0, frozen_emit, j) : fs_frozen_print_text(out, j->fz, j->path);
}

int cmd_frozen(int argc, char **argv)
{
    const char *format = "text", *output = NULL;
    const cli_option opts[] = {
        CLI_OPT_FORMAT(&format, NULL, "text", "json"),
        CLI_OPT_OUTPUT(&output, "write the report to FILE instead of standard output"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "frozen",
        .synopsis = "flashsize frozen FIRMWARE.elf [options]",
        .about = "List every frozen module (mp_frozen_names), .mpy and str, with the bytes each\n"
                 "costs, the parts the modules share (qstr pool, name and pointer tables) and\n"
                 "what nothing reached. See docs/frozen.md.\n",
        .options = opts,
        .epilogue = "Exit status: 0 no error findings, 1 error findings, 2 bad input or usage.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    const char *path = cli_operand_of(&cmd, argv, first, argc, "firmware ELF");
    if (!path)
        return FS_EXIT_INPUT;
    fs_error err = {{0}};
    fs_image img = {0};
    fs_frozen fz = {0};
    if (fs_elf_load(path, &img, &err) < 0 || fs_frozen_analyze_file(&img, &fz, &err) < 0) {
        cli_error("%s", err.msg);
        fs_image_free(&img);
        return FS_EXIT_INPUT;
    }
    frozen_job job = {&fz, path, strcmp(format, "json") == 0};
    /* frozen findings are warnings: written is clean */
    int status = cli_write_output(output, frozen_write, &job) == 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    fs_frozen_free(&fz);
    fs_image_free(&img);
    return status;
}
