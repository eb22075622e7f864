/*
 * bot.c - GitHub REST calls for the PR size report (see bot.h), and the
 * pieces that compose the report from a diff.
 *
 * Every request goes through gh_request: one libcurl easy handle per
 * attempt, a capped response buffer, the Link and Retry-After headers
 * captured, no redirects, http/https only.  The token goes into the
 * Authorization header and nowhere else.
 */
#include "bot.h"
#include "document.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define GH_MAX_URL     2048
#define GH_RETRY_CAP_MS 60000u

typedef struct gh_resp {
    char *body;
    size_t len;
    bool too_big;
    char next[GH_MAX_URL];   /* Link rel="next", "" if none */
    long retry_after;        /* seconds, -1 if absent */
    long status;
} gh_resp;

static void gh_resp_free(gh_resp *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* ---- setup ------------------------------------------------------------------ */

static bool gh_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 100)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
}

static bool gh_token_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 1024)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f)
            return false;
    return true;
}

static bool gh_api_ok(const char *api)
{
    size_t n = strlen(api);
    if (n >= GH_MAX_URL / 2 || (strncmp(api, "https://", 8) != 0 && strncmp(api, "http://", 7) != 0))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)api[i] <= 0x20 || (unsigned char)api[i] >= 0x7f || api[i] == '?' || api[i] == '#')
            return false;
    return api[strlen(strncmp(api, "https://", 8) == 0 ? "https://" : "http://")] != '\0';
}

int fs_github_init(fs_github *gh, const char *api, const char *token, const char *repo, fs_error *err)
{
    memset(gh, 0, sizeof *gh);
    if (!api || !*api)
        api = FS_BOT_DEFAULT_API;
    if (!gh_api_ok(api))
        return fs_fail(err, "GitHub API URL '%s': not an http:// or https:// base URL", api);
    if (!token || !gh_token_ok(token))
        return fs_fail(err, "GitHub token: %s", !token || !*token ? "not set" : "contains spaces or control characters");
    const char *slash = repo ? strchr(repo, '/') : NULL;
    if (!slash || !gh_name_ok(repo, (size_t)(slash - repo)) || !gh_name_ok(slash + 1, strlen(slash + 1)))
        return fs_fail(err, "repository '%s': expected OWNER/NAME", repo ? repo : "");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return fs_fail(err, "libcurl: cannot initialise");
    gh->api = strdup(api);
    gh->token = strdup(token);
    gh->owner = strndup(repo, (size_t)(slash - repo));
    gh->name = strdup(slash + 1);
    gh->timeout_s = 30;
    gh->attempts = 4;
    gh->backoff_ms = 1000;
    if (!gh->api || !gh->token || !gh->owner || !gh->name) {
        fs_github_free(gh);
        return fs_fail(err, "out of memory");
    }
    size_t n = strlen(gh->api);
    while (n > 0 && gh->api[n - 1] == '/')
        gh->api[--n] = '\0';
    return 0;
}

void fs_github_free(fs_github *gh)
{
    if (!gh)
        return;
    if (gh->token) {
        memset(gh->token, 0, strlen(gh->token));
        curl_global_cleanup();
    }
    free(gh->api);
    free(gh->token);
    free(gh->owner);
    free(gh->name);
    memset(gh, 0, sizeof *gh);
}

/* ---- one HTTP request ---------------------------------------------------- */

static size_t gh_on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    gh_resp *r = ctx;
    size_t n = size * nmemb;
    if (r->len + n > FS_BOT_MAX_RESPONSE) {
        r->too_big = true;
        return 0;
    }
    char *g = realloc(r->body, r->len + n + 1);
    if (!g)
        return 0;
    memcpy(g + r->len, p, n);
    r->body = g;
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

