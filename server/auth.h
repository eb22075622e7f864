/*
 * auth.h - per-project bearer tokens for uploads (and, with --private, reads).
 *
 * A token is "fst_<id>_<64 hex digits>": the id names its row, the hex
 * digits are 32 random bytes from getrandom(2).  It is printed once, when
 * created; the table keeps only its SHA-256 (OpenSSL EVP), compared with
 * CRYPTO_memcmp so the time taken says nothing about how much matched.
 * An unknown id is compared against a dummy hash for the same reason.
 *
 * The table is the server's own, beside the store's (docs/server.md):
 *   server_tokens(id, project, hash BLOB(32), created, revoked, note)
 * created with CREATE TABLE IF NOT EXISTS by auth_migrate, which the server
 * and `flashsize token` run on open.  Revoking sets `revoked` (a time);
 * rows are never reused, so a revoked token stays revoked.
 *
 * Errors follow model.h; messages name the database file.
 */
#ifndef FS_SRV_AUTH_H
#define FS_SRV_AUTH_H

#include "model.h"

#include <sqlite3.h>
#include <stdint.h>

#define AUTH_SECRET_BYTES 32
#define AUTH_TOKEN_MAX    96   /* "fst_" + id + "_" + 64 hex + NUL fits */

/* Create the token table if it is missing. */
int auth_migrate(sqlite3 *db, const char *path, fs_error *err);

/* A new token for project; token (AUTH_TOKEN_MAX bytes) receives it. */
int auth_token_create(sqlite3 *db, const char *path, const char *project, const char *note, int64_t *id,
                      char *token, fs_error *err);

/* Revoke token id (an error if there is none; revoking twice is fine). */
int auth_token_revoke(sqlite3 *db, const char *path, int64_t id, fs_error *err);

/* One row, for `flashsize token list` (never the hash). */
typedef struct auth_token_row {
    int64_t id, created, revoked; /* revoked: 0 = active */
    char project[257], note[257];
} auth_token_row;

typedef int (*auth_list_fn)(void *ctx, const auth_token_row *row);
int auth_token_list(sqlite3 *db, const char *path, auth_list_fn fn, void *ctx, fs_error *err);

typedef enum {
    AUTH_OK = 0,
    AUTH_MISSING,   /* no Authorization header */
    AUTH_MALFORMED, /* not "Bearer fst_..." */
    AUTH_UNKNOWN,   /* no such token (or wrong secret) */
    AUTH_REVOKED,
    AUTH_FAILED     /* the database could not be read */
} auth_result;

/* The token lookup auth_check steps: the caller prepares it (once per
 * connection) and resets it after the call. */
#define AUTH_LOOKUP_SQL "SELECT hash, project, revoked FROM server_tokens WHERE id = ?1"

/* Check an Authorization header value (NULL if absent) with lookup, a
 * statement of AUTH_LOOKUP_SQL (NULL: AUTH_FAILED).  On AUTH_OK the token's
 * project (SRV_MAX_FIELD + 1 bytes) and id are filled in. */
auth_result auth_check(sqlite3_stmt *lookup, const char *header, char *project, size_t project_len, int64_t *id);

/* A word for each result ("missing", "revoked", ...), for messages. */
const char *auth_result_name(auth_result r);

#endif
