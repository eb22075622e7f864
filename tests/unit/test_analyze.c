/*
 * test_analyze.c - regions and findings against the layouts the samples
 * were built to have.
 *
 * Ground truth:
 *   - region lengths and used bytes: GNU ld's own --print-memory-usage for
 *     the same link (samples/build/NAME.memusage), compared three ways: with
 *     the sample's linker script (--ld), with the board file (--board), and
 *     inferred from the ELF's linker symbols (no flags);
 *   - irom0 overflow: the "overflowed by N bytes" ld printed (NAME.ldlog);
 *   - window and ROMFS overlap: .irom0.text's address and size from the
 *     toolchain's `size -A`;
 *   - the boot image: esptool's v1 layout computed here from `readelf -SW`
 *     (header 8, per segment 8 + data padded to 4, contiguous sections of one
 *     memory type merged, padded to 16 with the checksum byte last).
 */
#include "testutil.h"

#include "analyze.h"
#include "elfread.h"
#include "ldscript.h"

#include <ctype.h>
#include <elf.h>

typedef struct sample {
    char name[64], prefix[64], ld[256], board[64];
} sample;

static bool find_sample(const char *name, sample *out)
{
    FILE *f = fopen("samples/samples.txt", "r");
    assert_non_null(f);
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (line[0] == '#' || sscanf(line, "%63s %63s %255s %63s", out->name, out->prefix, out->ld, out->board) != 4)
            continue;
        found = strcmp(out->name, name) == 0;
    }
    fclose(f);
    if (strcmp(out->prefix, "-") == 0)
        out->prefix[0] = '\0';
    return found;
}

typedef struct analysis {
    fs_image img;
    fs_board board;
    fs_memmap ld;
    fs_report rep;
    bool has_board;
} analysis;

enum how { BY_ELF, BY_LD, BY_BOARD };

static void analyze(const sample *s, enum how how, analysis *a)
{
    memset(a, 0, sizeof *a);
    char path[300];
    snprintf(path, sizeof path, "samples/build/%s.elf", s->name);
    fs_error err;
    if (fs_elf_load(path, &a->img, &err) != 0)
        fail_msg("%s", err.msg);
    fs_analyze_opts o = {0};
    if (how == BY_LD) {
        if (fs_ldscript_load(s->ld, NULL, &a->ld, &err) != 0)
            fail_msg("%s", err.msg);
        o.ld_map = &a->ld;
        o.ld_path = s->ld;
    } else if (how == BY_BOARD) {
        if (fs_board_load("rules", s->board, &a->board, &err) != 0)
            fail_msg("%s", err.msg);
        a->has_board = true;
        o.board = &a->board;
    }
    if (fs_analyze(&a->img, &o, &a->rep, &err) != 0)
        fail_msg("%s", err.msg);
}

static void release(analysis *a)
{
    fs_report_free(&a->rep);
    fs_image_free(&a->img);
    fs_memmap_free(&a->ld);
    if (a->has_board)
        fs_board_free(&a->board);
}

static uint64_t ld_units(uint64_t n, const char *unit)
{
    if (strcmp(unit, "KB") == 0)
        return n << 10;
    if (strcmp(unit, "MB") == 0)
        return n << 20;
    if (strcmp(unit, "GB") == 0)
        return n << 30;
    return n;
}

/* Every region ld reported exists in the report with ld's length and used. */
static void expect_memusage(const sample *s, const fs_report *rep, bool check_length)
{
    char path[300];
    snprintf(path, sizeof path, "samples/build/%s.memusage", s->name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        char name[64], u1[8], u2[8];
        unsigned long long used, length;
        if (sscanf(line, " %63[^:]: %llu %7s %llu %7s", name, &used, u1, &length, u2) != 5)
            continue;
        int r = fs_memmap_find(&rep->map, name);
        if (r < 0)
            fail_msg("%s: region %s missing", s->name, name);
        if (check_length && rep->map.regions[r].length != ld_units(length, u2))
            fail_msg("%s: region %s length %llu, ld says %llu", s->name, name,
                     (unsigned long long)rep->map.regions[r].length, (unsigned long long)ld_units(length, u2));
        if (rep->map.regions[r].used != ld_units(used, u1))
            fail_msg("%s: region %s used %llu, ld says %llu", s->name, name,
                     (unsigned long long)rep->map.regions[r].used, (unsigned long long)ld_units(used, u1));
        rows++;
    }
    fclose(f);
    assert_true(rows >= 2);
}

