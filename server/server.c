/*
 * server.c - the libmicrohttpd side of `flashsize serve`: sockets, threads,
 * request bodies and their limits, security headers, the access log.
 *
 * Threading: MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL with
 * MHD_OPTION_THREAD_POOL_SIZE.  Each pool thread runs its own epoll loop and
 * calls the handlers itself; handlers block on SQLite and on ELF analysis,
 * so several threads keep a slow upload from holding up reads.  (Thread per
 * connection would let a connection flood create threads without bound.)
 *
 * A request's life: the URI log callback allocates its state (and keeps the
 * raw URI, before libmicrohttpd decodes it); the access handler is called
 * once with the headers (a Content-Length over the limit is answered 413 at
 * once), then with each piece of the body (appended up to the limit; past
 * it the rest is dropped and the answer is 413), then once more to answer.
 * The completion callback writes the access-log line and frees the state.
 */
#include "http.h"
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SRV_CSP                                                                                                      \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "            \
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/* Seconds a client is told to wait before sending a request answered 503
 * again (docs/server.md, "When the database goes away"). */
#define SRV_RETRY_AFTER "2"

typedef struct srv_state {
    struct timespec start;
    char *raw_uri;
    unsigned char *body;
    size_t len, cap, max;
    bool started, too_large;
    unsigned status;
    size_t sent;
    char method[16];
    char path[512];
} srv_state;

void srv_config_defaults(srv_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->port = 8080;
    c->threads = SRV_DEFAULT_THREADS;
    c->conn_limit = SRV_DEFAULT_CONNS;
    c->conn_timeout = SRV_DEFAULT_TIMEOUT;
    c->per_ip_limit = SRV_DEFAULT_PER_IP;
    c->head_timeout = SRV_DEFAULT_HEAD_TIMEOUT;
    c->max_json_bytes = SRV_MAX_JSON_BYTES;
    c->max_elf_bytes = SRV_MAX_ELF_BYTES;
}

int srv_parse_listen(const char *text, srv_config *c, fs_error *err)
{
    const char *colon = strrchr(text, ':');
    if (!colon)
        return fs_fail(err, "--listen: expected HOST:PORT, got '%s'", text);
    size_t hlen = (size_t)(colon - text);
    const char *host = text;
    if (hlen >= 2 && text[0] == '[' && text[hlen - 1] == ']')
        host++, hlen -= 2;
    if (hlen == 0 || hlen >= sizeof c->host)
        return fs_fail(err, "--listen: bad host in '%s'", text);
    char h[64];
    memcpy(h, host, hlen);
    h[hlen] = '\0';
    unsigned char buf[16];
    if (inet_pton(AF_INET, h, buf) != 1 && inet_pton(AF_INET6, h, buf) != 1)
        return fs_fail(err, "--listen: '%s' is not a numeric IPv4 or IPv6 address", h);
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
        return fs_fail(err, "--listen: bad port in '%s'", text);
    memcpy(c->host, h, hlen + 1);
    c->port = (uint16_t)port;
    return 0;
}

/* libmicrohttpd is done with a shared body. */
static void srv_shared_sent(void *cls)
{
    srv_body_unref(cls);
}

static enum MHD_Result srv_send(struct MHD_Connection *conn, srv_state *st, srv_response *resp)
{
    struct MHD_Response *r;
    if (resp->shared)
        r = MHD_create_response_from_buffer_with_free_callback_cls(resp->shared->len, resp->shared->data,
                                                                   srv_shared_sent, resp->shared);
    else
        r = MHD_create_response_from_buffer(resp->len, resp->body ? resp->body : (void *)"",
                                            resp->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        srv_response_free(resp);
        return MHD_NO;
    }
    resp->body = NULL;
    resp->shared = NULL;
    /* A 304 carries the validators and caching headers of the answer it
     * stands for, no description of a body (RFC 9110 15.4.5). */
    if (resp->status != 304)
        MHD_add_response_header(r, "Content-Type", resp->content_type ? resp->content_type : "application/json");
    if (resp->encoding && resp->status != 304)
        MHD_add_response_header(r, "Content-Encoding", resp->encoding);
    if (resp->vary_encoding)
        MHD_add_response_header(r, "Vary", "Accept-Encoding");
    if (resp->etag[0])
        MHD_add_response_header(r, "ETag", resp->etag);

    MHD_add_response_header(r, "Cache-Control", resp->cache ? resp->cache : "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy", SRV_CSP);
    if (resp->www_authenticate)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"flashsize\"");
    if (resp->location[0])
        MHD_add_response_header(r, "Location", resp->location);
    /* 503 is the database's state (locked, unreachable, a full disk, a
     * read-only file), never the request's: the client may send it again. */
    if (resp->status == 503)
        MHD_add_response_header(r, "Retry-After", SRV_RETRY_AFTER);
    st->status = resp->status;
    st->sent = resp->len;
    enum MHD_Result rc = MHD_queue_response(conn, resp->status, r);
    MHD_destroy_response(r);
    return rc;
}

