/*
 * cmd_bot.c - `flashsize bot`: post or update the PR size-report comment
 * and set the commit status (docs/bot.md).
 *
 * The report is the diff's Markdown (fs_diff_write_markdown_forecast, with
 * the forecast lines of regions near their limit when --forecast is given,
 * exactly as `flashsize diff --forecast` writes it), followed by the budget
 * rules when --rules is given.  The commit status is
 * "success" when every board passes and every budget holds, else
 * "failure"; the exit status says the same (0 or 1), and 2 means the
 * report could not be made, or could not be posted for another reason than
 * GitHub refusing the write (403/404, as with a fork's read-only token: the
 * report then goes to the job summary and the verdict still decides).
 */
#include "bot.h"
#include "budget.h"
#include "cli.h"
#include "parseopt.h"
#include "diff.h"
#include "forecast.h"
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BOT_MAX_PAIRS 64

typedef struct bot_args {
    long pr;
    const char *repo, *sha, *diff, *board, *rules, *db, *rules_dir, *target_url;
    size_t top;
    bool forecast, no_status, dry_run, verbose;
    char **inputs;
    size_t ninputs;
} bot_args;

/* --pr N: a pull request number (1 or more). */
static int bot_opt_pr(const cli_option *o, char *text)
{
    long *out = o->value;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v <= 0) {
        cli_error("--pr: '%s' is not a pull request number", text);
        return -1;
    }
    *out = v;
    return 0;
}

static int bot_check_args(bot_args *a)
{
    if (!a->repo)
        a->repo = getenv("GITHUB_REPOSITORY");
    if (a->pr <= 0 || !a->repo || (!a->sha && !a->no_status)) {
        cli_error("bot: --pr, --repo (or $GITHUB_REPOSITORY) and --sha are required");
        return -1;
    }
    if (a->sha && !fs_bot_sha_ok(a->sha)) {
        cli_error("--sha: '%s' is not a commit id (7 to 64 hex digits)", a->sha);
        return -1;
    }
    if (a->diff ? a->ninputs != 0 : (a->ninputs < 2 || a->ninputs % 2 || a->ninputs > 2 * BOT_MAX_PAIRS)) {
        cli_error(a->diff ? "bot: --diff takes no BASE HEAD inputs"
                          : "bot: expected --diff FILE or BASE HEAD pairs (1 to 64), got %zu inputs",
                  a->ninputs);
        return -1;
    }
    if (a->diff && a->rules) {
        cli_error("bot: --rules needs BASE HEAD inputs, not --diff");
        return -1;
    }
    return 0;
}