/* Finding ids, comma separated, in report order. */
static void expect_findings(const sample *s, const fs_report *rep, const char *want)
{
    char got[512] = "";
    for (size_t i = 0; i < rep->nfindings; i++) {
        size_t n = strlen(got);
        snprintf(got + n, sizeof got - n, "%s%s", i ? "," : "", rep->findings[i].id);
    }
    if (strcmp(got, want) != 0)
        fail_msg("%s: findings '%s', expected '%s'", s->name, got, want);
}

static uint64_t finding_num(const fs_report *rep, const char *id, const char *key)
{
    for (size_t i = 0; i < rep->nfindings; i++) {
        if (strcmp(rep->findings[i].id, id) != 0)
            continue;
        for (size_t k = 0; k < rep->findings[i].nnums; k++)
            if (strcmp(rep->findings[i].nums[k].key, key) == 0)
                return rep->findings[i].nums[k].value;
    }
    fail_msg("no number %s in finding %s", key, id);
    return 0;
}

/* .irom0.text address and size from the toolchain's size -A. */
static void size_a_irom0(const sample *s, uint64_t *addr, uint64_t *size)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "%ssize -A samples/build/%s.elf", s->prefix, s->name);
    char *out = tu_run(cmd);
    assert_non_null(out);
    char *line = strstr(out, "\n.irom0.text ");
    assert_non_null(line);
    unsigned long long sz, ad;
    assert_int_equal(sscanf(line, " .irom0.text %llu %llu", &sz, &ad), 2);
    *addr = ad;
    *size = sz;
    free(out);
}

static uint64_t ldlog_overflow(const sample *s)
{
    char path[300];
    snprintf(path, sizeof path, "samples/build/%s.ldlog", s->name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    unsigned long long over = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = strstr(line, "overflowed by ");
        if (p)
            over = strtoull(p + 14, NULL, 10);
    }
    fclose(f);
    return over;
}

static int esptool_memory_type(unsigned long long a)
{
    if (a >= 0x3ff00000 && a < 0x3ff00010) return 0;
    if (a >= 0x3ffe8000 && a < 0x40000000) return 1;
    if (a >= 0x40100000 && a < 0x40108000) return 2;
    if (a >= 0x40201010 && a < 0x402e1010) return 3;
    return -1;
}

/* The boot image size from readelf -SW, done the way esptool lays it out;
 * *nseg (if given) = its number of segments. */
static uint64_t readelf_boot_image_n(const sample *s, size_t *nseg)
{
    size_t segs = 0;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "%sreadelf -SW samples/build/%s.elf", s->prefix, s->name);
    char *out = tu_run(cmd);
    assert_non_null(out);
    unsigned long long pos = 8, prev_end = 0;
    int prev_type = -2;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char *rb = strchr(line, ']');
        char name[128], type[32];
        unsigned long long addr, off, size;
        if (!rb || sscanf(rb + 1, "%127s %31s %llx %llx %llx", name, type, &addr, &off, &size) != 5)
            continue;
        if (strcmp(type, "PROGBITS") && strcmp(type, "INIT_ARRAY") && strcmp(type, "FINI_ARRAY"))
            continue;
        if (addr == 0 || size == 0 || (addr >= 0x40200000 && addr < 0x40300000))
            continue;
        unsigned long long padded = (size + 3) / 4 * 4;
        int mt = esptool_memory_type(addr);
        if (!(addr == prev_end && mt == prev_type)) {
            pos += 8; /* a new segment header */
            segs++;
        }
        pos += padded;
        prev_end = addr + padded;
        prev_type = mt;
    }
    free(out);
    if (nseg)
        *nseg = segs;
    return (pos / 16 + 1) * 16;
}

static uint64_t readelf_boot_image(const sample *s)
{
    return readelf_boot_image_n(s, NULL);
}

