/*
 * test_mapfile.c - the GNU ld map file reader against the links that wrote
 * the maps.
 *
 * Ground truth:
 *   - output section sizes and addresses: the toolchain's `size -A` on the
 *     ELF of the same link; the number of allocated sections: `readelf -SW`;
 *   - memory regions: the sample's linker script (read by ldscript.c) and
 *     ld's own --print-memory-usage (samples/build/NAME.memusage), whose used
 *     figure is exact because ld only prints a unit that divides it;
 *   - overflow: ld's "region `X' overflowed by N bytes" (NAME.ldlog);
 *   - per object: the sum of the allocated sections of the object file
 *     (`readelf -SW`), for the test link in tests/data/map, linked without
 *     --gc-sections so that every allocated section is kept;
 *   - unattributed bytes: the LONG and QUAD the test link's script emits.
 * Bad input: empty, not a map, truncated mid-line, binary, a 1 MB line,
 * truncations of a real map at many points (never a crash).
 */
#include "testutil.h"

#include "elfread.h"
#include "ldscript.h"
#include "mapfile.h"

#include <ctype.h>

typedef struct sample {
    char name[64], prefix[64], ld[256], board[64];
} sample;

static size_t read_samples(sample *out, size_t max)
{
    FILE *f = fopen("samples/samples.txt", "r");
    assert_non_null(f);
    char line[512];
    size_t n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        sample *s = &out[n];
        if (line[0] == '#' || sscanf(line, "%63s %63s %255s %63s", s->name, s->prefix, s->ld, s->board) != 4)
            continue;
        if (strcmp(s->prefix, "-") == 0)
            s->prefix[0] = '\0';
        char path[300];
        snprintf(path, sizeof path, "samples/build/%s.map", s->name);
        if (access(path, R_OK) == 0)  /* a stripped copy has no map of its own */
            n++;
    }
    fclose(f);
    return n;
}

static void load_map(const char *path, fs_mapfile *m)
{
    fs_error err;
    if (fs_mapfile_load(path, m, &err) != 0)
        fail_msg("%s", err.msg);
}

static uint64_t ld_units(unsigned long long v, const char *unit)
{
    if (strcmp(unit, "KB") == 0) return v << 10;
    if (strcmp(unit, "MB") == 0) return v << 20;
    if (strcmp(unit, "GB") == 0) return v << 30;
    return v;
}

/* Every region ld printed with --print-memory-usage, used and length. */
static int expect_memusage(const char *path, const fs_mapfile *m)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char name[64], u1[8], u2[8];
        unsigned long long used, length;
        if (sscanf(line, " %63[^:]: %llu %7s %llu %7s", name, &used, u1, &length, u2) != 5)
            continue;
        int r = fs_memmap_find(&m->map, name);
        if (r < 0)
            fail_msg("%s: region %s missing", path, name);
        if (m->map.regions[r].length != ld_units(length, u2) || m->map.regions[r].used != ld_units(used, u1))
            fail_msg("%s: region %s length %llu used %llu; ld says %llu %s, %llu %s", path, name,
                     (unsigned long long)m->map.regions[r].length, (unsigned long long)m->map.regions[r].used,
                     length, u2, used, u1);
        rows++;
    }
    fclose(f);
    assert_int_equal(rows, (int)m->map.nregions);
    return rows;
}

/* ld's "overflowed by N bytes" for region, or 0 when it reported none. */
static uint64_t ldlog_overflow(const char *path, const char *region)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[1024], want[128];
    snprintf(want, sizeof want, "region `%s' overflowed by ", region);
    uint64_t over = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = strstr(line, want);
        if (p)
            over = strtoull(p + strlen(want), NULL, 10);
    }
    fclose(f);
    return over;
}

/* Each map section of non-zero size is the ELF section of that name with
 * the same size and address (`size -A`); the allocated ones are exactly the
 * ELF's allocated, non-empty sections (`readelf -SW`). */
