/*
 * test_romfs.c - the ROMFS reader, walker and occupancy findings.
 *
 * Ground truth:
 *   - the images come from tests/tools/romfs_writer.h, which records for every
 *     record the offset, size, overhead, content size and content offset it
 *     wrote, and the totals of each accounting bucket; the reader must
 *     reproduce all of them;
 *   - the 44-byte image mpremote builds for the tree {a.txt (9 bytes),
 *     lib/b.dat (4 bytes)} starts D2 CD 31 80 27 (facts doc 4.2);
 *   - partitions: samples/build/esp8266-romfs.elf carries
 *     _micropy_hw_romfs_part0_start = 0x402b0000 and _size = 0x50000
 *     (readelf -s), the same as rules/boards/esp8266-2m-romfs.ini.
 */
#include "testutil.h"

#include "../tools/romfs_writer.h"

#include "elfread.h"
#include "romfs.h"

#include <elf.h>

static const char tree_spec[] =
    "# everything the writer can produce\n"
    "file a.txt 9\n"
    "pad 7\n"
    "nodata empty\n"
    "file zero.bin 0\n"
    "dir lib\n"
    "  file b.dat 4\n"
    "  mpy xt.mpy 0x27 300\n"
    "  mpy arm.mpy 0x17 120\n"
    "  mpy bc.mpy 0x03 50\n"
    "  dir deep\n"
    "    dir deeper\n"
    "      lenpad 2\n"
    "      file big.bin 204800\n"
    "      unknown 9 5\n"
    "    end\n"
    "    link alias.bin 1000 /lib/deep/deeper/big.bin\n"
    "  end\n"
    "  pad 1\n"
    "end\n"
    "lenpad 1\n"
    "dir emptydir\n"
    "end\n"
    "link early.bin 4 /lib/b.dat\n";

static void build(const char *spec, bool no_even, rw_fs *fs)
{
    memset(fs, 0, sizeof *fs);
    fs->no_even = no_even;
    if (rw_parse_spec(fs, spec) < 0 || rw_build(fs) < 0)
        fail_msg("writer: %s", fs->err);
}

static void parse_ok(const rw_fs *fs, fs_romfs *r)
{
    fs_error err = {{0}};
    if (fs_romfs_parse("img.romfs", fs->img, fs->img_len, r, &err) != 0)
        fail_msg("%s", err.msg);
}

static void parse_fails(const uint8_t *data, size_t len, const char *want)
{
    fs_romfs r;
    fs_error err = {{0}};
    assert_int_equal(fs_romfs_parse("bad.romfs", data, len, &r, &err), -1);
    if (!strstr(err.msg, want) || strncmp(err.msg, "bad.romfs: ", 11) != 0)
        fail_msg("error '%s' lacks 'bad.romfs: ' or '%s'", err.msg, want);
    assert_int_equal(r.nentries, 0);
    assert_null(r.entries);
}

static void assert_reconciles(const fs_romfs *r)
{
    assert_int_equal(r->header + r->data + r->overhead + r->padding + r->skipped + r->vuint_pad, r->image_size);
}

/* --- the walk reproduces the writer -------------------------------------- */

static void test_mpremote_example(void **state)
{
    (void)state;
    rw_fs fs;
    build("file a.txt 9\ndir lib\nfile b.dat 4\nend\n", false, &fs);
    static const uint8_t head[] = {0xD2, 0xCD, 0x31, 0x80, 0x27, 0x05, 0x11, 0x05, 'a', '.', 't', 'x', 't', 0x02, 0x09};
    assert_int_equal(fs.img_len, 44);
    assert_memory_equal(fs.img, head, sizeof head);
    fs_romfs r;
    parse_ok(&fs, &r);
    assert_int_equal(r.image_size, 44);
    assert_int_equal(r.payload_size, 39);
    assert_int_equal(r.header, 5);
    assert_int_equal(r.data, 13);
    assert_int_equal(r.overhead, 26);
    assert_int_equal(r.nfiles, 2);
    assert_int_equal(r.ndirs, 1);
    assert_false(r.odd_size);
    assert_reconciles(&r);
    assert_string_equal(r.entries[2].path, "/lib/b.dat");
    assert_int_equal(r.entries[2].depth, 1);
    fs_romfs_free(&r);
    rw_free(&fs);
}

