/*
 * store_db_sqlite.c - the store's SQLite driver (store_db.h): opening a
 * database file (refusing what is not a flashsize database, migrating an
 * older schema, WAL), the statements kept per connection, and SQLite's
 * errors as fs_error kinds.
 */
#include "store_db.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STORE_APP_ID 0x46534442 /* "FSDB" in PRAGMA application_id */
#define STORE_MMAP_BYTES "268435456" /* 256 MiB of the file mapped, per connection */

/* Statements prepared once per connection (SQLITE_PREPARE_PERSISTENT) and
 * reset after each use; a statement still in use when the same SQL is
 * asked for again (a chain of symbol sets) gets a fresh, unkept one. */
#define SQ_STMTS 64

typedef struct sq_stmt {
    fs_db_stmt base;
    sqlite3_stmt *st;
    char *sql;             /* owned copy; NULL = not kept */
    bool busy;
} sq_stmt;

typedef struct sq_db {
    fs_db base;
    sqlite3 *db;
    sq_stmt *stmts[SQ_STMTS];
    size_t nstmts;
} sq_db;

/* Migration N takes a database from user_version N to N + 1. */
static const char *const store_migrations[FS_STORE_SCHEMA_VERSION] = {
    "CREATE TABLE projects(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE boards(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE strings(id INTEGER PRIMARY KEY, s TEXT NOT NULL UNIQUE);"
    "CREATE TABLE symsets(id INTEGER PRIMARY KEY, hash INTEGER NOT NULL,"
    "  count INTEGER NOT NULL, data BLOB NOT NULL);"
    "CREATE INDEX symsets_hash ON symsets(hash);"
    "CREATE TABLE builds(id INTEGER PRIMARY KEY,"
    "  project_id INTEGER NOT NULL REFERENCES projects(id),"
    "  board_id INTEGER NOT NULL REFERENCES boards(id),"
    "  commit_sha TEXT NOT NULL, branch TEXT, parent_sha TEXT, pr INTEGER NOT NULL DEFAULT 0,"
    "  timestamp INTEGER NOT NULL, tool_version TEXT, chip TEXT,"
    "  main_region TEXT, main_used INTEGER, main_length INTEGER,"
    "  symset_id INTEGER NOT NULL REFERENCES symsets(id),"
    "  doc TEXT NOT NULL,"
    "  UNIQUE(project_id, board_id, commit_sha));"
    "CREATE INDEX builds_board_time ON builds(board_id, timestamp, id);"
    "CREATE INDEX builds_commit ON builds(commit_sha);"
    "CREATE INDEX builds_symset ON builds(symset_id);"
    "CREATE TABLE regions(build_id INTEGER NOT NULL REFERENCES builds(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL, name TEXT NOT NULL, origin INTEGER, length INTEGER, used INTEGER,"
    "  attrs TEXT, PRIMARY KEY(build_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE sections(build_id INTEGER NOT NULL REFERENCES builds(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL, name TEXT NOT NULL, type TEXT, flags TEXT, address INTEGER,"
    "  lma INTEGER, size INTEGER, region TEXT, load_region TEXT,"
    "  PRIMARY KEY(build_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE frozen(build_id INTEGER NOT NULL REFERENCES builds(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL, name TEXT NOT NULL, size INTEGER, detail TEXT,"
    "  PRIMARY KEY(build_id, seq)) WITHOUT ROWID;"
    "CREATE TABLE findings(build_id INTEGER NOT NULL REFERENCES builds(id) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL, fid TEXT NOT NULL, severity TEXT NOT NULL, subject TEXT,"
    "  message TEXT, numbers TEXT, PRIMARY KEY(build_id, seq)) WITHOUT ROWID;",
    /* v2: symbol sets may be deltas against another set (symset.h) */
    "ALTER TABLE symsets ADD COLUMN base_id INTEGER REFERENCES symsets(id);"
    "ALTER TABLE symsets ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX symsets_base ON symsets(base_id);",
    /* v3: per-build summary columns, so a board's history is one indexed
     * query without decoding anything: the ids of the error findings (a
     * JSON array) and the regions' used and length (a JSON object by
     * name, in order); an index for "the newest build of a branch" and a
     * covering one for the history (replacing builds_board_time).  The
     * table is rebuilt so that doc (kilobytes, in overflow pages) stays the
     * last column: reading the columns before it never touches its pages.
     * Runs with foreign keys off (store_migrate), so dropping the old
     * table does not cascade to regions, sections, frozen and findings. */
    "CREATE TABLE builds_v3(id INTEGER PRIMARY KEY,"
    "  project_id INTEGER NOT NULL REFERENCES projects(id),"
    "  board_id INTEGER NOT NULL REFERENCES boards(id),"
    "  commit_sha TEXT NOT NULL, branch TEXT, parent_sha TEXT, pr INTEGER NOT NULL DEFAULT 0,"
    "  timestamp INTEGER NOT NULL, tool_version TEXT, chip TEXT,"
    "  main_region TEXT, main_used INTEGER, main_length INTEGER,"
    "  symset_id INTEGER NOT NULL REFERENCES symsets(id),"
    "  errors_json TEXT, regions_json TEXT,"
    "  doc TEXT NOT NULL,"
    "  UNIQUE(project_id, board_id, commit_sha));"
    "INSERT INTO builds_v3 SELECT b.id, b.project_id, b.board_id, b.commit_sha, b.branch, b.parent_sha, b.pr,"
    "  b.timestamp, b.tool_version, b.chip, b.main_region, b.main_used, b.main_length, b.symset_id,"
    "  (SELECT json_group_array(fid) FROM (SELECT fid FROM findings f"
    "    WHERE f.build_id = b.id AND f.severity = 'error' ORDER BY f.seq)),"
    "  (SELECT json_group_object(name, json_object('used', used, 'length', length)) FROM"
    "    (SELECT name, used, length FROM regions r WHERE r.build_id = b.id ORDER BY r.seq)),"
    "  b.doc FROM builds b ORDER BY b.id;"
    "DROP TABLE builds;"
    "ALTER TABLE builds_v3 RENAME TO builds;"
    "CREATE INDEX builds_commit ON builds(commit_sha);"
    "CREATE INDEX builds_symset ON builds(symset_id);"
    "CREATE INDEX builds_branch_time ON builds(project_id, board_id, branch, timestamp, id);"
    /* A board's history newest first, answered from the index alone. */
    "CREATE INDEX builds_history ON builds(board_id, timestamp, id, project_id, branch, commit_sha, parent_sha,"
    "  pr, main_region, main_used, main_length, errors_json, regions_json);",
    /* v4: a generation number, one more after every write to builds, by
     * whoever writes (this process, another one, the sqlite3 shell): the
     * server's cache of history answers is valid for one generation
     * (FS_STORE_GENERATION_SQL).  One row (the CHECK), bumped per row
     * written; record, re-record and delete all write builds. */
    "CREATE TABLE store_generation(id INTEGER PRIMARY KEY CHECK (id = 1), gen INTEGER NOT NULL);"
    "INSERT INTO store_generation(id, gen) VALUES (1, 0);"
    "CREATE TRIGGER builds_gen_insert AFTER INSERT ON builds BEGIN"
    "  UPDATE store_generation SET gen = gen + 1; END;"
    "CREATE TRIGGER builds_gen_update AFTER UPDATE ON builds BEGIN"
    "  UPDATE store_generation SET gen = gen + 1; END;"
    "CREATE TRIGGER builds_gen_delete AFTER DELETE ON builds BEGIN"
    "  UPDATE store_generation SET gen = gen + 1; END;",
    /* v5: a project's default branch (its trunk: a board's state is its
     * newest build there, a pull request is measured against it), 'main'
     * unless set; changing it changes history answers, so it counts in the
     * generation.  builds_branch_time also covers the main region's name and
     * used bytes: "the previous build of the same branch" of a history row
     * is read from the index alone. */
    "ALTER TABLE projects ADD COLUMN default_branch TEXT NOT NULL DEFAULT 'main';"
    "CREATE TRIGGER projects_gen_update AFTER UPDATE ON projects BEGIN"
    "  UPDATE store_generation SET gen = gen + 1; END;"
    "DROP INDEX builds_branch_time;"
    "CREATE INDEX builds_branch_time ON builds(project_id, board_id, branch, timestamp, id, main_region, main_used);",
};


