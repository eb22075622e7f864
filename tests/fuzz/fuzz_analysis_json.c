/*
 * fuzz_analysis_json.c - libFuzzer harness for uploaded analysis documents:
 * the bytes are parsed the way fs_analysis_load_file parses a file (jansson,
 * duplicate keys refused) and checked with fs_analysis_validate (schema,
 * version, field types, limits); an accepted document is read by the store's
 * helpers that pick the main region and the frozen modules.
 *
 * The same bytes also go through the server's streaming reader
 * (docparse.c) and fs_analysis_validate_parsed: when both readers accept,
 * the JSON must be the same without "symbols" and the symbol tables the
 * same record for record, or the harness aborts.  (They may disagree on
 * acceptance: yajl turns a lone UTF-16 surrogate escape into '?' where
 * jansson refuses it.)
 */
#include "fuzz.h"

#include "docparse.h"
#include "document.h"
#include "symtab.h"

#include <jansson.h>

int fuzz_analysis_json_run(const uint8_t *data, size_t size);

static bool fuzz_str_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* The streaming reader on the same bytes; ref is jansson's validated
 * reading, or NULL. */
static void fuzz_docparse_compare(const uint8_t *data, size_t size, const json_t *ref)
{
    fs_docparse_opts o = {FUZZ_NAME, FUZZ_NAME, NULL, 64};
    json_t *doc;
    fs_symtab t, want;
    bool had;
    fs_error err = {{0}};
    if (fs_docparse(data, size, &o, &doc, &t, &had, &err) != 0)
        return;
    if (fs_analysis_validate_parsed(doc, had, FUZZ_NAME, &err) == 0 && ref) {
        json_t *copy = json_copy((json_t *)ref);
        json_object_del(copy, "symbols");
        if (!json_equal(doc, copy) || fs_symtab_from_json(&want, json_object_get(ref, "symbols")) < 0) {
            fprintf(stderr, "fuzz_analysis_json: docparse's JSON differs from jansson's\n");
            abort();
        }
        bool same = want.n == t.n;
        for (size_t i = 0; same && i < t.n; i++)
            same = fuzz_str_same(t.v[i].name, want.v[i].name) && fuzz_str_same(t.v[i].type, want.v[i].type) &&
                   fuzz_str_same(t.v[i].bind, want.v[i].bind) && fuzz_str_same(t.v[i].section, want.v[i].section) &&
                   t.v[i].address == want.v[i].address && t.v[i].size == want.v[i].size;
        if (!same) {
            fprintf(stderr, "fuzz_analysis_json: docparse's symbols differ from jansson's\n");
            abort();
        }
        fs_symtab_free(&want);
        json_decref(copy);
    }
    json_decref(doc);
    fs_symtab_free(&t);
}

int fuzz_analysis_json_run(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        fuzz_docparse_compare(data, size, NULL);
        return FUZZ_REFUSED;
    }
    fs_error err = {{0}};
    int rc = fuzz_check(fs_analysis_validate(doc, FUZZ_NAME, &err), &err, FUZZ_NAME);
    if (rc == FUZZ_ACCEPTED) {
        (void)fs_analysis_main_region(doc);
        (void)fs_analysis_frozen_modules(doc);
    }
    fuzz_docparse_compare(data, size, rc == FUZZ_ACCEPTED ? doc : NULL);
    json_decref(doc);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_analysis_json_run(data, size);
    return 0;
}
#endif
