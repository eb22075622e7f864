/*
 * store.h - the size history: analyses of many builds in one SQLite file or
 * one PostgreSQL database (store_db.h: the driver under the store).
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
 *   - The schema version lives in PRAGMA user_version (PostgreSQL: the
 *     table store_meta); opening an older file migrates it, a newer one is
 *     refused.
 *   - Re-recording the same project + board + commit replaces the build in
 *     place and keeps its id.
 *   - A handle prepares each statement once (kept, reset after each use)
 *     and remembers the string ids it has seen, so recording a build of
 *     10k symbols does not look each name up in the database again.  A
 *     handle is for one thread at a time.
 *   - SQLite: WAL with synchronous=NORMAL: a committed build survives the
 *     process being killed; a power cut may lose the last commits, never
 *     corrupts.  PostgreSQL: writers serialize on an advisory lock; a lost
 *     connection fails the call (FS_ERR_UNAVAILABLE) and is reset on the
 *     next one.
 * Layout and migrations: docs/store.md.
 *
 * Errors follow model.h: 0/-1 and a message naming the database file.
 */
#ifndef FS_STORE_H
#define FS_STORE_H

#include "document.h"
#include "model.h"

#include <jansson.h>

#define FS_STORE_SCHEMA_VERSION 5
#define FS_STORE_DEFAULT_BRANCH "main" /* a project's default branch unless set (schema 5) */
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
    int64_t timestamp;     /* seconds since 1970; 0 = now (fs_store_record_copy: as it is) */
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

/* target (a file or a PostgreSQL URI) as messages show it: a URI without
 * its password (malloc'd; NULL when out of memory). */
char *fs_store_display_name(const char *target);

/* The database: path if given, else $FLASHSIZE_DB, else ./flashsize.db; a
 * postgresql:// or postgres:// URI or a libpq keyword string (host=...
 * dbname=...) is a PostgreSQL database, anything else an SQLite file. */
const char *fs_store_path(const char *path);

/* Open (creating and migrating it unless readonly) the store at path.
 * opts may be NULL.  *out is owned by the caller: fs_store_close. */
int fs_store_open(const char *path, const fs_store_opts *opts, fs_store **out, fs_error *err);
void fs_store_close(fs_store *s);
/* The database as messages name it: the file, or the PostgreSQL URI
 * without its password (borrowed). */
const char *fs_store_name(const fs_store *s);

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
    bool has_prev;         /* there is a previous build of the same branch, with the same main region */
    int64_t prev_id;       /* its id (when has_prev) */
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

/* ---- the queries of the server's API (store_query.c) ----------------------------
 * Everything the server reads goes through these functions, so that they
 * are the whole interface a second backend implements; strings handed to
 * a callback are borrowed for the call. */

/* The store's generation (one more after every write to the builds
 * table, by any process): *gen = -1 when the file has none (an older file
 * opened read-only) or it cannot be read. */
void fs_store_generation(fs_store *s, int64_t *gen);

/* Number of builds; -1 with err when the database cannot be read. */
int fs_store_count_builds(fs_store *s, int64_t *n, fs_error *err);

/* Is there a build id?  0 with *exists set, or -1 with err. */
int fs_store_build_exists(fs_store *s, int64_t id, bool *exists, fs_error *err);

/* One project: its builds, boards and newest build time (has_latest false
 * when it has no build). */
typedef struct fs_project_row {
    const char *name;
    int64_t builds, boards, latest;
    bool has_latest;
} fs_project_row;
typedef int (*fs_project_fn)(void *ctx, const fs_project_row *row);

/* The projects by name (only only, when not NULL), at most limit. */
int fs_store_projects(fs_store *s, const char *only, int limit, fs_project_fn fn, void *ctx, fs_error *err);

/* A history row as the API shows it: the build, its main region and the
 * JSON texts of its error finding ids and of its regions ("[...]",
 * "{\"NAME\": {\"used\": N, \"length\": N}}"; NULL when absent). */
