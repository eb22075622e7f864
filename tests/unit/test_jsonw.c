/*
 * test_jsonw.c - the JSON writer (analyzer/jsonw.c) and the streamed
 * analysis document (fs_output_json) against their ground truth: jansson's
 * own json_dumps of the same values, byte for byte.
 *
 *   - hand-made values covering every type, empty and nested containers,
 *     every control character, quotes, backslashes, UTF-8, integer limits
 *     and reals with both precisions the reports use;
 *   - 2,000 random documents from a fixed seed;
 *   - 20,000 random strings (escapes and UTF-8 at every position of the
 *     writer's eight-byte steps) and one longer than its buffer;
 *   - JSON events (jemit.h) replayed from 2,000 random values into the
 *     tree sink and the streaming sink;
 *   - the whole analysis document of every sample (with its map where it has
 *     one), streamed by fs_output_json and dumped from fs_report_json.
 */
#include "testutil.h"

#include "analysis.h"
#include "jsonw.h"

#include <jansson.h>

/* What fs_jsonw_value writes for v at depth 0 (precision p). */
static char *written(const json_t *v, int p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fs_jsonw *w = malloc(sizeof *w);
    assert_non_null(w);
    fs_jsonw_init(w, f, p);
    fs_jsonw_value(w, v, 0);
    assert_int_equal(fs_jsonw_finish(w), 0);
    free(w);
    fclose(f);
    return buf;
}

static void expect_same(const json_t *v, int p)
{
    char *want = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(p));
    char *got = written(v, p);
    assert_non_null(want);
    assert_string_equal(got, want);
    free(want);
    free(got);
}

static void test_hand_made(void **state)
{
    (void)state;
    char ctl[40];
    for (int i = 0; i < 32; i++)
        ctl[i] = (char)(i + 1 == 32 ? 0x7f : i + 1); /* 0x01..0x1f, then DEL */
    memcpy(ctl + 32, "\"\\/\xc3\xa9", 6);             /* quote, backslash, slash, e-acute */
    json_t *v = json_pack("{s:s#, s:[], s:{}, s:[[], {}, [i, [i, {}]]], s:I, s:I, s:i, s:f, s:f, s:f, s:b, s:b, s:n}",
                          "ctl", ctl, (int)38, "empty array", "empty object", "nested", 1, 2, "max", (json_int_t)INT64_MAX,
                          "min", (json_int_t)INT64_MIN, "zero", 0, "pct", 60.73, "big", 1e21, "small", 1.5e-7,
                          "true", 1, "false", 0, "null");
    assert_non_null(v);
    expect_same(v, 10);
    expect_same(v, 0);
    json_t *deep = json_integer(7);
    for (int i = 0; i < 40; i++) /* deeper than the 32 spaces of one chunk */
        deep = json_pack("{s:o}", "d", deep);
    expect_same(deep, 10);
    json_decref(deep);
    json_decref(v);
    json_t *s = json_string("plain");
    expect_same(s, 10); /* a bare value, as the streamed document's members are */
    json_decref(s);
    /* integers at every change of their digit count and of their bit length */
    for (uint64_t up = 1, k = 0; k < 19; k++, up *= 10) /* up: 10^k, at most 10^19 (unsigned) */
        for (int64_t p = (int64_t)up, d = -1; d <= 1; d++) {
            json_t *iv = json_integer(p + d);
            expect_same(iv, 0);
            json_decref(iv);
            iv = json_integer(-(p + d));
            expect_same(iv, 0);
            json_decref(iv);
        }
    for (int b = 0; b < 63; b++) {
        json_t *iv = json_integer((json_int_t)((1ull << b) - 1));
        expect_same(iv, 0);
        json_decref(iv);
        iv = json_integer((json_int_t)(1ull << b));
        expect_same(iv, 0);
        json_decref(iv);
    }
}

