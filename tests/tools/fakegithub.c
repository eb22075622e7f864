/*
 * fakegithub.c - a recording stand-in for the GitHub REST API, for
 * tests/e2e/test_bot.sh.  Loopback only, one connection at a time, bounded
 * in size and time; never part of flashsize itself.
 *
 *   fakegithub --port-file F --log F --token T [--filler N] [--page-size K]
 *              [--fail-first N] [--fail-status S] [--always S] [--evil-link]
 *              [--fork] [--artifact NAME=ZIPFILE] [--idle SECONDS]
 *
 * It listens on 127.0.0.1 on a port the kernel picks (written to the port
 * file), keeps the comments of every PR in memory (N filler comments to
 * start with, ids 1..N), serves them K per page with a Link header, creates
 * (POST) and edits (PATCH) comments, accepts commit statuses, and appends
 * one JSON line per request to the log: method, path, query, the
 * Authorization scheme and whether the token matched (never the token),
 * the other headers, the body and the status it answered.
 *   --fail-first N --fail-status S   answer S (default 500) to the first N requests
 *   --always S                       answer S to every request (401: bad token)
 *   --evil-link                      the Link header's next page is on another host
 *   --fork                           the token is read-only, as GitHub gives a pull_request
 *                                    run from a fork: reads answer, every write (POST,
 *                                    PATCH) gets 403 "Resource not accessible by integration"
 *   --artifact NAME=ZIPFILE          the Actions artifacts API knows one artifact: listed by
 *                                    GET .../actions/artifacts?name=NAME, its zip served by
 *                                    GET .../actions/artifacts/1/zip
 * It exits after --idle seconds without a request (default 30) or on
 * "POST /__quit".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_HEAD   (64 * 1024)
#define MAX_BODY   (1024 * 1024)
#define MAX_COMMENTS 1000

typedef struct comment {
    long id, pr;
    char *body;
} comment;

typedef struct server {
    int port;
    const char *token;
    FILE *log;
    long page_size, fail_first, fail_status, always;
    bool evil_link, fork;
    const char *artifact_name, *artifact_file;
    long requests;
    comment comments[MAX_COMMENTS];
    size_t ncomments;
    long next_id;
} server;

typedef struct request {
    char method[16];
    char path[2048];
    char query[2048];
    char *head;          /* the header lines */
    char *body;
    size_t body_len;
} request;

static const char *header(const request *r, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);
    for (const char *p = r->head; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);
        if (ll > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, len, "%.*s", (int)(ll - (size_t)(v - p)), v);
            return buf;
        }
        p = eol ? eol + 2 : p + ll;
    }
    return NULL;
}

/* "bearer-ok", "token-ok", "wrong" or "missing": never the token itself. */
static const char *auth_state(const server *s, const request *r)
{
    char v[2048];
    if (!header(r, "Authorization", v, sizeof v))
        return "missing";
    if (strncmp(v, "Bearer ", 7) == 0 && strcmp(v + 7, s->token) == 0)
        return "bearer-ok";
    if (strncmp(v, "token ", 6) == 0 && strcmp(v + 6, s->token) == 0)
        return "token-ok";
    return "wrong";
}

static void log_request(server *s, const request *r, int status)
{
    json_t *o = json_object();
    json_object_set_new(o, "method", json_string(r->method));
    json_object_set_new(o, "path", json_string(r->path));
    json_object_set_new(o, "query", json_string(r->query));
    json_object_set_new(o, "auth", json_string(auth_state(s, r)));
    json_t *h = json_object();
    for (const char *p = r->head; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);
        const char *colon = memchr(p, ':', ll);
        if (colon && !(colon - p == 13 && strncasecmp(p, "Authorization", 13) == 0)) {
            char name[128], val[1024];
            snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
            for (char *c = name; *c; c++)
                *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            snprintf(val, sizeof val, "%.*s", (int)(ll - (size_t)(v - p)), v);
            json_object_set_new(h, name, json_string(val));
        }
        p = eol ? eol + 2 : p + ll;
    }
    json_object_set_new(o, "headers", h);
    json_t *body = r->body_len ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
    if (!body && r->body_len)
        body = json_stringn(r->body, r->body_len);
    json_object_set_new(o, "body", body ? body : json_null());
    json_object_set_new(o, "status", json_integer(status));
    char *line = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (line) {
        fprintf(s->log, "%s\n", line);
        fflush(s->log);
        free(line);
    }
}

