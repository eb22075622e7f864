/*
 * test_retained.c - retained sizes outside `flashsize top`: the analysis's
 * "retained" part, the PR-comment / diff rule for new symbols that keep
 * much alive, and cut candidates of every kind.
 *
 * Ground truth:
 *   - samples/refgraph: the `size -A` listings (build/NAME.size) of the full
 *     build and of the relink without feature_compress; their difference in
 *     allocated bytes is what feature_compress retains;
 *   - samples/frozen: the generator's .sizes sidecar (bytes per module) and
 *     the one IRAM object, fun_data_pkg_sensor_util_read (40 bytes, nm);
 *   - samples/build/esp8266-fits.map: the map's per-object input sections.
 * The diff rule is checked on documents built here, where every input is
 * known.
 */
#include "testutil.h"

#include "analysis.h"
#include "diff.h"
#include "elfread.h"
#include "frozen.h"
#include "mapfile.h"
#include "refgraph.h"

#include <string.h>

#define RG "samples/refgraph/build/"

/* Σ sizes of allocated sections (address != 0) in a `size -A` listing. */
static uint64_t alloc_total(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "awk '$1 ~ /^\\./ && $3 != 0 { s += $2 } END { print s }' " RG "%s.size", name);
    char *out = tu_run(cmd);
    uint64_t v = strtoull(out, NULL, 10);
    free(out);
    return v;
}

static json_t *analysis_doc(const char *elf)
{
    fs_analysis_opts o = {.elf = elf, .rules_dir = "rules", .retained = fs_retained_for_analysis};
    fs_analysis a;
    fs_error err;
    if (fs_analysis_run(&o, &a, &err) != 0)
        fail_msg("%s", err.msg);
    json_t *doc = fs_analysis_json(&a);
    fs_analysis_free(&a);
    assert_non_null(doc);
    return doc;
}

static const json_t *find_sym(const json_t *arr, const char *name)
{
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
            return e;
    }
    return NULL;
}

/* ---- the analysis's "retained" part ------------------------------------------------ */

static void test_analysis_retained(void **state)
{
    (void)state;
    static const char *const archs[] = {"thumb", "xtensa", "xtensa-lc", "x86_64"};
    for (size_t k = 0; k < 4; k++) {
        char path[128], none[64];
        snprintf(path, sizeof path, RG "%s.elf", archs[k]);
        snprintf(none, sizeof none, "%s-nocompress", archs[k]);
        json_t *doc = analysis_doc(path);
        const json_t *r = json_object_get(doc, "retained");
        assert_true(json_is_string(json_object_get(r, "method")));
        assert_int_equal(json_integer_value(json_object_get(r, "total")), alloc_total(archs[k]));
        const json_t *syms = json_object_get(r, "symbols");
        assert_true(json_array_size(syms) > 0 && json_array_size(syms) <= FS_RETAINED_TOP);
        const json_t *fc = find_sym(syms, "feature_compress");
        assert_non_null(fc);
        assert_int_equal(json_integer_value(json_object_get(fc, "retained")), alloc_total(archs[k]) - alloc_total(none));
        /* largest first */
        for (size_t i = 1; i < json_array_size(syms); i++)
            assert_true(json_integer_value(json_object_get(json_array_get(syms, i - 1), "retained")) >=
                        json_integer_value(json_object_get(json_array_get(syms, i), "retained")));
        json_decref(doc);
    }
}

static void test_analysis_retained_skipped(void **state)
{
    (void)state;
    json_t *doc = analysis_doc("samples/build/esp8266-fits-stripped.elf");
    const json_t *r = json_object_get(doc, "retained");
    assert_true(json_is_null(json_object_get(r, "method")));
    assert_string_equal(json_string_value(json_object_get(r, "skipped")), "no symbol table");
    assert_int_equal(json_array_size(json_object_get(r, "symbols")), 0);
    json_decref(doc);
}

/* ---- diff: new symbols that keep much alive ---------------------------------------- */

