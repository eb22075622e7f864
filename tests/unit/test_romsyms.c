/*
 * test_romsyms.c - the ROM table reader against the ESP8266 SDK's table and
 * against malformed inputs.
 *
 * Ground truth: the SDK file /work/shared/data/eagle.rom.addr.v6.ld (or
 * $FS_EAGLE_LD) read independently with awk, plus the facts recorded for it
 * (350 symbols, 326 PROVIDE, 24 strong, memcpy 0x4000df48, __divsi3
 * 0x4000dc88 strong, two xthal_*_nw names at 0x4000e320).  The project's own
 * rules/rom/esp8266.ld must hold the same 350 name -> address pairs.
 */
#include "testutil.h"

#include "romsyms.h"

static const char *eagle_path(void)
{
    const char *env = getenv("FS_EAGLE_LD");
    return env && *env ? env : "/work/shared/data/eagle.rom.addr.v6.ld";
}

/* Every name=addr pair of the table, sorted, one per line, via awk. */
static char *awk_pairs(const char *path)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "awk '{ s=$0; sub(/\\/\\*.*\\*\\//, \"\", s); gsub(/[ \\t();]|PROVIDE/, \"\", s);"
             " if (s ~ /=/) { split(s, a, \"=\"); v = tolower(a[2]); sub(/^0x/, \"\", v); sub(/^0+/, \"\", v);"
             " printf \"%%s=%%s\\n\", a[1], (v == \"\" ? \"0\" : v) } }' %s | sort",
             path);
    return tu_run(cmd);
}

static char *table_pairs(const fs_romtable *t)
{
    char tmpl[] = "/tmp/flashsize-rs-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    for (size_t i = 0; i < t->nsyms; i++)
        fprintf(f, "%s=%llx\n", t->syms[i].name, (unsigned long long)t->syms[i].addr);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "sort %s; rm -f %s", tmpl, tmpl);
    return tu_run(cmd);
}

static void test_sdk_table(void **state)
{
    (void)state;
    if (access(eagle_path(), R_OK) != 0)
        skip();
    fs_romtable t;
    fs_error err = {{0}};
    assert_int_equal(fs_romtable_load(eagle_path(), &t, &err), 0);
    assert_int_equal(t.nsyms, 350);
    size_t weak = 0;
    for (size_t i = 0; i < t.nsyms; i++)
        weak += t.syms[i].weak;
    assert_int_equal(weak, 326);
    /* counts also as grep sees them */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "grep -c '^PROVIDE' %s", eagle_path());
    char *n = tu_run(cmd);
    assert_non_null(n);
    assert_int_equal(strtoul(n, NULL, 10), weak);
    free(n);

    const fs_romsym *s = fs_romtable_find(&t, "memcpy");
    assert_non_null(s);
    assert_int_equal(s->addr, 0x4000DF48);
    assert_true(s->weak);
    assert_int_equal(s->line, 196);
    s = fs_romtable_find(&t, "__divsi3");
    assert_non_null(s);
    assert_int_equal(s->addr, 0x4000DC88);
    assert_false(s->weak);
    assert_int_equal(fs_romtable_find(&t, "__udivsi3")->addr, 0x4000E21C);
    assert_int_equal(fs_romtable_find(&t, "strlen")->addr, 0x4000BF4C);
    assert_int_equal(fs_romtable_find(&t, "flashchip")->addr, 0x3FFFC714);
    assert_null(fs_romtable_find(&t, "__modsi3"));
    assert_null(fs_romtable_find(&t, "malloc"));

    /* the 24 strong ones are exactly the libgcc helpers */
    static const char *const strong[] = {
        "__adddf3", "__addsf3", "__divdf3", "__divdi3", "__divsi3", "__extendsfdf2", "__fixdfsi", "__fixunsdfsi",
        "__fixunssfsi", "__floatsidf", "__floatsisf", "__floatunsidf", "__floatunsisf", "__muldf3", "__muldi3",
        "__mulsf3", "__subdf3", "__subsf3", "__truncdfsf2", "__udivdi3", "__udivsi3", "__umoddi3", "__umodsi3",
        "__umulsidi3"};
    for (size_t i = 0; i < sizeof strong / sizeof *strong; i++) {
        s = fs_romtable_find(&t, strong[i]);
        assert_non_null(s);
        assert_false(s->weak);
    }

    /* aliases: two names at 0x4000e320; _at gives the first in file order */
    size_t at = 0;
    for (size_t i = 0; i < t.nsyms; i++)
        at += t.syms[i].addr == 0x4000E320;
    assert_int_equal(at, 2);
    s = fs_romtable_at(&t, 0x4000E320);
    assert_non_null(s);
    assert_string_equal(s->name, "xthal_spill_registers_into_stack_nw");
    assert_null(fs_romtable_at(&t, 0x4000E321));

    /* every pair equals what awk reads */
    char *want = awk_pairs(eagle_path()), *got = table_pairs(&t);
    assert_non_null(want);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(want);
    free(got);
    fs_romtable_free(&t);
}

