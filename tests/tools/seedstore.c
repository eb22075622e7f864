/*
 * seedstore.c - fill a size database with a long synthetic history, for
 * `make bench-server` (scripts/bench-server.sh) and the server fault tests.
 *
 *   seedstore DB ANALYSIS.json BUILDS BOARD... > SUMMARY
 *
 * Build i (0-based) is the analysis of ANALYSIS.json recorded through the
 * store's own API (fs_store_record, exactly what `flashsize record` and the
 * server's uploads call) as project "bench", board BOARD[i % nboards],
 * commit "seed" + 36 hex digits of i, branch "main" (every 10th build
 * "feature"), timestamp 1700000000 + 60 * i.  So that builds differ like a
 * CI history does, the main region's and its largest section's sizes grow by
 * 4 * i bytes, and the first symbol's size by i % 50 (50 distinct symbol
 * sets, shared between builds as the store shares equal ones).
 *
 * Ideas: the generator knows what it wrote, so it prints the ground truth
 * the callers check against: "builds N", then one "board NAME COUNT" line
 * per board.  Errors go to standard error, naming the file; exit status 2.
 */
#include "store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_PROJECT  "bench"
#define SEED_T0       1700000000
#define SEED_MAX_BOARDS 64

/* The three numbers that vary, found once in the base document: where they
 * are (borrowed) and what they were. */
typedef struct seed_knobs {
    json_t *obj[3];
    const char *key[3];
    uint64_t orig[3];
} seed_knobs;

static void seed_knob(seed_knobs *k, int n, json_t *o, const char *key)
{
    uint64_t v;
    if (o && fs_json_u64(json_object_get(o, key), &v)) {
        k->obj[n] = o;
        k->key[n] = key;
        k->orig[n] = v;
    }
}

/* The section of doc placed in region name with the largest size, or NULL. */
static json_t *seed_largest_section(json_t *doc, const char *region)
{
    json_t *best = NULL, *s;
    uint64_t best_size = 0, size;
    size_t i;
    json_array_foreach(json_object_get(doc, "sections"), i, s) {
        const char *r = json_string_value(json_object_get(s, "region"));
        if (r && region && strcmp(r, region) == 0 && fs_json_u64(json_object_get(s, "size"), &size) &&
            size >= best_size) {
            best = s;
            best_size = size;
        }
    }
    return best;
}

static void seed_find_knobs(json_t *doc, seed_knobs *k)
{
    memset(k, 0, sizeof *k);
    json_t *main = (json_t *)fs_analysis_main_region(doc);
    if (main) {
        seed_knob(k, 0, main, "used");
        seed_knob(k, 1, seed_largest_section(doc, json_string_value(json_object_get(main, "name"))), "size");
    }
    seed_knob(k, 2, json_array_get(json_object_get(doc, "symbols"), 0), "size");
}

/* Turn the document into build i's variant, in place. */
static void seed_variant(const seed_knobs *k, long i)
{
    const int64_t delta[3] = {4 * (int64_t)i, 4 * (int64_t)i, i % 50};
    for (int n = 0; n < 3; n++)
        if (k->obj[n])
            json_object_set_new(k->obj[n], k->key[n], json_integer((json_int_t)(k->orig[n] + (uint64_t)delta[n])));
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: seedstore DB ANALYSIS.json BUILDS BOARD...\n");
        return 2;
    }
    const char *db = argv[1], *analysis = argv[2];
    char *end;
    long builds = strtol(argv[3], &end, 10);
    int nboards = argc - 4;
    if (*end || builds < 1 || builds > 10000000 || nboards > SEED_MAX_BOARDS) {
        fprintf(stderr, "seedstore: BUILDS must be 1..10000000 and at most %d boards\n", SEED_MAX_BOARDS);
        return 2;
    }
    fs_error err;
    json_t *base;
    fs_store *s;
    if (fs_analysis_load_file(analysis, &base, &err) < 0) {
        fprintf(stderr, "seedstore: %s\n", err.msg);
        return 2;
    }
    if (fs_store_open(db, NULL, &s, &err) < 0) {
        fprintf(stderr, "seedstore: %s\n", err.msg);
        json_decref(base);
        return 2;
    }
    seed_knobs knobs;
    seed_find_knobs(base, &knobs);
    long counts[SEED_MAX_BOARDS] = {0};
    int rc = 0;
    for (long i = 0; i < builds && rc == 0; i++) {
        char commit[48];
        snprintf(commit, sizeof commit, "seed%036lx", (unsigned long)i);
        fs_build_meta m = {.project = SEED_PROJECT,
                           .board = argv[4 + i % nboards],
                           .commit = commit,
                           .branch = i % 10 == 9 ? "feature" : "main",
                           .timestamp = SEED_T0 + 60 * (int64_t)i};
        seed_variant(&knobs, i);
        int64_t id;
        if (fs_store_record(s, base, &m, &id, &err) < 0) {
            fprintf(stderr, "seedstore: build %ld: %s\n", i, err.msg);
            rc = 2;
        } else
            counts[i % nboards]++;
    }
    if (rc == 0) {
        printf("builds %ld\n", builds);
        for (int b = 0; b < nboards; b++)
            printf("board %s %ld\n", argv[4 + b], counts[b]);
    }
    fs_store_close(s);
    json_decref(base);
    return rc;
}
