/*
 * test_diff.c - diffs between sample firmwares against the toolchain.
 *
 * Ground truth:
 *   - the irom0 delta: the difference of the two .irom0.text sizes that
 *     `xtensa-lx106-elf-size -A` prints;
 *   - symbol changes: `xtensa-lx106-elf-nm -S` of both files, sizes summed
 *     per name, every name whose total changed (added, removed, grown,
 *     shrunk) compared one by one with the diff's list;
 *   - findings: the samples' documented conditions (nearfull has the
 *     region-headroom warning, irom0-overflow the irom0-overflow error).
 * Also: an ELF, its JSON file and its stored build give the same document.
 */
#include "testutil.h"

#include "diff.h"
#include "store.h"

#define S "samples/build/"

static uint64_t size_a(const char *elf, const char *section)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "xtensa-lx106-elf-size -A %s | awk '$1 == \"%s\" { print $2 }'", elf, section);
    char *out = tu_run(cmd);
    assert_non_null(out);
    uint64_t v = strtoull(out, NULL, 10);
    free(out);
    assert_true(v > 0);
    return v;
}

typedef struct nmsym {
    char name[256];
    uint64_t size;
} nmsym;

static int nmsym_cmp(const void *a, const void *b)
{
    return strcmp(((const nmsym *)a)->name, ((const nmsym *)b)->name);
}

/* nm -S: sizes summed per name, sorted by name. */
static nmsym *nm_sizes(const char *elf, size_t *n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "xtensa-lx106-elf-nm -S %s | awk 'NF == 4 { print $2, $4 }'", elf);
    char *out = tu_run(cmd);
    assert_non_null(out);
    size_t cap = 4096, k = 0;
    nmsym *v = malloc(cap * sizeof *v);
    char *save, *line = strtok_r(out, "\n", &save);
    for (; line; line = strtok_r(NULL, "\n", &save)) {
        char hex[32];
        assert_int_equal(sscanf(line, "%31s %255s", hex, v[k].name), 2);
        v[k].size = strtoull(hex, NULL, 16);
        if (v[k].size && ++k == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
    }
    free(out);
    qsort(v, k, sizeof *v, nmsym_cmp);
    size_t o = 0;
    for (size_t i = 0; i < k; i++) {
        if (o && strcmp(v[o - 1].name, v[i].name) == 0)
            v[o - 1].size += v[i].size;
        else
            v[o++] = v[i];
    }
    *n = o;
    return v;
}

static const nmsym *nm_find(const nmsym *v, size_t n, const char *name)
{
    nmsym key;
    snprintf(key.name, sizeof key.name, "%s", name);
    return bsearch(&key, v, n, sizeof *v, nmsym_cmp);
}

static json_t *load(const char *spec, const char *board, const char *db)
{
    fs_input_opts o = {db, board, "rules"};
    json_t *doc;
    char *label;
    fs_error err;
    if (fs_input_load(spec, &o, &doc, &label, &err) != 0)
        fail_msg("%s", err.msg);
    free(label);
    return doc;
}

static void diff_files(const char *a, const char *b, fs_diff *d)
{
    json_t *ja = load(a, "esp8266-2m", NULL), *jb = load(b, "esp8266-2m", NULL);
    fs_error err;
    assert_int_equal(fs_diff_compute(ja, jb, "esp8266-2m", d, &err), 0);
    json_decref(ja);
    json_decref(jb);
}

