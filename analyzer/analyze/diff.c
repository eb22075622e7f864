/*
 * diff.c - compare two analysis documents and format the result.
 *
 * Matching is by name.  A name that occurs more than once on one side
 * (static functions of the same name in two files) counts as one entry with
 * the sizes summed, so every byte is accounted for exactly once and the
 * result does not depend on the order of the symbol table.  Symbols are
 * listed by the size of their change, largest first, ties by name: the same
 * order for the same inputs.
 */
#include "diff.h"
#include "document.h"

#include "analysis.h"
#include "refgraph.h"
#include "forecast.h"

#include "store.h"
#include "symtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- inputs ------------------------------------------------------------------ */

static char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return strdup(slash ? slash + 1 : path);
}

static char *doc_board(const json_t *doc)
{
    const char *b = json_string_value(json_object_get(json_object_get(doc, "board"), "name"));
    return b ? strdup(b) : NULL;
}

static int input_stored(const char *spec, const fs_input_opts *o, json_t **doc, char **label, fs_error *err)
{
    fs_store *s;
    fs_store_opts so = {.readonly = true};
    if (fs_store_open(fs_store_path(o ? o->db_path : NULL), &so, &s, err) < 0)
        return -1;
    int64_t id;
    fs_build_info info;
    int rc = fs_store_resolve(s, spec, &id, err);
    if (rc == 0)
        rc = fs_store_load(s, id, doc, &info, err);
    fs_store_close(s);
    if (rc < 0)
        return -1;
    *label = info.board;
    info.board = NULL;
    fs_build_info_free(&info);
    return 0;
}

static int input_elf(const char *path, const fs_input_opts *o, json_t **doc, fs_error *err)
{
    /* The same whole analysis `flashsize analyze` runs, so an ELF given here
     * yields the same document, findings and all. */
    fs_analysis an;
    fs_analysis_opts ao = {.elf = path,
                           .board = o ? o->board : NULL,
                           .rules_dir = o ? o->rules_dir : NULL,
                           .retained = fs_retained_for_analysis};
    int rc = -1;
    if (fs_analysis_run(&ao, &an, err) < 0)
        goto done;
    *doc = fs_analysis_json(&an);
    if (!*doc)
        fs_fail(err, "%s: out of memory", path);
    else if (fs_analysis_validate(*doc, path, err) < 0) {
        json_decref(*doc);
        *doc = NULL;
    } else
        rc = 0;
done:
    fs_analysis_free(&an);
    return rc;
}

int fs_input_load(const char *spec, const fs_input_opts *o, json_t **doc, char **label, fs_error *err)
{
    *doc = NULL;
    *label = NULL;
    if (strncmp(spec, "build:", 6) == 0 || strncmp(spec, "commit:", 7) == 0)
        return input_stored(spec, o, doc, label, err);
    FILE *f = fs_fopen_input(spec, "rb", err);
    if (!f)
        return -1;
    unsigned char magic[4] = {0};
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    int rc = n == 4 && memcmp(magic, "\177ELF", 4) == 0 ? input_elf(spec, o, doc, err)
                                                          : fs_analysis_load_file(spec, doc, err);
    if (rc < 0)
        return -1;
    *label = doc_board(*doc);
    if (!*label)
        *label = base_name(spec);
    if (!*label) {
        json_decref(*doc);
        *doc = NULL;
        return fs_fail(err, "%s: out of memory", spec);
    }
    return 0;
}

/* ---- computing ---------------------------------------------------------------- */

typedef struct named {
    const char *name;
    uint64_t size;
} named;

static int named_cmp(const void *x, const void *y)
{
    return strcmp(((const named *)x)->name, ((const named *)y)->name);
}

