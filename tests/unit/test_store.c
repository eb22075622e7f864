/*
 * test_store.c - the size history store: round trips, idempotent
 * re-recording, shared symbol sets, all-or-nothing transactions, hostile
 * documents and damaged, locked or read-only database files.
 *
 * Ground truth: the documents recorded are the library's own analyses of
 * the sample firmwares (fs_report_json), so a build read back must be equal
 * to what was recorded, value for value; row counts are read with plain SQL
 * on a second connection.
 */
#include "storetest.h"

#include "analyze.h"
#include "elfread.h"
#include "output.h"
#include "store.h"
#include "store_db.h" /* the schema description: white-box */

#include <sqlite3.h>
#include <sys/stat.h>

static fs_store *open_store(const char *path, int busy_ms)
{
    fs_store *s;
    fs_error err;
    fs_store_opts o = {.busy_ms = busy_ms};
    if (fs_store_open(path, &o, &s, &err) != 0)
        fail_msg("%s", err.msg);
    return s;
}

static int64_t record(fs_store *s, const json_t *doc, const char *commit, const char *board)
{
    fs_build_meta m = {"mpy", board, commit, "main", NULL, 0, 1700000000};
    int64_t id = 0;
    fs_error err;
    if (fs_store_record(s, doc, &m, &id, &err) != 0)
        fail_msg("%s", err.msg);
    return id;
}

/* Build id reads back equal to doc. */
static void assert_reads_back(fs_store *s, int64_t id, const json_t *doc)
{
    json_t *back;
    fs_error err;
    if (fs_store_load(s, id, &back, NULL, &err) != 0)
        fail_msg("%s", err.msg);
    assert_true(json_equal(back, (json_t *)doc));
    /* and the same bytes when written out, symbol order included */
    char *a = json_dumps(back, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    char *b = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(back);
}

static void test_round_trip(void **state)
{
    (void)state;
    json_t *fits = analyze_sample("esp8266-fits"), *near = analyze_sample("esp8266-nearfull");
    json_t *arm = analyze_sample("cortex-m4");
    char *db = st_tmp_db();
    fs_store *s = open_store(db, 0);
    int64_t a = record(s, fits, "aaaa0001", "esp8266-2m");
    int64_t b = record(s, near, "aaaa0002", "esp8266-2m");
    int64_t c = record(s, arm, "aaaa0003", "cortex-m4");
    assert_true(a > 0 && b > a && c > b);
    assert_reads_back(s, a, fits);
    assert_reads_back(s, b, near);
    assert_reads_back(s, c, arm);

    /* the query tables hold what the documents say */
    assert_int_equal(st_sql_int(db, "SELECT used FROM regions WHERE build_id = 2 AND name = 'irom0_0_seg'"), 966184);
    assert_int_equal(st_sql_int(db, "SELECT size FROM sections WHERE build_id = 1 AND name = '.irom0.text'"), 614400);
    assert_int_equal(st_sql_int(db, "SELECT main_used FROM builds WHERE id = 1"), 614400);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM findings WHERE build_id = 2 AND fid = 'region-headroom'"), 1);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM sections WHERE build_id = 1"),
                     (int64_t)json_array_size(json_object_get(fits, "sections")));
    assert_int_equal(st_schema_version(db), FS_STORE_SCHEMA_VERSION);

    /* looking builds up by commit */
    int64_t id;
    fs_error err;
    assert_int_equal(fs_store_resolve(s, "commit:aaaa0002", &id, &err), 0);
    assert_int_equal(id, b);
    assert_int_equal(fs_store_resolve(s, "commit:aaaa0003@cortex-m4", &id, &err), 0);
    assert_int_equal(id, c);
    assert_int_equal(fs_store_resolve(s, "commit:aaaa", &id, &err), -1);
    assert_non_null(strstr(err.msg, "more than one build"));
    assert_int_equal(fs_store_resolve(s, "commit:aaaa0003@esp8266-2m", &id, &err), -1);
    assert_non_null(strstr(err.msg, "no build of commit aaaa0003 on board esp8266-2m"));
    assert_int_equal(fs_store_resolve(s, "build:2", &id, &err), 0);
    assert_int_equal(id, 2);
    assert_int_equal(fs_store_resolve(s, "build:x", &id, &err), -1);
    json_t *none;
    assert_int_equal(fs_store_load(s, 99, &none, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "no build 99"));

    fs_store_close(s);
    /* a read-only open reads the same */
    fs_store_opts ro = {.readonly = true};
    assert_int_equal(fs_store_open(db, &ro, &s, &err), 0);
    assert_reads_back(s, b, near);
    fs_store_close(s);
    st_remove_db(db);
    json_decref(fits);
    json_decref(near);
    json_decref(arm);
}