static const fs_delta *find_delta(const fs_delta *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

/* Every symbol change of d (ea -> eb) against nm -S of both: before, after,
 * kind of change, and the net. */
static void check_symbol_changes(const char *ea, const char *eb, const fs_diff *d)
{
    size_t na, nb;
    nmsym *va = nm_sizes(ea, &na), *vb = nm_sizes(eb, &nb);
    size_t changed = 0, added = 0;
    int64_t net = 0;
    for (size_t i = 0; i < nb; i++) {
        const nmsym *x = nm_find(va, na, vb[i].name);
        if (x && x->size == vb[i].size)
            continue;
        changed++;
        added += !x;
        net += (int64_t)(vb[i].size - (x ? x->size : 0));
        const fs_delta *e = find_delta(d->symbols, d->nsymbols, vb[i].name);
        if (!e)
            fail_msg("symbol %s changed per nm but not in the diff", vb[i].name);
        assert_int_equal(e->a, x ? x->size : 0);
        assert_int_equal(e->b, vb[i].size);
        assert_int_equal(e->change, x ? (vb[i].size > x->size ? FS_CHANGE_GROWN : FS_CHANGE_SHRUNK) : FS_CHANGE_ADDED);
    }
    for (size_t i = 0; i < na; i++)
        if (!nm_find(vb, nb, va[i].name)) {
            changed++;
            net -= (int64_t)va[i].size;
            const fs_delta *e = find_delta(d->symbols, d->nsymbols, va[i].name);
            assert_non_null(e);
            assert_int_equal(e->change, FS_CHANGE_REMOVED);
            assert_int_equal(e->a, va[i].size);
            assert_int_equal(e->b, 0);
            assert_int_equal(e->delta, -(int64_t)va[i].size);
        }
    assert_int_equal(d->nsymbols, changed);
    assert_int_equal(d->added, added);
    assert_int_equal(d->symbols_net, net);
    assert_true(changed > 10);
    /* sorted by |delta|, then name */
    for (size_t i = 1; i < d->nsymbols; i++) {
        uint64_t p = (uint64_t)llabs(d->symbols[i - 1].delta), q = (uint64_t)llabs(d->symbols[i].delta);
        assert_true(p > q || (p == q && strcmp(d->symbols[i - 1].name, d->symbols[i].name) < 0));
    }
    free(va);
    free(vb);
}

static void test_fits_to_nearfull(void **state)
{
    (void)state;
    fs_diff d;
    diff_files(S "esp8266-fits.elf", S "esp8266-nearfull.elf", &d);
    uint64_t ia = size_a(S "esp8266-fits.elf", ".irom0.text"), ib = size_a(S "esp8266-nearfull.elf", ".irom0.text");

    assert_true(d.main_region >= 0);
    const fs_delta *r = &d.regions[d.main_region];
    assert_string_equal(r->name, "irom0_0_seg");
    assert_int_equal(r->delta, (int64_t)(ib - ia));
    assert_int_equal(r->b, ib); /* irom0 starts at the region's origin */
    const fs_delta *sec = find_delta(d.sections, d.nsections, ".irom0.text");
    assert_non_null(sec);
    assert_int_equal(sec->a, ia);
    assert_int_equal(sec->b, ib);
    assert_int_equal(d.nsections, 1); /* nothing else allocated changed */

    check_symbol_changes(S "esp8266-fits.elf", S "esp8266-nearfull.elf", &d);

    /* the headroom warning appeared, nothing cleared, still a pass */
    assert_int_equal(d.nappeared, 1);
    assert_string_equal(d.appeared[0].id, "region-headroom");
    assert_int_equal(d.ncleared, 0);
    assert_true(fs_diff_pass(&d));

    /* the PR comment */
    char *md = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&md, &len);
    assert_int_equal(fs_diff_write_markdown(f, &d, 1, 5), 0);
    fclose(f);
    assert_int_equal(strncmp(md, "<!-- flashsize-report -->\n", 26), 0);
    char want[160];
    snprintf(want, sizeof want, "- esp8266-2m: irom0 +%llu,%03llu B (+%.2f%%) %.1f%% used\n",
             (unsigned long long)(ib - ia) / 1000, (unsigned long long)(ib - ia) % 1000,
             (double)(ib - ia) * 100.0 / (double)ia, (double)ib * 100.0 / 1011712.0);
    if (!strstr(md, want))
        fail_msg("markdown lacks '%s':\n%s", want, md);
    assert_non_null(strstr(md, "- **new warning `region-headroom`"));
    assert_non_null(strstr(md, "<details>"));
    assert_non_null(strstr(md, "**Result: pass**"));
    /* the same inputs, the same bytes */
    char *md2 = NULL;
    f = open_memstream(&md2, &len);
    fs_diff_write_markdown(f, &d, 1, 5);
    fclose(f);
    assert_string_equal(md, md2);
    free(md);
    free(md2);
    fs_diff_free(&d);
}