/* The entries of array arr as (name, size_key), sorted by name, duplicates summed. */
static named *collect(const json_t *arr, const char *size_key, size_t *n)
{
    size_t total = 0, all = json_array_size(arr);
    named *v = malloc((all + 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < all; i++) {
        const json_t *e = json_array_get(arr, i);
        const char *flags = json_string_value(json_object_get(e, "flags"));
        if (flags && !strchr(flags, 'A'))
            continue; /* a section that takes no memory (.symtab, .comment) */
        v[total].name = json_string_value(json_object_get(e, "name"));
        v[total].size = 0;
        fs_json_u64(json_object_get(e, size_key), &v[total++].size);
    }
    qsort(v, total, sizeof *v, named_cmp);
    size_t out = 0;
    for (size_t i = 0; i < total; i++) {
        if (out && strcmp(v[out - 1].name, v[i].name) == 0)
            v[out - 1].size += v[i].size;
        else
            v[out++] = v[i];
    }
    *n = out;
    return v;
}

/* A symbol table as (name, size), already in name order (its index),
 * duplicates summed. */
static named *collect_syms(const fs_symtab *t, size_t *n)
{
    named *v = malloc((t->n + 1) * sizeof *v);
    if (!v)
        return NULL;
    size_t out = 0;
    for (size_t i = 0; i < t->n; i++) {
        const fs_sym *s = t->by_name[i];
        if (out && strcmp(v[out - 1].name, s->name) == 0)
            v[out - 1].size += s->size;
        else
            v[out++] = (named){s->name, s->size};
    }
    *n = out;
    return v;
}

static void delta_set(fs_delta *d, bool in_a, bool in_b)
{
    d->delta = (int64_t)(d->b - d->a);
    d->change = !in_a ? FS_CHANGE_ADDED
              : !in_b ? FS_CHANGE_REMOVED
              : d->b > d->a ? FS_CHANGE_GROWN
              : d->b < d->a ? FS_CHANGE_SHRUNK
                            : FS_CHANGE_SAME;
}

/* Merge two sorted lists into the changed entries. */
static int merge(const named *a, size_t na, const named *b, size_t nb, fs_delta **out, size_t *nout)
{
    fs_delta *d = calloc(na + nb + 1, sizeof *d);
    if (!d)
        return -1;
    size_t i = 0, j = 0, n = 0;
    while (i < na || j < nb) {
        int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i].name, b[j].name);
        fs_delta *e = &d[n];
        e->name = strdup(c <= 0 ? a[i].name : b[j].name);
        if (!e->name) {
            *out = d;
            *nout = n;
            return -1;
        }
        e->a = c <= 0 ? a[i].size : 0;
        e->b = c >= 0 ? b[j].size : 0;
        delta_set(e, c <= 0, c >= 0);
        i += c <= 0;
        j += c >= 0;
        if (e->change == FS_CHANGE_SAME)
            free(e->name);
        else
            n++;
    }
    *out = d;
    *nout = n;
    return 0;
}

static int diff_named(const json_t *a, const json_t *b, const char *key, const char *size_key, fs_delta **out,
                      size_t *n)
{
    size_t na, nb;
    named *va = collect(json_object_get(a, key), size_key, &na);
    named *vb = collect(json_object_get(b, key), size_key, &nb);
    int rc = va && vb ? merge(va, na, vb, nb, out, n) : -1;
    free(va);
    free(vb);
    return rc;
}

static int diff_symbols(const fs_symtab *a, const fs_symtab *b, fs_diff *d)
{
    size_t na, nb;
    named *va = collect_syms(a, &na), *vb = collect_syms(b, &nb);
    int rc = va && vb ? merge(va, na, vb, nb, &d->symbols, &d->nsymbols) : -1;
    free(va);
    free(vb);
    return rc;
}

static uint64_t u64_of(const json_t *o, const char *key)
{
    uint64_t v = 0;
    fs_json_u64(json_object_get(o, key), &v);
    return v;
}

static const json_t *find_named(const json_t *arr, const char *name)
{
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
            return e;
    }
    return NULL;
}

static int diff_frozen(const json_t *a, const json_t *b, fs_diff *d)
{
    size_t na, nb;
    named *va = collect(fs_analysis_frozen_modules(a), "bytes", &na);
    named *vb = collect(fs_analysis_frozen_modules(b), "bytes", &nb);
    int rc = va && vb ? merge(va, na, vb, nb, &d->frozen, &d->nfrozen) : -1;
    free(va);
    free(vb);
    return rc;
}

static int diff_regions(const json_t *a, const json_t *b, fs_diff *d)
{
    const json_t *ra = json_object_get(a, "regions"), *rb = json_object_get(b, "regions");
    d->regions = calloc(json_array_size(ra) + json_array_size(rb) + 1, sizeof *d->regions);
    if (!d->regions)
        return -1;
    const json_t *main = fs_analysis_main_region(b);
    if (!main)
        main = fs_analysis_main_region(a);
    const char *main_name = main ? json_string_value(json_object_get(main, "name")) : NULL;
    d->main_region = -1;
    for (int pass = 0; pass < 2; pass++) {
        const json_t *arr = pass == 0 ? rb : ra;
        size_t i;
        const json_t *e;
        json_array_foreach(arr, i, e) {
            const char *name = json_string_value(json_object_get(e, "name"));
            const json_t *other = find_named(pass == 0 ? ra : rb, name);
            if (pass == 1 && other)
                continue; /* already listed from B */
            if (find_named(arr, name) != e)
                continue; /* a repeated name: the first one counts */
            const json_t *ea = pass == 0 ? other : e, *eb = pass == 0 ? e : NULL;
            fs_delta *r = &d->regions[d->nregions];
            if (!(r->name = strdup(name)))
                return -1;
            r->a = ea ? u64_of(ea, "used") : 0;
            r->len_a = ea ? u64_of(ea, "length") : 0;
            r->b = eb ? u64_of(eb, "used") : 0;
            r->len_b = eb ? u64_of(eb, "length") : 0;
            delta_set(r, ea != NULL, eb != NULL);
            if (main_name && strcmp(name, main_name) == 0)
                d->main_region = (int)d->nregions;
            d->nregions++;
        }
    }
    return 0;
}