typedef struct fs_build_row {
    int64_t id;
    const char *commit, *branch, *parent, *main_region;
    int64_t pr, timestamp, used, length;
    const char *errors_json, *regions_json;
    /* History rows only (0 / false elsewhere): the previous build of the
     * same branch (prev_id 0 = none) and the main region's change since it
     * (has_delta when both have the same main region); for a build off the
     * project's default branch, its base (base_id 0 = none): the build of
     * its parent commit, else the default branch's newest build at or
     * before its time. */
    int64_t prev_id, delta, base_id;
    bool has_delta;
} fs_build_row;

/* One board of a project and its newest build; the callback reads that
 * build's error ids and regions with fs_board_row_errors and
 * fs_board_row_regions. */
typedef struct fs_board_row {
    const char *name;
    int64_t builds;
    fs_build_row latest;       /* errors_json and regions_json are NULL here */
    bool on_default;           /* latest is the newest build of the project's default
                                  branch (false: the board has none there, latest is
                                  its newest build of any branch) */
} fs_board_row;
typedef int (*fs_board_fn)(void *ctx, const fs_board_row *row);
typedef int (*fs_error_id_fn)(void *ctx, const char *finding_id);
typedef int (*fs_region_fn)(void *ctx, const char *name, int64_t used, int64_t length);

/* The boards of project by name, at most limit; each with its state: the
 * newest build of the project's default branch (else its newest build); *project_exists tells an
 * unknown project from one without builds when there is no row. */
int fs_store_boards(fs_store *s, const char *project, int limit, fs_board_fn fn, void *ctx, bool *project_exists,
                    fs_error *err);
/* The error finding ids and the regions of build id, in order. */
void fs_store_build_errors(fs_store *s, int64_t id, fs_error_id_fn fn, void *ctx);
void fs_store_build_regions(fs_store *s, int64_t id, fs_region_fn fn, void *ctx);

/* A board's history as a stream, newest first: builds of project and board
 * (branch NULL = any) with t0 <= timestamp <= t1, at most limit. */
typedef struct fs_history_range {
    const char *project, *board, *branch;
    int64_t t0, t1, limit;
} fs_history_range;
typedef void (*fs_build_row_fn)(void *ctx, const fs_build_row *row);
int fs_store_history_each(fs_store *s, const fs_history_range *q, fs_build_row_fn fn, void *ctx, fs_error *err);

/* An upload's base, other than build exclude, on project and board: the
 * build of commit parent (when parent is not NULL and recorded), else the
 * newest build of branch (NULL = the project's default branch) with a
 * timestamp at or before before (0 = any).  Its id (*id = 0 when there is
 * none), symbol set and the hash (by hash_fn) of its stored document text. */
int fs_store_find_base(fs_store *s, const char *project, const char *board, const char *parent, const char *branch,
                       int64_t before, int64_t exclude, uint64_t (*hash_fn)(const unsigned char *, size_t),
                       int64_t *id, int64_t *symset, uint64_t *hash, fs_error *err);

/* A project's default branch into buf (FS_STORE_DEFAULT_BRANCH for an
 * unknown project or a file older than schema 5). */
int fs_store_default_branch(fs_store *s, const char *project, char *buf, size_t len, fs_error *err);
/* Set it, creating the project when it is new (a handle opened for writing). */
int fs_store_set_default_branch(fs_store *s, const char *project, const char *branch, fs_error *err);

/* ---- drill-down ---------------------------------------------------------------
 * A symbol's or a frozen module's size along a board's builds of one
 * branch (NULL = the project's default branch), newest first, at most
 * limit: present false when the build has no such symbol or module. */
typedef struct fs_size_point {
    int64_t id, timestamp;
    const char *commit;
    bool present;
    int64_t size;
} fs_size_point;
typedef int (*fs_size_point_fn)(void *ctx, const fs_size_point *p);
int fs_store_frozen_history(fs_store *s, const char *project, const char *board, const char *branch,
                            const char *module, int64_t limit, fs_size_point_fn fn, void *ctx, fs_error *err);
/* The builds of the same walk (ids, times, commits), for a caller that
 * reads each build's symbols (fs_store_load) itself. */
int fs_store_branch_builds(fs_store *s, const char *project, const char *board, const char *branch, int64_t limit,
                           fs_size_point_fn fn, void *ctx, fs_error *err);

