/*
 * fuzz_request.c - libFuzzer harness for the server's request handling,
 * without sockets: the input is one HTTP request, which goes to the same
 * handlers server.c calls (api_handle for /api/ and /healthz, static_handle
 * for everything else), against a private SQLite store and web directory.
 *
 * Input format (text head, raw body):
 *     METHOD TARGET\n            e.g. "POST /api/v1/builds?project=demo"
 *     Name: value\n              any number of headers
 *     \n
 *     body bytes (anything, an analysis document, an ELF)
 * TARGET is split at '?' as libmicrohttpd splits it: the raw path (for the
 * encoded-dot checks), the percent-decoded path, and the query arguments
 * ("k=v&k2", percent-decoded, '+' a space).  In header values "@token@"
 * becomes a valid upload token for project "demo", "@other@" one for
 * project "other" and "@revoked@" a revoked one, so the fuzzer can reach
 * the code behind authentication.  A header "X-Fuzz-Private: 1" serves the
 * request as `flashsize serve --private` would.
 *
 * The handlers read headers and arguments through srv_header/srv_arg
 * (server.c), which ask libmicrohttpd.  This harness is linked with
 * -Wl,--wrap=MHD_lookup_connection_value, so those lookups land in
 * __wrap_MHD_lookup_connection_value below, which reads the parsed input;
 * no server file has a test hook.
 *
 * Set up once per process (and again after FUZZ_REQ_RESET uploads, so the
 * store stays small): in the harness's private directory, the store
 * fuzz.db with three tokens, the web directory web/ (index.html, app.js,
 * sub/page.html, a symlink leak.html to ../secret.txt, a symlink up -> ..)
 * and secret.txt outside it.  Rules come from rules/ (run from the
 * repository root, as fuzz.sh and the tests do).
 *
 * Checked for every answer: a status from 100 to 599; a JSON body that
 * parses, and for 4xx/5xx is {"error": text, "status": the status}; no
 * body carries the secret file's text (a way out of the web directory)
 * (a gzip body is inflated and checked as the answer it holds; a 304 has
 * no body and an ETag)
 * (an API answer may carry it once an input since the store was made held
 * it: the API echoes what was uploaded, and the fuzzer learns the text
 * from the comparison);
 * 2xx to an upload only with the valid token.  Returns
 * FUZZ_ACCEPTED for a status below 400, FUZZ_REFUSED otherwise.
 */
#include "fuzz.h"

#include "auth.h"
#include "http.h"

#include <jansson.h>
#include <limits.h>
#include <microhttpd.h>
#include <sys/stat.h>
#include <zlib.h>

#define FUZZ_REQ_MAX_PAIRS 32
#define FUZZ_REQ_RESET     400 /* uploads before the store is made afresh */
#define FUZZ_REQ_SECRET    "FUZZ-SECRET-OUTSIDE-THE-WEB-DIRECTORY"

int fuzz_request_run(const uint8_t *data, size_t size);

/* The parsed request the wrapped lookup answers from. */
typedef struct fuzz_req {
    char *hname[FUZZ_REQ_MAX_PAIRS], *hval[FUZZ_REQ_MAX_PAIRS];
    size_t nh;
    char *aname[FUZZ_REQ_MAX_PAIRS], *aval[FUZZ_REQ_MAX_PAIRS];
    size_t na;
    bool used_token;    /* "@token@" was given */
} fuzz_req;

/* The server the requests go to, made once per process. */
typedef struct fuzz_srv {
    bool ready;
    char db[128], web[128], secret[128];
    srv_config cfg, cfg_private;
    srv_ctx ctx;
    char token[AUTH_TOKEN_MAX], other[AUTH_TOKEN_MAX], revoked[AUTH_TOKEN_MAX];
    unsigned uploads;
    bool secret_sent; /* an input since the store was made held the secret text */
} fuzz_srv;

static fuzz_srv fuzz_server;

const char *__wrap_MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                               const char *key);
const char *__wrap_MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                               const char *key)
{
    const fuzz_req *q = (const fuzz_req *)(void *)connection;
    if (!q || !key)
        return NULL;
    if (kind == MHD_HEADER_KIND) {
        for (size_t i = 0; i < q->nh; i++)
            if (strcasecmp(q->hname[i], key) == 0)
                return q->hval[i];
    } else if (kind == MHD_GET_ARGUMENT_KIND) {
        for (size_t i = 0; i < q->na; i++)
            if (strcmp(q->aname[i], key) == 0)
                return q->aval[i];
    }
    return NULL;
}

static void fuzz_req_write(const char *path, const char *text)
{
    fuzz_tmpfile(path, (const uint8_t *)text, strlen(text), (char[256]){0}, 256);
}

