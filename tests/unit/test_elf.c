/*
 * test_elf.c - the ELF reader against the toolchains' own tools.
 *
 * Ground truth for every sample in samples/samples.txt (and the flashsize
 * binary itself, an ELF64 x86-64 PIE): each section's address, file offset,
 * size and alignment as `readelf -SW` prints them, sizes and addresses as
 * `size -A` prints them, load addresses as `objdump -h` prints them, every
 * program header from `readelf -lW`, and every .symtab entry from
 * `readelf -sW`, in order.  The tools are the sample's own toolchain's.
 */
#include "testutil.h"

#include "elfread.h"

#include <ctype.h>
#include <elf.h>

typedef struct sample {
    char name[64];
    char prefix[64];
    char path[256];
} sample;

static sample samples[64];
static size_t nsamples;

static void load_samples(void)
{
    FILE *f = fopen("samples/samples.txt", "r");
    assert_non_null(f);
    char line[512];
    while (fgets(line, sizeof line, f) && nsamples < 63) {
        char name[64], prefix[64];
        if (line[0] == '#' || sscanf(line, "%63s %63s", name, prefix) != 2)
            continue;
        sample *s = &samples[nsamples++];
        snprintf(s->name, sizeof s->name, "%s", name);
        snprintf(s->prefix, sizeof s->prefix, "%s", strcmp(prefix, "-") == 0 ? "" : prefix);
        snprintf(s->path, sizeof s->path, "samples/build/%s.elf", name);
    }
    fclose(f);
    sample *self = &samples[nsamples++];
    snprintf(self->name, sizeof self->name, "flashsize");
    self->prefix[0] = '\0';
    snprintf(self->path, sizeof self->path, "%s", getenv("FLASHSIZE") ? getenv("FLASHSIZE") : "build/flashsize");
}

static char *tool(const sample *s, const char *tool_args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s%s %s 2>/dev/null", s->prefix, tool_args, s->path);
    char *out = tu_run(cmd);
    if (!out)
        fail_msg("could not run: %s", cmd);
    return out;
}

static const fs_section *section_named(const fs_image *img, const char *name)
{
    return fs_image_section(img, name);
}

/* readelf -SW: [Nr] Name Type Address Off Size ES Flg Lk Inf Al */
static void check_readelf_sections(const sample *s, const fs_image *img)
{
    char *out = tool(s, "readelf -SW");
    size_t seen = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char *rb = strchr(line, ']');
        char *lb = strchr(line, '[');
        if (!lb || !rb || !isdigit((unsigned char)rb[-1]))
            continue;
        unsigned idx = (unsigned)strtoul(lb + 1, NULL, 10);
        if (idx == 0)
            continue;
        char name[256], type[64], f1[64], f2[64], f3[64], f4[64], f5[64], f6[64], f7[64], f8[64], f9[64];
        int n = sscanf(rb + 1, "%255s %63s %63s %63s %63s %63s %63s %63s %63s %63s %63s", name, type, f1, f2, f3, f4,
                       f5, f6, f7, f8, f9);
        assert_true(n >= 9);
        const fs_section *sec = fs_image_section_by_index(img, idx);
        assert_non_null(sec);
        assert_string_equal(sec->name, name);
        assert_int_equal(sec->addr, strtoull(f1, NULL, 16));
        assert_int_equal(sec->offset, strtoull(f2, NULL, 16));
        assert_int_equal(sec->size, strtoull(f3, NULL, 16));
        const char *align = n == 10 ? f8 : f7; /* the Flg column is empty for some sections */
        assert_int_equal(sec->align, strtoull(align, NULL, 10));
        seen++;
    }
    assert_int_equal(seen, img->nsections);
    free(out);
}

/* size -A: name size addr (decimal), then Total */
static void check_size_a(const sample *s, const fs_image *img)
{
    char *out = tool(s, "size -A");
    size_t seen = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char name[256];
        unsigned long long size, addr;
        if (sscanf(line, "%255s %llu %llu", name, &size, &addr) != 3)
            continue;
        const fs_section *sec = section_named(img, name);
        assert_non_null(sec);
        assert_int_equal(sec->size, size);
        assert_int_equal(sec->addr, addr);
        seen++;
    }
    assert_true(seen > 0);
    free(out);
}

/* objdump -h: Idx Name Size VMA LMA File-off Algn */
static void check_objdump_lma(const sample *s, const fs_image *img)
{
    char *out = tool(s, "objdump -h");
    size_t seen = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned idx;
        char name[256], size[32], vma[32], lma[32];
        if (sscanf(line, " %u %255s %31s %31s %31s", &idx, name, size, vma, lma) != 5)
            continue;
        const fs_section *sec = section_named(img, name);
        assert_non_null(sec);
        if (!(sec->flags & SHF_ALLOC))
            continue;
        assert_int_equal(sec->addr, strtoull(vma, NULL, 16));
        assert_int_equal(sec->lma, strtoull(lma, NULL, 16));
        seen++;
    }
    assert_true(seen > 0);
    free(out);
}