static void test_idempotent(void **state)
{
    (void)state;
    json_t *fits = analyze_sample("esp8266-fits"), *near = analyze_sample("esp8266-nearfull");
    char *db = st_tmp_db();
    fs_store *s = open_store(db, 0);
    int64_t a = record(s, fits, "bbbb0001", "esp8266-2m");
    assert_int_equal(record(s, fits, "bbbb0001", "esp8266-2m"), a);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 1);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM regions"), 4);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM symsets"), 1);

    /* same commit, new content: replaced in place, the old symbol set dropped */
    assert_int_equal(record(s, near, "bbbb0001", "esp8266-2m"), a);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 1);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM symsets"), 1);
    assert_reads_back(s, a, near);

    /* another commit with identical symbols shares the symbol set */
    int64_t b = record(s, near, "bbbb0002", "esp8266-2m");
    assert_true(b != a);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM symsets"), 1);
    /* the same commit on another board is another build */
    int64_t c = record(s, fits, "bbbb0001", "esp8266-1m");
    assert_true(c != a && c != b);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM symsets"), 2);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 3);
    fs_store_close(s);
    st_remove_db(db);
    json_decref(fits);
    json_decref(near);
}

typedef struct fail_at {
    const char *stage;
    int hits;
} fail_at;

static int fail_hook(void *ctx, const char *stage)
{
    fail_at *f = ctx;
    if (strcmp(f->stage, stage) == 0) {
        f->hits++;
        return 1;
    }
    return 0;
}

static const char *const counts[] = {
    "SELECT count(*) FROM builds",   "SELECT count(*) FROM regions", "SELECT count(*) FROM sections",
    "SELECT count(*) FROM findings", "SELECT count(*) FROM frozen",  "SELECT count(*) FROM symsets", "SELECT count(*) FROM strings",
    "SELECT sum(main_used) FROM builds"};
#define NCOUNTS (sizeof counts / sizeof *counts)

static void snapshot(const char *db, int64_t *out)
{
    for (size_t i = 0; i < NCOUNTS; i++)
        out[i] = st_sql_int(db, counts[i]);
}

static void test_all_or_nothing(void **state)
{
    (void)state;
    json_t *fits = analyze_sample("esp8266-fits"), *near = analyze_sample("esp8266-nearfull");
    json_t *arm = analyze_sample("cortex-m4");
    char *db = st_tmp_db();
    fs_store *s = open_store(db, 0);
    record(s, fits, "cccc0001", "esp8266-2m");
    record(s, near, "cccc0002", "esp8266-2m");
    int64_t before[NCOUNTS], after[NCOUNTS];
    snapshot(db, before);
    assert_int_equal(before[0], 2);

    static const char *const stages[] = {"build", "symbols", "regions", "sections", "frozen", "findings", "commit"};
    for (size_t i = 0; i < sizeof stages / sizeof *stages; i++) {
        /* a new build (new names, new symbol set) and a replacement of build 2 */
        const char *commits[] = {"cccc0003", "cccc0002"};
        for (size_t k = 0; k < 2; k++) {
            fail_at f = {stages[i], 0};
            fs_store_set_hook(s, fail_hook, &f);
            fs_build_meta m = {"mpy", "esp8266-2m", commits[k], "main", NULL, 0, 1700000000};
            int64_t id;
            fs_error err;
            assert_int_equal(fs_store_record(s, arm, &m, &id, &err), -1);
            assert_int_equal(f.hits, 1);
            assert_non_null(strstr(err.msg, stages[i]));
            assert_non_null(strstr(err.msg, db));
            snapshot(db, after);
            assert_memory_equal(before, after, sizeof before);
        }
    }
    fs_store_set_hook(s, NULL, NULL);
    assert_reads_back(s, 1, fits);
    assert_reads_back(s, 2, near);
    fs_store_close(s);
    st_remove_db(db);
    json_decref(fits);
    json_decref(near);
    json_decref(arm);
}

/* Recording doc must fail with a message containing want, storing nothing. */
static void expect_refused(fs_store *s, const char *db, json_t *doc, const char *want)
{
    int64_t before[NCOUNTS], after[NCOUNTS];
    snapshot(db, before);
    fs_build_meta m = {"mpy", "esp8266-2m", "dddd0009", NULL, NULL, 0, 0};
    int64_t id;
    fs_error err;
    assert_int_equal(fs_store_record(s, doc, &m, &id, &err), -1);
    if (!strstr(err.msg, want))
        fail_msg("wanted '%s' in '%s'", want, err.msg);
    snapshot(db, after);
    assert_memory_equal(before, after, sizeof before);
    json_decref(doc);
}

static json_t *patched(const json_t *doc, const char *path_json)
{
    /* path_json: {"key": value} merged over a deep copy */
    json_t *copy = json_deep_copy(doc);
    json_t *patch = json_loads(path_json, 0, NULL);
    assert_non_null(patch);
    json_object_update(copy, patch);
    json_decref(patch);
    return copy;
}