static int symbol_cmp(const void *x, const void *y)
{
    const fs_delta *a = x, *b = y;
    uint64_t ma = a->delta < 0 ? -(uint64_t)a->delta : (uint64_t)a->delta;
    uint64_t mb = b->delta < 0 ? -(uint64_t)b->delta : (uint64_t)b->delta;
    if (ma != mb)
        return ma > mb ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Is finding f (id, subject and severity: one whose severity changed is a
 * new finding, an escalation in the report) among arr? */
static bool finding_in(const json_t *arr, const json_t *f)
{
    const char *id = json_string_value(json_object_get(f, "id"));
    const char *subj = json_string_value(json_object_get(f, "subject"));
    const char *sev = json_string_value(json_object_get(f, "severity"));
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e) {
        const char *eid = json_string_value(json_object_get(e, "id"));
        const char *esubj = json_string_value(json_object_get(e, "subject"));
        const char *esev = json_string_value(json_object_get(e, "severity"));
        if (strcmp(id, eid) == 0 && (subj == esubj || (subj && esubj && strcmp(subj, esubj) == 0)) &&
            (sev == esev || (sev && esev && strcmp(sev, esev) == 0)))
            return true;
    }
    return false;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The findings of `from` that `other` does not have. */
static int diff_findings(const json_t *from, const json_t *other, fs_finding_ref **out, size_t *n)
{
    const json_t *fa = json_object_get(from, "findings"), *fb = json_object_get(other, "findings");
    *out = calloc(json_array_size(fa) + 1, sizeof **out);
    if (!*out)
        return -1;
    size_t i;
    const json_t *f;
    json_array_foreach(fa, i, f) {
        if (finding_in(fb, f))
            continue;
        fs_finding_ref *r = &(*out)[(*n)++];
        r->id = dup_or_null(json_string_value(json_object_get(f, "id")));
        r->severity = dup_or_null(json_string_value(json_object_get(f, "severity")));
        r->subject = dup_or_null(json_string_value(json_object_get(f, "subject")));
        r->message = dup_or_null(json_string_value(json_object_get(f, "message")));
        if (!r->id || !r->severity)
            return -1;
    }
    return 0;
}

/* The entry of arr (an array of objects) whose "name" is name, tolerating
 * entries that are not well formed (the "retained" part is not validated). */
static const json_t *find_name_safe(const json_t *arr, const char *name)
{
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e) {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (n && strcmp(n, name) == 0)
            return e;
    }
    return NULL;
}

/* Did A have the symbol called name (in its symbols or retained lists)?
 * Nameless graph nodes ("[.text+0x10]") count as old. */
static bool had_symbol(const fs_symtab *a, const json_t *ra, const char *name)
{
    return name[0] == '[' || fs_symtab_find(a, name) || find_name_safe(ra, name);
}

static const json_t *retained_list(const json_t *doc)
{
    const json_t *r = json_object_get(doc, "retained");
    const json_t *s = json_object_get(r, "symbols");
    return json_is_string(json_object_get(r, "method")) && json_is_array(s) ? s : NULL;
}

static int diff_retained(const json_t *a, const fs_symtab *sa, const json_t *b, fs_diff *d)
{
    const json_t *ra = retained_list(a), *rb = retained_list(b), *e;
    size_t i;
    if (!ra || !rb)
        return 0;
    d->retained_new = calloc(json_array_size(rb) + 1, sizeof *d->retained_new);
    if (!d->retained_new)
        return -1;
    json_array_foreach(rb, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *dom = json_string_value(json_object_get(e, "dominator"));
        uint64_t kept = u64_of(e, "retained");
        if (!name || had_symbol(sa, ra, name) || (dom && !had_symbol(sa, ra, dom)) ||
            (kept < FS_DIFF_RETAINED_MIN && i >= FS_DIFF_RETAINED_TOP))
            continue;
        fs_delta *n = &d->retained_new[d->nretained_new];
        if (!(n->name = strdup(name)))
            return -1;
        d->nretained_new++;
        n->a = u64_of(e, "size");
        n->b = kept;
        n->change = FS_CHANGE_ADDED;
        n->delta = (int64_t)kept;
    }
    return 0;
}

