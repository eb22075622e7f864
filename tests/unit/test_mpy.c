/*
 * test_mpy.c - the .mpy parser: a hand-assembled native module whose every
 * byte is known here, the samples the project's packer wrote (compared with
 * the packer's sidecar), and malformed files (bad magic, version 5, every
 * truncation, relocations out of range, huge counts) that must fail with a
 * message naming the file.
 */
#include "testutil.h"

#include "mpy.h"

/* xtensa natmod, sub-version 3: qstrs "m.mpy" and static 5; text of 16
 * bytes (4 words); bss 8; relocations:

 *   op 0x11 addr 0x02 (text word 1): k 8, &mp_fun_table
 *   op 0x03 addr 0x04 n 2 (text words 2, 3): k 1, text base, a run of 2 */
static const uint8_t good[] = {
    'M', 6, 0x27, 31,           /* header: xtensa, sub 3 */
    2, 0,                       /* 2 qstrs, 0 objects */
    10, 'm', '.', 'm', 'p', 'y', 0, /* qstr "m.mpy" (len 5 << 1) */
    11,                         /* static qstr 5 */
    0x80 | 1, 0x02,             /* kind_len = 16 << 3 | 2 = 130 */
    0x06, 0x00, 0x00, 0x00,     /* text word 0 */
    0x00, 0x00, 0x00, 0x00,     /* word 1 */
    0x10, 0x00, 0x00, 0x00,     /* word 2 */
    0x48, 0xdf, 0x00, 0x40,     /* word 3: 0x4000df48 (memcpy in ROM), no reloc */
    0x50,                       /* scope flags: VIPERRELOC | VIPERBSS */
    8,                          /* bss size */
    0x11, 0x02,                 /* k 8 fun_table at text word 1 */
    0x03, 0x04, 2,              /* k 1 (text, run) at text word 2, n 2: words 2, 3 */
    0xff,
};

static void test_good(void **state)
{
    (void)state;
    fs_mpy m;
    fs_error err = {{0}};
    assert_int_equal(fs_mpy_parse("good.mpy", good, sizeof good, &m, &err), 0);
    assert_int_equal(m.hdr.arch, 9);
    assert_int_equal(m.hdr.sub_version, 3);
    assert_int_equal(m.word_size, 4);
    assert_int_equal(m.nqstrs, 2);
    assert_string_equal(m.qstrs[0].str, "m.mpy");
    assert_true(m.qstrs[1].is_static);
    assert_int_equal(m.qstrs[1].static_id, 5);
    assert_int_equal(m.nrawcodes, 1);
    assert_int_equal(m.natmod, 0);
    const fs_mpy_rawcode *rc = &m.rawcodes[0];
    assert_int_equal(rc->kind, FS_MPY_VIPER);
    assert_int_equal(rc->data_len, 16);
    assert_int_equal(rc->data_offset, 16);
    assert_int_equal(rc->scope_flags, 0x50);
    assert_int_equal(rc->bss_size, 8);
    assert_int_equal(rc->rodata_size, 0);
    assert_string_equal(rc->name, "m.mpy");
    assert_int_equal(m.nrelocs, 2);
    assert_int_equal(m.relocs[0].kind, 8);
    assert_int_equal(m.relocs[0].word, 1);
    assert_int_equal(m.relocs[0].count, 1);
    assert_int_equal(m.relocs[0].offset, 34);
    assert_int_equal(m.relocs[1].kind, 1);
    assert_int_equal(m.relocs[1].word, 2);
    assert_int_equal(m.relocs[1].count, 2);
    char buf[64];
    fs_mpy_reloc_dest(&m.relocs[0], buf, sizeof buf);
    assert_string_equal(buf, "fun_table");
    fs_mpy_reloc_dest(&m.relocs[1], buf, sizeof buf);
    assert_string_equal(buf, "text");
    fs_mpy_reloc r = {.kind = 60};
    fs_mpy_reloc_dest(&r, buf, sizeof buf);
    assert_string_equal(buf, "fun_table[51] memmove");
    uint64_t w;
    assert_int_equal(fs_mpy_text_word(&m, 0, 3, &w), 0);
    assert_int_equal(w, 0x4000df48);
    assert_int_equal(fs_mpy_text_word(&m, 0, 4, &w), -1);
    assert_false(fs_mpy_text_word_relocated(&m, 0, 0));
    assert_true(fs_mpy_text_word_relocated(&m, 0, 1));
    assert_true(fs_mpy_text_word_relocated(&m, 0, 3));
    assert_string_equal(fs_mpy_arch_name(m.hdr.arch), "xtensa");
    fs_mpy_free(&m);
}

