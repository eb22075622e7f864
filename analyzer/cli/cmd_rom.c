/*
 * cmd_rom.c - `flashsize rom FIRMWARE.elf`: ROM functions used and ROM
 * functions the firmware carries its own copies of (library: romuse.h).
 */
#include "board.h"
#include "cli.h"
#include "parseopt.h"
#include "elfread.h"
#include "mapfile.h"
#include "romuse.h"

#include <stdlib.h>
#include <string.h>

typedef struct rom_args {
    const char *elf, *rom, *map, *format, *rules_dir, *output;
} rom_args;

static int rom_parse(int argc, char **argv, rom_args *a)
{
    const cli_option opts[] = {
        CLI_OPT_STRING(0, "rom", &a->rom, "FILE", "ROM table (GNU ld assignments); default: the chip's own\n"
                                                  "(ESP8266: RULES/rom/esp8266.ld)"),
        CLI_OPT_STRING(0, "map", &a->map, "FILE", "GNU ld map of the same link: name the object of each copy"),
        CLI_OPT_FORMAT(&a->format, NULL, "text", "json"),
        CLI_OPT_RULES_DIR(&a->rules_dir),
        CLI_OPT_OUTPUT(&a->output, "write the report to FILE instead of standard output"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "rom",
        .synopsis = "flashsize rom FIRMWARE.elf [options]",
        .about = "List the mask-ROM functions the firmware calls and every function it carries\n"
                 "its own copy of although the ROM has it (rom-duplicate). See docs/frozen.md.\n",
        .options = opts,
        .epilogue = "Exit status: 0 no error findings, 1 error findings, 2 bad input or usage.\n",
    };
    a->format = "text";
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (!(a->elf = cli_operand_of(&cmd, argv, first, argc, "firmware ELF")))
        return -1;
    return 0;
}

typedef struct rom_job {
    const rom_args *a;
    const fs_romuse *ru;
} rom_job;

static void rom_emit(fs_jemit *e, const void *ctx)
{
    const rom_job *j = ctx;
    fs_romuse_emit(j->ru, j->a->elf, e);
}

static int rom_write(FILE *out, const void *ctx)
{
    const rom_job *j = ctx;
    if (strcmp(j->a->format, "json") == 0)
        return cli_write_emitted(out, 0, rom_emit, j);
    return fs_romuse_print_text(out, j->ru, j->a->elf);
}

int cmd_rom(int argc, char **argv)
{
    rom_args a = {0};
    int parsed = rom_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    int status = FS_EXIT_INPUT;
    fs_error err = {{0}};
    fs_image img = {0};
    fs_romtable rom = {0};
    fs_mapfile map = {0};
    fs_romuse ru = {0};
    char *rules = NULL, *table = NULL;
    bool have_map = false;
    if (fs_elf_load(a.elf, &img, &err) < 0)
        goto fail;
    if (!a.rom)
        rules = a.rules_dir ? strdup(a.rules_dir) : fs_rules_dir();
    int chosen = fs_romuse_table_path(a.rom, &img, NULL, rules, &table);
    if (chosen == FS_ROMTABLE_NONE) {
        char mach[32];
        cli_error("%s: no ROM table is known for this %s firmware; give one with --rom FILE", a.elf,
                  fs_elf_machine_name(img.machine, mach, sizeof mach));
        goto done;
    }
    if (chosen == FS_ROMTABLE_NO_RULES) {
        cli_error("no rules directory found; give --rules-dir or --rom");
        goto done;
    }
    if (chosen < 0) {
        cli_error("out of memory");
        goto done;
    }
    if (fs_romtable_load(table, &rom, &err) < 0)
        goto fail;
    if (a.map) {
        have_map = true;
        if (fs_mapfile_load(a.map, &map, &err) < 0)
            goto fail;
    }
    if (fs_romuse_analyze_file(&img, &rom, have_map ? &map : NULL, &ru, &err) < 0)
        goto fail;
    rom_job job = {&a, &ru};
    if (cli_write_output(a.output, rom_write, &job) == 0)
        status = FS_EXIT_OK; /* rom-duplicate is a warning */
    goto done;
fail:
    status = cli_fail(&err);
done:
    fs_romuse_free(&ru);
    if (have_map)
        fs_mapfile_free(&map);
    fs_romtable_free(&rom);
    fs_image_free(&img);
    free(rules);
    free(table);
    return status;
}
