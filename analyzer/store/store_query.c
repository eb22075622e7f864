/*
 * store_query.c - the store's answers to the server's reads:
 * projects, boards with their newest build, a board's history as a stream,
 * the base of an upload, the generation and the build count (store.h).
 *
 * Statements are the handle's kept ones (store_db.h), so a server
 * connection prepares each once.  The history reads the columns schema 3
 * keeps in the builds row (errors_json, regions_json, covered by the
 * builds_history index); an older file opened read-only has none, and its
 * rows compute them from the findings and regions tables.
 */
#include "store.h"
#include "store_db.h"

#include <string.h>


static const char *col_text(fs_db_stmt *st, int col)
{
    return fs_db_col_text(st, col);
}

void fs_store_generation(fs_store *s, int64_t *gen)
{
    *gen = -1;
    fs_db_stmt *st = fs_store_stmt(s, FS_STORE_GENERATION_SQL);
    if (!st)
        return;
    if (fs_db_step(st) == FS_DB_ROW)
        *gen = fs_db_col_int(st, 0);
    fs_store_done(s, st);
}

int fs_store_count_builds(fs_store *s, int64_t *n, fs_error *err)
{
    *n = -1;
    fs_db_stmt *st = fs_store_stmt(s, "SELECT count(*) FROM builds");
    if (!st)
        return fs_store_fail(s, err, "counting builds");
    int rc = fs_db_step(st);
    if (rc == FS_DB_ROW)
        *n = fs_db_col_int(st, 0);
    else
        fs_store_fail(s, err, "counting builds");
    fs_store_done(s, st);
    return rc == FS_DB_ROW ? 0 : -1;
}

int fs_store_build_exists(fs_store *s, int64_t id, bool *exists, fs_error *err)
{
    *exists = false;
    fs_db_stmt *st = fs_store_stmt(s, "SELECT 1 FROM builds WHERE id = ?1");
    if (!st)
        return fs_store_fail(s, err, "looking up a build");
    fs_db_bind_int(st, 1, id);
    int rc = fs_db_step(st);
    *exists = rc == FS_DB_ROW;
    if (rc != FS_DB_ROW && rc != FS_DB_DONE)
        fs_store_fail(s, err, "looking up a build");
    fs_store_done(s, st);
    return rc == FS_DB_ROW || rc == FS_DB_DONE ? 0 : -1;
}

int fs_store_projects(fs_store *s, const char *only, int limit, fs_project_fn fn, void *ctx, fs_error *err)
{
    fs_db_stmt *st = fs_store_stmt(s, "SELECT p.name, count(b.id), count(DISTINCT b.board_id), max(b.timestamp)"
                                         " FROM projects p LEFT JOIN builds b ON b.project_id = p.id"
                                         " WHERE ?2 IS NULL OR p.name = ?2 GROUP BY p.id ORDER BY p.name LIMIT ?1");
    if (!st)
        return fs_store_fail(s, err, "listing projects");
    fs_db_bind_int(st, 1, limit);
    if (only)
        fs_db_bind_text(st, 2, only);
    int rc;
    while ((rc = fs_db_step(st)) == FS_DB_ROW) {
        fs_project_row row = {col_text(st, 0), fs_db_col_int(st, 1), fs_db_col_int(st, 2),
                              fs_db_col_int(st, 3), !fs_db_col_null(st, 3)};
        if (fn(ctx, &row) < 0) {
            fs_store_done(s, st);
            return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory listing projects", fs_store_name(s));
        }
    }
    if (rc != FS_DB_DONE)
        fs_store_fail(s, err, "listing projects");
    fs_store_done(s, st);
    return rc == FS_DB_DONE ? 0 : -1;
}

