/*
 * test_errkind.c - errors carry a kind (model.h) that callers decide on
 * instead of the message's text: a limit, a missing build, a read-only or
 * a corrupt database, out of memory; and the kind's name.
 */
#include "testutil.h"

#include "document.h"
#include "store.h"

#include <sys/stat.h>

static void test_limit_kinds(void **state)
{
    (void)state;
    char path[] = "/tmp/fs-errkind-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "0123456789", 10), 10);
    close(fd);
    unsigned char *data;
    size_t len;
    fs_error err = {{0}};
    assert_int_equal(fs_read_file(path, 4, "test file", &data, &len, &err), -1);
    assert_int_equal(err.kind, FS_ERR_LIMIT);
    assert_int_equal(fs_read_file("/nonexistent/x", 4, "test file", &data, &len, &err), -1);
    assert_int_equal(err.kind, FS_ERR_INPUT);
    unlink(path);

    /* A document over a limit, and one that is only malformed. */
    json_t *doc = json_pack("{s:s, s:i, s:{s:s}, s:s, s:[], s:[], s:[], s:[]}", "schema", "flashsize-analysis",
                            "schema_version", 1, "tool", "version", "x", "chip", "x", "regions", "sections",
                            "symbols", "findings");
    assert_non_null(doc);
    assert_int_equal(fs_analysis_validate(doc, "doc", &err), 0);
    json_t *regions = json_object_get(doc, "regions");
    for (unsigned i = 0; i <= FS_ANALYSIS_MAX_REGIONS; i++)
        json_array_append_new(regions, json_object());
    assert_int_equal(fs_analysis_validate(doc, "doc", &err), -1);
    assert_int_equal(err.kind, FS_ERR_LIMIT);
    json_array_clear(regions);
    json_array_append_new(regions, json_integer(1));
    assert_int_equal(fs_analysis_validate(doc, "doc", &err), -1);
    assert_int_equal(err.kind, FS_ERR_INPUT);
    json_decref(doc);
}

static void test_store_kinds(void **state)
{
    (void)state;
    char dir[] = "/tmp/fs-errkind-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/s.db", dir);
    fs_store *s;
    fs_error err = {{0}};
    if (fs_store_open(path, NULL, &s, &err) < 0)
        fail_msg("%s", err.msg);
    int64_t id;
    json_t *doc = NULL;
    assert_int_equal(fs_store_load(s, 99, &doc, NULL, &err), -1);
    assert_int_equal(err.kind, FS_ERR_NOTFOUND);
    assert_int_equal(fs_store_resolve(s, "commit:abcd", &id, &err), -1);
    assert_int_equal(err.kind, FS_ERR_NOTFOUND);
    assert_int_equal(fs_store_resolve(s, "nonsense", &id, &err), -1);
    assert_int_equal(err.kind, FS_ERR_INPUT);
    fs_store_close(s);

    /* A read-only file opened for writing (root may write anyway: skip). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(path, 0444), 0);
        assert_int_equal(fs_store_open(path, NULL, &s, &err), -1);
        assert_int_equal(err.kind, FS_ERR_READONLY);
    }

    /* Not a database at all. */
    char junk[256];
    snprintf(junk, sizeof junk, "%s/junk.db", dir);
    FILE *f = fopen(junk, "w");
    assert_non_null(f);
    for (int i = 0; i < 512; i++)
        fputs("not a database ", f);
    fclose(f);
    assert_int_equal(fs_store_open(junk, NULL, &s, &err), -1);
    assert_true(err.kind == FS_ERR_INTERNAL || err.kind == FS_ERR_INPUT);
    unlink(junk);
    chmod(path, 0644);
    unlink(path);
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    rmdir(dir);
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(fs_error_kind_name(FS_ERR_INPUT), "input");
    assert_string_equal(fs_error_kind_name(FS_ERR_NOTFOUND), "not found");
    assert_string_equal(fs_error_kind_name(FS_ERR_INTERNAL), "internal");
    assert_string_equal(fs_error_kind_name(FS_ERR_KINDS), "unknown");
    fs_error err = {{0}};
    fs_fail_kind(&err, FS_ERR_BUSY, "x %d", 1);
    assert_int_equal(err.kind, FS_ERR_BUSY);
    assert_string_equal(err.msg, "x 1");
    fs_fail(&err, "y");
    assert_int_equal(err.kind, FS_ERR_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_kinds),
        cmocka_unit_test(test_store_kinds),
        cmocka_unit_test(test_kind_names),
    };
    return cmocka_run_group_tests_name("errkind", tests, NULL, NULL);
}