static void expect_fail(const uint8_t *data, size_t len, const char *want)
{
    fs_mpy m;
    fs_error err = {{0}};
    assert_int_equal(fs_mpy_parse("bad.mpy", data, len, &m, &err), -1);
    assert_int_equal(m.nrawcodes, 0);
    assert_null(m.data);
    if (strncmp(err.msg, "bad.mpy: ", 9) != 0 || !strstr(err.msg, want))
        fail_msg("got '%s', wanted 'bad.mpy: ...%s'", err.msg, want);
}

static void test_bad(void **state)
{
    (void)state;
    uint8_t b[sizeof good];
    memcpy(b, good, sizeof b);
    b[0] = 'C';
    expect_fail(b, sizeof b, "bad magic 0x43");
    memcpy(b, good, sizeof b);
    b[1] = 5;
    expect_fail(b, sizeof b, "offset 0x1: unsupported .mpy version 5");
    memcpy(b, good, sizeof b);
    b[2] = 0xa7;
    expect_fail(b, sizeof b, "reserved feature bit 7");
    memcpy(b, good, sizeof b);
    b[2] = 14 << 2 | 3;
    expect_fail(b, sizeof b, "native architecture 14 is not loadable");
    /* every truncation fails, naming the file */
    for (size_t cut = 0; cut < sizeof good; cut++) {
        fs_mpy m;
        fs_error err = {{0}};
        assert_int_equal(fs_mpy_parse("bad.mpy", good, cut, &m, &err), -1);
        assert_int_equal(strncmp(err.msg, "bad.mpy: ", 9), 0);
    }
    expect_fail(good, 30, "offset 0x10: machine code of 16 bytes runs past the end of the file (14 left)");
    expect_fail(good, 35, "offset 0x23: relocation address varint missing (file truncated)");
    expect_fail(good, 39, "offset 0x27: relocation op missing (file truncated)");
    /* a trailing byte */
    uint8_t t[sizeof good + 1];
    memcpy(t, good, sizeof good);
    t[sizeof good] = 0;
    expect_fail(t, sizeof t, "offset 0x28: 1 unexpected bytes after the raw code");
    /* run past text: n = 3 from word 2 of 4 */
    memcpy(b, good, sizeof b);
    b[38] = 3;
    expect_fail(b, sizeof b, "offset 0x24: relocation of 3 word(s) at text word 2 lies outside text (16 bytes)");
    /* new address beyond text */
    memcpy(b, good, sizeof b);
    b[35] = 0x20; /* text word 16 */
    expect_fail(b, sizeof b, "offset 0x22: relocation of 1 word(s) at text word 16 lies outside text");
    /* rodata base with no rodata */
    memcpy(b, good, sizeof b);
    b[35] = 0x03; /* rodata word 1 */
    expect_fail(b, sizeof b, "at rodata word 1 lies outside rodata (0 bytes)");
    /* huge counts */
    static const uint8_t huge_q[] = {'M', 6, 0x27, 31, 0x8f, 0xff, 0xff, 0xff, 0x7f, 0};
    expect_fail(huge_q, sizeof huge_q, "offset 0x4: number of qstrs 4294967295 exceeds the limit of 65536");
    static const uint8_t many_q[] = {'M', 6, 0x27, 31, 0x83, 0x80, 0, 1, 1};
    expect_fail(many_q, sizeof many_q, "49152 qstrs and 1 objects cannot fit in the 1 bytes left");
    static const uint8_t long_v[] = {'M', 6, 0x27, 31, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    expect_fail(long_v, sizeof long_v, "offset 0x4: number of qstrs varint truncated or too long");
    static const uint8_t big_str[] = {'M', 6, 0, 31, 1, 0, 0x8f, 0xff, 0xff, 0xff, 0x7e, 'a', 0};
    expect_fail(big_str, sizeof big_str, "offset 0xb: qstr of 2147483647 bytes runs past the end");
    static const uint8_t obj[] = {'M', 6, 0, 31, 0, 1, 42, 0, 0};
    expect_fail(obj, sizeof obj, "offset 0x6: unknown object type 42");
    static const uint8_t big_obj[] = {'M', 6, 0, 31, 0, 1, 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    expect_fail(big_obj, sizeof big_obj, "object of 9223372036854775807 bytes runs past the end");
    static const uint8_t unterminated_q[] = {'M', 6, 0, 31, 1, 0, 2, 'a', 'b', 0};
    expect_fail(unterminated_q, sizeof unterminated_q, "offset 0x8: qstr 0 is not NUL-terminated");
    /* raw code nesting deeper than the cap: bytecode with 1 child, repeated */
    uint8_t deep[4 + 2 + 2 * 70 + 1];
    size_t n = 0;
    deep[n++] = 'M'; deep[n++] = 6; deep[n++] = 0; deep[n++] = 31; deep[n++] = 0; deep[n++] = 0;
    for (int i = 0; i < 70; i++) {
        deep[n++] = 4; /* bytecode, has children, no data */
        deep[n++] = 1;
    }
    deep[n++] = 0;
    expect_fail(deep, n, "raw code nested deeper than 64");
    static const uint8_t kids[] = {'M', 6, 0, 31, 0, 0, 4, 0x8f, 0xff, 0xff, 0xff, 0x7f};
    expect_fail(kids, sizeof kids, "number of children 4294967295 exceeds the limit of 65536");
}

/* A bytecode file with objects, a tuple and children. */
static void test_tree(void **state)
{
    (void)state;
    static const uint8_t f[] = {
        'M', 6, 0, 31, 1, 3,
        8, 't', '.', 'p', 'y', 0,                  /* "t.py" */
        5, 2, 'h', 'i', 0,                         /* str "hi" */
        10, 2, 7, 1, '7', 1,                       /* tuple (7, None) */
        8, 3, '1', '.', '5',                       /* float "1.5" */
        (3 << 3) | 4, 0xaa, 0xbb, 0xcc, 2,         /* bytecode, 3 bytes, 2 children */
        (1 << 3) | 0, 0x11,                        /* child: bytecode, 1 byte */
        (2 << 3) | 3, 0x22, 0x33, 0, 2, 5,         /* child: asm, flags 0, 2 args, sig 5 */
    };
    fs_mpy m;
    fs_error err = {{0}};
    if (fs_mpy_parse("t.mpy", f, sizeof f, &m, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(m.hdr.arch, 0);
    assert_int_equal(m.nobjs, 3);
    assert_int_equal(m.objs[0].type, 5);
    assert_int_equal(m.objs[0].len, 2);
    assert_int_equal(m.objs[0].size, 5);
    assert_int_equal(m.objs[1].type, 10);
    assert_int_equal(m.objs[1].len, 2);
    assert_int_equal(m.objs[1].size, 6);
    assert_string_equal(fs_mpy_obj_type_name(m.objs[2].type), "float");
    assert_int_equal(m.nrawcodes, 3);
    assert_int_equal(m.natmod, -1);
    assert_int_equal(m.rawcodes[0].nchildren, 2);
    assert_int_equal(m.rawcodes[0].data_len, 3);
    assert_int_equal(m.rawcodes[1].parent, 0);
    assert_int_equal(m.rawcodes[1].depth, 1);
    assert_int_equal(m.rawcodes[2].kind, FS_MPY_ASM);
    assert_int_equal(m.rawcodes[2].n_pos_args, 2);
    assert_int_equal(m.rawcodes[2].type_sig, 5);
    assert_int_equal(m.rawcodes[0].end, sizeof f);
    assert_string_equal(fs_mpy_kind_name(m.rawcodes[2].kind), "asm");
    fs_mpy_free(&m);
}

static void test_load_errors(void **state)
{
    (void)state;
    fs_mpy m;
    fs_error err = {{0}};
    assert_int_equal(fs_mpy_load("/nonexistent/x.mpy", &m, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/x.mpy: cannot open"));
    char *p = tu_tmpfile("", 0);
    assert_int_equal(fs_mpy_load(p, &m, &err), -1);
    assert_non_null(strstr(err.msg, ": empty file"));
    unlink(p);
    free(p);
    p = tu_tmpfile(good, sizeof good);
    assert_int_equal(fs_mpy_load(p, &m, &err), 0);
    assert_string_equal(m.path, p);
    assert_int_equal(m.len, sizeof good);
    fs_mpy_free(&m);
    unlink(p);
    free(p);
}

/* The packer's samples: every fact in NAME.sidecar, and .text's size as the
 * toolchain's `size -A` reports it for the linked NAME.elf. */
static void check_sample(const char *name, const char *size_tool)
{
    char path[256], cmd[512];
    snprintf(path, sizeof path, "samples/natmod/build/%s.mpy", name);
    fs_mpy m;
    fs_error err = {{0}};
    if (fs_mpy_load(path, &m, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(m.natmod, 0);
    const fs_mpy_rawcode *rc = &m.rawcodes[0];
    snprintf(cmd, sizeof cmd, "%s -A samples/natmod/build/%s.elf | awk '$1==\".text\"{print $2}'", size_tool, name);
    char *s = tu_run(cmd);
    assert_non_null(s);
    assert_int_equal(rc->data_len, strtoull(s, NULL, 10));
    free(s);
    snprintf(cmd, sizeof cmd, "cat samples/natmod/build/%s.sidecar", name);
    char *side = tu_run(cmd);
    assert_non_null(side);
    size_t nreloc = 0, nrom = 0;
    for (char *line = strtok(side, "\n"); line; line = strtok(NULL, "\n")) {
        char key[32], arg[64];
        unsigned long long a, b, c, d;
        if (sscanf(line, "reloc %llu %llu %llu %llu", &a, &b, &c, &d) == 4) {
            assert_true(nreloc < m.nrelocs);
            const fs_mpy_reloc *r = &m.relocs[nreloc++];
            assert_int_equal(r->base, a);
            assert_int_equal(r->word, b);
            assert_int_equal(r->count, c);
            assert_int_equal(r->kind, d);
        } else if (sscanf(line, "rom %llu %llx %63s", &a, &b, arg) == 3) {
            uint64_t w;
            assert_int_equal(fs_mpy_text_word(&m, 0, a, &w), 0);
            assert_int_equal(w, b);
            assert_false(fs_mpy_text_word_relocated(&m, 0, a));
            nrom++;
        } else if (sscanf(line, "%31s %63s", key, arg) == 2) {
            if (strcmp(key, "arch") == 0)
                assert_string_equal(fs_mpy_arch_name(m.hdr.arch), arg);
            else if (strcmp(key, "text_size") == 0)
                assert_int_equal(rc->data_len, strtoull(arg, NULL, 10));
            else if (strcmp(key, "bss_size") == 0)
                assert_int_equal(rc->bss_size, strtoull(arg, NULL, 10));
            else if (strcmp(key, "rodata_size") == 0)
                assert_int_equal(rc->rodata_size, strtoull(arg, NULL, 10));
            else if (strcmp(key, "file_size") == 0)
                assert_int_equal(m.len, strtoull(arg, NULL, 10));
        }
    }
    assert_int_equal(nreloc, m.nrelocs);
    assert_int_equal(nrom, strcmp(name, "armv7m-libs") == 0 ? 0 : 2);
    assert_string_equal(m.qstrs[0].str, path + strlen("samples/natmod/build/"));
    free(side);
    fs_mpy_free(&m);
}

static void test_samples(void **state)
{
    (void)state;
    check_sample("xtensa-ownmem", "xtensa-lx106-elf-size");
    check_sample("xtensa-libs", "xtensa-lx106-elf-size");
    check_sample("armv7m-libs", "arm-none-eabi-size");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good), cmocka_unit_test(test_bad), cmocka_unit_test(test_tree),
        cmocka_unit_test(test_load_errors), cmocka_unit_test(test_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
