/*
 * test_storecache.c - what a store handle keeps between calls (store.h):
 * the prepared statements and the map of string ids, the per-build
 * summary columns of schema v3 that the history reads without decoding,
 * and the generation of schema v4 that the server's history cache checks.
 *
 * The ground truth is the document itself (the names this test gave the
 * symbols, the regions and findings it holds) and SQLite's own count of
 * rows, read through a separate connection.
 */
#include "storetest.h"

#include "analyze.h"
#include "elfread.h"
#include "output.h"
#include "store.h"

#include <sqlite3.h>

static fs_store *open_store(const char *path)
{
    fs_store *s;
    fs_error err;
    if (fs_store_open(path, NULL, &s, &err) != 0)
        fail_msg("%s", err.msg);
    return s;
}

static int record(fs_store *s, const json_t *doc, const char *commit, fs_error *err)
{
    fs_build_meta m = {"mpy", "esp8266-2m", commit, "main", NULL, 0, 1700000000};
    int64_t id = 0;
    return fs_store_record(s, doc, &m, &id, err) == 0 ? (int)id : -1;
}

static void assert_reads_back(fs_store *s, int64_t id, const json_t *doc)
{
    json_t *back;
    fs_error err;
    if (fs_store_load(s, id, &back, NULL, &err) != 0)
        fail_msg("%s", err.msg);
    assert_true(json_equal(back, (json_t *)doc));
    json_decref(back);
}

static int fail_at(void *ctx, const char *stage)
{
    return strcmp(stage, (const char *)ctx) == 0;
}

/* A copy of doc whose symbols are named prefix00000, prefix00001, ... */
static json_t *renamed(const json_t *doc, const char *prefix, size_t *n)
{
    json_t *copy = json_deep_copy(doc);
    json_t *syms = json_object_get(copy, "symbols");
    size_t i;
    json_t *e;
    json_array_foreach(syms, i, e) {
        char name[64];
        snprintf(name, sizeof name, "%s%05zu", prefix, i); /* keeps the size, name order */
        json_object_set_new(e, "name", json_string(name));
    }
    *n = json_array_size(syms);
    return copy;
}

/* The handle remembers string ids; a record that rolls back after adding
 * new names must not leave ids of rows that are gone in that memory. */
static void test_names_after_rollback(void **state)
{
    (void)state;
    char *db = st_tmp_db();
    json_t *doc = analyze_sample("esp8266-fits");
    size_t n;
    json_t *fresh = renamed(doc, "cache_only_", &n);
    assert_true(n > 100);
    fs_store *s = open_store(db);
    fs_error err;
    assert_int_equal(record(s, doc, "aaaa0001", &err), 1);
    /* Fails after the symbols (and so their new names) were written. */
    fs_store_set_hook(s, fail_at, (void *)"regions");
    assert_int_equal(record(s, fresh, "aaaa0002", &err), -1);
    assert_non_null(strstr(err.msg, "injected failure"));
    fs_store_set_hook(s, NULL, NULL);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM strings WHERE s LIKE 'cache_only_%'"), 0);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 1);
    /* The same handle again: the names must be written, not taken from memory. */
    int id = record(s, fresh, "aaaa0002", &err);
    if (id < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM strings WHERE s LIKE 'cache_only_%'"), (int64_t)n);
    assert_reads_back(s, id, fresh);
    /* A second handle (its own memory) reads the same. */
    fs_store *t = open_store(db);
    assert_reads_back(t, id, fresh);
    assert_reads_back(t, 1, doc);
    fs_store_close(t);
    fs_store_close(s);
    json_decref(fresh);
    json_decref(doc);
    st_remove_db(db);
}

/* Names another connection added between two records of this handle, and
 * many records through one handle (kept statements reset between uses). */
static void test_two_writers(void **state)
{
    (void)state;
    char *db = st_tmp_db();
    json_t *doc = analyze_sample("esp8266-fits");
    size_t n;
    json_t *a = renamed(doc, "writer_a_", &n), *b = renamed(doc, "writer_b_", &n);
    fs_store *s = open_store(db), *t = open_store(db);
    fs_error err;
    assert_int_equal(record(s, a, "bbbb0001", &err), 1);
    assert_int_equal(record(t, b, "bbbb0002", &err), 2);
    assert_int_equal(record(s, b, "bbbb0003", &err), 3);
    assert_int_equal(record(t, a, "bbbb0004", &err), 4);
    for (int i = 0; i < 40; i++) {
        char commit[32];
        snprintf(commit, sizeof commit, "cccc%04d", i);
        if (record(i % 2 ? s : t, i % 3 ? a : b, commit, &err) != 5 + i)
            fail_msg("record %d: %s", i, err.msg);
    }
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM strings WHERE s LIKE 'writer_%'"), (int64_t)(2 * n));
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 44);
    assert_reads_back(s, 2, b);
    assert_reads_back(t, 3, b);
    assert_reads_back(s, 44, b); /* i = 39: a multiple of 3 */
    fs_store_close(s);
    fs_store_close(t);
    json_decref(a);
    json_decref(b);
    json_decref(doc);
    st_remove_db(db);
}

