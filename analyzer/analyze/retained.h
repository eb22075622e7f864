/*
 * retained.h - the "retained" part of an analysis: the largest retained
 * sizes of the reference graph, as owned copies, and its formatters.
 *
 * Kept apart from refgraph.h, which computes it with Capstone, so that the
 * outputs and the whole analysis (analysis.c) do not depend on Capstone: the
 * computation is handed to fs_analysis_run as a function (see
 * fs_retained_for_analysis in refgraph.h) by the commands that want it.
 */
#ifndef FS_RETAINED_H
#define FS_RETAINED_H

#include <stdio.h>

#include <jansson.h>

#include "model.h"

/* The analysis document's "retained" part: the method and the largest
 * retained sizes, owned copies (the graph is freed once they are taken). */
#define FS_RETAINED_TOP 50
#define FS_RETAINED_MAX_SYMBOLS 100000  /* larger symbol tables: skipped */

typedef struct fs_retained_sym {
    char *name, *section;
    char *dominator;             /* immediate dominator's name, NULL for a root */
    uint64_t size, retained;
} fs_retained_sym;

typedef struct fs_retained {
    bool computed;               /* false: skipped, note says why */
    char method[64];             /* "xtensa-decoder+data-scan", ... */
    char note[512];
    size_t nodes, edges, roots, unreferenced;
    uint64_t total;
    fs_retained_sym *syms; size_t nsyms;   /* largest first, at most top */
} fs_retained;

void fs_retained_free(fs_retained *r);
/* {"method", "nodes", "edges", "roots", "unreferenced", "total", "symbols":
 * [{"name", "size", "retained", "section", "dominator"}]}
 * or {"method": null, "skipped": NOTE, "symbols": []}; NULL on OOM. */
json_t *fs_retained_json(const fs_retained *r);
/* The "Largest retained sizes" table (top rows, 0 = all); 0 or -1. */
int fs_retained_text(FILE *out, const fs_retained *r, size_t top);

/* Compute the retained part for an analysis of img (file bytes data[0..len),
 * or read img->path when data is NULL), with the roots file of board under
 * rules_dir, when given.  0, or -1 with err set. */
typedef int (*fs_retained_fn)(const fs_image *img, const uint8_t *data, size_t len, const char *rules_dir,
                              const char *board, fs_retained *out, fs_error *err);

#endif
