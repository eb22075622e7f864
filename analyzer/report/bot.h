/*
 * bot.h - the PR size-report bot: a small GitHub REST client on libcurl
 * that keeps one size-report comment per pull request up to date and sets
 * a commit status.
 *
 * Ideas:
 *   - One comment per PR.  The report starts with a hidden marker
 *     (FS_BOT_MARKER); the bot lists the PR's comments page by page
 *     (following the Link header's rel="next") and edits the first comment
 *     carrying the marker, or creates one when there is none.
 *   - The API base URL is a parameter ($GITHUB_API_URL in the CLI), so
 *     GitHub Enterprise (https://HOST/api/v3) works the same way.  The token
 *     is sent only to that base: a Link header pointing elsewhere is refused
 *     and redirects are never followed.
 *   - Transient answers (5xx, 429, a failed connection) are retried a
 *     bounded number of times with a doubling backoff; anything else (401,
 *     403, 404, 422, ...) fails at once with a message naming the request.
 *   - The library never prints: an optional callback sees each request
 *     (method, URL, status, attempt) so the CLI can log it, and the token is
 *     never part of what it is given.
 *
 * Ownership: fs_github owns copies of the strings given to fs_github_init;
 * release with fs_github_free.  Errors follow model.h (0/-1, fs_error).
 */
#ifndef FS_BOT_H
#define FS_BOT_H

#include "diff.h"
#include "model.h"

#include <jansson.h>

#define FS_BOT_MARKER          "<!-- flashsize-report -->"
#define FS_BOT_DEFAULT_API     "https://api.github.com"
#define FS_BOT_STATUS_CONTEXT  "flashsize"
#define FS_BOT_MAX_PAGES       100          /* comment pages of 100 read at most */
#define FS_BOT_MAX_RESPONSE    (8u << 20)   /* bytes of one response body */
#define FS_BOT_MAX_COMMENT     65536        /* GitHub's limit on a comment body */
#define FS_BOT_MAX_DESCRIPTION 140          /* GitHub's limit on a status description */

/* Called once per HTTP attempt; status is 0 when no answer came. */
typedef void (*fs_github_log)(void *ctx, const char *method, const char *url, long status, int attempt);

typedef struct fs_github {
    char *api;             /* base URL, no trailing slash */
    char *token;           /* never logged, never part of an error message */
    char *owner, *name;    /* the repository */
    long timeout_s;        /* whole request; default 30 */
    int attempts;          /* tries per request for 5xx/429/connection failures; default 4 */
    unsigned backoff_ms;   /* first wait, doubled after each try; default 1000 */
    fs_github_log log;     /* may be NULL */
    void *log_ctx;
    unsigned requests;     /* HTTP attempts made so far */
    long last_status;      /* HTTP status of the last answer (0: none), e.g. 403 when a write was refused */
} fs_github;

/* Check and copy the API base (http:// or https://), the token (non-empty,
 * printable, no spaces) and repo ("OWNER/NAME"). */
int fs_github_init(fs_github *gh, const char *api, const char *token, const char *repo, fs_error *err);
void fs_github_free(fs_github *gh);

/* The id of the first comment on issue/PR pr whose body contains marker,
 * or *id = 0 when there is none. */
int fs_github_find_comment(fs_github *gh, long pr, const char *marker, int64_t *id, fs_error *err);

/* Edit comment id (id > 0) or create a comment on pr (id == 0); *out_id
 * (may be NULL) is the comment's id afterwards. */
int fs_github_put_comment(fs_github *gh, long pr, int64_t id, const char *body, int64_t *out_id, fs_error *err);

/* Commit status on sha: state "success", "failure", "error" or "pending";
 * description is cut to FS_BOT_MAX_DESCRIPTION bytes (at a UTF-8 boundary);
 * target_url may be NULL. */
int fs_github_set_status(fs_github *gh, const char *sha, const char *state, const char *context,
                         const char *description, const char *target_url, fs_error *err);

/* ---- composing the report ------------------------------------------------ */

/* Rebuild the diffs of a "flashsize-diff" v1 document (`flashsize diff
 * --format json`) so they can be formatted again.  *d (n entries) is freed
 * with fs_diff_free on each and free.  A truncated symbol list keeps its
 * counts; only the listed symbols come back. */
int fs_bot_diffs_from_json(const json_t *doc, const char *name, fs_diff **d, size_t *n, fs_error *err);

/* One line for the commit status, of the worst board (a failing one first,
 * then the largest main-region change; "; N error findings" when it fails), e.g.
 * "esp8266-2m: irom0 +1,284 B, 93.1% used". */
void fs_bot_status_line(const fs_diff *d, size_t n, char *buf, size_t len);

/* Is sha a plausible commit id (7 to 64 hex digits)? */
bool fs_bot_sha_ok(const char *sha);

#endif
