/*
 * storetest.h - helpers shared by the store's unit tests: a fresh database
 * path, its removal with the WAL side files, one integer from SQL, and
 * the analysis document of a built sample.
 */
#ifndef FS_STORETEST_H
#define FS_STORETEST_H

#include "testutil.h"

#include "analyze.h"
#include "elfread.h"
#include "output.h"

#include <jansson.h>
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

/* The analysis document of samples/build/NAME.elf (as `flashsize analyze
 * --format json` writes it, without retained sizes). */
static inline json_t *analyze_sample(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "samples/build/%s.elf", name);
    fs_image img = {0};
    fs_report rep = {0};
    fs_error err;
    if (fs_elf_load(path, &img, &err) != 0)
        fail_msg("%s", err.msg);
    fs_analyze_opts o = {0};
    if (fs_analyze(&img, &o, &rep, &err) != 0)
        fail_msg("%s", err.msg);
    fs_output_opts oo = {0};
    json_t *doc = fs_report_json(&rep, &oo);
    fs_report_free(&rep);
    fs_image_free(&img);
    assert_non_null(doc);
    return doc;
}

#endif