/* A random value of at most depth levels from a simple generator. */
static json_t *random_value(unsigned *seed, int depth)
{
    int kind = rand_r(seed) % (depth > 0 ? 8 : 6);
    switch (kind) {
    case 0: return json_integer((json_int_t)rand_r(seed) * (rand_r(seed) % 2 ? 1 : -1048576));
    case 1: return json_real((double)rand_r(seed) / ((rand_r(seed) % 1000) + 1));
    case 2: {
        char s[24];
        size_t n = (size_t)(rand_r(seed) % (int)sizeof s);
        for (size_t i = 0; i < n; i++)
            s[i] = (char)(1 + rand_r(seed) % 127); /* ASCII, controls included */
        return json_stringn(s, n);
    }
    case 3: return json_true();
    case 4: return json_false();
    case 5: return json_null();
    case 6: {
        json_t *a = json_array();
        for (int i = rand_r(seed) % 4; i > 0; i--)
            json_array_append_new(a, random_value(seed, depth - 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (int i = rand_r(seed) % 4; i > 0; i--) {
            char key[8];
            snprintf(key, sizeof key, "k%d\t", rand_r(seed) % 50);
            json_object_set_new(o, key, random_value(seed, depth - 1));
        }
        return o;
    }
    }
}

static void test_random(void **state)
{
    (void)state;
    unsigned seed = 20261207;
    for (int i = 0; i < 2000; i++) {
        json_t *v = random_value(&seed, 4);
        expect_same(v, i % 2 ? 10 : 0);
        json_decref(v);
    }
}

/* A random string of n bytes: mostly letters, now and then a byte that
 * needs an escape (controls, quote, backslash) or a two-byte UTF-8
 * character, so that every position within and across the writer's
 * eight-byte steps gets one. */
static size_t random_string(unsigned *seed, char *s, size_t n)
{
    static const char special[] = "\"\\\x01\x1f\n\t\x7f/";
    size_t i = 0;
    while (i < n) {
        int r = rand_r(seed) % 16;
        if (r == 0 && i + 2 <= n) {
            s[i++] = '\xc3';
            s[i++] = (char)(0xa0 + rand_r(seed) % 16);
        } else if (r == 1) {
            s[i++] = special[rand_r(seed) % (int)(sizeof special - 1)];
        } else {
            s[i++] = (char)('a' + rand_r(seed) % 26);
        }
    }
    return i;
}

/* fs_jsonw_string and fs_jsonw_ascii against json_dumps on random strings
 * of 0 to 40 bytes, and on strings longer than the writer's buffer. */
static void test_strings(void **state)
{
    (void)state;
    unsigned seed = 7;
    for (int round = 0; round < 20000; round++) {
        char s[41];
        size_t n = random_string(&seed, s, (size_t)(rand_r(&seed) % 41));
        s[n] = '\0';
        json_t *v = json_stringn(s, n);
        assert_non_null(v);
        char *want = json_dumps(v, JSON_ENCODE_ANY);
        json_decref(v);
        char *got = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&got, &len);
        fs_jsonw *w = malloc(sizeof *w);
        assert_non_null(f);
        assert_non_null(w);
        fs_jsonw_init(w, f, 0);
        fs_jsonw_string(w, s, n);
        bool ascii = true;
        for (size_t i = 0; i < n; i++)
            ascii = ascii && (unsigned char)s[i] < 0x80;
        size_t before = w->len;
        assert_int_equal(fs_jsonw_ascii(w, s), ascii);
        if (!ascii)
            assert_int_equal(w->len, before); /* nothing written */
        assert_int_equal(fs_jsonw_finish(w), 0);
        free(w);
        fclose(f);
        size_t wl = strlen(want);
        assert_int_equal(len, ascii ? 2 * wl : wl);
        assert_memory_equal(got, want, wl);
        if (ascii)
            assert_memory_equal(got + wl, want, wl);
        free(got);
        free(want);
    }
    /* past the buffer: 100,000 bytes, every 7th one a quote */
    size_t n = 100000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++)
        big[i] = i % 7 ? 'x' : '"';
    big[n] = '\0';
    json_t *v = json_stringn(big, n);
    expect_same(v, 0);
    char *want = json_dumps(v, JSON_ENCODE_ANY);
    char *got = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&got, &len);
    fs_jsonw *w = malloc(sizeof *w);
    assert_non_null(w);
    fs_jsonw_init(w, f, 0);
    fs_jsonw_lit(w, "[");
    assert_true(fs_jsonw_ascii(w, big));
    assert_int_equal(fs_jsonw_finish(w), 0);
    fclose(f);
    assert_int_equal(len, strlen(want) + 1);
    assert_memory_equal(got + 1, want, strlen(want));
    free(got);
    free(want);
    free(w);
    free(big);
    json_decref(v);
}

/* Tell v as JSON events (jemit.h): strings as text, integers as integers,
 * containers opened and closed, anything else as a value. */
static void replay(fs_jemit *e, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        fs_jemit_open(e, false);
        for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
            fs_jemit_key(e, json_object_iter_key(it));
            replay(e, json_object_iter_value(it));
        }
        fs_jemit_close(e);
        return;
    }
    case JSON_ARRAY:
        fs_jemit_open(e, true);
        for (size_t i = 0; i < json_array_size(v); i++)
            replay(e, json_array_get(v, i));
        fs_jemit_close(e);
        return;
    case JSON_STRING: fs_jemit_text(e, json_string_value(v)); return;
    case JSON_INTEGER: fs_jemit_int(e, json_integer_value(v)); return;
    default: e->ops->value(e, json_incref((json_t *)v)); return;
    }
}

/* The streaming sink's text for the events of v, at nesting depth depth. */
static char *streamed(const json_t *v, unsigned depth, bool *failed)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fs_jsonw *w = malloc(sizeof *w);
    assert_non_null(f);
    assert_non_null(w);
    fs_jsonw_init(w, f, 10);
    fs_jsonw_emitter e;
    fs_jsonw_emitter_init(&e, w, depth);
    replay(&e.e, v);
    *failed = fs_jsonw_finish(w) < 0 || e.e.failed || e.depth != 0;
    free(w);
    fclose(f);
    return buf;
}

