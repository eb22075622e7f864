/*
 * guard.c - the server's defences that libmicrohttpd 0.9.75 (Debian's)
 * does not have as options:
 *
 *   - A deadline for a request's head.  MHD_OPTION_CONNECTION_TIMEOUT closes
 *     a connection only when it is idle, so a client that sends one header
 *     line every few seconds (slowloris) keeps its slot for ever.  Every
 *     connection is tracked from accept (MHD_OPTION_NOTIFY_CONNECTION); a
 *     watcher thread shuts down the socket of any connection that has not
 *     sent a complete request head within cfg->header_timeout seconds of
 *     being accepted or of its previous answer (keep-alive), and
 *     libmicrohttpd then closes it as it would a client that hung up.
 *
 *   - JSON bodies for the errors libmicrohttpd answers itself (431 header
 *     too large, 414, 400 malformed request or chunked encoding, 413
 *     Content-Length too large, 505).  It builds those answers from fixed
 *     HTML strings with MHD_create_response_from_buffer and
 *     MHD_queue_response, both called through the library's PLT, so the
 *     executable's own definitions below are the ones it calls
 *     (flashsize-full exports them: Makefile, --export-dynamic-symbol).  A
 *     response made from one of those strings is remembered per thread;
 *     when it is queued, a JSON answer {"error": ..., "status": N} with the
 *     same status is queued in its place.  Every other call goes straight
 *     to the library's functions (dlsym RTLD_NEXT).  With another library
 *     build that calls them directly, the answers stay HTML: nothing
 *     breaks.
 */
#include "http.h"
#include "server.h"

#include <dlfcn.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* ---- the head deadline ---------------------------------------------------- */

struct srv_conn {
    int fd;
    struct timespec since;   /* accepted, or the previous answer completed */
    bool in_head;            /* waiting for (the rest of) a request head */
    bool cut;                /* shut down by the watcher */
    bool linked;             /* in the guard's list */
    struct srv_conn *prev, *next;
};

static double srv_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double srv_ts(const struct timespec *t)
{
    return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

void srv_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe)
{
    srv_guard *g = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct srv_conn *c = calloc(1, sizeof *c);
        *socket_context = c;
        if (!c || !ci)
            return; /* untracked: the idle timeout still applies */
        c->fd = ci->connect_fd;
        c->in_head = true;
        c->linked = true;
        clock_gettime(CLOCK_MONOTONIC, &c->since);
        pthread_mutex_lock(&g->lock);
        c->next = g->conns;
        if (g->conns)
            g->conns->prev = c;
        g->conns = c;
        g->open++;
        pthread_mutex_unlock(&g->lock);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct srv_conn *c = *socket_context;
        *socket_context = NULL;
        if (!c)
            return;
        pthread_mutex_lock(&g->lock);
        if (c->linked) {
            if (c->prev)
                c->prev->next = c->next;
            else if (g->conns == c)
                g->conns = c->next;
            if (c->next)
                c->next->prev = c->prev;
            g->open--;
        }
        pthread_mutex_unlock(&g->lock);
        free(c);
    }
}

static struct srv_conn *srv_guard_conn(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void srv_guard_head_done(srv_guard *g, struct MHD_Connection *conn)
{
    struct srv_conn *c = srv_guard_conn(conn);
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    c->in_head = false;
    pthread_mutex_unlock(&g->lock);
}

void srv_guard_answered(srv_guard *g, struct MHD_Connection *conn)
{
    struct srv_conn *c = srv_guard_conn(conn);
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    c->in_head = true;
    clock_gettime(CLOCK_MONOTONIC, &c->since);
    pthread_mutex_unlock(&g->lock);
}

static void *srv_guard_watch(void *arg)
{
    srv_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        double now = srv_now();
        for (struct srv_conn *c = g->conns; c; c = c->next)
            if (c->in_head && !c->cut && now - srv_ts(&c->since) >= (double)g->head_timeout) {
                /* Under the lock: the CLOSED notification, which comes
                 * before libmicrohttpd closes the descriptor, waits for it. */
                shutdown(c->fd, SHUT_RDWR);
                c->cut = true;
                g->cut++;
            }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000000L;
        if (until.tv_nsec >= 1000000000L)
            until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&g->wake, &g->lock, &until);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int srv_guard_start(srv_guard *g, unsigned head_timeout)
{
    memset(g, 0, sizeof *g);
    g->head_timeout = head_timeout;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, NULL);
    if (pthread_create(&g->thread, NULL, srv_guard_watch, g) != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        return -1;
    }
    g->running = true;
    return 0;
}