/* ---- upload tokens (store_tokens.c) -----------------------------------------------
 * The server's table server_tokens(id, project, hash BLOB(32), created,
 * revoked, note), beside the builds (docs/server.md).  The store keeps a
 * token's SHA-256 only: making the token and hashing it is the caller's
 * (server/auth.c). */

/* Create the token table if it is missing (a handle opened for writing). */
int fs_store_tokens_init(fs_store *s, fs_error *err);

/* A new token row for project, created at time created: fn receives its id
 * and fills in the hash of the token that names it (0, or -1 with err to
 * roll back).  One transaction. */
typedef int (*fs_token_hash_fn)(void *ctx, int64_t id, unsigned char hash[32], fs_error *err);
int fs_store_token_create(fs_store *s, const char *project, const char *note, int64_t created, fs_token_hash_fn fn,
                          void *ctx, int64_t *id, fs_error *err);

/* Revoke token id at time when (revoking twice keeps the first time); no
 * such token is an error of kind not found. */
int fs_store_token_revoke(fs_store *s, int64_t id, int64_t when, fs_error *err);

/* Every token by id (never the hash); none when the table is missing.
 * Strings are borrowed for the call, "" when absent. */
typedef struct fs_token_row {
    int64_t id, created, revoked; /* revoked: 0 = active */
    const char *project, *note;
    const unsigned char *hash;    /* 32 bytes: fs_store_token_export and _import only, else NULL */
} fs_token_row;
typedef int (*fs_token_fn)(void *ctx, const fs_token_row *row);
int fs_store_token_list(fs_store *s, fs_token_fn fn, void *ctx, fs_error *err);

/* Token id's hash, project (into project, len bytes) and state: *found is
 * false when there is no such row (or its hash is not 32 bytes).  -1 with
 * err when the table cannot be read. */
int fs_store_token_lookup(fs_store *s, int64_t id, unsigned char hash[32], char *project, size_t len, bool *found,
                          bool *revoked, fs_error *err);

/* ---- copying a store (`flashsize db copy`, cli/cmd_db.c) -------------------------
 * Backend-neutral: a copy reads the source through fs_store_build_ids,
 * fs_store_load, fs_store_projects + fs_store_default_branch and
 * fs_store_token_export, and writes the destination inside one
 * fs_store_begin .. fs_store_commit with fs_store_record_copy,
 * fs_store_set_default_branch and fs_store_token_import. */

/* fs_store_record for a copy: meta->timestamp is taken as it is (0
 * included), and a new build gets the id want_id (0 = the next free one;
 * a build already recorded for the project, board and commit keeps its own). */
int fs_store_record_copy(fs_store *s, const json_t *analysis, const fs_build_meta *meta, int64_t want_id,
                         int64_t *build_id, fs_error *err);

/* Every build id, ascending (*ids malloc'd, owned by the caller; NULL when
 * *n is 0). */
int fs_store_build_ids(fs_store *s, int64_t **ids, size_t *n, fs_error *err);

/* One transaction around many writes (a handle opened for writing): the
 * records, deletes and token imports made until fs_store_commit are kept
 * all together or not at all (each one is a nested step: a failed record
 * undoes itself and leaves the transaction open for the caller to roll
 * back).  fs_store_rollback undoes everything since fs_store_begin (and
 * does nothing when no transaction is open); closing a handle with a
 * transaction open rolls it back. */
int fs_store_begin(fs_store *s, fs_error *err);
int fs_store_commit(fs_store *s, fs_error *err);
void fs_store_rollback(fs_store *s);

/* Every token by id with its hash (row->hash); none when the table is
 * missing.  A callback that returns -1 stops the walk: -1 is returned and
 * err is not touched (the callback keeps its own reason). */
int fs_store_token_export(fs_store *s, fs_token_fn fn, void *ctx, fs_error *err);
/* Insert row (its id, project, hash, created, revoked, note) into the token
 * table (made beforehand by fs_store_tokens_init, outside any transaction).  A row with that id and the same hash and
 * project is kept (*existed true) and revoked at row->revoked when the
 * row is revoked and it is not; a row with that id and another hash or
 * project is an error (kind input): that token could not be moved. */
int fs_store_token_import(fs_store *s, const fs_token_row *row, bool *existed, fs_error *err);

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
