/*
 * cmd_forecast.c - `flashsize forecast --board B`: the trend of each region
 * over a board's last builds in the size database and when, at that trend,
 * it runs out (docs/bot.md, "Forecast").
 */
#include "budget.h"
#include "cli.h"
#include "parseopt.h"
#include "forecast.h"
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct forecast_args {
    const char *db, *format, *rules;
    fs_history_query q;
    fs_forecast_opts o;
} forecast_args;

static int forecast_parse(int argc, char **argv, forecast_args *a)
{
    a->format = "text";
    const cli_option opts[] = {
        CLI_OPT_BOARD(&a->q.board, "board (required)"),
        CLI_OPT_PROJECT(&a->q.project, "only this project"),
        CLI_OPT_BRANCH(&a->q.branch, "only this branch"),
        CLI_OPT_SIZE_RANGE('n', "builds", &a->o.window, "N", 2, FS_FORECAST_MAX_WINDOW, "builds to fit (default 20)"),
        CLI_OPT_STRING('r', "rules", &a->rules, "FILE", "budget file: its max replaces a region's length as the limit"),
        CLI_OPT_DOUBLE(0, "near-builds", &a->o.near_builds, "N", 1, 1e9,
                       "a region is near when it runs out within N builds (default 30)"),
        CLI_OPT_DOUBLE(0, "near-days", &a->o.near_days, "N", 1, 1e9, "... or within N days (default 90)"),
        CLI_OPT_FORMAT(&a->format, "text (default), json or markdown (the PR comment's lines)", "text", "json",
                       "markdown"),
        CLI_OPT_DB(&a->db, "file or postgresql:// URI (default $FLASHSIZE_DB or ./flashsize.db)"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "forecast",
        .synopsis = "flashsize forecast --board NAME [options]",
        .about = "For each region of a board: the least-squares trend of its used bytes over the\n"
                 "last N builds in the size database (bytes per build and per day) and when, at that\n"
                 "trend, it reaches its length (or the budget's max with --rules).\n",
        .options = opts,
        .epilogue = "Exit status: 0 shown, 2 bad input, usage or a database error.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (!a->q.board || first != argc) {
        cli_error(!a->q.board ? "forecast: --board NAME is required" : "forecast: unexpected argument '%s'",
                  argv[first]);
        cli_usage(&cmd, stderr);
        return -1;
    }
    return 0;
}

int cmd_forecast(int argc, char **argv)
{
    forecast_args a = {0};
    int parsed = forecast_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    fs_error err = {{0}};
    fs_budget budget = {0};
    fs_forecast f = {0};
    fs_store *s = NULL;
    fs_store_opts so = {.readonly = true};
    int status = FS_EXIT_INPUT;
    if ((a.rules && fs_budget_load(a.rules, &budget, &err) < 0) ||
        fs_store_open(fs_store_path(a.db), &so, &s, &err) < 0 ||
        fs_forecast_load(s, &a.q, &a.o, a.rules ? &budget : NULL, &f, &err) < 0) {
        cli_error("%s", err.msg);
        goto done;
    }
    if (f.builds == 0) {
        cli_error("%s: no builds of board '%s'", fs_store_name(s), a.q.board);
        goto done;
    }
    int rc = strcmp(a.format, "json") == 0       ? fs_forecast_write_json(stdout, &f)
             : strcmp(a.format, "markdown") == 0 ? fs_forecast_write_markdown(stdout, &f, NULL)
                                                 : fs_forecast_write_text(stdout, &f);
    if (rc < 0 || fflush(stdout) != 0)
        cli_output_failed(errno);
    else
        status = FS_EXIT_OK;
done:
    fs_forecast_free(&f);
    fs_store_close(s);
    fs_budget_free(&budget);
    return status;
}