/* ---- errors ------------------------------------------------------------------- */

static int sq_fail(fs_db *d, fs_error *err, const char *what)
{
    sq_db *q = (sq_db *)d;
    int code = sqlite3_extended_errcode(q->db) & 0xff;
    const char *msg = sqlite3_errmsg(q->db);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        return fs_fail_kind(err, FS_ERR_BUSY, "%s: database is locked by another writer (waited %d ms): %s", d->name,
                            d->busy_ms, what);
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        return fs_fail_kind(err, FS_ERR_INTERNAL, "%s: not a flashsize database or corrupted (%s)", d->name, msg);
    if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM)
        return fs_fail_kind(err, FS_ERR_READONLY, "%s: cannot write the database (%s): %s", d->name, msg, what);
    fs_error_kind kind = code == SQLITE_FULL || code == SQLITE_IOERR ? FS_ERR_IO
                         : code == SQLITE_NOMEM                      ? FS_ERR_NOMEM
                                                                     : FS_ERR_INTERNAL;
    return fs_fail_kind(err, kind, "%s: %s: %s", d->name, what, msg);
}

/* ---- statements ----------------------------------------------------------------- */

static const fs_db_ops sq_ops;

static fs_db_stmt *sq_stmt_get(fs_db *d, const char *sql)
{
    sq_db *q = (sq_db *)d;
    for (size_t i = 0; i < q->nstmts; i++) {
        sq_stmt *k = q->stmts[i];
        if (!k->busy && strcmp(k->sql, sql) == 0) {
            k->busy = true;
            return &k->base;
        }
    }
    sqlite3_stmt *st;
    bool keep = q->nstmts < SQ_STMTS;
    if (sqlite3_prepare_v3(q->db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK)
        return NULL;
    sq_stmt *k = calloc(1, sizeof *k);
    if (!k) {
        sqlite3_finalize(st);
        return NULL;
    }
    k->base.ops = &sq_ops;
    k->st = st;
    k->busy = true;
    if (keep && (k->sql = strdup(sql)))
        q->stmts[q->nstmts++] = k;
    return &k->base;
}

static void sq_done(fs_db *d, fs_db_stmt *s)
{
    (void)d;
    sq_stmt *k = (sq_stmt *)s;
    if (k->sql) {
        sqlite3_reset(k->st);
        sqlite3_clear_bindings(k->st);
        k->busy = false;
        return;
    }
    sqlite3_finalize(k->st);
    free(k);
}

static void sq_reset(fs_db_stmt *s)
{
    sqlite3_reset(((sq_stmt *)s)->st);
}

static void sq_bind_int(fs_db_stmt *s, int i, int64_t v)
{
    sqlite3_bind_int64(((sq_stmt *)s)->st, i, v);
}

static void sq_bind_text(fs_db_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(((sq_stmt *)s)->st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(((sq_stmt *)s)->st, i);
}

static void sq_bind_blob(fs_db_stmt *s, int i, const void *p, size_t n)
{
    sqlite3_bind_blob(((sq_stmt *)s)->st, i, n ? p : "", (int)n, SQLITE_TRANSIENT);
}

static int sq_step(fs_db_stmt *s)
{
    int rc = sqlite3_step(((sq_stmt *)s)->st);
    return rc == SQLITE_ROW ? FS_DB_ROW : rc == SQLITE_DONE ? FS_DB_DONE : FS_DB_ERROR;
}

static int64_t sq_col_int(fs_db_stmt *s, int c)
{
    return sqlite3_column_int64(((sq_stmt *)s)->st, c);
}

static const char *sq_col_text(fs_db_stmt *s, int c)
{
    return (const char *)sqlite3_column_text(((sq_stmt *)s)->st, c);
}

static const void *sq_col_blob(fs_db_stmt *s, int c)
{
    return sqlite3_column_blob(((sq_stmt *)s)->st, c);
}

static size_t sq_col_bytes(fs_db_stmt *s, int c)
{
    return (size_t)sqlite3_column_bytes(((sq_stmt *)s)->st, c);
}

static bool sq_col_null(fs_db_stmt *s, int c)
{
    return sqlite3_column_type(((sq_stmt *)s)->st, c) == SQLITE_NULL;
}

static int sq_exec(fs_db *d, const char *sql)
{
    return sqlite3_exec(((sq_db *)d)->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int64_t sq_changes(fs_db *d)
{
    return sqlite3_changes64(((sq_db *)d)->db);
}

/* A writer takes the write lock at once (BEGIN IMMEDIATE), waiting up to
 * busy_ms for another writer. */
static int sq_begin(fs_db *d, bool write)
{
    return sq_exec(d, write ? "BEGIN IMMEDIATE" : "BEGIN");
}

static int sq_commit(fs_db *d)
{
    return sq_exec(d, "COMMIT");
}

static void sq_rollback(fs_db *d)
{
    sqlite3_exec(((sq_db *)d)->db, "ROLLBACK", NULL, NULL, NULL);
}

static bool sq_table_exists(fs_db *d, const char *name)
{
    fs_db_stmt *st = sq_stmt_get(d, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    if (!st)
        return false;
    sq_bind_text(st, 1, name);
    bool found = sq_step(st) == FS_DB_ROW;
    sq_done(d, st);
    return found;
}

static void sq_close(fs_db *d)
{
    sq_db *q = (sq_db *)d;
    for (size_t i = 0; i < q->nstmts; i++) {
        sqlite3_finalize(q->stmts[i]->st);
        free(q->stmts[i]->sql);
        free(q->stmts[i]);
    }
    sqlite3_close(q->db);
    free(d->name);
    free(q);
}

static const fs_db_ops sq_ops = {
    sq_stmt_get, sq_done, sq_reset,     sq_bind_int, sq_bind_text, sq_bind_blob,   sq_step,    sq_col_int,
    sq_col_text, sq_col_blob, sq_col_bytes, sq_col_null, sq_exec,       sq_changes, sq_begin,
    sq_commit,   sq_rollback, sq_fail,     sq_table_exists, sq_close,
};

/* ---- opening -------------------------------------------------------------------- */

static int store_exec(fs_db *d, const char *sql, fs_error *err)
{
    if (sq_exec(d, sql) < 0)
        return sq_fail(d, err, sql[0] == 'C' || sql[0] == 'A' ? "creating the schema" : sql);
    return 0;
}

/* The integer result of a one-value query, or -1 on error. */
static int store_pragma(fs_db *d, const char *sql, int64_t *out, fs_error *err)
{
    sqlite3_stmt *st;
    sqlite3 *db = ((sq_db *)d)->db;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sq_fail(d, err, "reading the schema version");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return sq_fail(d, err, "reading the schema version");
    return 0;
}

/* Refuse files that are SQLite but not ours, or from a newer flashsize. */
static int store_check_version(fs_db *d, int64_t *version, fs_error *err)
{
    int64_t app, tables;
    if (store_pragma(d, "PRAGMA user_version", version, err) < 0 ||
        store_pragma(d, "PRAGMA application_id", &app, err) < 0 ||
        store_pragma(d, "SELECT count(*) FROM sqlite_master", &tables, err) < 0)
        return -1;
    if (*version > FS_STORE_SCHEMA_VERSION)
        return fs_fail(err, "%s: database schema version %lld is newer than this flashsize reads (%d); upgrade flashsize",
                       d->name, (long long)*version, FS_STORE_SCHEMA_VERSION);
    if ((*version > 0 && app != STORE_APP_ID) || (*version == 0 && tables > 0))
        return fs_fail(err, "%s: an SQLite database, but not a flashsize one", d->name);
    return 0;
}

static int store_migrate_tx(fs_db *d, int64_t version, fs_error *err)
{
    if (store_exec(d, "BEGIN IMMEDIATE", err) < 0)
        return -1;
    if (store_check_version(d, &version, err) < 0)
        goto fail;
    for (int64_t v = version; v < FS_STORE_SCHEMA_VERSION; v++)
        if (store_exec(d, store_migrations[v], err) < 0)
            goto fail;
    if (version < FS_STORE_SCHEMA_VERSION) {
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d", FS_STORE_SCHEMA_VERSION,
                 STORE_APP_ID);
        if (store_exec(d, sql, err) < 0)
            goto fail;
    }
    if (store_exec(d, "COMMIT", err) < 0)
        goto fail;
    return 0;
fail:
    sq_rollback(d);
    return -1;
}

static int store_migrate(fs_db *d, int64_t version, fs_error *err)
{
    if (version == FS_STORE_SCHEMA_VERSION)
        return 0; /* nothing to do: no write lock needed */
    /* Tables are rebuilt (v3): no cascades while the old one is dropped.
     * This can only be switched outside a transaction. */
    if (store_exec(d, "PRAGMA foreign_keys = OFF", err) < 0)
        return -1;
    fs_error later;
    int rc = store_migrate_tx(d, version, err);
    if (store_exec(d, "PRAGMA foreign_keys = ON", rc < 0 ? &later : err) < 0)
        rc = -1;
    return rc;
}

int fs_db_open_sqlite(const char *path, const fs_store_opts *opts, int busy_ms, fs_db **out, fs_error *err)
{
    *out = NULL;
    bool ro = opts && opts->readonly;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return fs_fail(err, "%s: not a regular file", path);
    if (ro && stat(path, &st) != 0)
        return fs_fail_kind(err, FS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* A file nobody may write is read-only, even for root (who SQLite would
     * let write it): whoever made it so meant it. */
    if (!ro && stat(path, &st) == 0 && !(st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)))
        return fs_fail_kind(err, FS_ERR_READONLY, "%s: cannot write the database: the file is read-only (mode %03o)", path,
                            (unsigned)(st.st_mode & 0777));
    sq_db *q = calloc(1, sizeof *q);
    if (!q || !(q->base.name = strdup(path))) {
        free(q);
        return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", path);
    }
    fs_db *d = &q->base;
    d->ops = &sq_ops;
    d->kind = FS_DB_SQLITE;
    d->busy_ms = busy_ms;
    int flags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &q->db, flags, NULL) != SQLITE_OK) {
        fs_fail(err, "%s: cannot open the database: %s", path, q->db ? sqlite3_errmsg(q->db) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, busy_ms);
    /* Read pages through a memory map, not a read() and a copy each: a
     * hint SQLite may ignore (then it reads as before). */
    if (!(opts && opts->no_mmap))
        sqlite3_exec(q->db, "PRAGMA mmap_size = " STORE_MMAP_BYTES, NULL, NULL, NULL);
    if (!ro && sqlite3_db_readonly(q->db, "main") == 1) {
        fs_fail_kind(err, FS_ERR_READONLY, "%s: cannot write the database: the file is read-only", path);
        goto fail;
    }
    if (store_exec(d, "PRAGMA foreign_keys = ON", err) < 0)
        goto fail;
    int64_t version;
    if (ro) {
        if (store_check_version(d, &version, err) < 0)
            goto fail;
        /* version 1 is read as it is (symbol sets are all snapshots there) */
        if (version < 1) {
            fs_fail(err, "%s: not a flashsize database (schema version %lld)", path, (long long)version);
            goto fail;
        }
        d->version = version;
    } else {
        /* Check before switching the journal mode, which writes the header. */
        if (store_check_version(d, &version, err) < 0)
            goto fail;
        /* WAL + synchronous=NORMAL: a commit is in the WAL file (the OS has
         * it) before COMMIT returns, so it survives the process being
         * killed; a power cut may lose the last commits, never corrupts. */
        if (store_exec(d, "PRAGMA journal_mode = WAL", err) < 0 ||
            store_exec(d, "PRAGMA synchronous = NORMAL", err) < 0 || store_migrate(d, version, err) < 0)
            goto fail;
        d->version = FS_STORE_SCHEMA_VERSION;
    }
    *out = d;
    return 0;
fail:
    sq_close(d);
    return -1;
}