/* The other way round: what grew shrinks, what was added is removed, the
 * net is negative (nm -S again), and the deltas are the first diff's
 * negated, name by name. */
static void test_nearfull_to_fits(void **state)
{
    (void)state;
    fs_diff d, r;
    diff_files(S "esp8266-nearfull.elf", S "esp8266-fits.elf", &d);
    diff_files(S "esp8266-fits.elf", S "esp8266-nearfull.elf", &r);
    check_symbol_changes(S "esp8266-nearfull.elf", S "esp8266-fits.elf", &d);
    assert_true(d.symbols_net < 0);
    assert_int_equal(d.symbols_net, -r.symbols_net);
    assert_int_equal(d.removed, r.added);
    assert_true(d.removed > 0 && d.shrunk > 0);
    assert_int_equal(d.nsymbols, r.nsymbols);
    for (size_t i = 0; i < d.nsymbols; i++) {
        const fs_delta *e = find_delta(r.symbols, r.nsymbols, d.symbols[i].name);
        assert_non_null(e);
        assert_int_equal(d.symbols[i].delta, -e->delta);
    }
    fs_diff_free(&d);
    fs_diff_free(&r);
}

static void test_findings_and_fail(void **state)
{
    (void)state;
    fs_diff d;
    diff_files(S "esp8266-nearfull.elf", S "esp8266-fits.elf", &d);
    assert_int_equal(d.nappeared, 0);
    assert_int_equal(d.ncleared, 1);
    assert_string_equal(d.cleared[0].id, "region-headroom");
    assert_true(d.regions[d.main_region].delta < 0);
    fs_diff_free(&d);

    json_t *a = load(S "esp8266-fits.elf", NULL, NULL), *b = load(S "esp8266-irom0-overflow.elf", NULL, NULL);
    fs_error err;
    assert_int_equal(fs_diff_compute(a, b, "esp8266-1m", &d, &err), 0);
    assert_false(fs_diff_pass(&d));
    assert_non_null(d.appeared);
    bool overflow = false;
    for (size_t i = 0; i < d.nappeared; i++)
        overflow |= strcmp(d.appeared[i].id, "irom0-overflow") == 0 && strcmp(d.appeared[i].severity, "error") == 0;
    assert_true(overflow);
    char *md = NULL;
    size_t len;
    FILE *f = open_memstream(&md, &len);
    fs_diff_write_markdown(f, &d, 1, 0);
    fclose(f);
    assert_non_null(strstr(md, "**Result: fail**"));
    assert_non_null(strstr(md, "- **new error `irom0-overflow`"));
    free(md);
    fs_diff_free(&d);
    json_decref(a);
    json_decref(b);
}

static void test_frozen(void **state)
{
    (void)state;
    json_t *a = load(S "esp8266-fits.elf", NULL, NULL);
    json_t *b = json_deep_copy(a);
    json_object_set_new(a, "frozen", json_pack("{s:i,s:[{s:s,s:i},{s:s,s:i}]}", "total", 300, "modules", "name",
                                               "net/wifi.py", "bytes", 200, "name", "app.py", "bytes", 100));
    json_object_set_new(b, "frozen", json_pack("{s:i,s:[{s:s,s:i},{s:s,s:i}]}", "total", 330, "modules", "name",
                                               "net/wifi.py", "bytes", 250, "name", "new.py", "bytes", 80));
    fs_error err;
    assert_int_equal(fs_analysis_validate(a, "a", &err), 0);
    fs_diff d;
    assert_int_equal(fs_diff_compute(a, b, "x", &d, &err), 0);
    assert_true(d.has_frozen);
    assert_int_equal(d.nfrozen, 3);
    assert_string_equal(d.frozen[0].name, "app.py");
    assert_int_equal(d.frozen[0].change, FS_CHANGE_REMOVED);
    assert_string_equal(d.frozen[1].name, "net/wifi.py"); /* sorted by name */
    assert_int_equal(d.frozen[1].delta, 50);
    assert_int_equal(d.frozen[2].change, FS_CHANGE_ADDED);
    assert_int_equal(d.frozen[2].delta, 80);
    assert_int_equal(d.nsymbols, 0);
    fs_diff_free(&d);
    json_decref(a);
    json_decref(b);
}

