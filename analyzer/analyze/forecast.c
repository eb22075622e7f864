/*
 * forecast.c - least-squares trends of a board's regions and when they run
 * out (see forecast.h).  Compute, load from the store, and format.
 */
#include "forecast.h"
#include "fmt.h"
#include "store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SECONDS_PER_DAY 86400.0
#define FC_MAX_BUILDS_LEFT 1e12   /* beyond this a trend is "steady" for all purposes */

const char *fs_trend_name(fs_trend t)
{
    static const char *const names[] = {"unknown", "full", "growing", "steady"};
    return names[t];
}

void fs_forecast_free(fs_forecast *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nregions; i++)
        free(f->regions[i].name);
    free(f->regions);
    free(f->board);
    memset(f, 0, sizeof *f);
}

/* Slope of the least-squares line through (x[i], y[i]); false if x has no spread. */
static bool fc_slope(const double *x, const double *y, size_t n, double *slope)
{
    if (n < 2)
        return false;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++)
        mx += x[i], my += y[i];
    mx /= (double)n;
    my /= (double)n;
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    if (sxx <= 0)
        return false;
    *slope = sxy / sxx;
    return true;
}

static const fs_forecast_sample *fc_find(const fs_forecast_build *b, const char *name)
{
    for (size_t i = 0; i < b->nregions; i++)
        if (b->regions[i].region && strcmp(b->regions[i].region, name) == 0)
            return &b->regions[i];
    return NULL;
}

/* Projection of one region from the newest sample and the two slopes. */
static void fc_project(fs_forecast_region *r, const fs_forecast_opts *o, int64_t last_ts)
{
    if (r->used >= r->limit) {
        r->trend = FS_TREND_FULL;
        r->builds_left = 0;
        r->has_date = true;
        r->days_left = 0;
        r->full_at = last_ts;
        r->near = true;
        return;
    }
    if (r->points < 2) {
        r->trend = FS_TREND_UNKNOWN;
        return;
    }
    double remaining = (double)(r->limit - r->used);
    if (r->per_build > 0 && remaining / r->per_build < FC_MAX_BUILDS_LEFT) {
        r->trend = FS_TREND_GROWING;
        r->builds_left = (uint64_t)ceil(remaining / r->per_build);
    } else {
        r->trend = FS_TREND_STEADY;
    }
    if (r->has_per_day && r->per_day > 0 && remaining / r->per_day < FC_MAX_BUILDS_LEFT) {
        r->has_date = true;
        r->days_left = remaining / r->per_day;
        r->full_at = last_ts + (int64_t)floor(r->days_left * SECONDS_PER_DAY);
    }
    r->near = (r->trend == FS_TREND_GROWING && (double)r->builds_left <= o->near_builds) ||
              (r->has_date && r->days_left <= o->near_days);
}

