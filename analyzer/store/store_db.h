/*
 * store_db.h - the thin database driver under the store, private to
 * analyzer/store: one interface (prepare and keep a statement, bind,
 * step, read columns, run a script, count changed rows, transactions,
 * errors as fs_error kinds) with two implementations, SQLite
 * (store_db_sqlite.c) and PostgreSQL through libpq (store_db_pg.c).  The
 * store's logic (store.c, store_query.c, store_tokens.c) is written once
 * against it, in the SQL both engines accept: "?" and "?N" parameters
 * (the PostgreSQL driver numbers them $N), IS [NOT] DISTINCT FROM,
 * ON CONFLICT, RETURNING, row values.  Nothing outside the store includes
 * this header; the store's interface is store.h.
 */
#ifndef FS_STORE_DB_H
#define FS_STORE_DB_H

#include "store.h"

#include <stddef.h>
#include <stdint.h>

typedef enum fs_db_kind { FS_DB_SQLITE, FS_DB_PG } fs_db_kind;

/* fs_db_step's answers. */
enum { FS_DB_ERROR = -1, FS_DB_DONE = 0, FS_DB_ROW = 1 };

typedef struct fs_db fs_db;
typedef struct fs_db_stmt fs_db_stmt;

/* Each driver's functions; a connection and each of its statements start
 * with a pointer to them. */
typedef struct fs_db_ops {
    fs_db_stmt *(*stmt)(fs_db *db, const char *sql);
    void (*done)(fs_db *db, fs_db_stmt *st);
    void (*reset)(fs_db_stmt *st);                             /* to run again; bindings kept */
    void (*bind_int)(fs_db_stmt *st, int i, int64_t v);
    void (*bind_text)(fs_db_stmt *st, int i, const char *v);   /* copied; NULL binds NULL */
    void (*bind_blob)(fs_db_stmt *st, int i, const void *p, size_t n); /* copied */
    int (*step)(fs_db_stmt *st);
    int64_t (*col_int)(fs_db_stmt *st, int c);
    const char *(*col_text)(fs_db_stmt *st, int c);            /* NULL for NULL; valid until the next step */
    const void *(*col_blob)(fs_db_stmt *st, int c);
    size_t (*col_bytes)(fs_db_stmt *st, int c);
    bool (*col_null)(fs_db_stmt *st, int c);
    int (*exec)(fs_db *db, const char *sql);                   /* a script without parameters: 0 / -1 */
    int64_t (*changes)(fs_db *db);                             /* rows changed by the last statement */
    int (*begin)(fs_db *db, bool write);                       /* write: serialized against other writers;
                                                                  else a read of one snapshot */
    int (*commit)(fs_db *db);
    void (*rollback)(fs_db *db);
    int (*error)(fs_db *db, fs_error *err, const char *what);   /* err from the last error; -1 */
    bool (*table_exists)(fs_db *db, const char *name);
    void (*close)(fs_db *db);
} fs_db_ops;

/* The common head of a connection. */
struct fs_db {
    const fs_db_ops *ops;
    fs_db_kind kind;
    char *name;            /* for messages: the file, or the URI without its password */
    int busy_ms;
    int64_t version;       /* schema version of the open database */
};

struct fs_db_stmt {
    const fs_db_ops *ops;
};

/* Open the database target (a PostgreSQL URI or a file), creating it at
 * the current schema or migrating it unless opts->readonly. */
int fs_db_open_sqlite(const char *path, const fs_store_opts *opts, int busy_ms, fs_db **out, fs_error *err);
int fs_db_open_pg(const char *uri, const fs_store_opts *opts, int busy_ms, fs_db **out, fs_error *err);

/* Is target a PostgreSQL connection string (postgresql:// or postgres://
 * URI, or a keyword string starting with a libpq keyword such as host=
 * or dbname=)? */
bool fs_db_is_pg(const char *target);
/* target without the password of a URI or keyword string (free it); NULL
 * when out of memory. */
char *fs_db_redact(const char *target);