static int bot_parse(int argc, char **argv, bot_args *a)
{
    a->top = 20;
    const cli_option opts[] = {
        CLI_OPT_CALLBACK('n', "pr", &a->pr, bot_opt_pr, "N", "pull request number (required)"),
        CLI_OPT_STRING('R', "repo", &a->repo, "O/N", "repository (default $GITHUB_REPOSITORY)"),
        CLI_OPT_STRING('s', "sha", &a->sha, "SHA", "commit to set the status on (required unless --no-status)"),
        CLI_OPT_STRING(0, "diff", &a->diff, "FILE", "a flashsize-diff JSON file instead of BASE HEAD inputs"),
        CLI_OPT_BOARD(&a->board, "board layout for ELF inputs; also the board --forecast looks up"),
        CLI_OPT_STRING('r', "rules", &a->rules, "FILE",
                       "budget file to check HEAD against (one BASE HEAD pair, or the\n"
                       "pair of the budget's board); a violated rule fails the status"),
        CLI_OPT_FLAG(0, "forecast", &a->forecast, "add the regions near their limit, from the board's history in --db"),
        CLI_OPT_DB(&a->db, "size database: file or postgresql:// URI (default $FLASHSIZE_DB or ./flashsize.db)"),
        CLI_OPT_RULES_DIR(&a->rules_dir),
        CLI_OPT_TOP(&a->top, "symbols listed per board (default 20)"),
        CLI_OPT_STRING(0, "target-url", &a->target_url, "URL", "link of the status (default: the Actions run, when known)"),
        CLI_OPT_FLAG(0, "no-status", &a->no_status, "do not set a commit status"),
        CLI_OPT_FLAG(0, "dry-run", &a->dry_run, "print the comment and the status instead of posting them"),
        CLI_OPT_FLAG('v', "verbose", &a->verbose, "log each HTTP request (method, URL, status) to stderr"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "bot",
        .synopsis = "flashsize bot --pr N --repo OWNER/NAME --sha SHA (--diff DIFF.json | BASE HEAD [BASE2 HEAD2 ...])\n"
                    "                     [options]",
        .about = "Post the size report as a comment on pull request N (editing the previous\n"
                 "report, found by its hidden marker) and set the commit status \"flashsize\" on SHA.\n"
                 "The report is `flashsize diff --format markdown` of the inputs (ELFs, analysis JSON\n"
                 "or stored builds), or of DIFF.json (`flashsize diff --format json`).\n",
        .options = opts,
        .epilogue = "Environment: GITHUB_TOKEN or FLASHSIZE_GITHUB_TOKEN (the token), GITHUB_API_URL\n"
                    "(default https://api.github.com; GitHub Enterprise: https://HOST/api/v3).\n"
                    "\n"
                    "The report is also appended to $GITHUB_STEP_SUMMARY (the job summary) when set.\n"
                    "When GitHub refuses the comment or status (403 or 404: the read-only token of a\n"
                    "pull request from a fork), the bot says so in one line and keeps the report in the\n"
                    "job summary (stdout without one); the exit status is still the verdict.\n"
                    "\n"
                    "Exit status: 0 passing, 1 failing (error findings or a violated budget), whether\n"
                    "posted or refused; 2 bad input, usage or another GitHub or network error.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    a->inputs = argv + first;
    a->ninputs = (size_t)(argc - first);
    if (bot_check_args(a) < 0) {
        cli_usage(&cmd, stderr);
        return -1;
    }
    return 0;
}

/* What the report is made of. */
typedef struct bot_report {
    fs_diff *diffs;
    size_t n;
    json_t *base, *head;       /* the budget's pair, when --rules */
    fs_budget budget;
    bool has_budget;
    fs_budget_result result;
    fs_forecast *forecasts;    /* one per board, when --forecast */
    size_t nforecasts;
} bot_report;

static void bot_report_free(bot_report *r)
{
    for (size_t i = 0; r->diffs && i < r->n; i++)
        fs_diff_free(&r->diffs[i]);
    free(r->diffs);
    json_decref(r->base);
    json_decref(r->head);
    fs_budget_result_free(&r->result);
    fs_budget_free(&r->budget);
    for (size_t i = 0; i < r->nforecasts; i++)
        fs_forecast_free(&r->forecasts[i]);
    free(r->forecasts);
}

static int bot_load_diff(const char *path, bot_report *r, fs_error *err)
{
    json_error_t je;
    unsigned char *text;
    size_t len;
    if (fs_read_file(path, FS_ANALYSIS_MAX_FILE_BYTES, "JSON file", &text, &len, err) < 0)
        return -1;
    json_t *doc = json_loadb((const char *)text, len, 0, &je);
    free(text);
    if (!doc)
        return fs_fail(err, "%s:%d: %s", path, je.line, je.text);
    int rc = fs_bot_diffs_from_json(doc, path, &r->diffs, &r->n, err);
    json_decref(doc);
    return rc;
}

/* Load and compare each BASE HEAD pair; keep the budget's pair. */
static int bot_load_pairs(const bot_args *a, bot_report *r, fs_error *err)
{
    size_t npairs = a->ninputs / 2;
    if (!(r->diffs = calloc(npairs, sizeof *r->diffs)))
        return fs_fail(err, "out of memory");
    fs_input_opts io = {a->db, a->board, a->rules_dir};
    for (size_t i = 0; i < npairs; i++) {
        json_t *base = NULL, *head = NULL;
        char *lb = NULL, *lh = NULL;
        int rc = fs_input_load(a->inputs[2 * i], &io, &base, &lb, err) == 0 &&
                         fs_input_load(a->inputs[2 * i + 1], &io, &head, &lh, err) == 0 &&
                         fs_diff_compute(base, head, lh, &r->diffs[i], err) == 0
                     ? 0
                     : -1;
        if (rc == 0)
            r->n = i + 1;
        bool keep = rc == 0 && r->has_budget && !r->head &&
                    (npairs == 1 || (lh && r->budget.board && strcmp(lh, r->budget.board) == 0));
        if (keep)
            r->base = base, r->head = head;
        else
            json_decref(base), json_decref(head);
        free(lb);
        free(lh);
        if (rc < 0)
            return -1;
    }
    if (r->has_budget && !r->head)
        return fs_fail(err, "%s: no BASE HEAD pair is of board '%s'", a->rules, r->budget.board);
    return 0;
}

/* The forecast of each board of the report, from the store. */
static int bot_forecasts(const bot_args *a, bot_report *r, fs_error *err)
{
    return fs_diff_forecasts(a->db, r->diffs, r->n, a->board, r->has_budget ? &r->budget : NULL, &r->forecasts,
                             &r->nforecasts, err);
}

static int bot_build(const bot_args *a, bot_report *r, fs_error *err)
{
    if (a->rules) {
        r->has_budget = true;
        if (fs_budget_load(a->rules, &r->budget, err) < 0)
            return -1;
    }
    if (a->diff ? bot_load_diff(a->diff, r, err) < 0 : bot_load_pairs(a, r, err) < 0)
        return -1;
    if (r->has_budget && fs_budget_check(&r->budget, r->head, r->base, &r->result, err) < 0)
        return -1;
    if (a->forecast && bot_forecasts(a, r, err) < 0)
        return -1;
    return 0;
}

static bool bot_pass(const bot_report *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (!fs_diff_pass(&r->diffs[i]))
            return false;
    return !r->has_budget || r->result.failed == 0;
}

static void bot_write_budget(FILE *out, const bot_report *r, const char *path)
{
    static const char *const names[] = {"pass", "WARN", "**FAIL**", "skipped"};
    const char *base = strrchr(path, '/');
    fprintf(out, "\n#### Budgets (%s)\n\n", base ? base + 1 : path);
    /* only the violated and warned rules; the others are counted */
    size_t shown = 0;
    for (size_t i = 0; i < r->result.nrules; i++) {
        const fs_rule_result *x = &r->result.rules[i];
        if (x->status != FS_RULE_FAIL && x->status != FS_RULE_WARN)
            continue;
        fprintf(out, "- %s %s: %s\n", names[x->status], x->rule, x->message ? x->message : "");
        shown++;
    }
    size_t passed = r->result.nrules - r->result.failed - r->result.warned - r->result.skipped;
    fprintf(out, "%s%zu rule%s pass%s", shown ? "\n" : "", passed, passed == 1 ? "" : "s", passed == 1 ? "es" : "");
    if (r->result.skipped)
        fprintf(out, ", %zu skipped", r->result.skipped);
    fputs(".\n", out);
    if (r->result.failed)
        fprintf(out, "\n**Budgets: fail** - %zu rule%s violated.\n", r->result.failed, r->result.failed == 1 ? "" : "s");
    else
        fprintf(out, "\n**Budgets: pass** - %zu rule%s checked.\n", r->result.nrules, r->result.nrules == 1 ? "" : "s");
}

/* The comment body (malloc'd) with top symbols per board. */
static char *bot_compose(const bot_args *a, const bot_report *r, size_t top)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return NULL;
    /* the forecast block is part of the diff's Markdown, as `diff --forecast` writes it */
    int rc = fs_diff_write_markdown_forecast(out, r->diffs, r->n, top, r->forecasts, r->nforecasts);
    if (r->has_budget)
        bot_write_budget(out, r, a->rules);
    if (fclose(out) != 0 || rc < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Still over GitHub's limit with one symbol per board: the details go before
 * the summary.  Keep the board lines (and their findings) up to the first
 * <details>, then the result line; if the board lines alone are too long,
 * they are cut at a line end.  body is shortened in place. */
static void bot_cut(char *body)
{
    static const char note[] = "\n_Details cut: the report is larger than GitHub's 65,536-character comment limit._\n";
    char tail[256] = "";
    const char *res = strstr(body, "\n**Result: ");
    if (res) {
        const char *eol = strchr(res + 1, '\n');
        snprintf(tail, sizeof tail, "%.*s", (int)(eol ? eol - res + 1 : (long)strlen(res)), res);
    }
    char *det = strstr(body, "<details>");
    size_t keep = det ? (size_t)(det - body) : strlen(body);
    size_t room = FS_BOT_MAX_COMMENT - strlen(note) - strlen(tail) - 1;
    if (keep > room) {
        keep = room;
        while (keep > 0 && body[keep - 1] != '\n')
            keep--;
    }
    body[keep] = '\0';
    strcat(body, note);
    strcat(body, tail);
}

/* The Actions run's page, when the runner's variables are there. */
static char *bot_default_url(void)
{
    const char *srv = getenv("GITHUB_SERVER_URL"), *repo = getenv("GITHUB_REPOSITORY"), *run = getenv("GITHUB_RUN_ID");
    if (!srv || !repo || !run || !*srv || !*repo || !*run)
        return NULL;
    size_t n = strlen(srv) + strlen(repo) + strlen(run) + 32;
    char *url = malloc(n);
    if (url)
        snprintf(url, n, "%s/%s/actions/runs/%s", srv, repo, run);
    return url;
}

static void bot_log(void *ctx, const char *method, const char *url, long status, int attempt)
{
    (void)ctx;
    if (status)
        fprintf(stderr, "flashsize: bot: %s %s -> %ld (attempt %d)\n", method, url, status, attempt);
    else
        fprintf(stderr, "flashsize: bot: %s %s -> no answer (attempt %d)\n", method, url, attempt);
}

/* A whole number from the environment, or def. */
static long bot_env_long(const char *name, long def, long max)
{
    const char *v = getenv(name);
    char *end;
    long x = v ? strtol(v, &end, 10) : def;
    return v && (end == v || *end || x < 0 || x > max) ? def : x;
}

/* Was a write refused by GitHub itself (not the network, not bad input)?
 * 403: a read-only token (every pull_request run from a fork) or a missing
 * permission; 404: the token cannot see the repository as a writer. */
static bool bot_refused(const fs_github *gh)
{
    return gh->last_status == 403 || gh->last_status == 404;
}

/* Post the comment and the status.  0 done; 1 GitHub refused a write (403 or
 * 404: err says which), the report goes to the job summary instead; -1 any
 * other failure (exit 2). */
static int bot_post(const bot_args *a, const char *body, const char *state, const char *desc, const char *url,
                    fs_error *err)
{
    const char *token = getenv("FLASHSIZE_GITHUB_TOKEN");
    if (!token || !*token)
        token = getenv("GITHUB_TOKEN");
    fs_github gh;
    if (fs_github_init(&gh, getenv("GITHUB_API_URL"), token, a->repo, err) < 0)
        return -1;
    gh.backoff_ms = (unsigned)bot_env_long("FLASHSIZE_BOT_BACKOFF_MS", 1000, 60000);
    gh.timeout_s = bot_env_long("FLASHSIZE_BOT_TIMEOUT", 30, 3600);
    gh.attempts = (int)bot_env_long("FLASHSIZE_BOT_ATTEMPTS", 4, 10);
    if (gh.timeout_s == 0)
        gh.timeout_s = 30;
    if (a->verbose)
        gh.log = bot_log;
    int64_t id = 0, got = 0;
    int rc = fs_github_find_comment(&gh, a->pr, FS_BOT_MARKER, &id, err);
    if (rc == 0) {
        rc = fs_github_put_comment(&gh, a->pr, id, body, &got, err);
        if (rc < 0 && bot_refused(&gh))
            rc = 1;
    }
    if (rc == 0)
        printf("%s comment %lld on %s/%s#%ld\n", id ? "updated" : "created", (long long)got, gh.owner, gh.name, a->pr);
    /* a token refused the comment is refused the status too: not asked twice */
    if (rc == 0 && !a->no_status) {
        rc = fs_github_set_status(&gh, a->sha, state, FS_BOT_STATUS_CONTEXT, desc, url, err);
        if (rc == 0)
            printf("status %s on %s: %s\n", state, a->sha, desc);
        else if (bot_refused(&gh))
            rc = 1;
    }
    fs_github_free(&gh);
    return rc;
}

/* Append the report to the job summary ($GITHUB_STEP_SUMMARY, Markdown shown
 * on the run's page) when the runner gives one; 0 written or none asked for. */
static int bot_summary(const char *body, const char *state, const char *desc, fs_error *err)
{
    const char *path = getenv("GITHUB_STEP_SUMMARY");
    if (!path || !*path)
        return 0;
    FILE *f = fopen(path, "a");
    if (!f)
        return fs_fail(err, "%s (GITHUB_STEP_SUMMARY): %s", path, strerror(errno));
    fprintf(f, "%s\n**Status (%s): %s** - %s\n", body, FS_BOT_STATUS_CONTEXT, state, desc);
    if (fclose(f) != 0)
        return fs_fail(err, "%s (GITHUB_STEP_SUMMARY): %s", path, strerror(errno));
    return 0;
}

int cmd_bot(int argc, char **argv)
{
    bot_args a = {0};
    int parsed = bot_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    bot_report r = {0};
    fs_error err = {{0}};
    char *body = NULL, *url = NULL;
    int status = FS_EXIT_INPUT;
    if (bot_build(&a, &r, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    /* shrink the symbol tables until the comment fits GitHub's limit */
    static const size_t tops[] = {0, 5, 1};
    for (size_t i = 0; i < sizeof tops / sizeof *tops; i++) {
        free(body);
        body = bot_compose(&a, &r, i == 0 ? a.top : tops[i]);
        if (!body || strlen(body) <= FS_BOT_MAX_COMMENT)
            break;
    }
    if (body && strlen(body) > FS_BOT_MAX_COMMENT)
        bot_cut(body);
    if (!body) {
        cli_error("bot: out of memory");
        goto done;
    }
    bool pass = bot_pass(&r);
    const char *state = pass ? "success" : "failure";
    char desc[FS_BOT_MAX_DESCRIPTION + 64];
    fs_bot_status_line(r.diffs, r.n, desc, sizeof desc);
    if (r.has_budget && r.result.failed)
        snprintf(desc + strlen(desc), sizeof desc - strlen(desc), "; %zu budget rule%s violated", r.result.failed,
                 r.result.failed == 1 ? "" : "s");
    url = a.target_url ? strdup(a.target_url) : bot_default_url();
    if (a.dry_run) {
        printf("--- comment on %s#%ld (%zu bytes) ---\n%s--- end of comment ---\n", a.repo, a.pr, strlen(body), body);
        if (!a.no_status)
            printf("status %s on %s: %s: %s\n", state, a.sha, FS_BOT_STATUS_CONTEXT, desc);
    } else {
        int posted = bot_post(&a, body, state, desc, url, &err);
        if (posted < 0) {
            cli_error("%s", err.msg);
            goto done;
        }
        if (posted > 0) {
            /* GitHub refused the write (a fork's read-only token): one line, and
             * the report where the run can still show it; the verdict decides */
            const char *sp = getenv("GITHUB_STEP_SUMMARY");
            fprintf(stderr, "flashsize: bot: not posted, GitHub refused the write (%s); the report is %s\n", err.msg,
                    sp && *sp ? "in the job summary" : "on stdout");
            if (!sp || !*sp)
                printf("%s", body);
        }
    }
    if (!a.dry_run && bot_summary(body, state, desc, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    status = fflush(stdout) == 0 ? (pass ? FS_EXIT_OK : FS_EXIT_FINDINGS) : FS_EXIT_INPUT;
done:
    free(body);
    free(url);
    bot_report_free(&r);
    return status;
}
