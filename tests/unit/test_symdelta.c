/*
 * test_symdelta.c - symbol sets stored as deltas (symset.c, store.c schema
 * v2): the exact bytes of a small delta, round trips of every build of
 * long chains, snapshots every FS_STORE_SNAPSHOT_EVERY sets, re-recording
 * and deleting builds that other builds' deltas are based on, sharing of
 * equal tables, hostile deltas, and the migration of a schema v1 database
 * written by the previous flashsize (tests/data/store/v1.db, see
 * make-v1.sh there).
 *
 * Ground truth: the documents the test itself generated and recorded; a
 * build read back must be equal to its document, value for value (the
 * symbols compared in the store's documented order: size descending, then
 * name, then address).
 */
#include "storetest.h"

#include "store.h"
#include "symset.h"

#include <sqlite3.h>
#include <sys/stat.h>

/* ---- the codec -------------------------------------------------------------- */

static void test_delta_exact_bytes(void **state)
{
    (void)state;
    fs_symrec base[3] = {{1, 100, 10, 5, 6, 7}, {2, 110, 20, 5, 6, 7}, {3, 130, 30, 5, 6, 7}};
    fs_symrec grown[3] = {{1, 100, 10, 5, 6, 7}, {2, 110, 24, 5, 6, 7}, {3, 134, 30, 5, 6, 7}};
    fs_symbuf b = {0};
    assert_int_equal(fs_symset_pack_delta(base, 3, grown, 3, &b), 0);
    /* kinds {1: (5,6,7)} | COPY 1 | SKIP 1 | INSERT 1 (name 2, +10, size 24, kind 0) | SHIFT +4 | COPY 1 */
    static const unsigned char want[] = {0x01, 5, 6, 7, 0x04, 0x05, 0x06, 2, 20, 24, 0, 0x03, 8, 0x04};
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.p, want, sizeof want);
    fs_symrec *out;
    size_t n;
    assert_int_equal(fs_symset_apply_delta(base, 3, b.p, b.len, &out, &n), FS_SYMSET_OK);
    assert_int_equal(n, 3);
    assert_true(fs_symrec_equal(out, n, grown, 3));
    free(out);
    /* nothing changed: no kinds, COPY 3 */
    b.len = 0;
    assert_int_equal(fs_symset_pack_delta(base, 3, base, 3, &b), 0);
    assert_int_equal(b.len, 2);
    assert_int_equal(b.p[0], 0);
    assert_int_equal(b.p[1], 3 << 2);
    /* from and to an empty table */
    b.len = 0;
    assert_int_equal(fs_symset_pack_delta(NULL, 0, base, 3, &b), 0);
    assert_int_equal(fs_symset_apply_delta(NULL, 0, b.p, b.len, &out, &n), FS_SYMSET_OK);
    assert_true(fs_symrec_equal(out, n, base, 3));
    free(out);
    b.len = 0;
    assert_int_equal(fs_symset_pack_delta(base, 3, NULL, 0, &b), 0);
    assert_int_equal(fs_symset_apply_delta(base, 3, b.p, b.len, &out, &n), FS_SYMSET_OK);
    assert_int_equal(n, 0);
    free(out);
    free(b.p);
}

/* A firmware's symbol table that changes a little at each build, like the
 * benchmark's: sizes grow and shrink, symbols appear and disappear, some
 * change kind, and slots j % 100 == 1 are same-named, same-sized statics. */
#define SLOTS 1500
typedef struct world {
    uint64_t size[SLOTS];
    bool alive[SLOTS];
    int kind[SLOTS];
    uint32_t rng;
} world;

static uint32_t world_rand(world *w)
{
    w->rng = w->rng * 1103515245u + 12345u;
    return w->rng >> 8;
}

static void world_init(world *w, uint32_t seed)
{
    for (int j = 0; j < SLOTS; j++) {
        w->size[j] = j % 100 == 1 ? 8 : 16 + (uint64_t)(j * 7919) % 600;
        w->alive[j] = j % 50 != 0;
        w->kind[j] = j % 3;
    }
    w->rng = seed;
}