/* Fill one region's trend from the window [b, b + n). */
static int fc_region(const fs_forecast_build *b, size_t n, const fs_forecast_sample *newest,
                     const fs_forecast_opts *o, fs_forecast_region *r, fs_error *err)
{
    double *xb = malloc(n * sizeof *xb), *xd = malloc(n * sizeof *xd), *y = malloc(n * sizeof *y);
    if (!xb || !xd || !y || !(r->name = strdup(newest->region))) {
        free(xb), free(xd), free(y);
        return fs_fail(err, "forecast: out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const fs_forecast_sample *s = fc_find(&b[i], newest->region);
        if (!s)
            continue;
        xb[k] = (double)i;
        xd[k] = (double)(b[i].timestamp - b[n - 1].timestamp) / SECONDS_PER_DAY;
        y[k] = (double)s->used;
        k++;
    }
    r->used = newest->used;
    r->limit = newest->limit;
    r->budget = newest->budget;
    r->points = k;
    if (!fc_slope(xb, y, k, &r->per_build))
        r->per_build = 0;
    r->has_per_day = fc_slope(xd, y, k, &r->per_day);
    if (!r->has_per_day)
        r->per_day = 0;
    free(xb), free(xd), free(y);
    fc_project(r, o, b[n - 1].timestamp);
    return 0;
}

int fs_forecast_compute(const fs_forecast_build *builds, size_t n, const char *board, const fs_forecast_opts *opts,
                        fs_forecast *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    fs_forecast_opts o = opts ? *opts : (fs_forecast_opts){0};
    if (!o.window)
        o.window = FS_FORECAST_WINDOW;
    if (o.near_builds <= 0)
        o.near_builds = FS_FORECAST_NEAR_BUILDS;
    if (o.near_days <= 0)
        o.near_days = FS_FORECAST_NEAR_DAYS;
    if (o.window > FS_FORECAST_MAX_WINDOW)
        return fs_fail(err, "forecast: window of %zu builds is more than %d", o.window, FS_FORECAST_MAX_WINDOW);
    out->opts = o;
    if (board && !(out->board = strdup(board)))
        return fs_fail(err, "forecast: out of memory");
    if (n > o.window) {
        builds += n - o.window;
        n = o.window;
    }
    out->builds = n;
    if (n == 0)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (builds[i].timestamp < builds[i - 1].timestamp)
            return fs_fail(err, "forecast: builds are not oldest first (build %zu is older than build %zu)", i, i - 1);
    out->first_ts = builds[0].timestamp;
    out->last_ts = builds[n - 1].timestamp;
    const fs_forecast_build *last = &builds[n - 1];
    out->regions = calloc(last->nregions + 1, sizeof *out->regions);
    if (!out->regions)
        return fs_fail(err, "forecast: out of memory");
    for (size_t i = 0; i < last->nregions; i++) {
        const fs_forecast_sample *s = &last->regions[i];
        if (!s->region || s->limit == 0 || fc_find(last, s->region) != s)
            continue;
        if (fc_region(builds, n, s, &o, &out->regions[out->nregions++], err) < 0) {
            fs_forecast_free(out);
            return -1;
        }
    }
    return 0;
}

/* ---- from the store ----------------------------------------------------------- */

/* The budget max that applies to region reg (main: is it the main region?). */
static bool fc_budget_max(const fs_budget *b, const char *reg, bool main, uint64_t *max)
{
    for (size_t i = 0; b && i < b->nregions; i++) {
        const fs_region_budget *rb = &b->regions[i];
        if (rb->has_max && ((rb->region && strcmp(rb->region, reg) == 0) || (!rb->region && main))) {
            *max = rb->max;
            return true;
        }
    }
    return false;
}

/* The samples of one stored analysis (strings borrowed from doc). */
static int fc_samples(const json_t *doc, const fs_budget *budget, fs_forecast_build *b, fs_error *err)
{
    const json_t *regs = json_object_get(doc, "regions");
    const json_t *main = fs_analysis_main_region(doc);
    size_t n = json_array_size(regs);
    fs_forecast_sample *s = calloc(n + 1, sizeof *s);
    if (!s)
        return fs_fail(err, "forecast: out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *r = json_array_get(regs, i);
        const char *name = json_string_value(json_object_get(r, "name"));
        uint64_t used, length, max;
        if (!name || !fs_json_u64(json_object_get(r, "used"), &used) ||
            !fs_json_u64(json_object_get(r, "length"), &length))
            continue;
        s[k].region = name;
        s[k].used = used;
        s[k].limit = length;
        if (fc_budget_max(budget, name, r == main, &max)) {
            s[k].limit = max;
            s[k].budget = true;
        }
        k++;
    }
    b->regions = s;
    b->nregions = k;
    return 0;
}

int fs_forecast_load(fs_store *s, const fs_history_query *q, const fs_forecast_opts *opts, const fs_budget *budget,
                     fs_forecast *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    fs_history_query hq = *q;
    hq.limit = opts && opts->window ? opts->window : FS_FORECAST_WINDOW;
    if (hq.limit > FS_FORECAST_MAX_WINDOW)
        return fs_fail(err, "forecast: window of %zu builds is more than %d", hq.limit, FS_FORECAST_MAX_WINDOW);
    fs_history_row *rows;
    size_t n;
    if (fs_store_history(s, &hq, &rows, &n, err) < 0)
        return -1;
    fs_forecast_build *b = calloc(n + 1, sizeof *b);
    json_t **docs = calloc(n + 1, sizeof *docs);
    int rc = b && docs ? 0 : fs_fail(err, "forecast: out of memory");
    /* history is newest first; the forecast wants oldest first */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t k = n - 1 - i;
        b[k].timestamp = rows[i].build.timestamp;
        rc = fs_store_load_summary(s, rows[i].build.id, &docs[k], err);
        if (rc == 0)
            rc = fc_samples(docs[k], budget, &b[k], err);
    }
    if (rc == 0)
        rc = fs_forecast_compute(b, n, q->board, opts, out, err);
    for (size_t i = 0; i < n; i++) {
        if (b)
            free((void *)b[i].regions);
        if (docs)
            json_decref(docs[i]);
    }
    free(b);
    free(docs);
    fs_history_free(rows, n);
    return rc;
}

