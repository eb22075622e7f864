/*
 * forecast.h - where a board's regions are heading: the least-squares
 * trend of each region's used bytes over its last builds, and when, at that
 * trend, the region (or its budget) runs out.
 *
 * Ideas:
 *   - Two slopes per region: bytes per build (x = the build's position in
 *     the window, oldest 0) and bytes per day (x = the build's time).  The
 *     first answers "how many more PRs like these", the second "by when".
 *   - The projection starts from the newest build's actual size, not from
 *     the fitted line: remaining = limit - used, builds = ceil(remaining /
 *     per-build slope), date = newest time + remaining / per-day slope.
 *   - A region is "near" when it is full or will be within near_builds
 *     builds or near_days days; the PR comment shows only those.
 *   - fs_forecast_compute is pure arithmetic over borrowed samples, so tests
 *     feed it histories with known slopes; fs_forecast_load fills the
 *     samples from the store (every region of each stored analysis).
 *
 * Ownership: an fs_forecast owns its strings and arrays; fs_forecast_free.
 * Errors follow model.h.
 */
#ifndef FS_FORECAST_H
#define FS_FORECAST_H

#include "budget.h"
#include "model.h"

#include <stdio.h>

#define FS_FORECAST_SCHEMA_VERSION 1
#define FS_FORECAST_WINDOW         20
#define FS_FORECAST_NEAR_BUILDS    30
#define FS_FORECAST_NEAR_DAYS      90
#define FS_FORECAST_MAX_WINDOW     10000

/* One region of one build (borrowed strings). */
typedef struct fs_forecast_sample {
    const char *region;
    uint64_t used;
    uint64_t limit;        /* the region's length, or a budget's max; 0 = no limit */
    bool budget;           /* limit is a budget's max */
} fs_forecast_sample;

/* One build, oldest first in the array given to fs_forecast_compute. */
typedef struct fs_forecast_build {
    int64_t timestamp;     /* seconds since 1970 */
    const fs_forecast_sample *regions;
    size_t nregions;
} fs_forecast_build;

typedef struct fs_forecast_opts {
    size_t window;         /* last N builds; 0 = FS_FORECAST_WINDOW */
    double near_builds;    /* 0 = FS_FORECAST_NEAR_BUILDS */
    double near_days;      /* 0 = FS_FORECAST_NEAR_DAYS */
} fs_forecast_opts;

typedef enum {
    FS_TREND_UNKNOWN = 0,  /* fewer than two builds with this region */
    FS_TREND_FULL,         /* used >= limit now */
    FS_TREND_GROWING,      /* positive per-build slope: builds_left is set */
    FS_TREND_STEADY        /* flat or shrinking: never runs out at this trend */
} fs_trend;

typedef struct fs_forecast_region {
    char *name;
    uint64_t used, limit;  /* at the newest build that has the region */
    bool budget;
    size_t points;         /* builds of the window that have the region */
    fs_trend trend;
    double per_build;      /* bytes per build (0 if unknown) */
    bool has_per_day;      /* the builds span more than one instant */
    double per_day;        /* bytes per day */
    uint64_t builds_left;  /* GROWING: builds until used >= limit; FULL: 0 */
    bool has_date;         /* per_day > 0 (or FULL) */
    double days_left;
    int64_t full_at;       /* timestamp when limit is reached at per_day */
    bool near;
} fs_forecast_region;

typedef struct fs_forecast {
    char *board;
    size_t builds;         /* builds in the window */
    int64_t first_ts, last_ts;
    fs_forecast_opts opts; /* with the defaults filled in */
    fs_forecast_region *regions; size_t nregions;  /* the newest build's order */
} fs_forecast;

/* Trends of every limited region over the last opts->window builds (the
 * array is oldest first).  board (may be NULL) is copied as a label. */
int fs_forecast_compute(const fs_forecast_build *builds, size_t n, const char *board, const fs_forecast_opts *opts,
                        fs_forecast *out, fs_error *err);
void fs_forecast_free(fs_forecast *f);

/* Compute from the store: the board's last window builds (q->limit is
 * ignored), every region of each stored analysis; with a budget (may be
 * NULL) whose max replaces the region's length as the limit. */
struct fs_store;          /* store.h: an analysis does not include the store */
struct fs_history_query;
int fs_forecast_load(struct fs_store *s, const struct fs_history_query *q, const fs_forecast_opts *opts,
                     const fs_budget *budget, fs_forecast *out, fs_error *err);

/* Formats.  Return 0 or -1 on a write error. */
int fs_forecast_write_text(FILE *out, const fs_forecast *f);
int fs_forecast_write_json(FILE *out, const fs_forecast *f);
/* The JSON object fs_forecast_write_json writes (a new reference, NULL when
 * out of memory); `flashsize history` embeds it as "forecast". */
json_t *fs_forecast_json(const fs_forecast *f);
/* The Markdown bullet lines of the near regions only (nothing if none);
 * *lines (may be NULL) gets their count. */
int fs_forecast_write_markdown(FILE *out, const fs_forecast *f, size_t *lines);

/* Does any region of the n forecasts run out soon (near)? */
bool fs_forecast_any_near(const fs_forecast *f, size_t n);

const char *fs_trend_name(fs_trend t);

#endif