/* ---- requests ------------------------------------------------------------------- */

static void *srv_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls, (void)conn;
    srv_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &st->start);
    size_t n = strcspn(uri, "?");
    st->raw_uri = strndup(uri, n);
    return st;
}

static size_t srv_body_max(const srv_ctx *ctx, const char *method, const char *url, const char *type)
{
    if (strcmp(method, "POST") != 0 || strcmp(url, "/api/v1/builds") != 0)
        return SRV_MAX_OTHER_BYTES;
    if (type && strncasecmp(type, "application/octet-stream", 24) == 0)
        return ctx->cfg->max_elf_bytes;
    return ctx->cfg->max_json_bytes;
}

static int srv_append(srv_state *st, const char *data, size_t n)
{
    if (st->too_large || n > st->max - st->len) {
        st->too_large = true;
        free(st->body);
        st->body = NULL;
        st->len = st->cap = 0;
        return 0;
    }
    if (st->len + n > st->cap) {
        size_t cap = st->cap ? st->cap : 16384;
        while (cap < st->len + n)
            cap *= 2;
        if (cap > st->max)
            cap = st->max;
        unsigned char *b = realloc(st->body, cap);
        if (!b)
            return -1;
        st->body = b;
        st->cap = cap;
    }
    memcpy(st->body + st->len, data, n);
    st->len += n;
    return 0;
}

static enum MHD_Result srv_reply_now(struct MHD_Connection *conn, srv_state *st, unsigned status, const char *msg)
{
    srv_response resp = {0};
    srv_reply_error(&resp, status, "%s", msg);
    return srv_send(conn, st, &resp);
}

static enum MHD_Result srv_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    srv_ctx *ctx = cls;
    srv_state *st = *con_cls;
    if (!st)
        return MHD_NO; /* out of memory in the URI callback */
    if (!st->started) {
        st->started = true;
        srv_guard_head_done(&ctx->guard, conn);
        snprintf(st->method, sizeof st->method, "%s", method);
        snprintf(st->path, sizeof st->path, "%s", url);
        const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
        st->max = srv_body_max(ctx, method, url, type);
        const char *clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (clen && strtoull(clen, NULL, 10) > st->max) {
            char msg[160];
            snprintf(msg, sizeof msg, "request body too large (limit %zu bytes)", st->max);
            return srv_reply_now(conn, st, 413, msg);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (srv_append(st, upload_data, *upload_size) < 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (st->too_large) {
        char msg[160];
        snprintf(msg, sizeof msg, "request body too large (limit %zu bytes)", st->max);
        return srv_reply_now(conn, st, 413, msg);
    }
    srv_request req = {conn, method, url, st->raw_uri ? st->raw_uri : url, st->body, st->len};
    srv_response resp = {0};
    if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/healthz") == 0)
        api_handle(ctx, &req, &resp);
    else
        static_handle(ctx, &req, &resp);
    return srv_send(conn, st, &resp);
}

/* ---- the access log ---------------------------------------------------------- */

static void srv_remote(struct MHD_Connection *conn, char *buf, size_t len)
{
    snprintf(buf, len, "-");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    socklen_t sl = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    char host[64], port[16];
    if (getnameinfo(ci->client_addr, sl, host, sizeof host, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(buf, len, "%s:%s", host, port);
}

static void srv_log_line(srv_ctx *ctx, struct MHD_Connection *conn, const srv_state *st,
                         enum MHD_RequestTerminationCode toe)
{
    struct timespec now, wall;
    clock_gettime(CLOCK_MONOTONIC, &now);
    clock_gettime(CLOCK_REALTIME, &wall);
    double ms = (double)(now.tv_sec - st->start.tv_sec) * 1e3 + (double)(now.tv_nsec - st->start.tv_nsec) / 1e6;
    struct tm tm;
    gmtime_r(&wall.tv_sec, &tm);
    char when[80], remote[96];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, wall.tv_nsec / 1000000);
    srv_remote(conn, remote, sizeof remote);
    json_t *o = json_object();
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "method", json_string(st->method[0] ? st->method : "-"));
    /* json_string refuses invalid UTF-8: such a path is logged escaped-less as "(binary)". */
    json_t *p = json_string(st->path[0] ? st->path : (st->raw_uri ? st->raw_uri : "-"));
    json_object_set_new(o, "path", p ? p : json_string("(not UTF-8)"));
    json_object_set_new(o, "status", json_integer(st->status));
    json_object_set_new(o, "bytes", json_integer((json_int_t)st->sent));
    json_object_set_new(o, "duration_ms", json_real(ms));
    json_object_set_new(o, "remote", json_string(remote));
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        json_object_set_new(o, "terminated", json_string(toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout"
                                                         : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT  ? "client-abort"
                                                                                                       : "error"));
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
    json_decref(o);
    if (line) {
        flockfile(ctx->log);
        fputs(line, ctx->log);
        fputc('\n', ctx->log);
        fflush(ctx->log);
        funlockfile(ctx->log);
        free(line);
    }
}

static void srv_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    srv_ctx *ctx = cls;
    srv_guard_answered(&ctx->guard, conn);
    srv_state *st = *con_cls;
    if (!st)
        return;
    if (st->started)
        srv_log_line(cls, conn, st, toe);
    free(st->body);
    free(st->raw_uri);
    free(st);
    *con_cls = NULL;
}

static void srv_mhd_log(void *cls, const char *fmt, va_list ap)
{
    srv_ctx *ctx = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    json_t *o = json_pack("{s:s,s:s}", "event", "libmicrohttpd", "message", msg);
    char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (line) {
        flockfile(ctx->log);
        fprintf(ctx->log, "%s\n", line);
        fflush(ctx->log);
        funlockfile(ctx->log);
        free(line);
    }
}

/* ---- start and stop --------------------------------------------------------------- */

static int srv_web_root(srv_ctx *ctx, fs_error *err)
{
    if (!ctx->cfg->web_dir)
        return 0;
    if (!realpath(ctx->cfg->web_dir, ctx->web_root))
        return fs_fail(err, "%s: cannot open the web directory: %s", ctx->cfg->web_dir, strerror(errno));
    return 0;
}

static struct MHD_Daemon *srv_start(srv_ctx *ctx, struct sockaddr_storage *sa, fs_error *err)
{
    const srv_config *c = ctx->cfg;
    memset(sa, 0, sizeof *sa);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
    if (inet_pton(AF_INET, c->host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(c->port);
    } else if (inet_pton(AF_INET6, c->host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(c->port);
        flags |= MHD_USE_IPv6;
    } else {
        fs_fail(err, "--listen: '%s' is not a numeric address", c->host);
        return NULL;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, c->port, NULL, NULL, srv_access, ctx, MHD_OPTION_EXTERNAL_LOGGER, srv_mhd_log, ctx, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)c->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)c->conn_limit, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)c->conn_timeout,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)c->per_ip_limit, MHD_OPTION_URI_LOG_CALLBACK, srv_uri_log, ctx,
        MHD_OPTION_NOTIFY_COMPLETED, srv_completed, ctx,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SRV_CONN_MEMORY, MHD_OPTION_NOTIFY_CONNECTION, srv_guard_notify,
        &ctx->guard, MHD_OPTION_END);
    if (!d)
        fs_fail(err, "cannot listen on %s port %u: %s", c->host, (unsigned)c->port,
                errno ? strerror(errno) : "libmicrohttpd refused to start");
    return d;
}

