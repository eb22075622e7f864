/*
 * test_forecast.c - region trends against synthetic histories whose slopes
 * are known exactly (built here), and through the store with analyses of a
 * sample firmware whose used bytes are set to those histories.
 */
#include "testutil.h"

#include "forecast.h"
#include "store.h"

#include <math.h>

#define T0 1700000000LL
#define DAY 86400LL

/* n builds of one region "flash": used[i] at T0 + i * step, limit lim. */
typedef struct hist {
    fs_forecast_sample s[64];
    fs_forecast_build b[64];
} hist;

static void mk(hist *h, const uint64_t *used, size_t n, int64_t step, uint64_t lim)
{
    for (size_t i = 0; i < n; i++) {
        h->s[i] = (fs_forecast_sample){"flash", used[i], lim, false};
        h->b[i] = (fs_forecast_build){T0 + (int64_t)i * step, &h->s[i], 1};
    }
}

static void linear_per_day(void **state)
{
    (void)state;
    hist h;
    uint64_t used[5] = {1000, 1100, 1200, 1300, 1400};
    mk(&h, used, 5, DAY, 2000);
    fs_forecast f;
    fs_error err = {{0}};
    assert_int_equal(fs_forecast_compute(h.b, 5, "b", NULL, &f, &err), 0);
    assert_int_equal(f.nregions, 1);
    const fs_forecast_region *r = &f.regions[0];
    assert_string_equal(r->name, "flash");
    assert_int_equal(r->points, 5);
    assert_int_equal(r->used, 1400);
    assert_true(fabs(r->per_build - 100.0) < 1e-9);
    assert_true(r->has_per_day);
    assert_true(fabs(r->per_day - 100.0) < 1e-9);
    assert_int_equal(r->trend, FS_TREND_GROWING);
    assert_int_equal(r->builds_left, 6);          /* 600 B left at 100 B per build */
    assert_true(fabs(r->days_left - 6.0) < 1e-9);
    assert_int_equal(r->full_at, T0 + 4 * DAY + 6 * DAY);
    assert_true(r->near);
    fs_forecast_free(&f);
}

static void two_builds_a_day(void **state)
{
    (void)state;
    hist h;
    uint64_t used[4] = {500, 550, 600, 650};
    mk(&h, used, 4, DAY / 2, 10000);
    fs_forecast f;
    fs_error err = {{0}};
    assert_int_equal(fs_forecast_compute(h.b, 4, NULL, NULL, &f, &err), 0);
    assert_true(fabs(f.regions[0].per_build - 50.0) < 1e-9);
    assert_true(fabs(f.regions[0].per_day - 100.0) < 1e-9);
    assert_int_equal(f.regions[0].builds_left, 187);   /* ceil(9350 / 50) */
    assert_true(fabs(f.regions[0].days_left - 93.5) < 1e-9);
    assert_false(f.regions[0].near);                  /* 187 builds, 93.5 days */
    fs_forecast_free(&f);
}

/* y = 10, 14, 12, 18: slope = 11 / 5 = 2.2 exactly (least squares). */
static void noisy_least_squares(void **state)
{
    (void)state;
    hist h;
    uint64_t used[4] = {10, 14, 12, 18};
    mk(&h, used, 4, DAY, 30);
    fs_forecast f;
    fs_error err = {{0}};
    assert_int_equal(fs_forecast_compute(h.b, 4, NULL, NULL, &f, &err), 0);
    assert_true(fabs(f.regions[0].per_build - 2.2) < 1e-9);
    assert_int_equal(f.regions[0].builds_left, 6);    /* ceil(12 / 2.2) = ceil(5.45) */
    fs_forecast_free(&f);
}

static void steady_full_unknown(void **state)
{
    (void)state;
    hist h;
    fs_forecast f;
    fs_error err = {{0}};
    uint64_t shrinking[3] = {900, 850, 800};
    mk(&h, shrinking, 3, DAY, 1000);
    assert_int_equal(fs_forecast_compute(h.b, 3, NULL, NULL, &f, &err), 0);
    assert_int_equal(f.regions[0].trend, FS_TREND_STEADY);
    assert_false(f.regions[0].has_date);
    assert_false(f.regions[0].near);
    fs_forecast_free(&f);

    uint64_t full[3] = {900, 950, 1000};
    mk(&h, full, 3, DAY, 1000);
    assert_int_equal(fs_forecast_compute(h.b, 3, NULL, NULL, &f, &err), 0);
    assert_int_equal(f.regions[0].trend, FS_TREND_FULL);
    assert_int_equal(f.regions[0].builds_left, 0);
    assert_int_equal(f.regions[0].full_at, T0 + 2 * DAY);
    assert_true(f.regions[0].near);
    fs_forecast_free(&f);

    uint64_t one[1] = {10};
    mk(&h, one, 1, DAY, 1000);
    assert_int_equal(fs_forecast_compute(h.b, 1, NULL, NULL, &f, &err), 0);
    assert_int_equal(f.regions[0].trend, FS_TREND_UNKNOWN);
    assert_false(f.regions[0].near);
    fs_forecast_free(&f);

    /* all at the same instant: a per-build slope but no per-day one */
    uint64_t same[3] = {10, 20, 30};
    mk(&h, same, 3, 0, 1000);
    assert_int_equal(fs_forecast_compute(h.b, 3, NULL, NULL, &f, &err), 0);
    assert_true(fabs(f.regions[0].per_build - 10.0) < 1e-9);
    assert_false(f.regions[0].has_per_day);
    assert_false(f.regions[0].has_date);
    assert_int_equal(f.regions[0].builds_left, 97);
    fs_forecast_free(&f);
}

