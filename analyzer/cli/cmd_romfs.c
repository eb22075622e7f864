/*
 * cmd_romfs.c - `flashsize romfs IMAGE [options]`: walk a MicroPython ROMFS
 * image, list its files with their bytes and overhead, and weigh it against
 * its partition (from --partition-size, --firmware or --board).
 */
#include "board.h"
#include "cli.h"
#include "parseopt.h"
#include "elfread.h"
#include "ldscript.h"
#include "romfs.h"

#include <stdlib.h>
#include <string.h>

typedef struct romfs_args {
    const char *image, *board, *firmware, *format, *rules_dir, *output;
    uint64_t partition_size;
    double headroom;
} romfs_args;

/* --partition-size N: a size (an ld expression: 0x20000, 128K) up to 1 TiB. */
static int romfs_opt_partition(const cli_option *o, char *arg)
{
    char why[256];
    uint64_t v;
    if (fs_expr_eval(arg, NULL, NULL, &v, why, sizeof why) < 0) {
        cli_error("--partition-size: '%s': %s", arg, why);
        return -1;
    }
    if (v == 0 || v > (1ull << 40)) {
        cli_error("--partition-size: '%s' is not a size between 1 byte and 1 TiB", arg);
        return -1;
    }
    *(uint64_t *)o->value = v;
    return 0;
}

static int romfs_parse_args(int argc, char **argv, romfs_args *a)
{
    const cli_option opts[] = {
        CLI_OPT_BOARD(&a->board, "board layout with a [romfs] partition (or a path to a .ini)"),
        CLI_OPT_STRING(0, "firmware", &a->firmware, "ELF",
                       "firmware whose _micropy_hw_romfs_part0_start/_size give the\n"
                       "partition and whose machine gives the .mpy architecture"),
        CLI_OPT_CALLBACK(0, "partition-size", &a->partition_size, romfs_opt_partition, "N",
                         "partition size in bytes (overrides --firmware and --board)"),
        CLI_OPT_DOUBLE(0, "headroom", &a->headroom, "PCT", 1, 100, "warn when the image fills at least PCT% (default 90)"),
        CLI_OPT_FORMAT(&a->format, NULL, "text", "json"),
        CLI_OPT_RULES_DIR(&a->rules_dir),
        CLI_OPT_OUTPUT(&a->output, "write the report to FILE instead of standard output"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "romfs",
        .synopsis = "flashsize romfs IMAGE [options]",
        .about = "Walk a MicroPython ROMFS image (vfs.VfsRom, built by `mpremote romfs build`): every\n"
                 "file and directory with its bytes and on-image overhead, .mpy files with their\n"
                 "architecture, totals that add up to the image size, and free space in the partition.\n",
        .options = opts,
        .epilogue = "Exit status: 0 no error findings, 1 error findings, 2 bad input or usage.\n",
    };
    a->format = "text";
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (!(a->image = cli_operand_of(&cmd, argv, first, argc, "image")))
        return -1;
    return 0;
}

typedef struct romfs_job {
    const char *format;
    const fs_romfs *img;
    const fs_romfs_occupancy *occ;
    const fs_report *rep;
} romfs_job;

static int romfs_write(FILE *out, const void *ctx)
{
    const romfs_job *j = ctx;
    return strcmp(j->format, "json") == 0 ? fs_romfs_output_json(out, j->img, j->occ, j->rep)
                                          : fs_romfs_output_text(out, j->img, j->occ, j->rep);
}

int cmd_romfs(int argc, char **argv)
{
    romfs_args a = {0};
    int parsed = romfs_parse_args(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;

    int status = FS_EXIT_INPUT;
    fs_error err = {{0}};
    fs_romfs img = {0};
    fs_image fw = {0};
    fs_board board = {0};
    fs_report rep = {0};
    fs_romfs_occupancy occ;
    bool have_board = false;
    char *rules_dir = a.rules_dir ? strdup(a.rules_dir) : fs_rules_dir();

    if (a.board) {
        if (fs_board_load(rules_dir, a.board, &board, &err) < 0)
            goto fail;
        have_board = true;
    }
    if (a.firmware && fs_elf_load(a.firmware, &fw, &err) < 0)
        goto fail;
    if (fs_romfs_load(a.image, &img, &err) < 0)
        goto fail;
    if (fs_romfs_analyze(&img, a.firmware ? &fw : NULL, have_board ? &board : NULL, a.partition_size, a.headroom,
                         &occ, &rep, &err) < 0)
        goto fail;

    romfs_job job = {a.format, &img, &occ, &rep};
    if (cli_write_output(a.output, romfs_write, &job) < 0)
        goto done;
    status = fs_report_worst(&rep) == FS_SEV_ERROR ? FS_EXIT_FINDINGS : FS_EXIT_OK;
    goto done;
fail:
    status = cli_fail(&err);
done:
    fs_report_free(&rep);
    fs_romfs_free(&img);
    fs_image_free(&fw);
    if (have_board)
        fs_board_free(&board);
    free(rules_dir);
    return status;
}