static void world_step(world *w)
{
    int k = 1 + (int)(world_rand(w) % 20);
    for (int c = 0; c < k; c++) {
        int j = (int)(world_rand(w) % SLOTS);
        uint32_t what = c == 0 ? 0 : world_rand(w) % 100; /* every build changes */
        uint64_t d = 4 * (1 + world_rand(w) % 16);
        if (what < 60)
            w->size[j] += d;
        else if (what < 70 && w->size[j] > d + 4)
            w->size[j] -= d;
        else if (what < 85)
            w->alive[j] = true;
        else if (what < 93)
            w->alive[j] = false;
        else
            w->kind[j] = (w->kind[j] + 1) % 3;
    }
}

static json_t *world_doc(const world *w)
{
    static const char *const types[] = {"FUNC", "OBJECT", "FUNC"};
    static const char *const binds[] = {"GLOBAL", "GLOBAL", "LOCAL"};
    json_t *syms = json_array();
    uint64_t addr = 0x40200000, total = 0;
    for (int j = 0; j < SLOTS; j++) {
        if (!w->alive[j])
            continue;
        char name[32];
        if (j % 100 == 1)
            snprintf(name, sizeof name, "dup_static");
        else
            snprintf(name, sizeof name, "fn_%05d", j);
        json_t *sec = j % 97 == 0 ? json_null() : json_string(w->kind[j] == 1 ? ".rodata" : ".text");
        json_array_append_new(syms, json_pack("{s:s,s:I,s:I,s:s,s:s,s:o}", "name", name, "address", (json_int_t)addr,
                                              "size", (json_int_t)w->size[j], "type", types[w->kind[j]], "bind",
                                              binds[w->kind[j]], "section", sec));
        addr += w->size[j];
        total += w->size[j];
    }
    json_t *doc = json_pack("{s:s,s:i,s:{s:s,s:s},s:n,s:s,s:[{s:s,s:I,s:I,s:I,s:s}],s:[],s:o,s:[]}", "schema",
                            "flashsize-analysis", "schema_version", 1, "tool", "name", "flashsize", "version", "test",
                            "board", "chip", "generic", "regions", "name", "FLASH", "origin", (json_int_t)0x40200000,
                            "length", (json_int_t)(1 << 20), "used", (json_int_t)total, "attrs", "rx", "sections",
                            "symbols", syms, "findings");
    assert_non_null(doc);
    return doc;
}

/* ---- the store ---------------------------------------------------------------- */