static void test_hostile_documents(void **state)
{
    (void)state;
    json_t *fits = analyze_sample("esp8266-fits");
    char *db = st_tmp_db();
    fs_store *s = open_store(db, 0);
    record(s, fits, "dddd0001", "esp8266-2m");

    expect_refused(s, db, json_array(), "not a flashsize analysis (expected a JSON object)");
    expect_refused(s, db, patched(fits, "{\"schema\": \"other\"}"), "\"schema\" is not \"flashsize-analysis\"");
    expect_refused(s, db, patched(fits, "{\"schema_version\": 2}"), "schema_version 2 is not supported");
    expect_refused(s, db, patched(fits, "{\"schema_version\": \"1\"}"), "\"schema_version\": expected an integer");
    expect_refused(s, db, patched(fits, "{\"regions\": 7}"), "'regions': expected an array");
    expect_refused(s, db, patched(fits, "{\"regions\": [{\"name\": \"r\", \"origin\": 0, \"length\": \"12\", "
                                        "\"used\": 0, \"attrs\": \"\"}]}"),
                   "regions[0].length: expected a non-negative integer");
    expect_refused(s, db, patched(fits, "{\"regions\": [{\"name\": \"r\", \"origin\": 0, \"length\": -5, "
                                        "\"used\": 0, \"attrs\": \"\"}]}"),
                   "regions[0].length: expected a non-negative integer");
    expect_refused(s, db, patched(fits, "{\"symbols\": [{\"name\": \"x\", \"address\": 1, \"size\": 2, "
                                        "\"type\": \"FUNC\", \"bind\": \"GLOBAL\"}]}"),
                   "symbols[0].section: expected a string (missing)");
    expect_refused(s, db, patched(fits, "{\"symbols\": [3]}"), "symbols[0]: expected an object");
    expect_refused(s, db, patched(fits, "{\"findings\": [{\"id\": \"x\", \"severity\": \"fatal\", \"subject\": null, "
                                        "\"message\": \"m\"}]}"),
                   "findings[0].severity: 'fatal' is not error, warning or info");
    expect_refused(s, db, patched(fits, "{\"frozen\": {\"modules\": [{\"name\": 5, \"bytes\": 1}]}}"), "frozen.modules[0].name: expected a string");
    expect_refused(s, db, patched(fits, "{\"frozen\": [1]}"), "\"frozen\": expected an object or null");
    json_t *nosec = json_deep_copy(fits);
    json_object_del(nosec, "sections");
    expect_refused(s, db, nosec, "'sections': expected an array (missing)");

    /* huge arrays are capped */
    json_t *many = json_deep_copy(fits);
    json_t *regs = json_array();
    for (unsigned i = 0; i <= FS_ANALYSIS_MAX_REGIONS; i++)
        json_array_append_new(regs, json_pack("{s:s,s:i,s:i,s:i,s:s}", "name", "r", "origin", 0, "length", 1, "used",
                                              0, "attrs", "rx"));
    json_object_set_new(many, "regions", regs);
    expect_refused(s, db, many, "'regions' has 1025 entries, more than the limit of 1024");
    /* an over-long name */
    char *longname = malloc(FS_ANALYSIS_MAX_STRING + 2);
    memset(longname, 'a', FS_ANALYSIS_MAX_STRING + 1);
    longname[FS_ANALYSIS_MAX_STRING + 1] = '\0';
    json_t *ln = json_deep_copy(fits);
    json_object_set_new(json_array_get(json_object_get(ln, "symbols"), 0), "name", json_string(longname));
    free(longname);
    expect_refused(s, db, ln, "symbols[0].name: string of 4097 bytes");
    /* an oversized document (a 17 MiB extra key) */
    json_t *big = json_deep_copy(fits);
    char *pad = malloc(FS_ANALYSIS_MAX_DOC_BYTES + 2);
    memset(pad, 'x', FS_ANALYSIS_MAX_DOC_BYTES + 1);
    pad[FS_ANALYSIS_MAX_DOC_BYTES + 1] = '\0';
    json_object_set_new(big, "padding", json_string(pad));
    free(pad);
    expect_refused(s, db, big, "more than the 16777216-byte limit");

    /* files: bad JSON, deep nesting, duplicate keys */
    fs_error err;
    json_t *doc;
    char *p = tu_tmpfile("{\"schema\": ", 11);
    assert_int_equal(fs_analysis_load_file(p, &doc, &err), -1);
    assert_non_null(strstr(err.msg, p));
    assert_non_null(strstr(err.msg, "bad JSON"));
    unlink(p);
    free(p);
    char deep[8001];
    for (int i = 0; i < 4000; i++)
        deep[i] = '[', deep[4000 + i] = ']';
    deep[8000] = '\0';
    p = tu_tmpfile(deep, 8000);
    assert_int_equal(fs_analysis_load_file(p, &doc, &err), -1);
    assert_non_null(strstr(err.msg, "maximum parsing depth"));
    unlink(p);
    free(p);
    p = tu_tmpfile("{\"a\": 1, \"a\": 2}", 16);
    assert_int_equal(fs_analysis_load_file(p, &doc, &err), -1);
    assert_non_null(strstr(err.msg, "duplicate"));
    unlink(p);
    free(p);

    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 1);
    assert_reads_back(s, 1, fits);
    fs_store_close(s);
    st_remove_db(db);
    json_decref(fits);
}

