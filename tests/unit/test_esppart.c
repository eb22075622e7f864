/*
 * test_esppart.c - the ESP-IDF partition table reader (CSV and binary) and
 * the ESP32 app image reader, from bytes held here.
 *
 * Ground truth: the numbers gen_esp32part.py's rules give (esppart.h): an
 * empty offset follows the previous end rounded up to 0x10000 (app) or
 * 0x1000 (other), the first one 0x9000; K = 1024, M = 1048576, int(x, 0)
 * syntax; binary entries packed "<2sBBLL16sL" and an MD5 entry over the
 * entries before it (the MD5 of "" is d41d8cd98f00b204e9800998ecf8427e,
 * RFC 1321).  Images: the layout in esp32app.h, built byte by byte here,
 * checksum 0xEF XOR the segment data.
 */
#include "testutil.h"

#include "esp32app.h"
#include "esppart.h"

static int parse(const char *text, fs_esppart *t, fs_error *err)
{
    return fs_esppart_parse("t.csv", (const uint8_t *)text, strlen(text), 0, t, err);
}

static void test_csv_numbers_and_offsets(void **state)
{
    (void)state;
    fs_esppart t;
    fs_error err = {{0}};
    /* CRLF, a byte order mark, comments, blank lines, keywords in any case */
    const char *csv = "\xEF\xBB\xBF# name, type, subtype, offset, size\r\n"
                      "\r\n"
                      "nvs, DATA, NVS, , 0x6000\r\n"
                      "phy, data, phy, , 4k\r\n"
                      "factory, app, Factory, , 1M\r\n"
                      "b, data, 0b1000_1111, , 0o10000, readonly\r\n"
                      "last, app, ota_15, , -0x400000\r\n";
    assert_int_equal(parse(csv, &t, &err), 0);
    assert_int_equal(t.nentries, 5);
    assert_false(t.binary);
    assert_string_equal(t.entries[0].name, "nvs");
    assert_int_equal(t.entries[0].offset, 0x9000);
    assert_int_equal(t.entries[0].line, 3);
    assert_int_equal(t.entries[1].offset, 0xF000);
    assert_int_equal(t.entries[1].size, 4096);
    assert_int_equal(t.entries[2].offset, 0x10000);
    assert_int_equal(t.entries[2].size, 0x100000);
    assert_int_equal(t.entries[3].offset, 0x110000);
    assert_int_equal(t.entries[3].subtype, 0x8F);   /* MicroPython's ROMFS subtype */
    assert_int_equal(t.entries[3].size, 4096);
    assert_int_equal(t.entries[3].flags, 2u);
    assert_int_equal(t.entries[4].offset, 0x120000); /* 0x111000 rounded up to 64 KiB */
    assert_int_equal(t.entries[4].subtype, 0x1F);
    assert_int_equal(t.entries[4].size, 0x400000 - 0x120000);
    assert_true(fs_esppart_is_app_slot(&t.entries[4]));
    assert_false(fs_esppart_is_app_slot(&t.entries[3]));
    fs_esppart_free(&t);

    /* numbers Python's int(x, 0) refuses */
    static const char *const bad[] = {"010", "0x", "1__0", "_1", "1_", "12Q", "0xG", "--1", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "a, app, factory, 0x10000, %s\n", bad[i]);
        assert_int_equal(parse(line, &t, &err), -1);
        assert_non_null(strstr(err.msg, "t.csv:1:"));
    }
    /* and ones it takes */
    assert_int_equal(parse("a, app, factory, 65536, 1_048_576\n", &t, &err), 0);
    assert_int_equal(t.entries[0].size, 1048576);
    fs_esppart_free(&t);
    assert_int_equal(parse("a, app, factory, 0x10000, 0X10_0000\n", &t, &err), 0);
    assert_int_equal(t.entries[0].size, 0x100000);
    fs_esppart_free(&t);
    assert_int_equal(parse("a, app, factory, 0x10000, 1KK\n", &t, &err), 0);
    assert_int_equal(t.entries[0].size, 1048576);
    fs_esppart_free(&t);
}

