/*
 * budget.c - read budget files and evaluate them (see budget.h).
 *
 * The evaluation reads only the analysis documents, so a budget is checked
 * the same way against an ELF analyzed now, a JSON file or a stored build.
 * Limits are inclusive: used == max passes, used == max + 1 fails.
 */
#include "budget.h"

#include "symtab.h"

#include "fmt.h"
#include "ldscript.h"
#include "document.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUDGET_MAX_FILE_BYTES (1u << 20) /* a budget file is a few lines */

typedef struct budget_ctx {
    fs_budget *b;
    char msg[512];
    bool seen_budget;
} budget_ctx;

static int bctx_fail(budget_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bctx_fail(budget_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return 0;
}

/* ---- byte values: ld expressions, checked for sign and range ---------------- */

static int budget_bytes(budget_ctx *c, const char *key, const char *value, uint64_t *out)
{
    char why[256];
    if (fs_expr_eval_size(value, NULL, NULL, out, why, sizeof why) < 0)
        return bctx_fail(c, "bad value for '%s': %s", key, why);
    return 1;
}

static int budget_percent(budget_ctx *c, const char *key, const char *value, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || end == value || *end || !(v >= 0 && v <= max))
        return bctx_fail(c, "bad value for '%s': '%s' is not a percentage from 0 to %g", key, value, max);
    *out = v;
    return 1;
}

static fs_region_budget *budget_region(budget_ctx *c, const char *name)
{
    fs_budget *b = c->b;
    for (size_t i = 0; i < b->nregions; i++) {
        const char *r = b->regions[i].region;
        if ((!r && !name) || (r && name && strcmp(r, name) == 0))
            return &b->regions[i];
    }
    if (b->nregions == FS_BUDGET_MAX_RULES) {
        bctx_fail(c, "more than %d region budgets", FS_BUDGET_MAX_RULES);
        return NULL;
    }
    fs_region_budget *grown = realloc(b->regions, (b->nregions + 1) * sizeof *grown);
    if (!grown) {
        bctx_fail(c, "out of memory");
        return NULL;
    }
    b->regions = grown;
    fs_region_budget *r = &b->regions[b->nregions];
    memset(r, 0, sizeof *r);
    if (name && !(r->region = strdup(name))) {
        bctx_fail(c, "out of memory");
        return NULL;
    }
    b->nregions++;
    return r;
}

static int budget_dup(budget_ctx *c, bool *seen, const char *key, const char *section)
{
    if (*seen)
        return bctx_fail(c, "'%s' given twice in [%s]", key, section);
    *seen = true;
    return 1;
}

static int budget_key_region(budget_ctx *c, const char *section, const char *region, const char *key,
                             const char *value)
{
    fs_region_budget *r = budget_region(c, region);
    if (!r)
        return 0;
    if (strcmp(key, "max") == 0)
        return budget_dup(c, &r->has_max, key, section) && budget_bytes(c, key, value, &r->max);
    if (strcmp(key, "warn_percent") == 0)
        return budget_dup(c, &r->has_warn, key, section) && budget_percent(c, key, value, 100, &r->warn_percent);
    if (strcmp(key, "max_growth_bytes") == 0)
        return budget_dup(c, &r->has_growth_bytes, key, section) &&
               budget_bytes(c, key, value, &r->max_growth_bytes);
    if (strcmp(key, "max_growth_percent") == 0)
        return budget_dup(c, &r->has_growth_pct, key, section) &&
               budget_percent(c, key, value, 100, &r->max_growth_percent);
    return bctx_fail(c, "unknown key '%s' in [%s] (known: max, warn_percent, max_growth_bytes, max_growth_percent%s)",
                     key, section, region ? "" : ", board");
}

static int budget_key_frozen(budget_ctx *c, const char *key, const char *value)
{
    fs_budget *b = c->b;
    if (strcmp(key, "max") == 0)
        return budget_dup(c, &b->has_frozen_max, key, "budget frozen") && budget_bytes(c, key, value, &b->frozen_max);
    if (strncmp(key, "module.", 7) != 0 || !key[7])
        return bctx_fail(c, "unknown key '%s' in [budget frozen] (known: max, module.NAME)", key);
    for (size_t i = 0; i < b->nmodules; i++)
        if (strcmp(b->modules[i].name, key + 7) == 0)
            return bctx_fail(c, "'%s' given twice in [budget frozen]", key);
    if (b->nmodules == FS_BUDGET_MAX_RULES)
        return bctx_fail(c, "more than %d module budgets", FS_BUDGET_MAX_RULES);
    fs_module_budget *grown = realloc(b->modules, (b->nmodules + 1) * sizeof *grown);
    if (!grown)
        return bctx_fail(c, "out of memory");
    b->modules = grown;
    fs_module_budget *m = &b->modules[b->nmodules];
    if (!budget_bytes(c, key, value, &m->max))
        return 0;
    if (!(m->name = strdup(key + 7)))
        return bctx_fail(c, "out of memory");
    b->nmodules++;
    return 1;
}

