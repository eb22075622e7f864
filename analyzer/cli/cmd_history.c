/*
 * cmd_history.c - `flashsize history --board NAME`: a board's last builds
 * from the size database, with the main region's used bytes and the change
 * from the previous build of the same branch, then the forecast of those builds: per region the
 * trend (fs_forecast_load over the same builds) and when it runs out.
 */
#include "cli.h"
#include "parseopt.h"
#include "diff.h"
#include "forecast.h"
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct history_args {
    const char *db, *format;
    fs_history_query q;
} history_args;

static int history_parse(int argc, char **argv, history_args *a)
{
    a->format = "text";
    const cli_option opts[] = {
        CLI_OPT_BOARD(&a->q.board, "board (required)"),
        CLI_OPT_PROJECT(&a->q.project, "only this project"),
        CLI_OPT_BRANCH(&a->q.branch, "only this branch"),
        CLI_OPT_SIZE_RANGE('n', "limit", &a->q.limit, "N", 1, 100000, "builds to show (default 20)"),
        CLI_OPT_FORMAT(&a->format, NULL, "text", "json"),
        CLI_OPT_DB(&a->db, "file or postgresql:// URI (default $FLASHSIZE_DB or ./flashsize.db)"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "history",
        .synopsis = "flashsize history --board NAME [options]",
        .about = "The last builds of a board in the size database, newest first: the main region's\n"
                 "used bytes (irom0_0_seg on ESP8266, else the largest flash region) and the change\n"
                 "from the previous build of the same branch (a pull request's build is never\n"
                 "measured against main's, nor main's against a pull request's); then the forecast\n"
                 "over the same builds: per region the\n"
                 "bytes per build and per day (least squares) and when, at that trend, it runs out.\n",
        .options = opts,
        .epilogue = "Exit status: 0 shown, 2 bad input, usage or a database error.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (!a->q.board || first != argc) {
        cli_error(!a->q.board ? "history: --board NAME is required" : "history: unexpected argument '%s'",
                  argv[first]);
        cli_usage(&cmd, stderr);
        return -1;
    }
    return 0;
}

static void history_date(int64_t ts, char *buf, size_t len)
{
    time_t t = (time_t)ts;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M", &tm))
        snprintf(buf, len, "%lld", (long long)ts);
}

static void history_text(const char *board, const fs_history_row *rows, size_t n)
{
    printf("%s: last %zu build%s, newest first\n", board, n, n == 1 ? "" : "s");
    printf("  %6s  %-12s  %-16s  %-16s  %-14s  %12s  %10s  %7s\n", "build", "commit", "branch", "date (UTC)", "region",
           "used", "delta", "use%");
    for (size_t i = 0; i < n; i++) {
        const fs_history_row *r = &rows[i];
        char date[32], used[32], delta[40];
        history_date(r->build.timestamp, date, sizeof date);
        fs_fmt_bytes(used, sizeof used, r->used);
        if (r->has_prev)
            fs_fmt_delta(delta, sizeof delta, r->delta);
        else
            snprintf(delta, sizeof delta, "-");
        printf("  %6lld  %-12.12s  %-16.16s  %-16s  %-14s  %12s  %10s  %6.2f%%\n", (long long)r->build.id,
               r->build.commit, r->build.branch ? r->build.branch : "-", date, r->region ? r->region : "-", used,
               delta, r->length ? (double)r->used * 100.0 / (double)r->length : 0.0);
    }
}

static int history_json(const char *board, const fs_history_row *rows, size_t n, const fs_forecast *f)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "schema", json_string("flashsize-history"));
    json_object_set_new(doc, "schema_version", json_integer(1));
    json_object_set_new(doc, "board", json_string(board));
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const fs_history_row *r = &rows[i];
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(r->build.id));
        json_object_set_new(o, "project", json_string(r->build.project));
        json_object_set_new(o, "commit", json_string(r->build.commit));
        json_object_set_new(o, "branch", r->build.branch ? json_string(r->build.branch) : json_null());
        json_object_set_new(o, "parent", r->build.parent ? json_string(r->build.parent) : json_null());
        json_object_set_new(o, "pr", r->build.pr ? json_integer(r->build.pr) : json_null());
        json_object_set_new(o, "timestamp", json_integer(r->build.timestamp));
        json_object_set_new(o, "tool_version", r->build.tool_version ? json_string(r->build.tool_version) : json_null());
        json_object_set_new(o, "region", r->region ? json_string(r->region) : json_null());
        json_object_set_new(o, "used", json_integer((json_int_t)r->used));
        json_object_set_new(o, "length", json_integer((json_int_t)r->length));
        json_object_set_new(o, "prev", r->has_prev ? json_integer(r->prev_id) : json_null());
        json_object_set_new(o, "delta", r->has_prev ? json_integer(r->delta) : json_null());
        json_array_append_new(arr, o);
    }
    json_object_set_new(doc, "builds", arr);
    json_object_set_new(doc, "forecast", fs_forecast_json(f));
    int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return rc == 0 && fputc('\n', stdout) != EOF ? 0 : -1;
}

int cmd_history(int argc, char **argv)
{
    history_args a = {0};
    int parsed = history_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    fs_error err = {{0}};
    fs_store *s;
    fs_store_opts so = {.readonly = true};
    fs_history_row *rows = NULL;
    size_t n = 0;
    fs_forecast f = {0};
    if (fs_store_open(fs_store_path(a.db), &so, &s, &err) < 0) {
        return cli_fail(&err);
    }
    /* the forecast looks at the builds the table shows */
    size_t shown = a.q.limit ? a.q.limit : 20;
    fs_forecast_opts fo = {shown < FS_FORECAST_MAX_WINDOW ? shown : FS_FORECAST_MAX_WINDOW, 0, 0};
    int rc = fs_store_history(s, &a.q, &rows, &n, &err);
    if (rc == 0)
        rc = fs_forecast_load(s, &a.q, &fo, NULL, &f, &err);
    fs_store_close(s);
    if (rc < 0) {
        cli_error("%s", err.msg);
        fs_history_free(rows, n);
        fs_forecast_free(&f);
        return FS_EXIT_INPUT;
    }
    if (strcmp(a.format, "json") == 0) {
        rc = history_json(a.q.board, rows, n, &f);
    } else {
        history_text(a.q.board, rows, n);
        if (n > 0)
            rc = fputs("\nforecast - ", stdout) < 0 ? -1 : fs_forecast_write_text(stdout, &f);
    }
    fs_history_free(rows, n);
    fs_forecast_free(&f);
    if (rc < 0 || fflush(stdout) != 0) {
        cli_output_failed(errno);
        return FS_EXIT_INPUT;
    }
    return FS_EXIT_OK;
}
