/*
 * store.h - the size history: analyses of many builds in one SQLite file.
 *
 * What is stored is the analysis document itself (schema
 * "flashsize-analysis", docs/json-schema.md), so a stored build, a JSON file
 * and a freshly analyzed ELF are interchangeable: fs_store_load gives back
 * the document that was recorded.  Around it the store keeps query tables
 * (regions, sections, frozen modules, findings) and the build's identity
 * (project, board, branch, commit, parent, PR, time, tool version).
 *
 * Ideas:
 *   - Symbols are the bulk (10k per build).  Their names go once into a
 *     shared string table; a build's symbols are one symbol set (symset.h):
 *     a packed snapshot, or a delta against the set of the build's parent
 *     commit (else the board's newest build) - the few symbols that
 *     changed and "the rest moved by D" - so a build costs a few hundred
 *     bytes instead of 67 KB.  Every FS_STORE_SNAPSHOT_EVERY-th set of a
 *     chain is a snapshot, so reading any build decodes a bounded chain.
 *     Equal tables are stored once (hash of the snapshot form, then a
 *     comparison).  A set no build uses any more is deleted, and the deltas
 *     against it are first re-based onto its own base (or made snapshots).
 *   - One transaction per recorded build: it is all there or not at all.
 *   - The schema version lives in PRAGMA user_version; opening an older
 *     file migrates it, a newer one is refused.
 *   - Re-recording the same project + board + commit replaces the build in
 *     place and keeps its id.
 *   - A handle prepares each statement once (kept, reset after each use)
 *     and remembers the string ids it has seen, so recording a build of
 *     10k symbols does not look each name up in SQLite again.  A handle is
 *     for one thread at a time.
 *   - WAL with synchronous=NORMAL: a committed build survives the process
 *     being killed; a power cut may lose the last commits, never corrupts.
 * Layout and migrations: docs/store.md.
 *
 * Errors follow model.h: 0/-1 and a message naming the database file.
 */
#ifndef FS_STORE_H
#define FS_STORE_H

#include "document.h"
#include "model.h"

#include <jansson.h>

#define FS_STORE_SCHEMA_VERSION 4
/* The store's generation (schema 4): one more after every write to the
 * builds table, by any process; a one-row query.  Fails to prepare on an
 * older file opened read-only (no such table). */
#define FS_STORE_GENERATION_SQL "SELECT gen FROM store_generation WHERE id = 1"
#define FS_STORE_DEFAULT_PATH   "flashsize.db"
#define FS_STORE_BUSY_MS        5000   /* default wait for another writer */
#define FS_STORE_SNAPSHOT_EVERY 32     /* longest chain: a snapshot and 31 deltas */
#define FS_STORE_MAX_CHAIN      64     /* longer chains are refused as corrupt */

typedef struct fs_store fs_store;

/* Who a build is.  Strings are borrowed for the duration of the call. */
typedef struct fs_build_meta {
    const char *project;   /* required */
    const char *board;     /* required */
    const char *commit;    /* required */
    const char *branch;    /* may be NULL */
    const char *parent;    /* parent commit, may be NULL */
    int64_t pr;            /* pull request number, 0 for none */
    int64_t timestamp;     /* seconds since 1970; 0 = now */
} fs_build_meta;

/* A stored build's identity, as fs_store_info returns it (owned strings). */
typedef struct fs_build_info {
    int64_t id;
    char *project, *board, *commit, *branch, *parent, *tool_version;
    int64_t pr, timestamp;
} fs_build_info;

void fs_build_info_free(fs_build_info *b);

typedef struct fs_store_opts {
    bool readonly;         /* open an existing file for reading only */
    int busy_ms;           /* wait for a writer this long; 0 = $FLASHSIZE_DB_BUSY_MS or FS_STORE_BUSY_MS */
    bool no_mmap;          /* read pages with read(), not a memory map (the server: docs/server.md) */
} fs_store_opts;

/* The database path: path if given, else $FLASHSIZE_DB, else ./flashsize.db. */
const char *fs_store_path(const char *path);

/* Open (creating and migrating it unless readonly) the store at path.
 * opts may be NULL.  *out is owned by the caller: fs_store_close. */
int fs_store_open(const char *path, const fs_store_opts *opts, fs_store **out, fs_error *err);
void fs_store_close(fs_store *s);

