/*
 * cmd_forecast.c - `flashsize forecast --board B`: the trend of each region
 * over a board's last builds in the size database and when, at that trend,
 * it runs out (docs/bot.md, "Forecast").
 */
#include "budget.h"
#include "cli.h"
#include "forecast.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char forecast_usage[] =
    "usage: flashsize forecast --board NAME [options]\n"
    "\n"
    "For each region of a board: the least-squares trend of its used bytes over the\n"
    "last N builds in the size database (bytes per build and per day) and when, at that\n"
    "trend, it reaches its length (or the budget's max with --rules).\n"
    "\n"
    "  -b, --board NAME     board (required)\n"
    "  -p, --project P      only this project\n"
    "      --branch NAME    only this branch\n"
    "  -n, --builds N       builds to fit (default 20)\n"
    "  -r, --rules FILE     budget file: its max replaces a region's length as the limit\n"
    "      --near-builds N  a region is near when it runs out within N builds (default 30)\n"
    "      --near-days N    ... or within N days (default 90)\n"
    "  -f, --format FMT     text (default), json or markdown (the PR comment's lines)\n"
    "      --db FILE        database (default $FLASHSIZE_DB or ./flashsize.db)\n"
    "\n"
    "Exit status: 0 shown, 2 bad input, usage or a database error.\n";

typedef struct forecast_args {
    const char *db, *format, *rules;
    fs_history_query q;
    fs_forecast_opts o;
} forecast_args;

static int forecast_parse(int argc, char **argv, forecast_args *a)
{
    enum { OPT_BRANCH = 256, OPT_DB, OPT_NEAR_B, OPT_NEAR_D };
    static const struct option longopts[] = {
        {"board", required_argument, NULL, 'b'},         {"project", required_argument, NULL, 'p'},
        {"branch", required_argument, NULL, OPT_BRANCH}, {"builds", required_argument, NULL, 'n'},
        {"rules", required_argument, NULL, 'r'},         {"near-builds", required_argument, NULL, OPT_NEAR_B},
        {"near-days", required_argument, NULL, OPT_NEAR_D}, {"format", required_argument, NULL, 'f'},
        {"db", required_argument, NULL, OPT_DB},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    a->format = "text";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "b:p:n:r:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': a->q.board = optarg; break;
        case 'p': a->q.project = optarg; break;
        case 'r': a->rules = optarg; break;
        case 'f': a->format = optarg; break;
        case OPT_BRANCH: a->q.branch = optarg; break;
        case OPT_DB: a->db = optarg; break;
        case 'n':
            if (cli_parse_size("--builds", optarg, &a->o.window) < 0)
                return -1;
            if (a->o.window < 2 || a->o.window > FS_FORECAST_MAX_WINDOW) {
                cli_error("--builds: '%s' is not from 2 to %d", optarg, FS_FORECAST_MAX_WINDOW);
                return -1;
            }
            break;
        case OPT_NEAR_B:
            if (cli_parse_double("--near-builds", optarg, 1, 1e9, &a->o.near_builds) < 0)
                return -1;
            break;
        case OPT_NEAR_D:
            if (cli_parse_double("--near-days", optarg, 1, 1e9, &a->o.near_days) < 0)
                return -1;
            break;
        case 'h': fputs(forecast_usage, stdout); return 1;
        default: fputs(forecast_usage, stderr); return -1;
        }
    }
    if (cli_check_format(a->format, "text", "json", "markdown", (char *)NULL) < 0)
        return -1;
    if (!a->q.board || optind != argc) {
        cli_error(!a->q.board ? "forecast: --board NAME is required" : "forecast: unexpected argument '%s'",
                  argv[optind]);
        fputs(forecast_usage, stderr);
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
        cli_error("%s: no builds of board '%s'", fs_store_path(a.db), a.q.board);
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