static char *sql_text(const char *db, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(st, 0);
    char *out = strdup(t ? (const char *)t : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(h);
    return out;
}

static void sql_exec(const char *db, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    if (sqlite3_exec(h, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    sqlite3_close(h);
}

static fs_store *open_store(const char *path)
{
    fs_store *s;
    fs_error err;
    if (fs_store_open(path, NULL, &s, &err) != 0)
        fail_msg("%s", err.msg);
    return s;
}

static void commit_of(int i, char *sha, size_t len)
{
    snprintf(sha, len, "c0ffee%04d", i);
}

static int64_t record_build(fs_store *s, const json_t *doc, int i, int parent)
{
    char sha[32], psha[32];
    commit_of(i, sha, sizeof sha);
    commit_of(parent, psha, sizeof psha);
    fs_build_meta m = {"mpy", "esp8266-2m", sha, "main", parent > 0 ? psha : NULL, 0, 1700000000 + i * 3600};
    int64_t id = 0;
    fs_error err;
    if (fs_store_record(s, doc, &m, &id, &err) != 0)
        fail_msg("%s", err.msg);
    return id;
}

static int sym_order(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t xs = json_integer_value(json_object_get(x, "size")), ys = json_integer_value(json_object_get(y, "size"));
    if (xs != ys)
        return xs > ys ? -1 : 1;
    int c = strcmp(json_string_value(json_object_get(x, "name")), json_string_value(json_object_get(y, "name")));
    if (c)
        return c;
    json_int_t xa = json_integer_value(json_object_get(x, "address")),
               ya = json_integer_value(json_object_get(y, "address"));
    return xa < ya ? -1 : xa > ya;
}

/* doc with its symbols in the store's documented order (a new reference). */
static json_t *in_store_order(const json_t *doc)
{
    json_t *copy = json_deep_copy(doc);
    json_t *syms = json_object_get(copy, "symbols");
    size_t n = json_array_size(syms);
    json_t **v = malloc((n + 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(syms, i));
    qsort(v, n, sizeof *v, sym_order);
    json_t *sorted = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(sorted, v[i]);
    free(v);
    json_object_set_new(copy, "symbols", sorted);
    return copy;
}

static void assert_reads_back(fs_store *s, int64_t id, const json_t *doc)
{
    json_t *back;
    fs_error err;
    if (fs_store_load(s, id, &back, NULL, &err) != 0)
        fail_msg("build %lld: %s", (long long)id, err.msg);
    json_t *want = in_store_order(doc);
    if (!json_equal(back, want))
        fail_msg("build %lld does not read back as recorded", (long long)id);
    json_decref(want);
    json_decref(back);
}

#define CHAIN 70

/* docs[i] for builds 1..n of one world (docs[0] unused). */
static void make_history(json_t **docs, int n, uint32_t seed)
{
    world *w = malloc(sizeof *w);
    world_init(w, seed);
    docs[0] = NULL;
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            world_step(w);
        docs[i] = world_doc(w);
    }
    free(w);
}

static void free_history(json_t **docs, int n)
{
    for (int i = 0; i <= n; i++)
        json_decref(docs[i]);
}

static void test_chain_round_trip(void **state)
{
    (void)state;
    json_t *docs[CHAIN + 1];
    make_history(docs, CHAIN, 7);
    char *db = st_tmp_db();
    fs_store *s = open_store(db);
    for (int i = 1; i <= CHAIN; i++)
        assert_int_equal(record_build(s, docs[i], i, i - 1), i);
    for (int i = 1; i <= CHAIN; i++)
        assert_reads_back(s, i, docs[i]);
    /* builds 1, 33 and 65 are snapshots, the others deltas 1..31 deep */
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM symsets"), CHAIN);
    char *snaps = sql_text(db, "SELECT group_concat(b.id) FROM (SELECT b.id FROM builds b JOIN symsets y"
                               " ON y.id = b.symset_id WHERE y.base_id IS NULL ORDER BY b.id) b");
    assert_string_equal(snaps, "1,33,65");
    free(snaps);
    assert_int_equal(st_sql_int(db, "SELECT max(depth) FROM symsets"), FS_STORE_SNAPSHOT_EVERY - 1);
    /* each delta is its base plus one: build i - 1 */
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds b JOIN symsets y ON y.id = b.symset_id JOIN builds p"
                                 " ON p.symset_id = y.base_id WHERE p.id = b.id - 1"),
                     CHAIN - 3);
    /* a delta is far smaller than a snapshot */
    int64_t snap = st_sql_int(db, "SELECT min(length(data)) FROM symsets WHERE base_id IS NULL");
    int64_t delta = st_sql_int(db, "SELECT max(length(data)) FROM symsets WHERE base_id IS NOT NULL");
    if (delta * 10 > snap)
        fail_msg("largest delta %lld bytes, smallest snapshot %lld", (long long)delta, (long long)snap);
    fs_store_close(s);
    st_remove_db(db);
    free_history(docs, CHAIN);
}


/* The symbol set id of build id. */
static int64_t set_of(const char *db, int64_t build)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT symset_id FROM builds WHERE id = %lld", (long long)build);
    return st_sql_int(db, sql);
}

static int64_t base_of(const char *db, int64_t set)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT coalesce(base_id, 0) FROM symsets WHERE id = %lld", (long long)set);
    return st_sql_int(db, sql);
}

#define SHORT 40

/* Two store handles sharing one memo of the last recorded set (as the
 * server's pool does): builds recorded alternately through each read back
 * exactly, including after the memo's set was deleted and its id reused by
 * a set with other symbols (the memo must then not be used). */
