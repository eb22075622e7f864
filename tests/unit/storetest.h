/*
 * storetest.h - helpers shared by the store's unit tests: a fresh database
 * path, its removal with the WAL side files, one integer from SQL, and
 * the analysis document of a built sample.
 *
 * With FLASHSIZE_TEST_PG set to a PostgreSQL URI (tests/run.sh sets it for
 * the second run of the store's tests, on a cluster of
 * tests/lib/pgcluster.sh), a "fresh database" is a new database on that
 * server (its URI), and the SQL of st_sql_int runs there: the same tests,
 * the other backend.  Tests of what only SQLite has (PRAGMAs, file modes,
 * migrations of old files) call ST_SQLITE_ONLY() first.
 */
#ifndef FS_STORETEST_H
#define FS_STORETEST_H

#include "testutil.h"

#include "analyze.h"
#include "elfread.h"
#include "output.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

/* The PostgreSQL server the tests run on, or NULL for SQLite. */
static inline const char *st_pg(void)
{
    const char *u = getenv("FLASHSIZE_TEST_PG");
    return u && *u ? u : NULL;
}

/* Skip a test of what only the SQLite backend has. */
#define ST_SQLITE_ONLY()                                                                                     \
    do {                                                                                                     \
        if (st_pg())                                                                                         \
            skip();                                                                                          \
    } while (0)

static inline bool st_is_pg(const char *db)
{
    return strncmp(db, "postgresql://", 13) == 0;
}

/* The URI of database name on the server of FLASHSIZE_TEST_PG
 * ("postgresql:///DB?..." with DB replaced). */
static inline char *st_pg_uri(const char *name)
{
    const char *base = st_pg(), *q = strchr(base, '?');
    char *u = malloc(strlen(base) + strlen(name) + 32);
    assert_non_null(u);
    sprintf(u, "postgresql:///%s%s", name, q ? q : "");
    return u;
}

/* Run sql on the server's maintenance database. */
static inline void st_pg_admin(const char *sql)
{
    char *uri = st_pg_uri("postgres");
    PGconn *c = PQconnectdb(uri);
    free(uri);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* The integer answer of sql on PostgreSQL database uri. */
static inline int64_t st_pg_int(const char *uri, const char *sql)
{
    PGconn *c = PQconnectdb(uri);
    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    int64_t n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    if (strcmp(PQgetvalue(r, 0, 0), "t") == 0)
        n = 1;
    PQclear(r);
    PQfinish(c);
    return n;
}

/* A path for a database that does not exist yet (SQLite creates it), or
 * the URI of a new, empty PostgreSQL database. */
static inline char *st_tmp_db(void)
{
    if (st_pg()) {
        static int n;
        char name[64], sql[128];
        snprintf(name, sizeof name, "fst_%d_%d", (int)getpid(), ++n);
        snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0", name);
        st_pg_admin(sql);
        return st_pg_uri(name);
    }
    char *p = tu_tmpfile("", 0);
    assert_non_null(p);
    unlink(p);
    return p;
}

/* Remove the database and its -wal/-shm files; frees path. */
static inline void st_remove_db(char *path)
{
    if (st_is_pg(path)) {
        char sql[160];
        const char *name = path + strlen("postgresql:///");
        snprintf(sql, sizeof sql, "DROP DATABASE %.*s WITH (FORCE)", (int)strcspn(name, "?"), name);
        st_pg_admin(sql);
        free(path);
        return;
    }
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
    if (st_is_pg(db))
        return st_pg_int(db, sql);
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

/* The schema version the database says it has. */
static inline int64_t st_schema_version(const char *db)
{
    return st_sql_int(db, st_is_pg(db) ? "SELECT schema_version FROM store_meta" : "PRAGMA user_version");
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