static void test_regions_match_ld(void **state)
{
    (void)state;
    static const char *const names[] = {"esp8266-fits",   "esp8266-nearfull",      "esp8266-irom0-overflow",
                                        "esp8266-window", "esp8266-boot-overflow", "esp8266-romfs",
                                        "esp8266-romfs-overlap", "esp8266-512k",   "cortex-m4",
                                        "arm-edge", "arm-spill", "esp8266-region-past-window", "esp8266-bootsegs",
                                        "esp8266-full"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        sample s;
        assert_true(find_sample(names[i], &s));
        analysis a;
        analyze(&s, BY_LD, &a);
        expect_memusage(&s, &a.rep, true);
        release(&a);
        if (strncmp(s.name, "esp8266", 7) != 0)
            continue;
        /* inferred from the ELF: the same numbers without any flag */
        analyze(&s, BY_ELF, &a);
        assert_int_equal(a.rep.region_source, FS_REGIONS_ELF);
        expect_memusage(&s, &a.rep, true);
        release(&a);
        /* with the board the sample was derived from: same usage; lengths
         * match except where the sample's script was hand-edited */
        analyze(&s, BY_BOARD, &a);
        bool edited = strstr(s.ld, "window") || strstr(s.ld, "overlap");
        expect_memusage(&s, &a.rep, !edited);
        release(&a);
    }
}

/* The stripped ESP8266 ELF (no symbols: no _firmware_size, no
 * _irom0_text_start) gives the regions ld printed for the same link
 * (esp8266-fits.memusage): lengths and used bytes, irom0 included. */
static void test_stripped_matches_ld(void **state)
{
    (void)state;
    sample s, ld;
    assert_true(find_sample("esp8266-fits-stripped", &s));
    assert_true(find_sample("esp8266-fits", &ld));
    analysis a;
    analyze(&s, BY_ELF, &a);
    assert_false(a.img.has_symtab);
    assert_int_equal(a.rep.region_source, FS_REGIONS_ELF);
    expect_memusage(&ld, &a.rep, true);
    assert_true(a.rep.esp.has_irom0_region);
    release(&a);
}

/* arm-edge (samples/ld/arm_edge.ld): .fill ends exactly at FLASH's end
 * (in FLASH, used = length as ld says), .edge starts exactly at RAM's end
 * (in no region: RAM's used is ld's, and the section-unplaced warning). */
static void test_region_edges(void **state)
{
    (void)state;
    sample s;
    assert_true(find_sample("arm-edge", &s));
    analysis a;
    analyze(&s, BY_LD, &a);
    expect_memusage(&s, &a.rep, true);
    int flash = fs_memmap_find(&a.rep.map, "FLASH");
    assert_true(flash >= 0);
    assert_int_equal(a.rep.map.regions[flash].used, a.rep.map.regions[flash].length);
    const fs_section *fill = fs_image_section(&a.img, ".fill"), *edge = fs_image_section(&a.img, ".edge");
    assert_non_null(fill);
    assert_non_null(edge);
    assert_int_equal(fill->vma_region, flash);
    assert_int_equal(fill->addr + fill->size, a.rep.map.regions[flash].origin + a.rep.map.regions[flash].length);
    int ram = fs_memmap_find(&a.rep.map, "RAM");
    assert_int_equal(edge->addr, a.rep.map.regions[ram].origin + a.rep.map.regions[ram].length);
    assert_int_equal(edge->vma_region, -1);
    expect_findings(&s, &a.rep, "region-headroom,section-unplaced");
    release(&a);
}

/* esp8266-region-past-window (the hand-edited 1M irom0 script, 600 KiB of
 * code): the region ends past the window though the code fits.  The region's
 * end = _irom0_text_start (nm) + ld's Region Size (memusage). */
/* arm-spill: .rodata starts past the overflowing FLASH's end, where ld put
 * it (--noinhibit-exec): counted in FLASH as ld counts it, and FLASH's
 * overflow is ld's "overflowed by N bytes" (arm-spill.ldlog). */
static void test_region_spill(void **state)
{
    (void)state;
    sample s;
    assert_true(find_sample("arm-spill", &s));
    analysis a;
    analyze(&s, BY_LD, &a);
    expect_memusage(&s, &a.rep, true);
    int flash = fs_memmap_find(&a.rep.map, "FLASH");
    const fs_section *ro = fs_image_section(&a.img, ".rodata");
    assert_non_null(ro);
    assert_true(ro->addr >= a.rep.map.regions[flash].origin + a.rep.map.regions[flash].length);
    assert_int_equal(ro->vma_region, flash);
    assert_int_equal(finding_num(&a.rep, "region-overflow", "over"), ldlog_overflow(&s));
    release(&a);
}

/* esp8266-full: .irom0.text fills irom0_0_seg exactly and ends exactly at
 * the window's end (size -A): 100 % used, no overflow, no window finding;
 * with the headroom threshold at exactly 100 % the warning is raised. */