static void fuzz_req_die(const char *what, const fs_error *err)
{
    fprintf(stderr, "fuzz_request: %s: %s\n", what, err ? err->msg : "failed");
    abort();
}

/* Open the store and make the three tokens (the file is new). */
static void fuzz_req_open_store(fuzz_srv *s)
{
    fs_error err = {{0}};
    if (sdb_pool_open(&s->ctx.pool, s->db, 1, &err) < 0)
        fuzz_req_die("opening the store", &err);
    sdb_conn *c = sdb_acquire(&s->ctx.pool);
    int64_t id;
    if (auth_token_create(c->store, s->db, "demo", "fuzz", &id, s->token, &err) < 0 ||
        auth_token_create(c->store, s->db, "other", "fuzz", &id, s->other, &err) < 0 ||
        auth_token_create(c->store, s->db, "demo", "fuzz revoked", &id, s->revoked, &err) < 0 ||
        fs_store_token_revoke(c->store, id, 1, &err) < 0)
        fuzz_req_die("making the tokens", &err);
    sdb_release(&s->ctx.pool, c);
    sbc_init(&s->ctx.bases);
    /* A new store starts at generation 0 again: a new cache with it. */
    rsc_init(&s->ctx.history, RSC_TTL_MS);
    s->uploads = 0;
    s->secret_sent = false;
}

static void fuzz_req_remove_store(fuzz_srv *s)
{
    sbc_free(&s->ctx.bases);
    rsc_free(&s->ctx.history);
    sdb_pool_close(&s->ctx.pool);
    const char *ext[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < 4; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", s->db, ext[i]);
        unlink(p);
    }
}

static void fuzz_req_teardown(void)
{
    fuzz_srv *s = &fuzz_server;
    if (!s->ready)
        return;
    fuzz_req_remove_store(s);
    const char *dir = fuzz_tmpdir();
    const char *files[] = {"web/index.html", "web/app.js", "web/sub/page.html", "web/leak.html", "web/up",
                           "secret.txt"};
    char p[256];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/web/sub", dir);
    rmdir(p);
    rmdir(s->web);
    s->ready = false;
}

static void fuzz_req_setup(fuzz_srv *s)
{
    const char *dir = fuzz_tmpdir();
    char p[256];
    snprintf(s->db, sizeof s->db, "%s/fuzz.db", dir);
    snprintf(s->web, sizeof s->web, "%s/web", dir);
    snprintf(s->secret, sizeof s->secret, "%s/secret.txt", dir);
    snprintf(p, sizeof p, "%s/sub", s->web);
    if ((mkdir(s->web, 0700) != 0 || mkdir(p, 0700) != 0))
        fuzz_req_die("making the web directory", NULL);
    fuzz_req_write("secret.txt", FUZZ_REQ_SECRET "\n");
    fuzz_req_write("web/index.html", "<!doctype html><title>fuzz</title>\n");
    fuzz_req_write("web/app.js", "console.log('fuzz');\n");
    fuzz_req_write("web/sub/page.html", "<p>sub</p>\n");
    snprintf(p, sizeof p, "%s/leak.html", s->web);
    if (symlink("../secret.txt", p) != 0)
        fuzz_req_die("making the leak.html symlink", NULL);
    snprintf(p, sizeof p, "%s/up", s->web);
    if (symlink("..", p) != 0)
        fuzz_req_die("making the up symlink", NULL);
    srv_config_defaults(&s->cfg);
    s->cfg.db_path = s->db;
    s->cfg.web_dir = s->web;
    s->cfg.rules_dir = "rules";
    s->cfg_private = s->cfg;
    s->cfg_private.private_reads = true;
    s->ctx.cfg = &s->cfg;
    s->ctx.log = NULL;
    if (!realpath(s->web, s->ctx.web_root))
        fuzz_req_die("realpath of the web directory", NULL);
    fuzz_req_open_store(s);
    s->ready = true;
    atexit(fuzz_req_teardown);
}

static int fuzz_req_hex(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* A malloc'd, percent-decoded copy of p[0..n) ('+' a space when plus). */
static char *fuzz_req_unescape(const char *p, size_t n, bool plus)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        abort();
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (p[i] == '%' && i + 2 < n && (hi = fuzz_req_hex((unsigned char)p[i + 1])) >= 0 &&
            (lo = fuzz_req_hex((unsigned char)p[i + 2])) >= 0) {
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else
            *o++ = plus && p[i] == '+' ? ' ' : p[i];
    }
    *o = '\0';
    return out;
}

