/*
 * analysis.c - run one whole analysis: readers, fs_analyze, then the
 * optional parts, each adding its findings to the one report.
 *
 * Order matters only where one part feeds another: the map is read before
 * the ROM-use check so that copies of ROM functions can be traced to the
 * object or archive member that brought them.  The reference graph for the
 * largest retained sizes comes last and adds no findings.
 */
#include "analysis.h"

#include "elfread.h"
#include "ldscript.h"
#include "literals.h"

#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int analysis_rom(const fs_analysis_opts *o, fs_analysis *a, fs_error *err)
{
    char *path;
    int chosen = fs_romuse_table_path(o->rom, &a->img, a->has_board ? &a->board : NULL, a->rules_dir, &path);
    if (chosen < 0)
        return fs_fail_kind(err, FS_ERR_NOMEM, "out of memory");
    /* ROM use is found through symbols: a stripped image has none. */
    if (chosen > 0 || !a->img.has_symtab) {
        free(path);
        return 0;
    }
    int loaded = fs_romtable_load(path, &a->romtable, err);
    free(path);
    if (loaded < 0)
        return -1;
    a->has_romtable = true;
    const fs_mapfile *map = a->has_map ? &a->map : NULL;
    int rc = fs_romuse_analyze(&a->img, a->data, a->len, &a->romtable, map, &a->romuse, err);
    if (rc < 0)
        return -1;
    a->has_romuse = true;
    if (fs_romuse_set_owners(&a->romuse, &a->owner_rules) < 0)
        return fs_fail(err, "out of memory");
    if (fs_romuse_findings(&a->romuse, &a->rep) < 0)
        return fs_fail(err, "out of memory");
    return 0;
}

/* PATH beside the ELF (same directory), or NULL when it is not a regular
 * file there; *oom set when out of memory. */
static char *beside_elf(const char *elf, const char *name, bool *oom)
{
    const char *slash = strrchr(elf, '/');
    char *path = NULL;
    if (asprintf(&path, "%.*s%s", slash ? (int)(slash - elf + 1) : 0, elf, name) < 0) {
        *oom = true;
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        free(path);
        return NULL;
    }
    return path;
}

/* The ESP32 app image against the app partitions: with --partitions, or
 * when the ELF sits in an ESP-IDF build directory (partition_table/
 * partition-table.bin beside it).  The image is --app-image, else NAME.bin
 * beside NAME.elf (what idf.py writes; firmware.bin, MicroPython's merged
 * image with the bootloader, is never taken), else computed from the ELF. */
static int analysis_esp32app(const fs_analysis_opts *o, fs_analysis *a, fs_error *err)
{
    bool oom = false;
    char *table = NULL, *image = NULL;
    if (o->partitions)
        table = strdup(o->partitions), oom = !table;
    else if (o->elf && !o->elf_data)
        table = beside_elf(o->elf, "partition_table/partition-table.bin", &oom);
    if (!table && !oom && (o->app_image || o->app_partition))
        return fs_fail(err, "--app-image and --app-partition need a partition table (--partitions FILE)");
    if (table && o->app_image)
        image = strdup(o->app_image), oom = oom || !image;
    else if (table && o->elf && !o->elf_data) {
        const char *base = strrchr(o->elf, '/');
        base = base ? base + 1 : o->elf;
        size_t n = strlen(base);
        char *bin = NULL;
        if (n > 4 && strcmp(base + n - 4, ".elf") == 0 && strncmp(base, "firmware.", 9) != 0) {
            if (asprintf(&bin, "%.*s.bin", (int)(n - 4), base) < 0)
                oom = true;
            else
                image = beside_elf(o->elf, bin, &oom);
            free(bin);
        }
    }
    int rc = 0;
    if (oom)
        rc = fs_fail_kind(err, FS_ERR_NOMEM, "out of memory");
    else if (table) {
        uint64_t flash = a->has_board ? a->board.flash_size : 0;
        rc = fs_esp32app_run(table, image, o->app_partition, &a->img, flash, &a->esp32app, err);
        if (rc == 0) {
            a->has_esp32app = true;
            if (fs_esp32app_findings(&a->esp32app, &a->rep) < 0)
                rc = fs_fail_kind(err, FS_ERR_NOMEM, "out of memory");
        }
    }
    free(table);
    free(image);
    return rc;
}