static void expect_elf_sections(const char *prefix, const char *elf, const fs_mapfile *m)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%ssize -A %s", prefix, elf);
    char *out = tu_run(cmd);
    assert_non_null(out);
    size_t checked = 0;
    for (size_t i = 0; i < m->nsections; i++) {
        const fs_map_section *s = &m->sections[i];
        if (s->size == 0)
            continue;
        char *line = out, found = 0;
        while (line && *line) {
            char name[256];
            unsigned long long size, addr;
            if (sscanf(line, "%255s %llu %llu", name, &size, &addr) == 3 && strcmp(name, s->name) == 0) {
                if (size != s->size || (s->alloc && addr != s->vma))
                    fail_msg("%s: %s is %llu bytes at %#llx, size -A says %llu at %#llx", elf, s->name,
                             (unsigned long long)s->size, (unsigned long long)s->vma, size, addr);
                found = 1;
            }
            line = strchr(line, '\n');
            line = line ? line + 1 : NULL;
        }
        if (!found)
            fail_msg("%s: map section %s not in size -A", elf, s->name);
        checked++;
    }
    free(out);
    assert_true(checked >= 3);

    snprintf(cmd, sizeof cmd,
             "%sreadelf -SW %s | awk '/^ *\\[ *[0-9]+\\]/ { sub(/^ *\\[ *[0-9]+\\] */, \"\"); "
             "if ($4 != \"000000\" && $4 !~ /^0+$/ && $7 ~ /A/) n++ } END { print n + 0 }'",
             prefix, elf);
    out = tu_run(cmd);
    assert_non_null(out);
    size_t alloc = 0;
    for (size_t i = 0; i < m->nsections; i++)
        alloc += m->sections[i].alloc && m->sections[i].size > 0;
    if ((size_t)strtoul(out, NULL, 10) != alloc)
        fail_msg("%s: %zu allocated sections in the map, readelf counts %s", elf, alloc, out);
    free(out);
}

/* inputs + fill + unattributed == size, for every output section; and the
 * region breakdown adds up to the region's used bytes. */
static void expect_invariants(const char *path, const fs_mapfile *m)
{
    for (size_t i = 0; i < m->nsections; i++) {
        const fs_map_section *s = &m->sections[i];
        if (s->input_bytes + s->fill_bytes + s->unattributed != s->size)
            fail_msg("%s: %s: %llu + %llu + %llu != %llu", path, s->name, (unsigned long long)s->input_bytes,
                     (unsigned long long)s->fill_bytes, (unsigned long long)s->unattributed,
                     (unsigned long long)s->size);
        fs_map_contrib *c;
        long n = fs_mapfile_section_objects(m, i, &c);
        assert_true(n >= 0);
        uint64_t sum = 0;
        for (long k = 0; k < n; k++)
            sum += c[k].bytes;
        free(c);
        assert_int_equal(sum, s->input_bytes);
    }
    for (size_t r = 0; r < m->map.nregions; r++) {
        fs_map_contrib *c;
        fs_map_region_rest rest;
        long n = fs_mapfile_region_objects(m, (int)r, &c, &rest);
        assert_true(n >= 0);
        uint64_t sum = rest.fill + rest.unattributed + rest.gaps;
        for (long k = 0; k < n; k++)
            sum += c[k].bytes;
        free(c);
        if (sum != m->map.regions[r].used)
            fail_msg("%s: region %s: breakdown %llu, used %llu", path, m->map.regions[r].name,
                     (unsigned long long)sum, (unsigned long long)m->map.regions[r].used);
    }
}