static int budget_handler(void *user, const char *section, const char *key, const char *value)
{
    budget_ctx *c = user;
    if (c->msg[0])
        return 1;
    if (!key)
        return 1;
    if (strcmp(section, "budget") == 0) {
        c->seen_budget = true;
        if (strcmp(key, "board") == 0) {
            if (c->b->board)
                return bctx_fail(c, "'board' given twice in [budget]");
            if (!*value)
                return bctx_fail(c, "empty 'board' in [budget]");
            return (c->b->board = strdup(value)) ? 1 : bctx_fail(c, "out of memory");
        }
        return budget_key_region(c, section, NULL, key, value);
    }
    if (strncmp(section, "budget region ", 14) == 0 && section[14])
        return budget_key_region(c, section, section + 14, key, value);
    if (strcmp(section, "budget frozen") == 0)
        return budget_key_frozen(c, key, value);
    if (strcmp(section, "budget symbols") == 0) {
        if (strcmp(key, "new_symbol_max") == 0)
            return budget_dup(c, &c->b->has_new_symbol_max, key, section) &&
                   budget_bytes(c, key, value, &c->b->new_symbol_max);
        return bctx_fail(c, "unknown key '%s' in [budget symbols] (known: new_symbol_max)", key);
    }
    if (!section[0])
        return bctx_fail(c, "key '%s' outside any [section]", key);
    return bctx_fail(c, "unknown section [%s] (known: [budget], [budget region NAME], [budget frozen], "
                        "[budget symbols])", section);
}

/* The line of the [budget] header, for the "missing board" message. */
static int budget_header_line(const char *path)
{
    FILE *f = fs_fopen_input(path, "r", NULL);
    if (!f)
        return 1;
    char line[512];
    int n = 0, found = 1;
    while (fgets(line, sizeof line, f)) {
        n++;
        const char *p = line + strspn(line, " \t");
        if (strncmp(p, "[budget]", 8) == 0) {
            found = n;
            break;
        }
    }
    fclose(f);
    return found;
}

int fs_budget_load(const char *path, fs_budget *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    budget_ctx c = {.b = out};
    int rc = fs_ini_load(path, BUDGET_MAX_FILE_BYTES, budget_handler, &c, c.msg, err);
    if (rc == 0 && !out->board)
        rc = fs_fail(err, "%s:%d: missing 'board = NAME' in [budget] (the board these budgets are for)", path,
                     budget_header_line(path));
    else if (rc == 0 && !(out->path = strdup(path)))
        rc = fs_fail(err, "%s: out of memory", path);
    if (rc)
        fs_budget_free(out);
    return rc;
}

void fs_budget_free(fs_budget *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->nregions; i++)
        free(b->regions[i].region);
    for (size_t i = 0; i < b->nmodules; i++)
        free(b->modules[i].name);
    free(b->regions);
    free(b->modules);
    free(b->path);
    free(b->board);
    memset(b, 0, sizeof *b);
}

/* ---- evaluation --------------------------------------------------------------- */

static int result_add(fs_budget_result *r, fs_rule_status st, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int result_add(fs_budget_result *r, fs_rule_status st, const char *rule, const char *fmt, ...)
{
    fs_rule_result *grown = realloc(r->rules, (r->nrules + 1) * sizeof *grown);
    if (!grown)
        return -1;
    r->rules = grown;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fs_rule_result *e = &r->rules[r->nrules];
    e->rule = strdup(rule);
    e->message = strdup(msg);
    e->status = st;
    if (!e->rule || !e->message) {
        free(e->rule);
        free(e->message);
        return -1;
    }
    r->nrules++;
    r->failed += st == FS_RULE_FAIL;
    r->warned += st == FS_RULE_WARN;
    r->skipped += st == FS_RULE_SKIPPED;
    return 0;
}

static const json_t *region_named(const json_t *doc, const char *name)
{
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(doc, "regions"), i, r) {
        if (strcmp(json_string_value(json_object_get(r, "name")), name) == 0)
            return r;
    }
    return NULL;
}

static uint64_t u64_at(const json_t *o, const char *key)
{
    uint64_t v = 0;
    fs_json_u64(json_object_get(o, key), &v);
    return v;
}