static void test_memo_shared(void **state)
{
    (void)state;
    json_t *docs[SHORT + 1];
    make_history(docs, SHORT, 11);
    char *db = st_tmp_db();
    fs_store *a = open_store(db), *b = open_store(db);
    fs_symset_memo *m = fs_symset_memo_new();
    assert_non_null(m);
    fs_store_set_symset_memo(a, m);
    fs_store_set_symset_memo(b, m);
    for (int i = 1; i <= 10; i++)
        assert_int_equal(record_build(i % 2 ? a : b, docs[i], i, i - 1), i);
    for (int i = 1; i <= 10; i++)
        assert_reads_back(a, i, docs[i]);
    /* the deltas are against the previous build, as without a memo */
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds b JOIN symsets y ON y.id = b.symset_id JOIN builds p"
                                 " ON p.symset_id = y.base_id WHERE p.id = b.id - 1"),
                     9);
    /* delete build 10 (the memo's set, the newest row: its id is free
     * again), record build 11 (another table, which gets that id) through
     * a handle without the memo, then build 12 through one with it: its
     * base, build 11's set, has the memo's id but not its hash */
    int64_t memo_set = set_of(db, 10);
    fs_error err;
    assert_int_equal(fs_store_delete(a, 10, &err), 0);
    fs_store *plain = open_store(db);
    int64_t b11 = record_build(plain, docs[11], 11, 9);
    assert_int_equal(set_of(db, b11), memo_set);
    int64_t b12 = record_build(b, docs[12], 12, 11);
    assert_int_equal(base_of(db, set_of(db, b12)), memo_set);
    assert_reads_back(plain, b11, docs[11]);
    assert_reads_back(plain, b12, docs[12]);
    fs_store_close(plain);
    fs_store_close(a);
    fs_store_close(b);
    fs_symset_memo_free(m);
    st_remove_db(db);
    free_history(docs, SHORT);
}

/* Re-recording and deleting builds that other builds' deltas are based on. */
static void test_rerecord_and_delete_bases(void **state)
{
    (void)state;
    json_t *docs[SHORT + 1];
    make_history(docs, SHORT, 11);
    char *db = st_tmp_db();
    fs_store *s = open_store(db);
    for (int i = 1; i <= SHORT; i++)
        record_build(s, docs[i], i, i - 1);
    assert_int_equal(base_of(db, set_of(db, 6)), set_of(db, 5));
    int64_t old5 = set_of(db, 5);

    /* build 5 re-recorded with other symbols: its old set goes, 6 re-based onto 4 */
    world *w = malloc(sizeof *w);
    world_init(w, 99);
    for (int k = 0; k < 30; k++)
        world_step(w);
    json_t *other = world_doc(w);
    free(w);
    assert_int_equal(record_build(s, other, 5, 4), 5);
    json_decref(docs[5]);
    docs[5] = other;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM symsets WHERE id = %lld", (long long)old5);
    assert_int_equal(st_sql_int(db, sql), 0);
    assert_int_equal(base_of(db, set_of(db, 6)), set_of(db, 4));
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM symsets"), SHORT);
    for (int i = 1; i <= SHORT; i++)
        assert_reads_back(s, i, docs[i]);

    /* delete build 7: 8 re-based onto 6's set */
    fs_error err;
    int64_t set6 = set_of(db, 6);
    assert_int_equal(fs_store_delete(s, 7, &err), 0);
    assert_int_equal(base_of(db, set_of(db, 8)), set6);
    /* delete build 1, a snapshot: 2 becomes a snapshot */
    assert_int_equal(fs_store_delete(s, 1, &err), 0);
    assert_int_equal(base_of(db, set_of(db, 2)), 0);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM builds"), SHORT - 2);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM symsets"), SHORT - 2);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM regions"), SHORT - 2);
    for (int i = 2; i <= SHORT; i++)
        if (i != 7)
            assert_reads_back(s, i, docs[i]);
    assert_int_equal(fs_store_delete(s, 7, &err), -1);
    assert_non_null(strstr(err.msg, "no build 7"));
    assert_non_null(strstr(err.msg, db));
    /* the chain is still bounded after re-basing */
    assert_true(st_sql_int(db, "SELECT max(depth) FROM symsets") < FS_STORE_SNAPSHOT_EVERY);
    fs_store_close(s);
    st_remove_db(db);
    free_history(docs, SHORT);
}

