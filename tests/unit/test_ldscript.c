/*
 * test_ldscript.c - the GNU ld expression evaluator and linker-script reader.
 *
 * Fixtures live in tests/data/ld/ (paths are relative to the repository
 * root, where the tests run).  Large, deep or random inputs are generated
 * in /tmp at test time and removed again.
 */
#include "testutil.h"

#include "ldscript.h"

#include <sys/stat.h>
#include <unistd.h>

#define LD "tests/data/ld/"

/* ---- helpers ----------------------------------------------------------- */

/* Lookup for expression tests: a few regions and symbols. */
static int t_lookup(void *ctx, const char *func, const char *name, uint64_t *value)
{
    static const struct { const char *func, *name; uint64_t value; } tab[] = {
        {"ORIGIN", "FLASH", 0x08000000},
        {"LENGTH", "FLASH", 0x80000},
        {"ORIGIN", "irom0_0_seg", 0x40209000},
        {"LENGTH", "irom0_0_seg", 0xF7000},
        {NULL, "__flash_size__", 0x200000},
        {NULL, "_a.b$c", 7},
        {NULL, "zero", 0},
    };
    int *calls = ctx;
    if (calls)
        ++*calls;
    int defined = func && strcmp(func, "DEFINED") == 0;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        int same_func;
        if (defined || !func)
            same_func = tab[i].func == NULL;
        else
            same_func = tab[i].func && strcmp(func, tab[i].func) == 0;
        if (same_func && strcmp(name, tab[i].name) == 0) {
            *value = defined ? 1 : tab[i].value;
            return 0;
        }
    }
    if (defined) {
        *value = 0;
        return 0;
    }
    return -1;
}

static void check_eval(const char *text, uint64_t want)
{
    char msg[256] = "";
    uint64_t v = 0xdeadbeef;
    int rc = fs_expr_eval(text, t_lookup, NULL, &v, msg, sizeof msg);
    if (rc != 0)
        fail_msg("'%s' failed: %s", text, msg);
    if (v != want)
        fail_msg("'%s' = %#llx, expected %#llx", text, (unsigned long long)v,
                 (unsigned long long)want);
}

static void check_eval_fails(const char *text, const char *fragment)
{
    char msg[256] = "";
    uint64_t v = 0;
    int rc = fs_expr_eval(text, t_lookup, NULL, &v, msg, sizeof msg);
    if (rc != -1)
        fail_msg("'%s' should fail but gave %#llx", text, (unsigned long long)v);
    if (!strstr(msg, fragment))
        fail_msg("'%s': message '%s' lacks '%s'", text, msg, fragment);
}

static void check_load_fails(const char *path, const fs_ld_options *opts, const char *where,
                             const char *what)
{
    fs_memmap map = {0};
    fs_error err = {{0}};
    int rc = fs_ldscript_load(path, opts, &map, &err);
    if (rc != -1)
        fail_msg("%s should fail", path);
    if (!strstr(err.msg, where) || !strstr(err.msg, what))
        fail_msg("%s: message '%s' lacks '%s' or '%s'", path, err.msg, where, what);
    fs_memmap_free(&map);
}

static const fs_region *region(const fs_memmap *map, const char *name)
{
    int i = fs_memmap_find(map, name);
    if (i < 0)
        fail_msg("no region '%s'", name);
    return &map->regions[i];
}

static void check_region(const fs_memmap *map, const char *name, uint64_t origin,
                         uint64_t length, const char *attrs)
{
    const fs_region *r = region(map, name);
    if (r->origin != origin || r->length != length)
        fail_msg("%s: origin %#llx length %#llx, expected %#llx %#llx", name,
                 (unsigned long long)r->origin, (unsigned long long)r->length,
                 (unsigned long long)origin, (unsigned long long)length);
    assert_string_equal(r->attrs, attrs);
}

/* Check the symbol at position i: name and value. */
static void check_sym(const fs_memmap *map, size_t i, const char *name, uint64_t value)
{
    if (i >= map->nsymbols)
        fail_msg("only %zu symbols, wanted '%s' at %zu", map->nsymbols, name, i);
    if (strcmp(map->symbols[i].name, name) != 0 || map->symbols[i].value != value)
        fail_msg("symbol %zu is %s = %#llx, expected %s = %#llx", i, map->symbols[i].name,
                 (unsigned long long)map->symbols[i].value, name, (unsigned long long)value);
}

static int has_sym(const fs_memmap *map, const char *name)
{
    for (size_t i = 0; i < map->nsymbols; i++)
        if (strcmp(map->symbols[i].name, name) == 0)
            return 1;
    return 0;
}

static void load_ok(const char *path, const fs_ld_options *opts, fs_memmap *map)
{
    fs_error err = {{0}};
    memset(map, 0, sizeof *map);
    if (fs_ldscript_load(path, opts, map, &err) != 0)
        fail_msg("%s: %s", path, err.msg);
}