/* The answer is kept until the request is logged, then sent: a client that
 * has its answer finds the request already in the log. */
static char *pending;
static size_t pending_len;

static void reply(int fd, int status, const char *extra, const char *body)
{
    (void)fd;
    const char *reason = status == 200 ? "OK" : status == 201 ? "Created" : status == 401 ? "Unauthorized"
                       : status == 403 ? "Forbidden"
                       : status == 404 ? "Not Found" : status == 429 ? "Too Many Requests"
                       : status >= 500 ? "Server Error" : "Other";
    char head[16384];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n%s\r\n",
                     status, reason, strlen(body), extra ? extra : "");
    free(pending);
    pending_len = (size_t)n + strlen(body);
    if ((pending = malloc(pending_len + 1)) != NULL) {
        memcpy(pending, head, (size_t)n);
        memcpy(pending + n, body, strlen(body) + 1);
    }
}

/* A binary answer (the artifact's zip), kept like reply's. */
static void reply_file(int status, const char *type, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t len = 0;
    if (f) {
        data = malloc(MAX_BODY);
        len = data ? fread(data, 1, MAX_BODY, f) : 0;
        fclose(f);
    }
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, type, len);
    free(pending);
    pending_len = (size_t)n + len;
    if ((pending = malloc(pending_len + 1)) != NULL) {
        memcpy(pending, head, (size_t)n);
        if (len)
            memcpy(pending + n, data, len);
    }
    free(data);
}

static void send_reply(int fd)
{
    if (pending && write(fd, pending, pending_len) < 0)
        pending_len = 0;
    free(pending);
    pending = NULL;
}

