/*
 * auth.c - bearer tokens: created from getrandom(2), kept as SHA-256,
 * checked in constant time (see auth.h for the format).  The table is the
 * store's (store.h: fs_store_token_*): this file speaks no SQL.
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

static int auth_sha256(const char *text, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    return EVP_Digest(text, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -1;
}

/* The token of row id: "fst_<id>_<hex of the secret>", and its hash. */
typedef struct auth_make {
    const char *path;
    const unsigned char *secret;
    char *token;
} auth_make;

static int auth_make_token(void *ctx, int64_t id, unsigned char hash[32], fs_error *err)
{
    auth_make *m = ctx;
    int n = snprintf(m->token, AUTH_TOKEN_MAX, AUTH_PREFIX "%lld_", (long long)id);
    for (size_t i = 0; i < AUTH_SECRET_BYTES; i++)
        n += snprintf(m->token + n, AUTH_TOKEN_MAX - (size_t)n, "%02x", m->secret[i]);
    if (auth_sha256(m->token, (size_t)n, hash) < 0)
        return fs_fail(err, "%s: SHA-256 failed", m->path);
    return 0;
}

int auth_token_create(fs_store *s, const char *path, const char *project, const char *note, int64_t *id,
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
    auth_make m = {path, secret, token};
    int rc = fs_store_token_create(s, project, note, (int64_t)time(NULL), auth_make_token, &m, id, err);
    if (rc < 0)
        memset(token, 0, AUTH_TOKEN_MAX);
    OPENSSL_cleanse(secret, sizeof secret);
    return rc;
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

auth_result auth_check(fs_store *s, const char *header, char *project, size_t project_len, int64_t *id,
                       fs_error *err)
{
    if (!header || !*header)
        return AUTH_MISSING;
    const char *token;
    if (auth_parse(header, &token, id) < 0)
        return AUTH_MALFORMED;
    unsigned char given[32], stored[32] = {0};
    if (auth_sha256(token, strlen(token), given) < 0) {
        fs_fail(err, "SHA-256 failed");
        return AUTH_FAILED;
    }
    bool found, revoked;
    if (fs_store_token_lookup(s, *id, stored, project, project_len, &found, &revoked, err) < 0)
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