static void test_diff_refgraph_pair(void **state)
{
    (void)state;
    json_t *a = analysis_doc(RG "thumb-nocompress.elf"), *b = analysis_doc(RG "thumb.elf");
    fs_diff d;
    fs_error err;
    assert_int_equal(fs_diff_compute(a, b, "thumb", &d, &err), 0);
    /* feature_compress and the three symbols only it keeps are new; only it is named */
    assert_int_equal(d.nretained_new, 1);
    assert_string_equal(d.retained_new[0].name, "feature_compress");
    assert_int_equal(d.retained_new[0].b, alloc_total("thumb") - alloc_total("thumb-nocompress"));
    assert_int_equal(d.retained_new[0].b, 276);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(fs_diff_write_markdown(f, &d, 1, 20), 0);
    fclose(f);
    assert_non_null(strstr(buf, "- **new: feature\\_compress keeps 276 B alive**\n"));
    free(buf);
    f = open_memstream(&buf, &len);
    assert_int_equal(fs_diff_write_json(f, &d, 1, 0), 0);
    fclose(f);
    json_t *j = json_loads(buf, 0, NULL);
    const json_t *rn = json_object_get(json_array_get(json_object_get(j, "boards"), 0), "retained_new");
    assert_int_equal(json_array_size(rn), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rn, 0), "retained")), 276);
    json_decref(j);
    free(buf);
    fs_diff_free(&d);
    /* the other way round nothing is new */
    assert_int_equal(fs_diff_compute(b, a, "thumb", &d, &err), 0);
    assert_int_equal(d.nretained_new, 0);
    fs_diff_free(&d);
    json_decref(a);
    json_decref(b);
}

/* A head retained list of 14 entries over a base that has "old" only. */
static void test_diff_rule(void **state)
{
    (void)state;
    json_t *a = analysis_doc(RG "thumb.elf");
    json_t *b = json_deep_copy(a);
    json_object_set_new(a, "retained", json_pack("{s:s,s:[{s:s,s:i,s:i}]}", "method", "capstone", "symbols", "name",
                                                 "old", "size", 8, "retained", 9000));
    json_t *list = json_array();
    json_array_append_new(list, json_pack("{s:s,s:i,s:i,s:n}", "name", "old", "size", 8, "retained", 9000, "dominator"));
    json_array_append_new(list, json_pack("{s:s,s:i,s:i,s:s}", "name", "top_new", "size", 4, "retained", 600,
                                          "dominator", "old"));       /* rank 1 < 10: named */
    json_array_append_new(list, json_pack("{s:s,s:i,s:i,s:s}", "name", "under_new", "size", 4, "retained", 500,
                                          "dominator", "top_new"));   /* dominated by a new one: not */
    json_array_append_new(list, json_pack("{s:i,s:i}", "size", 4, "retained", 400)); /* no name: ignored */
    for (int i = 0; i < 8; i++) {
        char n[16];
        snprintf(n, sizeof n, "Reset_Handler"); /* in A's symbols: old */
        json_array_append_new(list, json_pack("{s:s,s:i,s:i,s:n}", "name", n, "size", 4, "retained", 300, "dominator"));
    }
    json_array_append_new(list, json_pack("{s:s,s:i,s:i,s:s}", "name", "big_late", "size", 4, "retained", 1024,
                                          "dominator", "[.text+0x10]")); /* rank 12, >= 1 KiB: named */
    json_array_append_new(list, json_pack("{s:s,s:i,s:i,s:s}", "name", "small_late", "size", 4, "retained", 1023,
                                          "dominator", "old"));        /* rank 13, < 1 KiB: not */
    json_object_set_new(b, "retained", json_pack("{s:s,s:o}", "method", "capstone", "symbols", list));
    fs_diff d;
    fs_error err;
    assert_int_equal(fs_diff_compute(a, b, "x", &d, &err), 0);
    assert_int_equal(d.nretained_new, 2);
    assert_string_equal(d.retained_new[0].name, "top_new");
    assert_int_equal(d.retained_new[0].b, 600);
    assert_int_equal(d.retained_new[0].a, 4);
    assert_string_equal(d.retained_new[1].name, "big_late");
    assert_int_equal(d.retained_new[1].b, 1024);
    fs_diff_free(&d);
    /* a base whose graph was skipped (or an older document): nothing is new */
    json_object_set_new(a, "retained", json_pack("{s:n,s:s,s:[]}", "method", "skipped", "no symbol table", "symbols"));
    assert_int_equal(fs_diff_compute(a, b, "x", &d, &err), 0);
    assert_int_equal(d.nretained_new, 0);
    fs_diff_free(&d);
    json_object_del(a, "retained");
    assert_int_equal(fs_diff_compute(a, b, "x", &d, &err), 0);
    assert_int_equal(d.nretained_new, 0);
    fs_diff_free(&d);
    /* a hostile head list: not an array of objects */
    json_object_set_new(a, "retained", json_pack("{s:s,s:[i,s,[]]}", "method", "x", "symbols", 1, "a"));
    json_object_set_new(b, "retained", json_pack("{s:s,s:[i,{s:i},{s:s,s:s}]}", "method", "x", "symbols", 3, "name", 5,
                                                 "name", "fresh", "retained", "lots"));
    assert_int_equal(fs_diff_compute(a, b, "x", &d, &err), 0);
    assert_int_equal(d.nretained_new, 1); /* "fresh" at rank 2, its retained unreadable: 0 */
    assert_int_equal(d.retained_new[0].b, 0);
    fs_diff_free(&d);
    json_decref(a);
    json_decref(b);
}