static int read_request(int fd, request *r)
{
    static char buf[MAX_HEAD + MAX_BODY + 1];
    size_t len = 0;
    char *end = NULL;
    while (!end) {
        if (len >= MAX_HEAD)
            return -1;
        ssize_t k = read(fd, buf + len, MAX_HEAD - len);
        if (k <= 0)
            return -1;
        len += (size_t)k;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    *end = '\0';
    char *eol = strstr(buf, "\r\n");
    char target[2048];
    if (sscanf(buf, "%15s %2047s", r->method, target) != 2)
        return -1;
    char *q = strchr(target, '?');
    if (q)
        *q++ = '\0';
    snprintf(r->path, sizeof r->path, "%s", target);
    snprintf(r->query, sizeof r->query, "%s", q ? q : "");
    r->head = eol ? eol + 2 : end;
    char cl[32];
    size_t want = header(r, "Content-Length", cl, sizeof cl) ? strtoul(cl, NULL, 10) : 0;
    if (want > MAX_BODY)
        return -1;
    char ex[64];
    if (header(r, "Expect", ex, sizeof ex) && strcasecmp(ex, "100-continue") == 0 &&
        write(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25) < 0)
        return -1;
    char *body = end + 4;
    size_t have = len - (size_t)(body - buf);
    while (have < want) {
        ssize_t k = read(fd, body + have, want - have);
        if (k <= 0)
            return -1;
        have += (size_t)k;
    }
    r->body = body;
    r->body_len = want;
    return 0;
}

static long query_long(const char *q, const char *key, long def)
{
    size_t n = strlen(key);
    for (const char *p = q; p && *p;) {
        if (strncmp(p, key, n) == 0 && p[n] == '=')
            return strtol(p + n + 1, NULL, 10);
        p = strchr(p, '&');
        p = p ? p + 1 : NULL;
    }
    return def;
}

static void list_comments(server *s, int fd, const char *path, const char *query, long pr, int *status)
{
    long page = query_long(query, "page", 1), per = query_long(query, "per_page", 30);
    if (per > s->page_size)
        per = s->page_size;
    if (page < 1)
        page = 1;
    json_t *arr = json_array();
    long idx = 0, total = 0;
    for (size_t i = 0; i < s->ncomments; i++) {
        if (s->comments[i].pr != 0 && s->comments[i].pr != pr)
            continue;
        total++;
        if (idx++ / per + 1 != page)
            continue;
        json_t *c = json_object();
        json_object_set_new(c, "id", json_integer(s->comments[i].id));
        json_object_set_new(c, "body", json_string(s->comments[i].body));
        json_object_set_new(c, "user", json_pack("{s:s}", "login", "someone"));
        json_array_append_new(arr, c);
    }
    char link[8192] = "", host[64];
    long pages = (total + per - 1) / per;
    snprintf(host, sizeof host, "%s:%d", s->evil_link ? "198.51.100.7" : "127.0.0.1", s->evil_link ? 9 : s->port);
    if (page < pages)
        snprintf(link, sizeof link,
                 "Link: <http://%s%s?per_page=%ld&page=%ld>; rel=\"next\", <http://%s%s?page=%ld>; rel=\"last\"\r\n",
                 host, path, per, page + 1, host, path, pages);
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    *status = 200;
    reply(fd, 200, link, text ? text : "[]");
    free(text);
}

static const char *req_body_string(const request *r, json_t **doc)
{
    *doc = json_loadb(r->body ? r->body : "", r->body_len, 0, NULL);
    return json_string_value(json_object_get(*doc, "body"));
}

static void route(server *s, int fd, const request *r, int *status)
{
    char owner[128], repo[128], rest[512];
    long pr = 0, id = 0;
    json_t *doc = NULL;
    if (sscanf(r->path, "/repos/%127[^/]/%127[^/]/%511s", owner, repo, rest) != 3) {
        *status = 404;
        reply(fd, 404, NULL, "{\"message\":\"Not Found\"}");
        return;
    }
    char tail[64] = "";
    if (strcmp(rest, "actions/artifacts") == 0 && strcmp(r->method, "GET") == 0) {
        /* ?name=NAME: the one artifact when the name matches */
        char want[300] = "";
        const char *q = strstr(r->query, "name=");
        if (q)
            snprintf(want, sizeof want, "%.*s", (int)strcspn(q + 5, "&"), q + 5);
        json_t *list = json_array();
        if (s->artifact_name && strcmp(want, s->artifact_name) == 0) {
            char url[512];
            snprintf(url, sizeof url, "http://127.0.0.1:%d/repos/%s/%s/actions/artifacts/1/zip", s->port, owner, repo);
            json_array_append_new(list, json_pack("{s:i,s:s,s:b,s:s}", "id", 1, "name", s->artifact_name, "expired", 0,
                                                  "archive_download_url", url));
        }
        json_t *o = json_pack("{s:i,s:o}", "total_count", (int)json_array_size(list), "artifacts", list);
        char *text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        *status = 200;
        reply(fd, 200, NULL, text ? text : "{}");
        free(text);
        return;
    }
    if (strcmp(rest, "actions/artifacts/1/zip") == 0 && strcmp(r->method, "GET") == 0 && s->artifact_file) {
        *status = 200;
        reply_file(200, "application/zip", s->artifact_file);
        return;
    }
    if (sscanf(rest, "issues/%ld/%63s", &pr, tail) == 2 && strcmp(tail, "comments") == 0) {
        if (strcmp(r->method, "GET") == 0) {
            list_comments(s, fd, r->path, r->query, pr, status);
            return;
        }
        const char *body = req_body_string(r, &doc);
        if (strcmp(r->method, "POST") == 0 && body && s->ncomments < MAX_COMMENTS) {
            comment *c = &s->comments[s->ncomments++];
            c->id = s->next_id++;
            c->pr = pr;
            c->body = strdup(body);
            char out[128];
            snprintf(out, sizeof out, "{\"id\":%ld,\"html_url\":\"http://127.0.0.1/c/%ld\"}", c->id, c->id);
            *status = 201;
            reply(fd, 201, NULL, out);
            json_decref(doc);
            return;
        }
    } else if (sscanf(rest, "issues/comments/%ld", &id) == 1 && strcmp(r->method, "PATCH") == 0) {
        const char *body = req_body_string(r, &doc);
        for (size_t i = 0; body && i < s->ncomments; i++) {
            if (s->comments[i].id != id)
                continue;
            free(s->comments[i].body);
            s->comments[i].body = strdup(body);
            char out[128];
            snprintf(out, sizeof out, "{\"id\":%ld}", id);
            *status = 200;
            reply(fd, 200, NULL, out);
            json_decref(doc);
            return;
        }
    } else if (strncmp(rest, "statuses/", 9) == 0 && strcmp(r->method, "POST") == 0) {
        *status = 201;
        reply(fd, 201, NULL, "{\"id\":1,\"context\":\"flashsize\"}");
        return;
    }
    json_decref(doc);
    *status = 404;
    reply(fd, 404, NULL, "{\"message\":\"Not Found\"}");
}

static bool serve_one(server *s, int fd)
{
    request r;
    memset(&r, 0, sizeof r);
    if (read_request(fd, &r) < 0)
        return true;
    s->requests++;
    int status = 0;
    if (strcmp(r.path, "/__quit") == 0) {
        reply(fd, 200, NULL, "{}");
        send_reply(fd);
        return false;
    }
    if (s->always) {
        status = (int)s->always;
        reply(fd, status, NULL, status == 401 ? "{\"message\":\"Bad credentials\"}" : "{\"message\":\"Forbidden\"}");
    } else if (s->requests <= s->fail_first) {
        status = (int)s->fail_status;
        reply(fd, status, status == 429 ? "Retry-After: 0\r\n" : NULL, "{\"message\":\"Server Error\"}");
    } else if (strcmp(auth_state(s, &r), "bearer-ok") && strcmp(auth_state(s, &r), "token-ok")) {
        status = 401;
        reply(fd, 401, NULL, "{\"message\":\"Bad credentials\"}");
    } else if (s->fork && strcmp(r.method, "GET") != 0) {
        status = 403;
        reply(fd, 403, NULL, "{\"message\":\"Resource not accessible by integration\"}");
    } else {
        route(s, fd, &r, &status);
    }
    log_request(s, &r, status);
    send_reply(fd);
    return true;
}

int main(int argc, char **argv)
{
    server *s = calloc(1, sizeof *s);
    const char *port_file = NULL, *log_path = NULL;
    long filler = 0, idle = 30;
    if (!s)
        return 1;
    s->page_size = 100;
    s->fail_status = 500;
    s->next_id = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--evil-link") == 0) { s->evil_link = true; continue; }
        if (strcmp(a, "--fork") == 0) { s->fork = true; continue; }
        if (!v) { fprintf(stderr, "fakegithub: %s needs a value\n", a); return 2; }
        i++;
        if (strcmp(a, "--port-file") == 0) port_file = v;
        else if (strcmp(a, "--log") == 0) log_path = v;
        else if (strcmp(a, "--token") == 0) s->token = v;
        else if (strcmp(a, "--filler") == 0) filler = atol(v);
        else if (strcmp(a, "--page-size") == 0) s->page_size = atol(v);
        else if (strcmp(a, "--fail-first") == 0) s->fail_first = atol(v);
        else if (strcmp(a, "--fail-status") == 0) s->fail_status = atol(v);
        else if (strcmp(a, "--always") == 0) s->always = atol(v);
        else if (strcmp(a, "--idle") == 0) idle = atol(v);
        else if (strcmp(a, "--artifact") == 0 && strchr(v, '=')) {
            s->artifact_file = strchr(v, '=') + 1;
            s->artifact_name = strndup(v, (size_t)(s->artifact_file - v - 1));
        }
        else { fprintf(stderr, "fakegithub: unknown option %s\n", a); return 2; }
    }
    if (!port_file || !log_path || !s->token || s->page_size < 1 || filler < 0 || filler > 100) {
        fprintf(stderr, "fakegithub: --port-file, --log and --token are required\n");
        return 2;
    }
    for (long i = 0; i < filler; i++) {
        char b[64];
        snprintf(b, sizeof b, "filler comment %ld", i + 1);
        s->comments[s->ncomments++] = (comment){s->next_id++, 0, strdup(b)};
    }
    /* filler comments belong to every PR asked about: pr 0 = any */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 8) < 0 ||
        getsockname(ls, (struct sockaddr *)&addr, &alen) < 0) {
        perror("fakegithub");
        return 1;
    }
    s->port = ntohs(addr.sin_port);
    if (!(s->log = fopen(log_path, "a"))) {
        perror(log_path);
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *pf = fopen(tmp, "w");
    if (!pf || fprintf(pf, "%d\n", s->port) < 0 || fclose(pf) != 0 || rename(tmp, port_file) != 0) {
        perror(port_file);
        return 1;
    }
    for (;;) {
        struct pollfd p = {ls, POLLIN, 0};
        int n = poll(&p, 1, (int)(idle * 1000));
        if (n == 0)
            break;
        if (n < 0 && errno == EINTR)
            continue;
        int fd = accept(ls, NULL, NULL);
        if (fd < 0)
            continue;
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        bool more = serve_one(s, fd);
        close(fd);
        if (!more)
            break;
    }
    fclose(s->log);
    close(ls);
    free((char *)s->artifact_name);
    for (size_t i = 0; i < s->ncomments; i++)
        free(s->comments[i].body);
    free(s);
    return 0;
}
