/*
 * api.c - the JSON REST API under /api/v1, and /healthz (docs/server.md).
 *
 *   POST /api/v1/builds                         upload (token), -> 201, diff against its base, budgets
 *   GET  /api/v1/projects                       projects with build and board counts
 *   PUT  /api/v1/projects/P                     its default branch (token of P)
 *   GET  /api/v1/projects/P/boards              boards of P with their state (newest default-branch build)
 *   GET  /api/v1/projects/P/boards/B/history    a board's builds (branch, since, until, limit), with
 *                                               prev/delta per branch and each PR build's base
 *   GET  /api/v1/projects/P/boards/B/symbol-history?name=S, .../frozen-history?module=M
 *                                               a size along the default branch (or branch=)
 *   GET  /api/v1/builds/ID                      one build: regions, sections, findings, top symbols
 *   GET  /api/v1/builds/ID/symbols?q=TEXT       symbol search within a build
 *   GET  /api/v1/diff?a=ID&b=ID                 flashsize diff of two stored builds
 *   GET  /healthz                               the database answers
 *
 * Ideas:
 *   - The API only reads the store and calls the library: uploads go
 *     through the validator and the store's recorder like `flashsize record`
 *     (with the symbols as a table, docparse.h), diffs through the engine of
 *     `flashsize diff`, budgets through that of `flashsize check`.
 *   - Input is checked before anything is written: size (server.c), JSON
 *     nesting (the streaming reader, docparse.c, stops at the limit), every
 *     metadata field (type, length, no control characters), the token and
 *     its project.  Every failure is a 4xx with {"error", "status"}.
 *   - A database that cannot be written (read-only file, full disk, locked
 *     past the busy timeout) is 503: the request was fine, try again later.
 *   - SQL is prepared with bound parameters only.
 */
#include "analysis.h"
#include "refgraph.h"
#include "analyze.h"
#include "auth.h"
#include "board.h"
#include "budget.h"
#include "diff.h"
#include "docparse.h"
#include "http.h"
#include "output.h"
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define API_PREFIX      "/api/v1/"
#define API_MAX_SEGS    8
#define API_TOP_DEFAULT 50
#define API_DIFF_TOP    20
#define API_DRILL_DEFAULT 50  /* builds in a symbol or module history */
#define API_DRILL_MAX     200

typedef struct api_call {
    srv_ctx *ctx;
    const srv_request *req;
    srv_response *resp;
    sdb_conn *conn;
    const char *reader;        /* --private: the one project the token may read (in reader_buf) */
    char reader_buf[SRV_MAX_FIELD + 1];
} api_call;

/* ---- small helpers ------------------------------------------------------------- */

