/*
 * test_docparse.c - the server's streaming reader of uploads (docparse.c)
 * against jansson's own reader and the validator (document.c), which define
 * what it must give: the same JSON minus the symbols, the same symbols as
 * a table, the same refusals.
 */
#include "storetest.h"

#include "docparse.h"
#include "document.h"
#include "symtab.h"

static const fs_docparse_opts top_opts = {"doc.json", "doc.json", NULL, 64};
static const fs_docparse_opts body_opts = {"body", "analysis", "analysis", 32};

static int parse(const char *text, const fs_docparse_opts *o, json_t **doc, fs_symtab *t, bool *had, fs_error *err)
{
    return fs_docparse((const unsigned char *)text, strlen(text), o, doc, t, had, err);
}

/* Parsing text must fail with a message containing want. */
static void refused(const char *text, const fs_docparse_opts *o, const char *want)
{
    json_t *doc = (json_t *)1;
    fs_symtab t;
    bool had = true;
    fs_error err = {{0}};
    int rc = parse(text, o, &doc, &t, &had, &err);
    if (rc == 0 || !strstr(err.msg, want))
        fail_msg("'%s': rc %d, message '%s', wanted '%s'", text, rc, err.msg, want);
    assert_null(doc);
    assert_false(had);
    assert_int_equal(t.n, 0);
}

/* Each sample's document: the JSON part equals jansson's reading without
 * "symbols", and the table equals the one built from jansson's symbols,
 * record for record, in the document's order. */
static void test_same_as_jansson(void **state)
{
    (void)state;
    const char *samples[] = {"esp8266-fits", "esp8266-nearfull", "cortex-m4"};
    for (size_t k = 0; k < sizeof samples / sizeof *samples; k++) {
        json_t *ref = analyze_sample(samples[k]);
        char *text = json_dumps(ref, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_non_null(text);
        json_t *doc;
        fs_symtab t, want;
        bool had;
        fs_error err;
        assert_int_equal(parse(text, &top_opts, &doc, &t, &had, &err), 0);
        assert_true(had);
        assert_null(json_object_get(doc, "symbols"));
        assert_int_equal(fs_analysis_validate_parsed(doc, true, "doc.json", &err), 0);
        assert_int_equal(fs_symtab_from_json(&want, json_object_get(ref, "symbols")), 0);
        assert_true(want.n > 100);
        assert_int_equal(t.n, want.n);
        for (size_t i = 0; i < t.n; i++) {
            assert_string_equal(t.v[i].name, want.v[i].name);
            assert_string_equal(t.v[i].type, want.v[i].type);
            assert_string_equal(t.v[i].bind, want.v[i].bind);
            if (want.v[i].section)
                assert_string_equal(t.v[i].section, want.v[i].section);
            else
                assert_null(t.v[i].section);
            assert_true(t.v[i].address == want.v[i].address);
            assert_true(t.v[i].size == want.v[i].size);
        }
        /* the name index finds every symbol, the first of equal names */
        for (size_t i = 0; i < t.n; i++) {
            const fs_sym *s = fs_symtab_find(&t, t.v[i].name);
            assert_non_null(s);
            assert_string_equal(s->name, t.v[i].name);
            assert_true(s <= &t.v[i]);
        }
        assert_null(fs_symtab_find(&t, "no such symbol, surely"));
        json_object_del(ref, "symbols");
        if (!json_equal(doc, ref))
            fail_msg("%s: the JSON differs from jansson's", samples[k]);
        /* key order is the document's too */
        char *again = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        char *ref_text = json_dumps(ref, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_string_equal(again, ref_text);
        free(again);
        free(ref_text);
        fs_symtab_free(&t);
        fs_symtab_free(&want);
        json_decref(doc);
        json_decref(ref);
        free(text);
    }
}

/* An upload body: the symbols under "analysis" are decoded, any other
 * "symbols" key stays JSON. */
static void test_upload_body(void **state)
{
    (void)state;
    const char *text = "{\"project\":\"p\",\"symbols\":[1],\"analysis\":{\"x\":{\"symbols\":[]},\"symbols\":["
                       "{\"name\":\"a\",\"address\":\"0x4010000A\",\"size\":12,\"type\":\"FUNC\",\"bind\":\"GLOBAL\","
                       "\"section\":\".text\",\"extra\":{\"deep\":[1,{\"x\":null}]}},"
                       "{\"name\":\"b\",\"address\":0,\"size\":0,\"type\":\"NOTYPE\",\"bind\":\"LOCAL\",\"section\":null}"
                       "],\"tail\":[1.5,true,false,null,-3]}}";
    json_t *doc;
    fs_symtab t;
    bool had;
    fs_error err;
    assert_int_equal(parse(text, &body_opts, &doc, &t, &had, &err), 0);
    assert_true(had);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.v[0].name, "a");
    assert_true(t.v[0].address == 0x4010000Au);
    assert_true(t.v[0].size == 12);
    assert_string_equal(t.v[0].section, ".text");
    assert_null(t.v[1].section);
    json_t *want = json_loads("{\"project\":\"p\",\"symbols\":[1],\"analysis\":{\"x\":{\"symbols\":[]},"
                              "\"tail\":[1.5,true,false,null,-3]}}",
                              0, NULL);
    assert_true(json_equal(doc, want));
    json_decref(want);
    json_decref(doc);
    fs_symtab_free(&t);

    /* no symbols at all: nothing decoded, the validator says so later */
    assert_int_equal(parse("{\"analysis\":{\"symbols\":7}}", &body_opts, &doc, &t, &had, &err), 0);
    assert_false(had);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "analysis"), "symbols")), 7);
    json_decref(doc);
    fs_symtab_free(&t);
}