/* The statement for sql, kept by the connection (prepared once); a
 * statement already in use gets a fresh one.  NULL when it does not
 * prepare (an older schema read-only).  Give it back with fs_db_done. */
static inline fs_db_stmt *fs_db_stmt_get(fs_db *db, const char *sql) { return db->ops->stmt(db, sql); }
static inline void fs_db_done(fs_db *db, fs_db_stmt *st) { if (st) db->ops->done(db, st); }
static inline void fs_db_reset(fs_db_stmt *st) { st->ops->reset(st); }
static inline void fs_db_bind_int(fs_db_stmt *st, int i, int64_t v) { st->ops->bind_int(st, i, v); }
static inline void fs_db_bind_text(fs_db_stmt *st, int i, const char *v) { st->ops->bind_text(st, i, v); }
static inline void fs_db_bind_blob(fs_db_stmt *st, int i, const void *p, size_t n) { st->ops->bind_blob(st, i, p, n); }
static inline int fs_db_step(fs_db_stmt *st) { return st->ops->step(st); }
static inline int64_t fs_db_col_int(fs_db_stmt *st, int c) { return st->ops->col_int(st, c); }
static inline const char *fs_db_col_text(fs_db_stmt *st, int c) { return st->ops->col_text(st, c); }
static inline const void *fs_db_col_blob(fs_db_stmt *st, int c) { return st->ops->col_blob(st, c); }
static inline size_t fs_db_col_bytes(fs_db_stmt *st, int c) { return st->ops->col_bytes(st, c); }
static inline bool fs_db_col_null(fs_db_stmt *st, int c) { return st->ops->col_null(st, c); }
static inline int fs_db_exec(fs_db *db, const char *sql) { return db->ops->exec(db, sql); }
static inline int64_t fs_db_changes(fs_db *db) { return db->ops->changes(db); }
static inline int fs_db_begin(fs_db *db, bool write) { return db->ops->begin(db, write); }
static inline int fs_db_commit(fs_db *db) { return db->ops->commit(db); }
static inline void fs_db_rollback(fs_db *db) { db->ops->rollback(db); }
static inline int fs_db_fail(fs_db *db, fs_error *err, const char *what) { return db->ops->error(db, err, what); }
static inline bool fs_db_table_exists(fs_db *db, const char *name) { return db->ops->table_exists(db, name); }
static inline void fs_db_close(fs_db *db) { if (db) db->ops->close(db); }

/* ---- what the files of the store share (store.c) ---------------------------- */

/* The handle's connection (borrowed). */
fs_db *fs_store_db(fs_store *s);

/* The driver's calls on a store handle's connection (store_query.c,
 * store_tokens.c). */
static inline fs_db_stmt *fs_store_stmt(fs_store *s, const char *sql) { return fs_db_stmt_get(fs_store_db(s), sql); }
static inline void fs_store_done(fs_store *s, fs_db_stmt *st) { fs_db_done(fs_store_db(s), st); }
static inline int fs_store_fail(fs_store *s, fs_error *err, const char *what)
{
    return fs_db_fail(fs_store_db(s), err, what);
}

/* The id of the build before build b (a builds row named b in the query)
 * on b's own branch (a NULL branch is its own), by time then id: NULL when
 * there is none.  A seek in builds_branch_time (the row value makes it a
 * range of the index, not a walk down the branch). */
#define FS_STORE_PREV_SQL                                                                                    \
    "(SELECT y.id FROM builds y WHERE y.project_id = b.project_id AND y.board_id = b.board_id"              \
    " AND y.branch IS NOT DISTINCT FROM b.branch AND (y.timestamp, y.id) < (b.timestamp, b.id)"            \
    " ORDER BY y.timestamp DESC, y.id DESC LIMIT 1)"

/* ---- the schema, from one description (store_schema.c) ----------------------- */

/* The statements creating the whole schema at FS_STORE_SCHEMA_VERSION in
 * the dialect of kind (tables, indexes, the generation counter's
 * triggers), one script; free it.  NULL when out of memory. */
char *fs_store_schema_sql(fs_db_kind kind);

#endif