void fs_store_build_errors(fs_store *s, int64_t id, fs_error_id_fn fn, void *ctx)
{
    fs_db_stmt *st =
        fs_store_stmt(s, "SELECT fid FROM findings WHERE build_id = ?1 AND severity = 'error' ORDER BY seq");
    if (!st)
        return;
    fs_db_bind_int(st, 1, id);
    while (fs_db_step(st) == FS_DB_ROW)
        if (fn(ctx, col_text(st, 0)) < 0)
            break;
    fs_store_done(s, st);
}

void fs_store_build_regions(fs_store *s, int64_t id, fs_region_fn fn, void *ctx)
{
    fs_db_stmt *st = fs_store_stmt(s, "SELECT name, used, length FROM regions WHERE build_id = ?1 ORDER BY seq");
    if (!st)
        return;
    fs_db_bind_int(st, 1, id);
    while (fs_db_step(st) == FS_DB_ROW) {
        const char *name = col_text(st, 0);
        if (name && fn(ctx, name, fs_db_col_int(st, 1), fs_db_col_int(st, 2)) < 0)
            break;
    }
    fs_store_done(s, st);
}

/* The columns of a build row, in the order build_row reads them from first. */
#define ROW_COLS "b.id, b.commit_sha, b.branch, b.parent_sha, b.pr, b.timestamp, b.main_region, b.main_used, b.main_length"

static void build_row(fs_db_stmt *st, int first, fs_build_row *r)
{
    r->id = fs_db_col_int(st, first);
    r->commit = col_text(st, first + 1);
    r->branch = col_text(st, first + 2);
    r->parent = col_text(st, first + 3);
    r->pr = fs_db_col_int(st, first + 4);
    r->timestamp = fs_db_col_int(st, first + 5);
    r->main_region = col_text(st, first + 6);
    r->used = fs_db_col_int(st, first + 7);
    r->length = fs_db_col_int(st, first + 8);
}

static bool project_exists(fs_store *s, const char *project)
{
    fs_db_stmt *st = fs_store_stmt(s, "SELECT 1 FROM projects WHERE name = ?1");
    if (!st)
        return false;
    fs_db_bind_text(st, 1, project);
    bool found = fs_db_step(st) == FS_DB_ROW;
    fs_store_done(s, st);
    return found;
}

/* The project's default branch as SQL over projects p: the column from
 * schema 5, 'main' in an older file (opened read-only). */
static const char *dfl_sql(fs_store *s)
{
    return fs_store_db(s)->version >= 5 ? "p.default_branch" : "'" FS_STORE_DEFAULT_BRANCH "'";
}

