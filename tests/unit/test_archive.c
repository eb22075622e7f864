/*
 * test_archive.c - the object and ar archive reader against binutils.
 *
 * Ground truth comes from the toolchains' own tools run on the same files:
 * `ar t` (members, in order), the Berkeley form of `size` on the archive
 * (text = code + read-only, data, bss per member), `size -A` and `nm` on
 * members extracted with `ar x` into a temporary directory.  Inputs are the
 * sample archives samples/natmod/build/{xtensa,armv7m}/libmini.a (built by
 * samples/natmod/Makefile) and the toolchains' real libgcc.a files.  Bad
 * inputs: every truncation of an archive, text files, non-ELF and non-ET_REL
 * members, thin archives and corrupt member headers.
 */
#include "testutil.h"

#include "archive.h"

#include <gelf.h>

#define XT_MINI   "samples/natmod/build/xtensa/libmini.a"
#define ARM_MINI  "samples/natmod/build/armv7m/libmini.a"
#define XT_OWNMEM "samples/natmod/build/xtensa/ownmem.o"

/* A path printed by a command, without its newline (malloc'd). */
static char *run_line(const char *cmd)
{
    char *s = tu_run(cmd);
    assert_non_null(s);
    s[strcspn(s, "\n")] = '\0';
    return s;
}

static char *xt_libgcc(void)
{
    return run_line("xtensa-lx106-elf-gcc -print-libgcc-file-name");
}
static char *arm_libgcc(void)
{
    return run_line("arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -print-libgcc-file-name");
}

/* Append to a growing string. */
static void cat(char **buf, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char **buf, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *piece = NULL;
    assert_true(vasprintf(&piece, fmt, ap) >= 0);
    va_end(ap);
    size_t n = strlen(piece);
    *buf = realloc(*buf, *len + n + 1);
    assert_non_null(*buf);
    memcpy(*buf + *len, piece, n + 1);
    *len += n;
    free(piece);
}

/* Members and their Berkeley sizes, as `size ARCHIVE` prints them. */
static void check_against_size(const char *prefix, const char *path, size_t expect_members)
{
    fs_archive a;
    fs_error err = {{0}};
    assert_int_equal(fs_archive_load(path, &a, &err), 0);
    assert_int_equal(a.nmembers, expect_members);

    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%sar t %s", prefix, path);
    char *names = tu_run(cmd);
    assert_non_null(names);
    char *mine = NULL;
    size_t len = 0;
    for (size_t i = 0; i < a.nmembers; i++)
        cat(&mine, &len, "%s\n", a.members[i].name);
    assert_string_equal(mine, names);
    free(mine);
    free(names);

    snprintf(cmd, sizeof cmd, "%ssize %s | awk 'NR > 1 { print $6, $1, $2, $3 }'", prefix, path);
    char *sizes = tu_run(cmd);
    assert_non_null(sizes);
    mine = NULL;
    len = 0;
    for (size_t i = 0; i < a.nmembers; i++) {
        const fs_object *o = &a.members[i];
        cat(&mine, &len, "%s %llu %llu %llu\n", o->name, (unsigned long long)(o->text + o->rodata),
            (unsigned long long)o->data, (unsigned long long)o->bss);
        assert_int_equal(fs_object_file_bytes(o), o->text + o->rodata + o->data);
    }
    assert_string_equal(mine, sizes);
    free(mine);
    free(sizes);
    fs_archive_free(&a);
}

static void test_libmini_xtensa(void **state)
{
    (void)state;
    check_against_size("xtensa-lx106-elf-", XT_MINI, 2);
}

static void test_libmini_armv7m(void **state)
{
    (void)state;
    check_against_size("arm-none-eabi-", ARM_MINI, 2);
}

static void test_libgcc_xtensa(void **state)
{
    (void)state;
    char *lib = xt_libgcc();
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "xtensa-lx106-elf-ar t %s | wc -l", lib);
    char *n = run_line(cmd);
    check_against_size("xtensa-lx106-elf-", lib, (size_t)strtoul(n, NULL, 10));
    free(n);
    free(lib);
}

static void test_libgcc_arm(void **state)
{
    (void)state;
    char *lib = arm_libgcc();
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "arm-none-eabi-ar t %s | wc -l", lib);
    char *n = run_line(cmd);
    check_against_size("arm-none-eabi-", lib, (size_t)strtoul(n, NULL, 10));
    free(n);
    free(lib);
}

/* The global definitions ("T name size") and undefined references
 * ("U name") of o, in symbol-table order, as nm -S -g -p prints them. */
static char *object_syms(const fs_object *o)
{
    char *s = NULL;
    size_t len = 0;
    cat(&s, &len, "%s", "");
    for (size_t i = 0; i < o->img.nsymbols; i++) {
        const fs_symbol *y = &o->img.symbols[i];
        if (fs_symbol_is_undef_ref(y))
            cat(&s, &len, "U %s\n", y->name);
        else if (fs_symbol_is_global_def(y))
            cat(&s, &len, "%s %08llx %08llx\n", y->name, (unsigned long long)y->value, (unsigned long long)y->size);
    }
    return s;
}