/* A fresh temporary directory; its malloc'd path. */
static char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/flashsize-ld-XXXXXX";
    if (!mkdtemp(tmpl))
        return NULL;
    return strdup(tmpl);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Deterministic pseudo-random numbers (xorshift). */
static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* ---- expressions ------------------------------------------------------- */

static void test_expr_numbers(void **state)
{
    (void)state;
    check_eval("0x40209000", 0x40209000);
    check_eval("0X1f", 0x1f);
    check_eval("1M - 36K - 320K", 0xA7000);
    check_eval("1M - 36K", 0xF7000);
    check_eval("4k + 2m", 0x201000);
    check_eval("0x10K", 0x4000);
    check_eval("010", 8);
    check_eval("0", 0);
    check_eval("007", 7);
    check_eval("123456789", 123456789);
    check_eval("0xFFFFFFFFFFFFFFFF + 0", UINT64_MAX);
    check_eval("0xFFFFFFFFFFFFFFFE + 1", UINT64_MAX);
    check_eval("  42  ", 42);
    check_eval("1 /* a comment */ + /* another */ 2", 3);
}

static void test_expr_precedence(void **state)
{
    (void)state;
    check_eval("1 + 2 * 3", 7);
    check_eval("(1 + 2) * 3", 9);
    check_eval("10 - 4 - 3", 3);
    check_eval("100 / 10 / 5", 2);
    check_eval("7 % 4", 3);
    check_eval("1 << 4 + 1", 32);
    check_eval("256 >> 2 >> 1", 32);
    check_eval("1 | 2 ^ 3 & 6", 1);          /* 1 | (2 ^ (3 & 6)) */
    check_eval("1 < 2 == 1", 1);
    check_eval("3 >= 3 && 2 > 3 || 5 <= 4", 0);
    check_eval("2 != 3", 1);
    check_eval("-1", UINT64_MAX);
    check_eval("~1 + !0", UINT64_MAX);
    check_eval("!5", 0);
    check_eval("- -5", 5);
    check_eval("+4", 4);
    check_eval("-8 / 2", (uint64_t)-4);      /* ld divides signed */
    check_eval("-7 % 4", (uint64_t)-3);
    check_eval("0x8000000000000000 / -1", 0x8000000000000000ull);
    check_eval("5 % -1", 0);
    check_eval("1 << 63", 0x8000000000000000ull);
    check_eval("0 << 64", 0);
    check_eval("1 >> 64", 0);
    check_eval("0xF0 & 0x3C | 0x01", 0x31);
}

static void test_expr_ternary(void **state)
{
    (void)state;
    int calls = 0;
    uint64_t v = 0;
    char msg[128];

    check_eval("1 ? 2 : 3", 2);
    check_eval("0 ? 2 : 3", 3);
    check_eval("0 ? 1 : 0 ? 2 : 3", 3);
    check_eval("1 ? 0 ? 4 : 5 : 6", 5);
    check_eval("2 > 1 ? 0x10 : 0x20", 0x10);
    /* Operands whose value is not needed are not looked up. */
    check_eval("DEFINED(nosuch) ? nosuch : 7", 7);
    check_eval("DEFINED(__flash_size__) ? __flash_size__ : 7", 0x200000);
    check_eval("0 && nosuch", 0);
    check_eval("1 || 1 / 0", 1);
    check_eval("1 ? 5 : ORIGIN(NOPE)", 5);
    assert_int_equal(fs_expr_eval("0 && nosuch || 1", t_lookup, &calls, &v, msg, sizeof msg), 0);
    assert_int_equal(v, 1);
    assert_int_equal(calls, 0);
}

static void test_expr_functions(void **state)
{
    (void)state;
    check_eval("ORIGIN(FLASH)", 0x08000000);
    check_eval("LENGTH(FLASH)", 0x80000);
    check_eval("ORIGIN( irom0_0_seg ) + LENGTH(irom0_0_seg) - 0x40200000", 0x100000);
    check_eval("MAX(3, 9)", 9);
    check_eval("MIN(3, 9)", 3);
    check_eval("MAX(MIN(1, 2), 0)", 1);
    check_eval("ALIGN(0x1001, 0x1000)", 0x2000);
    check_eval("ALIGN(0x1000, 0x1000)", 0x1000);
    check_eval("ALIGN(5, 0)", 5);
    check_eval("ALIGN(10, 3)", 12);
    check_eval("ABSOLUTE(42)", 42);
    check_eval("DEFINED(__flash_size__)", 1);
    check_eval("DEFINED(nosuch)", 0);
    check_eval("__flash_size__ / 2", 0x100000);
    check_eval("_a.b$c * 2", 14);
    check_eval("\"__flash_size__\"", 0x200000); /* a quoted name, as in ld */
    check_eval("((((((((((1))))))))))", 1);
}