/* One text column of build id (malloc'd, NULL for SQL NULL). */
static char *build_text(const char *db, const char *col, int id)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT %s FROM builds WHERE id = %d", col, id);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    char *out = t ? strdup((const char *)t) : NULL;
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
}

/* The summary columns agree with the document: error ids in order, and
 * used/length of every region by name. */
static void assert_summary(const char *db, int id, const json_t *doc)
{
    char *errors = build_text(db, "errors_json", id), *regions = build_text(db, "regions_json", id);
    assert_non_null(errors);
    assert_non_null(regions);
    json_t *e = json_loads(errors, 0, NULL), *r = json_loads(regions, 0, NULL);
    assert_true(json_is_array(e));
    assert_true(json_is_object(r));
    json_t *want = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "findings"), i, f)
        if (strcmp(json_string_value(json_object_get(f, "severity")), "error") == 0)
            json_array_append(want, json_object_get(f, "id"));
    assert_true(json_equal(e, want));
    json_t *reg;
    assert_int_equal(json_object_size(r), json_array_size(json_object_get(doc, "regions")));
    json_array_foreach(json_object_get(doc, "regions"), i, reg) {
        json_t *got = json_object_get(r, json_string_value(json_object_get(reg, "name")));
        assert_non_null(got);
        assert_true(json_equal(json_object_get(got, "used"), json_object_get(reg, "used")));
        assert_true(json_equal(json_object_get(got, "length"), json_object_get(reg, "length")));
    }
    json_decref(want);
    json_decref(e);
    json_decref(r);
    free(errors);
    free(regions);
}

/* Schema v3's summary columns: written at record time, and filled by the
 * migration of a v2 file from the regions and findings tables. */
static void test_summary_columns(void **state)
{
    (void)state;
    ST_SQLITE_ONLY(); /* SQLite's migration of a v2 file */
    char *db = st_tmp_db();
    json_t *over = analyze_sample("esp8266-irom0-overflow"), *fits = analyze_sample("esp8266-fits");
    fs_store *s = open_store(db);
    fs_error err;
    assert_int_equal(record(s, over, "dddd0001", &err), 1);
    assert_int_equal(record(s, fits, "dddd0002", &err), 2);
    fs_store_close(s);
    assert_int_equal(st_sql_int(db, "PRAGMA user_version"), FS_STORE_SCHEMA_VERSION);
    assert_summary(db, 1, over);
    assert_summary(db, 2, fits);
    /* the overflow sample has exactly one error, irom0-overflow */
    char *e1 = build_text(db, "errors_json", 1), *e2 = build_text(db, "errors_json", 2);
    assert_string_equal(e1, "[\"irom0-overflow\"]");
    assert_string_equal(e2, "[]");
    free(e1);
    free(e2);

    /* Make it a v2 file again, as schema v2 wrote it. */
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "DROP TRIGGER projects_gen_update; ALTER TABLE projects DROP COLUMN default_branch;"
                                  " DROP TRIGGER builds_gen_insert; DROP TRIGGER builds_gen_update;"
                                  " DROP TRIGGER builds_gen_delete; DROP TABLE store_generation;"
                                  " DROP INDEX builds_branch_time; DROP INDEX builds_history;"
                                  " CREATE INDEX builds_board_time ON builds(board_id, timestamp, id);"
                                  " ALTER TABLE builds DROP COLUMN errors_json;"
                                  " ALTER TABLE builds DROP COLUMN regions_json; PRAGMA user_version = 2",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(st_sql_int(db, "PRAGMA user_version"), 2);
    int64_t regions = st_sql_int(db, "SELECT count(*) FROM regions"),
            findings = st_sql_int(db, "SELECT count(*) FROM findings"),
            sections = st_sql_int(db, "SELECT count(*) FROM sections");
    assert_int_equal(regions, (int64_t)(json_array_size(json_object_get(over, "regions")) +
                                        json_array_size(json_object_get(fits, "regions"))));
    assert_true(findings > 0 && sections > 0);
    /* Read-only: read as it is, not migrated. */
    fs_store_opts ro = {.readonly = true};
    assert_int_equal(fs_store_open(db, &ro, &s, &err), 0);
    assert_reads_back(s, 1, over);
    fs_store_close(s);
    assert_int_equal(st_sql_int(db, "PRAGMA user_version"), 2);
    /* Opened for writing: migrated, the columns filled from the tables. */
    s = open_store(db);
    fs_store_close(s);
    assert_int_equal(st_sql_int(db, "PRAGMA user_version"), FS_STORE_SCHEMA_VERSION);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('builds_branch_time',"
                                    " 'builds_history')"), 2);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'builds_board_time'"), 0);
    /* the table was rebuilt: nothing cascaded to the child tables */
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM regions"), regions);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM findings"), findings);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM sections"), sections);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 2);
    assert_summary(db, 1, over);
    assert_summary(db, 2, fits);
    e1 = build_text(db, "errors_json", 1);
    assert_string_equal(e1, "[\"irom0-overflow\"]");
    free(e1);
    s = open_store(db);
    assert_reads_back(s, 2, fits);
    fs_store_close(s);
    json_decref(over);
    json_decref(fits);
    st_remove_db(db);
}