int fs_diff_retained_from_json(const json_t *arr, const char *name, fs_diff *d, fs_error *err)
{
    size_t i;
    const json_t *e;
    if (!arr)
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) > 100000)
        return fs_fail(err, "%s: \"retained_new\" is not a list", name);
    d->retained_new = calloc(json_array_size(arr) + 1, sizeof *d->retained_new);
    if (!d->retained_new)
        return fs_fail(err, "%s: out of memory", name);
    json_array_foreach(arr, i, e) {
        const char *nm = json_string_value(json_object_get(e, "name"));
        fs_delta *v = &d->retained_new[d->nretained_new];
        if (!nm || !fs_json_u64(json_object_get(e, "size"), &v->a) ||
            !fs_json_u64(json_object_get(e, "retained"), &v->b))
            return fs_fail(err, "%s: retained_new entry %zu lacks name, size or retained", name, i);
        if (!(v->name = strdup(nm)))
            return fs_fail(err, "%s: out of memory", name);
        v->change = FS_CHANGE_ADDED;
        v->delta = (int64_t)v->b;
        d->nretained_new++;
    }
    return 0;
}

int fs_diff_compute(const json_t *a, const json_t *b, const char *label, fs_diff *d, fs_error *err)
{
    fs_symtab sa, sb;
    int oka = fs_symtab_from_json(&sa, json_object_get(a, "symbols"));
    int okb = fs_symtab_from_json(&sb, json_object_get(b, "symbols"));
    int rc = oka == 0 && okb == 0 ? fs_diff_compute_tabs(a, &sa, b, &sb, label, d, err)
                                  : (memset(d, 0, sizeof *d), fs_fail(err, "%s: out of memory comparing the analyses",
                                                                      label ? label : "diff"));
    fs_symtab_free(&sa);
    fs_symtab_free(&sb);
    return rc;
}

int fs_diff_compute_tabs(const json_t *a, const fs_symtab *sa, const json_t *b, const fs_symtab *sb,
                         const char *label, fs_diff *d, fs_error *err)
{
    memset(d, 0, sizeof *d);
    d->label = strdup(label ? label : "firmware");
    d->has_frozen = fs_analysis_frozen_modules(a) || fs_analysis_frozen_modules(b);
    if (!d->label || diff_regions(a, b, d) < 0 ||
        diff_named(a, b, "sections", "size", &d->sections, &d->nsections) < 0 ||
        diff_frozen(a, b, d) < 0 ||
        diff_symbols(sa, sb, d) < 0 ||
        diff_findings(b, a, &d->appeared, &d->nappeared) < 0 || diff_findings(a, b, &d->cleared, &d->ncleared) < 0 ||
        diff_retained(a, sa, b, d) < 0) {
        fs_diff_free(d);
        return fs_fail(err, "%s: out of memory comparing the analyses", label ? label : "diff");
    }
    qsort(d->symbols, d->nsymbols, sizeof *d->symbols, symbol_cmp);
    for (size_t i = 0; i < d->nsymbols; i++) {
        fs_change c = d->symbols[i].change;
        d->added += c == FS_CHANGE_ADDED;
        d->removed += c == FS_CHANGE_REMOVED;
        d->grown += c == FS_CHANGE_GROWN;
        d->shrunk += c == FS_CHANGE_SHRUNK;
        d->symbols_net += d->symbols[i].delta;
    }
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(b, "findings"), i, f) {
        const char *sev = json_string_value(json_object_get(f, "severity"));
        d->errors_b += strcmp(sev, "error") == 0;
        d->warnings_b += strcmp(sev, "warning") == 0;
    }
    return 0;
}

static void deltas_free(fs_delta *d, size_t n)
{
    for (size_t i = 0; d && i < n; i++)
        free(d[i].name);
    free(d);
}

static void refs_free(fs_finding_ref *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++) {
        free(r[i].id);
        free(r[i].severity);
        free(r[i].subject);
        free(r[i].message);
    }
    free(r);
}

void fs_diff_free(fs_diff *d)
{
    if (!d)
        return;
    free(d->label);
    deltas_free(d->regions, d->nregions);
    deltas_free(d->sections, d->nsections);
    deltas_free(d->frozen, d->nfrozen);
    deltas_free(d->symbols, d->nsymbols);
    deltas_free(d->retained_new, d->nretained_new);
    refs_free(d->appeared, d->nappeared);
    refs_free(d->cleared, d->ncleared);
    memset(d, 0, sizeof *d);
}