static void test_expr_errors(void **state)
{
    (void)state;
    char deep[200], ok[200], neg[200], msg[64];
    uint64_t v;

    check_eval_fails("1 / 0", "division by zero");
    /* Overflow is an error, never a value wrapped modulo 2^64 (issue 11). */
    check_eval_fails("99999999999999999999999999999K", "number '99999999999999999999999999999K' does not fit in 64 bits");
    check_eval_fails("18446744073709551616", "does not fit in 64 bits");
    check_eval("18446744073709551615", UINT64_MAX);
    check_eval("0x3FFFFFFFFFFFFFK", 0xFFFFFFFFFFFFFC00ull);
    check_eval_fails("0x40000000000000K", "number '0x40000000000000K' does not fit in 64 bits");
    check_eval_fails("0x100000000000M", "does not fit in 64 bits");
    check_eval_fails("0x400000000G", "does not fit in 64 bits");
    check_eval_fails("0xFFFFFFFFFFFFFFFF + 2", "0xffffffffffffffff + 0x2 does not fit in 64 bits");
    check_eval_fails("0 - 1", "0x0 - 0x1 is below zero");
    check_eval_fails("0x100000000 * 0x100000000", "0x100000000 * 0x100000000 does not fit in 64 bits");
    check_eval_fails("1 << 64", "0x1 << 0x40 does not fit in 64 bits");
    check_eval_fails("3 << 63", "0x3 << 0x3f does not fit in 64 bits");
    check_eval_fails("(2 + 2) / (1 - 1)", "division by zero");
    /* ... except in an operand whose value is not used. */
    check_eval("0 && 1 / 0", 0);
    check_eval("1 || 0xFFFFFFFFFFFFFFFF + 1", 1);
    check_eval("1 ? 2 : 0 - 1", 2);
    check_eval_fails("nosuch - 1", "unknown symbol 'nosuch'"); /* not "below zero" */
    check_eval_fails("5 % zero", "division by zero");
    check_eval_fails("nosuch + 1", "unknown symbol 'nosuch'");
    check_eval_fails("ORIGIN(NOPE)", "unknown memory region 'NOPE'");
    check_eval_fails("1 2", "unexpected '2' after expression");
    check_eval_fails("1 )", "unexpected ')'");
    check_eval_fails("4 = 4", "unexpected '='");
    check_eval_fails("ALIGN(8)", "needs the location counter");
    check_eval_fails(". + 4", "needs the location counter");
    check_eval_fails("SIZEOF(.text)", "SIZEOF() needs the linker");
    check_eval_fails("FROB(1)", "unknown function 'FROB'");
    check_eval_fails("MAX(1)", "wrong number of arguments to MAX()");
    check_eval_fails("", "unexpected end of expression");
    check_eval_fails("(1", "expected ')'");
    check_eval_fails("1 +", "unexpected end of expression");
    check_eval_fails("1 ? 2", "expected ':'");
    check_eval_fails("08", "bad number '08'");
    check_eval_fails("0x", "bad number '0x'");
    check_eval_fails("12abc", "bad number '12abc'");
    check_eval_fails("1 /* never closed", "unterminated comment");
    check_eval_fails("\"open", "unterminated string");
    check_eval_fails("1 # 2", "unexpected '#'");

    /* 64 levels of nesting are fine, 65 are not. */
    memset(ok, '(', 63);
    ok[63] = '1';
    memset(ok + 64, ')', 63);
    ok[127] = '\0';
    check_eval(ok, 1);
    memset(deep, '(', 80);
    deep[80] = '1';
    memset(deep + 81, ')', 80);
    deep[161] = '\0';
    check_eval_fails(deep, "nested more than 64 deep");
    memset(neg, '-', 150);
    strcpy(neg + 150, "1");
    check_eval_fails(neg, "nested more than 64 deep");

    /* No lookup function, and a tiny or missing error buffer. */
    assert_int_equal(fs_expr_eval("x", NULL, NULL, &v, msg, sizeof msg), -1);
    assert_string_equal(msg, "unknown symbol 'x'");
    assert_int_equal(fs_expr_eval("1 +", NULL, NULL, &v, msg, 4), -1);
    assert_string_equal(msg, "une");
    assert_int_equal(fs_expr_eval("1 +", NULL, NULL, &v, NULL, 0), -1);
    assert_int_equal(fs_expr_eval("2 * 21", NULL, NULL, &v, NULL, 0), 0);
    assert_int_equal(v, 42);
}

/* ---- whole scripts ----------------------------------------------------- */