static int check_region(const fs_region_budget *rb, const json_t *head, const json_t *base, fs_budget_result *r,
                        const char *path, fs_error *err)
{
    const json_t *reg = rb->region ? region_named(head, rb->region) : fs_analysis_main_region(head);
    if (!reg)
        return rb->region ? fs_fail(err, "%s: [budget region %s]: the analysis has no region '%s'", path, rb->region,
                                    rb->region)
                          : fs_fail(err, "%s: [budget]: the analysis has no memory regions", path);
    const char *name = json_string_value(json_object_get(reg, "name"));
    uint64_t used = u64_at(reg, "used"), length = u64_at(reg, "length");
    char rule[300], u[32], m[32], d[40];
    fs_fmt_bytes(u, sizeof u, used);
    int rc = 0;
    if (rb->has_max) {
        snprintf(rule, sizeof rule, "region %s max", name);
        fs_fmt_bytes(m, sizeof m, rb->max);
        if (used > rb->max) {
            fs_fmt_bytes(d, sizeof d, used - rb->max);
            rc |= result_add(r, FS_RULE_FAIL, rule, "used %s B > max %s B (over by %s B)", u, m, d);
        } else {
            fs_fmt_bytes(d, sizeof d, rb->max - used);
            rc |= result_add(r, FS_RULE_PASS, rule, "used %s B <= max %s B (%s B to spare)", u, m, d);
        }
    }
    if (rb->has_warn) {
        snprintf(rule, sizeof rule, "region %s warn_percent", name);
        double p = length ? (double)used * 100.0 / (double)length : 0.0;
        fs_fmt_bytes(m, sizeof m, length);
        rc |= result_add(r, p >= rb->warn_percent ? FS_RULE_WARN : FS_RULE_PASS, rule, "%.2f%% used (%s of %s B), warn at %g%%",
                         p, u, m, rb->warn_percent);
    }
    if (!rb->has_growth_bytes && !rb->has_growth_pct)
        return rc ? fs_fail(err, "%s: out of memory", path) : 0;
    const json_t *breg = base ? region_named(base, name) : NULL;
    uint64_t bused = breg ? u64_at(breg, "used") : 0;
    int64_t delta = (int64_t)(used - bused);
    fs_fmt_delta(d, sizeof d, delta);
    fs_fmt_bytes(m, sizeof m, bused);
    if (rb->has_growth_bytes) {
        snprintf(rule, sizeof rule, "region %s max_growth_bytes", name);
        char lim[32];
        fs_fmt_bytes(lim, sizeof lim, rb->max_growth_bytes);
        if (!breg)
            rc |= result_add(r, FS_RULE_SKIPPED, rule, base ? "the base has no region %s" : "no base given (--base)",
                             name);
        else
            rc |= result_add(r, delta > 0 && (uint64_t)delta > rb->max_growth_bytes ? FS_RULE_FAIL : FS_RULE_PASS, rule,
                             "grew %s B (from %s to %s B), max growth %s B", d, m, u, lim);
    }
    if (rb->has_growth_pct) {
        snprintf(rule, sizeof rule, "region %s max_growth_percent", name);
        if (!breg || !bused)
            rc |= result_add(r, FS_RULE_SKIPPED, rule,
                             !base ? "no base given (--base)" : "the base has no bytes in region %s", name);
        else {
            double p = (double)delta * 100.0 / (double)bused;
            rc |= result_add(r, p > rb->max_growth_percent ? FS_RULE_FAIL : FS_RULE_PASS, rule,
                             "grew %s B = %+.4f%% (from %s to %s B), max growth %g%%", d, p, m, u,
                             rb->max_growth_percent);
        }
    }
    return rc ? fs_fail(err, "%s: out of memory", path) : 0;
}

