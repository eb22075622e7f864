/*
 * auth.c - bearer tokens: created from getrandom(2), kept as SHA-256,
 * checked in constant time (see auth.h for the format and the table).
 *
 * Every statement is prepared with bound parameters.
 */
#include "auth.h"
#include "server.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define AUTH_PREFIX "fst_"

static const char auth_schema[] =
    "CREATE TABLE IF NOT EXISTS server_tokens("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  project TEXT NOT NULL,"
    "  hash BLOB NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  revoked INTEGER,"
    "  note TEXT)";

static int auth_db_fail(sqlite3 *db, const char *path, const char *what, fs_error *err)
{
    return fs_fail(err, "%s: %s: %s", path, what, sqlite3_errmsg(db));
}

int auth_migrate(sqlite3 *db, const char *path, fs_error *err)
{
    if (sqlite3_exec(db, auth_schema, NULL, NULL, NULL) != SQLITE_OK)
        return auth_db_fail(db, path, "creating the token table", err);
    return 0;
}

static int auth_sha256(const char *text, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    return EVP_Digest(text, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

int auth_token_create(sqlite3 *db, const char *path, const char *project, const char *note, int64_t *id,
                      char *token, fs_error *err)
{
    if (!project || !*project || strlen(project) > SRV_MAX_FIELD)
        return fs_fail(err, "%s: a token needs a project name of 1 to %d bytes", path, SRV_MAX_FIELD);
    unsigned char secret[AUTH_SECRET_BYTES];
    size_t got = 0;
    while (got < sizeof secret) {
        ssize_t n = getrandom(secret + got, sizeof secret - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fs_fail(err, "%s: no random bytes for a token: %s", path, strerror(errno));
        got += (size_t)n;
    }
    sqlite3_stmt *st = NULL;
    int rc = -1;
    /* Insert first (with a placeholder hash) to learn the id the token names. */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return auth_db_fail(db, path, "creating a token", err);
    if (sqlite3_prepare_v2(db, "INSERT INTO server_tokens(project, hash, created, note) VALUES(?1, x'', ?2, ?3)",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, project, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
    if (note)
        sqlite3_bind_text(st, 3, note, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    st = NULL;
    *id = sqlite3_last_insert_rowid(db);
    int n = snprintf(token, AUTH_TOKEN_MAX, AUTH_PREFIX "%lld_", (long long)*id);
    for (size_t i = 0; i < sizeof secret; i++)
        n += snprintf(token + n, AUTH_TOKEN_MAX - (size_t)n, "%02x", secret[i]);
    unsigned char hash[32];
    if (auth_sha256(token, (size_t)n, hash) < 0) {
        fs_fail(err, "%s: SHA-256 failed", path);
        goto rollback;
    }
    if (sqlite3_prepare_v2(db, "UPDATE server_tokens SET hash = ?1 WHERE id = ?2", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, *id);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto fail;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    rc = 0;
    goto done;
fail:
    auth_db_fail(db, path, "creating a token", err);
rollback:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    memset(token, 0, AUTH_TOKEN_MAX);
done:
    sqlite3_finalize(st);
    OPENSSL_cleanse(secret, sizeof secret);
    return rc;
}

int auth_token_revoke(sqlite3 *db, const char *path, int64_t id, fs_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "UPDATE server_tokens SET revoked = coalesce(revoked, ?2) WHERE id = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return auth_db_fail(db, path, "revoking a token", err);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return auth_db_fail(db, path, "revoking a token", err);
    if (sqlite3_changes(db) == 0)
        return fs_fail(err, "%s: no token with id %lld", path, (long long)id);
    return 0;
}

static void auth_copy_text(char *dst, size_t len, const unsigned char *src)
{
    snprintf(dst, len, "%s", src ? (const char *)src : "");
}

int auth_token_list(sqlite3 *db, const char *path, auth_list_fn fn, void *ctx, fs_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT id, project, created, coalesce(revoked, 0), note FROM server_tokens ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return auth_db_fail(db, path, "listing tokens", err);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        auth_token_row row = {0};
        row.id = sqlite3_column_int64(st, 0);
        auth_copy_text(row.project, sizeof row.project, sqlite3_column_text(st, 1));
        row.created = sqlite3_column_int64(st, 2);
        row.revoked = sqlite3_column_int64(st, 3);
        auth_copy_text(row.note, sizeof row.note, sqlite3_column_text(st, 4));
        if (fn(ctx, &row) < 0) {
            sqlite3_finalize(st);
            return fs_fail(err, "%s: listing tokens: write error", path);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return auth_db_fail(db, path, "listing tokens", err);
    return 0;
}

/* "Bearer fst_ID_HEX" -> the token and its id; -1 when malformed. */
static int auth_parse(const char *header, const char **token, int64_t *id)
{
    static const char bearer[] = "Bearer ";
    if (strncasecmp(header, bearer, sizeof bearer - 1) != 0)
        return -1;
    const char *t = header + sizeof bearer - 1;
    while (*t == ' ')
        t++;
    size_t len = strlen(t);
    if (len >= AUTH_TOKEN_MAX || strncmp(t, AUTH_PREFIX, sizeof AUTH_PREFIX - 1) != 0)
        return -1;
    const char *p = t + sizeof AUTH_PREFIX - 1;
    int64_t v = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 18; p++, digits++)
        v = v * 10 + (*p - '0');
    if (digits == 0 || *p != '_')
        return -1;
    p++;
    size_t hex = 0;
    for (; p[hex]; hex++)
        if (!((p[hex] >= '0' && p[hex] <= '9') || (p[hex] >= 'a' && p[hex] <= 'f')))
            return -1;
    if (hex != 2 * AUTH_SECRET_BYTES)
        return -1;
    *token = t;
    *id = v;
    return 0;
}

auth_result auth_check(sqlite3_stmt *st, const char *header, char *project, size_t project_len, int64_t *id)
{
    if (!header || !*header)
        return AUTH_MISSING;
    const char *token;
    if (auth_parse(header, &token, id) < 0)
        return AUTH_MALFORMED;
    unsigned char given[32], stored[32] = {0};
    if (auth_sha256(token, strlen(token), given) < 0)
        return AUTH_FAILED;
    if (!st)
        return AUTH_FAILED;
    sqlite3_bind_int64(st, 1, *id);
    int rc = sqlite3_step(st);
    bool found = false, revoked = false;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(stored, sqlite3_column_blob(st, 0), 32);
        snprintf(project, project_len, "%s", (const char *)sqlite3_column_text(st, 1));
        revoked = sqlite3_column_type(st, 2) != SQLITE_NULL;
        found = true;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return AUTH_FAILED;
    /* Always one comparison of 32 bytes, found or not. */
    bool match = CRYPTO_memcmp(given, stored, sizeof given) == 0;
    if (!found || !match) {
        project[0] = '\0';
        return AUTH_UNKNOWN;
    }
    return revoked ? AUTH_REVOKED : AUTH_OK;
}

const char *auth_result_name(auth_result r)
{
    static const char *const names[] = {"ok", "missing", "malformed", "unknown", "revoked", "failed"};
    return (unsigned)r < sizeof names / sizeof *names ? names[r] : "failed";
}