/* 30 builds, the first 10 growing 1000 B per build, the last 20 by 10:
 * the default window of 20 sees only the second slope. */
static void window_last_n(void **state)
{
    (void)state;
    hist h;
    uint64_t used[30];
    for (int i = 0; i < 30; i++)
        used[i] = i < 10 ? 1000u * (unsigned)i : 9000u + 10u * (unsigned)(i - 9);
    mk(&h, used, 30, DAY, 100000);
    fs_forecast f;
    fs_error err = {{0}};
    assert_int_equal(fs_forecast_compute(h.b, 30, NULL, NULL, &f, &err), 0);
    assert_int_equal(f.builds, 20);
    assert_int_equal(f.first_ts, T0 + 10 * DAY);
    assert_true(fabs(f.regions[0].per_build - 10.0) < 1e-9);
    fs_forecast_free(&f);
    fs_forecast_opts o = {30, 0, 0};
    assert_int_equal(fs_forecast_compute(h.b, 30, NULL, &o, &f, &err), 0);
    assert_true(f.regions[0].per_build > 100.0);
    fs_forecast_free(&f);
}

/* The near thresholds at their boundary: 30 builds is near, 31 is not. */
static void near_boundary(void **state)
{
    (void)state;
    hist h;
    fs_forecast f;
    fs_error err = {{0}};
    uint64_t at30[2] = {0, 100};          /* 3000 left at 100 per build: 30 builds */
    mk(&h, at30, 2, 365 * DAY, 3100);     /* a year apart: the date is far */
    assert_int_equal(fs_forecast_compute(h.b, 2, NULL, NULL, &f, &err), 0);
    assert_int_equal(f.regions[0].builds_left, 30);
    assert_true(f.regions[0].near);
    fs_forecast_free(&f);
    mk(&h, at30, 2, 365 * DAY, 3101);     /* 3001 left: 31 builds */
    assert_int_equal(fs_forecast_compute(h.b, 2, NULL, NULL, &f, &err), 0);
    assert_int_equal(f.regions[0].builds_left, 31);
    assert_false(f.regions[0].near);
    fs_forecast_free(&f);
}

/* Regions missing from some builds, regions without a limit, bad order. */
static void regions_and_errors(void **state)
{
    (void)state;
    fs_forecast_sample s0[2] = {{"a", 100, 1000, false}, {"nolimit", 5, 0, false}};
    fs_forecast_sample s1[1] = {{"nolimit", 6, 0, false}};
    fs_forecast_sample s2[2] = {{"a", 300, 1000, false}, {"nolimit", 7, 0, false}};
    fs_forecast_build b[3] = {{T0, s0, 2}, {T0 + DAY, s1, 1}, {T0 + 2 * DAY, s2, 2}};
    fs_forecast f;
    fs_error err = {{0}};
    assert_int_equal(fs_forecast_compute(b, 3, NULL, NULL, &f, &err), 0);
    assert_int_equal(f.nregions, 1);           /* "nolimit" has no limit */
    assert_int_equal(f.regions[0].points, 2);  /* builds 0 and 2 */
    assert_true(fabs(f.regions[0].per_build - 100.0) < 1e-9);   /* 200 B over 2 build positions */
    fs_forecast_free(&f);
    fs_forecast_build bad[2] = {{T0 + DAY, s0, 2}, {T0, s2, 2}};
    assert_int_equal(fs_forecast_compute(bad, 2, NULL, NULL, &f, &err), -1);
    assert_non_null(strstr(err.msg, "not oldest first"));
    fs_forecast_opts big = {FS_FORECAST_MAX_WINDOW + 1, 0, 0};
    assert_int_equal(fs_forecast_compute(b, 3, NULL, &big, &f, &err), -1);
    assert_int_equal(fs_forecast_compute(NULL, 0, "x", NULL, &f, &err), 0);
    assert_int_equal(f.builds, 0);
    assert_int_equal(f.nregions, 0);
    fs_forecast_free(&f);
}

static char *fmt_markdown(const fs_forecast *f, size_t *lines)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(fs_forecast_write_markdown(out, f, lines), 0);
    fclose(out);
    return buf;
}