/* "@token@" and friends in a header value become real tokens. */
static char *fuzz_req_tokens(const fuzz_srv *s, fuzz_req *q, const char *v, size_t n)
{
    static const char *marks[] = {"@token@", "@other@", "@revoked@"};
    const char *subst[] = {s->token, s->other, s->revoked};
    size_t cap = n * 16 + 1, len = 0;
    char *out = malloc(cap);
    if (!out)
        abort();
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        while (k < 3 && !(n - i >= strlen(marks[k]) && memcmp(v + i, marks[k], strlen(marks[k])) == 0))
            k++;
        if (k < 3) {
            q->used_token |= k == 0;
            len += (size_t)snprintf(out + len, cap - len, "%s", subst[k]);
            i += strlen(marks[k]);
        } else
            out[len++] = v[i++];
    }
    out[len] = '\0';
    return out;
}

static void fuzz_req_query(fuzz_req *q, const char *p, size_t n)
{
    while (n > 0 && q->na < FUZZ_REQ_MAX_PAIRS) {
        const char *amp = memchr(p, '&', n);
        size_t part = amp ? (size_t)(amp - p) : n;
        const char *eq = memchr(p, '=', part);
        if (part > 0) {
            size_t klen = eq ? (size_t)(eq - p) : part;
            q->aname[q->na] = fuzz_req_unescape(p, klen, true);
            q->aval[q->na] = eq ? fuzz_req_unescape(eq + 1, part - klen - 1, true) : NULL;
            q->na++;
        }
        p += part + (amp != NULL);
        n -= part + (amp != NULL);
    }
}

static void fuzz_req_free(fuzz_req *q)
{
    for (size_t i = 0; i < q->nh; i++)
        free(q->hname[i]), free(q->hval[i]);
    for (size_t i = 0; i < q->na; i++)
        free(q->aname[i]), free(q->aval[i]);
}

/* One line of data[*at..size) without its "\n" (and "\r"); NULL at the end. */
static const char *fuzz_req_line(const uint8_t *data, size_t size, size_t *at, size_t *len)
{
    if (*at >= size)
        return NULL;
    const char *start = (const char *)data + *at;
    const char *nl = memchr(start, '\n', size - *at);
    size_t n = nl ? (size_t)(nl - start) : size - *at;
    *at += n + (nl != NULL);
    if (n > 0 && start[n - 1] == '\r')
        n--;
    *len = n;
    return start;
}

/* A gzip body inflated (malloc'd, *n bytes), or NULL when it is not one
 * gzip member holding at most max bytes. */
static char *fuzz_req_gunzip(const char *body, size_t len, size_t max, size_t *n)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    char *out = malloc(max + 1);
    if (!out || inflateInit2(&z, 15 + 16) != Z_OK) {
        free(out);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)body;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)max;
    int rc = inflate(&z, Z_FINISH);
    *n = z.total_out;
    bool whole = rc == Z_STREAM_END && z.avail_in == 0;
    inflateEnd(&z);
    if (!whole) {
        free(out);
        return NULL;
    }
    return out;
}

/* The answer's invariants (see the header comment). */
static void fuzz_req_check(const srv_response *resp, const char *method, const char *path, const fuzz_req *q,
                           bool may_echo_secret)
{
    if (resp->status < 100 || resp->status > 599) {
        fprintf(stderr, "fuzz_request: status %u\n", resp->status);
        abort();
    }
    if (resp->status == 304 &&
        (resp->body || resp->len || resp->encoding || !resp->etag[0] || strcmp(method, "POST") == 0)) {
        fprintf(stderr, "fuzz_request: %s %s: a 304 with a body, an encoding or without an ETag\n", method, path);
        abort();
    }
    if (resp->shared && resp->body && (resp->body != resp->shared->data || resp->len != resp->shared->len)) {
        fprintf(stderr, "fuzz_request: %s %s: the body is not the shared body\n", method, path);
        abort();
    }
    if (resp->encoding) {
        /* only gzip, and what it holds is checked as the answer */
        size_t n = 0;
        char *plain = strcmp(resp->encoding, "gzip") == 0 && resp->body
                          ? fuzz_req_gunzip(resp->body, resp->len, (size_t)64 << 20, &n)
                          : NULL;
        if (!plain) {
            fprintf(stderr, "fuzz_request: %s %s: a %s body that does not inflate\n", method, path, resp->encoding);
            abort();
        }
        srv_response inner = *resp;
        inner.body = plain;
        inner.len = n;
        inner.shared = NULL;
        inner.encoding = NULL;
        fuzz_req_check(&inner, method, path, q, may_echo_secret);
        free(plain);
        return;
    }
    if (!may_echo_secret && resp->body && memmem(resp->body, resp->len, FUZZ_REQ_SECRET, strlen(FUZZ_REQ_SECRET))) {
        fprintf(stderr, "fuzz_request: %s %s served the file outside the web directory\n", method, path);
        abort();
    }
    if (resp->status >= 200 && resp->status < 300 && strcmp(method, "POST") == 0 && !q->used_token) {
        fprintf(stderr, "fuzz_request: POST %s answered %u without the valid token\n", path, resp->status);
        abort();
    }
    bool json = !resp->content_type || strcmp(resp->content_type, "application/json") == 0;
    if (!json || !resp->body)
        return;
    json_error_t je;
    json_t *doc = json_loadb(resp->body, resp->len, 0, &je);
    if (!doc) {
        fprintf(stderr, "fuzz_request: %s %s: answer %u is not JSON: %s\n", method, path, resp->status, je.text);
        abort();
    }
    if (resp->status >= 400) {
        json_t *st = json_object_get(doc, "status");
        if (!json_is_string(json_object_get(doc, "error")) || !json_is_integer(st) ||
            json_integer_value(st) != (json_int_t)resp->status) {
            fprintf(stderr, "fuzz_request: %s %s: error answer %u without error/status\n", method, path,
                    resp->status);
            abort();
        }
    }
    json_decref(doc);
}