/* From `Link: <URL>; rel="next", <URL>; rel="last"`, the next page. */
static void gh_parse_link(const char *v, size_t n, gh_resp *r)
{
    size_t i = 0;
    while (i < n) {
        const char *lt = memchr(v + i, '<', n - i);
        if (!lt)
            return;
        const char *gt = memchr(lt, '>', n - (size_t)(lt - v));
        if (!gt)
            return;
        const char *end = memchr(gt, ',', n - (size_t)(gt - v));
        size_t plen = end ? (size_t)(end - gt) : n - (size_t)(gt - v);
        char params[256];
        snprintf(params, sizeof params, "%.*s", (int)(plen < 255 ? plen : 255), gt + 1);
        size_t ulen = (size_t)(gt - lt - 1);
        if ((strstr(params, "rel=\"next\"") || strstr(params, "rel=next")) && ulen < sizeof r->next) {
            memcpy(r->next, lt + 1, ulen);
            r->next[ulen] = '\0';
            return;
        }
        i = end ? (size_t)(end - v) + 1 : n;
    }
}

static size_t gh_on_header(char *p, size_t size, size_t nmemb, void *ctx)
{
    gh_resp *r = ctx;
    size_t n = size * nmemb;
    if (n > 5 && strncasecmp(p, "link:", 5) == 0)
        gh_parse_link(p + 5, n - 5, r);
    else if (n > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(n - 12 < 31 ? n - 12 : 31), p + 12);
        char *end;
        long v = strtol(tmp, &end, 10);
        if (end != tmp && v >= 0)
            r->retry_after = v;
    }
    return n;
}

/* GitHub's "message" from an error body, made printable and short. */
static void gh_message(const gh_resp *r, char *buf, size_t len)
{
    buf[0] = '\0';
    json_t *doc = r->body ? json_loads(r->body, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(doc, "message"));
    size_t o = 0;
    for (; m && *m && o + 1 < len && o < 200; m++)
        buf[o++] = isprint((unsigned char)*m) ? *m : ' ';
    buf[o] = '\0';
    json_decref(doc);
}

static const char *gh_hint(long status)
{
    switch (status) {
    case 401: return "the token is missing, wrong or expired";
    case 403: return "the token lacks a permission (pull-requests: write, statuses: write) or a rate limit was hit";
    case 404: return "no such repository, pull request or comment, or the token cannot see it";
    case 422: return "GitHub refused the content";
    case 429: return "rate limited";
    default: return status >= 500 ? "GitHub server error" : "unexpected answer";
    }
}