#define NM_AWK                                                                                                         \
    "awk 'NF == 2 && ($1 == \"U\" || $1 == \"w\") { print \"U\", $2 } '"                                               \
    "'NF == 3 { print $3, $1, \"00000000\" } NF == 4 { print $4, $1, $2 }'"

/* Members extracted with ar x: nm -S and size -A agree with the reader. */
static void test_extracted_members(void **state)
{
    (void)state;
    char *lib = xt_libgcc();
    char dir[] = "/tmp/flashsize-ar-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd %s && xtensa-lx106-elf-ar x %s _modsi3.o _moddi3.o", dir, lib);
    char *ok = tu_run(cmd);
    assert_non_null(ok);
    free(ok);

    fs_archive a;
    fs_error err = {{0}};
    assert_int_equal(fs_archive_load(lib, &a, &err), 0);
    const char *members[] = {"_modsi3.o", "_moddi3.o"};
    for (size_t k = 0; k < 2; k++) {
        long i = fs_archive_find(&a, k == 0 ? "__modsi3" : "__moddi3");
        assert_true(i >= 0);
        const fs_object *o = &a.members[i];
        assert_string_equal(o->name, members[k]);
        char *mine = object_syms(o);
        snprintf(cmd, sizeof cmd, "xtensa-lx106-elf-nm -S -g -p %s/%s | %s", dir, members[k], NM_AWK);
        char *nm = tu_run(cmd);
        assert_non_null(nm);
        assert_string_equal(mine, nm);
        free(mine);
        free(nm);
        /* size -A: .literal + .text (the code classes) of the member */
        snprintf(
            cmd, sizeof cmd,
            "xtensa-lx106-elf-size -A %s/%s | awk '$1 == \".text\" || $1 == \".literal\" { t += $2 } END { print t }'",
            dir, members[k]);
        char *text = run_line(cmd);
        assert_int_equal(o->text, strtoull(text, NULL, 10));
        free(text);
        /* its label names archive and member */
        char label[1024];
        snprintf(label, sizeof label, "%s(%s)", lib, members[k]);
        assert_string_equal(o->img.path, label);
    }
    /* __modsi3 is 73 bytes of text in Debian's xtensa libgcc 12.2 (size above). */
    assert_int_equal(a.members[fs_archive_find(&a, "__modsi3")].text,
                     fs_object_defines(&a.members[fs_archive_find(&a, "__modsi3")], "__modsi3")->size);
    assert_int_equal(fs_archive_find(&a, "__udivsi3"), -1); /* the ROM has it; this libgcc does not */
    assert_int_equal(fs_archive_find(&a, "no_such_symbol"), -1);
    fs_archive_free(&a);

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    free(tu_run(cmd));
    free(lib);
}

/* A .o read on its own: classes against size -A of each section. */
static void test_object_file(void **state)
{
    (void)state;
    fs_object o;
    fs_error err = {{0}};
    assert_int_equal(fs_object_load(XT_OWNMEM, &o, &err), 0);
    assert_string_equal(o.name, XT_OWNMEM);
    char *sz = run_line("xtensa-lx106-elf-size -A " XT_OWNMEM " | awk '"
                        "$1 == \".literal\" || $1 == \".text\" { t += $2 } "
                        "$1 ~ /^\\.rodata/ { r += $2 } "
                        "$1 == \".data\" || $1 ~ /^\\.data\\.rel\\.ro/ { d += $2 } "
                        "$1 == \".bss\" { b += $2 } END { print t, r, d, b }'");
    char mine[128];
    snprintf(mine, sizeof mine, "%llu %llu %llu %llu", (unsigned long long)o.text, (unsigned long long)o.rodata,
             (unsigned long long)o.data, (unsigned long long)o.bss);
    assert_string_equal(mine, sz);
    free(sz);
    /* and the Berkeley totals */
    char *berkeley = run_line("xtensa-lx106-elf-size " XT_OWNMEM " | awk 'NR == 2 { print $1, $2, $3 }'");
    snprintf(mine, sizeof mine, "%llu %llu %llu", (unsigned long long)(o.text + o.rodata), (unsigned long long)o.data,
             (unsigned long long)o.bss);
    assert_string_equal(mine, berkeley);
    free(berkeley);
    char *mysyms = object_syms(&o);
    char *nm = tu_run("xtensa-lx106-elf-nm -S -g -p " XT_OWNMEM " | " NM_AWK);
    assert_non_null(nm);
    assert_string_equal(mysyms, nm);
    free(mysyms);
    free(nm);
    const fs_symbol *mc = fs_object_defines(&o, "memcpy");
    assert_non_null(mc);
    assert_int_equal(mc->type, STT_FUNC);
    assert_null(fs_object_defines(&o, "strlen")); /* referenced, not defined */
    assert_null(fs_object_defines(&o, "op_len")); /* local */
    fs_object_free(&o);
}