static void test_esp8266(void **state)
{
    (void)state;
    fs_memmap map;
    load_ok(LD "esp8266/boards/esp8266_2m.ld", NULL, &map);

    assert_int_equal(map.nregions, 4);
    assert_string_equal(map.regions[0].name, "dport0_0_seg");
    assert_string_equal(map.regions[3].name, "irom0_0_seg");
    check_region(&map, "dport0_0_seg", 0x3FF00000, 0x10, "");
    check_region(&map, "dram0_0_seg", 0x3FFE8000, 0x14000, "");
    check_region(&map, "iram1_0_seg", 0x40100000, 0x8000, "");
    check_region(&map, "irom0_0_seg", 0x40209000, 0xF7000, "");

    assert_int_equal(map.nsymbols, 9);
    check_sym(&map, 0, "_firmware_size", 0x100000);
    check_sym(&map, 1, "_memmap_vecbase_reset", 0x40000000);
    check_sym(&map, 2, "Cache_Read_Disable", 0x400047f0);
    check_sym(&map, 3, "Cache_Read_Enable", 0x40004678);
    check_sym(&map, 4, "memcpy", 0x4000df48);      /* the second PROVIDE lost */
    check_sym(&map, 5, "memset", 0x4000dc6c);
    check_sym(&map, 6, "__divsi3", 0x4000dc88);
    check_sym(&map, 7, "__udivsi3", 0x4000e00c);
    check_sym(&map, 8, "ets_printf", 0x400024cc);
    /* Assignments inside SECTIONS, and ones that need the linker, are not read. */
    assert_false(has_sym(&map, "_irom0_text_start"));
    assert_false(has_sym(&map, "_data_provided"));
    assert_false(has_sym(&map, "_text_size"));
    assert_false(has_sym(&map, "_heap_end"));
    fs_memmap_free(&map);
}

static void test_esp8266_romfs(void **state)
{
    (void)state;
    fs_memmap map;
    load_ok(LD "esp8266/boards/esp8266_2m_romfs.ld", NULL, &map);

    assert_int_equal(map.nregions, 5);
    check_region(&map, "irom0_0_seg", 0x40209000, 0xA7000, "");
    check_region(&map, "FLASH_ROMFS", 0x402b0000, 0x50000, "");
    assert_int_equal(map.nsymbols, 11);
    check_sym(&map, 0, "_micropy_hw_romfs_part0_start", 0x402b0000);
    check_sym(&map, 1, "_micropy_hw_romfs_part0_size", 0x50000);
    check_sym(&map, 2, "_firmware_size", 0xB0000);
    check_sym(&map, 6, "memcpy", 0x4000df48);
    fs_memmap_free(&map);
}

static void test_cortex_m(void **state)
{
    (void)state;
    fs_memmap map;
    load_ok(LD "cortexm/app.ld", NULL, &map);

    assert_int_equal(map.nregions, 6);
    check_region(&map, "FLASH", 0x08000000, 0x80000, "rx");
    check_region(&map, "RAM", 0x20000000, 0x20000, "rwx");
    check_region(&map, "CCMRAM", 0x10000000, 0x10000, "!rx");
    check_region(&map, "BACKUP", 0x40024000, 0x1000, "rw!x");
    check_region(&map, "QSPI", 0x10000000, 0x800000, "rx");   /* INCLUDEd in MEMORY */
    check_region(&map, "SRAM4", 0x38000000, 0xF000, "rw");
    assert_int_equal(fs_memmap_find(&map, "REGION_TEXT"), -1); /* aliases add nothing */

    assert_int_equal(map.nsymbols, 11);
    check_sym(&map, 0, "_estack", 0x20020000);
    check_sym(&map, 1, "_text_limit", 0x0807FFFF);
    check_sym(&map, 2, "_Min_Heap_Size", 0x400);  /* 0x200, then = 0x300, then += 0x100 */
    check_sym(&map, 3, "_Min_Stack_Size", 0x400);
    check_sym(&map, 4, "_ram_user_end", 0x2001F800);
    check_sym(&map, 5, "_flash_sectors", 32);
    check_sym(&map, 6, "_qspi_end", 0x10800000);
    check_sym(&map, 7, "__exidx_placeholder", 0x10);
    check_sym(&map, 8, "_hidden_sym", 0x1000);
    check_sym(&map, 9, "_aligned", 0x20020000);
    check_sym(&map, 10, "_flags", 0x14);
    assert_false(has_sym(&map, "_sidata"));
    assert_false(has_sym(&map, "_end_of_text"));
    fs_memmap_free(&map);
}