int fuzz_request_run(const uint8_t *data, size_t size)
{
    fuzz_srv *s = &fuzz_server;
    if (!s->ready)
        fuzz_req_setup(s);
    if (s->uploads >= FUZZ_REQ_RESET) {
        fuzz_req_remove_store(s);
        fuzz_req_open_store(s);
    }
    size_t at = 0, n;
    const char *line = fuzz_req_line(data, size, &at, &n);
    if (!line)
        return FUZZ_REFUSED;
    /* the request line: METHOD SP TARGET */
    const char *sp = memchr(line, ' ', n);
    char method[16];
    size_t mlen = sp ? (size_t)(sp - line) : n;
    snprintf(method, sizeof method, "%.*s", (int)(mlen < sizeof method ? mlen : sizeof method - 1), line);
    const char *target = sp ? sp + 1 : "/";
    size_t tlen = sp ? n - mlen - 1 : 1;
    if (memchr(method, '\0', mlen < sizeof method ? mlen : sizeof method - 1) || !method[0] ||
        memchr(target, '\0', tlen) || tlen == 0 || tlen > 4096)
        return FUZZ_REFUSED; /* libmicrohttpd refuses these before any handler */
    const char *qm = memchr(target, '?', tlen);
    size_t plen = qm ? (size_t)(qm - target) : tlen;
    char *raw = strndup(target, plen);
    char *path = fuzz_req_unescape(target, plen, false);
    fuzz_req q = {0};
    if (qm)
        fuzz_req_query(&q, qm + 1, tlen - plen - 1);
    bool private_reads = false;
    while ((line = fuzz_req_line(data, size, &at, &n)) != NULL && n > 0) {
        const char *colon = memchr(line, ':', n);
        if (!colon || q.nh == FUZZ_REQ_MAX_PAIRS)
            continue;
        size_t klen = (size_t)(colon - line), voff = klen + 1;
        while (voff < n && (line[voff] == ' ' || line[voff] == '\t'))
            voff++;
        q.hname[q.nh] = strndup(line, klen);
        q.hval[q.nh] = fuzz_req_tokens(s, &q, line + voff, n - voff);
        if (strcasecmp(q.hname[q.nh], "X-Fuzz-Private") == 0 && strcmp(q.hval[q.nh], "1") == 0)
            private_reads = true;
        q.nh++;
    }
    s->ctx.cfg = private_reads ? &s->cfg_private : &s->cfg;
    srv_request req = {(struct MHD_Connection *)(void *)&q, method, path, raw, data + at, size - at};
    srv_response resp = {0};
    /* the dispatch of server.c's access handler */
    bool api = strncmp(path, "/api/", 5) == 0 || strcmp(path, "/healthz") == 0;
    if (api)
        api_handle(&s->ctx, &req, &resp);
    else
        static_handle(&s->ctx, &req, &resp);
    if (memmem(data, size, FUZZ_REQ_SECRET, strlen(FUZZ_REQ_SECRET)))
        s->secret_sent = true;
    fuzz_req_check(&resp, method, path, &q, api && s->secret_sent);
    if (resp.status == 201)
        s->uploads++;
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz: %s %s -> %u %.*s\n", method, path, resp.status,
                (int)(resp.len < 300 ? resp.len : 300), resp.body ? resp.body : "");
    int rc = resp.status < 400 ? FUZZ_ACCEPTED : FUZZ_REFUSED;
    srv_response_free(&resp);
    fuzz_req_free(&q);
    free(raw);
    free(path);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_request_run(data, size);
    return 0;
}
#endif