bool fs_diff_pass(const fs_diff *d)
{
    return d->errors_b == 0;
}

/* ---- formatting --------------------------------------------------------------- */

static const char *change_name(fs_change c)
{
    static const char *const names[] = {"same", "added", "removed", "grown", "shrunk"};
    return names[c];
}

/* "irom0" for ESP8266's irom0_0_seg, else the region's own name. */
static const char *region_short(const char *name)
{
    return strcmp(name, "irom0_0_seg") == 0 ? "irom0" : name;
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? (double)part * 100.0 / (double)whole : 0.0;
}

/* "irom0 +1,284 B (+0.13%) 93.1% used" */
static void summary_line(const fs_diff *d, char *buf, size_t len)
{
    if (d->main_region < 0) {
        char net[40];
        fs_fmt_delta(net, sizeof net, d->symbols_net);
        snprintf(buf, len, "no memory regions; symbols %s B", net);
        return;
    }
    const fs_delta *r = &d->regions[d->main_region];
    char dl[40], rel[32];
    fs_fmt_delta(dl, sizeof dl, r->delta);
    if (r->a)
        snprintf(rel, sizeof rel, "%+.2f%%", (double)r->delta * 100.0 / (double)r->a);
    else
        snprintf(rel, sizeof rel, "new");
    snprintf(buf, len, "%s %s B (%s) %.1f%% used", region_short(r->name), dl, rel, pct(r->b, r->len_b));
}

static void write_delta_row(FILE *out, const fs_delta *e)
{
    char a[32], b[32], dl[40];
    fs_fmt_bytes(a, sizeof a, e->a);
    fs_fmt_bytes(b, sizeof b, e->b);
    fs_fmt_delta(dl, sizeof dl, e->delta);
    fprintf(out, "  %14s %14s %12s  %-8s %s\n", e->change == FS_CHANGE_ADDED ? "-" : a,
            e->change == FS_CHANGE_REMOVED ? "-" : b, dl, change_name(e->change), e->name);
}

static void write_text_one(FILE *out, const fs_diff *d, size_t top)
{
    char line[256];
    summary_line(d, line, sizeof line);
    fprintf(out, "%s: %s\n\nRegions\n  %14s %14s %12s  %-8s %s\n", d->label, line, "before", "after", "delta", "change",
            "region");
    for (size_t i = 0; i < d->nregions; i++)
        write_delta_row(out, &d->regions[i]);
    fprintf(out, "\nSections changed: %zu\n", d->nsections);
    for (size_t i = 0; i < d->nsections; i++)
        write_delta_row(out, &d->sections[i]);
    if (d->has_frozen) {
        fprintf(out, "\nFrozen modules changed: %zu\n", d->nfrozen);
        for (size_t i = 0; i < d->nfrozen; i++)
            write_delta_row(out, &d->frozen[i]);
    }
    char net[40];
    fs_fmt_delta(net, sizeof net, d->symbols_net);
    size_t n = top && top < d->nsymbols ? top : d->nsymbols;
    fprintf(out, "\nSymbols changed: %zu (%zu added, %zu removed, %zu grown, %zu shrunk; net %s B)%s\n", d->nsymbols,
            d->added, d->removed, d->grown, d->shrunk, net, n < d->nsymbols ? ", largest first:" : "");
    for (size_t i = 0; i < n; i++)
        write_delta_row(out, &d->symbols[i]);
    fprintf(out, "\nFindings: %zu appeared, %zu cleared\n", d->nappeared, d->ncleared);
    for (size_t i = 0; i < d->nappeared; i++)
        fprintf(out, "  + %s %s: %s\n", d->appeared[i].severity, d->appeared[i].id,
                d->appeared[i].message ? d->appeared[i].message : "");
    for (size_t i = 0; i < d->ncleared; i++)
        fprintf(out, "  - %s %s: %s\n", d->cleared[i].severity, d->cleared[i].id,
                d->cleared[i].message ? d->cleared[i].message : "");
}

static bool all_pass(const fs_diff *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!fs_diff_pass(&d[i]))
            return false;
    return true;
}

static size_t total_errors(const fs_diff *d, size_t n)
{
    size_t e = 0;
    for (size_t i = 0; i < n; i++)
        e += d[i].errors_b;
    return e;
}

int fs_diff_write_text(FILE *out, const fs_diff *d, size_t n, size_t top)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputs("\n", out);
        write_text_one(out, &d[i], top);
    }
    size_t e = total_errors(d, n);
    fprintf(out, "\nResult: %s", all_pass(d, n) ? "PASS" : "FAIL");
    if (e)
        fprintf(out, " (%zu error finding%s)", e, e == 1 ? "" : "s");
    fputc('\n', out);
    return ferror(out) ? -1 : 0;
}