static void copy_file(const char *from, const char *to)
{
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

/* A database with builds 1 and 2 (fits, nearfull), closed. */
static char *two_builds(json_t **fits, json_t **near)
{
    *fits = analyze_sample("esp8266-fits");
    *near = analyze_sample("esp8266-nearfull");
    char *db = st_tmp_db();
    fs_store *s = open_store(db, 0);
    assert_int_equal(record(s, *fits, "eeee0001", "esp8266-2m"), 1);
    assert_int_equal(record(s, *near, "eeee0002", "esp8266-2m"), 2);
    fs_store_close(s);
    return db;
}

static void assert_two_builds(const char *db, const json_t *fits, const json_t *near)
{
    fs_store *s = open_store(db, 0);
    assert_reads_back(s, 1, fits);
    assert_reads_back(s, 2, near);
    fs_store_close(s);
}

static void test_damaged_files(void **state)
{
    (void)state;
    /* SQLite only (main): files: junk, other SQLite databases, modes, locks */
    json_t *fits, *near, *arm = analyze_sample("cortex-m4");
    char *db = two_builds(&fits, &near);
    char saved[600], junk[600];
    snprintf(saved, sizeof saved, "%s.saved", db);
    copy_file(db, saved);

    /* random bytes over the file: refused, and the file is left as it was */
    snprintf(junk, sizeof junk, "head -c 65536 /dev/urandom > '%s'", db);
    assert_int_equal(system(junk), 0);
    snprintf(junk, sizeof junk, "%s.junk", db);
    copy_file(db, junk);
    fs_store *s;
    fs_error err;
    assert_int_equal(fs_store_open(db, NULL, &s, &err), -1);
    assert_non_null(strstr(err.msg, db));
    assert_non_null(strstr(err.msg, "not a flashsize database or corrupted"));
    fs_store_opts ro = {.readonly = true};
    assert_int_equal(fs_store_open(db, &ro, &s, &err), -1);
    assert_non_null(strstr(err.msg, "not a flashsize database or corrupted"));
    char cmp[1300];
    snprintf(cmp, sizeof cmp, "cmp -s '%s' '%s'", db, junk);
    assert_int_equal(system(cmp), 0);
    unlink(junk);
    copy_file(saved, db);
    assert_two_builds(db, fits, near);

    /* another SQLite database is not ours */
    char other[600];
    snprintf(other, sizeof other, "%s.other", db);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(other, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(fs_store_open(other, NULL, &s, &err), -1);
    assert_non_null(strstr(err.msg, "an SQLite database, but not a flashsize one"));
    unlink(other);

    /* a newer schema is refused, not migrated down */
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(fs_store_open(db, NULL, &s, &err), -1);
    assert_non_null(strstr(err.msg, "schema version 99 is newer"));
    copy_file(saved, db);

    /* read-only file: refused with its name; builds still there once writable */
    assert_int_equal(chmod(db, 0444), 0);
    assert_int_equal(fs_store_open(db, NULL, &s, &err), -1);
    assert_non_null(strstr(err.msg, db));
    assert_non_null(strstr(err.msg, "read-only"));
    assert_int_equal(fs_store_open(db, &ro, &s, &err), 0); /* reading is fine */
    fs_store_close(s);
    assert_int_equal(chmod(db, 0644), 0);
    assert_two_builds(db, fits, near);

    /* a missing file cannot be opened read-only */
    assert_int_equal(fs_store_open("/nonexistent/dir/x.db", &ro, &s, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/x.db: cannot open"));
    assert_int_equal(fs_store_open("/nonexistent/dir/x.db", NULL, &s, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/x.db"));

    /* locked: another connection holds the write lock past the busy timeout */
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    s = open_store(db, 50);
    fs_build_meta m = {"mpy", "esp8266-2m", "eeee0003", "main", NULL, 0, 0};
    int64_t id;
    assert_int_equal(fs_store_record(s, arm, &m, &id, &err), -1);
    assert_non_null(strstr(err.msg, db));
    assert_non_null(strstr(err.msg, "database is locked by another writer (waited 50 ms)"));
    assert_int_equal(sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    /* lock gone: the third build goes in, the first two are intact */
    assert_int_equal(fs_store_record(s, arm, &m, &id, &err), 0);
    assert_int_equal(id, 3);
    assert_reads_back(s, 3, arm);
    fs_store_close(s);
    assert_two_builds(db, fits, near);

    unlink(saved);
    st_remove_db(db);
    json_decref(fits);
    json_decref(near);
    json_decref(arm);
}

static void test_history(void **state)
{
    (void)state;
    json_t *fits = analyze_sample("esp8266-fits"), *near = analyze_sample("esp8266-nearfull");
    char *db = st_tmp_db();
    fs_store *s = open_store(db, 0);
    fs_error err;
    const json_t *docs[] = {fits, near, fits, near, fits};
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        char sha[32];
        snprintf(sha, sizeof sha, "ffff000%d", i);
        fs_build_meta m = {"mpy", "esp8266-2m", sha, i >= 3 ? "dev" : "main", NULL, 0, 1700000000 + i * 60};
        assert_int_equal(fs_store_record(s, docs[i], &m, &ids[i], &err), 0);
    }
    fs_history_row *rows;
    size_t n;
    fs_history_query q = {"esp8266-2m", NULL, NULL, 3};
    assert_int_equal(fs_store_history(s, &q, &rows, &n, &err), 0);
    assert_int_equal(n, 3);
    /* Deltas are against the previous build of the same branch. */
    assert_string_equal(rows[0].build.commit, "ffff0004");
    assert_string_equal(rows[0].region, "irom0_0_seg");
    assert_int_equal(rows[0].used, 614400);
    assert_true(rows[0].has_prev); /* dev's ffff0003, not anything of main */
    assert_int_equal(rows[0].prev_id, ids[3]);
    assert_int_equal(rows[0].delta, 614400 - 966184);
    assert_false(rows[1].has_prev); /* dev's first build: main's ffff0002 is not its previous */
    assert_string_equal(rows[2].build.commit, "ffff0002");
    assert_true(rows[2].has_prev); /* main's ffff0001, beyond the rows shown, counts */
    assert_int_equal(rows[2].prev_id, ids[1]);
    assert_int_equal(rows[2].delta, 614400 - 966184);
    fs_history_free(rows, n);
    q = (fs_history_query){"esp8266-2m", "mpy", "main", 0};
    assert_int_equal(fs_store_history(s, &q, &rows, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_false(rows[2].has_prev);
    assert_string_equal(rows[0].build.commit, "ffff0002");
    assert_int_equal(rows[0].build.timestamp, 1700000120);
    fs_history_free(rows, n);
    q = (fs_history_query){"nope", NULL, NULL, 0};
    assert_int_equal(fs_store_history(s, &q, &rows, &n, &err), 0);
    assert_int_equal(n, 0);
    fs_history_free(rows, n);
    fs_store_close(s);
    st_remove_db(db);
    json_decref(fits);
    json_decref(near);
}

/* Collectors for the server's reads. */
typedef struct trunk_rows {
    fs_build_row rows[8];
    char commits[8][32];
    size_t n;
} trunk_rows;

static void collect_row(void *ctx, const fs_build_row *r)
{
    trunk_rows *t = ctx;
    if (t->n < 8) {
        t->rows[t->n] = *r;
        snprintf(t->commits[t->n], sizeof t->commits[0], "%s", r->commit);
        t->rows[t->n].commit = t->commits[t->n];
        t->rows[t->n].branch = t->rows[t->n].parent = t->rows[t->n].main_region = NULL;
        t->rows[t->n].errors_json = t->rows[t->n].regions_json = NULL;
        t->n++;
    }
}

typedef struct trunk_board {
    int64_t latest;
    bool on_default;
    int boards;
} trunk_board;

static int collect_board(void *ctx, const fs_board_row *r)
{
    trunk_board *b = ctx;
    b->latest = r->latest.id;
    b->on_default = r->on_default;
    b->boards++;
    return 0;
}

static int64_t irom0_used(const json_t *doc)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(doc, "regions"), i, r) {
        if (strcmp(json_string_value(json_object_get(r, "name")), "irom0_0_seg") == 0)
            return json_integer_value(json_object_get(r, "used"));
    }
    return -1;
}

static uint64_t zero_hash(const unsigned char *p, size_t n)
{
    (void)p;
    return n;
}

/* A project's default branch: a board's state is its newest build there,
 * a pull request's build is measured against its parent's build (else the
 * default branch's newest build before it), and the default branch can be
 * set before the first build and changed later (schema 5). */
static void test_trunk(void **state)
{
    (void)state;
    json_t *fits = analyze_sample("esp8266-fits"), *near = analyze_sample("esp8266-nearfull"),
           *over = analyze_sample("esp8266-irom0-overflow");
    char *db = st_tmp_db();
    fs_store *s = open_store(db, 0);
    fs_error err;
    char dfl[64];
    assert_int_equal(fs_store_default_branch(s, "mpy", dfl, sizeof dfl, &err), 0);
    assert_string_equal(dfl, "main"); /* unknown project: the default */
    int64_t a, b, pr1, pr2, c;
    fs_build_meta m = {"mpy", "board", "aaaa0001", "main", NULL, 0, 1000};
    assert_int_equal(fs_store_record(s, fits, &m, &a, &err), 0);
    m = (fs_build_meta){"mpy", "board", "aaaa0002", "main", "aaaa0001", 0, 2000};
    assert_int_equal(fs_store_record(s, near, &m, &b, &err), 0);
    /* a failing PR, parent aaaa0001, newer than every main build */
    m = (fs_build_meta){"mpy", "board", "bbbb0001", "pr-7", "aaaa0001", 7, 3000};
    assert_int_equal(fs_store_record(s, over, &m, &pr1, &err), 0);
    /* the PR's second build, no parent sent: the newest main build before it */
    m = (fs_build_meta){"mpy", "board", "bbbb0002", "pr-7", NULL, 7, 4000};
    assert_int_equal(fs_store_record(s, fits, &m, &pr2, &err), 0);

    trunk_board tb = {0};
    bool exists;
    assert_int_equal(fs_store_boards(s, "mpy", 10, collect_board, &tb, &exists, &err), 0);
    assert_int_equal(tb.boards, 1);
    assert_int_equal(tb.latest, b); /* main's newest, not the newer failing PR */
    assert_true(tb.on_default);

    trunk_rows t = {0};
    fs_history_range r = {"mpy", "board", NULL, 0, INT64_MAX, 100};
    assert_int_equal(fs_store_history_each(s, &r, collect_row, &t, &err), 0);
    assert_int_equal(t.n, 4);
    assert_string_equal(t.commits[0], "bbbb0002");
    assert_int_equal(t.rows[0].prev_id, pr1); /* same branch */
    assert_true(t.rows[0].has_delta);
    assert_int_equal(t.rows[1].used, irom0_used(over)); /* what the analysis says */
    assert_int_equal(t.rows[0].delta, 614400 - irom0_used(over));
    assert_int_equal(t.rows[0].base_id, b); /* no parent: main's newest at or before it */
    assert_string_equal(t.commits[1], "bbbb0001");
    assert_int_equal(t.rows[1].prev_id, 0); /* the PR's first build */
    assert_false(t.rows[1].has_delta);
    assert_int_equal(t.rows[1].base_id, a); /* its parent's build */
    assert_string_equal(t.commits[2], "aaaa0002");
    assert_int_equal(t.rows[2].prev_id, a);
    assert_int_equal(t.rows[2].delta, 966184 - 614400);
    assert_int_equal(t.rows[2].base_id, 0); /* on the default branch: no base */
    assert_int_equal(t.rows[3].prev_id, 0);

    /* an upload's base: the parent's build, else main's newest before it */
    int64_t id, symset;
    uint64_t hash;
    assert_int_equal(fs_store_find_base(s, "mpy", "board", "aaaa0001", NULL, 3000, pr1, zero_hash, &id, &symset, &hash, &err), 0);
    assert_int_equal(id, a);
    assert_int_equal(fs_store_find_base(s, "mpy", "board", "ffff", NULL, 1500, pr1, zero_hash, &id, &symset, &hash, &err), 0);
    assert_int_equal(id, a); /* unknown parent: main before t=1500 */
    assert_int_equal(fs_store_find_base(s, "mpy", "board", NULL, NULL, 0, pr1, zero_hash, &id, &symset, &hash, &err), 0);
    assert_int_equal(id, b);
    assert_int_equal(fs_store_find_base(s, "mpy", "board", NULL, "pr-7", 0, pr2, zero_hash, &id, &symset, &hash, &err), 0);
    assert_int_equal(id, pr1); /* a branch named by the caller */

    /* another default branch: set, read back, counted in the generation */
    int64_t gen0, gen1;
    fs_store_generation(s, &gen0);
    assert_int_equal(fs_store_set_default_branch(s, "mpy", "pr-7", &err), 0);
    fs_store_generation(s, &gen1);
    assert_int_equal(gen1, gen0 + 1);
    assert_int_equal(fs_store_default_branch(s, "mpy", dfl, sizeof dfl, &err), 0);
    assert_string_equal(dfl, "pr-7");
    tb = (trunk_board){0};
    assert_int_equal(fs_store_boards(s, "mpy", 10, collect_board, &tb, &exists, &err), 0);
    assert_int_equal(tb.latest, pr2);
    /* a project that has no build yet gets one, with its branch */
    assert_int_equal(fs_store_set_default_branch(s, "new", "trunk", &err), 0);
    assert_int_equal(fs_store_default_branch(s, "new", dfl, sizeof dfl, &err), 0);
    assert_string_equal(dfl, "trunk");
    tb = (trunk_board){0};
    assert_int_equal(fs_store_boards(s, "new", 10, collect_board, &tb, &exists, &err), 0);
    assert_int_equal(tb.boards, 0);
    assert_true(exists);
    /* a board with no build on the default branch: its newest, flagged */
    m = (fs_build_meta){"new", "board", "cccc0001", "feature", NULL, 0, 5000};
    assert_int_equal(fs_store_record(s, fits, &m, &c, &err), 0);
    tb = (trunk_board){0};
    assert_int_equal(fs_store_boards(s, "new", 10, collect_board, &tb, &exists, &err), 0);
    assert_int_equal(tb.latest, c);
    assert_false(tb.on_default);
    fs_store_close(s);
    st_remove_db(db);
    json_decref(fits);
    json_decref(near);
    json_decref(over);
}

/* db copy's part of the store (both backends): one transaction around many
 * records, rolled back or committed whole; a record failing inside it
 * undoes only itself; chosen ids and times kept as given, and the next
 * ordinary record goes on after the largest id; the id list; token rows
 * exported with their hashes and imported under their ids. */
static void test_copy_api(void **state)
{
    (void)state;
    json_t *fits = analyze_sample("esp8266-fits"), *near = analyze_sample("esp8266-nearfull");
    char *db = st_tmp_db();
    fs_store *s = open_store(db, 0);
    fs_error err;
    int64_t id = 0;
    fs_build_meta m = {"mpy", "esp8266-2m", "cccc0001", "main", NULL, 0, 0};

    /* rolled back: nothing stays, not even the project */
    assert_int_equal(fs_store_begin(s, &err), 0);
    assert_int_equal(fs_store_begin(s, &err), -1); /* one at a time */
    assert_int_equal(fs_store_record(s, fits, &m, &id, &err), 0);
    fs_store_rollback(s);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 0);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM projects"), 0);

    /* committed: chosen ids, time 0 kept, a failing record undoes only itself */
    assert_int_equal(fs_store_begin(s, &err), 0);
    assert_int_equal(fs_store_record_copy(s, fits, &m, 40, &id, &err), 0);
    assert_int_equal(id, 40);
    fs_build_meta m2 = {"mpy", "esp8266-2m", "cccc0002", "dev", "cccc0001", 3, 1700000000};
    assert_int_equal(fs_store_record_copy(s, near, &m2, 7, &id, &err), 0);
    assert_int_equal(id, 7);
    fs_build_meta bad = {"mpy", "esp8266-2m", "cccc0003", NULL, NULL, 0, 5};
    assert_int_equal(fs_store_record_copy(s, near, &bad, 40, &id, &err), -1); /* id 40 is taken */
    assert_int_equal(fs_store_commit(s, &err), 0);
    assert_int_equal(fs_store_commit(s, &err), -1); /* none open */
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), 2);
    assert_int_equal(st_sql_int(db, "SELECT timestamp FROM builds WHERE id = 40"), 0);
    assert_int_equal(st_sql_int(db, "SELECT pr FROM builds WHERE id = 7"), 3);
    assert_reads_back(s, 40, fits);
    assert_reads_back(s, 7, near);
    /* an ordinary record after it: the next id after the largest */
    assert_int_equal(record(s, near, "cccc0004", "esp8266-2m"), 41);
    int64_t *ids;
    size_t n;
    assert_int_equal(fs_store_build_ids(s, &ids, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], 7);
    assert_int_equal(ids[1], 40);
    assert_int_equal(ids[2], 41);
    free(ids);

    /* tokens: imported under their ids with their hashes; a clash is refused */
    assert_int_equal(fs_store_tokens_init(s, &err), 0);
    unsigned char h1[32], h2[32], got[32];
    memset(h1, 0xa5, sizeof h1);
    memset(h2, 0x5a, sizeof h2);
    fs_token_row t = {12, 1700000000, 1700000100, "mpy", "ci", h1};
    bool existed = true, found, revoked;
    assert_int_equal(fs_store_token_import(s, &t, &existed, &err), 0);
    assert_false(existed);
    assert_int_equal(fs_store_token_import(s, &t, &existed, &err), 0);
    assert_true(existed);
    char project[64];
    assert_int_equal(fs_store_token_lookup(s, 12, got, project, sizeof project, &found, &revoked, &err), 0);
    assert_true(found && revoked);
    assert_memory_equal(got, h1, 32);
    assert_string_equal(project, "mpy");
    fs_token_row clash = {12, 1700000000, 0, "mpy", "", h2};
    assert_int_equal(fs_store_token_import(s, &clash, &existed, &err), -1);
    assert_non_null(strstr(err.msg, "token 12 is already there"));
    assert_int_equal(st_sql_int(db, "SELECT max(id) FROM server_tokens"), 12);
    fs_store_close(s);
    st_remove_db(db);
    json_decref(fits);
    json_decref(near);
}

/* The shape of an SQLite database: every table's columns (name, type,
 * NOT NULL, default, key), foreign keys and WITHOUT ROWID, every index's
 * columns, every trigger's name; one text. */
static char *sqlite_shape(const char *path)
{
    static const char *const q[] = {
        "SELECT group_concat(x, char(10)) FROM (SELECT m.name || ' ' || p.cid || ' ' || p.name || ' ' || p.type"
        " || ' ' || p.\"notnull\" || ' ' || coalesce(p.dflt_value, '-') || ' ' || p.pk || ' '"
        " || (m.sql LIKE '%WITHOUT ROWID%') AS x FROM sqlite_master m, pragma_table_info(m.name) p"
        " WHERE m.type = 'table' ORDER BY m.name, p.cid)",
        "SELECT group_concat(x, char(10)) FROM (SELECT m.name || ' ' || f.\"table\" || ' ' || f.\"from\" || ' '"
        " || coalesce(f.\"to\", '-') || ' ' || f.on_delete AS x FROM sqlite_master m, pragma_foreign_key_list(m.name) f"
        " WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq)",
        "SELECT group_concat(x, char(10)) FROM (SELECT m.name || ' ' || m.tbl_name || ' ' || group_concat(i.name) AS x"
        " FROM sqlite_master m, pragma_index_info(m.name) i WHERE m.type = 'index' AND m.sql IS NOT NULL"
        " GROUP BY m.name ORDER BY m.name)",
        "SELECT group_concat(name || ' ' || tbl_name, char(10)) FROM (SELECT name, tbl_name FROM sqlite_master"
        " WHERE type = 'trigger' ORDER BY name)",
    };
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    assert_non_null(out);
    for (size_t i = 0; i < sizeof q / sizeof *q; i++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(h, q[i], -1, &st, NULL) != SQLITE_OK)
            fail_msg("%s: %s", q[i], sqlite3_errmsg(h));
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        const char *t = (const char *)sqlite3_column_text(st, 0);
        assert_non_null(t);
        len += (size_t)snprintf(out + len, cap - len, "%s\n--\n", t);
        assert_true(len < cap);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return out;
}

/* The schema's one description (store_schema.c, from which a PostgreSQL
 * database is made) written for SQLite makes the same tables, columns,
 * keys, indexes and triggers as SQLite's migrations give a new file. */
static void test_schema_description(void **state)
{
    (void)state;
    char *migrated = st_tmp_db(), *described = st_tmp_db();
    fs_store *s = open_store(migrated, 0);
    fs_store_close(s);
    char *sql = fs_store_schema_sql(FS_DB_SQLITE);
    assert_non_null(sql);
    assert_non_null(strstr(sql, "CREATE TABLE builds("));
    sqlite3 *h;
    assert_int_equal(sqlite3_open(described, &h), SQLITE_OK);
    if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s", sqlite3_errmsg(h));
    sqlite3_close(h);
    char *a = sqlite_shape(migrated), *b = sqlite_shape(described);
    assert_non_null(strstr(a, "builds 16 doc TEXT 1 - 0 0")); /* doc the last column */
    assert_non_null(strstr(a, "regions 0 build_id INTEGER 1 - 1 1")); /* WITHOUT ROWID */
    assert_non_null(strstr(a, "projects_gen_update projects"));
    assert_string_equal(a, b);
    /* and the PostgreSQL text has the generation counter as a function */
    char *pg = fs_store_schema_sql(FS_DB_PG);
    assert_non_null(pg);
    assert_non_null(strstr(pg, "CREATE FUNCTION store_gen_bump()"));
    assert_null(strstr(pg, "WITHOUT ROWID"));
    free(pg);
    free(a);
    free(b);
    free(sql);
    st_remove_db(migrated);
    st_remove_db(described);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_all_or_nothing), cmocka_unit_test(test_hostile_documents),
        cmocka_unit_test(test_history),        cmocka_unit_test(test_trunk),
        cmocka_unit_test(test_copy_api),
    };
    /* what only the SQLite backend has (files, its schema text): not run
     * again on PostgreSQL (FLASHSIZE_TEST_PG) */
    const struct CMUnitTest sqlite_only[] = {
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_schema_description),
    };
    int rc = cmocka_run_group_tests_name("store", tests, NULL, NULL);
    if (!st_pg())
        rc |= cmocka_run_group_tests_name("store, SQLite only", sqlite_only, NULL, NULL);
    return rc;
}