/* rules/rom/esp8266.ld: the project's copy of the same facts. */
static void test_rules_table(void **state)
{
    (void)state;
    fs_romtable t, ref;
    fs_error err = {{0}};
    assert_int_equal(fs_romtable_load("rules/rom/esp8266.ld", &t, &err), 0);
    assert_int_equal(t.nsyms, 350);
    size_t weak = 0;
    for (size_t i = 0; i < t.nsyms; i++)
        weak += t.syms[i].weak;
    assert_int_equal(weak, 326);
    if (access(eagle_path(), R_OK) == 0) {
        assert_int_equal(fs_romtable_load(eagle_path(), &ref, &err), 0);
        for (size_t i = 0; i < ref.nsyms; i++) {
            const fs_romsym *s = fs_romtable_find(&t, ref.syms[i].name);
            assert_non_null(s);
            assert_int_equal(s->addr, ref.syms[i].addr);
            assert_int_equal(s->weak, ref.syms[i].weak);
        }
        fs_romtable_free(&ref);
    }
    /* and GNU ld accepts it: link a program that calls memcpy and check
     * the address ld resolved */
    char *out = tu_run("d=$(mktemp -d) && printf 'void *memcpy(void *, const void *, unsigned);\\n"
                       "void f(char *a, char *b, unsigned n) { memcpy(a, b, n); }\\n' > $d/a.c && "
                       "xtensa-lx106-elf-gcc -Os -mlongcalls -nostdlib -c $d/a.c -o $d/a.o && "
                       "xtensa-lx106-elf-ld -e f -T rules/rom/esp8266.ld $d/a.o -o $d/a.elf && "
                       "xtensa-lx106-elf-nm $d/a.elf | awk '$3==\"memcpy\"{print $1}'; rm -rf $d");
    assert_non_null(out);
    assert_string_equal(out, "4000df48\n");
    free(out);
    fs_romtable_free(&t);
}

/* rules/rom/esp8266.ld comes from the table built in at build time
 * (scripts/romtab-gen.c); the same text with one more byte is parsed here:
 * both give the same symbols, in the same order, with the same lines, and
 * every name is found in both. */
static void test_builtin(void **state)
{
    (void)state;
    fs_romtable b, p;
    fs_error err = {{0}};
    assert_int_equal(fs_romtable_load("rules/rom/esp8266.ld", &b, &err), 0);
    assert_true(b.builtin);
    char *copy = tu_run("d=$(mktemp -d) && cp rules/rom/esp8266.ld $d/rom.ld && echo >> $d/rom.ld && echo $d");
    assert_non_null(copy);
    copy[strcspn(copy, "\n")] = '\0';
    char path[512];
    snprintf(path, sizeof path, "%s/rom.ld", copy);
    assert_int_equal(fs_romtable_load(path, &p, &err), 0);
    assert_false(p.builtin);
    assert_int_equal(b.nsyms, p.nsyms);
    for (size_t i = 0; i < p.nsyms; i++) {
        assert_string_equal(b.syms[i].name, p.syms[i].name);
        assert_int_equal(b.syms[i].addr, p.syms[i].addr);
        assert_int_equal(b.syms[i].weak, p.syms[i].weak);
        assert_int_equal(b.syms[i].line, p.syms[i].line);
        assert_ptr_equal(fs_romtable_find(&b, p.syms[i].name), &b.syms[i]);
        assert_ptr_equal(fs_romtable_find(&p, b.syms[i].name), &p.syms[i]);
    }
    assert_memory_equal(b.filter, p.filter, sizeof b.filter);
    assert_null(fs_romtable_find(&b, "memcpz"));
    assert_null(fs_romtable_find(&b, ""));
    fs_romtable_free(&b);
    fs_romtable_free(&p);
    /* the same length, one digit of memcpy's address changed: parsed, with the new address */
    snprintf(path, sizeof path, "%s/same.ld", copy);
    char cmd2[1200];
    snprintf(cmd2, sizeof cmd2, "sed 's/\\(( memcpy *= 0x4000df4\\)8/\\19/' rules/rom/esp8266.ld > %s", path);
    free(tu_run(cmd2));
    assert_int_equal(fs_romtable_load(path, &p, &err), 0);
    assert_false(p.builtin);
    const fs_romsym *m = fs_romtable_find(&p, "memcpy");
    assert_non_null(m);
    assert_int_equal(m->addr, 0x4000df49);
    fs_romtable_free(&p);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", copy);
    free(tu_run(cmd));
    free(copy);
}