/* Both sinks of JSON events against json_dumps: 2,000 random values (keys
 * with tabs, strings with controls, empty and nested containers) through
 * the tree sink and the streaming one, at depth 0 and as a member at depth
 * 1; invalid UTF-8 as \xNN in both; unbalanced events fail. */
static void test_emitters(void **state)
{
    (void)state;
    unsigned seed = 99;
    for (int i = 0; i < 2000; i++) {
        json_t *v = random_value(&seed, 4);
        fs_jemit_tree t;
        fs_jemit_tree_init(&t);
        replay(&t.base, v);
        json_t *built = fs_jemit_tree_finish(&t);
        assert_non_null(built);
        assert_true(json_equal(built, v));
        char *want = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
        bool failed;
        char *got = streamed(v, 0, &failed);
        assert_false(failed);
        assert_string_equal(got, want);
        free(got);
        free(want);
        /* at depth 1, as fs_jsonw_value writes a member's value */
        got = streamed(v, 1, &failed);
        fs_jsonw *w = malloc(sizeof *w);
        char *ref = NULL;
        size_t rlen = 0;
        FILE *f = open_memstream(&ref, &rlen);
        fs_jsonw_init(w, f, 10);
        fs_jsonw_value(w, v, 1);
        assert_int_equal(fs_jsonw_finish(w), 0);
        fclose(f);
        assert_string_equal(got, ref);
        free(w);
        free(ref);
        free(got);
        json_decref(built);
        json_decref(v);
    }
    /* not UTF-8: each byte above 0x7f as the text \xNN, in both sinks */
    fs_jemit_tree t;
    fs_jemit_tree_init(&t);
    fs_jemit_open(&t.base, false);
    fs_jemit_kopen(&t.base, "k", true);
    fs_jemit_text(&t.base, "ok");
    fs_jemit_text(&t.base, "a\xff\xc3");
    fs_jemit_close(&t.base);
    fs_jemit_close(&t.base);
    json_t *built = fs_jemit_tree_finish(&t);
    assert_non_null(built);
    assert_string_equal(json_string_value(json_array_get(json_object_get(built, "k"), 1)), "a\\xff\\xc3");
    json_decref(built);
    /* unbalanced: a close too many, a key in an array, a container left open */
    fs_jemit_tree_init(&t);
    fs_jemit_open(&t.base, true);
    fs_jemit_close(&t.base);
    fs_jemit_close(&t.base);
    assert_null(fs_jemit_tree_finish(&t));
    fs_jemit_tree_init(&t);
    fs_jemit_open(&t.base, false);
    assert_null(fs_jemit_tree_finish(&t));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fs_jsonw *w = malloc(sizeof *w);
    fs_jsonw_init(w, f, 0);
    fs_jsonw_emitter e;
    fs_jsonw_emitter_init(&e, w, 0);
    fs_jemit_open(&e.e, true);
    fs_jemit_key(&e.e, "in an array");
    assert_true(e.e.failed);
    assert_int_equal(fs_jsonw_finish(w), -1);
    free(w);
    fclose(f);
    free(buf);
}

/* The document written for the sample NAME equals the dump of the same
 * document built as one jansson value (with the map, also with the
 * literal attribution: the symbols' literal_bytes and "literals"). */
static void expect_document(const char *name, bool with_map)
{
    char elf[256], map[256];
    snprintf(elf, sizeof elf, "samples/build/%s.elf", name);
    snprintf(map, sizeof map, "samples/build/%s.map", name);
    fs_analysis_opts o = {.elf = elf, .map = with_map && access(map, R_OK) == 0 ? map : NULL, .literals = with_map};
    fs_analysis a;
    fs_error err = {0};
    assert_int_equal(fs_analysis_run(&o, &a, &err), 0);
    fs_output_opts oo = fs_analysis_output_opts(&a, 0);
    json_t *doc = fs_report_json(&a.rep, &oo);
    char *want = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    assert_non_null(want);
    char *got = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&got, &len);
    assert_non_null(f);
    assert_int_equal(fs_output_json(f, &a.rep, &oo), 0);
    fclose(f);
    assert_true(len > 0 && got[len - 1] == '\n');
    got[len - 1] = '\0';
    if (strcmp(got, want) != 0)
        fail_msg("%s%s: the streamed document differs from json_dumps", name, with_map ? " (with map)" : "");
    free(got);
    free(want);
    json_decref(doc);
    fs_analysis_free(&a);
}

static void test_documents(void **state)
{
    (void)state;
    FILE *f = fopen("samples/samples.txt", "r");
    assert_non_null(f);
    char line[512], name[128];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || sscanf(line, "%127s", name) != 1)
            continue;
        expect_document(name, false);
        expect_document(name, true);
        n++;
    }
    fclose(f);
    assert_true(n >= 13); /* every sample of samples.txt was compared */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_made),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_emitters),
        cmocka_unit_test(test_documents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