static void test_tree_matches_writer(void **state)
{
    (void)state;
    rw_fs fs;
    build(tree_spec, false, &fs);
    fs_romfs r;
    parse_ok(&fs, &r);
    assert_int_equal(r.image_size, fs.img_len);
    assert_int_equal(r.file_size, fs.img_len);
    assert_int_equal(r.header, fs.header);
    assert_int_equal(r.payload_size, fs.payload);
    assert_int_equal(r.data, fs.data);
    assert_int_equal(r.overhead, fs.overhead);
    assert_int_equal(r.padding, fs.padding);
    assert_int_equal(r.skipped, fs.skipped);
    assert_int_equal(r.vuint_pad, fs.vuint_pad);
    assert_int_equal(r.nfiles, fs.nfiles);
    assert_int_equal(r.ndirs, fs.ndirs);
    assert_int_equal(r.npadding, 2);
    assert_int_equal(r.nskipped, 1); /* the unknown record, inside a directory */
    assert_reconciles(&r);
    /* fixed facts of this spec, independent of the writer's bookkeeping */
    assert_int_equal(fs.nfiles, 10);
    assert_int_equal(fs.ndirs, 4);
    assert_int_equal(fs.data, 9 + 0 + 4 + 300 + 120 + 50 + 204800);
    assert_int_equal(fs.padding, (1 + 1 + 7) + (1 + 1 + 1));
    assert_int_equal(fs.skipped, 1 + 1 + 5);

    size_t k = 0;
    for (size_t i = 0; i < fs.count; i++) {
        const rw_node *n = &fs.n[i];
        if (n->type == RW_PAD || n->type == RW_UNKNOWN)
            continue;
        assert_true(k < r.nentries);
        const fs_romfs_entry *e = &r.entries[k++];
        assert_string_equal(e->path, n->path);
        assert_int_equal(e->type, n->type == RW_DIR ? FS_ROMFS_DIR : FS_ROMFS_FILE);
        assert_int_equal(e->depth, n->depth);
        assert_int_equal(e->offset, n->offset);
        assert_int_equal(e->record_size, n->rec_size);
        assert_int_equal(e->overhead, n->overhead);
        if (n->type == RW_DIR)
            continue;
        assert_int_equal(e->size, n->type == RW_NODATA ? 0 : n->size);
        assert_int_equal(e->has_data, n->type != RW_NODATA);
        assert_int_equal(e->indirect, n->type == RW_LINK);
        assert_int_equal(e->stored, n->type == RW_FILE || n->type == RW_MPY ? n->size : 0);
        if (n->type != RW_NODATA)
            assert_int_equal(e->data_offset, n->data_offset);
        assert_int_equal(e->is_mpy, n->type == RW_MPY);
        if (n->type == RW_MPY) {
            assert_int_equal(e->mpy.version, 6);
            assert_int_equal(e->mpy.arch, (n->feature >> 2) & 0xf);
            assert_int_equal(e->mpy.sub_version, n->feature & 3);
        }
    }
    assert_int_equal(k, r.nentries);
    fs_romfs_free(&r);
    rw_free(&fs);
}

static const fs_romfs_entry *find(const fs_romfs *r, const char *path)
{
    for (size_t i = 0; i < r->nentries; i++)
        if (strcmp(r->entries[i].path, path) == 0)
            return &r->entries[i];
    fail_msg("no entry %s", path);
    return NULL;
}