static void exec_ok(const char *db, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    sqlite3_close(h);
}

#define GEN_SQL "SELECT gen FROM store_generation"
#define GEN_TRIGGERS                                                                                                 \
    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'builds'"                             \
    " AND name IN ('builds_gen_insert', 'builds_gen_update', 'builds_gen_delete')"

/* Schema v4's generation: one more after each insert, update and delete of
 * a build, by a store handle or any other connection; unchanged by a record
 * that rolls back; one row only; a v3 file gets it when opened for writing
 * and is left alone when opened read-only. */
static void test_generation(void **state)
{
    (void)state;
    ST_SQLITE_ONLY(); /* SQLite's triggers, ids and migrations (PostgreSQL: tests/e2e/test_pg.sh) */
    char *db = st_tmp_db();
    json_t *fits = analyze_sample("esp8266-fits"), *over = analyze_sample("esp8266-irom0-overflow");
    fs_store *s = open_store(db);
    fs_error err;
    assert_int_equal(st_sql_int(db, "PRAGMA user_version"), FS_STORE_SCHEMA_VERSION);
    assert_int_equal(st_sql_int(db, GEN_SQL), 0);
    assert_int_equal(st_sql_int(db, GEN_TRIGGERS), 3);
    assert_int_equal(record(s, fits, "eeee0001", &err), 1);
    assert_int_equal(st_sql_int(db, GEN_SQL), 1); /* insert */
    assert_int_equal(record(s, over, "eeee0002", &err), 2);
    assert_int_equal(st_sql_int(db, GEN_SQL), 2);
    assert_int_equal(record(s, over, "eeee0001", &err), 1); /* recorded again in place: an update */
    assert_int_equal(st_sql_int(db, GEN_SQL), 3);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 2);
    /* a record that fails after writing the build row rolls the bump back too */
    fs_store_set_hook(s, fail_at, (void *)"regions");
    assert_int_equal(record(s, fits, "eeee0003", &err), -1);
    fs_store_set_hook(s, NULL, NULL);
    assert_int_equal(st_sql_int(db, GEN_SQL), 3);
    assert_int_equal(fs_store_delete(s, 2, &err), 0);
    assert_int_equal(st_sql_int(db, GEN_SQL), 4); /* delete */
    /* another connection, not the store: the triggers still count */
    exec_ok(db, "UPDATE builds SET pr = 7 WHERE id = 1");
    assert_int_equal(st_sql_int(db, GEN_SQL), 5);
    exec_ok(db, "UPDATE builds SET pr = 8");
    assert_int_equal(st_sql_int(db, GEN_SQL), 6); /* one row, one bump */
    assert_int_equal(record(s, fits, "eeee0004", &err), 2); /* the deleted build's id, taken again */
    assert_int_equal(st_sql_int(db, GEN_SQL), 7);
    /* one row only */
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "INSERT INTO store_generation(id, gen) VALUES (2, 0)", NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    sqlite3_close(h);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM store_generation"), 1);
    fs_store_close(s);

    /* Make it a v3 file again, as schema v3 wrote it. */
    exec_ok(db, "DROP TRIGGER projects_gen_update; ALTER TABLE projects DROP COLUMN default_branch;"
                " DROP TRIGGER builds_gen_insert; DROP TRIGGER builds_gen_update; DROP TRIGGER builds_gen_delete;"
                " DROP TABLE store_generation; PRAGMA user_version = 3");
    assert_int_equal(st_sql_int(db, "PRAGMA user_version"), 3);
    /* Read-only: read as it is, not migrated, no generation to read. */
    fs_store_opts ro = {.readonly = true};
    assert_int_equal(fs_store_open(db, &ro, &s, &err), 0);
    assert_reads_back(s, 1, over);
    fs_store_close(s);
    assert_int_equal(st_sql_int(db, "PRAGMA user_version"), 3);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'store_generation'"), 0);
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_not_equal(sqlite3_prepare_v2(h, FS_STORE_GENERATION_SQL, -1, &st, NULL), SQLITE_OK);
    assert_null(st);
    sqlite3_close(h);
    /* Opened for writing: migrated to the current version, generation 0,
     * counting again. */
    s = open_store(db);
    assert_int_equal(st_sql_int(db, "PRAGMA user_version"), FS_STORE_SCHEMA_VERSION);
    assert_int_equal(st_sql_int(db, FS_STORE_GENERATION_SQL), 0);
    assert_int_equal(st_sql_int(db, GEN_TRIGGERS), 3);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 2);
    assert_int_equal(record(s, over, "eeee0005", &err), 3);
    assert_int_equal(st_sql_int(db, FS_STORE_GENERATION_SQL), 1);
    assert_reads_back(s, 1, over);
    assert_reads_back(s, 2, fits);
    assert_reads_back(s, 3, over);
    fs_store_close(s);
    json_decref(fits);
    json_decref(over);
    st_remove_db(db);
}

