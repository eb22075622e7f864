/*
 * test_document.c - the analysis document module (document.c): the one
 * number rule (fs_json_from_u64 written, fs_json_u64 read back, at the
 * int64 boundary) and the main-region rule the CLI, the store and the API
 * share.
 */
#include "testutil.h"

#include "document.h"

#include <jansson.h>

static void test_number_rule(void **state)
{
    (void)state;
    static const uint64_t values[] = {0, 1, 4096, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        json_t *j = fs_json_from_u64(values[i]);
        assert_non_null(j);
        if (values[i] <= (uint64_t)INT64_MAX)
            assert_true(json_is_integer(j));
        else
            assert_true(json_is_string(j));
        uint64_t back = 0;
        assert_true(fs_json_u64(j, &back));
        assert_true(back == values[i]);
        json_decref(j);
    }
    json_t *s = fs_json_from_u64((uint64_t)INT64_MAX + 1);
    assert_string_equal(json_string_value(s), "0x8000000000000000");
    json_decref(s);
    uint64_t x;
    json_t *neg = json_integer(-1), *junk = json_string("0x-1"), *empty = json_string("0x");
    assert_false(fs_json_u64(neg, &x));
    assert_false(fs_json_u64(junk, &x));
    assert_false(fs_json_u64(empty, &x));
    json_decref(neg);
    json_decref(junk);
    json_decref(empty);
}

static const char *main_of(const char *regions)
{
    static char name[64];
    char text[1024];
    snprintf(text, sizeof text, "{\"regions\": %s}", regions);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    const json_t *r = fs_analysis_main_region(doc);
    snprintf(name, sizeof name, "%s", r ? json_string_value(json_object_get(r, "name")) : "(none)");
    json_decref(doc);
    return name;
}

static void test_main_region(void **state)
{
    (void)state;
    /* irom0_0_seg wins whatever its size. */
    assert_string_equal(main_of("[{\"name\":\"big\",\"length\":9999,\"attrs\":\"rx\"},"
                                "{\"name\":\"irom0_0_seg\",\"length\":1,\"attrs\":\"rw\"}]"),
                        "irom0_0_seg");
    /* An executable read-only region beats a larger RAM one. */
    assert_string_equal(main_of("[{\"name\":\"RAM\",\"length\":900000,\"attrs\":\"rwx\"},"
                                "{\"name\":\"code\",\"length\":1000,\"attrs\":\"rx\"}]"),
                        "code");
    /* A flash-named region counts as flash; the largest of them wins. */
    assert_string_equal(main_of("[{\"name\":\"FLASH_A\",\"length\":10,\"attrs\":\"rw\"},"
                                "{\"name\":\"rom2\",\"length\":20,\"attrs\":\"r\"},"
                                "{\"name\":\"RAM\",\"length\":99,\"attrs\":\"rw\"}]"),
                        "rom2");
    /* No flash at all: the largest. */
    assert_string_equal(main_of("[{\"name\":\"a\",\"length\":10,\"attrs\":\"rw\"},"
                                "{\"name\":\"b\",\"length\":30,\"attrs\":\"rw\"}]"),
                        "b");
    assert_string_equal(main_of("[]"), "(none)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_number_rule),
        cmocka_unit_test(test_main_region),
    };
    return cmocka_run_group_tests_name("document", tests, NULL, NULL);
}