static void test_defsym(void **state)
{
    (void)state;
    fs_memmap map;
    const fs_ldsym defs[] = {{"__flash_size__", 0x200000}, {"__storage__", 0x80000}};
    fs_ld_options opts = {0};
    opts.defsyms = defs;
    opts.ndefsyms = 2;

    load_ok(LD "rp2/memmap.ld", &opts, &map);
    assert_int_equal(map.nregions, 4);
    check_region(&map, "FLASH", 0x10000000, 0x180000, "rx");
    check_region(&map, "RAM", 0x20000000, 0x40000, "rwx");
    check_region(&map, "SCRATCH_Y", 0x20041000, 0x1000, "rwx");
    assert_int_equal(map.nsymbols, 2);
    check_sym(&map, 0, "__storage_start__", 0x10180000);
    check_sym(&map, 1, "__micropy_has_storage", 1);
    fs_memmap_free(&map);

    /* Without the --defsym values the FLASH length cannot be known. */
    check_load_fails(LD "rp2/memmap.ld", NULL, LD "rp2/memmap.ld:5:",
                     "bad LENGTH for MEMORY region 'FLASH': unknown symbol '__flash_size__'");
}

static void test_search_dirs(void **state)
{
    (void)state;
    char *dir = make_tmpdir(), path[256], sub[256], inc[256];
    assert_non_null(dir);
    snprintf(sub, sizeof sub, "%s/lib", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(inc, sizeof inc, "%s/lib/shared_mem.ld", dir);
    write_file(inc, "MEMORY { SHARED (rw) : ORIGIN = 0x30000000, LENGTH = 2K }\n"
                    "_shared_end = ORIGIN(SHARED) + LENGTH(SHARED);\n");
    snprintf(path, sizeof path, "%s/top.ld", dir);
    write_file(path, "/* needs a search dir */\nINCLUDE shared_mem.ld\n");

    /* Not found without a search dir... */
    check_load_fails(path, NULL, "top.ld:2:", "cannot find INCLUDE file 'shared_mem.ld'");

    /* ...found through opts->search_dirs (like ld -L)... */
    const char *dirs[] = {"/nonexistent-flashsize-dir", sub};
    fs_ld_options opts = {0};
    opts.search_dirs = dirs;
    opts.nsearch_dirs = 2;
    fs_memmap map;
    load_ok(path, &opts, &map);
    check_region(&map, "SHARED", 0x30000000, 0x800, "rw");
    check_sym(&map, 0, "_shared_end", 0x30000800);
    fs_memmap_free(&map);

    /* ...and through SEARCH_DIR in the script. */
    char text[512];
    snprintf(text, sizeof text, "SEARCH_DIR(\"%s\")\nINCLUDE \"shared_mem.ld\"\n", sub);
    write_file(path, text);
    load_ok(path, NULL, &map);
    assert_int_equal(map.nregions, 1);
    fs_memmap_free(&map);

    unlink(path);
    unlink(inc);
    rmdir(sub);
    rmdir(dir);
    free(dir);
}

static void test_empty(void **state)
{
    (void)state;
    fs_memmap map;
    load_ok(LD "empty.ld", NULL, &map);
    assert_int_equal(map.nregions, 0);
    assert_int_equal(map.nsymbols, 0);
    fs_memmap_free(&map);
}

/* ---- errors ------------------------------------------------------------ */

static void test_error_files(void **state)
{
    (void)state;
    check_load_fails(LD "errors/missing_include.ld", NULL, LD "errors/missing_include.ld:6:",
                     "cannot find INCLUDE file 'boards/does_not_exist.ld'");
    check_load_fails(LD "errors/cycle_a.ld", NULL, LD "errors/cycle_b.ld:3:",
                     "INCLUDE cycle: '" LD "errors/cycle_a.ld' is already being read");
    check_load_fails(LD "errors/duplicate_region.ld", NULL, LD "errors/duplicate_region.ld:5:",
                     "duplicate MEMORY region 'FLASH'");
    check_load_fails(LD "errors/unterminated_comment.ld", NULL,
                     LD "errors/unterminated_comment.ld:5:", "unterminated comment");
    check_load_fails(LD "errors/bad_memory_expr.ld", NULL, LD "errors/bad_memory_expr.ld:5:",
                     "bad LENGTH for MEMORY region 'RAM': expected a value but found ')'");
    check_load_fails(LD "errors/unknown_memory_symbol.ld", NULL,
                     LD "errors/unknown_memory_symbol.ld:3:",
                     "bad LENGTH for MEMORY region 'FLASH': unknown symbol '__flash_size__'");
    check_load_fails(LD "errors/unbalanced_brace.ld", NULL, LD "errors/unbalanced_brace.ld:7:",
                     "'{' is never closed");
    check_load_fails(LD "errors/stray_brace.ld", NULL, LD "errors/stray_brace.ld:3:",
                     "unexpected '}' in script");
    check_load_fails(LD "errors/mismatched_bracket.ld", NULL,
                     LD "errors/mismatched_bracket.ld:3:", "'}' does not match '(' on line 3");
    check_load_fails(LD "errors/no_length.ld", NULL, LD "errors/no_length.ld:4:",
                     "MEMORY region 'RAM' has no LENGTH");
    check_load_fails(LD "errors/unclosed_memory.ld", NULL, LD "errors/unclosed_memory.ld:3:",
                     "MEMORY block is never closed");
    check_load_fails(LD "errors/bad_assignment.ld", NULL, LD "errors/bad_assignment.ld:3:",
                     "bad expression assigned to '_bad': expected a value but found '*'");
    check_load_fails(LD "errors/unknown_alias_region.ld", NULL,
                     LD "errors/unknown_alias_region.ld:2:",
                     "REGION_ALIAS: memory region 'FLASH' does not exist");
    check_load_fails(LD "errors/no_such_file.ld", NULL, LD "errors/no_such_file.ld: cannot open",
                     "No such file");
    check_load_fails(LD "errors", NULL, LD "errors", "not a regular file");
}

/* A small script written to a temporary file must fail at where, what. */
static void check_text_fails(const char *text, const char *line, const char *what)
{
    char *path = tu_tmpfile(text, strlen(text)), where[128];
    assert_non_null(path);
    snprintf(where, sizeof where, "%s:%s:", path ? path : "?", line);
    check_load_fails(path, NULL, where, what);
    unlink(path);
    free(path);
}

static void test_error_snippets(void **state)
{
    (void)state;
    check_text_fails("MEMORY { A : ORIGIN = 0, LENGTH = 1 }\nREGION_ALIAS(\"A\", A)\n", "2",
                     "'A' is already a memory region");
    check_text_fails("MEMORY { A : ORIGIN = 0, LENGTH = 1 }\nREGION_ALIAS(B, A)\n"
                     "MEMORY { B : ORIGIN = 0, LENGTH = 1 }\n", "3", "duplicate MEMORY region 'B'");
    check_text_fails("MEMORY\n{\n  A (rx : ORIGIN = 0, LENGTH = 1\n}\n", "3",
                     "unexpected ':' in MEMORY attributes");
    check_text_fails("MEMORY\n{\n  A : LENGTH = 1, LENGTH = 2\n}\n", "3",
                     "MEMORY region 'A' has no ORIGIN");
    check_text_fails("MEMORY { A : ORIGIN = 0 LENGTH = 1 B }", "1",
                     "unexpected '}' (expected ':' after MEMORY region name)");
    check_text_fails("MEMORY = 4;", "1", "expected '{' after MEMORY");
    check_text_fails("\n\nOUTPUT_FORMAT(\"elf32", "3", "unterminated string");
    check_text_fails("x = 1;\n@", "2", "unexpected '@' in script");
    check_text_fails("x = 1 /* comment", "1", "unterminated comment");
    check_text_fails("INCLUDE ;", "1", "expected a file name after INCLUDE");
    check_text_fails("PROVIDE(x 1)", "1", "expected '='");
    check_text_fails("PROVIDE(x = 1;", "1", "expected ')' to close PROVIDE");
    check_text_fails("x = 1 / (2;", "1", "expected ')' to close '('");
    check_text_fails("ENTRY(start))", "1", "unexpected ')' in script");
    check_text_fails("y = 4;\nx = \x01;", "2", "byte 0x01");
    check_text_fails("SECTIONS { .text : { \x80 } }", "1", "byte 0x80");
}

static void test_error_binary(void **state)
{
    (void)state;
    unsigned char bytes[4096];
    uint32_t seed = 0x12345678;
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)rng_next(&seed);
    char *path = tu_tmpfile(bytes, sizeof bytes);
    assert_non_null(path);
    fs_memmap map = {0};
    fs_error err = {{0}};
    assert_int_equal(fs_ldscript_load(path, NULL, &map, &err), -1);
    size_t n = strlen(path);
    assert_memory_equal(err.msg, path, n);
    assert_int_equal(err.msg[n], ':');
    assert_true(err.msg[n + 1] >= '1' && err.msg[n + 1] <= '9'); /* a line number */
    fs_memmap_free(&map);
    unlink(path);
    free(path);
}