static void gh_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static CURLcode gh_perform(fs_github *gh, const char *method, const char *url, const char *body, gh_resp *r)
{
    CURL *c = curl_easy_init();
    if (!c)
        return CURLE_OUT_OF_MEMORY;
    char auth[1100];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", gh->token);
    struct curl_slist *h = NULL, *t;
    const char *lines[] = {auth, "Accept: application/vnd.github+json", "X-GitHub-Api-Version: 2022-11-28",
                           "User-Agent: flashsize/" FS_VERSION, "Expect:",
                           body ? "Content-Type: application/json" : NULL};
    for (size_t i = 0; i < sizeof lines / sizeof *lines && lines[i]; i++) {
        if (!(t = curl_slist_append(h, lines[i]))) {
            curl_slist_free_all(h);
            curl_easy_cleanup(c);
            memset(auth, 0, sizeof auth);
            return CURLE_OUT_OF_MEMORY;
        }
        h = t;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, gh->timeout_s);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, gh->timeout_s < 10 ? gh->timeout_s : 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, gh_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, gh_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    CURLcode rc = curl_easy_perform(c);
    memset(auth, 0, sizeof auth);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

/* A failure worth another try: no connection, or 5xx/429.  A POST whose
 * answer was lost may have happened, so only GET and PATCH (idempotent)
 * retry a broken transfer. */
static bool gh_retryable(CURLcode rc, long status, const char *method)
{
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
        return true;
    if (rc != CURLE_OK)
        return strcmp(method, "POST") != 0 &&
               (rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ||
                rc == CURLE_SEND_ERROR);
    return status >= 500 || status == 429;
}

/* Perform method on url (body: JSON text or NULL); 0 on a 2xx answer. */
static int gh_request(fs_github *gh, const char *method, const char *url, const char *body, gh_resp *r,
                      fs_error *err)
{
    int attempts = gh->attempts > 0 ? gh->attempts : 1;
    unsigned wait = gh->backoff_ms;
    for (int attempt = 1;; attempt++) {
        gh_resp_free(r);
        r->retry_after = -1;
        CURLcode rc = gh_perform(gh, method, url, body, r);
        gh->requests++;
        gh->last_status = rc == CURLE_OK ? r->status : 0;
        if (gh->log)
            gh->log(gh->log_ctx, method, url, rc == CURLE_OK ? r->status : 0, attempt);
        if (rc == CURLE_OK && r->status >= 200 && r->status < 300)
            return 0;
        if (attempt >= attempts || !gh_retryable(rc, r->status, method)) {
            if (r->too_big)
                return fs_fail(err, "%s %s: answer larger than %u bytes", method, url, FS_BOT_MAX_RESPONSE);
            if (rc != CURLE_OK)
                return fs_fail(err, "%s %s: %s (after %d attempt%s)", method, url, curl_easy_strerror(rc), attempt,
                               attempt == 1 ? "" : "s");
            char msg[256];
            gh_message(r, msg, sizeof msg);
            return fs_fail(err, "%s %s: HTTP %ld%s%s (%s%s)", method, url, r->status, *msg ? " " : "", msg,
                           gh_hint(r->status), attempt > 1 ? ", after retries" : "");
        }
        unsigned ms = wait;
        if (r->retry_after >= 0 && (unsigned long)r->retry_after * 1000u > ms)
            ms = (unsigned long)r->retry_after > GH_RETRY_CAP_MS / 1000 ? GH_RETRY_CAP_MS
                                                                        : (unsigned)r->retry_after * 1000u;
        gh_sleep_ms(ms);
        wait = wait > GH_RETRY_CAP_MS / 2 ? GH_RETRY_CAP_MS : wait * 2;
    }
}

static json_t *gh_json(const gh_resp *r, const char *method, const char *url, fs_error *err)
{
    json_error_t je;
    json_t *doc = r->body ? json_loadb(r->body, r->len, 0, &je) : NULL;
    if (!doc)
        fs_fail(err, "%s %s: answer is not JSON", method, url);
    return doc;
}

/* ---- comments and statuses -------------------------------------------------- */

static bool gh_same_api(const fs_github *gh, const char *url)
{
    size_t n = strlen(gh->api);
    return strncmp(url, gh->api, n) == 0 && url[n] == '/';
}

/* Scan one page of comments for marker. */
static int gh_scan_page(const json_t *arr, const char *marker, int64_t *id, const char *url, fs_error *err)
{
    if (!json_is_array(arr))
        return fs_fail(err, "GET %s: expected a list of comments", url);
    size_t i;
    const json_t *c;
    json_array_foreach(arr, i, c) {
        const char *body = json_string_value(json_object_get(c, "body"));
        json_int_t cid = json_integer_value(json_object_get(c, "id"));
        if (body && cid > 0 && strstr(body, marker)) {
            *id = (int64_t)cid;
            return 0;
        }
    }
    return 0;
}

int fs_github_find_comment(fs_github *gh, long pr, const char *marker, int64_t *id, fs_error *err)
{
    *id = 0;
    if (pr <= 0)
        return fs_fail(err, "pull request number %ld: must be positive", pr);
    char url[GH_MAX_URL];
    snprintf(url, sizeof url, "%s/repos/%s/%s/issues/%ld/comments?per_page=100", gh->api, gh->owner, gh->name, pr);
    for (int page = 0; page < FS_BOT_MAX_PAGES; page++) {
        gh_resp r = {0};
        if (gh_request(gh, "GET", url, NULL, &r, err) < 0) {
            gh_resp_free(&r);
            return -1;
        }
        json_t *doc = gh_json(&r, "GET", url, err);
        int rc = doc ? gh_scan_page(doc, marker, id, url, err) : -1;
        json_decref(doc);
        if (rc < 0 || *id || !r.next[0]) {
            gh_resp_free(&r);
            return rc;
        }
        if (!gh_same_api(gh, r.next)) {
            fs_fail(err, "GET %s: the next page is on another server (%.200s); not sending the token there", url,
                    r.next);
            gh_resp_free(&r);
            return -1;
        }
        snprintf(url, sizeof url, "%s", r.next);
        gh_resp_free(&r);
    }
    return fs_fail(err, "pull request %ld: more than %d pages of comments", pr, FS_BOT_MAX_PAGES);
}

/* Send obj as JSON with method to url; the answer's "id" into *out_id. */
static int gh_send(fs_github *gh, const char *method, const char *url, json_t *obj, int64_t *out_id, fs_error *err)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!text)
        return fs_fail(err, "out of memory");
    gh_resp r = {0};
    int rc = gh_request(gh, method, url, text, &r, err);
    free(text);
    if (rc == 0 && out_id) {
        json_t *doc = gh_json(&r, method, url, err);
        json_int_t v = json_integer_value(json_object_get(doc, "id"));
        json_decref(doc);
        if (v <= 0)
            rc = fs_fail(err, "%s %s: the answer has no comment id", method, url);
        else
            *out_id = (int64_t)v;
    }
    gh_resp_free(&r);
    return rc;
}

