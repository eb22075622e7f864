/*
 * test_board.c - board rule files: the shipped boards carry MicroPython's
 * layouts (the MEMORY blocks of ports/esp8266/boards/esp8266_*.ld and
 * ports/stm32/boards/stm32f405.ld), and bad files fail with file:line.
 */
#include "testutil.h"

#include "board.h"

static void expect_region(const fs_board *b, const char *name, uint64_t origin, uint64_t length)
{
    int r = fs_memmap_find(&b->map, name);
    if (r < 0)
        fail_msg("%s: no region %s", b->name, name);
    assert_int_equal(b->map.regions[r].origin, origin);
    assert_int_equal(b->map.regions[r].length, length);
}

static void load(const char *name, fs_board *b)
{
    fs_error err;
    if (fs_board_load("rules", name, b, &err) != 0)
        fail_msg("%s", err.msg);
}

static void expect_esp8266_common(const fs_board *b)
{
    assert_int_equal(b->chip, FS_CHIP_ESP8266);
    expect_region(b, "dport0_0_seg", 0x3ff00000, 0x10);
    expect_region(b, "dram0_0_seg", 0x3ffe8000, 0x14000);
    expect_region(b, "iram1_0_seg", 0x40100000, 0x8000);
}

static void test_esp8266_layouts(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint64_t irom0_origin, irom0_length, flash;
    } layouts[] = {
        {"esp8266-512k", 0x40209000, 0x72000, 512 * 1024},
        {"esp8266-1m", 0x40209000, 0x8f000, 1024 * 1024},
        {"esp8266-2m", 0x40209000, 0xf7000, 2048 * 1024},
        {"esp8266-2m-romfs", 0x40209000, 0xa7000, 2048 * 1024},
        {"esp8266-ota", 0x40245000, 0x8f000, 2048 * 1024},
    };
    for (size_t i = 0; i < sizeof layouts / sizeof *layouts; i++) {
        fs_board b;
        load(layouts[i].name, &b);
        assert_string_equal(b.name, layouts[i].name);
        expect_esp8266_common(&b);
        expect_region(&b, "irom0_0_seg", layouts[i].irom0_origin, layouts[i].irom0_length);
        assert_int_equal(b.flash_size, layouts[i].flash);
        assert_true(b.headroom_pct == 90.0);
        fs_board_free(&b);
    }
    fs_board b;
    load("esp8266-2m-romfs", &b);
    assert_true(b.has_romfs);
    assert_int_equal(b.romfs_start, 0x402b0000);
    assert_int_equal(b.romfs_size, 320 * 1024);
    /* irom0 ends exactly where the ROMFS partition begins */
    expect_region(&b, "FLASH_ROMFS", 0x402b0000, 0x50000);
    assert_int_equal(0x40209000 + 0xa7000, b.romfs_start);
    fs_board_free(&b);
}

static void test_stm32(void **state)
{
    (void)state;
    fs_board b;
    load("stm32-pybv10", &b);
    assert_int_equal(b.chip, FS_CHIP_GENERIC);
    expect_region(&b, "FLASH", 0x08000000, 1024 * 1024);
    expect_region(&b, "FLASH_START", 0x08000000, 16 * 1024);
    expect_region(&b, "FLASH_FS", 0x08004000, 112 * 1024);
    expect_region(&b, "FLASH_TEXT", 0x08020000, 896 * 1024);
    expect_region(&b, "RAM", 0x20000000, 128 * 1024);
    fs_board_free(&b);
}

static void test_list(void **state)
{
    (void)state;
    char **names;
    size_t n;
    fs_error err;
    assert_int_equal(fs_board_list("rules", &names, &n, &err), 0);
    assert_true(n >= 6); /* the issue-2 set, plus any board added since */
    size_t found = 0;
    static const char *const want[] = {"esp8266-1m",  "esp8266-2m",  "esp8266-2m-romfs",
                                       "esp8266-512k", "esp8266-ota", "stm32-pybv10"};
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof want / sizeof *want; k++)
            found += strcmp(names[i], want[k]) == 0;
        if (i > 0)
            assert_true(strcmp(names[i - 1], names[i]) < 0); /* sorted */
    }
    assert_int_equal(found, 6);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void expect_bad(const char *text, const char *needle)
{
    char *path = tu_tmpfile(text, strlen(text));
    char ini[300];
    snprintf(ini, sizeof ini, "%s.ini", path);
    assert_int_equal(rename(path, ini), 0);
    fs_board b;
    fs_error err = {{0}};
    assert_int_equal(fs_board_load(NULL, ini, &b, &err), -1);
    if (!strstr(err.msg, ini) || !strstr(err.msg, needle))
        fail_msg("expected '%s' naming %s, got: %s", needle, ini, err.msg);
    assert_null(b.name);
    unlink(ini);
    free(path);
}