static void test_error_too_large(void **state)
{
    (void)state;
    char *dir = make_tmpdir(), big[256], top[256], text[512], where[300];
    assert_non_null(dir);
    snprintf(big, sizeof big, "%s/big.ld", dir);
    FILE *f = fopen(big, "w");
    assert_non_null(f);
    assert_int_equal(fputs("/* padding */\n", f) >= 0, 1);
    assert_int_equal(ftruncate(fileno(f), 17 << 20), 0);
    assert_int_equal(fclose(f), 0);

    check_load_fails(big, NULL, big, "script is larger than 16777216 bytes");

    snprintf(top, sizeof top, "%s/top.ld", dir);
    snprintf(text, sizeof text, "/* includes a huge file */\nINCLUDE \"%s\"\n", big);
    write_file(top, text);
    snprintf(where, sizeof where, "%s:2:", top);
    check_load_fails(top, NULL, where, "larger than 16777216 bytes");

    unlink(top);
    unlink(big);
    rmdir(dir);
    free(dir);
}

/* A chain of INCLUDEs d0.ld -> d1.ld -> ... -> d<n>.ld. */
static void make_chain(const char *dir, int n)
{
    char path[256], text[128];
    for (int i = 0; i <= n; i++) {
        snprintf(path, sizeof path, "%s/d%d.ld", dir, i);
        if (i < n)
            snprintf(text, sizeof text, "INCLUDE d%d.ld\n", i + 1);
        else
            snprintf(text, sizeof text, "deepest = %d;\n", i);
        write_file(path, text);
    }
}