static int analysis_parts(const fs_analysis_opts *o, fs_analysis *a, fs_error *err)
{
    if (a->img.has_symtab) {
        int rc = fs_frozen_analyze(&a->img, a->data, a->len, &a->frozen, err);
        if (rc < 0)
            return -1;
        a->has_frozen = true;
        if (a->frozen.present && fs_frozen_findings(&a->frozen, &a->rep) < 0)
            return fs_fail(err, "out of memory");
    }
    if (a->has_map && fs_mapfile_reconcile(&a->map, &a->img, &a->rep, err) < 0)
        return -1;
    if (analysis_rom(o, a, err) < 0)
        return -1;
    const fs_frozen *fz = a->has_frozen ? &a->frozen : NULL;
    if (a->has_map) {
        if (fs_owners_build(&a->owner_rules, &a->map, fz, &a->owners, err) < 0)
            return -1;
        a->has_owners = true;
    }
    if (fs_owners_amend_findings(a->has_owners ? &a->owners : NULL, fz, &a->rep) < 0)
        return fs_fail(err, "out of memory");
    fs_literals lits;
    if (o->literals && fs_literals_find(&a->img, a->data, a->len, &lits, err) < 0)
        return -1;
    int built = fs_accounting_build(&a->img, a->has_map ? &a->map : NULL, o->literals ? &lits : NULL, &a->accounting, err);
    if (o->literals)
        fs_literals_free(&lits);
    if (built < 0)
        return -1;
    a->has_accounting = true;
    if (o->romfs) {
        if (fs_romfs_load(o->romfs, &a->romfs, err) < 0)
            return -1;
        a->has_romfs = true;
        if (fs_romfs_analyze(&a->romfs, &a->img, a->has_board ? &a->board : NULL, 0, o->headroom_pct, &a->romfs_occ,
                             &a->rep, err) < 0)
            return -1;
    }
    if (analysis_esp32app(o, a, err) < 0)
        return -1;
    if (a->has_frozen && a->frozen.present &&
        fs_frozen_data_findings(&a->frozen, a->has_romfs ? a->romfs_occ.free : UINT64_MAX, &a->rep) < 0)
        return fs_fail(err, "out of memory");
    return 0;
}

/* The largest retained sizes, when the caller asked for them: a graph that
 * cannot be built is a note in the result, not a failure. */
static int analysis_retained(const fs_analysis_opts *o, fs_analysis *a, fs_error *err)
{
    if (!o->retained)
        return 0;
    if (o->retained(&a->img, a->data, a->len, a->rules_dir, o->board, &a->retained, err) < 0)
        return -1;
    a->has_retained = true;
    return 0;
}

/* The link's map: --map, else firmware.map in the ELF's directory (the
 * name MicroPython's makefiles give it) when nothing else gives the regions:
 * no --ld, no --board, and no ESP8266 linker symbols (which give the exact
 * layout without the map's cost: parsing a real ESP8266 map takes five times
 * the rest of the analysis).  A map found that way but not readable as one
 * (damaged, or not a regular file) is left alone: it was not asked for. */
static int analysis_map(const fs_analysis_opts *o, fs_analysis *a, fs_error *err)
{
    if (o->map) {
        if (fs_mapfile_load(o->map, &a->map, err) < 0)
            return -1;
        a->has_map = true;
        return (a->map_path = strdup(o->map)) ? 0 : fs_fail(err, "out of memory");
    }
    if (o->elf_data || !o->elf || o->ld || a->has_board || fs_esp8266_detect(&a->img, NULL))
        return 0;
    const char *slash = strrchr(o->elf, '/');
    char *path = NULL;
    if (asprintf(&path, "%.*sfirmware.map", slash ? (int)(slash - o->elf + 1) : 0, o->elf) < 0)
        return fs_fail(err, "out of memory");
    fs_error ignored = {0};
    if (access(path, F_OK) != 0 || fs_mapfile_load(path, &a->map, &ignored) < 0) {
        free(path);
        return 0;
    }
    a->has_map = true;
    a->map_path = path;
    return 0;
}