static void expect_ld_regions(const sample *s, const fs_mapfile *m)
{
    if (!s->ld[0] || strcmp(s->ld, "-") == 0) {
        assert_int_equal(m->map.nregions, 0);
        assert_true(m->has_default_region);
        return;
    }
    fs_memmap ld = {0};
    fs_error err;
    if (fs_ldscript_load(s->ld, NULL, &ld, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(ld.nregions, m->map.nregions);
    for (size_t i = 0; i < ld.nregions; i++) {
        int r = fs_memmap_find(&m->map, ld.regions[i].name);
        if (r < 0)
            fail_msg("%s: region %s of %s missing from the map", s->name, ld.regions[i].name, s->ld);
        assert_int_equal(m->map.regions[r].origin, ld.regions[i].origin);
        assert_int_equal(m->map.regions[r].length, ld.regions[i].length);
    }
    fs_memmap_free(&ld);
}

static void test_every_sample_map(void **state)
{
    (void)state;
    sample s[32];
    size_t n = read_samples(s, 32);
    assert_true(n >= 12);
    for (size_t i = 0; i < n; i++) {
        char map[300], elf[300], mu[300], log[300];
        snprintf(map, sizeof map, "samples/build/%s.map", s[i].name);
        snprintf(elf, sizeof elf, "samples/build/%s.elf", s[i].name);
        snprintf(mu, sizeof mu, "samples/build/%s.memusage", s[i].name);
        snprintf(log, sizeof log, "samples/build/%s.ldlog", s[i].name);
        fs_mapfile m;
        load_map(map, &m);
        expect_elf_sections(s[i].prefix, elf, &m);
        expect_memusage(mu, &m);
        expect_ld_regions(&s[i], &m);
        expect_invariants(map, &m);
        for (size_t r = 0; r < m.map.nregions; r++) {
            const fs_region *reg = &m.map.regions[r];
            uint64_t over = reg->used > reg->length ? reg->used - reg->length : 0;
            if (over != ldlog_overflow(log, reg->name))
                fail_msg("%s: region %s over %llu, ld says %llu", s[i].name, reg->name, (unsigned long long)over,
                         (unsigned long long)ldlog_overflow(log, reg->name));
        }
        /* The ESP8266 scripts hold no linker-script data: every byte is an
         * input section or fill. */
        if (strncmp(s[i].name, "esp8266", 7) == 0)
            for (size_t k = 0; k < m.nsections; k++)
                assert_int_equal(m.sections[k].unattributed, 0);
        fs_mapfile_free(&m);
    }
}

static void test_irom0_overflow(void **state)
{
    (void)state;
    fs_mapfile m;
    load_map("samples/build/esp8266-irom0-overflow.map", &m);
    uint64_t over = ldlog_overflow("samples/build/esp8266-irom0-overflow.ldlog", "irom0_0_seg");
    assert_int_equal(over, 28672);  /* what ld printed for this link */
    int r = fs_memmap_find(&m.map, "irom0_0_seg");
    assert_true(r >= 0);
    assert_int_equal(m.map.regions[r].used - m.map.regions[r].length, over);
    assert_true(fs_mapfile_overflowed(&m));

    /* Objects in IRAM are the .text objects, and nothing of .irom0.text. */
    int iram = fs_memmap_find(&m.map, "iram1_0_seg");
    fs_map_contrib *c;
    fs_map_region_rest rest;
    long n = fs_mapfile_region_objects(&m, iram, &c, &rest);
    assert_true(n > 0);
    const fs_map_section *text = fs_mapfile_section(&m, ".text");
    assert_non_null(text);
    assert_int_equal(text->vma_region, iram);
    uint64_t sum = 0;
    for (long k = 0; k < n; k++) {
        sum += c[k].bytes;
        if (k)
            assert_true(c[k - 1].bytes >= c[k].bytes);
    }
    assert_int_equal(sum + rest.fill, text->size);
    free(c);

    /* The findings for a failed link without an ELF. */
    fs_report rep = {0};
    fs_error err;
    assert_int_equal(fs_mapfile_report(&m, &rep, &err), 0);
    assert_int_equal(rep.nfindings, 1);
    /* the ESP8266's irom0: the id and subject the ELF's check uses (esp8266.c) */
    assert_string_equal(rep.findings[0].id, "irom0-overflow");
    assert_string_equal(rep.findings[0].subject, ".irom0.text");
    assert_int_equal(rep.findings[0].nums[2].value, over);
    assert_non_null(strstr(rep.findings[0].message, "frozen_content.o"));
    assert_int_equal(rep.map.nregions, m.map.nregions);
    fs_report_free(&rep);
    fs_mapfile_free(&m);
}

static void test_reconcile(void **state)
{
    (void)state;
    fs_mapfile m, other;
    load_map("samples/build/cortex-m4.map", &m);
    load_map("samples/build/riscv32.map", &other);
    fs_image img = {0};
    fs_error err;
    if (fs_elf_load("samples/build/cortex-m4.elf", &img, &err) != 0)
        fail_msg("%s", err.msg);
    fs_report rep = {0};
    assert_int_equal(fs_mapfile_reconcile(&m, &img, &rep, &err), 0);
    assert_int_equal(rep.nfindings, 0);
    assert_true(fs_mapfile_reconcile(&other, &img, &rep, &err) > 0);
    assert_string_equal(rep.findings[0].id, "map-elf-mismatch");
    fs_report_free(&rep);
    fs_image_free(&img);
    fs_mapfile_free(&m);
    fs_mapfile_free(&other);
}

/* ---- the archive link of tests/data/map ------------------------------------- */

static char test_dir[64];

static int build_test_links(void **state)
{
    (void)state;
    snprintf(test_dir, sizeof test_dir, "/tmp/flashsize-map-XXXXXX");
    if (!mkdtemp(test_dir))
        return -1;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "make -s -C tests/data/map O=%s >/dev/null 2>&1 && echo ok", test_dir);
    char *out = tu_run(cmd);
    int ok = out && strncmp(out, "ok", 2) == 0;
    free(out);
    return ok ? 0 : -1;
}

static int remove_test_links(void **state)
{
    (void)state;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", test_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Sum of the allocated sections of an object file, from readelf. */
static uint64_t object_alloc_bytes(const char *obj)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "arm-none-eabi-readelf -SW %s", obj);
    char *out = tu_run(cmd);
    assert_non_null(out);
    uint64_t sum = 0;
    for (char *line = out; line && *line;) {
        char *close = strchr(line, ']'), *nl = strchr(line, '\n');
        char name[128], type[64], es[16], flags[16];
        unsigned long long addr, off, size;
        if (strncmp(line, "  [", 3) == 0 && close && (!nl || close < nl) &&
            sscanf(close + 1, "%127s %63s %llx %llx %llx %15s %15s", name, type, &addr, &off, &size, es, flags) == 7 &&
            strchr(flags, 'A'))
            sum += size;
        line = nl ? nl + 1 : NULL;
    }
    free(out);
    return sum;
}

