/*
 * test_romuse.c - ROM functions used and copied, against the toolchain.
 *
 * Ground truth: `nm -S` of the sample firmwares (samples/frozen/build):
 *   - esp8266-rom links rules/rom/esp8266.ld: the ROM functions it uses
 *     are the absolute ('A') symbols nm lists that the source calls
 *     (memset via PROVIDE, __udivsi3/__umodsi3 for `/` and `%`); its own
 *     memcpy and strlen ('T') are copies, with nm's sizes;
 *   - cortex-m0-romdup: own memcpy/strlen and libgcc's __udivsi3, sizes
 *     from arm-none-eabi-nm -S, the archive member from the link map.
 */
#include "testutil.h"

#include "elfread.h"
#include "mapfile.h"
#include "romuse.h"

#define FDIR "samples/frozen/build/"

static uint64_t nm_field(const char *nm, const char *elf, const char *sym, int field)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -S %s | awk '$NF == \"%s\" { print $%d }'", nm, elf, sym, field);
    char *out = tu_run(cmd);
    assert_non_null(out);
    assert_true(out[0] != '\0');
    uint64_t v = strtoull(out, NULL, 16);
    free(out);
    return v;
}

static const fs_romuse_dup *find_dup(const fs_romuse *ru, const char *name)
{
    for (size_t i = 0; i < ru->ndups; i++)
        if (!strcmp(ru->dups[i].name, name))
            return &ru->dups[i];
    fail_msg("no duplicate %s", name);
    return NULL;
}

static void load(const char *elf, const char *map, fs_image *img, fs_romtable *rom, fs_mapfile *mf, fs_romuse *ru)
{
    fs_error err;
    memset(img, 0, sizeof *img);
    memset(rom, 0, sizeof *rom);
    memset(mf, 0, sizeof *mf);
    if (fs_elf_load(elf, img, &err) != 0 || fs_romtable_load("rules/rom/esp8266.ld", rom, &err) != 0)
        fail_msg("%s", err.msg);
    if (map && fs_mapfile_load(map, mf, &err) != 0)
        fail_msg("%s", err.msg);
    if (fs_romuse_analyze_file(img, rom, map ? mf : NULL, ru, &err) != 0)
        fail_msg("%s", err.msg);
}

static void test_esp8266(void **state)
{
    (void)state;
    const char *elf = FDIR "esp8266-rom.elf", *nm = "xtensa-lx106-elf-nm";
    fs_image img;
    fs_romtable rom;
    fs_mapfile mf;
    fs_romuse ru;
    load(elf, NULL, &img, &rom, &mf, &ru);
    assert_int_equal(ru.nused, 3);
    const char *used[] = {"__udivsi3", "__umodsi3", "memset"};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(ru.used[i].name, used[i]);
        assert_int_equal(ru.used[i].addr, nm_field(nm, elf, used[i], 1));
        assert_int_equal(ru.used[i].addr, fs_romtable_find(&rom, used[i])->addr);
        assert_true(ru.used[i].addr_matches);
        assert_true(ru.used[i].refs >= 1);
    }
    assert_true(ru.used[2].weak);
    assert_false(ru.used[0].weak);
    /* the table's other 22 strong entries are defined, unreferenced */
    assert_int_equal(ru.unreferenced, 22);
    assert_int_equal(ru.ndups, 2);
    uint64_t m = nm_field(nm, elf, "memcpy", 2), s = nm_field(nm, elf, "strlen", 2);
    assert_int_equal(find_dup(&ru, "memcpy")->size, m);
    assert_int_equal(find_dup(&ru, "strlen")->size, s);
    assert_int_equal(find_dup(&ru, "memcpy")->rom_addr, 0x4000df48);
    assert_string_equal(find_dup(&ru, "memcpy")->section, ".irom0.text");
    assert_int_equal(ru.dup_bytes, m + s);
    assert_string_equal(fs_romuse_default_table(&img, NULL), "rom/esp8266.ld");

    fs_report rep = {0};
    assert_int_equal(fs_romuse_findings(&ru, &rep), 0);
    /* no map: one finding for the copies of unknown origin, info */
    assert_int_equal(rep.nfindings, 1);
    assert_string_equal(rep.findings[0].id, "rom-duplicate");
    assert_int_equal(rep.findings[0].severity, FS_SEV_INFO);
    assert_int_equal(rep.findings[0].nums[0].value, m + s);
    assert_int_equal(rep.findings[0].nums[1].value, 2);
    fs_report_free(&rep);
    fs_romuse_free(&ru);
    fs_romtable_free(&rom);
    fs_image_free(&img);
}

static void test_cortex_m0_libgcc(void **state)
{
    (void)state;
    const char *elf = FDIR "cortex-m0-romdup.elf", *nm = "arm-none-eabi-nm";
    fs_image img;
    fs_romtable rom;
    fs_mapfile mf;
    fs_romuse ru;
    load(elf, FDIR "cortex-m0-romdup.map", &img, &rom, &mf, &ru);
    assert_int_equal(ru.nused, 0);
    assert_null(fs_romuse_default_table(&img, NULL));
    const fs_romuse_dup *d = find_dup(&ru, "__udivsi3");
    assert_int_equal(d->size, nm_field(nm, elf, "__udivsi3", 2));
    assert_int_equal(d->size, 0x10a);
    assert_non_null(d->object);
    assert_non_null(strstr(d->object, "libgcc.a(_udivsi3.o)"));
    d = find_dup(&ru, "memcpy");
    assert_int_equal(d->size, nm_field(nm, elf, "memcpy", 2));
    assert_int_equal(d->addr, nm_field(nm, elf, "memcpy", 1));
    assert_string_equal(d->object, "build/obj/cortex-m0-romdup/romfuncs.o");
    assert_int_equal(ru.ndups, 3);
    assert_int_equal(ru.dup_bytes, nm_field(nm, elf, "__udivsi3", 2) + nm_field(nm, elf, "memcpy", 2) +
                                       nm_field(nm, elf, "strlen", 2));
    json_t *j = fs_romuse_json(&ru, elf);
    assert_string_equal(json_string_value(json_object_get(j, "schema")), "flashsize-rom");
    assert_int_equal(json_integer_value(json_object_get(j, "duplicate_bytes")), ru.dup_bytes);
    json_decref(j);
    fs_romuse_free(&ru);
    fs_mapfile_free(&mf);
    fs_romtable_free(&rom);
    fs_image_free(&img);
}

/* Section data cut off or garbage: no crash, no references counted. */
static void test_short_data(void **state)
{
    (void)state;
    fs_image img = {0};
    fs_romtable rom = {0};
    fs_romuse ru;
    fs_error err;
    if (fs_elf_load(FDIR "esp8266-rom.elf", &img, &err) != 0 || fs_romtable_load("rules/rom/esp8266.ld", &rom, &err) != 0)
        fail_msg("%s", err.msg);
    uint8_t junk[64];
    memset(junk, 0x5a, sizeof junk);
    assert_int_equal(fs_romuse_analyze(&img, junk, sizeof junk, &rom, NULL, &ru, &err), 0);
    /* PROVIDE'd memset still counts as used; the strong ones need a reference */
    assert_int_equal(ru.nused, 1);
    assert_string_equal(ru.used[0].name, "memset");
    assert_int_equal(ru.unreferenced, 24);
    assert_int_equal(ru.ndups, 2);
    fs_romuse_free(&ru);
    fs_romtable_free(&rom);
    fs_image_free(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_esp8266),
        cmocka_unit_test(test_cortex_m0_libgcc),
        cmocka_unit_test(test_short_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