static void test_irom0_exactly_full(void **state)
{
    (void)state;
    sample s;
    assert_true(find_sample("esp8266-full", &s));
    uint64_t addr, size;
    size_a_irom0(&s, &addr, &size);
    assert_int_equal(addr + size, 0x40300000);
    analysis a;
    analyze(&s, BY_ELF, &a);
    expect_memusage(&s, &a.rep, true);
    int r = fs_memmap_find(&a.rep.map, "irom0_0_seg");
    assert_int_equal(a.rep.map.regions[r].used, a.rep.map.regions[r].length);
    expect_findings(&s, &a.rep, "region-headroom");
    release(&a);
    /* threshold 100 %: used == length is at it */
    memset(&a, 0, sizeof a);
    fs_error err;
    assert_int_equal(fs_elf_load("samples/build/esp8266-full.elf", &a.img, &err), 0);
    fs_analyze_opts o = {0};
    o.headroom_pct = 100;
    assert_int_equal(fs_analyze(&a.img, &o, &a.rep, &err), 0);
    expect_findings(&s, &a.rep, "region-headroom");
    assert_int_equal(finding_num(&a.rep, "region-headroom", "free"), 0);
    release(&a);
}

static void test_region_past_window(void **state)
{
    (void)state;
    sample s;
    assert_true(find_sample("esp8266-region-past-window", &s));
    analysis a;
    analyze(&s, BY_ELF, &a);
    expect_memusage(&s, &a.rep, true);
    expect_findings(&s, &a.rep, "irom0-region-past-window");
    char *out = tu_run("xtensa-lx106-elf-nm samples/build/esp8266-region-past-window.elf | "
                       "awk '$3 == \"_irom0_text_start\" { print $1 }'");
    assert_non_null(out);
    uint64_t start = strtoull(out, NULL, 16);
    free(out);
    int r = fs_memmap_find(&a.rep.map, "irom0_0_seg");
    uint64_t end = start + a.rep.map.regions[r].length; /* length = ld's, checked above */
    uint64_t addr, size;
    size_a_irom0(&s, &addr, &size);
    assert_true(addr + size <= 0x40300000 && end > 0x40300000);
    assert_int_equal(finding_num(&a.rep, "irom0-region-past-window", "end"), end);
    assert_int_equal(finding_num(&a.rep, "irom0-region-past-window", "over"), end - 0x40300000);
    release(&a);
}

/* esp8266-bootsegs: readelf's sections make more than 16 boot segments */
static void test_boot_segments(void **state)
{
    (void)state;
    sample s;
    assert_true(find_sample("esp8266-bootsegs", &s));
    analysis a;
    analyze(&s, BY_ELF, &a);
    size_t segs;
    uint64_t image = readelf_boot_image_n(&s, &segs);
    assert_true(segs > 16);
    expect_findings(&s, &a.rep, "boot-segments-overflow");
    assert_true(a.rep.esp.boot_too_many_segments);
    assert_int_equal(finding_num(&a.rep, "boot-segments-overflow", "segments"), segs);
    assert_int_equal(finding_num(&a.rep, "boot-segments-overflow", "limit"), 16);
    assert_int_equal(a.rep.esp.boot_image_size, image);
    release(&a);
}

static void test_findings(void **state)
{
    (void)state;
    static const struct {
        const char *name, *findings;
    } want[] = {
        {"esp8266-fits", ""},
        {"esp8266-nearfull", "region-headroom"},
        {"esp8266-irom0-overflow", "irom0-overflow"},
        {"esp8266-window", "window-exhausted,region-headroom"},
        {"esp8266-boot-overflow", "boot-segments-overflow"},
        {"esp8266-romfs", ""},
        {"esp8266-romfs-overlap", "romfs-overlap,region-headroom,region-overlap"},
        {"esp8266-512k", ""},
        {"esp8266-full", "region-headroom"},
        {"esp8266-boot-limit", ""},
        {"esp8266-boot-limit-over", "boot-segments-overflow"},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        sample s;
        assert_true(find_sample(want[i].name, &s));
        analysis a;
        analyze(&s, BY_ELF, &a);
        expect_findings(&s, &a.rep, want[i].findings);
        assert_true(a.rep.esp.detected);
        /* every sample's boot image as esptool would lay it out */
        assert_int_equal(a.rep.esp.boot_image_size, readelf_boot_image(&s));
        release(&a);
    }
}