/* ---- formats ------------------------------------------------------------------ */

static void fc_date(int64_t ts, char *buf, size_t len)
{
    time_t t = (time_t)ts;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d", &tm))
        snprintf(buf, len, "%lld", (long long)ts);
}

/* "+1,234.5" bytes with one decimal. */
static void fc_rate(char *buf, size_t len, double v)
{
    double mag = fabs(v);
    uint64_t whole = (uint64_t)mag;
    unsigned tenth = (unsigned)llround((mag - (double)whole) * 10.0);
    if (tenth == 10)
        whole++, tenth = 0;
    char digits[40];
    fs_fmt_bytes(digits, sizeof digits, whole);
    snprintf(buf, len, "%s%s.%u", v < 0 && (whole || tenth) ? "-" : "+", digits, tenth);
}

/* "full now", "12 builds, 2024-05-01", "never (steady)" ... */
static void fc_when(const fs_forecast_region *r, char *buf, size_t len)
{
    char date[32] = "";
    if (r->has_date)
        fc_date(r->full_at, date, sizeof date);
    switch (r->trend) {
    case FS_TREND_FULL: snprintf(buf, len, "full now"); break;
    case FS_TREND_UNKNOWN: snprintf(buf, len, "unknown (one build)"); break;
    case FS_TREND_STEADY:
        if (r->has_date)
            snprintf(buf, len, "around %s", date);
        else
            snprintf(buf, len, "not at this trend");
        break;
    case FS_TREND_GROWING:
        if (r->has_date)
            snprintf(buf, len, "in %llu build%s, around %s", (unsigned long long)r->builds_left,
                     r->builds_left == 1 ? "" : "s", date);
        else
            snprintf(buf, len, "in %llu build%s", (unsigned long long)r->builds_left, r->builds_left == 1 ? "" : "s");
        break;
    }
}

int fs_forecast_write_text(FILE *out, const fs_forecast *f)
{
    fprintf(out, "%s: trend over the last %zu build%s", f->board ? f->board : "forecast", f->builds,
            f->builds == 1 ? "" : "s");
    if (f->builds) {
        char a[32], b[32];
        fc_date(f->first_ts, a, sizeof a);
        fc_date(f->last_ts, b, sizeof b);
        fprintf(out, " (%s to %s)", a, b);
    }
    fprintf(out, "\n  %-16s %12s %12s %6s %14s %14s  %s\n", "region", "used", "limit", "use%", "B/build", "B/day",
            "runs out");
    for (size_t i = 0; i < f->nregions; i++) {
        const fs_forecast_region *r = &f->regions[i];
        char used[32], limit[40], pb[48], pd[48], when[96];
        fs_fmt_bytes(used, sizeof used, r->used);
        fs_fmt_bytes(limit, sizeof limit, r->limit);
        if (r->budget)
            strcat(limit, "*");
        fc_rate(pb, sizeof pb, r->per_build);
        if (r->has_per_day)
            fc_rate(pd, sizeof pd, r->per_day);
        else
            snprintf(pd, sizeof pd, "-");
        if (r->points < 2)
            snprintf(pb, sizeof pb, "-");
        fc_when(r, when, sizeof when);
        fprintf(out, "  %-16s %12s %12s %5.1f%% %14s %14s  %s%s\n", r->name, used, limit,
                (double)r->used * 100.0 / (double)r->limit, pb, pd, when, r->near ? "  <- near" : "");
    }
    if (f->nregions == 0)
        fprintf(out, "  (no builds with sized regions)\n");
    for (size_t i = 0; i < f->nregions; i++)
        if (f->regions[i].budget) {
            fputs("  * limit is the budget's max, not the region's length\n", out);
            break;
        }
    return ferror(out) ? -1 : 0;
}