static void test_tree_details(void **state)
{
    (void)state;
    rw_fs fs;
    build(tree_spec, false, &fs);
    fs_romfs r;
    parse_ok(&fs, &r);
    /* big.bin: a 204800-byte verbatim record whose length varint has 2 pads */
    const fs_romfs_entry *big = find(&r, "/lib/deep/deeper/big.bin");
    assert_int_equal(big->size, 204800);
    assert_int_equal(big->depth, 3);
    assert_memory_equal(fs.img + big->data_offset, (uint8_t[]){rw_byte("/lib/deep/deeper/big.bin", 0)}, 1);
    /* alias.bin points into big.bin's bytes */
    const fs_romfs_entry *alias = find(&r, "/lib/deep/alias.bin");
    assert_true(alias->indirect);
    assert_int_equal(alias->size, 1000);
    assert_int_equal(alias->data_offset, big->data_offset);
    assert_int_equal(alias->stored, 0);
    /* a forward link: early.bin -> /lib/b.dat */
    assert_int_equal(find(&r, "/early.bin")->data_offset, find(&r, "/lib/b.dat")->data_offset);
    /* arch of the .mpy files: xtensa 9, armv7m 5, bytecode 0 */
    assert_int_equal(find(&r, "/lib/xt.mpy")->mpy.arch, 9);
    assert_string_equal(fs_mpy_arch_name(find(&r, "/lib/arm.mpy")->mpy.arch), "armv7m");
    assert_int_equal(find(&r, "/lib/bc.mpy")->mpy.arch, 0);
    assert_false(find(&r, "/a.txt")->is_mpy);
    /* empty files both ways */
    assert_false(find(&r, "/empty")->has_data);
    assert_true(find(&r, "/zero.bin")->has_data);
    assert_int_equal(find(&r, "/zero.bin")->size, 0);
    assert_int_equal(find(&r, "/emptydir")->type, FS_ROMFS_DIR);
    fs_romfs_free(&r);
    rw_free(&fs);
}

static void test_odd_image_and_trailing(void **state)
{
    (void)state;
    rw_fs fs;
    build("file a.txt 9\ndir lib\nfile b.dat 4\nend\n", true, &fs);
    assert_int_equal(fs.img_len, 43);
    fs_romfs r;
    parse_ok(&fs, &r);
    assert_true(r.odd_size);
    assert_int_equal(r.header, 4);
    assert_reconciles(&r);
    fs_report rep = {0};
    fs_error err;
    assert_int_equal(fs_romfs_analyze(&r, NULL, NULL, 0, 0, NULL, &rep, &err), 0);
    assert_int_equal(rep.nfindings, 1);
    assert_string_equal(rep.findings[0].id, "romfs-odd-size");
    assert_int_equal(rep.findings[0].severity, FS_SEV_WARNING);
    fs_report_free(&rep);
    fs_romfs_free(&r);
    rw_free(&fs);

    /* 100 bytes of 0xFF, then 3 of 0x00, then 2 others after a valid image */
    build("file a.txt 9\n", false, &fs);
    uint8_t *buf = malloc(fs.img_len + 105);
    memcpy(buf, fs.img, fs.img_len);
    memset(buf + fs.img_len, 0xFF, 100);
    memset(buf + fs.img_len + 100, 0x00, 3);
    buf[fs.img_len + 103] = 'x';
    buf[fs.img_len + 104] = 0x12;
    assert_int_equal(fs_romfs_parse("t.romfs", buf, fs.img_len + 105, &r, &err), 0);
    assert_int_equal(r.image_size, fs.img_len);
    assert_int_equal(r.file_size, fs.img_len + 105);
    assert_int_equal(r.trailing, 105);
    assert_int_equal(r.trailing_ff, 100);
    assert_int_equal(r.trailing_00, 3);
    assert_int_equal(r.trailing_other, 2);
    memset(&rep, 0, sizeof rep);
    assert_int_equal(fs_romfs_analyze(&r, NULL, NULL, 0, 0, NULL, &rep, &err), 0);
    assert_int_equal(rep.nfindings, 1);
    assert_string_equal(rep.findings[0].id, "romfs-trailing-data");
    fs_report_free(&rep);
    fs_romfs_free(&r);
    /* fill only: no finding */
    assert_int_equal(fs_romfs_parse("t.romfs", buf, fs.img_len + 103, &r, &err), 0);
    memset(&rep, 0, sizeof rep);
    assert_int_equal(fs_romfs_analyze(&r, NULL, NULL, 0, 0, NULL, &rep, &err), 0);
    assert_int_equal(rep.nfindings, 0);
    fs_report_free(&rep);
    fs_romfs_free(&r);
    free(buf);
    rw_free(&fs);
}