int fs_github_put_comment(fs_github *gh, long pr, int64_t id, const char *body, int64_t *out_id, fs_error *err)
{
    if (strlen(body) > FS_BOT_MAX_COMMENT)
        return fs_fail(err, "comment of %zu bytes: GitHub takes at most %d", strlen(body), FS_BOT_MAX_COMMENT);
    char url[GH_MAX_URL];
    if (id > 0)
        snprintf(url, sizeof url, "%s/repos/%s/%s/issues/comments/%lld", gh->api, gh->owner, gh->name, (long long)id);
    else if (pr > 0)
        snprintf(url, sizeof url, "%s/repos/%s/%s/issues/%ld/comments", gh->api, gh->owner, gh->name, pr);
    else
        return fs_fail(err, "pull request number %ld: must be positive", pr);
    json_t *obj = json_object();
    json_object_set_new(obj, "body", json_string(body));
    int64_t got = 0;
    if (gh_send(gh, id > 0 ? "PATCH" : "POST", url, obj, &got, err) < 0)
        return -1;
    if (out_id)
        *out_id = got;
    return 0;
}

bool fs_bot_sha_ok(const char *sha)
{
    size_t n = sha ? strlen(sha) : 0;
    if (n < 7 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)sha[i]))
            return false;
    return true;
}