int fs_analysis_run(const fs_analysis_opts *o, fs_analysis *a, fs_error *err)
{
    memset(a, 0, sizeof *a);
    a->rules_dir = o->rules_dir ? strdup(o->rules_dir) : fs_rules_dir();
    if (o->board) {
        if (fs_board_load(a->rules_dir, o->board, &a->board, err) < 0)
            return -1;
        a->has_board = true;
    }
    if (o->ld) {
        fs_ld_options lo = {o->search_dirs, o->nsearch_dirs, o->defsyms, o->ndefsyms};
        if (fs_ldscript_load_regions(o->ld, &lo, &a->ld, err) < 0)
            return -1;
    }
    /* The file is read once: the ELF reader and every part that looks at
     * section bytes (frozen modules, ROM use, the reference graph) share it. */
    if (o->elf_data) {
        a->data = o->elf_data;
        a->len = o->elf_len;
    } else {
        if (fs_map_file(o->elf, FS_ELF_MAX_FILE_BYTES, "ELF file", &a->data, &a->len, err) < 0)
            return -1;
        a->mapped = true;
    }
    if (fs_elf_load_mem(o->elf, a->data, a->len, &a->img, err) < 0)
        return -1;
    /* A 32-bit target's regions end within 4 GiB: one past that is a
     * mistake in the script (fs_ldscript_load checked 64 bits). */
    for (size_t i = 0; o->ld && a->img.elf_class == 32 && i < a->ld.nregions; i++) {
        const fs_region *r = &a->ld.regions[i];
        if (r->origin > 0xFFFFFFFFu || r->length > 0x100000000u - r->origin)
            return fs_fail(err,
                           "%s: MEMORY region '%s' ends past the 32-bit address space of %s (ORIGIN 0x%" PRIx64
                           " + LENGTH 0x%" PRIx64 ")",
                           o->ld, r->name, o->elf, r->origin, r->length);
    }
    if (fs_owner_rules_load(a->rules_dir, &a->owner_rules, err) < 0 || analysis_map(o, a, err) < 0)
        return -1;
    fs_analyze_opts ao = {o->ld ? &a->ld : NULL, o->ld, a->has_board ? &a->board : NULL, o->headroom_pct};
    /* Without --ld or --board, the regions ld itself used: the map's Memory
     * Configuration, named as the linker script names them. */
    bool map_regions = !o->ld && !a->has_board && a->has_map && a->map.map.nregions > 0;
    if (map_regions) {
        ao.ld_map = &a->map.map;
        ao.ld_path = a->map_path;
    }
    if (fs_analyze(&a->img, &ao, &a->rep, err) < 0)
        return -1;
    if (map_regions) {
        char *detail = NULL;
        if (asprintf(&detail, "map file %s", a->map_path) < 0)
            return fs_fail(err, "out of memory");
        free(a->rep.region_source_detail);
        a->rep.region_source_detail = detail;
        a->rep.region_source = FS_REGIONS_MAP;
    }
    a->has_report = true;
    if (analysis_parts(o, a, err) < 0)
        return -1;
    return analysis_retained(o, a, err);
}

void fs_analysis_free(fs_analysis *a)
{
    if (!a)
        return;
    if (a->has_romfs)
        fs_romfs_free(&a->romfs);
    if (a->has_retained)
        fs_retained_free(&a->retained);
    if (a->has_romuse)
        fs_romuse_free(&a->romuse);
    if (a->has_romtable)
        fs_romtable_free(&a->romtable);
    if (a->has_map)
        fs_mapfile_free(&a->map);
    if (a->has_owners)
        fs_owners_free(&a->owners);
    if (a->has_accounting)
        fs_accounting_free(&a->accounting);
    if (a->has_esp32app)
        fs_esp32app_free(&a->esp32app);
    fs_owner_rules_free(&a->owner_rules);
    free(a->map_path);
    if (a->has_frozen)
        fs_frozen_free(&a->frozen);
    if (a->has_report)
        fs_report_free(&a->rep);
    if (a->has_board)
        fs_board_free(&a->board);
    fs_memmap_free(&a->ld);
    fs_image_free(&a->img);
    if (a->mapped)
        fs_unmap_file(a->data, a->len);
    free(a->rules_dir);
    memset(a, 0, sizeof *a);
}

fs_output_opts fs_analysis_output_opts(const fs_analysis *a, size_t top)
{
    fs_output_opts oo = {.top = top};
    oo.frozen = a->has_frozen ? &a->frozen : NULL;
    oo.romuse = a->has_romuse ? &a->romuse : NULL;
    oo.map = a->has_map ? &a->map : NULL;
    oo.romfs = a->has_romfs ? &a->romfs : NULL;
    oo.romfs_occ = a->has_romfs ? &a->romfs_occ : NULL;
    oo.retained = a->has_retained ? &a->retained : NULL;
    oo.owners = a->has_owners ? &a->owners : NULL;
    oo.accounting = a->has_accounting ? &a->accounting : NULL;
    oo.esp32app = a->has_esp32app ? &a->esp32app : NULL;
    return oo;
}

json_t *fs_analysis_json(const fs_analysis *a)
{
    fs_output_opts oo = fs_analysis_output_opts(a, 0);
    return fs_report_json(&a->rep, &oo);
}