/* readelf -lW: Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align */
static void check_segments(const sample *s, const fs_image *img)
{
    char *out = tool(s, "readelf -lW");
    size_t seen = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char type[64];
        unsigned long long off, va, pa, fsz, msz;
        if (sscanf(line, " %63s 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx", type, &off, &va, &pa, &fsz, &msz) != 6)
            continue;
        assert_true(seen < img->nsegments);
        const fs_segment *p = &img->segments[seen++];
        assert_int_equal(p->offset, off);
        assert_int_equal(p->vaddr, va);
        assert_int_equal(p->paddr, pa);
        assert_int_equal(p->filesz, fsz);
        assert_int_equal(p->memsz, msz);
        if (strcmp(type, "LOAD") == 0)
            assert_int_equal(p->type, PT_LOAD);
    }
    assert_int_equal(seen, img->nsegments);
    free(out);
}

/* readelf -sW, the .symtab table: Num Value Size Type Bind Vis Ndx Name */
static void check_symbols(const sample *s, const fs_image *img)
{
    if (!img->has_symtab)
        return;
    char *out = tool(s, "readelf -sW");
    char *table = strstr(out, "'.symtab'");
    assert_non_null(table);
    size_t seen = 0;
    for (char *line = strtok(table, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned num;
        unsigned long long value, size;
        char type[32], bind[32], vis[32], ndx[32], name[512] = "";
        int n = sscanf(line, " %u: %llx %llu %31s %31s %31s %31s %511s", &num, &value, &size, type, bind, vis, ndx,
                       name);
        if (n < 7 || num == 0 || strcmp(type, "SECTION") == 0 || strcmp(type, "FILE") == 0)
            continue;
        assert_true(seen < img->nsymbols);
        const fs_symbol *sym = &img->symbols[seen++];
        assert_int_equal(sym->value, value);
        assert_int_equal(sym->size, size);
        if (n == 8 && !strchr(name, '@') && strlen(sym->name) < 500)
            assert_string_equal(sym->name, name);
        if (strcmp(ndx, "ABS") == 0)
            assert_int_equal(sym->shndx, SHN_ABS);
        else if (strcmp(ndx, "UND") == 0)
            assert_int_equal(sym->shndx, SHN_UNDEF);
        else if (isdigit((unsigned char)ndx[0]))
            assert_int_equal(sym->section, (int)strtoul(ndx, NULL, 10) - 1);
    }
    assert_int_equal(seen, img->nsymbols);
    free(out);
}

static void test_samples_match_toolchain(void **state)
{
    (void)state;
    assert_true(nsamples > 10);
    for (size_t i = 0; i < nsamples; i++) {
        const sample *s = &samples[i];
        fs_image img;
        fs_error err;
        if (fs_elf_load(s->path, &img, &err) != 0)
            fail_msg("%s", err.msg);
        check_readelf_sections(s, &img);
        check_size_a(s, &img);
        check_objdump_lma(s, &img);
        check_segments(s, &img);
        check_symbols(s, &img);
        fs_image_free(&img);
    }
}

static void expect_image(const char *name, int elf_class, bool big_endian, uint16_t machine, bool symtab)
{
    char path[256];
    snprintf(path, sizeof path, "samples/build/%s.elf", name);
    fs_image img;
    fs_error err;
    if (fs_elf_load(path, &img, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(img.elf_class, elf_class);
    assert_int_equal(img.big_endian, big_endian);
    assert_int_equal(img.machine, machine);
    assert_int_equal(img.has_symtab, symtab);
    if (symtab)
        assert_true(img.nsymbols > 0);
    fs_image_free(&img);
}

/* Class, byte order and machine for each architecture the issue names. */
static void test_architectures(void **state)
{
    (void)state;
    expect_image("esp8266-fits", 32, false, EM_XTENSA, true);
    expect_image("cortex-m4", 32, false, EM_ARM, true);
    expect_image("arm-be", 32, true, EM_ARM, true);
    expect_image("riscv32", 32, false, EM_RISCV, true);
    expect_image("x86_64", 64, false, EM_X86_64, true);
    expect_image("esp8266-fits-stripped", 32, false, EM_XTENSA, false);
}

/* A stripped image still has every section of the unstripped one that
 * survives stripping, with the same addresses and sizes. */
static void test_stripped_keeps_sections(void **state)
{
    (void)state;
    fs_image full, stripped;
    fs_error err;
    assert_int_equal(fs_elf_load("samples/build/esp8266-fits.elf", &full, &err), 0);
    assert_int_equal(fs_elf_load("samples/build/esp8266-fits-stripped.elf", &stripped, &err), 0);
    assert_int_equal(stripped.nsymbols, 0);
    size_t alloc = 0;
    for (size_t i = 0; i < full.nsections; i++) {
        const fs_section *a = &full.sections[i];
        if (!(a->flags & SHF_ALLOC))
            continue;
        const fs_section *b = fs_image_section(&stripped, a->name);
        assert_non_null(b);
        assert_int_equal(a->addr, b->addr);
        assert_int_equal(a->size, b->size);
        alloc++;
    }
    assert_true(alloc >= 5);
    fs_image_free(&full);
    fs_image_free(&stripped);
}

/* --- bad input: every case is an error naming the file, never a crash ---- */

static void expect_load_error(const void *data, size_t len, const char *needle)
{
    char *path = tu_tmpfile(data, len);
    assert_non_null(path);
    fs_image img;
    fs_error err = {{0}};
    if (fs_elf_load(path, &img, &err) != -1)
        fail_msg("a bad input (%zu bytes, expecting '%s') loaded", len, needle ? needle : "any error");
    if (!strstr(err.msg, path))
        fail_msg("message does not name the file: %s", err.msg);
    if (needle && !strstr(err.msg, needle))
        fail_msg("expected '%s' in: %s", needle, err.msg);
    assert_null(img.sections);
    unlink(path);
    free(path);
}

static unsigned char *read_sample(const char *name, size_t *len)
{
    FILE *f = fopen(name, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    unsigned char *buf = malloc(*len);
    assert_int_equal(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static void test_bad_inputs(void **state)
{
    (void)state;
    expect_load_error("", 0, "empty file");
    expect_load_error("hello, world\n", 13, "not an ELF file");
    expect_load_error("!<arch>\n", 8, "not an ELF file");
    expect_load_error("\177ELF", 4, "not an ELF file");

    size_t len;
    unsigned char *elf = read_sample("samples/build/cortex-m4.elf", &len);
    Elf32_Ehdr eh;
    memcpy(&eh, elf, sizeof eh);

    /* truncated in the header, in the middle, and just before the section table */
    expect_load_error(elf, 30, NULL);
    expect_load_error(elf, len / 2, NULL);
    expect_load_error(elf, eh.e_shoff + 8, NULL);

    /* a section whose data lies past the end of the file */
    unsigned char *bad = malloc(len);
    memcpy(bad, elf, len);
    Elf32_Shdr sh;
    size_t victim = 0;
    for (size_t i = 1; i < eh.e_shnum; i++) {
        memcpy(&sh, bad + eh.e_shoff + i * sizeof sh, sizeof sh);
        if (sh.sh_type == SHT_PROGBITS && sh.sh_size) {
            victim = i;
            break;
        }
    }
    assert_true(victim > 0);
    sh.sh_offset = (Elf32_Off)(len + 4096);
    memcpy(bad + eh.e_shoff + victim * sizeof sh, &sh, sizeof sh);
    expect_load_error(bad, len, "past end of file");

    /* absurd section count */
    memcpy(bad, elf, len);
    Elf32_Ehdr e2 = eh;
    e2.e_shnum = 0xff00;
    memcpy(bad, &e2, sizeof e2);
    expect_load_error(bad, len, NULL);

    /* absurd program header count */
    memcpy(bad, elf, len);
    e2 = eh;
    e2.e_phnum = 0xfff0;
    memcpy(bad, &e2, sizeof e2);
    expect_load_error(bad, len, NULL);

    /* section name table index out of range */
    memcpy(bad, elf, len);
    e2 = eh;
    e2.e_shstrndx = (Elf32_Half)(eh.e_shnum + 5);
    memcpy(bad, &e2, sizeof e2);
    expect_load_error(bad, len, NULL);

    /* every prefix of the header and section table: error or success, no crash */
    for (size_t cut = 0; cut < len; cut += cut < 256 ? 1 : 97) {
        char *path = tu_tmpfile(elf, cut);
        fs_image img;
        fs_error err;
        if (fs_elf_load(path, &img, &err) == 0)
            fs_image_free(&img);
        unlink(path);
        free(path);
    }
    free(bad);
    free(elf);

    fs_image img;
    fs_error err;
    assert_int_equal(fs_elf_load("/nonexistent/firmware.elf", &img, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/firmware.elf: cannot open"));
}

/* fs_elf_reread gives back the very bytes the image was loaded from, and
 * refuses a file whose size changed since. */
static void test_reread(void **state)
{
    (void)state;
    size_t len;
    unsigned char *elf = read_sample("samples/build/cortex-m4.elf", &len);
    char *path = tu_tmpfile(elf, len);
    assert_non_null(path);
    fs_image img;
    fs_error err = {{0}};
    if (fs_elf_load(path, &img, &err) != 0)
        fail_msg("%s", err.msg);
    const unsigned char *again;
    size_t n;
    assert_int_equal(fs_elf_reread(&img, &again, &n, &err), 0);
    assert_int_equal(n, len);
    assert_memory_equal(again, elf, len);
    fs_unmap_file(again, n);

    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    fputc(0, f);
    fclose(f);
    assert_int_equal(fs_elf_reread(&img, &again, &n, &err), -1);
    assert_null(again);
    char want[512];
    snprintf(want, sizeof want, "%s: file changed since it was read", path);
    assert_string_equal(err.msg, want);

    unlink(path);
    assert_int_equal(fs_elf_reread(&img, &again, &n, &err), -1);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    assert_string_equal(err.msg, want);
    fs_image_free(&img);
    free(path);
    free(elf);
}

int main(void)
{
    load_samples();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_match_toolchain),
        cmocka_unit_test(test_architectures),
        cmocka_unit_test(test_stripped_keeps_sections),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_reread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