static void test_finding_numbers(void **state)
{
    (void)state;
    sample s;
    analysis a;
    uint64_t addr, size;

    assert_true(find_sample("esp8266-irom0-overflow", &s));
    analyze(&s, BY_ELF, &a);
    uint64_t over = ldlog_overflow(&s);
    assert_true(over > 0);
    assert_int_equal(finding_num(&a.rep, "irom0-overflow", "over"), over);
    assert_int_equal(finding_num(&a.rep, "irom0-overflow", "limit"), 0x8f000);
    assert_int_equal(fs_report_worst(&a.rep), FS_SEV_ERROR);
    release(&a);

    assert_true(find_sample("esp8266-window", &s));
    analyze(&s, BY_ELF, &a);
    size_a_irom0(&s, &addr, &size);
    assert_true(addr + size > 0x40300000);
    assert_int_equal(finding_num(&a.rep, "window-exhausted", "over"), addr + size - 0x40300000);
    assert_int_equal(finding_num(&a.rep, "window-exhausted", "end"), addr + size);
    release(&a);

    assert_true(find_sample("esp8266-romfs-overlap", &s));
    analyze(&s, BY_ELF, &a);
    size_a_irom0(&s, &addr, &size);
    assert_int_equal(finding_num(&a.rep, "romfs-overlap", "overlap"), addr + size - 0x402b0000);
    assert_int_equal(finding_num(&a.rep, "romfs-overlap", "romfs_start"), 0x402b0000);
    assert_int_equal(finding_num(&a.rep, "romfs-overlap", "romfs_size"), 320 * 1024);
    release(&a);

    assert_true(find_sample("esp8266-boot-overflow", &s));
    analyze(&s, BY_ELF, &a);
    uint64_t boot = readelf_boot_image(&s);
    assert_true(boot > 0x8ffc);
    assert_int_equal(finding_num(&a.rep, "boot-segments-overflow", "size"), boot);
    assert_int_equal(finding_num(&a.rep, "boot-segments-overflow", "over"), boot - 0x8ffc);
    release(&a);

    /* the ROMFS partition comes from the firmware's own symbols */
    assert_true(find_sample("esp8266-romfs", &s));
    analyze(&s, BY_ELF, &a);
    assert_true(a.rep.esp.has_romfs);
    assert_int_equal(a.rep.esp.romfs_start, 0x402b0000);
    assert_int_equal(a.rep.esp.romfs_size, 0x50000);
    assert_int_equal(a.rep.esp.window_used_end, 0x40300000);
    release(&a);
}

/* The headroom threshold decides region-headroom; above the fullest region
 * nothing fires. */
static void test_headroom_threshold(void **state)
{
    (void)state;
    sample s;
    assert_true(find_sample("esp8266-nearfull", &s));
    fs_image img;
    fs_error err;
    char path[300];
    snprintf(path, sizeof path, "samples/build/%s.elf", s.name);
    assert_int_equal(fs_elf_load(path, &img, &err), 0);
    for (int pct = 50; pct <= 100; pct += 50) {
        fs_analyze_opts o = {.headroom_pct = pct};
        fs_report rep;
        assert_int_equal(fs_analyze(&img, &o, &rep, &err), 0);
        int r = fs_memmap_find(&rep.map, "irom0_0_seg");
        double used_pct = (double)rep.map.regions[r].used * 100.0 / (double)rep.map.regions[r].length;
        bool fired = false;
        for (size_t i = 0; i < rep.nfindings; i++)
            fired |= strcmp(rep.findings[i].id, "region-headroom") == 0 &&
                     strcmp(rep.findings[i].subject, "irom0_0_seg") == 0;
        assert_int_equal(fired, used_pct >= pct);
        fs_report_free(&rep);
    }
    fs_image_free(&img);
}

/* Cortex-M: .data runs in RAM and is loaded from FLASH; both count. */
static void test_cortex_m_load_image(void **state)
{
    (void)state;
    sample s;
    assert_true(find_sample("cortex-m4", &s));
    analysis a;
    analyze(&s, BY_LD, &a);
    const fs_section *data = fs_image_section(&a.img, ".data");
    assert_non_null(data);
    assert_true(data->lma != data->addr);
    assert_string_equal(a.rep.map.regions[data->vma_region].name, "RAM");
    assert_string_equal(a.rep.map.regions[data->lma_region].name, "FLASH");
    assert_false(a.rep.esp.detected);
    expect_findings(&s, &a.rep, "");
    release(&a);
}