static int check_frozen(const fs_budget *b, const json_t *head, fs_budget_result *r)
{
    const json_t *mods = fs_analysis_frozen_modules(head);
    int rc = 0;
    char u[32], m[32];
    if (b->has_frozen_max) {
        uint64_t total = 0;
        const json_t *fz = json_object_get(head, "frozen");
        if (!fs_json_u64(json_object_get(fz, "total"), &total)) {
            size_t i;
            const json_t *e;
            json_array_foreach(mods, i, e) total += u64_at(e, "bytes");
        }
        fs_fmt_bytes(u, sizeof u, total);
        fs_fmt_bytes(m, sizeof m, b->frozen_max);
        rc |= result_add(r, total > b->frozen_max ? FS_RULE_FAIL : FS_RULE_PASS, "frozen max",
                         "frozen content %s B, max %s B%s", u, m, mods ? "" : " (the analysis has no frozen modules)");
    }
    for (size_t k = 0; k < b->nmodules; k++) {
        char rule[300];
        snprintf(rule, sizeof rule, "frozen module %s max", b->modules[k].name);
        const json_t *e = NULL, *x;
        size_t i;
        json_array_foreach(mods, i, x) {
            if (strcmp(json_string_value(json_object_get(x, "name")), b->modules[k].name) == 0)
                e = x;
        }
        fs_fmt_bytes(m, sizeof m, b->modules[k].max);
        if (!e) {
            rc |= result_add(r, FS_RULE_SKIPPED, rule, "no frozen module %s in the analysis", b->modules[k].name);
            continue;
        }
        uint64_t bytes = u64_at(e, "bytes");
        fs_fmt_bytes(u, sizeof u, bytes);
        rc |= result_add(r, bytes > b->modules[k].max ? FS_RULE_FAIL : FS_RULE_PASS, rule, "%s B, max %s B", u, m);
    }
    return rc;
}

/* New symbols (names not in base) larger than the limit: one failed rule each. */
static int check_new_symbols(const fs_budget *b, const fs_symtab *head, const fs_symtab *base, fs_budget_result *r)
{
    char m[32];
    fs_fmt_bytes(m, sizeof m, b->new_symbol_max);
    if (!base)
        return result_add(r, FS_RULE_SKIPPED, "symbols new_symbol_max", "no base given (--base)");
    /* which names are new: one walk over both name indexes */
    bool *is_new = calloc(head->n + 1, sizeof *is_new);
    if (!is_new)
        return -1;
    for (size_t i = 0, j = 0; i < head->n; i++) {
        const fs_sym *e = head->by_name[i];
        int c = 1;
        while (j < base->n && (c = strcmp(base->by_name[j]->name, e->name)) < 0)
            j++;
        is_new[e - head->v] = j == base->n || c != 0;
    }
    size_t bad = 0, fresh = 0;
    int rc = 0;
    for (size_t i = 0; i < head->n; i++) {
        const fs_sym *e = &head->v[i];
        if (!is_new[i])
            continue;
        fresh++;
        if (e->size <= b->new_symbol_max)
            continue;
        char u[32], rule[FS_ANALYSIS_MAX_STRING + 64];
        fs_fmt_bytes(u, sizeof u, e->size);
        snprintf(rule, sizeof rule, "symbols new_symbol_max %s", e->name);
        rc |= result_add(r, FS_RULE_FAIL, rule, "new symbol %s is %s B, max for a new symbol %s B", e->name, u, m);
        bad++;
    }
    free(is_new);
    if (!bad)
        rc |= result_add(r, FS_RULE_PASS, "symbols new_symbol_max", "%zu new symbols, none over %s B", fresh, m);
    return rc;
}

int fs_budget_check(const fs_budget *b, const json_t *head, const json_t *base, fs_budget_result *out, fs_error *err)
{
    fs_symtab hs, bs;
    int okh = fs_symtab_from_json(&hs, json_object_get(head, "symbols"));
    int okb = base ? fs_symtab_from_json(&bs, json_object_get(base, "symbols")) : (memset(&bs, 0, sizeof bs), 0);
    int rc = okh == 0 && okb == 0 ? fs_budget_check_tabs(b, head, &hs, base, base ? &bs : NULL, out, err)
                                  : (memset(out, 0, sizeof *out), fs_fail(err, "%s: out of memory", b->path));
    fs_symtab_free(&hs);
    fs_symtab_free(&bs);
    return rc;
}

int fs_budget_check_tabs(const fs_budget *b, const json_t *head, const fs_symtab *hs, const json_t *base,
                         const fs_symtab *bs, fs_budget_result *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    for (size_t i = 0; i < b->nregions && rc == 0; i++) {
        rc = check_region(&b->regions[i], head, base, out, b->path, err);
    }
    if (rc == 0 && check_frozen(b, head, out) != 0)
        rc = fs_fail(err, "%s: out of memory", b->path);
    if (rc == 0 && b->has_new_symbol_max && check_new_symbols(b, hs, base ? bs : NULL, out) != 0)
        rc = fs_fail(err, "%s: out of memory", b->path);
    if (rc)
        fs_budget_result_free(out);
    return rc;
}

void fs_budget_result_free(fs_budget_result *r)
{
    for (size_t i = 0; r && i < r->nrules; i++) {
        free(r->rules[i].rule);
        free(r->rules[i].message);
    }
    if (r) {
        free(r->rules);
        memset(r, 0, sizeof *r);
    }
}
