/*
 * store_sqlite.h - private to the SQLite backend of the store (store.c,
 * store_query.c): its statement cache and its error rule, so that every
 * file of the backend prepares statements the same way.  Nothing outside
 * the store includes this header; the store's interface is store.h.
 */
#ifndef FS_STORE_SQLITE_H
#define FS_STORE_SQLITE_H

#include "store.h"

#include <sqlite3.h>

/* A statement for sql, prepared once per handle and kept (NULL when it does
 * not prepare: an older schema opened read-only).  Give it back with
 * fs_sqlite_done, which resets a kept one and finalizes others. */
sqlite3_stmt *fs_sqlite_stmt(fs_store *s, const char *sql);
void fs_sqlite_done(fs_store *s, sqlite3_stmt *st);
/* Fill err from the handle's last SQLite error (its kind from the code:
 * busy, read-only, I/O, out of memory, internal) and return -1. */
int fs_sqlite_fail(fs_store *s, fs_error *err, const char *what);
/* The handle's connection (borrowed), for what the statements do not give:
 * the last row id, the number of rows changed. */
sqlite3 *fs_sqlite_db(fs_store *s);
/* The database file's path (borrowed), for messages. */
const char *fs_sqlite_path(const fs_store *s);

/* The schema version of the open file (older ones only when read-only). */
int64_t fs_sqlite_version(const fs_store *s);

/* The id of the build before build b (a builds row named b in the query)
 * on b's own branch (a NULL branch is its own), by time then id: NULL when
 * there is none.  A seek in builds_branch_time (the row value makes it a
 * range of the index, not a walk down the branch). */
#define FS_STORE_PREV_SQL                                                                                    \
    "(SELECT y.id FROM builds y WHERE y.project_id = b.project_id AND y.board_id = b.board_id"              \
    " AND y.branch IS b.branch AND (y.timestamp, y.id) < (b.timestamp, b.id)"                               \
    " ORDER BY y.timestamp DESC, y.id DESC LIMIT 1)"

#endif