static void remove_chain(const char *dir, int n)
{
    char path[256];
    for (int i = 0; i <= n; i++) {
        snprintf(path, sizeof path, "%s/d%d.ld", dir, i);
        unlink(path);
    }
}

static void test_include_depth(void **state)
{
    (void)state;
    char *dir = make_tmpdir(), top[256], where[300];
    fs_memmap map;
    assert_non_null(dir);
    snprintf(top, sizeof top, "%s/d0.ld", dir);

    make_chain(dir, FS_LD_MAX_INCLUDE_DEPTH);
    load_ok(top, NULL, &map);
    check_sym(&map, 0, "deepest", FS_LD_MAX_INCLUDE_DEPTH);
    fs_memmap_free(&map);
    remove_chain(dir, FS_LD_MAX_INCLUDE_DEPTH);

    make_chain(dir, FS_LD_MAX_INCLUDE_DEPTH + 1);
    snprintf(where, sizeof where, "%s/d%d.ld:1:", dir, FS_LD_MAX_INCLUDE_DEPTH);
    check_load_fails(top, NULL, where, "INCLUDEs nested more than 16 deep");
    remove_chain(dir, FS_LD_MAX_INCLUDE_DEPTH + 1);

    /* A file that INCLUDEs itself. */
    write_file(top, "\n\nINCLUDE d0.ld\n");
    snprintf(where, sizeof where, "%s/d0.ld:3:", dir);
    check_load_fails(top, NULL, where, "INCLUDE cycle");
    unlink(top);
    rmdir(dir);
    free(dir);
}

static void test_limits(void **state)
{
    (void)state;
    size_t cap = (size_t)(FS_LD_MAX_SYMBOLS + 2) * 24 + 64;
    char *text = malloc(cap), where[64];
    size_t len = 0;
    fs_memmap map;
    assert_non_null(text);

    /* Exactly the maximum number of symbols loads, one more fails. */
    for (int i = 0; i < FS_LD_MAX_SYMBOLS; i++)
        len += (size_t)snprintf(text + len, cap - len, "sym_%d = %d;\n", i, i);
    char *path = tu_tmpfile(text, len);
    assert_non_null(path);
    load_ok(path, NULL, &map);
    assert_int_equal(map.nsymbols, FS_LD_MAX_SYMBOLS);
    check_sym(&map, 54321, "sym_54321", 54321);
    fs_memmap_free(&map);
    unlink(path);
    free(path);

    len += (size_t)snprintf(text + len, cap - len, "one_too_many = 1;\n");
    path = tu_tmpfile(text, len);
    assert_non_null(path);
    snprintf(where, sizeof where, ":%d:", FS_LD_MAX_SYMBOLS + 1);
    check_load_fails(path, NULL, where, "more than 100000 symbol assignments");
    unlink(path);
    free(path);

    /* Too many regions. */
    len = (size_t)snprintf(text, cap, "MEMORY\n{\n");
    for (int i = 0; i <= FS_LD_MAX_REGIONS; i++)
        len += (size_t)snprintf(text + len, cap - len, "  R%d : ORIGIN = %d, LENGTH = 1\n", i, i);
    len += (size_t)snprintf(text + len, cap - len, "}\n");
    path = tu_tmpfile(text, len);
    assert_non_null(path);
    snprintf(where, sizeof where, ":%d:", FS_LD_MAX_REGIONS + 3);
    check_load_fails(path, NULL, where, "more than 256 MEMORY regions");
    unlink(path);
    free(path);
    free(text);
}

