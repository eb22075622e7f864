/*
 * auth.h - per-project bearer tokens for uploads (and, with --private, reads).
 *
 * A token is "fst_<id>_<64 hex digits>": the id names its row, the hex
 * digits are 32 random bytes from getrandom(2).  It is printed once, when
 * created; the table keeps only its SHA-256 (OpenSSL EVP), compared with
 * CRYPTO_memcmp so the time taken says nothing about how much matched.
 * An unknown id is compared against a dummy hash for the same reason.
 *
 * The table is the store's (store.h: fs_store_token_*, beside the builds;
 * docs/server.md): server_tokens(id, project, hash BLOB(32), created,
 * revoked, note).  Revoking sets `revoked` (a time); rows are never
 * reused, so a revoked token stays revoked.
 *
 * Errors follow model.h; messages name the database file.
 */
#ifndef FS_SRV_AUTH_H
#define FS_SRV_AUTH_H

#include "model.h"
#include "store.h"

#include <stdint.h>

#define AUTH_SECRET_BYTES 32
#define AUTH_TOKEN_MAX    96   /* "fst_" + id + "_" + 64 hex + NUL fits */

/* A new token for project (the store's handle s, opened for writing, its
 * path for messages); token (AUTH_TOKEN_MAX bytes) receives it. */
int auth_token_create(fs_store *s, const char *path, const char *project, const char *note, int64_t *id,
                      char *token, fs_error *err);

typedef enum {
    AUTH_OK = 0,
    AUTH_MISSING,   /* no Authorization header */
    AUTH_MALFORMED, /* not "Bearer fst_..." */
    AUTH_UNKNOWN,   /* no such token (or wrong secret) */
    AUTH_REVOKED,
    AUTH_FAILED     /* the database could not be read */
} auth_result;

/* Check an Authorization header value (NULL if absent) against the token
 * table of s (unreadable: AUTH_FAILED, why in err).  On AUTH_OK the
 * token's project (SRV_MAX_FIELD + 1 bytes) and id are filled in. */
auth_result auth_check(fs_store *s, const char *header, char *project, size_t project_len, int64_t *id,
                       fs_error *err);

/* A word for each result ("missing", "revoked", ...), for messages. */
const char *auth_result_name(auth_result r);

#endif