/* Equal tables share one set, whatever the base would have been. */
/* A build on a branch: its symbol set is a delta against its parent
 * commit's build, not against the newest build of the board. */
static void test_delta_base_is_parent(void **state)
{
    (void)state;
    json_t *docs[5];
    make_history(docs, 4, 7);
    char *db = st_tmp_db();
    fs_store *s = open_store(db);
    for (int i = 1; i <= 3; i++)
        record_build(s, docs[i], i, i - 1);
    assert_int_equal(record_build(s, docs[4], 4, 2), 4);
    assert_int_equal(base_of(db, set_of(db, 4)), set_of(db, 2));
    assert_true(set_of(db, 2) != set_of(db, 3));
    assert_reads_back(s, 4, docs[4]);
    /* without a parent: the newest build's */
    char *db2 = st_tmp_db();
    fs_store *t = open_store(db2);
    for (int i = 1; i <= 3; i++)
        record_build(t, docs[i], i, i - 1);
    assert_int_equal(record_build(t, docs[4], 4, 0), 4);
    assert_int_equal(base_of(db2, set_of(db2, 4)), set_of(db2, 3));
    fs_store_close(t);
    st_remove_db(db2);
    fs_store_close(s);
    st_remove_db(db);
    free_history(docs, 4);
}

static void test_equal_tables_shared(void **state)
{
    (void)state;
    json_t *docs[6];
    make_history(docs, 5, 3);
    char *db = st_tmp_db();
    fs_store *s = open_store(db);
    for (int i = 1; i <= 5; i++)
        record_build(s, docs[i], i, i - 1);
    /* build 6 has build 2's symbols (a revert), build 7 build 5's again */
    assert_int_equal(record_build(s, docs[2], 6, 5), 6);
    assert_int_equal(record_build(s, docs[5], 7, 6), 7);
    assert_int_equal(set_of(db, 6), set_of(db, 2));
    assert_int_equal(set_of(db, 7), set_of(db, 5));
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM symsets"), 5);
    assert_reads_back(s, 6, docs[2]);
    assert_reads_back(s, 7, docs[5]);
    /* re-recording the same content keeps the set */
    assert_int_equal(record_build(s, docs[3], 3, 2), 3);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM symsets"), 5);
    fs_store_close(s);
    st_remove_db(db);
    free_history(docs, 5);
}

static json_t *load_json(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        fail_msg("%s: %s", path, je.text);
    return j;
}

static void copy_file(const char *from, const char *to)
{
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    assert_int_equal(system(cmd), 0);
}

