/*
 * store_tokens.c - the SQLite backend's table of upload tokens (store.h):
 * create, revoke, list and look up rows of server_tokens.  The table is
 * created by CREATE TABLE IF NOT EXISTS (fs_store_tokens_init), which the
 * server and `flashsize token` run on a handle opened for writing; rows
 * are never reused, so a revoked token stays revoked.
 */
#include "store.h"
#include "store_sqlite.h"

#include <string.h>

static const char tokens_schema[] = "CREATE TABLE IF NOT EXISTS server_tokens("
                                    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
                                    "  project TEXT NOT NULL,"
                                    "  hash BLOB NOT NULL,"
                                    "  created INTEGER NOT NULL,"
                                    "  revoked INTEGER,"
                                    "  note TEXT)";

int fs_store_tokens_init(fs_store *s, fs_error *err)
{
    if (sqlite3_exec(fs_sqlite_db(s), tokens_schema, NULL, NULL, NULL) != SQLITE_OK)
        return fs_sqlite_fail(s, err, "creating the token table");
    return 0;
}

int fs_store_token_create(fs_store *s, const char *project, const char *note, int64_t created, fs_token_hash_fn fn,
                          void *ctx, int64_t *id, fs_error *err)
{
    sqlite3 *db = fs_sqlite_db(s);
    sqlite3_stmt *st = NULL;
    /* Insert first (with a placeholder hash) to learn the id the token names. */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fs_sqlite_fail(s, err, "creating a token");
    if (!(st = fs_sqlite_stmt(s, "INSERT INTO server_tokens(project, hash, created, note) VALUES(?1, x'', ?2, ?3)")))
        goto fail;
    sqlite3_bind_text(st, 1, project, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, created);
    if (note)
        sqlite3_bind_text(st, 3, note, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    fs_sqlite_done(s, st);
    st = NULL;
    *id = sqlite3_last_insert_rowid(db);
    unsigned char hash[32];
    if (fn(ctx, *id, hash, err) < 0)
        goto rollback;
    if (!(st = fs_sqlite_stmt(s, "UPDATE server_tokens SET hash = ?1 WHERE id = ?2")))
        goto fail;
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, *id);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    fs_sqlite_done(s, st);
    st = NULL;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    return 0;
fail:
    fs_sqlite_fail(s, err, "creating a token");
rollback:
    if (st)
        fs_sqlite_done(s, st);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int fs_store_token_revoke(fs_store *s, int64_t id, int64_t when, fs_error *err)
{
    sqlite3_stmt *st = fs_sqlite_stmt(s, "UPDATE server_tokens SET revoked = coalesce(revoked, ?2) WHERE id = ?1");
    if (!st)
        return fs_sqlite_fail(s, err, "revoking a token");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, when);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        fs_sqlite_fail(s, err, "revoking a token");
        fs_sqlite_done(s, st);
        return -1;
    }
    fs_sqlite_done(s, st);
    if (sqlite3_changes(fs_sqlite_db(s)) == 0)
        return fs_fail_kind(err, FS_ERR_NOTFOUND, "%s: no token with id %lld", fs_sqlite_path(s), (long long)id);
    return 0;
}

/* Does the database have the token table?  (list on an older file) */
static bool tokens_exist(fs_store *s)
{
    sqlite3_stmt *st =
        fs_sqlite_stmt(s, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'server_tokens'");
    if (!st)
        return false;
    bool found = sqlite3_step(st) == SQLITE_ROW;
    fs_sqlite_done(s, st);
    return found;
}

static const char *text_or_empty(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

/* The rows by id, with their hashes when with_hash (a hash not of 32
 * bytes, the placeholder of a create that failed, is left out). */
static int tokens_each(fs_store *s, bool with_hash, fs_token_fn fn, void *ctx, fs_error *err)
{
    if (!tokens_exist(s))
        return 0;
    sqlite3_stmt *st = fs_sqlite_stmt(
        s, "SELECT id, project, created, coalesce(revoked, 0), note, hash FROM server_tokens ORDER BY id");
    if (!st)
        return fs_sqlite_fail(s, err, "listing tokens");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fs_token_row row = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                            text_or_empty(st, 1), text_or_empty(st, 4), NULL};
        if (with_hash) {
            if (sqlite3_column_bytes(st, 5) != 32)
                continue;
            row.hash = sqlite3_column_blob(st, 5);
        }
        if (fn(ctx, &row) < 0) {
            fs_sqlite_done(s, st);
            if (with_hash) /* export: the callback said why, in its own error */
                return -1;
            return fs_fail_kind(err, FS_ERR_IO, "%s: listing tokens: write error", fs_sqlite_path(s));
        }
    }
    if (rc != SQLITE_DONE)
        fs_sqlite_fail(s, err, "listing tokens");
    fs_sqlite_done(s, st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int fs_store_token_list(fs_store *s, fs_token_fn fn, void *ctx, fs_error *err)
{
    return tokens_each(s, false, fn, ctx, err);
}

int fs_store_token_export(fs_store *s, fs_token_fn fn, void *ctx, fs_error *err)
{
    return tokens_each(s, true, fn, ctx, err);
}

int fs_store_token_import(fs_store *s, const fs_token_row *row, bool *existed, fs_error *err)
{
    *existed = false;
    if (!row->hash)
        return fs_fail(err, "%s: token %lld has no hash", fs_sqlite_path(s), (long long)row->id);
    if (fs_store_tokens_init(s, err) < 0)
        return -1;
    unsigned char hash[32];
    char project[1024];
    bool found, revoked;
    if (fs_store_token_lookup(s, row->id, hash, project, sizeof project, &found, &revoked, err) < 0)
        return -1;
    sqlite3_stmt *st;
    if (found) {
        if (memcmp(hash, row->hash, 32) != 0 || strcmp(project, row->project) != 0)
            return fs_fail(err, "%s: token %lld is already there, another token (project '%s'): it cannot be copied",
                           fs_sqlite_path(s), (long long)row->id, project);
        *existed = true;
        if (!row->revoked || revoked)
            return 0;
        return fs_store_token_revoke(s, row->id, row->revoked, err);
    }
    if (!(st = fs_sqlite_stmt(s, "INSERT INTO server_tokens(id, project, hash, created, revoked, note)"
                                 " VALUES(?1, ?2, ?3, ?4, NULLIF(?5, 0), NULLIF(?6, ''))")))
        return fs_sqlite_fail(s, err, "copying a token");
    sqlite3_bind_int64(st, 1, row->id);
    sqlite3_bind_text(st, 2, row->project, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, row->hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, row->created);
    sqlite3_bind_int64(st, 5, row->revoked);
    sqlite3_bind_text(st, 6, row->note, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        fs_sqlite_fail(s, err, "copying a token");
    fs_sqlite_done(s, st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int fs_store_token_lookup(fs_store *s, int64_t id, unsigned char hash[32], char *project, size_t len, bool *found,
                          bool *revoked, fs_error *err)
{
    *found = *revoked = false;
    sqlite3_stmt *st = fs_sqlite_stmt(s, "SELECT hash, project, revoked FROM server_tokens WHERE id = ?1");
    if (!st)
        return fs_sqlite_fail(s, err, "reading the token table");
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(hash, sqlite3_column_blob(st, 0), 32);
        snprintf(project, len, "%s", text_or_empty(st, 1));
        *revoked = sqlite3_column_type(st, 2) != SQLITE_NULL;
        *found = true;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        fs_sqlite_fail(s, err, "reading the token table");
    fs_sqlite_done(s, st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}