static uint64_t object_bytes(const fs_mapfile *m, const char *name)
{
    char path[200];
    snprintf(path, sizeof path, "%s/%s", test_dir, name);
    int o = fs_mapfile_object(m, path);
    if (o < 0)
        fail_msg("object %s not in the map", path);
    return m->objects[o].bytes;
}

static void test_archive_link(void **state)
{
    (void)state;
    char path[200], elf[200], mu[200], obj[200];
    snprintf(path, sizeof path, "%s/fits.map", test_dir);
    snprintf(elf, sizeof elf, "%s/fits.elf", test_dir);
    snprintf(mu, sizeof mu, "%s/fits.memusage", test_dir);
    fs_mapfile m;
    load_map(path, &m);
    expect_elf_sections("arm-none-eabi-", elf, &m);
    expect_memusage(mu, &m);
    expect_invariants(path, &m);

    /* Archive members ld pulled in, and why. */
    assert_int_equal(m.nmembers, 2);
    snprintf(obj, sizeof obj, "%s/libdrv.a(drv_uart.o)", test_dir);
    assert_string_equal(m.members[0].member, obj);
    snprintf(obj, sizeof obj, "%s/app.o", test_dir);
    assert_string_equal(m.members[0].referenced_by, obj);
    assert_string_equal(m.members[0].symbol, "uart_init");
    assert_string_equal(m.members[1].symbol, "spi_xfer");
    assert_int_equal(m.narchives, 1);
    snprintf(obj, sizeof obj, "%s/libdrv.a", test_dir);
    assert_string_equal(m.archives[0].path, obj);
    assert_int_equal(m.archives[0].nobjects, 2);

    /* Per object: every allocated section of the object file (no --gc-sections). */
    const char *objs[] = {"app.o", "startup.o", "drv_uart.o", "drv_spi.o"};
    const char *keys[] = {"app.o", "startup.o", "libdrv.a(drv_uart.o)", "libdrv.a(drv_spi.o)"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(obj, sizeof obj, "%s/%s", test_dir, objs[i]);
        uint64_t want = object_alloc_bytes(obj);
        assert_true(want > 0);
        assert_int_equal(object_bytes(&m, keys[i]), want);
    }
    assert_int_equal(m.archives[0].bytes, object_bytes(&m, "libdrv.a(drv_uart.o)") +
                                              object_bytes(&m, "libdrv.a(drv_spi.o)"));
    snprintf(obj, sizeof obj, "%s/libdrv.a(drv_unused.o)", test_dir);
    assert_int_equal(fs_mapfile_object(&m, obj), -1);

    /* Linker-script data: LONG in .text, QUAD in .rodata; ALIGN(16) is fill. */
    const fs_map_section *text = fs_mapfile_section(&m, ".text");
    assert_int_equal(text->unattributed, 4);
    assert_true(text->has_data);
    assert_int_equal(fs_mapfile_section(&m, ".rodata")->unattributed, 8);
    /* A name too long for its column: numbers on the next line. */
    assert_int_equal(fs_mapfile_section(&m, ".persistent_config_area")->size, 32);
    /* NOLOAD: .stack is all fill and has no load image; .data has one in FLASH. */
    const fs_map_section *stack = fs_mapfile_section(&m, ".stack");
    assert_int_equal(stack->fill_bytes, 0x200);
    assert_false(stack->load);
    assert_int_equal(stack->lma_region, -1);
    const fs_map_section *data = fs_mapfile_section(&m, ".data");
    assert_true(data->load);
    assert_int_equal(data->lma_region, fs_memmap_find(&m.map, "FLASH"));
    assert_false(fs_mapfile_section(&m, ".comment")->alloc);
    assert_false(fs_mapfile_overflowed(&m));
    fs_mapfile_free(&m);

    /* The failed link: FLASH overflowed by what ld said. */
    snprintf(path, sizeof path, "%s/overflow.map", test_dir);
    snprintf(mu, sizeof mu, "%s/overflow.ldlog", test_dir);
    load_map(path, &m);
    uint64_t over = ldlog_overflow(mu, "FLASH");
    assert_true(over > 0);
    int r = fs_memmap_find(&m.map, "FLASH");
    assert_int_equal(m.map.regions[r].used - m.map.regions[r].length, over);
    expect_invariants(path, &m);
    fs_mapfile_free(&m);
}

