/*
 * store_query.c - the SQLite backend's answers to the server's reads:
 * projects, boards with their newest build, a board's history as a stream,
 * the base of an upload, the generation and the build count (store.h).
 *
 * Statements are the handle's kept ones (store_sqlite.h), so a server
 * connection prepares each once.  The history reads the columns schema 3
 * keeps in the builds row (errors_json, regions_json, covered by the
 * builds_history index); an older file opened read-only has none, and its
 * rows compute them from the findings and regions tables.
 */
#include "store.h"
#include "store_sqlite.h"

#include <string.h>

static const char *col_text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

void fs_store_generation(fs_store *s, int64_t *gen)
{
    *gen = -1;
    sqlite3_stmt *st = fs_sqlite_stmt(s, FS_STORE_GENERATION_SQL);
    if (!st)
        return;
    if (sqlite3_step(st) == SQLITE_ROW)
        *gen = sqlite3_column_int64(st, 0);
    fs_sqlite_done(s, st);
}

int fs_store_count_builds(fs_store *s, int64_t *n, fs_error *err)
{
    *n = -1;
    sqlite3_stmt *st = fs_sqlite_stmt(s, "SELECT count(*) FROM builds");
    if (!st)
        return fs_sqlite_fail(s, err, "counting builds");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        fs_sqlite_fail(s, err, "counting builds");
    fs_sqlite_done(s, st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int fs_store_build_exists(fs_store *s, int64_t id, bool *exists, fs_error *err)
{
    *exists = false;
    sqlite3_stmt *st = fs_sqlite_stmt(s, "SELECT 1 FROM builds WHERE id = ?1");
    if (!st)
        return fs_sqlite_fail(s, err, "looking up a build");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *exists = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        fs_sqlite_fail(s, err, "looking up a build");
    fs_sqlite_done(s, st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int fs_store_projects(fs_store *s, const char *only, int limit, fs_project_fn fn, void *ctx, fs_error *err)
{
    sqlite3_stmt *st = fs_sqlite_stmt(s, "SELECT p.name, count(b.id), count(DISTINCT b.board_id), max(b.timestamp)"
                                         " FROM projects p LEFT JOIN builds b ON b.project_id = p.id"
                                         " WHERE ?2 IS NULL OR p.name = ?2 GROUP BY p.id ORDER BY p.name LIMIT ?1");
    if (!st)
        return fs_sqlite_fail(s, err, "listing projects");
    sqlite3_bind_int(st, 1, limit);
    if (only)
        sqlite3_bind_text(st, 2, only, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fs_project_row row = {col_text(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                              sqlite3_column_int64(st, 3), sqlite3_column_type(st, 3) != SQLITE_NULL};
        if (fn(ctx, &row) < 0) {
            fs_sqlite_done(s, st);
            return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory listing projects", fs_sqlite_path(s));
        }
    }
    if (rc != SQLITE_DONE)
        fs_sqlite_fail(s, err, "listing projects");
    fs_sqlite_done(s, st);
    return rc == SQLITE_DONE ? 0 : -1;
}

void fs_store_build_errors(fs_store *s, int64_t id, fs_error_id_fn fn, void *ctx)
{
    sqlite3_stmt *st =
        fs_sqlite_stmt(s, "SELECT fid FROM findings WHERE build_id = ?1 AND severity = 'error' ORDER BY seq");
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW)
        if (fn(ctx, col_text(st, 0)) < 0)
            break;
    fs_sqlite_done(s, st);
}

void fs_store_build_regions(fs_store *s, int64_t id, fs_region_fn fn, void *ctx)
{
    sqlite3_stmt *st = fs_sqlite_stmt(s, "SELECT name, used, length FROM regions WHERE build_id = ?1 ORDER BY seq");
    if (!st)
        return;
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = col_text(st, 0);
        if (name && fn(ctx, name, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2)) < 0)
            break;
    }
    fs_sqlite_done(s, st);
}

/* The columns of a build row, in the order build_row reads them from first. */
#define ROW_COLS "b.id, b.commit_sha, b.branch, b.parent_sha, b.pr, b.timestamp, b.main_region, b.main_used, b.main_length"

static void build_row(sqlite3_stmt *st, int first, fs_build_row *r)
{
    r->id = sqlite3_column_int64(st, first);
    r->commit = col_text(st, first + 1);
    r->branch = col_text(st, first + 2);
    r->parent = col_text(st, first + 3);
    r->pr = sqlite3_column_int64(st, first + 4);
    r->timestamp = sqlite3_column_int64(st, first + 5);
    r->main_region = col_text(st, first + 6);
    r->used = sqlite3_column_int64(st, first + 7);
    r->length = sqlite3_column_int64(st, first + 8);
}

static bool project_exists(fs_store *s, const char *project)
{
    sqlite3_stmt *st = fs_sqlite_stmt(s, "SELECT 1 FROM projects WHERE name = ?1");
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    fs_sqlite_done(s, st);
    return found;
}

int fs_store_boards(fs_store *s, const char *project, int limit, fs_board_fn fn, void *ctx, bool *exists,
                    fs_error *err)
{
    *exists = true;
    sqlite3_stmt *st =
        fs_sqlite_stmt(s, "SELECT o.name, (SELECT count(*) FROM builds x WHERE x.project_id = p.id AND x.board_id = o.id), "
                          ROW_COLS " FROM projects p JOIN boards o JOIN builds b ON b.id = ("
                          "   SELECT y.id FROM builds y WHERE y.project_id = p.id AND y.board_id = o.id"
                          "   ORDER BY y.timestamp DESC, y.id DESC LIMIT 1)"
                          " WHERE p.name = ?1 ORDER BY o.name LIMIT ?2");
    if (!st)
        return fs_sqlite_fail(s, err, "listing boards");
    sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit);
    int rc;
    size_t rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fs_board_row row = {col_text(st, 0), sqlite3_column_int64(st, 1), {0}};
        build_row(st, 2, &row.latest);
        rows++;
        if (fn(ctx, &row) < 0) {
            fs_sqlite_done(s, st);
            return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory listing boards", fs_sqlite_path(s));
        }
    }
    if (rc != SQLITE_DONE)
        fs_sqlite_fail(s, err, "listing boards");
    fs_sqlite_done(s, st);
    if (rc == SQLITE_DONE && rows == 0)
        *exists = project_exists(s, project);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The history's last two columns: schema v3 keeps the errors and regions
 * as JSON in the builds row; a v2 file opened read-only computes them per
 * row. */
static const char hist_v3[] = "b.errors_json, b.regions_json";
static const char hist_v2[] =
    "(SELECT json_group_array(fid) FROM (SELECT fid FROM findings f WHERE f.build_id = b.id"
    "   AND f.severity = 'error' ORDER BY f.seq)),"
    " (SELECT json_group_object(name, json_object('used', used, 'length', length)) FROM"
    "   (SELECT name, used, length FROM regions r WHERE r.build_id = b.id ORDER BY r.seq))";

static sqlite3_stmt *history_stmt(fs_store *s, const char *summary)
{
    char sql[1400];
    snprintf(sql, sizeof sql,
             "SELECT %s, %s FROM builds b JOIN projects p ON p.id = b.project_id JOIN boards o ON o.id = b.board_id"
             " WHERE p.name = ?1 AND o.name = ?2 AND (?3 IS NULL OR b.branch = ?3)"
             " AND b.timestamp >= ?4 AND b.timestamp <= ?5"
             " ORDER BY b.timestamp DESC, b.id DESC LIMIT ?6",
             ROW_COLS, summary);
    return fs_sqlite_stmt(s, sql);
}

int fs_store_history_each(fs_store *s, const fs_history_range *q, fs_build_row_fn fn, void *ctx, fs_error *err)
{
    sqlite3_stmt *st = history_stmt(s, hist_v3);
    if (!st && !(st = history_stmt(s, hist_v2)))
        return fs_sqlite_fail(s, err, "reading the history");
    sqlite3_bind_text(st, 1, q->project, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->board, -1, SQLITE_STATIC);
    if (q->branch)
        sqlite3_bind_text(st, 3, q->branch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, q->t0);
    sqlite3_bind_int64(st, 5, q->t1);
    sqlite3_bind_int64(st, 6, q->limit);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fs_build_row row;
        build_row(st, 0, &row);
        row.errors_json = col_text(st, 9);
        row.regions_json = col_text(st, 10);
        fn(ctx, &row);
    }
    if (rc != SQLITE_DONE)
        fs_sqlite_fail(s, err, "reading the history");
    fs_sqlite_done(s, st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int fs_store_find_base(fs_store *s, const char *project, const char *board, const char *branch, int64_t exclude,
                       uint64_t (*hash_fn)(const unsigned char *, size_t), int64_t *id, int64_t *symset,
                       uint64_t *hash, fs_error *err)
{
    *id = 0;
    sqlite3_stmt *st = fs_sqlite_stmt(s, "SELECT b.id, b.symset_id, b.doc FROM builds b JOIN projects p ON p.id = b.project_id"
                                         " JOIN boards o ON o.id = b.board_id"
                                         " WHERE p.name = ?1 AND o.name = ?2 AND b.branch = ?3 AND b.id <> ?4"
                                         " ORDER BY b.timestamp DESC, b.id DESC LIMIT 1");
    if (!st)
        return fs_sqlite_fail(s, err, "finding the base build");
    sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, board, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, branch, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, exclude);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *symset = sqlite3_column_int64(st, 1);
        const unsigned char *doc = sqlite3_column_blob(st, 2);
        *hash = hash_fn(doc ? doc : (const unsigned char *)"", (size_t)sqlite3_column_bytes(st, 2));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        fs_sqlite_fail(s, err, "finding the base build");
    fs_sqlite_done(s, st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}
