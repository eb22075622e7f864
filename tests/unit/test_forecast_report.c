/*
 * test_forecast_report.c - the forecast block of the PR comment
 * (fs_diff_write_markdown_forecast): shown only when a region is near (30
 * builds or 90 days), placed before the details, with exact numbers from
 * synthetic histories whose slopes are known; otherwise the comment is
 * byte for byte fs_diff_write_markdown's.
 *
 * Ground truth: the histories are straight lines made here, so the slope,
 * the builds left (ceil(remaining / slope)) and the date are worked out by
 * hand in each test.
 */
#include "testutil.h"

#include "diff.h"
#include "forecast.h"

#define T0  1700000000   /* 2023-11-14 22:13:20 UTC */
#define DAY 86400

typedef struct hist {
    fs_forecast_sample s[64];
    fs_forecast_build b[64];
} hist;

/* n builds, step seconds apart; used[i] = first + i * slope, limit lim. */
static void line(hist *h, size_t n, int64_t step, uint64_t first, uint64_t slope, uint64_t lim)
{
    for (size_t i = 0; i < n; i++) {
        h->s[i] = (fs_forecast_sample){"flash", first + i * slope, lim, false};
        h->b[i] = (fs_forecast_build){T0 + (int64_t)i * step, &h->s[i], 1};
    }
}

static json_t *doc(uint64_t used)
{
    json_t *d = json_pack("{s:s,s:i,s:{s:s,s:s},s:n,s:s,s:[{s:s,s:i,s:I,s:I,s:s}],s:[],s:[],s:[]}", "schema",
                          "flashsize-analysis", "schema_version", 1, "tool", "name", "flashsize", "version", "t",
                          "board", "chip", "generic", "regions", "name", "flash", "origin", 0, "length",
                          (json_int_t)100000, "used", (json_int_t)used, "attrs", "rx", "sections", "symbols",
                          "findings");
    assert_non_null(d);
    return d;
}

static char *md(const fs_diff *d, const fs_forecast *f, size_t nf)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    if (f)
        assert_int_equal(fs_diff_write_markdown_forecast(out, d, 1, 20, f, nf), 0);
    else
        assert_int_equal(fs_diff_write_markdown(out, d, 1, 20), 0);
    fclose(out);
    return buf;
}

/* The comment with forecast f must be the plain one with block inserted
 * before the details (or equal to it when block is NULL). */
static void expect_block(const fs_forecast *f, const char *block)
{
    json_t *a = doc(1300), *b = doc(1400);
    fs_diff d;
    fs_error err = {{0}};
    assert_int_equal(fs_diff_compute(a, b, "esp8266-2m", &d, &err), 0);
    char *plain = md(&d, NULL, 0), *with = md(&d, f, 1);
    if (!block) {
        assert_string_equal(with, plain);
    } else {
        const char *at = strstr(plain, "<details>");
        assert_non_null(at);
        size_t head = (size_t)(at - plain);
        char *want = malloc(strlen(plain) + strlen(block) + 1);
        memcpy(want, plain, head);
        strcpy(want + head, block);
        strcat(want, at);
        assert_string_equal(with, want);
        free(want);
    }
    free(plain);
    free(with);
    fs_diff_free(&d);
    json_decref(a);
    json_decref(b);
}

static void near_by_builds(void **state)
{
    (void)state;
    hist h;
    /* +100 B a build, one a day, 600 B left: 6 builds, 6 days (2023-11-24) */
    line(&h, 5, DAY, 1000, 100, 2000);
    fs_forecast f;
    fs_error err = {{0}};
    assert_int_equal(fs_forecast_compute(h.b, 5, "esp8266-2m", NULL, &f, &err), 0);
    expect_block(&f, "#### Forecast\n\n"
                     "- forecast esp8266-2m: flash 1,400 of 2,000 B; +100.0 B per build over 5 builds; "
                     "at this trend it runs out in 6 builds, around 2023-11-24\n\n");
    fs_forecast_free(&f);
}