static void test_bad_files(void **state)
{
    (void)state;
    expect_bad("[board]\nname = x\ncolour = red\n", ":3: unknown key 'colour' in [board]");
    expect_bad("[board]\nname = x\n[region R]\norigin = 0x10\nlength = 12Q\n", ":5: bad value for 'length'");
    expect_bad("[board]\nname = x\n[region R]\norigin = 0x10\n", "[region R] has no length");
    expect_bad("[boards]\nname = x\n", ":2: unknown section [boards]");
    expect_bad("name = x\n", ":1: key 'name' outside any [section]");
    expect_bad("[region R]\norigin = 0\nlength = 1\n", "missing [board] section");
    expect_bad("[board]\nname = x\nchip = esp32\n", ":3: unknown chip 'esp32'");
    expect_bad("[board]\nname = x\nheadroom = 150\n", ":3: bad value for 'headroom'");
    expect_bad("[board]\nname = x\n[romfs]\nstart = 0x402b0000\n", "[romfs] needs both start and size");
    expect_bad("[board]\nname = x\n[region R]\norigin = ORIGIN(NOPE)\nlength = 1\n", ":4: bad value for 'origin'");
    expect_bad("[board]\nthis line has no equals sign\n", ":2: syntax error");
    expect_bad("\x01\x02\xff\xfe garbage\n\x7f", ":1:");

    fs_board b;
    fs_error err;
    assert_int_equal(fs_board_load("rules", "no-such-board", &b, &err), -1);
    assert_non_null(strstr(err.msg, "unknown board 'no-such-board'"));
}

/* The layout file check, record and import use: only a plain name that has
 * a file in the rules directory. */
static void test_layout_path(void **state)
{
    (void)state;
    char *p = fs_board_layout_path("rules", "esp8266-2m");
    assert_non_null(p);
    assert_string_equal(p, "rules/boards/esp8266-2m.ini");
    free(p);
    assert_null(fs_board_layout_path("rules", "no-such-board"));
    assert_null(fs_board_layout_path("rules", "../boards/esp8266-2m")); /* a path, not a name */
    assert_null(fs_board_layout_path("/nonexistent", "esp8266-2m"));
    setenv("FLASHSIZE_RULES", "rules", 1);
    p = fs_board_layout_path(NULL, "esp32-romfs");
    unsetenv("FLASHSIZE_RULES");
    assert_non_null(p);
    assert_string_equal(p, "rules/boards/esp32-romfs.ini");
    free(p);
}

/* An installed directory: the variable when set, else beside the binary
 * (this test runs as BUILD/tests/test_board, so BUILD/analyzer is ../analyzer). */
static void test_install_dir(void **state)
{
    (void)state;
    setenv("FLASHSIZE_TEST_DIR", "/some/where", 1);
    char *d = fs_install_dir("FLASHSIZE_TEST_DIR", "analyzer");
    assert_non_null(d);
    assert_string_equal(d, "/some/where");
    free(d);
    setenv("FLASHSIZE_TEST_DIR", "", 1); /* empty is unset */
    d = fs_install_dir("FLASHSIZE_TEST_DIR", "analyzer");
    unsetenv("FLASHSIZE_TEST_DIR");
    char exe[4096], want[4200];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0'; /* BUILD/tests */
    *strrchr(exe, '/') = '\0'; /* BUILD */
    snprintf(want, sizeof want, "%s/analyzer", exe);
    assert_non_null(d);
    assert_string_equal(d, want);
    free(d);
    assert_null(fs_install_dir("FLASHSIZE_TEST_DIR", "no-such-dir"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_esp8266_layouts),
        cmocka_unit_test(test_stm32),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_layout_path),
        cmocka_unit_test(test_install_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