static void markdown_line(void **state)
{
    (void)state;
    hist h;
    uint64_t used[5] = {1000, 1100, 1200, 1300, 1400};
    mk(&h, used, 5, DAY, 2000);
    fs_forecast f;
    fs_error err = {{0}};
    assert_int_equal(fs_forecast_compute(h.b, 5, "esp8266-2m", NULL, &f, &err), 0);
    size_t lines;
    char *md = fmt_markdown(&f, &lines);
    assert_int_equal(lines, 1);
    /* T0 + 10 days = 2023-11-24 */
    assert_string_equal(md, "- forecast esp8266-2m: flash 1,400 of 2,000 B; +100.0 B per build over 5 builds; "
                            "at this trend it runs out in 6 builds, around 2023-11-24\n");
    free(md);
    fs_forecast_free(&f);
    uint64_t flat[3] = {1000, 1000, 1000};
    mk(&h, flat, 3, DAY, 2000);
    assert_int_equal(fs_forecast_compute(h.b, 3, "x", NULL, &f, &err), 0);
    md = fmt_markdown(&f, &lines);
    assert_int_equal(lines, 0);
    assert_string_equal(md, "");
    free(md);
    fs_forecast_free(&f);
}

/* Through the store: five analyses of a sample whose irom0_0_seg used bytes
 * are set to a known line, one a day, then a budget as the limit. */
static void from_store(void **state)
{
    (void)state;
    /* the binary of the build under test (tests/run.sh sets FLASHSIZE: the
     * ASan pass runs build-asan's) */
    const char *bin = getenv("FLASHSIZE");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' analyze --board esp8266-2m --format json samples/build/esp8266-fits.elf",
             bin && *bin ? bin : "build/flashsize");
    char *text = tu_run(cmd);
    assert_non_null(text);
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(doc);
    char db[] = "/tmp/flashsize-forecast-XXXXXX";
    int fd = mkstemp(db);
    assert_true(fd >= 0);
    close(fd);
    unlink(db);
    fs_store *s;
    fs_error err = {{0}};
    assert_int_equal(fs_store_open(db, NULL, &s, &err), 0);
    json_t *irom = NULL;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(doc, "regions"), i, r)
        if (strcmp(json_string_value(json_object_get(r, "name")), "irom0_0_seg") == 0)
            irom = r;
    assert_non_null(irom);
    uint64_t length = (uint64_t)json_integer_value(json_object_get(irom, "length"));
    for (int k = 0; k < 5; k++) {
        char commit[32];
        snprintf(commit, sizeof commit, "c0ffee%02d", k);
        json_object_set_new(irom, "used", json_integer((json_int_t)(500000 + 2000 * k)));
        fs_build_meta m = {"mpy", "esp8266-2m", commit, "main", NULL, 0, T0 + k * DAY};
        int64_t id;
        assert_int_equal(fs_store_record(s, doc, &m, &id, &err), 0);
    }
    fs_history_query q = {"esp8266-2m", NULL, NULL, 0};
    fs_forecast f;
    assert_int_equal(fs_forecast_load(s, &q, NULL, NULL, &f, &err), 0);
    assert_int_equal(f.builds, 5);
    const fs_forecast_region *fr = NULL;
    for (size_t k = 0; k < f.nregions; k++)
        if (strcmp(f.regions[k].name, "irom0_0_seg") == 0)
            fr = &f.regions[k];
    assert_non_null(fr);
    assert_int_equal(fr->used, 508000);
    assert_int_equal(fr->limit, length);
    assert_true(fabs(fr->per_build - 2000.0) < 1e-9);
    assert_true(fabs(fr->per_day - 2000.0) < 1e-9);
    assert_int_equal(fr->builds_left, (length - 508000 + 1999) / 2000);
    fs_forecast_free(&f);

    fs_region_budget rb = {NULL, true, false, false, false, 520000, 0, 0, 0};
    fs_budget budget = {NULL, "esp8266-2m", &rb, 1, false, 0, NULL, 0, false, 0};
    assert_int_equal(fs_forecast_load(s, &q, NULL, &budget, &f, &err), 0);
    fr = NULL;
    for (size_t k = 0; k < f.nregions; k++)
        if (strcmp(f.regions[k].name, "irom0_0_seg") == 0)
            fr = &f.regions[k];
    assert_non_null(fr);
    assert_true(fr->budget);
    assert_int_equal(fr->limit, 520000);
    assert_int_equal(fr->builds_left, 6);      /* 12000 left at 2000 per build */
    assert_int_equal(fr->full_at, T0 + 4 * DAY + 6 * DAY);
    assert_true(fr->near);
    fs_forecast_free(&f);

    fs_history_query none = {"no-such-board", NULL, NULL, 0};
    assert_int_equal(fs_forecast_load(s, &none, NULL, NULL, &f, &err), 0);
    assert_int_equal(f.builds, 0);
    fs_forecast_free(&f);
    fs_store_close(s);
    json_decref(doc);
    char side[64];
    unlink(db);
    snprintf(side, sizeof side, "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db);
    unlink(side);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linear_per_day),     cmocka_unit_test(two_builds_a_day),
        cmocka_unit_test(noisy_least_squares), cmocka_unit_test(steady_full_unknown),
        cmocka_unit_test(window_last_n),      cmocka_unit_test(near_boundary),
        cmocka_unit_test(regions_and_errors), cmocka_unit_test(markdown_line),
        cmocka_unit_test(from_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