/* ---- bad input ----------------------------------------------------------------- */

static void expect_parse_error(const char *text, size_t len, const char *want)
{
    fs_mapfile m;
    fs_error err = {{0}};
    assert_int_equal(fs_mapfile_parse("bad.map", text, len, &m, &err), -1);
    if (strncmp(err.msg, "bad.map", 7) != 0 || !strstr(err.msg, want))
        fail_msg("wanted '%s', got '%s'", want, err.msg);
    assert_int_equal(m.nsections, 0);
}

static void test_bad_input(void **state)
{
    (void)state;
    expect_parse_error("", 0, "empty file");
    const char *text = "hello world\nthis is not a map\n";
    expect_parse_error(text, strlen(text), "not a GNU ld map file");
    text = "Memory Configuration\n\nName Origin Length\nFLASH 0x0 0x100\n";
    expect_parse_error(text, strlen(text), "Linker script and memory map");
    text = "Memory Configuration\n\nLinker script and memory map\n\n.text 0x0 0x10";
    expect_parse_error(text, strlen(text), "middle of a line");
    const char bin[] = "Memory Configuration\n\x7f" "ELF\x01\x01\0\0\0garbage\n";
    expect_parse_error(bin, sizeof bin - 1, "binary data");
    text = "Memory Configuration\n\nLinker script and memory map\n\n.text 0xfffffffffffffff0 0x100\n";
    expect_parse_error(text, strlen(text), "past the end of the address space");

    size_t big = 1 << 20;
    char *line = malloc(big + 1);
    assert_non_null(line);
    memset(line, 'a', big);
    line[big] = '\n';
    expect_parse_error(line, big + 1, "longer than");
    free(line);

    fs_mapfile m;
    fs_error err;
    assert_int_equal(fs_mapfile_load("/nonexistent/x.map", &m, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/x.map: cannot open"));
    assert_int_equal(fs_mapfile_load("samples", &m, &err), -1);
    assert_non_null(strstr(err.msg, "samples: not a regular file"));
}

/* Cut a real map at many points: an error or a smaller map, never a crash,
 * and the invariant holds for whatever was read. */
static void test_truncations(void **state)
{
    (void)state;
    FILE *f = fopen("samples/build/cortex-m4.map", "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len > 1000 && len < sizeof buf);
    size_t ok = 0, failed = 0;
    for (size_t cut = 1; cut < len; cut += 97) {
        /* every other cut moved to the end of its line: parses or errors cleanly */
        if ((cut / 97) % 2) {
            char *nl = memchr(buf + cut, '\n', len - cut);
            cut = nl ? (size_t)(nl - buf) + 1 : len;
        }
        fs_mapfile m;
        fs_error err;
        if (fs_mapfile_parse("cut.map", buf, cut, &m, &err) == 0) {
            expect_invariants("cut.map", &m);
            fs_mapfile_free(&m);
            ok++;
        } else {
            assert_int_equal(strncmp(err.msg, "cut.map", 7), 0);
            failed++;
        }
    }
    assert_true(failed > 0);
    assert_true(ok > 0);  /* cuts at line ends after the memory map header parse */
}

/* Each shape of an input-section line, as ld writes them and as edited or
 * carried between systems (tabs, CRLF, upper-case hex, blanks in a path):
 * the entries read are exactly those written here. */
static void test_line_shapes(void **state)
{
    (void)state;
    static const char text[] =
        "Discarded input sections\n\n"
        " .text.d1       0x00000000        0x4 obj/d.o\n"
        " .literal.a_long_discarded_name\n"
        "                0x00000000       0x10 obj/d.o\n"
        " .text.d3       0x00000000        0x0 obj/d.o\n\n"
        "Memory Configuration\n\n"
        "Name             Origin             Length             Attributes\n"
        "ram              0x10000000         0x00010000         xrw\n"
        "*default*        0x00000000         0xffffffff\n\n"
        "Linker script and memory map\n\n"
        ".text           0x10000000      0x100\n"
        " *(.text*)\n"
        " .text.long_function_name_a\n"
        "                0x10000000       0x20 obj/a.o  \t\n"
        " .text.b        0x10000020       0x10 obj/b.o\n"
        "                0x10000020                b_symbol\n"
        " *fill*         0x10000030        0x8 \n"
        " .text.nofile   0x10000038        0x8 \n"
        " .text.tab\t\t0x10000040\t0x8\tobj/tab.o\n"
        " .text.crlf     0x10000048        0x8 obj/crlf.o  \r\n"
        " .text.dropped\n"
        " *(.rodata*)\n"
        "                0x10000050        0x8 obj/never.o\n"
        " .text.hex17    0x000000000010000058 0x8 obj/never.o\n"
        " .text.hex17b\n"
        "                0x00000000010000058 0x8 obj/never.o\n"
        " .text.up       0X10000058        0X8 obj/up.o\n"
        "                0x10000060        0x8 (size before relaxing)\n"
        " .text.sp       0x10000060        0x8 obj/with space.o   \n"
        " *fill*\n"
        "                0x10000068        0x8 obj/never.o\n"
        "\t.text.tabbed_name\n"
        "\t\t0x10000068\t0x8\tobj/tab.o\n"
        " .text.(paren)  0x10000070        0x4 lib.a(m.o)\n"
        " .text.num\n"
        "                0x10000074        0x4  \n"
        " .text.junk\n"
        "                0x10000074        0x4z obj/never.o\n"
        "                0x10000078        0x4 obj/never.o\n"
        "                0x10000078        0x4 LONG 0x1234\n"
        "  0x1000007c 0x4 obj/never.o\n"
        " .text.cr\rx    0x1000007c        0x4 obj/cr.o\n\n"
        ".data           0x10000080        0x4\n"
        "                0x10000080        0x4 (size before relaxing)\n"
        " .data.x        0x10000080        0x4 obj/x.o\n";
    static const struct {
        const char *name, *object;
        uint64_t addr, size;
    } want[] = {
        {".text.long_function_name_a", "obj/a.o", 0x10000000, 0x20},
        {".text.b", "obj/b.o", 0x10000020, 0x10},
        {"*fill*", NULL, 0x10000030, 0x8},
        {".text.tab", "obj/tab.o", 0x10000040, 0x8},
        {".text.crlf", "obj/crlf.o", 0x10000048, 0x8},
        {".text.up", "obj/up.o", 0x10000058, 0x8},
        {".text.sp", "obj/with space.o", 0x10000060, 0x8},
        {".text.tabbed_name", "obj/tab.o", 0x10000068, 0x8},
        {".text.(paren)", "lib.a(m.o)", 0x10000070, 0x4},
        {".text.cr\rx", "obj/cr.o", 0x1000007c, 0x4},
        {".data.x", "obj/x.o", 0x10000080, 0x4},
    };
    fs_mapfile m;
    fs_error err;
    if (fs_mapfile_parse("shapes.map", text, sizeof text - 1, &m, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(m.ndiscarded, 3);
    assert_int_equal(m.discarded_bytes, 0x14);
    assert_int_equal(m.nsections, 2);
    assert_true(m.sections[0].has_data);   /* the LONG */
    assert_false(m.sections[1].has_data);
    assert_int_equal(m.sections[0].ninputs, 10);
    assert_int_equal(m.ninputs, sizeof want / sizeof *want);
    for (size_t i = 0; i < m.ninputs; i++) {
        const fs_map_input *in = &m.inputs[i];
        assert_string_equal(in->name, want[i].name);
        assert_int_equal(in->addr, want[i].addr);
        assert_int_equal(in->size, want[i].size);
        assert_int_equal(in->fill, want[i].object == NULL);
        if (want[i].object)
            assert_string_equal(m.objects[in->object].path, want[i].object);
        else
            assert_int_equal(in->object, -1);
    }
    assert_int_equal(m.nobjects, 9); /* obj/d.o only discarded, obj/never.o never taken */
    assert_int_equal(fs_mapfile_object(&m, "obj/never.o"), -1);
    fs_mapfile_free(&m);
}

static void test_json(void **state)
{
    (void)state;
    fs_mapfile m;
    load_map("samples/build/esp8266-irom0-overflow.map", &m);
    json_t *doc = fs_mapfile_json(&m, 5);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "schema")), "flashsize-map");
    assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")), FS_MAP_JSON_SCHEMA_VERSION);
    json_t *ov = json_object_get(doc, "overflows");
    assert_int_equal(json_array_size(ov), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ov, 0), "over")), 28672);
    json_t *secs = json_object_get(doc, "sections");
    assert_int_equal(json_array_size(secs), m.nsections);
    json_t *irom = json_array_get(secs, 0);
    assert_string_equal(json_string_value(json_object_get(irom, "name")), ".irom0.text");
    assert_int_equal(json_array_size(json_object_get(irom, "objects")), 5);
    /* listed + omitted + fill + unattributed == size */
    uint64_t sum = (uint64_t)json_integer_value(json_object_get(irom, "objects_omitted_bytes")) +
                   (uint64_t)json_integer_value(json_object_get(irom, "fill")) +
                   (uint64_t)json_integer_value(json_object_get(irom, "unattributed"));
    for (size_t i = 0; i < 5; i++)
        sum += (uint64_t)json_integer_value(json_object_get(json_array_get(json_object_get(irom, "objects"), i), "bytes"));
    assert_int_equal(sum, json_integer_value(json_object_get(irom, "size")));
    json_decref(doc);
    fs_mapfile_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_sample_map),
        cmocka_unit_test(test_irom0_overflow),
        cmocka_unit_test(test_reconcile),
        cmocka_unit_test_setup_teardown(test_archive_link, build_test_links, remove_test_links),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_line_shapes),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