static json_t *api_str_or_null(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

/* A failure of the store on a request already checked: its kind gives the
 * status (busy, read-only, I/O: 503, the server's state), except that an
 * input error from the store is a fault of the stored data, not of the
 * request: 500. */
static void api_store_error(api_call *c, const fs_error *err)
{
    srv_reply_error(c->resp, err->kind == FS_ERR_INPUT ? 500 : srv_http_status(err->kind), "%s", err->msg);
}

/* A name usable as a file name in the rules directory. */
static bool api_file_name_ok(const char *s)
{
    if (!s[0] || s[0] == '.' || strlen(s) > 128)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

/* Parse a non-negative decimal integer argument; -1 if malformed. */
static int api_uint_arg(const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

/* Seconds since 1970, or a date YYYY-MM-DD (UTC midnight). */
static int api_time_arg(const char *text, int64_t *out)
{
    if (api_uint_arg(text, out) == 0)
        return 0;
    struct tm tm = {0};
    char *end = strptime(text, "%Y-%m-%d", &tm);
    if (!end || *end)
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

/* A metadata field: a string of 1..SRV_MAX_FIELD bytes without control
 * characters.  Returns NULL (and why in buf) when it is not one. */
static const char *api_field_check(const char *name, const char *v, bool required, char *why, size_t len)
{
    if (!v) {
        if (required)
            snprintf(why, len, "'%s' is required (a string)", name);
        return NULL;
    }
    size_t n = strlen(v);
    if (n == 0 || n > SRV_MAX_FIELD) {
        snprintf(why, len, "'%s' must be 1 to %d bytes long", name, SRV_MAX_FIELD);
        return NULL;
    }
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            snprintf(why, len, "'%s' contains a control character", name);
            return NULL;
        }
    return v;
}

/* ---- authentication ------------------------------------------------------------ */

/* 0 when the request carries a valid token (its project in project);
 * otherwise the response is filled (401 or 503) and -1 returned. */
static int api_authenticate(api_call *c, char *project, size_t len)
{
    int64_t id;
    fs_error err;
    auth_result a = auth_check(c->conn->store, srv_header(c->req, "Authorization"), project, len, &id, &err);
    switch (a) {
    case AUTH_OK: return 0;
    case AUTH_FAILED: srv_reply_error(c->resp, 503, "cannot read the token table: %s", err.msg); break;
    case AUTH_MISSING:
        srv_reply_error(c->resp, 401, "a bearer token is required (Authorization: Bearer fst_...)");
        break;
    case AUTH_REVOKED: srv_reply_error(c->resp, 401, "the token has been revoked"); break;
    default: srv_reply_error(c->resp, 401, "invalid token (%s)", auth_result_name(a)); break;
    }
    c->resp->www_authenticate = true;
    return -1;
}

/* ---- budgets ------------------------------------------------------------------ */

static const char *api_rule_status(fs_rule_status s)
{
    static const char *const names[] = {"pass", "warn", "fail", "skipped"};
    return (unsigned)s < 4 ? names[s] : "fail";
}

/* The budget file of a board, or NULL when the rules directory has none. */
static char *api_budget_path(const srv_ctx *ctx, const char *board)
{
    if (!ctx->cfg->rules_dir || !api_file_name_ok(board))
        return NULL;
    size_t n = strlen(ctx->cfg->rules_dir) + strlen(board) + 32;
    char *path = malloc(n);
    struct stat st;
    if (path) {
        snprintf(path, n, "%s/budgets/%s.ini", ctx->cfg->rules_dir, board);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            free(path), path = NULL;
    }
    return path;
}

/* {"REGION": max, "(main)": max, "(frozen)": max} of a loaded budget
 * (b NULL: empty). */
static json_t *api_budget_limits(const fs_budget *b)
{
    json_t *limits = json_object();
    for (size_t i = 0; b && i < b->nregions; i++)
        if (b->regions[i].has_max)
            json_object_set_new(limits, b->regions[i].region ? b->regions[i].region : "(main)",
                                json_integer((json_int_t)b->regions[i].max));
    if (b && b->has_frozen_max)
        json_object_set_new(limits, "(frozen)", json_integer((json_int_t)b->frozen_max));
    return limits;
}

/* {"file", "pass", "failed", "warned", "skipped", "rules": [...]}, or
 * {"file", "error"} when the rules do not apply; json null without rules. */
static json_t *api_budget_json(const srv_ctx *ctx, const char *board, const json_t *head, const fs_symtab *hs,
                               const json_t *base, const fs_symtab *bs)
{
    char *path = api_budget_path(ctx, board);
    if (!path)
        return json_null();
    fs_budget b = {0};
    fs_budget_result r = {0};
    fs_error err;
    json_t *o = json_object();
    json_object_set_new(o, "file", json_pack("s++", "budgets/", board, ".ini"));
    bool loaded = fs_budget_load(path, &b, &err) == 0;
    if (!loaded || fs_budget_check_tabs(&b, head, hs, base, bs, &r, &err) < 0) {
        json_object_set_new(o, "error", api_str_or_null(err.msg));
    } else {
        json_object_set_new(o, "pass", json_boolean(r.failed == 0));
        json_object_set_new(o, "failed", json_integer((json_int_t)r.failed));
        json_object_set_new(o, "warned", json_integer((json_int_t)r.warned));
        json_object_set_new(o, "skipped", json_integer((json_int_t)r.skipped));
        json_t *rules = json_array();
        for (size_t i = 0; i < r.nrules; i++)
            json_array_append_new(rules, json_pack("{s:o,s:s,s:o}", "rule", api_str_or_null(r.rules[i].rule), "status",
                                                   api_rule_status(r.rules[i].status), "message",
                                                   api_str_or_null(r.rules[i].message)));
        json_object_set_new(o, "rules", rules);
    }
    /* The limits themselves, for the dashboard's budget lines. */
    json_object_set_new(o, "limits", api_budget_limits(loaded ? &b : NULL));
    fs_budget_result_free(&r);
    fs_budget_free(&b);
    free(path);
    return o;
}

/* {"file", "limits"} of a board's budget file, read from the rules
 * directory without evaluating it on any build ({"file", "error",
 * "limits": {}} when it does not load; json null without rules). */
static json_t *api_budget_limits_json(const srv_ctx *ctx, const char *board)
{
    char *path = api_budget_path(ctx, board);
    if (!path)
        return json_null();
    fs_budget b = {0};
    fs_error err;
    json_t *o = json_object();
    json_object_set_new(o, "file", json_pack("s++", "budgets/", board, ".ini"));
    bool loaded = fs_budget_load(path, &b, &err) == 0;
    if (!loaded)
        json_object_set_new(o, "error", api_str_or_null(err.msg));
    json_object_set_new(o, "limits", api_budget_limits(loaded ? &b : NULL));
    fs_budget_free(&b);
    free(path);
    return o;
}

/* ---- diffs --------------------------------------------------------------------- */

/* Run one formatter into a string. */
static char *api_format(const fs_diff *d, int (*fmt)(FILE *, const fs_diff *, size_t, size_t))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int rc = fmt(f, d, 1, API_DIFF_TOP);
    if (fclose(f) != 0 || rc < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* {"diff": <flashsize-diff>, "markdown": "..."} members added to o. */
static int api_diff_into(json_t *o, const json_t *a, const fs_symtab *sa, const json_t *b, const fs_symtab *sb,
                         const char *label, fs_error *err)
{
    fs_diff d = {0};
    if (fs_diff_compute_tabs(a, sa, b, sb, label, &d, err) < 0)
        return -1;
    json_t *dj = fs_diff_json(&d, 1, API_DIFF_TOP);
    char *md = api_format(&d, fs_diff_write_markdown);
    int rc = dj && md ? 0 : fs_fail(err, "out of memory formatting the diff");
    if (rc == 0) {
        json_object_set_new(o, "diff", dj);
        json_object_set_new(o, "markdown", api_str_or_null(md));
    } else
        json_decref(dj);
    free(md);
    fs_diff_free(&d);
    return rc;
}

static json_t *api_info_json(const fs_build_info *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(b->id));
    json_object_set_new(o, "project", api_str_or_null(b->project));
    json_object_set_new(o, "board", api_str_or_null(b->board));
    json_object_set_new(o, "commit", api_str_or_null(b->commit));
    json_object_set_new(o, "branch", api_str_or_null(b->branch));
    json_object_set_new(o, "parent", api_str_or_null(b->parent));
    json_object_set_new(o, "pr", b->pr ? json_integer(b->pr) : json_null());
    json_object_set_new(o, "timestamp", json_integer(b->timestamp));
    json_object_set_new(o, "tool_version", api_str_or_null(b->tool_version));
    return o;
}

/* Does build id exist?  1 yes, 0 no, -1 database error (response filled). */
static int api_build_exists(api_call *c, int64_t id)
{
    bool exists;
    fs_error err;
    if (fs_store_build_exists(c->conn->store, id, &exists, &err) < 0) {
        api_store_error(c, &err);
        return -1;
    }
    return exists;
}

/* Load a stored build for an answer; fills a 404/5xx response on failure. */
/* May this request read project?  With --private a token reads its own
 * project only (403 otherwise, the response filled). */
static bool api_may_read(api_call *c, const char *project)
{
    if (!c->reader || (project && strcmp(project, c->reader) == 0))
        return true;
    srv_reply_error(c->resp, 403, "this token may only read project '%s'", c->reader);
    return false;
}

static int api_load(api_call *c, int64_t id, json_t **doc, fs_build_info *info)
{
    int e = api_build_exists(c, id);
    if (e <= 0) {
        if (e == 0)
            srv_reply_error(c->resp, 404, "no build %lld", (long long)id);
        return -1;
    }
    fs_error err;
    if (fs_store_load(c->conn->store, id, doc, info, &err) < 0) {
        api_store_error(c, &err);
        return -1;
    }
    if (!api_may_read(c, info->project)) {
        json_decref(*doc);
        *doc = NULL;
        fs_build_info_free(info);
        return -1;
    }
    return 0;
}

/* ---- POST /api/v1/builds --------------------------------------------------------- */

typedef struct api_upload {
    fs_build_meta meta;
    const char *base;          /* branch to compare against; NULL: the parent commit's
                                  build, else the project's default branch */
    json_t *body;              /* the parsed JSON body (owns the strings meta points at) */
    json_t *analysis;          /* borrowed from body, or owned when from an ELF */
    bool own_analysis;
    fs_symtab syms;            /* the analysis's symbols (not in its JSON when from the body) */
    bool syms_decoded;         /* the parser decoded them */
} api_upload;

/* Metadata from the JSON body or the query string (for an ELF upload). */
static int api_upload_meta(api_call *c, api_upload *u, bool from_json)
{
    const char *names[] = {"project", "board", "commit", "branch", "parent", "base"};
    const char *vals[6];
    char why[160];
    for (size_t i = 0; i < 6; i++) {
        const char *v = NULL;
        if (from_json) {
            json_t *j = json_object_get(u->body, names[i]);
            if (j && !json_is_null(j) && !json_is_string(j)) {
                srv_reply_error(c->resp, 400, "'%s' must be a string", names[i]);
                return -1;
            }
            v = json_string_value(j);
        } else {
            v = srv_arg(c->req, names[i]);
            json_t *probe = v ? json_string(v) : NULL; /* jansson checks UTF-8 */
            bool utf8 = !v || probe;
            json_decref(probe);
            if (!utf8) {
                srv_reply_error(c->resp, 400, "'%s' is not valid UTF-8", names[i]);
                return -1;
            }
        }
        vals[i] = api_field_check(names[i], v, i < 3, why, sizeof why);
        if (!vals[i] && (i < 3 || v)) {
            srv_reply_error(c->resp, 400, "%s", why);
            return -1;
        }
    }
    u->meta.project = vals[0];
    u->meta.board = vals[1];
    u->meta.commit = vals[2];
    u->meta.branch = vals[3];
    u->meta.parent = vals[4];
    u->base = vals[5];
    int64_t pr = 0, ts = 0;
    if (from_json) {
        json_t *p = json_object_get(u->body, "pr"), *t = json_object_get(u->body, "timestamp");
        if ((p && !json_is_null(p) && (!json_is_integer(p) || json_integer_value(p) < 0)) ||
            (t && !json_is_null(t) && (!json_is_integer(t) || json_integer_value(t) < 0))) {
            srv_reply_error(c->resp, 400, "'pr' and 'timestamp' must be whole numbers >= 0");
            return -1;
        }
        pr = p ? json_integer_value(p) : 0;
        ts = t ? json_integer_value(t) : 0;
    } else {
        const char *p = srv_arg(c->req, "pr"), *t = srv_arg(c->req, "timestamp");
        if ((p && api_uint_arg(p, &pr) < 0) || (t && api_uint_arg(t, &ts) < 0)) {
            srv_reply_error(c->resp, 400, "'pr' and 'timestamp' must be whole numbers >= 0");
            return -1;
        }
    }
    u->meta.pr = pr;
    u->meta.timestamp = ts;
    return 0;
}

static int api_upload_json(api_call *c, api_upload *u)
{
    const srv_request *r = c->req;
    fs_docparse_opts po = {"body", "analysis", "analysis", SRV_MAX_JSON_DEPTH};
    fs_error err;
    int rc = fs_docparse(r->body, r->body_len, &po, &u->body, &u->syms, &u->syms_decoded, &err);
    if (rc == FS_DOCPARSE_TOO_DEEP) {
        srv_reply_error(c->resp, 400, "JSON nested deeper than %d levels", SRV_MAX_JSON_DEPTH);
        return -1;
    }
    if (rc < 0) {
        srv_reply_error(c->resp, 400, "%s", err.msg);
        return -1;
    }
    if (!json_is_object(u->body)) {
        srv_reply_error(c->resp, 400, "body: expected a JSON object");
        return -1;
    }
    if (api_upload_meta(c, u, true) < 0)
        return -1;
    u->analysis = json_object_get(u->body, "analysis");
    if (!json_is_object(u->analysis)) {
        srv_reply_error(c->resp, 400, "'analysis' is required (a flashsize-analysis document)");
        return -1;
    }
    if (fs_analysis_validate_parsed(u->analysis, u->syms_decoded, "analysis", &err) < 0) {
        srv_reply_error(c->resp, 400, "%s", err.msg);
        return -1;
    }
    return 0;
}

/* Analyze an uploaded ELF from memory with the same whole analysis
 * `flashsize analyze` and `flashsize record` run (fs_analysis_run). */
static int api_analyze_elf(const srv_ctx *ctx, const char *board_name, const unsigned char *data, size_t len,
                           json_t **doc, fs_error *err)
{
    char layout[4200];
    struct stat st;
    bool known_board = ctx->cfg->rules_dir && api_file_name_ok(board_name) &&
                       (size_t)snprintf(layout, sizeof layout, "%s/boards/%s.ini", ctx->cfg->rules_dir, board_name) <
                           sizeof layout &&
                       stat(layout, &st) == 0;
    fs_analysis an;
    fs_analysis_opts ao = {.elf = "uploaded ELF",
                           .elf_data = data,
                           .elf_len = len,
                           .rules_dir = ctx->cfg->rules_dir,
                           .board = known_board ? board_name : NULL,
                           .retained = fs_retained_for_analysis};
    int rc = -1;
    if (fs_analysis_run(&ao, &an, err) < 0)
        goto done;
    if (!(*doc = fs_analysis_json(&an)))
        fs_fail(err, "uploaded ELF: out of memory");
    else if (fs_analysis_validate(*doc, "uploaded ELF", err) < 0) {
        json_decref(*doc);
        *doc = NULL;
    } else
        rc = 0;
done:
    fs_analysis_free(&an);
    return rc;
}

/* The upload's base on the same project and board, other than id: with
 * "base", the newest build of that branch; else the build of the parent
 * commit, else the default branch's newest build at or before the upload's
 * time.  Its id (0 when there is none), symbol set and document hash. */
static int api_find_base(api_call *c, const api_upload *u, int64_t id, int64_t *base, int64_t *symset,
                         uint64_t *hash)
{
    fs_error err;
    if (fs_store_find_base(c->conn->store, u->meta.project, u->meta.board, u->base ? NULL : u->meta.parent, u->base,
                           u->base ? 0 : u->meta.timestamp, id, sbc_hash, base, symset, hash, &err) < 0) {
        api_store_error(c, &err);
        return -1;
    }
    return 0;
}

/* The base build, from the server's cache or the store (a reference to
 * give back with sbc_release). */
static sbc_base *api_base(api_call *c, int64_t id, int64_t symset, uint64_t hash, fs_error *err)
{
    sbc_base *b = sbc_get(&c->ctx->bases, id, symset, hash);
    if (b)
        return b;
    json_t *doc;
    fs_build_info info;
    if (fs_store_load(c->conn->store, id, &doc, &info, err) < 0)
        return NULL;
    if (!(b = sbc_base_new(doc, &info))) {
        fs_fail(err, "out of memory");
        return NULL;
    }
    sbc_put(&c->ctx->bases, id, symset, hash, b);
    return b;
}

/* The answer to an upload: id, base, diff + Markdown, budgets. */
static void api_upload_answer(api_call *c, const api_upload *u, int64_t id)
{
    int64_t base_id, symset = 0;
    uint64_t hash = 0;
    if (api_find_base(c, u, id, &base_id, &symset, &hash) < 0)
        return;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "url", json_sprintf("/api/v1/builds/%lld", (long long)id));
    json_object_set_new(o, "project", json_string(u->meta.project));
    json_object_set_new(o, "board", json_string(u->meta.board));
    json_object_set_new(o, "commit", json_string(u->meta.commit));
    fs_error err;
    char dfl[SRV_MAX_FIELD + 1];
    if (!u->base && fs_store_default_branch(c->conn->store, u->meta.project, dfl, sizeof dfl, &err) < 0) {
        json_decref(o);
        api_store_error(c, &err);
        return;
    }
    json_object_set_new(o, "base_branch", json_string(u->base ? u->base : dfl));
    sbc_base *base = NULL;
    if (base_id && !(base = api_base(c, base_id, symset, hash, &err))) {
        json_decref(o);
        /* The database went away between the record and the answer: 503,
         * and sending the upload again records it again (same id). */
        srv_reply_error(c->resp, srv_http_status(err.kind) == 503 ? 503 : 500,
                        "build %lld stored; loading its base failed: %s", (long long)id, err.msg);
        return;
    }
    json_object_set_new(o, "base", base ? api_info_json(&base->info) : json_null());
    if (base) {
        if (api_diff_into(o, base->doc, &base->syms, u->analysis, &u->syms, u->meta.board, &err) < 0)
            json_object_set_new(o, "diff_error", api_str_or_null(err.msg));
    } else {
        json_object_set_new(o, "diff", json_null());
        json_object_set_new(o, "markdown", json_null());
    }
    json_object_set_new(o, "budget", api_budget_json(c->ctx, u->meta.board, u->analysis, &u->syms,
                                                     base ? base->doc : NULL, base ? &base->syms : NULL));
    const json_t *summary = json_object_get(u->analysis, "summary");
    json_object_set(o, "verdict", summary ? json_object_get(summary, "verdict") : json_null());
    sbc_release(&c->ctx->bases, base);
    snprintf(c->resp->location, sizeof c->resp->location, "/api/v1/builds/%lld", (long long)id);
    srv_reply_json(c->resp, 201, o);
}

static void api_upload_build(api_call *c)
{
    if (c->ctx->pool.readonly) {
        srv_reply_error(c->resp, 503, "uploads are disabled: %s", c->ctx->pool.readonly_why);
        return;
    }
    char project[SRV_MAX_FIELD + 1];
    if (api_authenticate(c, project, sizeof project) < 0)
        return;
    api_upload u = {0};
    const char *type = srv_header(c->req, "Content-Type");
    bool elf = type && strncasecmp(type, "application/octet-stream", 24) == 0;
    if (!elf && type && strncasecmp(type, "application/json", 16) != 0) {
        srv_reply_error(c->resp, 415, "Content-Type must be application/json or application/octet-stream");
        return;
    }
    if (elf ? api_upload_meta(c, &u, false) < 0 : api_upload_json(c, &u) < 0)
        goto done;
    if (strcmp(project, u.meta.project) != 0) {
        srv_reply_error(c->resp, 403, "this token may only upload to project '%s'", project);
        goto done;
    }
    fs_error err;
    if (elf) {
        if (c->req->body_len == 0) {
            srv_reply_error(c->resp, 400, "empty body: expected the firmware ELF");
            goto done;
        }
        if (api_analyze_elf(c->ctx, u.meta.board, c->req->body, c->req->body_len, &u.analysis, &err) < 0) {
            srv_reply_error(c->resp, 400, "%s", err.msg);
            goto done;
        }
        u.own_analysis = true;
        if (fs_symtab_from_json(&u.syms, json_object_get(u.analysis, "symbols")) < 0) {
            srv_reply_error(c->resp, 500, "out of memory reading the uploaded ELF's symbols");
            goto done;
        }
    }
    /* what needs no database is done before taking the write lock */
    char *doc_text = fs_store_doc_text(u.analysis, "analysis", &err);
    if (!doc_text) {
        api_store_error(c, &err); /* over FS_ANALYSIS_MAX_DOC_BYTES: 413 */
        goto done;
    }
    int64_t id;
    sdb_write_begin(&c->ctx->pool);
    int recorded = fs_store_record_tab(c->conn->store, u.analysis, &u.syms, doc_text, &u.meta, &id, &err);
    sdb_write_end(&c->ctx->pool);
    free(doc_text);
    if (recorded < 0) {
        api_store_error(c, &err);
        goto done;
    }
    sbc_forget(&c->ctx->bases, id); /* recorded again in place, if it was a base */
    api_upload_answer(c, &u, id);
done:
    if (u.own_analysis)
        json_decref(u.analysis);
    json_decref(u.body);
    fs_symtab_free(&u.syms);
}

/* ---- reads ---------------------------------------------------------------------- */

static int api_project_row(void *ctx, const fs_project_row *r)
{
    json_t *o = json_pack("{s:o,s:I,s:I,s:o}", "name", api_str_or_null(r->name), "builds", (json_int_t)r->builds,
                          "boards", (json_int_t)r->boards, "latest",
                          r->has_latest ? json_integer(r->latest) : json_null());
    return json_array_append_new(ctx, o);
}

static void api_projects(api_call *c)
{
    json_t *arr = json_array();
    fs_error err;
    if (fs_store_projects(c->conn->store, c->reader, SRV_MAX_RESULTS, api_project_row, arr, &err) < 0) {
        json_decref(arr);
        api_store_error(c, &err);
        return;
    }
    srv_reply_json(c->resp, 200, json_pack("{s:o}", "projects", arr));
}

static int api_error_id(void *ctx, const char *id)
{
    return json_array_append_new(ctx, api_str_or_null(id));
}

static int api_region(void *ctx, const char *name, int64_t used, int64_t length)
{
    return json_object_set_new(ctx, name, json_pack("{s:I,s:I}", "used", (json_int_t)used, "length", (json_int_t)length));
}

typedef struct api_boards_ctx {
    api_call *c;
    json_t *arr;
} api_boards_ctx;

static int api_board_row(void *ctx, const fs_board_row *r)
{
    api_boards_ctx *bc = ctx;
    fs_store *s = bc->c->conn->store;
    const fs_build_row *b = &r->latest;
    json_t *latest = json_object();
    json_object_set_new(latest, "id", json_integer(b->id));
    json_object_set_new(latest, "commit", api_str_or_null(b->commit));
    json_object_set_new(latest, "branch", api_str_or_null(b->branch));
    json_object_set_new(latest, "timestamp", json_integer(b->timestamp));
    json_object_set_new(latest, "main_region", api_str_or_null(b->main_region));
    json_object_set_new(latest, "used", json_integer(b->used));
    json_object_set_new(latest, "length", json_integer(b->length));
    json_object_set_new(latest, "on_default_branch", json_boolean(r->on_default));
    json_t *errors = json_array(), *regions = json_object();
    fs_store_build_errors(s, b->id, api_error_id, errors);
    fs_store_build_regions(s, b->id, api_region, regions);
    json_object_set_new(latest, "errors", errors);
    json_object_set_new(latest, "regions", regions);
    return json_array_append_new(bc->arr, json_pack("{s:o,s:I,s:o}", "name", api_str_or_null(r->name), "builds",
                                                    (json_int_t)r->builds, "latest", latest));
}

static void api_boards(api_call *c, const char *project)
{
    api_boards_ctx bc = {c, json_array()};
    bool exists;
    fs_error err;
    if (fs_store_boards(c->conn->store, project, SRV_MAX_RESULTS, api_board_row, &bc, &exists, &err) < 0) {
        json_decref(bc.arr);
        api_store_error(c, &err);
        return;
    }
    if (!exists) {
        json_decref(bc.arr);
        srv_reply_error(c->resp, 404, "no project '%s'", project);
        return;
    }
    char dfl[SRV_MAX_FIELD + 1];
    if (fs_store_default_branch(c->conn->store, project, dfl, sizeof dfl, &err) < 0) {
        json_decref(bc.arr);
        api_store_error(c, &err);
        return;
    }
    srv_reply_json(c->resp, 200, json_pack("{s:s,s:s,s:o}", "project", project, "default_branch", dfl, "boards", bc.arr));
}

/* ---- the history, written out directly ---------------------------------------- */

/* An answer built as text: a history of 1000 builds is one pass over the
 * rows into a buffer sized for them, with no JSON objects in between. */
typedef struct api_buf {
    char *p;
    size_t len, cap;
    bool oom;
} api_buf;

static void api_buf_put(api_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void api_buf_puts(api_buf *b, const char *s)
{
    api_buf_put(b, s, strlen(s));
}

/* "key":v (key is a plain word) */
static void api_buf_int(api_buf *b, const char *key, int64_t v)
{
    char tmp[32], *end = tmp + sizeof tmp, *p = end;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    api_buf_put(b, "\"", 1);
    api_buf_puts(b, key);
    api_buf_put(b, "\":", 2);
    api_buf_put(b, p, (size_t)(end - p));
}

/* A JSON string of s, or null for NULL and for bytes that are not UTF-8
 * (as jansson would refuse them). */
static void api_buf_str(api_buf *b, const unsigned char *s)
{
    bool ascii = true;
    for (const unsigned char *q = s; s && *q; q++)
        ascii &= *q < 0x80;
    json_t *probe = s && !ascii ? json_string((const char *)s) : NULL;
    if (!s || (!ascii && !probe)) {
        api_buf_puts(b, "null");
        return;
    }
    json_decref(probe);
    api_buf_put(b, "\"", 1);
    const unsigned char *run = s;
    for (const unsigned char *q = s;; q++) {
        if (*q && *q >= 0x20 && *q != '"' && *q != '\\')
            continue;
        api_buf_put(b, (const char *)run, (size_t)(q - run));
        if (!*q)
            break;
        char esc[8];
        snprintf(esc, sizeof esc, *q == '"' || *q == '\\' ? "\\%c" : "\\u%04x", *q);
        api_buf_puts(b, esc);
        run = q + 1;
    }
    api_buf_put(b, "\"", 1);
}

/* One row of a history answer. */
static void api_history_row(api_buf *b, const fs_build_row *r)
{
    api_buf_put(b, "{", 1);
    api_buf_int(b, "id", r->id);
    api_buf_puts(b, ",\"commit\":");
    api_buf_str(b, (const unsigned char *)r->commit);
    api_buf_puts(b, ",\"branch\":");
    api_buf_str(b, (const unsigned char *)r->branch);
    api_buf_puts(b, ",\"parent\":");
    api_buf_str(b, (const unsigned char *)r->parent);
    api_buf_put(b, ",", 1);
    if (r->pr)
        api_buf_int(b, "pr", r->pr);
    else
        api_buf_puts(b, "\"pr\":null");
    api_buf_put(b, ",", 1);
    api_buf_int(b, "timestamp", r->timestamp);
    api_buf_puts(b, ",\"main_region\":");
    api_buf_str(b, (const unsigned char *)r->main_region);
    api_buf_put(b, ",", 1);
    api_buf_int(b, "used", r->used);
    api_buf_put(b, ",", 1);
    api_buf_int(b, "length", r->length);
    api_buf_puts(b, ",\"errors\":");
    api_buf_puts(b, r->errors_json ? r->errors_json : "[]");
    api_buf_puts(b, ",\"regions\":");
    api_buf_puts(b, r->regions_json ? r->regions_json : "{}");
    api_buf_put(b, ",", 1);
    if (r->prev_id)
        api_buf_int(b, "prev", r->prev_id);
    else
        api_buf_puts(b, "\"prev\":null");
    api_buf_put(b, ",", 1);
    if (r->has_delta)
        api_buf_int(b, "delta", r->delta);
    else
        api_buf_puts(b, "\"delta\":null");
    api_buf_put(b, ",", 1);
    if (r->base_id)
        api_buf_int(b, "base", r->base_id);
    else
        api_buf_puts(b, "\"base\":null");
    api_buf_put(b, "}", 1);
}

typedef struct api_rows_ctx {
    api_buf *b;
    bool first;
} api_rows_ctx;

static void api_history_each(void *ctx, const fs_build_row *r)
{
    api_rows_ctx *rc = ctx;
    if (!rc->first)
        api_buf_put(rc->b, ",", 1);
    rc->first = false;
    api_history_row(rc->b, r);
}

/* The board's budget limits from the rules directory, as JSON text (null
 * without rules): the chart's budget lines, with no build loaded. */
static void api_history_budget(api_call *c, api_buf *b, const char *board)
{
    json_t *budget = api_budget_limits_json(c->ctx, board);
    char *text = json_dumps(budget, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    api_buf_puts(b, text ? text : "null");
    free(text);
    json_decref(budget);
}

/* The history's parameters, parsed: what the answer depends on (with the
 * database and the board's budget file). */
typedef struct api_hist_q {
    const char *project, *board, *branch; /* branch NULL: every branch */
    int64_t t0, t1, limit;
    bool capped;                           /* limit asked for was above SRV_MAX_RESULTS */
} api_hist_q;

/* The answer's JSON, built from the database; NULL when it could not be
 * (the response then holds the error). */
static srv_body *api_history_body(api_call *c, const api_hist_q *q)
{
    api_buf b = {0};
    /* A row is about 350 bytes: one allocation for the usual answer. */
    if (!(b.p = malloc(b.cap = 4096 + (size_t)q->limit * 400)))
        b.oom = true, b.cap = 0;
    api_buf_puts(&b, "{\"project\":");
    api_buf_str(&b, (const unsigned char *)q->project);
    api_buf_puts(&b, ",\"board\":");
    api_buf_str(&b, (const unsigned char *)q->board);
    api_buf_puts(&b, ",\"branch\":");
    api_buf_str(&b, (const unsigned char *)q->branch);
    char dfl[SRV_MAX_FIELD + 1];
    fs_error err;
    if (fs_store_default_branch(c->conn->store, q->project, dfl, sizeof dfl, &err) < 0) {
        free(b.p);
        api_store_error(c, &err);
        return NULL;
    }
    api_buf_puts(&b, ",\"default_branch\":");
    api_buf_str(&b, (const unsigned char *)dfl);
    api_buf_put(&b, ",", 1);
    api_buf_int(&b, "limit", q->limit);
    api_buf_puts(&b, q->capped ? ",\"limit_capped\":true,\"builds\":[" : ",\"limit_capped\":false,\"builds\":[");
    fs_history_range range = {q->project, q->board, q->branch, q->t0, q->t1, q->limit};
    api_rows_ctx rows = {&b, true};
    if (fs_store_history_each(c->conn->store, &range, api_history_each, &rows, &err) < 0) {
        free(b.p);
        api_store_error(c, &err);
        return NULL;
    }
    api_buf_puts(&b, "],\"budget\":");
    api_history_budget(c, &b, q->board);
    api_buf_put(&b, "}", 1);
    srv_body *body = b.oom ? NULL : srv_body_adopt(b.p, b.len);
    if (!body) {
        if (b.oom)
            free(b.p);
        srv_reply_error(c->resp, 500, "out of memory writing the history");
    }
    return body;
}

/* The cache key of a history: its parsed parameters, each string with its
 * length (so no two keys run together), branch "-" for every branch. */
static void api_history_key(api_buf *k, const api_hist_q *q)
{
    char num[96];
    const char *strs[] = {q->project, q->board, q->branch};
    for (size_t i = 0; i < 3; i++) {
        if (!strs[i]) {
            api_buf_puts(k, "-|");
            continue;
        }
        snprintf(num, sizeof num, "%zu:", strlen(strs[i]));
        api_buf_puts(k, num);
        api_buf_puts(k, strs[i]);
        api_buf_put(k, "|", 1);
    }
    snprintf(num, sizeof num, "%lld|%lld|%lld|%d", (long long)q->t0, (long long)q->t1, (long long)q->limit,
             (int)q->capped);
    api_buf_puts(k, num);
}

/* The store's generation (schema 4), or -1 when the file has none (an
 * older file opened read-only) or it cannot be read: then nothing is
 * cached. */
static int64_t api_generation(api_call *c)
{
    int64_t gen;
    fs_store_generation(c->conn->store, &gen);
    return gen;
}

static int64_t api_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Answer with the history's plain body, or its gzip form when the request
 * accepts gzip; 304 when If-None-Match names the ETag of what would be
 * sent (the response then holds that body for its length only: server.c).
 * Takes over the references in h. */
static void api_history_send(api_call *c, rsc_hit *h, const api_buf *key, bool cached)
{
    srv_response *resp = c->resp;
    bool gzip = srv_accepts_gzip(srv_header(c->req, "Accept-Encoding"));
    /* made once per cached answer; sent plain if out of memory */
    if (gzip && !h->gz && (h->gz = srv_gzip(h->plain->data, h->plain->len)) && cached)
        rsc_put_gzip(&c->ctx->history, key->p, key->len, h->plain, h->gz);
    srv_body *send = h->plain;
    srv_response_free(resp);
    memcpy(resp->etag, h->etag, sizeof resp->etag);
    if (gzip && h->gz) {
        send = h->gz;
        rsc_etag_gzip(resp->etag, h->etag);
    }
    resp->cache = "no-cache";
    resp->vary_encoding = true;
    resp->content_type = "application/json";
    resp->shared = srv_body_ref(send);
    if (srv_etag_match(srv_header(c->req, "If-None-Match"), resp->etag)) {
        resp->status = 304;
    } else {
        resp->status = 200;
        resp->encoding = send == h->gz ? "gzip" : NULL;
        resp->body = send->data;
        resp->len = send->len;
    }
    rsc_hit_release(h);
}

static void api_history(api_call *c, const char *project, const char *board)
{
    const char *since = srv_arg(c->req, "since"), *until = srv_arg(c->req, "until"),
               *limit_s = srv_arg(c->req, "limit");
    api_hist_q q = {project, board, srv_arg(c->req, "branch"), 0, INT64_MAX, SRV_DEFAULT_RESULTS, false};
    if ((since && api_time_arg(since, &q.t0) < 0) || (until && api_time_arg(until, &q.t1) < 0)) {
        srv_reply_error(c->resp, 400, "'since' and 'until' are seconds since 1970 or YYYY-MM-DD");
        return;
    }
    if (limit_s && (api_uint_arg(limit_s, &q.limit) < 0 || q.limit == 0)) {
        srv_reply_error(c->resp, 400, "'limit' must be a whole number from 1 (at most %d are returned)",
                        SRV_MAX_RESULTS);
        return;
    }
    q.capped = q.limit > SRV_MAX_RESULTS;
    if (q.capped)
        q.limit = SRV_MAX_RESULTS;
    api_buf key = {0};
    api_history_key(&key, &q);
    if (key.oom) {
        free(key.p);
        srv_reply_error(c->resp, 500, "out of memory reading the history");
        return;
    }
    /* The generation first: the rows read after it are at least that new. */
    int64_t gen = api_generation(c), now = api_now_ms();
    rsc_hit h;
    bool cached = gen >= 0 && rsc_get(&c->ctx->history, key.p, key.len, gen, now, &h);
    if (!cached) {
        memset(&h, 0, sizeof h);
        if (!(h.plain = api_history_body(c, &q))) {
            free(key.p);
            return;
        }
        rsc_etag(h.etag, gen, key.p, key.len, h.plain->data, h.plain->len);
        /* Kept only when no write came in while the rows were read: then
         * they are exactly generation gen's. */
        if (gen >= 0 && api_generation(c) == gen) {
            rsc_put(&c->ctx->history, key.p, key.len, gen, now, h.plain, h.etag);
            cached = true;
        }
    }
    api_history_send(c, &h, &key, cached);
    free(key.p);
}

static int api_symbol_size_cmp(const void *x, const void *y)
{
    uint64_t a = 0, b = 0;
    fs_json_u64(json_object_get(*(json_t *const *)x, "size"), &a);
    fs_json_u64(json_object_get(*(json_t *const *)y, "size"), &b);
    return a < b ? 1 : a > b ? -1 : 0;
}

/* The board's flash size from its layout in the rules directory
 * (boards/BOARD.ini, flash_size), for the flash map; null when there is
 * no such file or it gives none. */
static json_t *api_flash_size(const srv_ctx *ctx, const char *board)
{
    char path[4200];
    struct stat st;
    if (!ctx->cfg->rules_dir || !api_file_name_ok(board) ||
        (size_t)snprintf(path, sizeof path, "%s/boards/%s.ini", ctx->cfg->rules_dir, board) >= sizeof path ||
        stat(path, &st) != 0)
        return json_null();
    fs_board b;
    fs_error err;
    if (fs_board_load(ctx->cfg->rules_dir, board, &b, &err) < 0)
        return json_null();
    json_t *v = b.flash_size ? json_integer((json_int_t)b.flash_size) : json_null();
    fs_board_free(&b);
    return v;
}

static void api_build(api_call *c, int64_t id)
{
    const char *top_s = srv_arg(c->req, "top");
    int64_t top = API_TOP_DEFAULT;
    if (top_s && api_uint_arg(top_s, &top) < 0) {
        srv_reply_error(c->resp, 400, "'top' must be a whole number");
        return;
    }
    if (top > SRV_MAX_RESULTS)
        top = SRV_MAX_RESULTS;
    json_t *doc;
    fs_build_info info = {0};
    if (api_load(c, id, &doc, &info) < 0)
        return;
    json_t *syms = json_object_get(doc, "symbols");
    size_t n = json_array_size(syms);
    json_t **v = n ? malloc(n * sizeof *v) : NULL;
    json_t *top_arr = json_array();
    if (v) {
        for (size_t i = 0; i < n; i++)
            v[i] = json_array_get(syms, i);
        qsort(v, n, sizeof *v, api_symbol_size_cmp);
        for (size_t i = 0; i < n && (int64_t)i < top; i++)
            json_array_append(top_arr, v[i]);
        free(v);
    }
    json_object_del(doc, "symbols");
    json_t *o = json_object();
    json_object_set_new(o, "build", api_info_json(&info));
    const json_t *main_region = fs_analysis_main_region(doc);
    json_t *main_name = json_object_get(main_region, "name");
    json_object_set_new(o, "main_region", main_name ? json_incref(main_name) : json_null());
    json_object_set_new(o, "top_symbols", top_arr);
    json_object_set_new(o, "flash_size", api_flash_size(c->ctx, info.board));
    fs_symtab none = {0}; /* no base: the budget's new-symbol rule is skipped */
    json_object_set_new(o, "budget", api_budget_json(c->ctx, info.board, doc, &none, NULL, NULL));
    json_object_set_new(o, "analysis", doc);
    fs_build_info_free(&info);
    srv_reply_json(c->resp, 200, o);
}

static void api_diff(api_call *c)
{
    const char *as = srv_arg(c->req, "a"), *bs = srv_arg(c->req, "b");
    int64_t a, b;
    if (!as || !bs || api_uint_arg(as, &a) < 0 || api_uint_arg(bs, &b) < 0) {
        srv_reply_error(c->resp, 400, "diff needs a=ID and b=ID (build ids)");
        return;
    }
    json_t *da = NULL, *db = NULL;
    fs_build_info ia = {0}, ib = {0};
    if (api_load(c, a, &da, &ia) == 0 && api_load(c, b, &db, &ib) == 0) {
        json_t *o = json_object();
        json_object_set_new(o, "a", api_info_json(&ia));
        json_object_set_new(o, "b", api_info_json(&ib));
        fs_error err;
        fs_symtab sa, sb;
        int oka = fs_symtab_from_json(&sa, json_object_get(da, "symbols"));
        int okb = fs_symtab_from_json(&sb, json_object_get(db, "symbols"));
        if (oka < 0 || okb < 0 || api_diff_into(o, da, &sa, db, &sb, ib.board, &err) < 0) {
            json_decref(o);
            srv_reply_error(c->resp, 500, "%s", oka < 0 || okb < 0 ? "out of memory" : err.msg);
        } else
            srv_reply_json(c->resp, 200, o);
        fs_symtab_free(&sa);
        fs_symtab_free(&sb);
    }
    json_decref(da);
    json_decref(db);
    fs_build_info_free(&ia);
    fs_build_info_free(&ib);
}

/* ---- PUT /api/v1/projects/{p}: the project's default branch ---------------------- */

static void api_project_put(api_call *c, const char *project)
{
    if (c->ctx->pool.readonly) {
        srv_reply_error(c->resp, 503, "writes are disabled: %s", c->ctx->pool.readonly_why);
        return;
    }
    char tok_project[SRV_MAX_FIELD + 1], why[160];
    if (api_authenticate(c, tok_project, sizeof tok_project) < 0)
        return;
    if (strcmp(tok_project, project) != 0) {
        srv_reply_error(c->resp, 403, "this token may only change project '%s'", tok_project);
        return;
    }
    json_error_t jerr;
    json_t *body = json_loadb((const char *)c->req->body, c->req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *v = json_object_get(body, "default_branch");
    const char *branch = json_is_string(v) ? json_string_value(v) : NULL;
    if (!json_is_object(body) || !branch || !api_field_check("default_branch", branch, true, why, sizeof why)) {
        srv_reply_error(c->resp, 400, "%s", !json_is_object(body) ? "expected a JSON object {\"default_branch\": NAME}"
                                          : !branch ? "'default_branch' is required (a string)" : why);
        json_decref(body);
        return;
    }
    fs_error err;
    sdb_write_begin(&c->ctx->pool);
    int rc = fs_store_set_default_branch(c->conn->store, project, branch, &err);
    sdb_write_end(&c->ctx->pool);
    if (rc < 0)
        api_store_error(c, &err);
    else
        srv_reply_json(c->resp, 200, json_pack("{s:s,s:s}", "project", project, "default_branch", branch));
    json_decref(body);
}

/* ---- drill-down ------------------------------------------------------------------ */

static int api_limit_arg(api_call *c, int64_t def, int64_t max, int64_t *limit)
{
    const char *l = srv_arg(c->req, "limit");
    *limit = def;
    if (l && (api_uint_arg(l, limit) < 0 || *limit == 0)) {
        srv_reply_error(c->resp, 400, "'limit' must be a whole number above 0");
        return -1;
    }
    if (*limit > max)
        *limit = max;
    return 0;
}

/* Does haystack contain needle, ignoring ASCII case? */
static bool api_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return n == 0;
}

/* GET /api/v1/builds/{id}/symbols?q=TEXT&limit=N: the build's symbols whose
 * name contains TEXT (any case), largest first. */
static void api_symbol_search(api_call *c, int64_t id)
{
    const char *q = srv_arg(c->req, "q");
    int64_t limit;
    if (api_limit_arg(c, API_TOP_DEFAULT, SRV_MAX_RESULTS, &limit) < 0)
        return;
    json_t *doc;
    fs_build_info info = {0};
    if (api_load(c, id, &doc, &info) < 0)
        return;
    json_t *syms = json_object_get(doc, "symbols");
    size_t n = json_array_size(syms), found = 0;
    json_t **v = n ? malloc(n * sizeof *v) : NULL;
    json_t *arr = json_array();
    if (v) {
        for (size_t i = 0; i < n; i++) {
            json_t *sym = json_array_get(syms, i);
            const char *name = json_string_value(json_object_get(sym, "name"));
            if (name && api_contains(name, q ? q : ""))
                v[found++] = sym;
        }
        qsort(v, found, sizeof *v, api_symbol_size_cmp);
        for (size_t i = 0; i < found && (int64_t)i < limit; i++)
            json_array_append(arr, v[i]);
        free(v);
    }
    srv_reply_json(c->resp, 200, json_pack("{s:o,s:s,s:I,s:o}", "build", api_info_json(&info), "q", q ? q : "",
                                           "matches", (json_int_t)found, "symbols", arr));
    json_decref(doc);
    fs_build_info_free(&info);
}

typedef struct api_points_ctx {
    json_t *arr;
} api_points_ctx;

static int api_size_point(void *ctx, const fs_size_point *p)
{
    api_points_ctx *pc = ctx;
    return json_array_append_new(pc->arr, json_pack("{s:I,s:s?,s:I,s:o}", "id", (json_int_t)p->id, "commit", p->commit,
                                                    "timestamp", (json_int_t)p->timestamp, "size",
                                                    p->present ? json_integer(p->size) : json_null()));
}

/* GET .../boards/{b}/frozen-history?module=M and .../symbol-history?name=S
 * (branch=NAME, default the project's default branch; limit=N): the size
 * along the branch's builds, newest first, null where it is absent. */
static void api_drill_history(api_call *c, const char *project, const char *board, bool symbol)
{
    const char *what = srv_arg(c->req, symbol ? "name" : "module"), *branch = srv_arg(c->req, "branch");
    int64_t limit;
    if (!what || !*what) {
        srv_reply_error(c->resp, 400, "'%s' is required", symbol ? "name" : "module");
        return;
    }
    if (api_limit_arg(c, API_DRILL_DEFAULT, API_DRILL_MAX, &limit) < 0)
        return;
    api_points_ctx pc = {json_array()};
    fs_error err;
    int rc = symbol ? fs_store_branch_builds(c->conn->store, project, board, branch, limit, api_size_point, &pc, &err)
                    : fs_store_frozen_history(c->conn->store, project, board, branch, what, limit, api_size_point,
                                              &pc, &err);
    if (rc < 0) {
        json_decref(pc.arr);
        api_store_error(c, &err);
        return;
    }
    /* a symbol's size: each build's symbols, read one build at a time */
    size_t i;
    json_t *pt;
    json_array_foreach(pc.arr, i, pt) {
        if (!symbol)
            break;
        json_t *doc;
        if (fs_store_load(c->conn->store, json_integer_value(json_object_get(pt, "id")), &doc, NULL, &err) < 0) {
            json_decref(pc.arr);
            api_store_error(c, &err);
            return;
        }
        size_t j;
        json_t *sym;
        json_array_foreach(json_object_get(doc, "symbols"), j, sym) {
            const char *name = json_string_value(json_object_get(sym, "name"));
            if (name && strcmp(name, what) == 0) {
                json_object_set(pt, "size", json_object_get(sym, "size"));
                break;
            }
        }
        json_decref(doc);
    }
    char dfl[SRV_MAX_FIELD + 1];
    if (!branch && fs_store_default_branch(c->conn->store, project, dfl, sizeof dfl, &err) < 0) {
        json_decref(pc.arr);
        api_store_error(c, &err);
        return;
    }
    srv_reply_json(c->resp, 200, json_pack("{s:s,s:s,s:s,s:s,s:o}", "project", project, "board", board, "branch",
                                           branch ? branch : dfl, symbol ? "symbol" : "module", what, "builds", pc.arr));
}

static void api_healthz(api_call *c)
{
    int64_t n;
    fs_error err;
    if (fs_store_count_builds(c->conn->store, &n, &err) < 0) {
        /* The error body, and what a load balancer's check reads: the
         * database did not answer, this replica cannot serve now. */
        char msg[1100];
        snprintf(msg, sizeof msg, "database unreachable: %s", err.msg);
        json_t *m = json_string(msg);
        json_t *doc = json_pack("{s:o,s:i,s:s,s:s}", "error", m ? m : json_string("database unreachable"), "status",
                                503, "database", "unreachable", "version", FS_VERSION);
        srv_reply_json(c->resp, 503, doc);
        return;
    }
    /* With --private nothing about the stored projects is public: the
     * count of builds across all of them is left out. */
    json_t *doc = json_pack("{s:s,s:s}", "status", "ok", "database", c->ctx->pool.readonly ? "read-only" : "read-write");
    if (doc && !c->ctx->cfg->private_reads)
        json_object_set_new(doc, "builds", json_integer((json_int_t)n));
    if (doc)
        json_object_set_new(doc, "version", json_string(FS_VERSION));
    srv_reply_json(c->resp, 200, doc);
}

/* ---- routing -------------------------------------------------------------------- */

/* Split the part of path after /api/v1/ into segments (in buf). */
static size_t api_split(const char *path, char *buf, size_t len, char **segs)
{
    snprintf(buf, len, "%s", path + sizeof API_PREFIX - 1);
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, "/", &save); t && n < API_MAX_SEGS; t = strtok_r(NULL, "/", &save))
        segs[n++] = t;
    return n;
}

static void api_route(api_call *c)
{
    const srv_request *r = c->req;
    bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    if (strcmp(r->path, "/healthz") == 0) {
        get ? api_healthz(c) : srv_reply_error(c->resp, 405, "use GET");
        return;
    }
    if (strncmp(r->path, API_PREFIX, sizeof API_PREFIX - 1) != 0) {
        srv_reply_error(c->resp, 404, "no such endpoint (the API is under /api/v1/)");
        return;
    }
    char buf[2048], *s[API_MAX_SEGS + 1];
    size_t n = api_split(r->path, buf, sizeof buf, s);
    if (n == 1 && strcmp(s[0], "builds") == 0) {
        strcmp(r->method, "POST") == 0 ? api_upload_build(c) : srv_reply_error(c->resp, 405, "use POST to upload");
        return;
    }
    if (n == 2 && strcmp(s[0], "projects") == 0 && strcmp(r->method, "PUT") == 0) {
        api_project_put(c, s[1]);
        return;
    }
    if (!get) {
        srv_reply_error(c->resp, 405, "method %s not allowed here", r->method);
        return;
    }
    if (c->ctx->cfg->private_reads) {
        if (api_authenticate(c, c->reader_buf, sizeof c->reader_buf) < 0)
            return;
        c->reader = c->reader_buf;
        if (n >= 2 && strcmp(s[0], "projects") == 0 && !api_may_read(c, s[1]))
            return;
    }
    int64_t id;
    if (n == 1 && strcmp(s[0], "projects") == 0)
        api_projects(c);
    else if (n == 3 && strcmp(s[0], "projects") == 0 && strcmp(s[2], "boards") == 0)
        api_boards(c, s[1]);
    else if (n == 5 && strcmp(s[0], "projects") == 0 && strcmp(s[2], "boards") == 0 && strcmp(s[4], "history") == 0)
        api_history(c, s[1], s[3]);
    else if (n == 5 && strcmp(s[0], "projects") == 0 && strcmp(s[2], "boards") == 0 &&
             (strcmp(s[4], "symbol-history") == 0 || strcmp(s[4], "frozen-history") == 0))
        api_drill_history(c, s[1], s[3], s[4][0] == 's');
    else if (n == 3 && strcmp(s[0], "builds") == 0 && strcmp(s[2], "symbols") == 0) {
        if (api_uint_arg(s[1], &id) < 0)
            srv_reply_error(c->resp, 400, "a build id is a whole number");
        else
            api_symbol_search(c, id);
    } else if (n == 2 && strcmp(s[0], "builds") == 0) {
        if (api_uint_arg(s[1], &id) < 0)
            srv_reply_error(c->resp, 400, "a build id is a whole number");
        else
            api_build(c, id);
    } else if (n == 1 && strcmp(s[0], "diff") == 0)
        api_diff(c);
    else
        srv_reply_error(c->resp, 404, "no such endpoint");
}

void api_handle(srv_ctx *ctx, const srv_request *r, srv_response *resp)
{
    api_call c = {.ctx = ctx, .req = r, .resp = resp, .conn = sdb_acquire(&ctx->pool)};
    api_route(&c);
    sdb_release(&ctx->pool, c.conn);
}