/* Sections outside every region are reported. */
static void test_unplaced(void **state)
{
    (void)state;
    sample s;
    assert_true(find_sample("cortex-m4", &s));
    analysis a;
    memset(&a, 0, sizeof a);
    fs_error err;
    assert_int_equal(fs_elf_load("samples/build/cortex-m4.elf", &a.img, &err), 0);
    fs_memmap only_ram = {0};
    assert_true(fs_memmap_add(&only_ram, "RAM", 0x20000000, 128 * 1024, "rwx") >= 0);
    fs_analyze_opts o = {.ld_map = &only_ram};
    assert_int_equal(fs_analyze(&a.img, &o, &a.rep, &err), 0);
    size_t unplaced = 0;
    for (size_t i = 0; i < a.rep.nfindings; i++)
        unplaced += strcmp(a.rep.findings[i].id, "section-unplaced") == 0;
    size_t flash_sections = 0;
    for (size_t i = 0; i < a.img.nsections; i++) {
        const fs_section *sec = &a.img.sections[i];
        bool load_image = sec->type != SHT_NOBITS && sec->lma != sec->addr;
        if ((sec->flags & SHF_ALLOC) && sec->size &&
            (sec->addr < 0x20000000 || (load_image && sec->lma < 0x20000000)))
            flash_sections++;
    }
    assert_true(flash_sections >= 2);
    assert_int_equal(unplaced, flash_sections);
    fs_memmap_free(&only_ram);
    release(&a);
}

/* Regions -> sections reconcile: in every region, the bytes of the sections
 * placed there (run and load images) plus the gaps between them, walked in
 * address order from the origin, add up to the region's used bytes. */
static void test_regions_reconcile_with_sections(void **state)
{
    (void)state;
    static const char *const names[] = {"esp8266-fits", "esp8266-irom0-overflow", "esp8266-window",
                                        "esp8266-romfs-overlap", "esp8266-boot-overflow", "cortex-m4"};
    for (size_t n = 0; n < sizeof names / sizeof *names; n++) {
        sample s;
        assert_true(find_sample(names[n], &s));
        analysis a;
        analyze(&s, BY_LD, &a);
        for (size_t r = 0; r < a.rep.map.nregions; r++) {
            const fs_region *reg = &a.rep.map.regions[r];
            uint64_t starts[64], sizes[64];
            size_t k = 0;
            for (size_t i = 0; i < a.img.nsections && k < 64; i++) {
                const fs_section *sec = &a.img.sections[i];
                if (sec->vma_region == (int)r) {
                    starts[k] = sec->addr;
                    sizes[k++] = sec->size;
                }
                if (sec->lma_region == (int)r) {
                    starts[k] = sec->lma;
                    sizes[k++] = sec->size;
                }
            }
            for (size_t i = 1; i < k; i++) /* insertion sort by address */
                for (size_t j = i; j > 0 && starts[j] < starts[j - 1]; j--) {
                    uint64_t t = starts[j]; starts[j] = starts[j - 1]; starts[j - 1] = t;
                    t = sizes[j]; sizes[j] = sizes[j - 1]; sizes[j - 1] = t;
                }
            uint64_t bytes = 0, gaps = 0, end = reg->origin;
            for (size_t i = 0; i < k; i++) {
                assert_true(starts[i] >= end); /* sections in one region never overlap */
                gaps += starts[i] - end;
                bytes += sizes[i];
                end = starts[i] + sizes[i];
            }
            if (bytes + gaps != reg->used)
                fail_msg("%s: region %s: sections %llu + gaps %llu != used %llu", s.name, reg->name,
                         (unsigned long long)bytes, (unsigned long long)gaps, (unsigned long long)reg->used);
        }
        release(&a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regions_match_ld),  cmocka_unit_test(test_findings), cmocka_unit_test(test_stripped_matches_ld), cmocka_unit_test(test_region_edges),
        cmocka_unit_test(test_region_spill), cmocka_unit_test(test_region_past_window),
        cmocka_unit_test(test_irom0_exactly_full),
        cmocka_unit_test(test_boot_segments),
        cmocka_unit_test(test_finding_numbers),   cmocka_unit_test(test_headroom_threshold),
        cmocka_unit_test(test_cortex_m_load_image), cmocka_unit_test(test_unplaced),
        cmocka_unit_test(test_regions_reconcile_with_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