int fs_github_set_status(fs_github *gh, const char *sha, const char *state, const char *context,
                         const char *description, const char *target_url, fs_error *err)
{
    if (!fs_bot_sha_ok(sha))
        return fs_fail(err, "commit '%s': expected 7 to 64 hex digits", sha ? sha : "");
    if (strcmp(state, "success") && strcmp(state, "failure") && strcmp(state, "error") && strcmp(state, "pending"))
        return fs_fail(err, "commit status '%s': not success, failure, error or pending", state);
    char desc[FS_BOT_MAX_DESCRIPTION + 1];
    size_t n = description ? strlen(description) : 0;
    if (n > FS_BOT_MAX_DESCRIPTION) {
        n = FS_BOT_MAX_DESCRIPTION;
        while (n > 0 && ((unsigned char)description[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(desc, description ? description : "", n);
    desc[n] = '\0';
    char url[GH_MAX_URL];
    snprintf(url, sizeof url, "%s/repos/%s/%s/statuses/%s", gh->api, gh->owner, gh->name, sha);
    json_t *obj = json_object();
    json_object_set_new(obj, "state", json_string(state));
    json_object_set_new(obj, "context", json_string(context ? context : FS_BOT_STATUS_CONTEXT));
    json_object_set_new(obj, "description", json_string(desc));
    if (target_url && *target_url)
        json_object_set_new(obj, "target_url", json_string(target_url));
    return gh_send(gh, "POST", url, obj, NULL, err);
}

/* ---- the report ------------------------------------------------------------- */

static const char *const change_names[] = {"same", "added", "removed", "grown", "shrunk"};

static bool bot_u64(const json_t *o, const char *key, uint64_t *v)
{
    json_t *x = json_object_get(o, key);
    if (!json_is_integer(x) || json_integer_value(x) < 0)
        return false;
    *v = (uint64_t)json_integer_value(x);
    return true;
}

static int bot_deltas(const json_t *arr, const char *what, bool lengths, fs_delta **out, size_t *n, const char *name,
                      fs_error *err)
{
    *out = NULL;
    *n = 0;
    if (!json_is_array(arr))
        return fs_fail(err, "%s: %s is not a list", name, what);
    size_t cnt = json_array_size(arr);
    if (cnt > FS_ANALYSIS_MAX_SYMBOLS)
        return fs_fail(err, "%s: more than %u %s", name, FS_ANALYSIS_MAX_SYMBOLS, what);
    fs_delta *v = calloc(cnt + 1, sizeof *v);
    if (!v)
        return fs_fail(err, "%s: out of memory", name);
    *out = v;
    for (size_t i = 0; i < cnt; i++) {
        const json_t *o = json_array_get(arr, i);
        const char *nm = json_string_value(json_object_get(o, "name"));
        const char *ch = json_string_value(json_object_get(o, "change"));
        json_t *dl = json_object_get(o, "delta");
        int c = -1;
        for (int k = 0; ch && k < 5; k++)
            if (strcmp(ch, change_names[k]) == 0)
                c = k;
        if (!nm || c < 0 || !json_is_integer(dl) || !bot_u64(o, "before", &v[i].a) || !bot_u64(o, "after", &v[i].b) ||
            (lengths && (!bot_u64(o, "length_before", &v[i].len_a) || !bot_u64(o, "length_after", &v[i].len_b))))
            return fs_fail(err, "%s: %s entry %zu lacks name, change, before, after or delta", name, what, i);
        if (!(v[i].name = strdup(nm)))
            return fs_fail(err, "%s: out of memory", name);
        v[i].change = (fs_change)c;
        v[i].delta = (int64_t)json_integer_value(dl);
        *n = i + 1;
    }
    return 0;
}

static int bot_refs(const json_t *arr, fs_finding_ref **out, size_t *n, const char *name, fs_error *err)
{
    *out = NULL;
    *n = 0;
    if (!json_is_array(arr))
        return fs_fail(err, "%s: findings are not a list", name);
    size_t cnt = json_array_size(arr);
    fs_finding_ref *v = calloc(cnt + 1, sizeof *v);
    if (!v)
        return fs_fail(err, "%s: out of memory", name);
    *out = v;
    for (size_t i = 0; i < cnt; i++) {
        const json_t *o = json_array_get(arr, i);
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *sev = json_string_value(json_object_get(o, "severity"));
        const char *subj = json_string_value(json_object_get(o, "subject"));
        const char *msg = json_string_value(json_object_get(o, "message"));
        if (!id || !sev)
            return fs_fail(err, "%s: finding %zu lacks id or severity", name, i);
        v[i].id = strdup(id);
        v[i].severity = strdup(sev);
        v[i].subject = subj ? strdup(subj) : NULL;
        v[i].message = msg ? strdup(msg) : NULL;
        *n = i + 1;
        if (!v[i].id || !v[i].severity || (subj && !v[i].subject) || (msg && !v[i].message))
            return fs_fail(err, "%s: out of memory", name);
    }
    return 0;
}

static size_t bot_count(const json_t *o, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(o, key));
    return v > 0 ? (size_t)v : 0;
}

static int bot_one(const json_t *b, fs_diff *d, const char *name, fs_error *err)
{
    const char *label = json_string_value(json_object_get(b, "label"));
    const char *main = json_string_value(json_object_get(b, "main_region"));
    const json_t *sym = json_object_get(b, "symbols"), *fnd = json_object_get(b, "findings");
    const json_t *frozen = json_object_get(b, "frozen");
    if (!label || !json_is_object(sym) || !json_is_object(fnd))
        return fs_fail(err, "%s: a board lacks label, symbols or findings", name);
    if (!(d->label = strdup(label)))
        return fs_fail(err, "%s: out of memory", name);
    d->has_frozen = json_is_array(frozen);
    if (bot_deltas(json_object_get(b, "regions"), "regions", true, &d->regions, &d->nregions, name, err) < 0 ||
        bot_deltas(json_object_get(b, "sections"), "sections", false, &d->sections, &d->nsections, name, err) < 0 ||
        (d->has_frozen && bot_deltas(frozen, "frozen modules", false, &d->frozen, &d->nfrozen, name, err) < 0) ||
        bot_deltas(json_object_get(sym, "changes"), "symbols", false, &d->symbols, &d->nsymbols, name, err) < 0 ||
        bot_refs(json_object_get(fnd, "appeared"), &d->appeared, &d->nappeared, name, err) < 0 ||
        bot_refs(json_object_get(fnd, "cleared"), &d->cleared, &d->ncleared, name, err) < 0 ||
        fs_diff_retained_from_json(json_object_get(b, "retained_new"), name, d, err) < 0)
        return -1;
    d->added = bot_count(sym, "added");
    d->removed = bot_count(sym, "removed");
    d->grown = bot_count(sym, "grown");
    d->shrunk = bot_count(sym, "shrunk");
    d->symbols_net = (int64_t)json_integer_value(json_object_get(sym, "net"));
    d->errors_b = bot_count(b, "errors");
    d->warnings_b = bot_count(b, "warnings");
    d->main_region = -1;
    for (size_t i = 0; main && i < d->nregions; i++)
        if (strcmp(d->regions[i].name, main) == 0)
            d->main_region = (int)i;
    const char *verdict = json_string_value(json_object_get(b, "verdict"));
    if (verdict && strcmp(verdict, "fail") == 0 && d->errors_b == 0)
        d->errors_b = 1;
    return 0;
}

int fs_bot_diffs_from_json(const json_t *doc, const char *name, fs_diff **out, size_t *n, fs_error *err)
{
    *out = NULL;
    *n = 0;
    const char *schema = json_string_value(json_object_get(doc, "schema"));
    if (!schema || strcmp(schema, "flashsize-diff") != 0)
        return fs_fail(err, "%s: not a flashsize diff (schema \"flashsize-diff\")", name);
    if (json_integer_value(json_object_get(doc, "schema_version")) != FS_DIFF_SCHEMA_VERSION)
        return fs_fail(err, "%s: diff schema version %lld, this flashsize reads %d", name,
                       (long long)json_integer_value(json_object_get(doc, "schema_version")), FS_DIFF_SCHEMA_VERSION);
    const json_t *boards = json_object_get(doc, "boards");
    size_t cnt = json_array_size(boards);
    if (!json_is_array(boards) || cnt == 0 || cnt > 1024)
        return fs_fail(err, "%s: \"boards\" must be a list of 1 to 1024 diffs", name);
    fs_diff *d = calloc(cnt, sizeof *d);
    if (!d)
        return fs_fail(err, "%s: out of memory", name);
    for (size_t i = 0; i < cnt; i++) {
        if (bot_one(json_array_get(boards, i), &d[i], name, err) < 0) {
            for (size_t k = 0; k <= i; k++)
                fs_diff_free(&d[k]);
            free(d);
            return -1;
        }
    }
    *out = d;
    *n = cnt;
    return 0;
}

void fs_bot_status_line(const fs_diff *d, size_t n, char *buf, size_t len)
{
    /* the worst board: a failing one (error findings) before any passing one,
     * then the largest main-region change */
    const fs_diff *best = NULL;
    uint64_t bestmag = 0;
    bool bestfail = false;
    for (size_t i = 0; i < n; i++) {
        if (d[i].main_region < 0)
            continue;
        int64_t dl = d[i].regions[d[i].main_region].delta;
        uint64_t mag = dl < 0 ? -(uint64_t)dl : (uint64_t)dl;
        bool fail = !fs_diff_pass(&d[i]);
        if (!best || (fail && !bestfail) || (fail == bestfail && mag > bestmag))
            best = &d[i], bestmag = mag, bestfail = fail;
    }
    if (!best) {
        snprintf(buf, len, "%s: no memory regions", n ? d[0].label : "no boards");
        return;
    }
    const fs_delta *r = &best->regions[best->main_region];
    char dl[40];
    fs_fmt_delta(dl, sizeof dl, r->delta);
    const char *region = strcmp(r->name, "irom0_0_seg") == 0 ? "irom0" : r->name;
    int k = r->len_b ? snprintf(buf, len, "%s: %s %s B, %.1f%% used", best->label, region, dl,
                                (double)r->b * 100.0 / (double)r->len_b)
                     : snprintf(buf, len, "%s: %s %s B", best->label, region, dl);
    if (bestfail && k > 0 && (size_t)k < len)
        snprintf(buf + k, len - (size_t)k, "; %zu error finding%s", best->errors_b, best->errors_b == 1 ? "" : "s");
}