/* An ELF, the JSON file written from it and the build stored from it are
 * the same document. */
static void test_inputs_agree(void **state)
{
    (void)state;
    json_t *elf = load(S "esp8266-nearfull.elf", "esp8266-2m", NULL);
    char *text = json_dumps(elf, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    char *path = tu_tmpfile(text, strlen(text));
    free(text);
    json_t *file = load(path, NULL, NULL);
    assert_true(json_equal(elf, file));

    char *db = tu_tmpfile("", 0);
    unlink(db);
    fs_store *s;
    fs_error err;
    assert_int_equal(fs_store_open(db, NULL, &s, &err), 0);
    fs_build_meta m = {"mpy", "esp8266-2m", "abcdef12", NULL, NULL, 0, 0};
    int64_t id;
    assert_int_equal(fs_store_record(s, file, &m, &id, &err), 0);
    fs_store_close(s);
    json_t *stored = load("build:1", NULL, db);
    assert_true(json_equal(elf, stored));
    json_decref(stored);
    stored = load("commit:abcdef@esp8266-2m", NULL, db);
    assert_true(json_equal(elf, stored));
    json_decref(stored);

    /* bad inputs name the problem */
    fs_input_opts o = {db, NULL, "rules"};
    json_t *doc;
    char *label;
    assert_int_equal(fs_input_load("build:7", &o, &doc, &label, &err), -1);
    assert_non_null(strstr(err.msg, "no build 7"));
    assert_int_equal(fs_input_load("/nonexistent.json", &o, &doc, &label, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent.json: cannot open"));
    char *junk = tu_tmpfile("\177ELF\1\1\1", 7);
    assert_int_equal(fs_input_load(junk, &o, &doc, &label, &err), -1);
    assert_non_null(strstr(err.msg, junk));
    unlink(junk);
    free(junk);
    char side[600];
    snprintf(side, sizeof side, "rm -f '%s' '%s-wal' '%s-shm'", db, db, db);
    assert_int_equal(system(side), 0);
    unlink(path);
    free(path);
    free(db);
    json_decref(elf);
    json_decref(file);
}

static void test_format_numbers(void **state)
{
    (void)state;
    char b[40];
    fs_fmt_bytes(b, sizeof b, 0);
    assert_string_equal(b, "0");
    fs_fmt_bytes(b, sizeof b, 999);
    assert_string_equal(b, "999");
    fs_fmt_bytes(b, sizeof b, 1284);
    assert_string_equal(b, "1,284");
    fs_fmt_bytes(b, sizeof b, 1011712);
    assert_string_equal(b, "1,011,712");
    fs_fmt_delta(b, sizeof b, -72);
    assert_string_equal(b, "-72");
    fs_fmt_delta(b, sizeof b, 1284);
    assert_string_equal(b, "+1,284");
    fs_fmt_delta(b, sizeof b, INT64_MIN);
    assert_string_equal(b, "-9,223,372,036,854,775,808");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fits_to_nearfull), cmocka_unit_test(test_nearfull_to_fits),
        cmocka_unit_test(test_findings_and_fail),
        cmocka_unit_test(test_frozen),           cmocka_unit_test(test_inputs_agree),
        cmocka_unit_test(test_format_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