static void test_csv_flash_size(void **state)
{
    (void)state;
    fs_esppart t;
    fs_error err = {{0}};
    const char *csv = "a, app, factory, 0x10000, 0x3F0000\n";
    assert_int_equal(fs_esppart_parse("t.csv", (const uint8_t *)csv, strlen(csv), 4u << 20, &t, &err), 0);
    fs_esppart_free(&t);
    assert_int_equal(fs_esppart_parse("t.csv", (const uint8_t *)csv, strlen(csv), 2u << 20, &t, &err), -1);
    assert_string_equal(err.msg, "t.csv:1: partition 'a' 0x10000-0x400000 ends past the 2097152-byte flash");
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void entry(uint8_t *e, uint8_t type, uint8_t sub, uint32_t off, uint32_t size, const char *name)
{
    memset(e, 0, 32);
    e[0] = 0xAA, e[1] = 0x50, e[2] = type, e[3] = sub;
    put32(e + 4, off);
    put32(e + 8, size);
    memcpy(e + 12, name, strlen(name));
}

static void test_binary(void **state)
{
    (void)state;
    uint8_t b[0xC00];
    fs_esppart t;
    fs_error err = {{0}};
    memset(b, 0xFF, sizeof b);
    entry(b, 1, 2, 0x9000, 0x6000, "nvs");
    entry(b + 32, 0, 0x10, 0x10000, 0x180000, "ota_0");
    put32(b + 32 + 28, 1); /* encrypted */
    assert_int_equal(fs_esppart_parse("t.bin", b, sizeof b, 0, &t, &err), 0);
    assert_true(t.binary);
    assert_false(t.has_md5);
    assert_int_equal(t.nentries, 2);
    assert_string_equal(t.entries[1].name, "ota_0");
    assert_int_equal(t.entries[1].offset, 0x10000);
    assert_int_equal(t.entries[1].size, 0x180000);
    assert_int_equal(t.entries[1].flags, 1);
    assert_int_equal(t.entries[1].line, 2);
    fs_esppart_free(&t);

    /* a table of no partitions but an MD5 entry (over zero bytes) is read,
     * then refused for having no app partition */
    memset(b, 0xFF, sizeof b);
    static const uint8_t md5_empty[16] = {0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
                                          0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e};
    b[0] = b[1] = 0xEB;
    memcpy(b + 16, md5_empty, 16);
    assert_int_equal(fs_esppart_parse("t.bin", b, sizeof b, 0, &t, &err), -1);
    assert_string_equal(err.msg, "t.bin: no partitions");
    b[31] ^= 1;
    assert_int_equal(fs_esppart_parse("t.bin", b, sizeof b, 0, &t, &err), -1);
    assert_non_null(strstr(err.msg, "t.bin: entry 1: the MD5 of the 0 entries before it does not match"));

    /* misaligned app, name bytes, entries past 0xC00 */
    memset(b, 0xFF, sizeof b);
    entry(b, 0, 0, 0x18000, 0x100000, "f");
    assert_int_equal(fs_esppart_parse("t.bin", b, sizeof b, 0, &t, &err), -1);
    assert_string_equal(err.msg, "t.bin: entry 1: partition 'f' offset 0x18000 is not aligned to 0x10000 (app partitions start on 64 KiB)");
    entry(b, 0, 0, 0x10000, 0x100000, "f\x01");
    assert_int_equal(fs_esppart_parse("t.bin", b, sizeof b, 0, &t, &err), -1);
    assert_string_equal(err.msg, "t.bin: entry 1: the name has a byte outside printable ASCII (0x01)");
    uint8_t big[0x1000];
    memset(big, 0xFF, sizeof big);
    for (unsigned i = 0; i <= 0xC00 / 32; i++) { /* 97 entries: the last one starts at 0xC00 */
        char name[8];
        snprintf(name, sizeof name, "x%u", i);
        entry(big + 32 * i, 1, 0x81, 0x100000 + 0x1000 * i, 0x1000, name);
    }
    assert_int_equal(fs_esppart_parse("t.bin", big, sizeof big, 0, &t, &err), -1);
    assert_string_equal(err.msg, "t.bin: entry 97: entries run past 0xc00 bytes, the most a table may hold");
}

/* An image of the given segments (address, length, fill byte), with a digest. */
static size_t image(uint8_t *out, const uint32_t (*segs)[3], unsigned n, bool digest)
{
    memset(out, 0, 24);
    out[0] = 0xE9, out[1] = (uint8_t)n, out[3] = 0x20 /* 4MB */, out[23] = digest;
    size_t pos = 24;
    uint8_t sum = 0xEF;
    for (unsigned i = 0; i < n; i++) {
        put32(out + pos, segs[i][0]);
        put32(out + pos + 4, segs[i][1]);
        pos += 8;
        memset(out + pos, (int)segs[i][2], segs[i][1]);
        for (uint32_t k = 0; k < segs[i][1]; k++)
            sum ^= (uint8_t)segs[i][2];
        pos += segs[i][1];
    }
    while (pos % 16 != 15)
        out[pos++] = 0;
    out[pos++] = sum;
    return pos;
}

static void test_image(void **state)
{
    (void)state;
    uint8_t buf[512];
    static const uint32_t segs[][3] = {{0x3F400020, 20, 0x11}, {0x40080000, 8, 0x5A}, {0x400D0020, 4, 0x77}};
    size_t n = image(buf, segs, 3, false);
    assert_int_equal(n, 96); /* 24 + 28 + 16 + 12 = 80 -> checksum at 95 */
    fs_esp32_image im;
    fs_error err = {{0}};
    assert_int_equal(fs_esp32_image_parse("a.bin", buf, n, &im, &err), 0);
    assert_int_equal(im.size, 96);
    assert_int_equal(im.content_size, 96);
    assert_int_equal(im.segments, 3);
    assert_int_equal(im.flash_segments, 2);
    assert_false(im.digest);
    assert_int_equal(im.flash_size, 4u << 20);
    fs_esp32_image_free(&im);
    /* padded with 0xFF: the file's size counts */
    memset(buf + n, 0xFF, 32);
    assert_int_equal(fs_esp32_image_parse("a.bin", buf, n + 32, &im, &err), 0);
    assert_int_equal(im.size, 128);
    assert_int_equal(im.content_size, 96);
    fs_esp32_image_free(&im);
    buf[95] ^= 1;
    assert_int_equal(fs_esp32_image_parse("a.bin", buf, n, &im, &err), -1);
    assert_non_null(strstr(err.msg, "a.bin: offset 0x5f: checksum"));
    buf[95] ^= 1;
    buf[23] = 2;
    assert_int_equal(fs_esp32_image_parse("a.bin", buf, n, &im, &err), -1);
    assert_non_null(strstr(err.msg, "a.bin: offset 0x17: hash_appended is 0x02"));
    buf[23] = 1; /* says a digest follows; there is none */
    assert_int_equal(fs_esp32_image_parse("a.bin", buf, n, &im, &err), -1);
    assert_non_null(strstr(err.msg, "the SHA-256 digest (offset 0x60) runs past the end of the file"));
}

static void test_csv_partition_cap(void **state)
{
    (void)state;
    char *csv = malloc(95 * 64 + 1);
    assert_non_null(csv);
    size_t n = 0;
    for (unsigned i = 0; i < 95; i++)
        n += (size_t)sprintf(csv + n, "p%u, %s, 0x%x, 0x%x\n", i, i ? "data, nvs" : "app, factory",
                             0x10000 + 0x10000 * i, i ? 0x1000 : 0x10000);
    fs_esppart t;
    fs_error err = {{0}};
    assert_int_equal(fs_esppart_parse("t.csv", (const uint8_t *)csv, n, 0, &t, &err), -1);
    assert_string_equal(err.msg, "t.csv:95: more than 94 partitions do not fit the 0xc00-byte table");
    assert_int_equal(err.kind, FS_ERR_LIMIT);
    *strrchr(csv, 'p') = '\0'; /* drop the 95th line ("p94, data, nvs, ...") */
    assert_int_equal(fs_esppart_parse("t.csv", (const uint8_t *)csv, strlen(csv), 0, &t, &err), 0);
    assert_int_equal(t.nentries, 94);
    fs_esppart_free(&t);
    free(csv);
}

static void test_check_targets(void **state)
{
    (void)state;
    fs_esp32app a;
    fs_error err = {{0}};
    memset(&a, 0, sizeof a);
    const char *csv = "f, app, factory, 0x10000, 0x100000\n"
                      "o0, app, ota_0, , 0x80000\n"
                      "t, app, test, , 0x10000\n";
    assert_int_equal(parse(csv, &a.table, &err), 0);
    a.image.size = 0x80000 - 100;
    assert_int_equal(fs_esp32app_check(&a, NULL, &err), 0);
    assert_string_equal(a.target->name, "o0"); /* the test app does not count */
    assert_int_equal(a.ntargets, 2);
    assert_int_equal(a.free, 100);
    fs_report rep;
    memset(&rep, 0, sizeof rep);
    assert_int_equal(fs_esp32app_findings(&a, &rep), 0);
    assert_int_equal(rep.nfindings, 1);
    assert_string_equal(rep.findings[0].id, "app-partition-headroom");
    fs_report_free(&rep);
    a.target = NULL, a.ntargets = 0;
    assert_int_equal(fs_esp32app_check(&a, "f", &err), 0);
    assert_true(a.named);
    assert_int_equal(a.free, 0x100000 - (0x80000 - 100));
    a.target = NULL, a.ntargets = 0;
    assert_int_equal(fs_esp32app_check(&a, "zz", &err), -1);
    assert_string_equal(err.msg, "t.csv: no partition named 'zz'; its app partitions: f, o0, t");
    fs_esppart_free(&a.table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_numbers_and_offsets),
        cmocka_unit_test(test_csv_flash_size),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_image),
        cmocka_unit_test(test_csv_partition_cap),
        cmocka_unit_test(test_check_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