void srv_guard_stop(srv_guard *g)
{
    if (!g->running)
        return;
    pthread_mutex_lock(&g->lock);
    g->stop = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    g->running = false;
}

/* ---- JSON for libmicrohttpd's own error answers ---------------------------- */

#define MHD_HTML_PREFIX "<html><head><title>"

static _Thread_local const struct MHD_Response *srv_html_resp; /* made from an MHD error page */
static _Thread_local const char *srv_html_text;

typedef struct MHD_Response *(*srv_create_fn)(size_t, void *, enum MHD_ResponseMemoryMode);
typedef enum MHD_Result (*srv_queue_fn)(struct MHD_Connection *, unsigned int, struct MHD_Response *);

static srv_create_fn srv_real_create(void)
{
    static srv_create_fn fn;
    if (!fn)
        *(void **)&fn = dlsym(RTLD_NEXT, "MHD_create_response_from_buffer");
    return fn;
}

static srv_queue_fn srv_real_queue(void)
{
    static srv_queue_fn fn;
    if (!fn)
        *(void **)&fn = dlsym(RTLD_NEXT, "MHD_queue_response");
    return fn;
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode);
struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer, enum MHD_ResponseMemoryMode mode)
{
    srv_create_fn create = srv_real_create();
    if (!create)
        abort(); /* cannot happen: the symbol is libmicrohttpd's own */
    struct MHD_Response *r = create(size, buffer, mode);
    if (r && mode == MHD_RESPMEM_PERSISTENT && buffer && size > sizeof MHD_HTML_PREFIX &&
        memcmp(buffer, MHD_HTML_PREFIX, sizeof MHD_HTML_PREFIX - 1) == 0) {
        srv_html_resp = r;
        srv_html_text = buffer;
    }
    return r;
}

/* The page's <body> text, tags dropped and &quot; as '"': the message. */
static void srv_html_message(const char *html, char *out, size_t len)
{
    const char *p = strstr(html, "<body>");
    p = p ? p + 6 : html;
    size_t n = 0;
    while (*p && n + 1 < len && strncmp(p, "</body>", 7) != 0) {
        if (*p == '<') {
            const char *end = strchr(p, '>');
            p = end ? end + 1 : p + 1;
        } else if (strncmp(p, "&quot;", 6) == 0) {
            out[n++] = '"';
            p += 6;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                   struct MHD_Response *response);
enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                   struct MHD_Response *response)
{
    srv_queue_fn queue = srv_real_queue();
    if (!queue)
        abort();
    if (!response || response != srv_html_resp)
        return queue(connection, status_code, response);
    srv_html_resp = NULL;
    char msg[400];
    if (status_code == MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE || status_code == MHD_HTTP_URI_TOO_LONG)
        snprintf(msg, sizeof msg, "%s too large: the request line and headers must fit in %u KiB",
                 status_code == MHD_HTTP_URI_TOO_LONG ? "request line" : "request header fields",
                 SRV_CONN_MEMORY >> 10);
    else
        srv_html_message(srv_html_text, msg, sizeof msg);
    json_t *doc = json_pack("{s:s,s:i}", "error", msg, "status", (int)status_code);
    char *body = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    struct MHD_Response *json = body ? srv_real_create()(strlen(body), body, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!json) {
        free(body);
        return queue(connection, status_code, response); /* out of memory: the HTML page */
    }
    MHD_add_response_header(json, "Content-Type", "application/json");
    MHD_add_response_header(json, "Cache-Control", "no-store");
    MHD_add_response_header(json, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(json, "Connection", "close");
    enum MHD_Result rc = queue(connection, status_code, json);
    MHD_destroy_response(json);
    return rc;
}