int fs_store_boards(fs_store *s, const char *project, int limit, fs_board_fn fn, void *ctx, bool *exists,
                    fs_error *err)
{
    *exists = true;
    /* A board's state is its newest default-branch build (else, when it
     * has none, its newest build): both seeks in builds_branch_time /
     * builds_history. */
    char sql[1400];
    const char *dfl = dfl_sql(s);
    snprintf(sql, sizeof sql,
             "SELECT o.name, (SELECT count(*) FROM builds x WHERE x.project_id = p.id AND x.board_id = o.id), "
             ROW_COLS ", b.branch IS NOT DISTINCT FROM %s FROM projects p CROSS JOIN boards o JOIN builds b ON b.id = coalesce("
             "   (SELECT y.id FROM builds y WHERE y.project_id = p.id AND y.board_id = o.id AND y.branch = %s"
             "    ORDER BY y.timestamp DESC, y.id DESC LIMIT 1),"
             "   (SELECT y.id FROM builds y WHERE y.project_id = p.id AND y.board_id = o.id"
             "    ORDER BY y.timestamp DESC, y.id DESC LIMIT 1))"
             " WHERE p.name = ?1 ORDER BY o.name LIMIT ?2",
             dfl, dfl);
    fs_db_stmt *st = fs_store_stmt(s, sql);
    if (!st)
        return fs_store_fail(s, err, "listing boards");
    fs_db_bind_text(st, 1, project);
    fs_db_bind_int(st, 2, limit);
    int rc;
    size_t rows = 0;
    while ((rc = fs_db_step(st)) == FS_DB_ROW) {
        fs_board_row row = {col_text(st, 0), fs_db_col_int(st, 1), {0}, fs_db_col_int(st, 11) != 0};
        build_row(st, 2, &row.latest);
        rows++;
        if (fn(ctx, &row) < 0) {
            fs_store_done(s, st);
            return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory listing boards", fs_store_name(s));
        }
    }
    if (rc != FS_DB_DONE)
        fs_store_fail(s, err, "listing boards");
    fs_store_done(s, st);
    if (rc == FS_DB_DONE && rows == 0)
        *exists = project_exists(s, project);
    return rc == FS_DB_DONE ? 0 : -1;
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

/* The base of a build b off the default branch (dfl: SQL of the default
 * branch's name): the build of its parent commit, else the default
 * branch's newest build at or before it; NULL on the default branch. */
#define BASE_SQL(dfl)                                                                                            \
    "(CASE WHEN b.branch IS DISTINCT FROM " dfl " THEN coalesce("                                                          \
    " (SELECT z.id FROM builds z WHERE z.project_id = b.project_id AND z.board_id = b.board_id"                  \
    "  AND z.commit_sha = b.parent_sha AND z.id <> b.id),"                                                       \
    " (SELECT z.id FROM builds z WHERE z.project_id = b.project_id AND z.board_id = b.board_id"                  \
    "  AND z.branch = " dfl " AND z.timestamp <= b.timestamp AND z.id <> b.id"                                   \
    "  ORDER BY z.timestamp DESC, z.id DESC LIMIT 1)) END)"

static fs_db_stmt *history_stmt(fs_store *s, const char *summary)
{
    char sql[3000];
    snprintf(sql, sizeof sql,
             "SELECT %s, %s, pv.id, pv.main_region, pv.main_used, %s"
             " FROM builds b JOIN projects p ON p.id = b.project_id JOIN boards o ON o.id = b.board_id"
             " LEFT JOIN builds pv ON pv.id = " FS_STORE_PREV_SQL
             " WHERE p.name = ?1 AND o.name = ?2 AND (?3 IS NULL OR b.branch = ?3)"
             " AND b.timestamp >= ?4 AND b.timestamp <= ?5"
             " ORDER BY b.timestamp DESC, b.id DESC LIMIT ?6",
             ROW_COLS, summary,
             fs_store_db(s)->version >= 5 ? BASE_SQL("p.default_branch") : BASE_SQL("'" FS_STORE_DEFAULT_BRANCH "'"));
    return fs_store_stmt(s, sql);
}

int fs_store_history_each(fs_store *s, const fs_history_range *q, fs_build_row_fn fn, void *ctx, fs_error *err)
{
    fs_db_stmt *st = history_stmt(s, hist_v3);
    if (!st && !(st = history_stmt(s, hist_v2)))
        return fs_store_fail(s, err, "reading the history");
    fs_db_bind_text(st, 1, q->project);
    fs_db_bind_text(st, 2, q->board);
    if (q->branch)
        fs_db_bind_text(st, 3, q->branch);
    fs_db_bind_int(st, 4, q->t0);
    fs_db_bind_int(st, 5, q->t1);
    fs_db_bind_int(st, 6, q->limit);
    int rc;
    while ((rc = fs_db_step(st)) == FS_DB_ROW) {
        fs_build_row row;
        build_row(st, 0, &row);
        row.errors_json = col_text(st, 9);
        row.regions_json = col_text(st, 10);
        row.prev_id = fs_db_col_int(st, 11);
        const char *pregion = col_text(st, 12);
        row.has_delta = row.prev_id && row.main_region && pregion && strcmp(row.main_region, pregion) == 0;
        row.delta = row.has_delta ? row.used - fs_db_col_int(st, 13) : 0;
        row.base_id = fs_db_col_int(st, 14);
        fn(ctx, &row);
    }
    if (rc != FS_DB_DONE)
        fs_store_fail(s, err, "reading the history");
    fs_store_done(s, st);
    return rc == FS_DB_DONE ? 0 : -1;
}

int fs_store_default_branch(fs_store *s, const char *project, char *buf, size_t len, fs_error *err)
{
    snprintf(buf, len, "%s", FS_STORE_DEFAULT_BRANCH);
    if (fs_store_db(s)->version < 5)
        return 0;
    fs_db_stmt *st = fs_store_stmt(s, "SELECT default_branch FROM projects WHERE name = ?1");
    if (!st)
        return fs_store_fail(s, err, "reading the default branch");
    fs_db_bind_text(st, 1, project);
    int rc = fs_db_step(st);
    if (rc == FS_DB_ROW && col_text(st, 0))
        snprintf(buf, len, "%s", col_text(st, 0));
    if (rc != FS_DB_ROW && rc != FS_DB_DONE)
        fs_store_fail(s, err, "reading the default branch");
    fs_store_done(s, st);
    return rc == FS_DB_ROW || rc == FS_DB_DONE ? 0 : -1;
}

int fs_store_set_default_branch(fs_store *s, const char *project, const char *branch, fs_error *err)
{
    if (fs_store_db(s)->version < 5)
        return fs_fail_kind(err, FS_ERR_READONLY, "%s: cannot write the database: opened read-only", fs_store_name(s));
    fs_db_stmt *st = fs_store_stmt(s, "INSERT INTO projects(name, default_branch) VALUES (?1, ?2)"
                                         " ON CONFLICT(name) DO UPDATE SET default_branch = excluded.default_branch"
                                         " WHERE projects.default_branch IS DISTINCT FROM excluded.default_branch");
    if (!st)
        return fs_store_fail(s, err, "setting the default branch");
    fs_db_bind_text(st, 1, project);
    fs_db_bind_text(st, 2, branch);
    int rc = fs_db_step(st);
    if (rc != FS_DB_DONE)
        fs_store_fail(s, err, "setting the default branch");
    fs_store_done(s, st);
    return rc == FS_DB_DONE ? 0 : -1;
}

int fs_store_find_base(fs_store *s, const char *project, const char *board, const char *parent, const char *branch,
                       int64_t before, int64_t exclude, uint64_t (*hash_fn)(const unsigned char *, size_t),
                       int64_t *id, int64_t *symset, uint64_t *hash, fs_error *err)
{
    *id = 0;
    char dfl[300];
    if (!branch) {
        if (fs_store_default_branch(s, project, dfl, sizeof dfl, err) < 0)
            return -1;
        branch = dfl;
    }
    /* ?3 the parent commit: its build first, else the branch's newest
     * build at or before ?6; two seeks (the unique (project, board,
     * commit) index, builds_branch_time), then one row by id. */
    fs_db_stmt *st = fs_store_stmt(s, "SELECT b.id, b.symset_id, b.doc FROM builds b WHERE b.id = coalesce("
                                         "  (SELECT y.id FROM builds y"
                                         "   WHERE y.project_id = (SELECT id FROM projects WHERE name = ?1)"
                                         "   AND y.board_id = (SELECT id FROM boards WHERE name = ?2)"
                                         "   AND y.commit_sha = ?3 AND y.id <> ?5),"
                                         "  (SELECT y.id FROM builds y"
                                         "   WHERE y.project_id = (SELECT id FROM projects WHERE name = ?1)"
                                         "   AND y.board_id = (SELECT id FROM boards WHERE name = ?2)"
                                         "   AND y.branch = ?4 AND y.timestamp <= ?6 AND y.id <> ?5"
                                         "   ORDER BY y.timestamp DESC, y.id DESC LIMIT 1))");
    if (!st)
        return fs_store_fail(s, err, "finding the base build");
    fs_db_bind_text(st, 1, project);
    fs_db_bind_text(st, 2, board);
    if (parent)
        fs_db_bind_text(st, 3, parent);
    fs_db_bind_text(st, 4, branch);
    fs_db_bind_int(st, 5, exclude);
    fs_db_bind_int(st, 6, before > 0 ? before : INT64_MAX);
    int rc = fs_db_step(st);
    if (rc == FS_DB_ROW) {
        *id = fs_db_col_int(st, 0);
        *symset = fs_db_col_int(st, 1);
        const unsigned char *doc = fs_db_col_blob(st, 2);
        *hash = hash_fn(doc ? doc : (const unsigned char *)"", fs_db_col_bytes(st, 2));
    }
    if (rc != FS_DB_ROW && rc != FS_DB_DONE)
        fs_store_fail(s, err, "finding the base build");
    fs_store_done(s, st);
    return rc == FS_DB_ROW || rc == FS_DB_DONE ? 0 : -1;
}

/* The builds of a board on one branch (NULL: the default one), newest
 * first: a seek in builds_branch_time. */
static fs_db_stmt *branch_stmt(fs_store *s, const char *extra_cols, const char *extra_join)
{
    char sql[1200];
    snprintf(sql, sizeof sql,
             "SELECT b.id, b.timestamp, b.commit_sha%s FROM builds b JOIN projects p ON p.id = b.project_id%s"
             " WHERE p.name = ?1 AND b.board_id = (SELECT id FROM boards WHERE name = ?2)"
             " AND b.branch = coalesce(?3, %s) ORDER BY b.timestamp DESC, b.id DESC LIMIT ?4",
             extra_cols, extra_join, dfl_sql(s));
    return fs_store_stmt(s, sql);
}

static int branch_walk(fs_store *s, fs_db_stmt *st, const char *project, const char *board, const char *branch,
                       const char *module, int64_t limit, bool sized, fs_size_point_fn fn, void *ctx, fs_error *err)
{
    if (!st)
        return fs_store_fail(s, err, "reading a board's builds");
    fs_db_bind_text(st, 1, project);
    fs_db_bind_text(st, 2, board);
    if (branch)
        fs_db_bind_text(st, 3, branch);
    fs_db_bind_int(st, 4, limit);
    if (module)
        fs_db_bind_text(st, 5, module);
    int rc;
    while ((rc = fs_db_step(st)) == FS_DB_ROW) {
        fs_size_point pt = {fs_db_col_int(st, 0), fs_db_col_int(st, 1), col_text(st, 2), false, 0};
        if (sized && !fs_db_col_null(st, 3)) {
            pt.present = true;
            pt.size = fs_db_col_int(st, 3);
        }
        if (fn(ctx, &pt) < 0) {
            fs_store_done(s, st);
            return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory reading a board's builds", fs_store_name(s));
        }
    }
    if (rc != FS_DB_DONE)
        fs_store_fail(s, err, "reading a board's builds");
    fs_store_done(s, st);
    return rc == FS_DB_DONE ? 0 : -1;
}

int fs_store_branch_builds(fs_store *s, const char *project, const char *board, const char *branch, int64_t limit,
                           fs_size_point_fn fn, void *ctx, fs_error *err)
{
    return branch_walk(s, branch_stmt(s, "", ""), project, board, branch, NULL, limit, false, fn, ctx, err);
}

int fs_store_frozen_history(fs_store *s, const char *project, const char *board, const char *branch,
                            const char *module, int64_t limit, fs_size_point_fn fn, void *ctx, fs_error *err)
{
    /* frozen's primary key (build_id, seq) finds a build's few modules */
    return branch_walk(s,
                       branch_stmt(s, ", (SELECT f.size FROM frozen f WHERE f.build_id = b.id AND f.name = ?5 LIMIT 1)",
                                   ""),
                       project, board, branch, module, limit, true, fn, ctx, err);
}
