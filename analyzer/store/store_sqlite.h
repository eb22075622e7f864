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

#endif
