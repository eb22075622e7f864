/*
 * test_budget.c - budget files and their evaluation at the exact boundary.
 *
 * Ground truth: .irom0.text's size from `xtensa-lx106-elf-size -A` (which
 * is irom0_0_seg's used bytes, the section starting at the region's origin);
 * the limits are written as that number and that number minus one, so a
 * rule passes at max = used and fails at max = used - 1.  Growth: the
 * difference of the two samples' .irom0.text sizes.
 */
#include "testutil.h"

#include "budget.h"
#include "diff.h"

#include <math.h>

#define S "samples/build/"

static uint64_t irom0(const char *elf)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "xtensa-lx106-elf-size -A %s | awk '$1 == \".irom0.text\" { print $2 }'", elf);
    char *out = tu_run(cmd);
    assert_non_null(out);
    uint64_t v = strtoull(out, NULL, 10);
    free(out);
    assert_true(v > 0);
    return v;
}

/* irom0_0_seg's length as ld printed it (NAME.memusage, "Region Size"). */
static uint64_t irom0_length(const char *memusage)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "awk '$1 == \"irom0_0_seg:\" { n = $4; if ($5 == \"KB\") n *= 1024; if ($5 == \"MB\") n *= 1048576; print n }' %s",
             memusage);
    char *out = tu_run(cmd);
    assert_non_null(out);
    uint64_t v = strtoull(out, NULL, 10);
    free(out);
    assert_true(v > 0);
    return v;
}

static json_t *load(const char *elf)
{
    fs_input_opts o = {NULL, "esp8266-2m", "rules"};
    json_t *doc;
    char *label;
    fs_error err;
    if (fs_input_load(elf, &o, &doc, &label, &err) != 0)
        fail_msg("%s", err.msg);
    free(label);
    return doc;
}

/* Write text as a budget file and load it. */
static int load_text(const char *text, fs_budget *b, fs_error *err, char **path)
{
    *path = tu_tmpfile(text, strlen(text));
    assert_non_null(*path);
    return fs_budget_load(*path, b, err);
}

/* Evaluate text against head/base; returns the number of failed rules. */
static size_t evaluate(const char *text, const json_t *head, const json_t *base, fs_budget_result *r)
{
    fs_budget b;
    fs_error err;
    char *path;
    if (load_text(text, &b, &err, &path) != 0)
        fail_msg("%s", err.msg);
    if (fs_budget_check(&b, head, base, r, &err) != 0)
        fail_msg("%s", err.msg);
    unlink(path);
    free(path);
    fs_budget_free(&b);
    return r->failed;
}

static void test_region_boundary(void **state)
{
    (void)state;
    json_t *fits = load(S "esp8266-fits.elf");
    uint64_t used = irom0(S "esp8266-fits.elf");
    char text[512];
    fs_budget_result r;

    snprintf(text, sizeof text, "[budget]\nboard = esp8266-2m\nmax = %llu\n", (unsigned long long)used);
    assert_int_equal(evaluate(text, fits, NULL, &r), 0);
    assert_int_equal(r.nrules, 1);
    assert_int_equal(r.rules[0].status, FS_RULE_PASS);
    assert_string_equal(r.rules[0].rule, "region irom0_0_seg max");
    fs_budget_result_free(&r);

    snprintf(text, sizeof text, "[budget]\nboard = esp8266-2m\nmax = %llu\n", (unsigned long long)used - 1);
    assert_int_equal(evaluate(text, fits, NULL, &r), 1);
    assert_int_equal(r.rules[0].status, FS_RULE_FAIL);
    assert_non_null(strstr(r.rules[0].message, "(over by 1 B)"));
    fs_budget_result_free(&r);

    /* the same through [budget region NAME] and an ld expression (614400 = 600K) */
    assert_int_equal(used, 600 * 1024);
    assert_int_equal(evaluate("[budget]\nboard = esp8266-2m\n[budget region irom0_0_seg]\nmax = 600K\n", fits, NULL, &r), 0);
    fs_budget_result_free(&r);
    assert_int_equal(evaluate("[budget]\nboard = esp8266-2m\n[budget region irom0_0_seg]\nmax = 600K - 1\n", fits, NULL, &r), 1);
    fs_budget_result_free(&r);

    /* warn_percent: 614400 / 1011712 = 60.73%; a warning is not a failure */
    assert_int_equal(evaluate("[budget]\nboard = esp8266-2m\nwarn_percent = 60.7\n", fits, NULL, &r), 0);
    assert_int_equal(r.rules[0].status, FS_RULE_WARN);
    assert_int_equal(r.warned, 1);
    fs_budget_result_free(&r);
    assert_int_equal(evaluate("[budget]\nboard = esp8266-2m\nwarn_percent = 60.8\n", fits, NULL, &r), 0);
    assert_int_equal(r.rules[0].status, FS_RULE_PASS);
    fs_budget_result_free(&r);
    /* exactly at the threshold: used * 100 / length from size -A and ld's
     * Region Size, written with every digit (a double round-trips through
     * %.17g), warns; the next double above it does not */
    double pct = (double)used * 100.0 / (double)irom0_length(S "esp8266-fits.memusage");
    snprintf(text, sizeof text, "[budget]\nboard = esp8266-2m\nwarn_percent = %.17g\n", pct);
    assert_int_equal(evaluate(text, fits, NULL, &r), 0);
    assert_int_equal(r.rules[0].status, FS_RULE_WARN);
    fs_budget_result_free(&r);
    snprintf(text, sizeof text, "[budget]\nboard = esp8266-2m\nwarn_percent = %.17g\n", nextafter(pct, 100.0));
    assert_int_equal(evaluate(text, fits, NULL, &r), 0);
    assert_int_equal(r.rules[0].status, FS_RULE_PASS);
    fs_budget_result_free(&r);
    json_decref(fits);
}