static json_t *json_deltas(const fs_delta *v, size_t n, bool lengths)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(v[i].name));
        json_object_set_new(o, "change", json_string(change_name(v[i].change)));
        json_object_set_new(o, "before", fs_json_from_u64(v[i].a));
        json_object_set_new(o, "after", fs_json_from_u64(v[i].b));
        json_object_set_new(o, "delta", json_integer(v[i].delta));
        if (lengths) {
            json_object_set_new(o, "length_before", fs_json_from_u64(v[i].len_a));
            json_object_set_new(o, "length_after", fs_json_from_u64(v[i].len_b));
        }
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *json_refs(const fs_finding_ref *r, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(r[i].id));
        json_object_set_new(o, "severity", json_string(r[i].severity));
        json_object_set_new(o, "subject", r[i].subject ? json_string(r[i].subject) : json_null());
        json_object_set_new(o, "message", r[i].message ? json_string(r[i].message) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *json_retained_new(const fs_diff *d)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < d->nretained_new; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(d->retained_new[i].name));
        json_object_set_new(o, "size", fs_json_from_u64(d->retained_new[i].a));
        json_object_set_new(o, "retained", fs_json_from_u64(d->retained_new[i].b));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *json_one(const fs_diff *d, size_t top)
{
    json_t *o = json_object();
    json_object_set_new(o, "label", json_string(d->label));
    json_object_set_new(o, "main_region",
                        d->main_region >= 0 ? json_string(d->regions[d->main_region].name) : json_null());
    json_object_set_new(o, "regions", json_deltas(d->regions, d->nregions, true));
    json_object_set_new(o, "sections", json_deltas(d->sections, d->nsections, false));
    json_object_set_new(o, "frozen", d->has_frozen ? json_deltas(d->frozen, d->nfrozen, false) : json_null());
    json_t *s = json_object();
    json_object_set_new(s, "changed", json_integer((json_int_t)d->nsymbols));
    json_object_set_new(s, "added", json_integer((json_int_t)d->added));
    json_object_set_new(s, "removed", json_integer((json_int_t)d->removed));
    json_object_set_new(s, "grown", json_integer((json_int_t)d->grown));
    json_object_set_new(s, "shrunk", json_integer((json_int_t)d->shrunk));
    json_object_set_new(s, "net", json_integer(d->symbols_net));
    json_object_set_new(s, "changes", json_deltas(d->symbols, top && top < d->nsymbols ? top : d->nsymbols, false));
    json_object_set_new(o, "symbols", s);
    json_object_set_new(o, "retained_new", json_retained_new(d));
    json_t *f = json_object();
    json_object_set_new(f, "appeared", json_refs(d->appeared, d->nappeared));
    json_object_set_new(f, "cleared", json_refs(d->cleared, d->ncleared));
    json_object_set_new(o, "findings", f);
    json_object_set_new(o, "errors", json_integer((json_int_t)d->errors_b));
    json_object_set_new(o, "warnings", json_integer((json_int_t)d->warnings_b));
    json_object_set_new(o, "verdict", json_string(fs_diff_pass(d) ? "pass" : "fail"));
    return o;
}

json_t *fs_diff_json(const fs_diff *d, size_t n, size_t top)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "schema", json_string("flashsize-diff"));
    json_object_set_new(doc, "schema_version", json_integer(FS_DIFF_SCHEMA_VERSION));
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_one(&d[i], top));
    json_object_set_new(doc, "boards", arr);
    json_object_set_new(doc, "verdict", json_string(all_pass(d, n) ? "pass" : "fail"));
    return doc;
}

int fs_diff_write_json(FILE *out, const fs_diff *d, size_t n, size_t top)
{
    json_t *doc = fs_diff_json(d, n, top);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text)
        return -1;
    int rc = fputs(text, out) >= 0 && fputc('\n', out) != EOF ? 0 : -1;
    free(text);
    return rc;
}