/* A schema v1 database written by the previous flashsize. */
static void test_migrate_v1(void **state)
{
    (void)state;
    json_t *v1[4] = {NULL, load_json("tests/data/store/v1-1.json"), load_json("tests/data/store/v1-2.json"),
                     load_json("tests/data/store/v1-3.json")};
    char *db = st_tmp_db(), *ro = st_tmp_db();
    copy_file("tests/data/store/v1.db", db);
    copy_file("tests/data/store/v1.db", ro);
    assert_int_equal(st_sql_int(db, "PRAGMA user_version"), 1);

    /* read-only: read as it is, not migrated, not modified */
    fs_store *s;
    fs_error err;
    fs_store_opts o = {.readonly = true};
    assert_int_equal(fs_store_open(ro, &o, &s, &err), 0);
    for (int i = 1; i <= 3; i++)
        assert_reads_back(s, i, v1[i]);
    fs_store_close(s);
    char cmp[1300];
    snprintf(cmp, sizeof cmp, "cmp -s '%s' tests/data/store/v1.db", ro);
    assert_int_equal(system(cmp), 0);

    /* read-write: migrated to version 2 in place, every build intact */
    s = open_store(db);
    assert_int_equal(st_sql_int(db, "PRAGMA user_version"), FS_STORE_SCHEMA_VERSION);
    assert_int_equal(st_sql_int(db, "SELECT count(*) FROM symsets WHERE base_id IS NULL AND depth = 0"), 2);
    for (int i = 1; i <= 3; i++)
        assert_reads_back(s, i, v1[i]);
    /* a new build goes in as a delta against the newest v1 build's set */
    json_t *next = json_deep_copy(v1[3]);
    json_t *sym = json_array_get(json_object_get(next, "symbols"), 0);
    json_object_set_new(sym, "size", json_integer(json_integer_value(json_object_get(sym, "size")) + 100));
    fs_build_meta m = {"fixture", "board", "00000004", NULL, NULL, 0, 1700000000 + 4 * 86400};
    int64_t id;
    assert_int_equal(fs_store_record(s, next, &m, &id, &err), 0);
    assert_int_equal(id, 4);
    assert_int_equal(base_of(db, set_of(db, 4)), set_of(db, 3));
    assert_reads_back(s, 4, next);
    /* re-recording a v1 build under its commit: its shared set stays */
    fs_build_meta m2 = {"fixture", "board", "00000002", NULL, NULL, 0, 1700000000 + 2 * 86400};
    assert_int_equal(fs_store_record(s, v1[1], &m2, &id, &err), 0);
    assert_int_equal(set_of(db, 2), set_of(db, 1));
    for (int i = 1; i <= 3; i++)
        assert_reads_back(s, i, v1[i == 2 ? 1 : i]);
    assert_reads_back(s, 4, next);
    fs_store_close(s);
    json_decref(next);
    for (int i = 1; i <= 3; i++)
        json_decref(v1[i]);
    st_remove_db(db);
    st_remove_db(ro);
}

/* Damaged symbol sets: an error naming the file and the set, never a crash. */
static void test_damaged_sets(void **state)
{
    (void)state;
    json_t *docs[5];
    make_history(docs, 4, 5);
    char *db = st_tmp_db();
    fs_store *s = open_store(db);
    for (int i = 1; i <= 4; i++)
        record_build(s, docs[i], i, i - 1);
    fs_store_close(s);
    char saved[600];
    snprintf(saved, sizeof saved, "%s.saved", db);
    sql_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    copy_file(db, saved);

    static const char *const damage[][2] = {
        {"UPDATE symsets SET data = x'ff' WHERE id = 3", "corrupted symbol set 3"},
        {"UPDATE symsets SET data = substr(data, 1, length(data) - 1) WHERE id = 3", "corrupted symbol set 3"},
        {"UPDATE symsets SET data = data || x'00' WHERE id = 2", "corrupted symbol set 2"},
        {"UPDATE symsets SET data = data || x'05' WHERE id = 2", "corrupted symbol set 2"},
        {"UPDATE symsets SET count = count + 1 WHERE id = 3", "corrupted symbol set 3"},
        {"UPDATE symsets SET data = x'0001' WHERE id = 1", "corrupted symbol set"},
        {"PRAGMA foreign_keys = OFF; UPDATE symsets SET base_id = 99 WHERE id = 2", "symbol set 99 is missing"},
        {"UPDATE symsets SET base_id = 3 WHERE id = 2", "a chain of more than 64 deltas"},
        /* a delta that skips past the end of its base */
        {"UPDATE symsets SET data = x'00' || x'fd7f' WHERE id = 2", "corrupted symbol set 2"},
    };
    for (size_t k = 0; k < sizeof damage / sizeof *damage; k++) {
        copy_file(saved, db);
        sql_exec(db, damage[k][0]);
        s = open_store(db);
        json_t *doc;
        fs_error err;
        if (fs_store_load(s, 4, &doc, NULL, &err) != -1)
            fail_msg("%s: build 4 still loads", damage[k][0]);
        if (!strstr(err.msg, damage[k][1]) || !strstr(err.msg, db))
            fail_msg("%s: got '%s'", damage[k][0], err.msg);
        fs_store_close(s);
    }
    unlink(saved);
    st_remove_db(db);
    free_history(docs, 4);
}