/* PostgreSQL only: the server restarts under an open handle.  The next
 * call fails as "unavailable" (the server answers 503 to it), nothing of a
 * record that failed so is stored, and the call after that reconnects and
 * prepares its statements again. */
static void test_reconnect(void **state)
{
    (void)state;
    const char *dir = getenv("FS_PG_DIR");
    if (!st_pg() || !dir)
        skip();
    char *db = st_tmp_db();
    json_t *doc = analyze_sample("esp8266-fits");
    fs_store *s = open_store(db);
    fs_error err;
    assert_int_equal(record(s, doc, "ffff0001", &err), 1);
    char cmd[700];
    snprintf(cmd, sizeof cmd, ". tests/lib/pgcluster.sh && pg_cluster_restart '%s' >/dev/null", dir);
    assert_int_equal(system(cmd), 0);
    int64_t n = 0;
    assert_int_equal(fs_store_count_builds(s, &n, &err), -1);
    assert_int_equal(err.kind, FS_ERR_UNAVAILABLE);
    assert_non_null(strstr(err.msg, "the database server is unavailable"));
    assert_null(strstr(err.msg, "password"));
    assert_int_equal(fs_store_count_builds(s, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_reads_back(s, 1, doc);
    /* a record when the server has gone away */
    assert_int_equal(system(cmd), 0);
    assert_int_equal(record(s, doc, "ffff0002", &err), -1);
    assert_int_equal(err.kind, FS_ERR_UNAVAILABLE);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 1);
    int id = record(s, doc, "ffff0002", &err);
    if (id < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 2);
    assert_reads_back(s, id, doc);
    fs_store_close(s);
    json_decref(doc);
    st_remove_db(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_after_rollback),
        cmocka_unit_test(test_two_writers),
        cmocka_unit_test(test_summary_columns),
        cmocka_unit_test(test_generation),
        cmocka_unit_test(test_reconnect),
    };
    return cmocka_run_group_tests_name("storecache", tests, NULL, NULL);
}
