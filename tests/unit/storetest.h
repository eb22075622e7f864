/*
 * storetest.h - helpers shared by the store's unit tests: a fresh database
 * path, its removal with the WAL side files, and one integer from SQL.
 */
#ifndef FS_STORETEST_H
#define FS_STORETEST_H

#include "testutil.h"

#include <sqlite3.h>

/* A path for a database that does not exist yet (SQLite creates it). */
static inline char *st_tmp_db(void)
{
    char *p = tu_tmpfile("", 0);
    assert_non_null(p);
    unlink(p);
    return p;
}

/* Remove the database and its -wal/-shm files; frees path. */
static inline void st_remove_db(char *path)
{
    char side[600];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    free(path);
}

/* The integer a one-row query answers, read through its own read-only connection. */
static inline int64_t st_sql_int(const char *db, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

#endif
