/*
 * test_limits.c - the caps of docs/reliability.md that no other unit test
 * exercises: each input is generated here just past the cap (and, where it
 * is cheap, just at it, to show that the generated input is otherwise
 * valid, so the refusal is the cap's), and the error must be the one the
 * table in docs/reliability.md promises.  Large files are sparse, so no
 * test reads or writes hundreds of megabytes.
 */
#include "testutil.h"

#include "archive.h"
#include "board.h"
#include "elfread.h"
#include "ldscript.h"
#include "mapfile.h"
#include "mpy.h"
#include "romfs.h"
#include "romsyms.h"

#include <elf.h>

/* A growing text buffer. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void tx_add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tx_add(text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
}

static void expect_msg(const fs_error *err, const char *want)
{
    if (!strstr(err->msg, want))
        fail_msg("error \"%s\" lacks \"%s\"", err->msg, want);
}

/* A sparse file of exactly size bytes; returns its malloc'd path. */
static char *sparse_file(uint64_t size)
{
    char *path = tu_tmpfile("", 0);
    assert_non_null(path);
    assert_int_equal(truncate(path, (off_t)size), 0);
    return path;
}

/* ---- ELF ----------------------------------------------------------------- */

/* An ELF32 ARM image with sections .symtab (nsyms entries, all zero after
 * the null one), .strtab and .shstrtab; *len gets its size. */
static uint8_t *elf_with_symbols(size_t nsyms, size_t *len)
{
    static const char shstr[] = "\0.symtab\0.strtab\0.shstrtab";
    const size_t shoff = sizeof(Elf32_Ehdr), strtab = 256, shstrtab = 260, symtab = 512;
    *len = symtab + nsyms * sizeof(Elf32_Sym);
    uint8_t *b = calloc(1, *len);
    assert_non_null(b);
    Elf32_Ehdr eh = {.e_type = ET_EXEC, .e_machine = EM_ARM, .e_version = EV_CURRENT, .e_shoff = (Elf32_Off)shoff,
                     .e_ehsize = sizeof eh, .e_shentsize = sizeof(Elf32_Shdr), .e_shnum = 4, .e_shstrndx = 3};
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS32;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    memcpy(b, &eh, sizeof eh);
    Elf32_Shdr sh[4] = {{0},
                        {.sh_name = 1, .sh_type = SHT_SYMTAB, .sh_offset = (Elf32_Off)symtab,
                         .sh_size = (Elf32_Word)(nsyms * sizeof(Elf32_Sym)), .sh_link = 2, .sh_info = 1,
                         .sh_addralign = 4, .sh_entsize = sizeof(Elf32_Sym)},
                        {.sh_name = 9, .sh_type = SHT_STRTAB, .sh_offset = (Elf32_Off)strtab, .sh_size = 1},
                        {.sh_name = 17, .sh_type = SHT_STRTAB, .sh_offset = (Elf32_Off)shstrtab, .sh_size = sizeof shstr}};
    memcpy(b + shoff, sh, sizeof sh);
    memcpy(b + shstrtab, shstr, sizeof shstr);
    return b;
}