static void test_refusals(void **state)
{
    (void)state;
    /* the text */
    refused("", &top_opts, "doc.json: invalid JSON at line 1 column 1");
    refused("{\"a\":1", &top_opts, "doc.json: invalid JSON at line 1 column 7");
    refused("{\"a\":1}\n{}", &top_opts, "doc.json: invalid JSON at line 2");
    refused("{\"a\":1,\n\"a\":2}", &top_opts, "line 2 column 6: duplicate object key");
    refused("{\"a\":\"x\\u0000y\"}", &top_opts, "\\u0000 is not allowed");
    refused("{\"a\\u0000\":1}", &top_opts, "\\u0000 is not allowed");
    refused("{\"a\":\"\xff\"}", &top_opts, "invalid JSON");
    refused("{\"a\":99999999999999999999}", &top_opts, "too big integer");
    refused("{\"a\":-99999999999999999999}", &top_opts, "too big negative integer");
    refused("{\"a\":1e999}", &top_opts, "real number overflow");
    refused("{\"a\":[1,]}", &top_opts, "invalid JSON");
    refused("{/*c*/}", &top_opts, "invalid JSON");
    /* depth: 32 levels pass the body's limit, 33 do not */
    char deep[80];
    memset(deep, '[', 33);
    memset(deep + 33, ']', 33);
    deep[66] = '\0';
    fs_error err;
    json_t *doc;
    fs_symtab t;
    bool had;
    assert_int_equal(fs_docparse((const unsigned char *)deep, 66, &body_opts, &doc, &t, &had, &err),
                     FS_DOCPARSE_TOO_DEEP);
    assert_int_equal(fs_docparse((const unsigned char *)deep + 1, 64, &body_opts, &doc, &t, &had, &err), 0);
    json_decref(doc);
    fs_symtab_free(&t);

    /* the symbols, in the validator's words */
#define SYM(fields) "{\"analysis\":{\"symbols\":[{\"name\":\"ok\",\"address\":1,\"size\":2,\"type\":\"FUNC\"," \
                    "\"bind\":\"GLOBAL\",\"section\":null}," fields "]}}"
    refused(SYM("{\"name\":\"x\",\"address\":1,\"size\":2,\"type\":\"FUNC\",\"bind\":\"GLOBAL\"}"), &body_opts,
            "analysis: symbols[1].section: expected a string (missing)");
    refused(SYM("3"), &body_opts, "analysis: symbols[1]: expected an object");
    refused(SYM("[]"), &body_opts, "analysis: symbols[1]: expected an object");
    refused(SYM("{\"name\":5}"), &body_opts, "analysis: symbols[1].name: expected a string");
    refused(SYM("{\"name\":{}}"), &body_opts, "analysis: symbols[1].name: expected a string");
    refused(SYM("{\"name\":\"x\",\"address\":-1}"), &body_opts,
            "analysis: symbols[1].address: expected a non-negative integer");
    refused(SYM("{\"name\":\"x\",\"address\":1.5}"), &body_opts,
            "analysis: symbols[1].address: expected a non-negative integer");
    refused(SYM("{\"name\":\"x\",\"address\":\"12\"}"), &body_opts,
            "analysis: symbols[1].address: expected a non-negative integer");
    refused(SYM("{\"name\":\"x\",\"address\":\"0x12345678123456789\"}"), &body_opts,
            "analysis: symbols[1].address: expected a non-negative integer");
    refused(SYM("{\"name\":\"x\",\"address\":\"0x-1\"}"), &body_opts,
            "analysis: symbols[1].address: expected a non-negative integer");
    /* the validator reads hex strings the same way: hex digits only */
    const char *hex[] = {"0x-1", "0x 1", "0x+1", "0x", "0x1g"};
    for (size_t i = 0; i < sizeof hex / sizeof *hex; i++) {
        json_t *v = json_string(hex[i]);
        uint64_t x;
        assert_false(fs_json_u64(v, &x));
        json_decref(v);
    }
    json_t *v = json_string("0xfffffffffffffff0");
    uint64_t x = 0;
    assert_true(fs_json_u64(v, &x));
    assert_true(x == 0xfffffffffffffff0u);
    json_decref(v);
    refused(SYM("{\"name\":\"x\",\"size\":[]}"), &body_opts,
            "analysis: symbols[1].size: expected a non-negative integer");
    refused(SYM("{\"name\":\"x\",\"name\":\"y\"}"), &body_opts, "duplicate object key");
    refused("{\"analysis\":{\"symbols\":[],\"symbols\":[]}}", &body_opts, "duplicate object key");
    refused("{\"analysis\":{\"symbols\":[],\"symbols\":1}}", &body_opts, "duplicate object key");
    char *big = malloc(FS_ANALYSIS_MAX_STRING + 200);
    assert_non_null(big);
    int n = snprintf(big, 200, "{\"analysis\":{\"symbols\":[{\"name\":\"");
    memset(big + n, 'a', FS_ANALYSIS_MAX_STRING + 1);
    strcpy(big + n + FS_ANALYSIS_MAX_STRING + 1, "\"}]}}");
    refused(big, &body_opts, "analysis: symbols[0].name: string of 4097 bytes, longer than the 4096-byte limit");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_jansson),
        cmocka_unit_test(test_upload_body),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("docparse", tests, NULL, NULL);
}
