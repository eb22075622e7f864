/*
 * diff.h - what changed between two analyses of a firmware: regions,
 * sections, frozen modules, symbols and findings; as text, JSON
 * ("flashsize-diff" v1, docs/store.md) or the Markdown of a PR comment.
 *
 * Both sides are analysis documents (schema "flashsize-analysis"), however
 * they were obtained: fs_input_load turns a stored build, a JSON file or an
 * ELF into one.  The diff only computes; the fs_diff_write_* functions only
 * format, from the fs_diff alone, so the same inputs always give the same
 * bytes (no times, no paths beyond the labels given).
 */
#ifndef FS_DIFF_H
#define FS_DIFF_H

#include "fmt.h" /* fs_fmt_bytes, fs_fmt_delta: the numbers of every report */
#include "model.h"

#include <jansson.h>
#include <stdio.h>

#define FS_DIFF_SCHEMA_VERSION 1
#define FS_DIFF_RETAINED_MIN 1024  /* bytes a new symbol must keep alive to be named */
#define FS_DIFF_RETAINED_TOP 10    /* ... or its rank in B's retained list */

typedef struct fs_input_opts {
    const char *db_path;    /* store for build:ID / commit:SHA (NULL = fs_store_path default) */
    const char *board;      /* board layout for ELF inputs, or NULL (regions from the ELF) */
    const char *rules_dir;  /* where --board names are looked up; NULL = fs_rules_dir() */
} fs_input_opts;

/* Load spec as an analysis: "build:ID" or "commit:SHA[@BOARD]" (from the
 * store), an ELF file (analyzed now) or an analysis JSON file.  *doc and
 * *label (the board name when known, else the file's base name) are owned
 * by the caller. */
int fs_input_load(const char *spec, const fs_input_opts *o, json_t **doc, char **label, fs_error *err);

typedef enum { FS_CHANGE_SAME = 0, FS_CHANGE_ADDED, FS_CHANGE_REMOVED, FS_CHANGE_GROWN, FS_CHANGE_SHRUNK } fs_change;

/* One named thing on both sides (a region, section, frozen module, symbol). */
typedef struct fs_delta {
    char *name;
    uint64_t a, b;          /* size (used bytes for regions); 0 when absent */
    uint64_t len_a, len_b;  /* regions: length */
    fs_change change;
    int64_t delta;          /* b - a */
} fs_delta;

typedef struct fs_finding_ref {
    char *id, *severity, *subject, *message;
} fs_finding_ref;

typedef struct fs_diff {
    char *label;                      /* board name (or file name) of B */
    fs_delta *regions;  size_t nregions;   /* every region, B's order then A-only */
    fs_delta *sections; size_t nsections;  /* changed sections only */
    fs_delta *frozen;   size_t nfrozen;    /* changed frozen modules only */
    bool has_frozen;                  /* either side carried a "frozen" array */
    fs_delta *symbols;  size_t nsymbols;   /* changed symbols, by |delta| then name */
    size_t added, removed, grown, shrunk;
    int64_t symbols_net;
    fs_finding_ref *appeared; size_t nappeared;
    fs_finding_ref *cleared;  size_t ncleared;
    int main_region;                  /* index into regions, -1 if none */
    size_t errors_b, warnings_b;      /* findings of B */
    /* Symbols B adds (absent from A's symbols and retained lists) whose
     * retained size is at least FS_DIFF_RETAINED_MIN bytes, or that are among
     * B's FS_DIFF_RETAINED_TOP largest, and whose dominator is not itself
     * such a new symbol; b = retained bytes, a = own size.  Empty when
     * either side has no "retained" list. */
    fs_delta *retained_new; size_t nretained_new;
} fs_diff;

/* Compare two validated analysis documents. */
int fs_diff_compute(const json_t *a, const json_t *b, const char *label, fs_diff *out, fs_error *err);
/* The same, with the symbols of each side given as indexed tables (the
 * documents' own "symbols" arrays, if any, are not read). */
struct fs_symtab;
int fs_diff_compute_tabs(const json_t *a, const struct fs_symtab *sa, const json_t *b, const struct fs_symtab *sb,
                         const char *label, fs_diff *out, fs_error *err);
/* Read the "retained_new" list of a saved diff JSON board into d (absent:
 * nothing); errors name the file (name). */
int fs_diff_retained_from_json(const json_t *arr, const char *name, fs_diff *d, fs_error *err);
void fs_diff_free(fs_diff *d);

/* Does B pass (no error findings)? */
bool fs_diff_pass(const fs_diff *d);

/* Formatters over n diffs (one per board); top limits the symbols listed
 * (0 = all).  Return 0, or -1 on a write error. */
int fs_diff_write_text(FILE *out, const fs_diff *d, size_t n, size_t top);
/* The flashsize-diff document of n boards (a new reference; NULL when out of memory). */
json_t *fs_diff_json(const fs_diff *d, size_t n, size_t top);
int fs_diff_write_json(FILE *out, const fs_diff *d, size_t n, size_t top);
int fs_diff_write_markdown(FILE *out, const fs_diff *d, size_t n, size_t top);
/* The same Markdown with a "#### Forecast" block of the regions near their
 * limit in the nf forecasts fc (forecast.h), after the findings; no block
 * when none is near, so then the bytes equal fs_diff_write_markdown's. */
struct fs_forecast;
int fs_diff_write_markdown_forecast(FILE *out, const fs_diff *d, size_t n, size_t top, const struct fs_forecast *fc,
                                    size_t nfc);

/* The forecast of each board of a report, from the store at db_path (NULL =
 * fs_store_path default), read-only: one per board label of the n diffs, or
 * only board when it is not NULL; with a budget (may be NULL) as the limits.
 * *out (n or 1 entries, *nout) freed with fs_forecast_free each, then free. */
struct fs_budget;
int fs_diff_forecasts(const char *db_path, const fs_diff *d, size_t n, const char *board,
                      const struct fs_budget *budget, struct fs_forecast **out, size_t *nout, fs_error *err);

#endif