static void builds_boundary(void **state)
{
    (void)state;
    hist h;
    fs_forecast f;
    fs_error err = {{0}};
    /* +10 B a build, a build every 4 days (2.5 B a day): 300 B left is 30
     * builds (near), 120 days; 301 B left is 31 builds and 120.4 days (not) */
    line(&h, 3, 4 * DAY, 1000, 10, 1320);
    assert_int_equal(fs_forecast_compute(h.b, 3, "b", NULL, &f, &err), 0);
    assert_int_equal(f.regions[0].builds_left, 30);
    /* T0 + 8 days + 120 days = 2024-03-21 */
    expect_block(&f, "#### Forecast\n\n"
                     "- forecast b: flash 1,020 of 1,320 B; +10.0 B per build over 3 builds; "
                     "at this trend it runs out in 30 builds, around 2024-03-21\n\n");
    fs_forecast_free(&f);
    line(&h, 3, 4 * DAY, 1000, 10, 1321);
    assert_int_equal(fs_forecast_compute(h.b, 3, "b", NULL, &f, &err), 0);
    assert_int_equal(f.regions[0].builds_left, 31);
    assert_false(f.regions[0].near);
    expect_block(&f, NULL);
    fs_forecast_free(&f);
}

static void days_boundary(void **state)
{
    (void)state;
    hist h;
    fs_forecast f;
    fs_error err = {{0}};
    /* +10 B a build, a build every day: 900 B left is 90 builds (not near
     * by builds) but 90 days (near); 910 B left is 91 days (not near) */
    line(&h, 4, DAY, 1000, 10, 1930);
    assert_int_equal(fs_forecast_compute(h.b, 4, "b", NULL, &f, &err), 0);
    assert_int_equal(f.regions[0].builds_left, 90);
    /* T0 + 3 days + 90 days = 2024-02-15 */
    expect_block(&f, "#### Forecast\n\n"
                     "- forecast b: flash 1,030 of 1,930 B; +10.0 B per build over 4 builds; "
                     "at this trend it runs out in 90 builds, around 2024-02-15\n\n");
    fs_forecast_free(&f);
    line(&h, 4, DAY, 1000, 10, 1940);
    assert_int_equal(fs_forecast_compute(h.b, 4, "b", NULL, &f, &err), 0);
    assert_false(f.regions[0].near);
    expect_block(&f, NULL);
    fs_forecast_free(&f);
}

static void full_and_flat(void **state)
{
    (void)state;
    hist h;
    fs_forecast f;
    fs_error err = {{0}};
    /* over the limit now: always shown */
    line(&h, 2, DAY, 2000, 50, 2000);
    assert_int_equal(fs_forecast_compute(h.b, 2, "b", NULL, &f, &err), 0);
    expect_block(&f, "#### Forecast\n\n"
                     "- forecast b: flash 2,050 of 2,000 B; +50.0 B per build over 2 builds; "
                     "limit reached: full now\n\n");
    fs_forecast_free(&f);
    /* flat, shrinking, or a single build: nothing */
    line(&h, 5, DAY, 1900, 0, 2000);
    assert_int_equal(fs_forecast_compute(h.b, 5, "b", NULL, &f, &err), 0);
    expect_block(&f, NULL);
    fs_forecast_free(&f);
    line(&h, 1, DAY, 1990, 0, 2000);
    assert_int_equal(fs_forecast_compute(h.b, 1, "b", NULL, &f, &err), 0);
    expect_block(&f, NULL);
    fs_forecast_free(&f);
    /* no forecast at all (NULL, 0) is the plain comment too */
    json_t *a = doc(1), *b = doc(2);
    fs_diff d;
    assert_int_equal(fs_diff_compute(a, b, "x", &d, &err), 0);
    char *plain = md(&d, NULL, 0), *none = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&none, &len);
    assert_int_equal(fs_diff_write_markdown_forecast(out, &d, 1, 20, NULL, 0), 0);
    fclose(out);
    assert_string_equal(none, plain);
    free(plain);
    free(none);
    fs_diff_free(&d);
    json_decref(a);
    json_decref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(near_by_builds),
        cmocka_unit_test(builds_boundary),
        cmocka_unit_test(days_boundary),
        cmocka_unit_test(full_and_flat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