static void test_growth_boundary(void **state)
{
    (void)state;
    json_t *fits = load(S "esp8266-fits.elf"), *near = load(S "esp8266-nearfull.elf");
    uint64_t a = irom0(S "esp8266-fits.elf"), b = irom0(S "esp8266-nearfull.elf");
    uint64_t growth = b - a;
    char text[512];
    fs_budget_result r;

    snprintf(text, sizeof text, "[budget]\nboard = esp8266-2m\nmax_growth_bytes = %llu\n", (unsigned long long)growth);
    assert_int_equal(evaluate(text, near, fits, &r), 0);
    assert_int_equal(r.rules[0].status, FS_RULE_PASS);
    fs_budget_result_free(&r);
    snprintf(text, sizeof text, "[budget]\nboard = esp8266-2m\nmax_growth_bytes = %llu\n", (unsigned long long)growth - 1);
    assert_int_equal(evaluate(text, near, fits, &r), 1);
    fs_budget_result_free(&r);
    /* without a base the growth rule is skipped, not passed or failed */
    assert_int_equal(evaluate(text, near, NULL, &r), 0);
    assert_int_equal(r.rules[0].status, FS_RULE_SKIPPED);
    assert_non_null(strstr(r.rules[0].message, "no base given"));
    fs_budget_result_free(&r);

    /* percent: 351784 / 614400 = 57.2565...% */
    double p = (double)growth * 100.0 / (double)a;
    snprintf(text, sizeof text, "[budget]\nboard = esp8266-2m\nmax_growth_percent = %.4f\n", p + 0.0001);
    assert_int_equal(evaluate(text, near, fits, &r), 0);
    fs_budget_result_free(&r);
    snprintf(text, sizeof text, "[budget]\nboard = esp8266-2m\nmax_growth_percent = %.4f\n", p - 0.0001);
    assert_int_equal(evaluate(text, near, fits, &r), 1);
    fs_budget_result_free(&r);
    /* shrinking never violates a growth rule */
    assert_int_equal(evaluate("[budget]\nboard = esp8266-2m\nmax_growth_bytes = 0\nmax_growth_percent = 0\n", fits, near, &r), 0);
    fs_budget_result_free(&r);

    /* new symbols: the largest symbol nearfull adds, per nm, at the boundary */
    char *out = tu_run("xtensa-lx106-elf-nm -S " S "esp8266-fits.elf | awk 'NF == 4 { print $4 }' | sort -u > /tmp/fs-budget-a.txt; "
                       "xtensa-lx106-elf-nm -S " S "esp8266-nearfull.elf | awk 'NF == 4 { print $4, $2 }' | sort | "
                       "awk 'NR == FNR { a[$1] = 1; next } !($1 in a) { print $2 }' /tmp/fs-budget-a.txt - | sort | tail -1; "
                       "rm -f /tmp/fs-budget-a.txt");
    assert_non_null(out);
    uint64_t biggest = strtoull(out, NULL, 16);
    free(out);
    assert_true(biggest > 0);
    snprintf(text, sizeof text, "[budget]\nboard = esp8266-2m\n[budget symbols]\nnew_symbol_max = %llu\n",
             (unsigned long long)biggest);
    assert_int_equal(evaluate(text, near, fits, &r), 0);
    fs_budget_result_free(&r);
    snprintf(text, sizeof text, "[budget]\nboard = esp8266-2m\n[budget symbols]\nnew_symbol_max = %llu\n",
             (unsigned long long)biggest - 1);
    assert_int_equal(evaluate(text, near, fits, &r), 1);
    fs_budget_result_free(&r);
    json_decref(fits);
    json_decref(near);
}