/* ---- cut candidates ------------------------------------------------------------------ */

typedef struct cutctx {
    fs_image img;
    fs_refgraph g;
    fs_report rep;
    fs_board board;
    fs_frozen fz;
    fs_mapfile map;
    int region;
} cutctx;

static void cut_open(cutctx *c, const char *elf, const char *map)
{
    fs_error err;
    memset(c, 0, sizeof *c);
    if (fs_elf_load(elf, &c->img, &err) != 0 || fs_refgraph_build_file(&c->img, NULL, &c->g, &err) != 0 ||
        fs_board_load("rules", "esp8266-2m", &c->board, &err) != 0)
        fail_msg("%s", err.msg);
    fs_analyze_opts ao = {NULL, NULL, &c->board, 0};
    if (fs_analyze(&c->img, &ao, &c->rep, &err) != 0 || fs_frozen_analyze_file(&c->img, &c->fz, &err) != 0)
        fail_msg("%s", err.msg);
    if (map && fs_mapfile_load(map, &c->map, &err) != 0)
        fail_msg("%s", err.msg);
    c->region = fs_memmap_find(&c->rep.map, "irom0_0_seg");
    assert_true(c->region >= 0);
}

static void cut_close(cutctx *c)
{
    fs_mapfile_free(&c->map);
    fs_frozen_free(&c->fz);
    fs_report_free(&c->rep);
    fs_board_free(&c->board);
    fs_refgraph_free(&c->g);
    fs_image_free(&c->img);
}

static const fs_cut_item *ranked(const fs_cut *cut, fs_cut_kind k, const char *name)
{
    for (size_t i = 0; i < cut->nranked; i++)
        if (cut->ranked[i].kind == k && strcmp(cut->ranked[i].name, name) == 0)
            return &cut->ranked[i];
    return NULL;
}

