/*
 * document.c - the analysis document: validation against the schema and
 * the limits of document.h, the number rule, the main region.  Validation
 * checks the type of every field the store, diff and check read, so that
 * they can then read the document without checking again.
 */
#include "document.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *fs_json_from_u64(uint64_t v)
{
    if (v > INT64_MAX) {
        char buf[32];
        snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
        return json_string(buf);
    }
    return json_integer((json_int_t)v);
}

bool fs_json_u64(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return false;
        *out = (uint64_t)json_integer_value(v);
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strncmp(s, "0x", 2) != 0 || !s[2] || strlen(s) > 18 || strspn(s + 2, "0123456789abcdefABCDEF") != strlen(s + 2))
            return false; /* hex digits only: strtoull would take "0x-1" or "0x 1" */
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s + 2, &end, 16);
        if (errno || *end)
            return false;
        *out = x;
        return true;
    }
    return false;
}

typedef struct vctx {
    const char *name;  /* file name for messages */
    fs_error *err;
} vctx;

static int v_str(const vctx *c, const json_t *o, const char *where, const char *key, bool nullable)
{
    const json_t *v = json_object_get(o, key);
    if (nullable && json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return fs_fail(c->err, "%s: %s.%s: expected a string%s", c->name, where, key,
                       v ? "" : " (missing)");
    if (json_string_length(v) > FS_ANALYSIS_MAX_STRING)
        return fs_fail_kind(c->err, FS_ERR_LIMIT, "%s: %s.%s: string of %zu bytes, longer than the %u-byte limit", c->name,
                       where, key, json_string_length(v), FS_ANALYSIS_MAX_STRING);
    return 0;
}

static int v_u64(const vctx *c, const json_t *o, const char *where, const char *key)
{
    uint64_t x;
    const json_t *v = json_object_get(o, key);
    if (!fs_json_u64(v, &x))
        return fs_fail(c->err, "%s: %s.%s: expected a non-negative integer%s", c->name, where, key,
                       v ? "" : " (missing)");
    return 0;
}

/* The array doc[key] (required unless optional), at most max long. */
static int v_array(const vctx *c, const json_t *doc, const char *key, size_t max, bool optional,
                   const json_t **out)
{
    const json_t *a = json_object_get(doc, key);
    *out = a;
    if (!a && optional)
        return 0;
    if (!json_is_array(a))
        return fs_fail(c->err, "%s: '%s': expected an array%s", c->name, key, a ? "" : " (missing)");
    if (json_array_size(a) > max)
        return fs_fail_kind(c->err, FS_ERR_LIMIT, "%s: '%s' has %zu entries, more than the limit of %zu", c->name, key,
                       json_array_size(a), max);
    return 0;
}

/* Each element of a must be an object with these string (s), nullable
 * string (S) and integer (u) keys, named by a spec like "s:name u:size". */
static int v_each(const vctx *c, const json_t *a, const char *key, const char *const *spec)
{
    size_t i;
    const json_t *e;
    json_array_foreach(a, i, e) {
        char where[64];
        snprintf(where, sizeof where, "%s[%zu]", key, i);
        if (!json_is_object(e))
            return fs_fail(c->err, "%s: %s: expected an object", c->name, where);
        for (const char *const *k = spec; *k; k++) {
            int rc = (*k)[0] == 'u' ? v_u64(c, e, where, *k + 2) : v_str(c, e, where, *k + 2, (*k)[0] == 'S');
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

static int v_findings(const vctx *c, const json_t *a)
{
    static const char *const spec[] = {"s:id", "s:severity", "S:subject", "S:message", NULL};
    if (v_each(c, a, "findings", spec) < 0)
        return -1;
    size_t i;
    const json_t *f;
    json_array_foreach(a, i, f) {
        const char *sev = json_string_value(json_object_get(f, "severity"));
        if (strcmp(sev, "error") && strcmp(sev, "warning") && strcmp(sev, "info"))
            return fs_fail(c->err, "%s: findings[%zu].severity: '%s' is not error, warning or info", c->name,
                           i, sev);
        const json_t *nums = json_object_get(f, "numbers");
        if (nums && !json_is_object(nums))
            return fs_fail(c->err, "%s: findings[%zu].numbers: expected an object", c->name, i);
        const char *k;
        const json_t *v;
        uint64_t x;
        json_object_foreach((json_t *)nums, k, v) {
            if (!fs_json_u64(v, &x))
                return fs_fail(c->err, "%s: findings[%zu].numbers.%s: expected a non-negative integer",
                               c->name, i, k);
        }
    }
    return 0;
}

int fs_analysis_validate(const json_t *doc, const char *name, fs_error *err)
{
    return fs_analysis_validate_parsed(doc, false, name, err);
}

int fs_analysis_validate_parsed(const json_t *doc, bool symbols_decoded, const char *name, fs_error *err)
{
    vctx c = {name, err};
    if (!json_is_object(doc))
        return fs_fail(err, "%s: not a flashsize analysis (expected a JSON object)", name);
    const json_t *schema = json_object_get(doc, "schema");
    if (!json_is_string(schema) || strcmp(json_string_value(schema), "flashsize-analysis") != 0)
        return fs_fail(err, "%s: not a flashsize analysis (\"schema\" is not \"flashsize-analysis\")", name);
    const json_t *ver = json_object_get(doc, "schema_version");
    if (!json_is_integer(ver))
        return fs_fail(err, "%s: \"schema_version\": expected an integer", name);
    if (json_integer_value(ver) != 1)
        return fs_fail(err, "%s: schema_version %lld is not supported (this flashsize reads version 1)", name,
                       (long long)json_integer_value(ver));
    const json_t *tool = json_object_get(doc, "tool");
    if (!json_is_object(tool) || v_str(&c, tool, "tool", "version", false) < 0)
        return tool ? -1 : fs_fail(err, "%s: \"tool\": expected an object (missing)", name);
    const json_t *board = json_object_get(doc, "board");
    if (board && !json_is_null(board) && (!json_is_object(board) || v_str(&c, board, "board", "name", false) < 0))
        return json_is_object(board) ? -1 : fs_fail(err, "%s: \"board\": expected an object or null", name);
    if (v_str(&c, doc, "document", "chip", false) < 0)
        return -1;

    static const char *const regions[] = {"s:name", "u:origin", "u:length", "u:used", "s:attrs", NULL};
    static const char *const sections[] = {"s:name", "s:type", "s:flags", "u:address", "u:lma", "u:size",
                                           "S:region", "S:load_region", NULL};
    static const char *const symbols[] = {"s:name", "u:address", "u:size", "s:type", "s:bind", "S:section", NULL};
    static const char *const frozen[] = {"s:name", "u:bytes", NULL};
    const json_t *a;
    if (v_array(&c, doc, "regions", FS_ANALYSIS_MAX_REGIONS, false, &a) < 0 || v_each(&c, a, "regions", regions) < 0)
        return -1;
    if (v_array(&c, doc, "sections", FS_ANALYSIS_MAX_SECTIONS, false, &a) < 0 ||
        v_each(&c, a, "sections", sections) < 0)
        return -1;
    if (!symbols_decoded &&
        (v_array(&c, doc, "symbols", FS_ANALYSIS_MAX_SYMBOLS, false, &a) < 0 || v_each(&c, a, "symbols", symbols) < 0))
        return -1;
    if (v_array(&c, doc, "findings", FS_ANALYSIS_MAX_FINDINGS, false, &a) < 0 || v_findings(&c, a) < 0)
        return -1;
    const json_t *fz = json_object_get(doc, "frozen");
    if (fz && !json_is_null(fz)) {
        if (!json_is_object(fz))
            return fs_fail(err, "%s: \"frozen\": expected an object or null", name);
        if (v_array(&c, fz, "modules", FS_ANALYSIS_MAX_FROZEN, false, &a) < 0 || v_each(&c, a, "frozen.modules", frozen) < 0)
            return -1;
        if (json_object_get(fz, "total") && v_u64(&c, fz, "frozen", "total") < 0)
            return -1;
    }
    return 0;
}

int fs_analysis_load_file(const char *path, json_t **doc, fs_error *err)
{
    *doc = NULL;
    unsigned char *data;
    size_t len;
    if (fs_read_file(path, FS_ANALYSIS_MAX_FILE_BYTES, "JSON file", &data, &len, err) < 0)
        return -1;
    json_error_t je;
    json_t *j = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
    free(data);
    if (!j)
        return fs_fail(err, "%s:%d: bad JSON: %s", path, je.line, je.text);
    if (fs_analysis_validate(j, path, err) < 0) {
        json_decref(j);
        return -1;
    }
    *doc = j;
    return 0;
}

static bool region_flashlike(const json_t *r)
{
    const char *name = json_string_value(json_object_get(r, "name"));
    const char *attrs = json_string_value(json_object_get(r, "attrs"));
    if (attrs && strchr(attrs, 'x') && !strchr(attrs, 'w'))
        return true;
    return name && (strcasestr(name, "flash") || strcasestr(name, "rom"));
}

const json_t *fs_analysis_main_region(const json_t *doc)
{
    const json_t *regions = json_object_get(doc, "regions");
    const json_t *best = NULL, *r;
    uint64_t best_len = 0;
    bool best_flash = false;
    size_t i;
    json_array_foreach(regions, i, r) {
        const char *name = json_string_value(json_object_get(r, "name"));
        if (name && strcmp(name, "irom0_0_seg") == 0)
            return r;
        uint64_t len = 0;
        fs_json_u64(json_object_get(r, "length"), &len);
        bool flash = region_flashlike(r);
        if (!best || (flash && !best_flash) || (flash == best_flash && len > best_len)) {
            best = r;
            best_len = len;
            best_flash = flash;
        }
    }
    return best;
}

const json_t *fs_analysis_frozen_modules(const json_t *doc)
{
    const json_t *m = json_object_get(json_object_get(doc, "frozen"), "modules");
    return json_is_array(m) ? m : NULL;
}