static void expect_error(const char *text, const char *want)
{
    char *path = tu_tmpfile(text, strlen(text));
    assert_non_null(path);
    fs_romtable t;
    fs_error err = {{0}};
    assert_int_equal(fs_romtable_load(path, &t, &err), -1);
    assert_int_equal(t.nsyms, 0);
    char full[512];
    snprintf(full, sizeof full, "%s%s", path, want);
    if (!strstr(err.msg, full))
        fail_msg("got '%s', wanted '%s'", err.msg, full);
    unlink(path);
    free(path);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_error("PROVIDE ( a = 0x1 );\nPROVIDE ( b = 0x2 )\n", ":2: expected ';'");
    expect_error("a = 0x1;\n\nb = ;\n", ":3: expected a number");
    expect_error("a = 0x1;\nSECTIONS { }\n", ":2: expected '=' after the symbol name");
    expect_error("PROVIDE a = 1;\n", ":1: expected '(' after PROVIDE");
    expect_error("PROVIDE ( a = 0x1 ;\n", ":1: expected ')' closing PROVIDE");
    expect_error("a = 0x12g4;\n", ":1: expected a number");
    expect_error("a = 0x1ffffffffffffffff;\n", ":1: address does not fit in 64 bits");
    expect_error("x = 1;\n/* open\n\n", ":2: unterminated comment");
    expect_error("a = 0x1;\nb = 0x2;\na = 0x3;\n", ":3: symbol 'a' defined twice (first on line 1)");
    /* the earliest second definition in the file, whatever the names' order */
    expect_error("z = 1;\nb = 2;\nz = 3;\nb = 4;\nz = 5;\n", ":3: symbol 'z' defined twice (first on line 1)");
    expect_error("a = 0x1; )\n", ":1: unexpected ')' after the assignment");
    expect_error("= 0x1;\n", ":1: expected a symbol assignment");
    expect_error("/* only a comment */\n\n", ": no symbol assignments");
    expect_error("", ": no symbol assignments");
    static const char nul[] = "a = 1;\n\0b = 2;\n";
    char *path = tu_tmpfile(nul, sizeof nul - 1);
    fs_romtable t;
    fs_error err = {{0}};
    assert_int_equal(fs_romtable_load(path, &t, &err), -1);
    assert_non_null(strstr(err.msg, ":2: NUL byte"));
    unlink(path);
    free(path);
    assert_int_equal(fs_romtable_load("/nonexistent/rom.ld", &t, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/rom.ld: cannot open"));
    assert_int_equal(fs_romtable_load("/tmp", &t, &err), -1);
    assert_non_null(strstr(err.msg, "/tmp: not a regular file"));
}

static void test_layouts(void **state)
{
    (void)state;
    static const char text[] =
        "/* header\n   spanning lines */\n"
        "PROVIDE(tight=0xABCD);\n"
        "  PROVIDE ( spaced = 0x10 ) ;  // trailing comment\n"
        "strong = 4096; /* decimal */\n"
        "one = 0x1; two = 0x2;\n"
        "\r\n"
        "last=0x4000e320;";
    char *path = tu_tmpfile(text, sizeof text - 1);
    fs_romtable t;
    fs_error err = {{0}};
    assert_int_equal(fs_romtable_load(path, &t, &err), 0);
    assert_int_equal(t.nsyms, 6);
    assert_string_equal(t.syms[0].name, "tight");
    assert_int_equal(t.syms[0].addr, 0xABCD);
    assert_true(t.syms[0].weak);
    assert_int_equal(t.syms[0].line, 3);
    assert_int_equal(t.syms[1].addr, 0x10);
    assert_int_equal(t.syms[1].line, 4);
    assert_false(t.syms[2].weak);
    assert_int_equal(t.syms[2].addr, 4096);
    assert_int_equal(t.syms[4].line, 6);
    assert_string_equal(t.syms[4].name, "two");
    assert_int_equal(t.syms[5].line, 8);
    assert_string_equal(t.path, path);
    fs_romtable_free(&t);
    unlink(path);
    free(path);
}

/* A table over the symbol cap is refused, not loaded. */
static void test_caps(void **state)
{
    (void)state;
    char *path = strdup("/tmp/flashsize-rs-big-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    for (unsigned i = 0; i < 70000; i++)
        fprintf(f, "s%u=%u;\n", i, i);
    fclose(f);
    fs_romtable t;
    fs_error err = {{0}};
    assert_int_equal(fs_romtable_load(path, &t, &err), -1);
    assert_non_null(strstr(err.msg, ":65537: more than 65536 symbols"));
    /* over the size cap */
    assert_int_equal(truncate(path, 5 << 20), 0);
    assert_int_equal(fs_romtable_load(path, &t, &err), -1);
    assert_non_null(strstr(err.msg, ": ROM table is 5242880 bytes, larger than the 4194304-byte limit"));
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdk_table), cmocka_unit_test(test_rules_table), cmocka_unit_test(test_builtin),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_layouts), cmocka_unit_test(test_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