static json_t *fc_json_region(const fs_forecast_region *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(r->name));
    json_object_set_new(o, "used", json_integer((json_int_t)r->used));
    json_object_set_new(o, "limit", json_integer((json_int_t)r->limit));
    json_object_set_new(o, "limit_source", json_string(r->budget ? "budget" : "length"));
    json_object_set_new(o, "points", json_integer((json_int_t)r->points));
    json_object_set_new(o, "trend", json_string(fs_trend_name(r->trend)));
    json_object_set_new(o, "bytes_per_build", r->points >= 2 ? json_real(r->per_build) : json_null());
    json_object_set_new(o, "bytes_per_day", r->has_per_day ? json_real(r->per_day) : json_null());
    bool bl = r->trend == FS_TREND_GROWING || r->trend == FS_TREND_FULL;
    json_object_set_new(o, "builds_left", bl ? json_integer((json_int_t)r->builds_left) : json_null());
    json_object_set_new(o, "days_left", r->has_date ? json_real(r->days_left) : json_null());
    char date[32];
    if (r->has_date)
        fc_date(r->full_at, date, sizeof date);
    json_object_set_new(o, "full_timestamp", r->has_date ? json_integer(r->full_at) : json_null());
    json_object_set_new(o, "full_date", r->has_date ? json_string(date) : json_null());
    json_object_set_new(o, "near", json_boolean(r->near));
    return o;
}

json_t *fs_forecast_json(const fs_forecast *f)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "schema", json_string("flashsize-forecast"));
    json_object_set_new(doc, "schema_version", json_integer(FS_FORECAST_SCHEMA_VERSION));
    json_object_set_new(doc, "board", f->board ? json_string(f->board) : json_null());
    json_object_set_new(doc, "window", json_integer((json_int_t)f->opts.window));
    json_object_set_new(doc, "builds", json_integer((json_int_t)f->builds));
    json_object_set_new(doc, "first_timestamp", f->builds ? json_integer(f->first_ts) : json_null());
    json_object_set_new(doc, "last_timestamp", f->builds ? json_integer(f->last_ts) : json_null());
    json_object_set_new(doc, "near_builds", json_real(f->opts.near_builds));
    json_object_set_new(doc, "near_days", json_real(f->opts.near_days));
    json_t *arr = json_array();
    for (size_t i = 0; i < f->nregions; i++)
        json_array_append_new(arr, fc_json_region(&f->regions[i]));
    json_object_set_new(doc, "regions", arr);
    return doc;
}

int fs_forecast_write_json(FILE *out, const fs_forecast *f)
{
    json_t *doc = fs_forecast_json(f);
    if (!doc)
        return -1;
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (!text)
        return -1;
    int rc = fputs(text, out) >= 0 && fputc('\n', out) != EOF ? 0 : -1;
    free(text);
    return rc;
}

int fs_forecast_write_markdown(FILE *out, const fs_forecast *f, size_t *lines)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nregions; i++) {
        const fs_forecast_region *r = &f->regions[i];
        if (!r->near)
            continue;
        char used[32], limit[32], pb[48], when[96];
        fs_fmt_bytes(used, sizeof used, r->used);
        fs_fmt_bytes(limit, sizeof limit, r->limit);
        fc_rate(pb, sizeof pb, r->per_build);
        fc_when(r, when, sizeof when);
        fprintf(out, "- forecast %s: %s %s of %s B%s; %s B per build over %zu builds; %s %s\n",
                f->board ? f->board : "", r->name, used, limit, r->budget ? " (budget)" : "", pb, r->points,
                r->trend == FS_TREND_FULL ? "limit reached:" : "at this trend it runs out", when);
        n++;
    }
    if (lines)
        *lines = n;
    return ferror(out) ? -1 : 0;
}

bool fs_forecast_any_near(const fs_forecast *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < f[i].nregions; k++)
            if (f[i].regions[k].near)
                return true;
    return false;
}