/* Odd but valid input. */
static void test_odd_syntax(void **state)
{
    (void)state;
    static const char text[] =
        "MEMORY{A(rx):ORIGIN=0x100,LENGTH=0x10,B:org=ORIGIN(A)+LENGTH(A),len=2*LENGTH(A)}"
        "MEMORY { VERYLONGATTRS (rwxailRWXAILrwx!) : o = 1, l = 2 }\n"
        "a=1;b=a<<2;c=b>=4?b:0;\"quoted name\" = 3;\n"
        "d = 1, e = 2;\n"
        "f = 10; f -= 3; f *= 2; f /= 7; f <<= 4; f >>= 1; f &= 0xC; f |= 1; f ^= 3;\n"
        "g += 5; /* g is unknown: skipped */\n"
        ". = 0x100;\n"
        "INSERT AFTER .text\n"
        "VERSION { VERS_1 { global: foo; local: *; }; }\n";
    char *path = tu_tmpfile(text, sizeof text - 1);
    fs_memmap map;
    assert_non_null(path);
    load_ok(path, NULL, &map);
    assert_int_equal(map.nregions, 3);
    check_region(&map, "A", 0x100, 0x10, "rx");
    check_region(&map, "B", 0x110, 0x20, "");
    check_region(&map, "VERYLONGATTRS", 1, 2, "rwxailRWXAILrwx");
    assert_int_equal(map.nsymbols, 7);
    check_sym(&map, 0, "a", 1);
    check_sym(&map, 1, "b", 4);
    check_sym(&map, 2, "c", 4);
    check_sym(&map, 3, "quoted name", 3);
    check_sym(&map, 4, "d", 1);
    check_sym(&map, 5, "e", 2);
    check_sym(&map, 6, "f", 2);     /* 10 -3 *2 /7 <<4 >>1 &0xC |1 ^3 */
    fs_memmap_free(&map);
    unlink(path);
    free(path);
}

/* Every prefix of a real-looking script, and random mutations of it, either
 * load or fail with a message: never crash (the ASan build checks leaks). */
static void test_fuzz(void **state)
{
    (void)state;
    FILE *f = fopen(LD "cortexm/app.ld", "rb");
    assert_non_null(f);
    char text[8192];
    size_t len = fread(text, 1, sizeof text, f);
    fclose(f);
    assert_true(len > 100 && len < sizeof text);
    uint32_t seed = 42;
    int ok = 0, failed = 0;

    for (size_t cut = 0; cut <= len + 500; cut += 1) {
        char buf[8192];
        size_t n = cut <= len ? cut : len;
        memcpy(buf, text, n);
        if (cut > len) { /* mutations: a few random bytes changed */
            for (int k = 0; k < 4; k++)
                buf[rng_next(&seed) % n] = (char)(rng_next(&seed) % 128);
        }
        char *path = tu_tmpfile(buf, n);
        assert_non_null(path);
        fs_memmap map = {0};
        fs_error err = {{0}};
        if (fs_ldscript_load(path, NULL, &map, &err) == 0) {
            ok++;
        } else {
            failed++;
            assert_true(strlen(err.msg) > strlen(path));
        }
        fs_memmap_free(&map);
        unlink(path);
        free(path);
    }
    assert_true(ok > 0 && failed > 0);
}

/* fs_expr_eval_size: a negation below zero is an error; ld's wrap stays in
 * fs_expr_eval. */
static void test_size_negation(void **state)
{
    (void)state;
    uint64_t v;
    char msg[256];
    assert_int_equal(fs_expr_eval("-1", NULL, NULL, &v, msg, sizeof msg), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(fs_expr_eval_size("-1", NULL, NULL, &v, msg, sizeof msg), -1);
    assert_string_equal(msg, "-0x1 is negative (a size is 0 or more bytes)");
    assert_int_equal(fs_expr_eval_size("1M + -4K", NULL, NULL, &v, msg, sizeof msg), -1);
    assert_int_equal(fs_expr_eval_size("-0 + 4K", NULL, NULL, &v, msg, sizeof msg), 0);
    assert_true(v == 4096);
    assert_int_equal(fs_expr_eval_size("0 ? -1 : 2", NULL, NULL, &v, msg, sizeof msg), 0); /* unused operand */
    assert_true(v == 2);
    assert_int_equal(fs_expr_eval_size("0xffffffffffffffff", NULL, NULL, &v, msg, sizeof msg), 0);
    assert_true(v == UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expr_numbers),
        cmocka_unit_test(test_expr_precedence),
        cmocka_unit_test(test_expr_ternary),
        cmocka_unit_test(test_expr_functions),
        cmocka_unit_test(test_expr_errors),
        cmocka_unit_test(test_esp8266),
        cmocka_unit_test(test_esp8266_romfs),
        cmocka_unit_test(test_cortex_m),
        cmocka_unit_test(test_defsym),
        cmocka_unit_test(test_search_dirs),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_error_files),
        cmocka_unit_test(test_error_snippets),
        cmocka_unit_test(test_error_binary),
        cmocka_unit_test(test_error_too_large),
        cmocka_unit_test(test_include_depth),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_odd_syntax),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_size_negation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
