/*
 * reply.c - what every handler of the server answers with: the request's
 * headers and query arguments, JSON bodies, {"error", "status"} bodies and
 * the one table from an error's kind to its HTTP status.  Its own file so
 * that the handlers (api.c, static.c) and the daemon (server.c) all depend
 * on it and not on each other.
 */
#include "http.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *srv_header(const srv_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *srv_arg(const srv_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

void srv_response_free(srv_response *resp)
{
    if (resp->shared)
        srv_body_unref(resp->shared);
    else
        free(resp->body);
    resp->shared = NULL;
    resp->body = NULL;
    resp->len = 0;
}

void srv_reply_json(srv_response *resp, unsigned status, json_t *doc)
{
    srv_response_free(resp);
    resp->body = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!resp->body) {
        static const char oom[] = "{\"error\":\"out of memory\",\"status\":500}";
        resp->body = strdup(oom);
        status = 500;
    }
    resp->len = resp->body ? strlen(resp->body) : 0;
    resp->status = status;
    resp->content_type = "application/json";
}

static const unsigned srv_status_of_kind[FS_ERR_KINDS] = {
    [FS_ERR_INPUT] = 400, [FS_ERR_LIMIT] = 413,    [FS_ERR_NOMEM] = 500,    [FS_ERR_BUSY] = 503,
    [FS_ERR_READONLY] = 503, [FS_ERR_IO] = 503,    [FS_ERR_NOTFOUND] = 404, [FS_ERR_AUTH] = 401,
    [FS_ERR_INTERNAL] = 500, [FS_ERR_UNAVAILABLE] = 503,
};

unsigned srv_http_status(fs_error_kind kind)
{
    return kind < FS_ERR_KINDS ? srv_status_of_kind[kind] : 500;
}

void srv_reply_fs_error(srv_response *resp, const fs_error *err)
{
    srv_reply_error(resp, srv_http_status(err->kind), "%s", err->msg);
}

void srv_reply_error(srv_response *resp, unsigned status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *doc = json_object();
    /* Messages quote file names and fields: keep them valid UTF-8. */
    json_t *m = json_string(msg);
    if (!m)
        m = json_string("(message with invalid UTF-8)");
    json_object_set_new(doc, "error", m);
    json_object_set_new(doc, "status", json_integer(status));
    srv_reply_json(resp, status, doc);
}