static void test_cut_frozen(void **state)
{
    (void)state;
    cutctx c;
    cut_open(&c, "samples/frozen/build/esp8266-frozen.elf", NULL);
    fs_cut_sources src = {&c.fz, NULL};
    fs_cut cut;
    fs_error err;
    uint64_t used = c.rep.map.regions[c.region].used;
    assert_int_equal(fs_refgraph_cut_from(&c.g, &c.rep, c.region, used - 440, &src, &cut, &err), 0);
    assert_int_equal(cut.ncandidates[FS_CUT_MODULE], 6);
    /* the .sizes sidecar: module main.py 309, net/wifi.py 553, pkg/__init__.py 68,
     * pkg/sensor_util.py 486 (40 of them in IRAM), str boot.py 186, webrepl_cfg.py 49 */
    static const struct { const char *name; uint64_t bytes, iram; } want[] = {
        {"main.py", 309, 0}, {"net/wifi.py", 553, 0}, {"pkg/__init__.py", 68, 0},
        {"pkg/sensor_util.py", 486, 40}, {"boot.py", 186, 0}, {"webrepl_cfg.py", 49, 0}};
    for (size_t i = 0; i < 6; i++) {
        const fs_cut_item *it = ranked(&cut, FS_CUT_MODULE, want[i].name);
        assert_non_null(it);
        assert_int_equal(it->retained, want[i].bytes);
        assert_int_equal(it->saved, want[i].bytes - want[i].iram);
    }
    assert_int_equal(cut.nitems, 1);
    assert_int_equal(cut.items[0].kind, FS_CUT_MODULE);
    assert_string_equal(cut.items[0].name, "pkg/sensor_util.py");
    assert_true(cut.fits);
    fs_cut_free(&cut);
    /* 1000 over: the modules, never the table they hang off (mp_frozen_mpy_content)
     * nor a module's own objects: net/wifi.py (553) first, then the smallest cover */
    assert_int_equal(fs_refgraph_cut_from(&c.g, &c.rep, c.region, used - 1000, &src, &cut, &err), 0);
    assert_true(cut.fits);
    assert_true(cut.nitems >= 2);
    bool wifi = false;
    for (size_t i = 0; i < cut.nitems; i++) {
        wifi |= cut.items[i].kind == FS_CUT_MODULE && strcmp(cut.items[i].name, "net/wifi.py") == 0;
        assert_false(strcmp(cut.items[i].name, "mp_frozen_mpy_content") == 0);
        assert_false(strncmp(cut.items[i].name, "frozen_module_", 14) == 0);
    }
    for (size_t i = 0; i < cut.nranked; i++)
        assert_false(cut.ranked[i].kind == FS_CUT_SYMBOL &&
                     (strcmp(cut.ranked[i].name, "mp_frozen_mpy_content") == 0 ||
                      strncmp(cut.ranked[i].name, "frozen_module_", 14) == 0));
    assert_true(wifi);
    fs_cut_free(&cut);
    cut_close(&c);
}

static void test_cut_objects(void **state)
{
    (void)state;
    cutctx c;
    cut_open(&c, "samples/build/esp8266-fits.elf", "samples/build/esp8266-fits.map");
    fs_cut_sources src = {NULL, &c.map};
    fs_cut cut;
    fs_error err;
    assert_int_equal(fs_refgraph_cut_from(&c.g, &c.rep, c.region, c.rep.map.regions[c.region].used, &src, &cut, &err), 0);
    assert_int_equal(cut.need, 0);
    assert_int_equal(cut.nitems, 0);
    /* own bytes = the map's irom0 breakdown of that object */
    int r = fs_memmap_find(&c.map.map, "irom0_0_seg");
    fs_map_contrib *rows;
    fs_map_region_rest rest;
    long n = fs_mapfile_region_objects(&c.map, r, &rows, &rest);
    assert_true(n > 40);
    size_t compared = 0;
    for (long i = 0; i < n; i++) {
        const fs_cut_item *it = ranked(&cut, FS_CUT_OBJECT, rows[i].name);
        if (!it)
            continue; /* holds a root */
        assert_int_equal(it->own, rows[i].bytes);
        assert_true(it->saved >= it->own);
        compared++;
    }
    free(rows);
    assert_int_equal(compared, cut.ncandidates[FS_CUT_OBJECT] - 1); /* modregistry.o has no irom0 row */
    assert_null(ranked(&cut, FS_CUT_OBJECT, "build/obj/xtensa/ports/esp8266/vectors.o"));
    const fs_cut_item *reg = ranked(&cut, FS_CUT_OBJECT, "build/obj/xtensa/esp8266-fits/ports/esp8266/modregistry.o");
    const fs_cut_item *tab = ranked(&cut, FS_CUT_SYMBOL, "fw_module_table");
    assert_non_null(reg);
    assert_non_null(tab);
    assert_int_equal(reg->own, 0);
    assert_int_equal(reg->saved, tab->saved);
    fs_cut_free(&cut);
    cut_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_analysis_retained), cmocka_unit_test(test_analysis_retained_skipped),
        cmocka_unit_test(test_diff_refgraph_pair), cmocka_unit_test(test_diff_rule),
        cmocka_unit_test(test_cut_frozen),        cmocka_unit_test(test_cut_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
