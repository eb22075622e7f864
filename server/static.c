/*
 * static.c - the dashboard's files, from one web directory.
 *
 * Three fences keep a request inside that directory:
 *   1. the decoded path may only use [A-Za-z0-9._-] and single slashes, no
 *      segment may start with a dot (so no "..", no hidden files), and the
 *      raw path may not carry an encoded slash or dot (%2f, %2e, %5c);
 *   2. the file's realpath must lie under the directory's realpath, so a
 *      symlink cannot lead out of it;
 *   3. only regular files are served.
 * Anything else is 404 (or 400 for a malformed path), without saying why.
 * Content types come from a fixed table of extensions; the security headers
 * are added by server.c to every answer.
 */
#include "http.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATIC_MAX_FILE (8u << 20)

bool static_path_ok(const char *path)
{
    if (path[0] != '/' || strlen(path) > 512)
        return false;
    bool seg_start = true;
    for (const char *p = path + 1; *p; p++) {
        char ch = *p;
        if (ch == '/') {
            if (seg_start)
                return false; /* "//" */
            seg_start = true;
            continue;
        }
        if (seg_start && ch == '.')
            return false; /* ".", "..", ".hidden" */
        seg_start = false;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                  ch == '_' || ch == '-';
        if (!ok)
            return false;
    }
    return true;
}

const char *static_mime(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},       {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},         {".json", "application/json"},
        {".svg", "image/svg+xml"},                   {".png", "image/png"},
        {".ico", "image/x-icon"},                    {".txt", "text/plain; charset=utf-8"},
        {".md", "text/plain; charset=utf-8"},        {".map", "application/json"},
        {".woff2", "font/woff2"},
    };
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof *types; i++)
            if (strcmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* Encoded separators and dots in the raw path are refused outright. */
static bool static_raw_ok(const char *raw)
{
    for (const char *p = raw; *p; p++) {
        if (*p == '\\')
            return false;
        if (*p == '%' && p[1] && p[2]) {
            char a = p[1], b = (char)(p[2] | 0x20);
            if ((a == '2' && (b == 'e' || b == 'f')) || (a == '5' && b == 'c') || (a == '0' && b == '0'))
                return false;
        }
    }
    return true;
}

static int static_read(const char *file, char **body, size_t *len)
{
    struct stat st;
    int fd = fs_open_input(file, &st, NULL);
    if (fd < 0)
        return -1;
    if ((uint64_t)st.st_size > STATIC_MAX_FILE) {
        close(fd);
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got != (size_t)st.st_size) {
        free(buf);
        return -1;
    }
    *body = buf;
    *len = got;
    return 0;
}

void static_handle(const srv_ctx *ctx, const srv_request *r, srv_response *resp)
{
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        srv_reply_error(resp, 405, "method %s not allowed here", r->method);
        return;
    }
    if (!static_raw_ok(r->raw_path)) {
        srv_reply_error(resp, 400, "malformed path");
        return;
    }
    if (!ctx->web_root[0] || !static_path_ok(r->path)) {
        srv_reply_error(resp, 404, "not found");
        return;
    }
    const char *rel = strcmp(r->path, "/") == 0 ? "/index.html" : r->path;
    char joined[PATH_MAX], real[PATH_MAX];
    size_t root_len = strlen(ctx->web_root);
    if ((size_t)snprintf(joined, sizeof joined, "%s%s", ctx->web_root, rel) >= sizeof joined ||
        !realpath(joined, real) || strncmp(real, ctx->web_root, root_len) != 0 || real[root_len] != '/' ||
        static_read(real, &resp->body, &resp->len) < 0) {
        srv_reply_error(resp, 404, "not found");
        return;
    }
    resp->status = 200;
    resp->content_type = static_mime(real);
    resp->cache = "no-cache";
}