/* Markdown table cells must not break the table: escape | and backticks. */
static void md_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|' || *s == '`' || *s == '*' || *s == '_' || *s == '<' || *s == '>' || *s == '\\')
            fputc('\\', out);
        fputc(*s == '\n' ? ' ' : *s, out);
    }
}

static void md_rows(FILE *out, const char *what, const fs_delta *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char a[32], b[32], dl[40];
        fs_fmt_bytes(a, sizeof a, v[i].a);
        fs_fmt_bytes(b, sizeof b, v[i].b);
        fs_fmt_delta(dl, sizeof dl, v[i].delta);
        fprintf(out, "| %s | ", what);
        md_text(out, v[i].name);
        fprintf(out, " | %s | %s | %s | %s |\n", v[i].change == FS_CHANGE_ADDED ? "-" : a,
                v[i].change == FS_CHANGE_REMOVED ? "-" : b, dl, change_name(v[i].change));
    }
}

static void md_finding(FILE *out, const fs_finding_ref *f, bool appeared)
{
    fputs(appeared ? "- **new " : "- cleared ", out);
    fprintf(out, "%s `%s`", f->severity, f->id);
    if (f->subject) {
        fputs(" (", out);
        md_text(out, f->subject);
        fputs(")", out);
    }
    fputs(": ", out);
    md_text(out, f->message);
    fputs(appeared ? "**\n" : "\n", out);
}

/* "- **new: foo keeps 3,456 B alive**" for each new symbol that retains a lot. */
static size_t md_retained_new(FILE *out, const fs_diff *d, size_t n)
{
    size_t lines = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < d[i].nretained_new; k++, lines++) {
            char kept[32];
            fs_fmt_bytes(kept, sizeof kept, d[i].retained_new[k].b);
            fputs("- **new: ", out);
            md_text(out, d[i].retained_new[k].name);
            fprintf(out, " keeps %s B alive**", kept);
            if (n > 1) {
                fputs(" (", out);
                md_text(out, d[i].label);
                fputs(")", out);
            }
            fputs("\n", out);
        }
    return lines;
}

static void md_one(FILE *out, const fs_diff *d, size_t top)
{
    char net[40];
    fs_fmt_delta(net, sizeof net, d->symbols_net);
    fputs("<details><summary>", out);
    md_text(out, d->label);
    fprintf(out, ": %zu symbols changed (%zu added, %zu removed, %zu grown, %zu shrunk; net %s B)</summary>\n\n",
            d->nsymbols, d->added, d->removed, d->grown, d->shrunk, net);
    fputs("| | name | before | after | delta | change |\n|---|---|---:|---:|---:|---|\n", out);
    fs_delta *changed = calloc(d->nregions + 1, sizeof *changed);
    size_t nchanged = 0;
    for (size_t i = 0; changed && i < d->nregions; i++)
        if (d->regions[i].change != FS_CHANGE_SAME)
            changed[nchanged++] = d->regions[i];
    md_rows(out, "region", changed, nchanged);
    free(changed);
    md_rows(out, "section", d->sections, d->nsections);
    md_rows(out, "frozen", d->frozen, d->nfrozen);
    md_rows(out, "symbol", d->symbols, top && top < d->nsymbols ? top : d->nsymbols);
    if (top && top < d->nsymbols)
        fprintf(out, "\n%zu more changed symbols not shown.\n", d->nsymbols - top);
    fputs("\n</details>\n", out);
}

int fs_diff_write_markdown(FILE *out, const fs_diff *d, size_t n, size_t top)
{
    return fs_diff_write_markdown_forecast(out, d, n, top, NULL, 0);
}

/* The memory a finding is about, for pairing a cleared finding with the one
 * that replaced it: the subject without a leading '.', up to the first '.' or
 * '_' ("irom0_0_seg" and ".irom0.text" are both irom0). */
static size_t md_area(const fs_finding_ref *f, const char **p)
{
    const char *s = f->subject ? f->subject : "";
    if (*s == '.')
        s++;
    *p = s;
    return strcspn(s, "._");
}

static int md_severity_rank(const char *sev)
{
    return strcmp(sev, "error") == 0 ? 3 : strcmp(sev, "warning") == 0 ? 2 : 1;
}

/* The appeared finding of d that escalates cleared finding c (same area, a
 * higher severity), or -1. */
static long md_escalation(const fs_diff *d, const fs_finding_ref *c)
{
    const char *pc, *pa;
    size_t nc = md_area(c, &pc);
    for (size_t k = 0; nc && k < d->nappeared; k++) {
        const fs_finding_ref *a = &d->appeared[k];
        size_t na = md_area(a, &pa);
        if (na == nc && strncmp(pa, pc, nc) == 0 && md_severity_rank(a->severity) > md_severity_rank(c->severity))
            return (long)k;
    }
    return -1;
}

static bool md_unchanged(const fs_diff *d)
{
    for (size_t k = 0; k < d->nregions; k++)
        if (d->regions[k].change != FS_CHANGE_SAME || d->regions[k].delta != 0)
            return false;
    return d->nsections == 0 && d->nfrozen == 0 && d->nsymbols == 0 && d->nappeared == 0 && d->ncleared == 0 &&
           d->nretained_new == 0;
}

/* A board's findings, nested under its summary line: escalations (a cleared
 * finding replaced by a more severe one on the same memory), then the new
 * ones, then the cleared ones. */
static void md_board_findings(FILE *out, const fs_diff *d)
{
    bool *used = calloc(d->nappeared + 1, sizeof *used);
    for (size_t k = 0; k < d->ncleared; k++) {
        long e = md_escalation(d, &d->cleared[k]);
        if (e < 0 || !used || used[e])
            continue;
        used[e] = true;
        const fs_finding_ref *c = &d->cleared[k], *a = &d->appeared[e];
        fprintf(out, "  - **escalated: %s `%s` -> %s `%s`", c->severity, c->id, a->severity, a->id);
        if (a->subject) {
            fputs(" (", out);
            md_text(out, a->subject);
            fputs(")", out);
        }
        fputs(": ", out);
        md_text(out, a->message);
        fputs("**\n", out);
    }
    for (size_t k = 0; k < d->nappeared; k++)
        if (!used || !used[k]) {
            fputs("  ", out);
            md_finding(out, &d->appeared[k], true);
        }
    for (size_t k = 0; k < d->ncleared; k++) {
        long e = md_escalation(d, &d->cleared[k]);
        if (e >= 0 && used && used[e])
            continue;
        fputs("  ", out);
        md_finding(out, &d->cleared[k], false);
    }
    free(used);
}

int fs_diff_write_markdown_forecast(FILE *out, const fs_diff *d, size_t n, size_t top, const fs_forecast *fc, size_t nfc)
{
    fputs("<!-- flashsize-report -->\n### Firmware size report\n\n", out);
    size_t unchanged = 0;
    for (size_t i = 0; i < n; i++) {
        char line[256];
        summary_line(&d[i], line, sizeof line);
        fputs("- ", out);
        md_text(out, d[i].label);
        fprintf(out, ": %s", line);
        size_t others = 0;
        for (size_t k = 0; k < d[i].nregions; k++) {
            const fs_delta *r = &d[i].regions[k];
            if ((int)k == d[i].main_region || r->change == FS_CHANGE_SAME)
                continue;
            char dl[40];
            fs_fmt_delta(dl, sizeof dl, r->delta);
            fprintf(out, "%s%s %s B", others++ ? ", " : "; also ", region_short(r->name), dl);
        }
        if (md_unchanged(&d[i])) {
            fputs(", no change", out);
            unchanged++;
        }
        if (!fs_diff_pass(&d[i]))
            fputs(" - **fail**", out);
        fputs("\n", out);
        md_board_findings(out, &d[i]);
    }
    fputs("\n", out);
    if (md_retained_new(out, d, n))
        fputs("\n", out);
    if (fc && fs_forecast_any_near(fc, nfc)) {
        fputs("#### Forecast\n\n", out);
        for (size_t i = 0; i < nfc; i++)
            if (fs_forecast_write_markdown(out, &fc[i], NULL) < 0)
                return -1;
        fputs("\n", out);
    }
    /* an unchanged board is its one line: no table */
    for (size_t i = 0; i < n; i++)
        if (!md_unchanged(&d[i]))
            md_one(out, &d[i], top);
    size_t e = total_errors(d, n);
    if (all_pass(d, n))
        fputs("\n**Result: pass** - no error findings.\n", out);
    else
        fprintf(out, "\n**Result: fail** - %zu error finding%s.\n", e, e == 1 ? "" : "s");
    return ferror(out) ? -1 : 0;
}

int fs_diff_forecasts(const char *db_path, const fs_diff *d, size_t n, const char *board,
                      const fs_budget *budget, fs_forecast **out, size_t *nout, fs_error *err)
{
    *out = NULL;
    *nout = 0;
    fs_store *s;
    fs_store_opts so = {.readonly = true};
    if (fs_store_open(fs_store_path(db_path), &so, &s, err) < 0)
        return -1;
    size_t want = board ? 1 : n;
    fs_forecast *f = calloc(want + 1, sizeof *f);
    int rc = f ? 0 : fs_fail(err, "forecast: out of memory");
    size_t done = 0;
    for (; rc == 0 && done < want; done++) {
        fs_history_query q = {board ? board : d[done].label, NULL, NULL, 0};
        rc = fs_forecast_load(s, &q, NULL, budget, &f[done], err);
    }
    fs_store_close(s);
    if (rc < 0) {
        for (size_t i = 0; f && i < done; i++)
            fs_forecast_free(&f[i]);
        free(f);
        return -1;
    }
    *out = f;
    *nout = want;
    return 0;
}