int srv_run(const srv_config *c, fs_error *err)
{
    srv_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return fs_fail(err, "out of memory");
    ctx->cfg = c;
    ctx->log = stderr;
    int rc = -1;
    struct MHD_Daemon *d = NULL;
    bool pool = false;
    if (c->log_path && !(ctx->log = fopen(c->log_path, "a"))) {
        fs_fail(err, "%s: cannot open the access log: %s", c->log_path, strerror(errno));
        ctx->log = NULL;
        goto done;
    }
    if (srv_web_root(ctx, err) < 0)
        goto done;
    /* One connection pair per handler thread, so no handler waits for one. */
    if (sdb_pool_open(&ctx->pool, c->db_path, c->threads, err) < 0)
        goto done;
    pool = true;
    sbc_init(&ctx->bases);
    rsc_init(&ctx->history, RSC_TTL_MS);
    signal(SIGPIPE, SIG_IGN);
    if (srv_guard_start(&ctx->guard, c->head_timeout) < 0) {
        fs_fail(err, "cannot start the connection watcher thread");
        goto done;
    }
    struct sockaddr_storage sa;
    if (!(d = srv_start(ctx, &sa, err)))
        goto done;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = di ? di->port : c->port;
    bool v6 = strchr(c->host, ':') != NULL;
    fprintf(stderr, "flashsize serve: listening on http://%s%s%s:%u/ (database %s%s)\n", v6 ? "[" : "", c->host,
            v6 ? "]" : "", port, fs_store_name(ctx->pool.conns[0].store), ctx->pool.readonly ? ", read-only" : "");
    fflush(stderr);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "flashsize serve: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
    rc = 0;
done:
    if (d)
        MHD_stop_daemon(d);
    srv_guard_stop(&ctx->guard); /* after the daemon: its last CLOSED notifications use the list */
    if (pool) {
        sdb_pool_close(&ctx->pool);
        sbc_free(&ctx->bases);
        rsc_free(&ctx->history);
    }
    if (ctx->log && ctx->log != stderr)
        fclose(ctx->log);
    free(ctx);
    return rc;
}