static void test_frozen_rules(void **state)
{
    (void)state;
    json_t *fits = load(S "esp8266-fits.elf");
    json_object_set_new(fits, "frozen", json_pack("{s:i,s:[{s:s,s:i},{s:s,s:i}]}", "total", 300, "modules", "name",
                                                  "net/wifi.py", "bytes", 200, "name", "app.py", "bytes", 100));
    fs_budget_result r;
    assert_int_equal(evaluate("[budget]\nboard = esp8266-2m\n[budget frozen]\nmax = 300\nmodule.net/wifi.py = 200\n",
                              fits, NULL, &r), 0);
    assert_int_equal(r.nrules, 2);
    fs_budget_result_free(&r);
    assert_int_equal(evaluate("[budget]\nboard = esp8266-2m\n[budget frozen]\nmax = 299\nmodule.net/wifi.py = 199\n"
                              "module.gone.py = 5\n", fits, NULL, &r), 2);
    assert_int_equal(r.skipped, 1);
    fs_budget_result_free(&r);
    json_decref(fits);
}

static void expect_bad(const char *text, const char *want)
{
    fs_budget b;
    fs_error err;
    char *path;
    assert_int_equal(load_text(text, &b, &err, &path), -1);
    char full[600];
    snprintf(full, sizeof full, "%s%s", path, want);
    if (!strstr(err.msg, want[0] == ':' ? full : want))
        fail_msg("wanted '%s' in '%s'", want[0] == ':' ? full : want, err.msg);
    unlink(path);
    free(path);
}

static void test_bad_files(void **state)
{
    (void)state;
    expect_bad("[budget]\nboard = x\nmax = 10\ncolour = red\n", ":4: unknown key 'colour' in [budget]");
    expect_bad("[budget]\nboard = x\nmax = 12Q\n", ":3: bad value for 'max'");
    expect_bad("[budget]\nboard = x\nwarn_percent = 150\n", ":3: bad value for 'warn_percent'");
    expect_bad("[budget]\nboard = x\nwarn_percent = lots\n", ":3: bad value for 'warn_percent'");
    expect_bad("; budgets\n\n[budget]\nmax = 10\n", ":3: missing 'board = NAME' in [budget]");
    expect_bad("[budget region irom0_0_seg]\nmax = 10\n", ":1: missing 'board = NAME'");
    expect_bad("[budget]\nboard = x\nmax = 1\nmax = 2\n", ":4: 'max' given twice in [budget]");
    expect_bad("[budget]\nboard = x\n[budget frozen]\nmodule. = 3\n", ":4: unknown key 'module.'");
    expect_bad("[budget]\nboard = x\n[budget symbols]\nnew_symbols = 3\n", ":4: unknown key 'new_symbols'");
    expect_bad("[budgets]\nboard = x\n", ":2: unknown section [budgets]");
    expect_bad("board = x\n", ":1: key 'board' outside any [section]");
    expect_bad("[budget]\nthis is not a key\n", ":2: syntax error");
    fs_budget b;
    fs_error err;
    assert_int_equal(fs_budget_load("/nonexistent/b.ini", &b, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/b.ini: cannot open"));
    assert_int_equal(fs_budget_load("tests", &b, &err), -1);
    assert_string_equal(err.msg, "tests: not a regular file");

    /* the 1 MiB file cap: one byte over is refused, exactly at it loads */
    size_t cap = 1u << 20;
    char *big = malloc(cap + 2), want[600], *bigpath;
    assert_non_null(big);
    memset(big, '\n', cap + 1);
    big[cap + 1] = '\0';
    memcpy(big, "[budget]\nboard = x\n", 19);
    assert_int_equal(load_text(big, &b, &err, &bigpath), -1);
    snprintf(want, sizeof want, "%s: file is 1048577 bytes, larger than the 1048576-byte limit", bigpath);
    assert_string_equal(err.msg, want);
    unlink(bigpath);
    free(bigpath);
    big[cap] = '\0';
    if (load_text(big, &b, &err, &bigpath) != 0)
        fail_msg("%s", err.msg);
    assert_string_equal(b.board, "x");
    fs_budget_free(&b);
    unlink(bigpath);
    free(bigpath);
    free(big);

    /* a rule for a region the analysis lacks is an input error */
    json_t *fits = load(S "esp8266-fits.elf");
    char *path;
    assert_int_equal(load_text("[budget]\nboard = esp8266-2m\n[budget region FLASH]\nmax = 1\n", &b, &err, &path), 0);
    fs_budget_result r;
    assert_int_equal(fs_budget_check(&b, fits, NULL, &r, &err), -1);
    assert_non_null(strstr(err.msg, "the analysis has no region 'FLASH'"));
    fs_budget_free(&b);
    unlink(path);
    free(path);
    json_decref(fits);

    /* the shipped example loads */
    assert_int_equal(fs_budget_load("rules/budgets/esp8266-2m.ini", &b, &err), 0);
    assert_string_equal(b.board, "esp8266-2m");
    assert_int_equal(b.regions[0].max, 1024 * 1024 - 36 * 1024 - 32 * 1024);
    fs_budget_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_region_boundary), cmocka_unit_test(test_growth_boundary),
        cmocka_unit_test(test_frozen_rules),    cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