/* Random bytes as a delta or a snapshot: OK or CORRUPT, never a crash. */
static void test_codec_fuzz(void **state)
{
    (void)state;
    fs_symrec base[4] = {{1, 100, 10, 5, 6, 7}, {2, 110, 20, 5, 6, 7}, {3, 130, 30, 5, 6, 0}, {4, 160, 1, 5, 6, 7}};
    uint32_t rng = 12345;
    unsigned char p[24];
    size_t ok = 0;
    for (int it = 0; it < 20000; it++) {
        size_t len = (size_t)(it % 24);
        for (size_t i = 0; i < len; i++) {
            rng = rng * 1103515245u + 12345u;
            p[i] = (unsigned char)(rng >> 16);
            if (i % 3 == 0)
                p[i] &= 0x0f; /* small values now and then, so some decode */
        }
        fs_symrec *out;
        size_t n;
        int rc = fs_symset_apply_delta(base, 4, p, len, &out, &n);
        assert_true(rc == FS_SYMSET_OK || rc == FS_SYMSET_CORRUPT);
        if (rc == FS_SYMSET_OK) {
            ok++;
            free(out);
        }
        rc = fs_symset_unpack_full(p, len, &out, &n);
        assert_true(rc == FS_SYMSET_OK || rc == FS_SYMSET_CORRUPT);
        if (rc == FS_SYMSET_OK)
            free(out);
    }
    assert_true(ok > 0); /* the fuzzer does reach the decoding paths */
}

/* Every delta between successive tables of a long history round-trips. */
static void test_codec_history(void **state)
{
    (void)state;
    world *w = malloc(sizeof *w);
    world_init(w, 1);
    fs_symrec *prev = NULL;
    size_t nprev = 0;
    for (int step = 0; step < 300; step++) {
        json_t *doc = world_doc(w);
        json_t *syms = json_object_get(doc, "symbols");
        size_t n = json_array_size(syms);
        fs_symrec *cur = malloc((n + 1) * sizeof *cur);
        for (size_t i = 0; i < n; i++) {
            const json_t *e = json_array_get(syms, i);
            const char *name = json_string_value(json_object_get(e, "name"));
            cur[i] = (fs_symrec){strcmp(name, "dup_static") == 0 ? 1 : 2 + atoi(name + 3),
                                 (uint64_t)json_integer_value(json_object_get(e, "address")),
                                 (uint64_t)json_integer_value(json_object_get(e, "size")),
                                 json_string_value(json_object_get(e, "type"))[0],
                                 json_string_value(json_object_get(e, "bind"))[0],
                                 json_is_null(json_object_get(e, "section")) ? 0 : 9};
        }
        fs_symrec_sort(cur, n);
        fs_symbuf b = {0};
        assert_int_equal(fs_symset_pack_delta(prev, nprev, cur, n, &b), 0);
        fs_symrec *out;
        size_t nout;
        assert_int_equal(fs_symset_apply_delta(prev, nprev, b.p, b.len, &out, &nout), FS_SYMSET_OK);
        assert_true(fs_symrec_equal(out, nout, cur, n));
        free(out);
        free(b.p);
        b = (fs_symbuf){0};
        assert_int_equal(fs_symset_pack_full(cur, n, &b), 0);
        assert_int_equal(fs_symset_unpack_full(b.p, b.len, &out, &nout), FS_SYMSET_OK);
        assert_true(fs_symrec_equal(out, nout, cur, n));
        free(out);
        free(b.p);
        free(prev);
        prev = cur;
        nprev = n;
        json_decref(doc);
        world_step(w);
    }
    free(prev);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delta_exact_bytes),    cmocka_unit_test(test_codec_history),
        cmocka_unit_test(test_codec_fuzz),           cmocka_unit_test(test_chain_round_trip),
        cmocka_unit_test(test_rerecord_and_delete_bases), cmocka_unit_test(test_equal_tables_shared),
        cmocka_unit_test(test_delta_base_is_parent),
        cmocka_unit_test(test_migrate_v1),           cmocka_unit_test(test_memo_shared),           cmocka_unit_test(test_damaged_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