/* --- bad images ---------------------------------------------------------- */

static void test_bad_header(void **state)
{
    (void)state;
    parse_fails((const uint8_t *)"", 0, "empty file");
    parse_fails((const uint8_t *)"\xD2\xCD\x32\x00", 4, "not a ROMFS image (starts with D2 CD 32");
    parse_fails((const uint8_t *)"\xD2\xCD", 2, "not a ROMFS image");
    parse_fails((const uint8_t *)"\xD2\xCD\x31", 3, "filesystem length varint after the magic is truncated");
    parse_fails((const uint8_t *)"\xD2\xCD\x31\x80\x81", 5, "filesystem length varint after the magic is truncated");
    parse_fails((const uint8_t *)"\xD2\xCD\x31\x10\x01\x00", 6,
                "filesystem payload of 16 bytes runs past the end of the file (2 bytes after the 4-byte header)");
    /* random bytes */
    uint8_t rnd[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
    rnd[0] = 0x17;
    parse_fails(rnd, sizeof rnd, "not a ROMFS image");
}

static void test_bad_records(void **state)
{
    (void)state;
    rw_fs fs;
    build("dir lib\nfile b.dat 4\nend\nlink l 2 /lib/b.dat\n", false, &fs);
    const rw_node *dir = &fs.n[0], *file = &fs.n[1], *link = &fs.n[2];
    uint8_t *img = malloc(fs.img_len);

    /* the file's length (a one-byte varint after its kind) grows past the directory's end */
    memcpy(img, fs.img, fs.img_len);
    img[file->offset + 1] = (uint8_t)(file->plen + 20);
    parse_fails(img, fs.img_len, "runs past the end of its directory record");

    /* the directory's length grows past the filesystem payload */
    memcpy(img, fs.img, fs.img_len);
    img[dir->offset + 1] = (uint8_t)(dir->plen + 30);
    parse_fails(img, fs.img_len, "runs past the end of the filesystem payload");

    /* the file's name length runs past its record */
    memcpy(img, fs.img, fs.img_len);
    img[file->offset + 2] = 0x7f;
    parse_fails(img, fs.img_len, "name of 127 bytes runs past the end of the record");

    /* the indirect offset (4-byte varint) points past the payload */
    memcpy(img, fs.img, fs.img_len);
    size_t sub = (size_t)(link->offset + 2 + 2 + 2);
    memcpy(img + sub + 4, "\xff\xff\xff\x7f", 4);
    parse_fails(img, fs.img_len, "lie past the filesystem payload");

    /* kind 0 */
    memcpy(img, fs.img, fs.img_len);
    img[file->offset] = 0;
    parse_fails(img, fs.img_len, "has kind 0 (unused): the image is corrupt");

    /* a truncated varint inside a record */
    memcpy(img, fs.img, fs.img_len);
    img[dir->offset + 1] = 1; /* payload is the name length byte only */
    img[dir->offset + 2] = 0x83;
    parse_fails(img, fs.img_len, "name length varint truncated");
    free(img);
    rw_free(&fs);

    build("unknown 0 4\n", false, &fs);
    parse_fails(fs.img, fs.img_len, "has kind 0");
    rw_free(&fs);
}

static char *nested_spec(int levels)
{
    char *s = malloc((size_t)levels * 16 + 32);
    s[0] = '\0';
    for (int i = 0; i < levels; i++)
        strcat(s, "dir d\n");
    strcat(s, "file f 1\n");
    for (int i = 0; i < levels; i++)
        strcat(s, "end\n");
    return s;
}

static void test_depth_cap(void **state)
{
    (void)state;
    rw_fs fs;
    char *spec = nested_spec(FS_ROMFS_MAX_DEPTH);
    build(spec, false, &fs);
    fs_romfs r;
    parse_ok(&fs, &r);
    assert_int_equal(r.ndirs, FS_ROMFS_MAX_DEPTH);
    assert_int_equal(r.entries[r.nentries - 1].depth, FS_ROMFS_MAX_DEPTH);
    fs_romfs_free(&r);
    rw_free(&fs);
    free(spec);
    spec = nested_spec(100);
    build(spec, false, &fs);
    parse_fails(fs.img, fs.img_len, "is nested more than 64 levels deep");
    rw_free(&fs);
    free(spec);
}

static void test_mutations_never_crash(void **state)
{
    (void)state;
    rw_fs fs;
    build("file a.txt 9\npad 3\ndir lib\nmpy m.mpy 0x27 40\nlink l 8 /lib/m.mpy\ndir x\nnodata e\nend\nend\n", false,
          &fs);
    uint8_t *img = malloc(fs.img_len);
    fs_romfs r;
    fs_error err;
    size_t ok = 0, failed = 0;
    for (size_t cut = 0; cut < fs.img_len; cut++) {
        err.msg[0] = '\0';
        if (fs_romfs_parse("m.romfs", fs.img, cut, &r, &err) == 0) {
            ok++;
            fs_romfs_free(&r);
        } else {
            failed++;
            assert_true(strncmp(err.msg, "m.romfs: ", 9) == 0);
        }
    }
    assert_int_equal(ok, 0); /* every proper prefix cuts the payload short */
    uint32_t x = 99;
    for (int round = 0; round < 600; round++) {
        memcpy(img, fs.img, fs.img_len);
        for (int flips = 1 + round % 3; flips > 0; flips--) {
            x = x * 1103515245u + 12345u;
            size_t at = (x >> 8) % fs.img_len;
            x = x * 1103515245u + 12345u;
            img[at] ^= (uint8_t)(1u << ((x >> 16) % 8));
        }
        err.msg[0] = '\0';
        if (fs_romfs_parse("m.romfs", img, fs.img_len, &r, &err) == 0) {
            assert_reconciles(&r);
            fs_report rep = {0};
            assert_int_equal(fs_romfs_analyze(&r, NULL, NULL, 4096, 0, NULL, &rep, &err), 0);
            json_t *j = fs_romfs_json(&r, NULL);
            assert_non_null(j);
            json_decref(j);
            fs_report_free(&rep);
            fs_romfs_free(&r);
            ok++;
        } else {
            assert_true(strncmp(err.msg, "m.romfs: ", 9) == 0);
            failed++;
        }
    }
    assert_true(ok > 0 && failed > fs.img_len);
    free(img);
    rw_free(&fs);
}

/* --- occupancy and findings ---------------------------------------------- */

static const char *ids(const fs_report *rep)
{
    static char buf[512];
    buf[0] = '\0';
    for (size_t i = 0; i < rep->nfindings; i++)
        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", i ? " " : "", rep->findings[i].id);
    return buf;
}

static void test_partition_from_firmware_and_board(void **state)
{
    (void)state;
    rw_fs fs;
    build("file a.txt 9\nmpy x.mpy 0x27 64\nmpy b.mpy 0x00 64\n", false, &fs);
    fs_romfs r;
    parse_ok(&fs, &r);
    fs_image fw = {0};
    fs_board board = {0};
    fs_error err;
    if (fs_elf_load("samples/build/esp8266-romfs.elf", &fw, &err) != 0)
        fail_msg("%s", err.msg);
    if (fs_board_load("rules", "esp8266-2m-romfs", &board, &err) != 0)
        fail_msg("%s", err.msg);

    fs_romfs_occupancy o;
    fs_report rep = {0};
    assert_int_equal(fs_romfs_analyze(&r, &fw, NULL, 0, 0, &o, &rep, &err), 0);
    assert_int_equal(o.source, FS_ROMFS_PART_FIRMWARE);
    assert_true(o.has_start);
    assert_int_equal(o.start, 0x402b0000);
    assert_int_equal(o.size, 0x50000);
    assert_int_equal(o.free, 0x50000 - fs.img_len);
    assert_int_equal(o.over, 0);
    assert_true(o.esp8266);
    assert_int_equal(o.arch_lo, 9);
    assert_string_equal(ids(&rep), "");
    fs_report_free(&rep);

    memset(&rep, 0, sizeof rep);
    assert_int_equal(fs_romfs_analyze(&r, NULL, &board, 0, 0, &o, &rep, &err), 0);
    assert_int_equal(o.source, FS_ROMFS_PART_BOARD);
    assert_int_equal(o.start, 0x402b0000);
    assert_int_equal(o.size, 320 * 1024);
    assert_int_equal(o.free, 320 * 1024 - fs.img_len);
    assert_string_equal(ids(&rep), "");
    fs_report_free(&rep);

    /* both, agreeing: no mismatch; explicit size wins */
    memset(&rep, 0, sizeof rep);
    assert_int_equal(fs_romfs_analyze(&r, &fw, &board, 100, 0, &o, &rep, &err), 0);
    assert_int_equal(o.source, FS_ROMFS_PART_OPTION);
    assert_false(o.mismatch);
    assert_int_equal(o.over, fs.img_len - 100);
    assert_string_equal(ids(&rep), "romfs-full");
    assert_int_equal(rep.findings[0].severity, FS_SEV_ERROR);
    assert_int_equal(rep.findings[0].nums[2].value, fs.img_len - 100);
    char want[128];
    snprintf(want, sizeof want, "larger than its 100-byte partition (from option) by %zu bytes", fs.img_len - 100);
    assert_non_null(strstr(rep.findings[0].message, want));
    fs_report_free(&rep);

    /* headroom: at least 90% of the first size, under 90% of the second */
    memset(&rep, 0, sizeof rep);
    assert_int_equal(fs_romfs_analyze(&r, NULL, NULL, fs.img_len * 10 / 9, 0, &o, &rep, &err), 0);
    assert_string_equal(ids(&rep), "romfs-headroom");
    fs_report_free(&rep);
    memset(&rep, 0, sizeof rep);
    assert_int_equal(fs_romfs_analyze(&r, NULL, NULL, fs.img_len * 10 / 9 + 2, 0, &o, &rep, &err), 0);
    assert_string_equal(ids(&rep), "");
    fs_report_free(&rep);
    memset(&rep, 0, sizeof rep);
    assert_int_equal(fs_romfs_analyze(&r, NULL, NULL, fs.img_len * 2, 50, &o, &rep, &err), 0);
    assert_string_equal(ids(&rep), "romfs-headroom");
    assert_int_equal(rep.findings[0].nums[2].value, fs.img_len);
    fs_report_free(&rep);

    fs_image_free(&fw);
    fs_board_free(&board);
    fs_romfs_free(&r);
    rw_free(&fs);
}

static char *write_board(const char *chip, const char *start, const char *size)
{
    char text[512];
    snprintf(text, sizeof text, "[board]\nname = t\nchip = %s\n[romfs]\nstart = %s\nsize = %s\n", chip, start, size);
    char *tmp = tu_tmpfile(text, strlen(text));
    char *path = malloc(strlen(tmp) + 5);
    sprintf(path, "%s.ini", tmp);
    rename(tmp, path);
    free(tmp);
    return path;
}

static void test_unmapped_and_mismatch(void **state)
{
    (void)state;
    rw_fs fs;
    build("file a.txt 9\n", false, &fs);
    fs_romfs r;
    parse_ok(&fs, &r);
    fs_error err;
    struct { const char *chip, *start, *size, *want; } cases[] = {
        {"esp8266", "0x402F0000", "0x20000", "romfs-unmapped"}, /* ends 0x40310000 */
        {"esp8266", "0x402F0000", "0x10000", ""},               /* ends exactly at 0x40300000 */
        {"esp8266", "0x40100000", "0x1000", "romfs-unmapped"},  /* starts below the window */
        {"generic", "0x90100000", "1024K", ""},                 /* not an ESP8266: no window */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *path = write_board(cases[i].chip, cases[i].start, cases[i].size);
        fs_board b;
        if (fs_board_load(NULL, path, &b, &err) != 0)
            fail_msg("%s", err.msg);
        fs_report rep = {0};
        assert_int_equal(fs_romfs_analyze(&r, NULL, &b, 0, 0, NULL, &rep, &err), 0);
        assert_string_equal(ids(&rep), cases[i].want);
        fs_report_free(&rep);
        fs_board_free(&b);
        unlink(path);
        free(path);
    }
    /* a board that disagrees with the firmware */
    fs_image fw = {0};
    if (fs_elf_load("samples/build/esp8266-romfs.elf", &fw, &err) != 0)
        fail_msg("%s", err.msg);
    char *path = write_board("esp8266", "0x402C0000", "320K");
    fs_board b;
    if (fs_board_load(NULL, path, &b, &err) != 0)
        fail_msg("%s", err.msg);
    fs_report rep = {0};
    fs_romfs_occupancy o;
    assert_int_equal(fs_romfs_analyze(&r, &fw, &b, 0, 0, &o, &rep, &err), 0);
    assert_string_equal(ids(&rep), "romfs-partition-mismatch");
    assert_int_equal(o.start, 0x402b0000); /* the firmware wins */
    assert_int_equal(o.other_start, 0x402c0000);
    fs_report_free(&rep);
    fs_board_free(&b);
    unlink(path);
    free(path);
    fs_image_free(&fw);
    fs_romfs_free(&r);
    rw_free(&fs);
}

static void test_arch_mismatch(void **state)
{
    (void)state;
    rw_fs fs;
    build("mpy x.mpy 0x27 64\nmpy a.mpy 0x17 64\nmpy b.mpy 0x00 64\nmpy v6.mpy 0x0F 8\n", false, &fs);
    fs_romfs r;
    parse_ok(&fs, &r);
    fs_error err;
    fs_image fw = {0};
    if (fs_elf_load("samples/build/esp8266-romfs.elf", &fw, &err) != 0)
        fail_msg("%s", err.msg);
    fs_report rep = {0};
    assert_int_equal(fs_romfs_analyze(&r, &fw, NULL, 0, 0, NULL, &rep, &err), 0);
    assert_string_equal(ids(&rep), "romfs-arch-mismatch romfs-arch-mismatch");
    assert_string_equal(rep.findings[0].subject, "/a.mpy");
    assert_int_equal(rep.findings[0].severity, FS_SEV_ERROR);
    assert_non_null(strstr(rep.findings[0].message, "native code for armv7m, but the firmware loads xtensa"));
    assert_string_equal(rep.findings[1].subject, "/v6.mpy");
    fs_report_free(&rep);
    fs_image_free(&fw);

    /* an ARM firmware (header only): Thumb archs armv6m..armv7emdp load */
    fs_image arm = {.machine = EM_ARM, .elf_class = 32};
    memset(&rep, 0, sizeof rep);
    assert_int_equal(fs_romfs_analyze(&r, &arm, NULL, 0, 0, NULL, &rep, &err), 0);
    assert_string_equal(ids(&rep), "romfs-arch-mismatch romfs-arch-mismatch");
    assert_string_equal(rep.findings[0].subject, "/x.mpy");
    assert_string_equal(rep.findings[1].subject, "/v6.mpy"); /* armv6 (ARM mode) is not Thumb */
    fs_report_free(&rep);

    /* no firmware, generic board: nothing to compare with */
    memset(&rep, 0, sizeof rep);
    assert_int_equal(fs_romfs_analyze(&r, NULL, NULL, 0, 0, NULL, &rep, &err), 0);
    assert_int_equal(rep.nfindings, 0);
    fs_report_free(&rep);
    fs_romfs_free(&r);
    rw_free(&fs);
}

static void test_appends_to_existing_report(void **state)
{
    (void)state;
    rw_fs fs;
    build("file a.txt 9\n", false, &fs);
    fs_romfs r;
    parse_ok(&fs, &r);
    fs_report rep = {0};
    assert_int_equal(fs_report_add(&rep, "region-headroom", FS_SEV_WARNING, "irom0", "x", "y"), 0);
    fs_error err;
    assert_int_equal(fs_romfs_analyze(&r, NULL, NULL, 10, 0, NULL, &rep, &err), 0);
    assert_string_equal(ids(&rep), "region-headroom romfs-full");
    assert_int_equal(fs_report_worst(&rep), FS_SEV_ERROR);
    fs_report_free(&rep);
    fs_romfs_free(&r);
    rw_free(&fs);
}

static void test_json(void **state)
{
    (void)state;
    rw_fs fs;
    build(tree_spec, false, &fs);
    fs_romfs r;
    parse_ok(&fs, &r);
    fs_romfs_occupancy o;
    fs_report rep = {0};
    fs_error err;
    assert_int_equal(fs_romfs_analyze(&r, NULL, NULL, 1 << 20, 0, &o, &rep, &err), 0);
    json_t *j = fs_romfs_json(&r, &o);
    assert_int_equal(json_integer_value(json_object_get(j, "image_size")), fs.img_len);
    json_t *t = json_object_get(j, "totals");
    assert_int_equal(json_integer_value(json_object_get(t, "data")), fs.data);
    assert_int_equal(json_integer_value(json_object_get(t, "overhead")), fs.overhead);
    assert_int_equal(json_integer_value(json_object_get(t, "vuint_pad")), fs.vuint_pad);
    json_t *p = json_object_get(j, "partition");
    assert_string_equal(json_string_value(json_object_get(p, "source")), "option");
    assert_int_equal(json_integer_value(json_object_get(p, "free")), (1 << 20) - fs.img_len);
    json_t *entries = json_object_get(j, "entries");
    assert_int_equal(json_array_size(entries), fs.nfiles + fs.ndirs);
    json_t *first = json_array_get(entries, 0);
    assert_string_equal(json_string_value(json_object_get(first, "path")), "/a.txt");
    assert_string_equal(json_string_value(json_object_get(first, "storage")), "verbatim");
    json_decref(j);

    /* text: with a report it ends in findings and a verdict, without none */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(fs_romfs_output_text(f, &r, &o, NULL), 0);
    fclose(f);
    assert_non_null(strstr(buf, "big.bin"));
    assert_null(strstr(buf, "Findings"));
    free(buf);
    f = open_memstream(&buf, &len);
    assert_int_equal(fs_romfs_output_text(f, &r, &o, &rep), 0);
    fclose(f);
    assert_non_null(strstr(buf, "Findings (0)"));
    assert_non_null(strstr(buf, "Verdict: ok"));
    free(buf);
    fs_report_free(&rep);
    fs_romfs_free(&r);
    rw_free(&fs);
}

static void test_load_errors(void **state)
{
    (void)state;
    fs_romfs r;
    fs_error err;
    assert_int_equal(fs_romfs_load("/nonexistent/x.romfs", &r, &err), -1);
    assert_string_equal(err.msg, "/nonexistent/x.romfs: cannot open: No such file or directory");
    assert_int_equal(fs_romfs_load("tests", &r, &err), -1);
    assert_string_equal(err.msg, "tests: not a regular file");
    rw_fs fs;
    build("file a.txt 9\n", false, &fs);
    char *path = tu_tmpfile(fs.img, fs.img_len);
    assert_int_equal(fs_romfs_load(path, &r, &err), 0);
    assert_string_equal(r.path, path);
    assert_int_equal(r.image_size, fs.img_len);
    fs_romfs_free(&r);
    unlink(path);
    free(path);
    rw_free(&fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpremote_example),
        cmocka_unit_test(test_tree_matches_writer),
        cmocka_unit_test(test_tree_details),
        cmocka_unit_test(test_odd_image_and_trailing),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_mutations_never_crash),
        cmocka_unit_test(test_partition_from_firmware_and_board),
        cmocka_unit_test(test_unmapped_and_mismatch),
        cmocka_unit_test(test_arch_mismatch),
        cmocka_unit_test(test_appends_to_existing_report),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