static void test_elf_symbol_cap(void **state)
{
    (void)state;
    size_t len;
    fs_error err = {{0}};
    fs_image img = {0};
    uint8_t *small = elf_with_symbols(3, &len);
    if (fs_elf_load_mem("small.elf", small, len, &img, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(img.nsymbols, 2); /* the null symbol is not kept */
    fs_image_free(&img);
    free(small);

    uint8_t *big = elf_with_symbols(FS_ELF_MAX_SYMBOLS + 1, &len);
    memset(&img, 0, sizeof img);
    assert_int_equal(fs_elf_load_mem("big.elf", big, len, &img, &err), -1);
    expect_msg(&err, "big.elf: absurd symbol count 5000001 (limit 5000000)");
    free(big);
}

static void test_elf_file_cap(void **state)
{
    (void)state;
    char *path = sparse_file(FS_ELF_MAX_FILE_BYTES + 1);
    fs_image img = {0};
    fs_error err = {{0}};
    assert_int_equal(fs_elf_load(path, &img, &err), -1);
    char want[512];
    snprintf(want, sizeof want, "%s: ELF file is 536870913 bytes, larger than the 536870912-byte limit", path);
    expect_msg(&err, want);
    unlink(path);
    free(path);
}

/* ---- linker scripts ------------------------------------------------------ */

static int ld_text(const char *body, fs_memmap *map, fs_error *err, char **pathp)
{
    char *path = tu_tmpfile(body, strlen(body));
    assert_non_null(path);
    memset(map, 0, sizeof *map);
    int rc = fs_ldscript_load(path, NULL, map, err);
    *pathp = path;
    return rc;
}

static void ld_done(fs_memmap *map, char *path)
{
    fs_memmap_free(map);
    unlink(path);
    free(path);
}

static char *brackets(int depth)
{
    text t = {0};
    tx_add(&t, "MEMORY { FLASH : ORIGIN = 0, LENGTH = 4K }\nSECTIONS\n");
    for (int i = 0; i < depth; i++)
        tx_add(&t, "{");
    for (int i = 0; i < depth; i++)
        tx_add(&t, "}");
    tx_add(&t, "\n");
    return t.s;
}

static void test_ld_bracket_cap(void **state)
{
    (void)state;
    fs_memmap map;
    fs_error err = {{0}};
    char *path, *ok = brackets(256), *bad = brackets(257);
    if (ld_text(ok, &map, &err, &path) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(map.nregions, 1);
    ld_done(&map, path);
    assert_int_equal(ld_text(bad, &map, &err, &path), -1);
    char want[300];
    snprintf(want, sizeof want, "%s:3: brackets nested more than 256 deep", path);
    expect_msg(&err, want);
    ld_done(&map, path);
    free(ok);
    free(bad);
}

static char *search_dirs(int n)
{
    text t = {0};
    for (int i = 0; i < n; i++)
        tx_add(&t, "SEARCH_DIR(/nonexistent/d%d)\n", i);
    tx_add(&t, "MEMORY { FLASH : ORIGIN = 0, LENGTH = 4K }\n");
    return t.s;
}

static void test_ld_search_dir_cap(void **state)
{
    (void)state;
    fs_memmap map;
    fs_error err = {{0}};
    char *path, *ok = search_dirs(256), *bad = search_dirs(257);
    if (ld_text(ok, &map, &err, &path) < 0)
        fail_msg("%s", err.msg);
    ld_done(&map, path);
    assert_int_equal(ld_text(bad, &map, &err, &path), -1);
    char want[300];
    snprintf(want, sizeof want, "%s:257: more than 256 SEARCH_DIRs", path);
    expect_msg(&err, want);
    ld_done(&map, path);
    free(ok);
    free(bad);
}

static char *aliases(int n)
{
    text t = {0};
    tx_add(&t, "MEMORY { FLASH : ORIGIN = 0, LENGTH = 4K }\n");
    for (int i = 0; i < n; i++)
        tx_add(&t, "REGION_ALIAS(\"a%d\", FLASH)\n", i);
    return t.s;
}

static void test_ld_region_alias_cap(void **state)
{
    (void)state;
    fs_memmap map;
    fs_error err = {{0}};
    char *path, *ok = aliases(256), *bad = aliases(257);
    if (ld_text(ok, &map, &err, &path) < 0)
        fail_msg("%s", err.msg);
    ld_done(&map, path);
    assert_int_equal(ld_text(bad, &map, &err, &path), -1);
    char want[300];
    snprintf(want, sizeof want, "%s:258: more than 256 REGION_ALIASes", path);
    expect_msg(&err, want);
    ld_done(&map, path);
    free(ok);
    free(bad);
}

/* ---- board files --------------------------------------------------------- */

static int board_text(const char *body, size_t len, fs_board *b, fs_error *err, char **pathp)
{
    char tmpl[] = "/tmp/flashsize-test-XXXXXX.ini";
    int fd = mkstemps(tmpl, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, body, len), (ssize_t)len);
    close(fd);
    memset(b, 0, sizeof *b);
    *pathp = strdup(tmpl);
    return fs_board_load(NULL, *pathp, b, err);
}

static char *board_regions(int n)
{
    text t = {0};
    tx_add(&t, "[board]\nname = limits\n");
    for (int i = 0; i < n; i++)
        tx_add(&t, "[region r%d]\norigin = %d\nlength = 1\n", i, i);
    return t.s;
}

static void test_board_caps(void **state)
{
    (void)state;
    fs_board b;
    fs_error err = {{0}};
    char *path, want[300];
    char *ok = board_regions(256), *bad = board_regions(257);
    if (board_text(ok, strlen(ok), &b, &err, &path) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(b.map.nregions, 256);
    fs_board_free(&b);
    unlink(path);
    free(path);
    assert_int_equal(board_text(bad, strlen(bad), &b, &err, &path), -1);
    /* [region r256] starts on line 3 + 3 * 256; its origin key follows */
    snprintf(want, sizeof want, "%s:772: more than 256 regions", path);
    expect_msg(&err, want);
    fs_board_free(&b);
    unlink(path);
    free(path);
    free(ok);
    free(bad);

    /* one byte over the file cap: a valid board padded with comment lines
     * (each within the .ini line limit, FS_INI_MAX_LINE) */
    size_t len = FS_BOARD_MAX_FILE_BYTES + 1;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, ' ', len);
    memcpy(big, "[board]\nname = x\n#", 18);
    for (size_t i = 99; i + 1 < len; i += 100)
        big[i] = '\n', big[i + 1] = '#';
    big[len - 1] = '\n';
    assert_int_equal(board_text(big, len, &b, &err, &path), -1);
    snprintf(want, sizeof want, "%s: file is 1048577 bytes, larger than the 1048576-byte limit", path);
    expect_msg(&err, want);
    fs_board_free(&b);
    unlink(path);
    free(path);
    /* and exactly at the cap it loads */
    assert_int_equal(board_text(big, len - 1, &b, &err, &path), 0);
    fs_board_free(&b);
    unlink(path);
    free(path);
    free(big);
}

/* ---- map files ----------------------------------------------------------- */

static char *map_regions(int n)
{
    text t = {0};
    tx_add(&t, "Memory Configuration\n\nName             Origin             Length             Attributes\n");
    for (int i = 0; i < n; i++)
        tx_add(&t, "r%-15d 0x%016x 0x0000000000000010 xr\n", i, i * 16);
    tx_add(&t, "*default*        0x0000000000000000 0xffffffffffffffff\n\nLinker script and memory map\n\n");
    return t.s;
}

static void test_map_caps(void **state)
{
    (void)state;
    fs_mapfile m;
    fs_error err = {{0}};
    char *ok = map_regions(4096), *bad = map_regions(4097);
    if (fs_mapfile_parse("ok.map", ok, strlen(ok), &m, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(m.map.nregions, 4096);
    fs_mapfile_free(&m);
    assert_int_equal(fs_mapfile_parse("bad.map", bad, strlen(bad), &m, &err), -1);
    expect_msg(&err, "bad.map:4100: more than 4096 memory regions");
    fs_mapfile_free(&m);
    free(ok);
    free(bad);

    char *path = sparse_file(FS_MAP_MAX_FILE_BYTES + 1);
    assert_int_equal(fs_mapfile_load(path, &m, &err), -1);
    char want[300];
    snprintf(want, sizeof want, "%s: map file is 536870913 bytes, larger than the 536870912-byte limit", path);
    expect_msg(&err, want);
    unlink(path);
    free(path);
}

/* ---- .mpy ----------------------------------------------------------------- */

static void test_mpy_caps(void **state)
{
    (void)state;
    fs_mpy m;
    fs_error err = {{0}};
    /* header, 0 qstrs, 65537 objects (vuint 0x84 0x80 0x01) */
    static const uint8_t objs[] = {'M', 6, 0x02, 31, 0x00, 0x84, 0x80, 0x01};
    assert_int_equal(fs_mpy_parse("objs.mpy", objs, sizeof objs, &m, &err), -1);
    expect_msg(&err, "objs.mpy: offset 0x5: number of objects 65537 exceeds the limit of 65536");
    fs_mpy_free(&m);

    uint8_t *big = calloc(1, FS_MPY_MAX_FILE + 1);
    assert_non_null(big);
    memcpy(big, objs, 4);
    assert_int_equal(fs_mpy_parse("big.mpy", big, FS_MPY_MAX_FILE + 1, &m, &err), -1);
    expect_msg(&err, "big.mpy: .mpy file is 16777217 bytes, larger than the 16777216-byte limit");
    fs_mpy_free(&m);
    free(big);

    /* the same cap, from a file: refused before it is read */
    char *path = sparse_file(FS_MPY_MAX_FILE + 1), want[300];
    assert_int_equal(fs_mpy_load(path, &m, &err), -1);
    snprintf(want, sizeof want, "%s: .mpy file is 16777217 bytes, larger than the 16777216-byte limit", path);
    expect_msg(&err, want);
    unlink(path);
    free(path);
}

/* ---- ROMFS ---------------------------------------------------------------- */

/* An image of n empty padding records (kind 1, length 0). */
static uint8_t *romfs_pads(size_t n, size_t *len)
{
    size_t payload = 2 * n;
    uint8_t v[10];
    size_t nv = 0;
    for (size_t x = payload; ; x >>= 7) {
        v[nv++] = (uint8_t)(x & 0x7f);
        if (x < 0x80)
            break;
    }
    *len = 3 + nv + payload;
    uint8_t *b = malloc(*len), *p = b;
    assert_non_null(b);
    *p++ = 0xD2;
    *p++ = 0xCD;
    *p++ = 0x31;
    for (size_t i = nv; i-- > 0;)
        *p++ = (uint8_t)(v[i] | (i ? 0x80 : 0));
    for (size_t i = 0; i < n; i++) {
        *p++ = 0x01;
        *p++ = 0x00;
    }
    return b;
}

static void test_romfs_record_cap(void **state)
{
    (void)state;
    fs_romfs r;
    fs_error err = {{0}};
    size_t len;
    uint8_t *ok = romfs_pads(1000, &len);
    if (fs_romfs_parse("ok.img", ok, len, &r, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(r.npadding, 1000);
    assert_int_equal(r.padding, 2000);
    fs_romfs_free(&r);
    free(ok);
    uint8_t *bad = romfs_pads(FS_ROMFS_MAX_RECORDS + 1, &len);
    assert_int_equal(fs_romfs_parse("bad.img", bad, len, &r, &err), -1);
    expect_msg(&err, "bad.img: more than 1000000 records (limit)");
    fs_romfs_free(&r);
    free(bad);
}

/* A filesystem holding one file record (no data) whose name is n bytes. */
static uint8_t *romfs_long_name(size_t n, size_t *len)
{
    uint8_t *b = malloc(n + 16), *p = b;
    assert_non_null(b);
    assert_true(n >= 128 && n < 16384 - 4); /* every varint below is 2 bytes */
    size_t payload = 2 + n, total = 1 + 2 + payload;
    *p++ = 0xD2;
    *p++ = 0xCD;
    *p++ = 0x31;
    *p++ = (uint8_t)(0x80 | (total >> 7));
    *p++ = (uint8_t)(total & 0x7f);
    *p++ = 0x05; /* file */
    *p++ = (uint8_t)(0x80 | (payload >> 7));
    *p++ = (uint8_t)(payload & 0x7f);
    *p++ = (uint8_t)(0x80 | (n >> 7));
    *p++ = (uint8_t)(n & 0x7f);
    memset(p, 'a', n);
    *len = (size_t)(p - b) + n;
    return b;
}

static void test_romfs_path_and_file_caps(void **state)
{
    (void)state;
    fs_romfs r;
    fs_error err = {{0}};
    size_t len;
    /* a path may take 4096 bytes with every name byte escaped (\xHH) */
    uint8_t *ok = romfs_long_name(1023, &len);
    if (fs_romfs_parse("ok.img", ok, len, &r, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(r.nfiles, 1);
    assert_int_equal(strlen(r.entries[0].path), 1024);
    fs_romfs_free(&r);
    free(ok);
    uint8_t *bad = romfs_long_name(1024, &len);
    assert_int_equal(fs_romfs_parse("bad.img", bad, len, &r, &err), -1);
    expect_msg(&err, "bad.img: record at offset 0x5: path longer than 4096 bytes (or out of memory)");
    fs_romfs_free(&r);
    free(bad);

    char *path = sparse_file(FS_ROMFS_MAX_IMAGE_BYTES + 1), want[300];
    assert_int_equal(fs_romfs_load(path, &r, &err), -1);
    snprintf(want, sizeof want, "%s: file is 67108865 bytes, larger than the 67108864-byte limit", path);
    expect_msg(&err, want);
    unlink(path);
    free(path);
}

/* ---- ar archives ---------------------------------------------------------- */

static void test_archive_file_cap(void **state)
{
    (void)state;
    char *path = sparse_file(FS_ARCHIVE_MAX_BYTES + 1), want[300];
    fs_archive a;
    fs_error err = {{0}};
    memset(&a, 0, sizeof a);
    assert_int_equal(fs_archive_load(path, &a, &err), -1);
    snprintf(want, sizeof want, "%s: archive is 268435457 bytes, larger than the 268435456-byte limit", path);
    expect_msg(&err, want);
    fs_archive_free(&a);
    unlink(path);
    free(path);
}

/* ---- ROM tables ----------------------------------------------------------- */

static int romsym_name(size_t n, fs_romtable *t, fs_error *err, char **pathp)
{
    text x = {0};
    tx_add(&x, "PROVIDE ( ");
    for (size_t i = 0; i < n; i++)
        tx_add(&x, "a");
    tx_add(&x, " = 0x40000000 );\n");
    *pathp = tu_tmpfile(x.s, x.len);
    free(x.s);
    memset(t, 0, sizeof *t);
    return fs_romtable_load(*pathp, t, err);
}

static void test_romsyms_name_cap(void **state)
{
    (void)state;
    fs_romtable t;
    fs_error err = {{0}};
    char *path, want[300];
    if (romsym_name(255, &t, &err, &path) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(t.nsyms, 1);
    assert_int_equal(strlen(t.syms[0].name), 255);
    fs_romtable_free(&t);
    unlink(path);
    free(path);
    assert_int_equal(romsym_name(256, &t, &err, &path), -1);
    snprintf(want, sizeof want, "%s:1: symbol name longer than 255 characters", path);
    expect_msg(&err, want);
    fs_romtable_free(&t);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elf_symbol_cap),   cmocka_unit_test(test_elf_file_cap),
        cmocka_unit_test(test_ld_bracket_cap),   cmocka_unit_test(test_ld_search_dir_cap),
        cmocka_unit_test(test_ld_region_alias_cap), cmocka_unit_test(test_board_caps),
        cmocka_unit_test(test_map_caps),         cmocka_unit_test(test_mpy_caps),
        cmocka_unit_test(test_romfs_record_cap), cmocka_unit_test(test_romsyms_name_cap),
        cmocka_unit_test(test_romfs_path_and_file_caps), cmocka_unit_test(test_archive_file_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