static void expect_fail(int rc, const fs_error *err, const char *path, const char *what)
{
    assert_int_equal(rc, -1);
    char want[2048];
    snprintf(want, sizeof want, "%s", path);
    if (strncmp(err->msg, want, strlen(want)) != 0 || !strstr(err->msg, what)) {
        print_error("message '%s' should start with '%s' and say '%s'\n", err->msg, path, what);
        fail();
    }
}

/* Every cut of the archive fails naming it (except the 8-byte cut, which
 * is a valid empty archive). */
static void test_truncations(void **state)
{
    (void)state;
    unsigned char *data;
    size_t len;
    fs_error err = {{0}};
    assert_int_equal(fs_read_file(XT_MINI, 1u << 20, "archive", &data, &len, &err), 0);
    size_t failed = 0;
    for (size_t n = 0; n < len; n++) {
        char *p = tu_tmpfile(data, n);
        assert_non_null(p);
        fs_archive a;
        int rc = fs_archive_load(p, &a, &err);
        if (n == 8) {
            assert_int_equal(rc, 0);
            assert_int_equal(a.nmembers, 0);
            fs_archive_free(&a);
        } else {
            assert_int_equal(rc, -1);
            assert_int_equal(strncmp(err.msg, p, strlen(p)), 0);
            failed++;
        }
        unlink(p);
        free(p);
    }
    assert_int_equal(failed, len - 1);
    /* the messages name the problem */
    char *p = tu_tmpfile(data, 2305);
    fs_archive a;
    expect_fail(fs_archive_load(p, &a, &err), &err, p,
                "truncated archive: member 'strlen.o' claims 1044 bytes at offset 1262, only 1043 left");
    unlink(p);
    free(p);
    p = tu_tmpfile(data, 1202);
    expect_fail(fs_archive_load(p, &a, &err), &err, p, "the symbol index puts 'strlen' in a member at offset 1202");
    unlink(p);
    free(p);
    /* a corrupt size field */
    unsigned char *bad = malloc(len);
    memcpy(bad, data, len);
    memcpy(bad + 94 + 48, "12x4      ", 10); /* memcpy.o's header starts at 94 */
    p = tu_tmpfile(bad, len);
    expect_fail(fs_archive_load(p, &a, &err), &err, p, "corrupt member header at offset 94 (bad size field)");
    unlink(p);
    free(p);
    free(bad);
    free(data);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    fs_error err = {{0}};
    fs_archive a;
    fs_object o;
    const char text[] = "GROUP ( libc.a libm.a )\n";
    char *p = tu_tmpfile(text, sizeof text - 1);
    expect_fail(fs_archive_load(p, &a, &err), &err, p, "not an ar archive");
    expect_fail(fs_object_load(p, &o, &err), &err, p, "not an ELF file");
    unlink(p);
    free(p);
    expect_fail(fs_archive_load("/nonexistent/lib.a", &a, &err), &err, "/nonexistent/lib.a", "cannot open");
    /* an executable is ELF but not a relocatable object */
    expect_fail(fs_object_load("samples/natmod/build/xtensa-libs.elf", &o, &err), &err,
                "samples/natmod/build/xtensa-libs.elf", "not a relocatable object (ELF type 2");
    /* a .o given as a library */
    expect_fail(fs_archive_load(XT_OWNMEM, &a, &err), &err, XT_OWNMEM, "not an ar archive");

    /* archives built by ar with a text member, an executable member; a thin one */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char dir[] = "/tmp/flashsize-ar-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "cd %s && printf 'hello\\n' > notes.txt && cp %s/samples/natmod/build/xtensa/memcpy.o . && "
             "cp %s/samples/natmod/build/xtensa-libs.elf prog.elf && "
             "ar rc text.a memcpy.o notes.txt && ar rc exec.a prog.elf && ar rcT thin.a memcpy.o",
             dir, cwd, cwd);
    free(tu_run(cmd));
    char path[1200], member[1300];
    snprintf(path, sizeof path, "%s/text.a", dir);
    snprintf(member, sizeof member, "%s(notes.txt)", path);
    expect_fail(fs_archive_load(path, &a, &err), &err, member, "not an ELF file (bad magic)");
    snprintf(path, sizeof path, "%s/exec.a", dir);
    snprintf(member, sizeof member, "%s(prog.elf)", path);
    expect_fail(fs_archive_load(path, &a, &err), &err, member, "not a relocatable object");
    snprintf(path, sizeof path, "%s/thin.a", dir);
    expect_fail(fs_archive_load(path, &a, &err), &err, path, "thin archive");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    free(tu_run(cmd));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libmini_xtensa),    cmocka_unit_test(test_libmini_armv7m),
        cmocka_unit_test(test_libgcc_xtensa),     cmocka_unit_test(test_libgcc_arm),
        cmocka_unit_test(test_extracted_members), cmocka_unit_test(test_object_file),
        cmocka_unit_test(test_truncations),       cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
