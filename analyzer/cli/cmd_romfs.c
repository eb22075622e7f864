/*
 * cmd_romfs.c - `flashsize romfs IMAGE [options]`: walk a MicroPython ROMFS
 * image, list its files with their bytes and overhead, and weigh it against
 * its partition (from --partition-size, --firmware or --board).
 */
#include "board.h"
#include "cli.h"
#include "elfread.h"
#include "ldscript.h"
#include "romfs.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char romfs_usage[] =
    "usage: flashsize romfs IMAGE [options]\n"
    "\n"
    "Walk a MicroPython ROMFS image (vfs.VfsRom, built by `mpremote romfs build`): every\n"
    "file and directory with its bytes and on-image overhead, .mpy files with their\n"
    "architecture, totals that add up to the image size, and free space in the partition.\n"
    "\n"
    "  -b, --board NAME          board layout with a [romfs] partition (or a path to a .ini)\n"
    "      --firmware ELF        firmware whose _micropy_hw_romfs_part0_start/_size give the\n"
    "                            partition and whose machine gives the .mpy architecture\n"
    "      --partition-size N    partition size in bytes (overrides --firmware and --board)\n"
    "      --headroom PCT        warn when the image fills at least PCT%% (default 90)\n"
    "  -f, --format FMT          text (default) or json\n"
    "      --rules-dir DIR       rules directory (default $FLASHSIZE_RULES or the installed one)\n"
    "  -o, --output FILE         write the report to FILE instead of standard output\n"
    "\n"
    "Exit status: 0 no error findings, 1 error findings, 2 bad input or usage.\n";

typedef struct romfs_args {
    const char *image, *board, *firmware, *format, *rules_dir, *output;
    uint64_t partition_size;
    double headroom;
} romfs_args;

static int romfs_parse_args(int argc, char **argv, romfs_args *a)
{
    enum { OPT_FIRMWARE = 256, OPT_PART, OPT_HEADROOM, OPT_RULES };
    static const struct option longopts[] = {
        {"board", required_argument, NULL, 'b'},         {"firmware", required_argument, NULL, OPT_FIRMWARE},
        {"partition-size", required_argument, NULL, OPT_PART}, {"headroom", required_argument, NULL, OPT_HEADROOM},
        {"format", required_argument, NULL, 'f'},        {"rules-dir", required_argument, NULL, OPT_RULES},
        {"output", required_argument, NULL, 'o'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    a->format = "text";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "b:f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': a->board = optarg; break;
        case 'f': a->format = optarg; break;
        case 'o': a->output = optarg; break;
        case OPT_FIRMWARE: a->firmware = optarg; break;
        case OPT_RULES: a->rules_dir = optarg; break;
        case OPT_PART: {
            char why[256];
            uint64_t v;
            if (fs_expr_eval(optarg, NULL, NULL, &v, why, sizeof why) < 0) {
                cli_error("--partition-size: '%s': %s", optarg, why);
                return -1;
            }
            if (v == 0 || v > (1ull << 40)) {
                cli_error("--partition-size: '%s' is not a size between 1 byte and 1 TiB", optarg);
                return -1;
            }
            a->partition_size = v;
            break;
        }
        case OPT_HEADROOM:
            if (cli_parse_double("--headroom", optarg, 1, 100, &a->headroom) < 0)
                return -1;
            break;
        case 'h': fputs(romfs_usage, stdout); return 1;
        default: fputs(romfs_usage, stderr); return -1;
        }
    }
    if (cli_check_format(a->format, "text", "json", (char *)NULL) < 0)
        return -1;
    if (!(a->image = cli_operand(argv, optind, argc, "romfs", "image", romfs_usage)))
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