/* Record a validated analysis as one build, in one transaction.  Recording
 * the same project + board + commit again replaces it and keeps its id. */
int fs_store_record(fs_store *s, const json_t *analysis, const fs_build_meta *meta,
                    int64_t *build_id, fs_error *err);
/* The same for a document that has just passed fs_analysis_validate (the
 * server validates an upload first, to answer 400): not checked again. */
int fs_store_record_validated(fs_store *s, const json_t *analysis, const fs_build_meta *meta,
                              int64_t *build_id, fs_error *err);
/* The same with the symbols as a table (the server's upload parser decodes
 * them so, docparse.h); analysis's own "symbols", if any, are not read.
 * doc_text is fs_store_doc_text(analysis), made beforehand (the server
 * makes it outside its write lock), or NULL to have it made here. */
struct fs_symtab;
int fs_store_record_tab(fs_store *s, const json_t *analysis, const struct fs_symtab *syms, const char *doc_text,
                        const fs_build_meta *meta, int64_t *build_id, fs_error *err);
/* The text kept for a build (builds.doc): the analysis with an empty
 * "symbols" array, compact; NULL with err (named name) when out of memory
 * or over FS_ANALYSIS_MAX_DOC_BYTES.  Free it. */
char *fs_store_doc_text(const json_t *analysis, const char *name, fs_error *err);

/* Delete build id (its rows, and its symbol set when no other build uses
 * it), in one transaction. */
int fs_store_delete(fs_store *s, int64_t id, fs_error *err);

/* The recorded document of build id (*doc owned by the caller). info may be NULL. */
int fs_store_load(fs_store *s, int64_t id, json_t **doc, fs_build_info *info, fs_error *err);

/* The same document with an empty "symbols" array, without decoding the
 * symbol set: for readers of regions and findings only (forecasts). */
int fs_store_load_summary(fs_store *s, int64_t id, json_t **doc, fs_error *err);

/* The build whose commit starts with commit (at least 4 characters), on board
 * (NULL = any) of project (NULL = any); ambiguous or no match is an error. */
int fs_store_find(fs_store *s, const char *commit, const char *board, const char *project,
                  int64_t *id, fs_error *err);

/* Resolve "build:ID" or "commit:SHA[@board]". */
int fs_store_resolve(fs_store *s, const char *spec, int64_t *id, fs_error *err);

/* One row of a board's history. */
typedef struct fs_history_row {
    fs_build_info build;
    char *region;          /* main region name, NULL if the build has none */
    uint64_t used, length;
    bool has_prev;         /* the older build in the same list had the same region */
    int64_t delta;         /* used - used of that previous build */
} fs_history_row;

typedef struct fs_history_query {
    const char *board;     /* required */
    const char *project;   /* NULL = any */
    const char *branch;    /* NULL = any */
    size_t limit;          /* 0 = 20 */
} fs_history_query;

/* The last limit builds, newest first.  *rows freed with fs_history_free. */
int fs_store_history(fs_store *s, const fs_history_query *q, fs_history_row **rows, size_t *n,
                     fs_error *err);
void fs_history_free(fs_history_row *rows, size_t n);

/* Sizes of the store, for the benchmark: symbol sets and distinct names. */
int fs_store_counts(fs_store *s, int64_t *builds, int64_t *symsets, int64_t *names, fs_error *err);

/* Tests only: hook called at each stage of fs_store_record ("build",
 * "regions", "sections", "frozen", "findings", "symbols", "commit");
 * returning non-zero makes the record fail there (and roll back). */
typedef int (*fs_store_hook)(void *ctx, const char *stage);
void fs_store_set_hook(fs_store *s, fs_store_hook hook, void *ctx);

/* The symbol set last recorded, kept decoded for the next record to be
 * packed against (a new build's delta base is the previous build of its
 * board): shared by the store handles of one process, e.g. the server's
 * pool, so that an upload does not decode its base from the database.
 * Entries are checked against the row's hash and count before use. */
typedef struct fs_symset_memo fs_symset_memo;
fs_symset_memo *fs_symset_memo_new(void);
void fs_symset_memo_free(fs_symset_memo *m);
/* Use m (NULL: none) in s's records; m must outlive s. */
void fs_store_set_symset_memo(fs_store *s, fs_symset_memo *m);

#endif
