/*
 * cmd_diff.c - `flashsize diff A B [A2 B2 ...] [options]`.
 *
 * Each pair is one board of the report: A is the base, B the change.  The
 * inputs are ELFs, analysis JSON files or stored builds (build:ID,
 * commit:SHA[@BOARD]); see docs/store.md.
 */
#include "cli.h"
#include "diff.h"
#include "forecast.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define DIFF_MAX_PAIRS 64

static const char diff_usage[] =
    "usage: flashsize diff BASE HEAD [BASE2 HEAD2 ...] [options]\n"
    "\n"
    "What changed from BASE to HEAD: regions, sections, frozen modules, symbols\n"
    "(added, removed, grown, shrunk; largest change first) and findings. BASE and HEAD\n"
    "are firmware ELFs, analysis JSON files (`flashsize analyze --format json`) or stored\n"
    "builds: build:ID or commit:SHA[@BOARD]. Each pair is one board of the report.\n"
    "\n"
    "  -f, --format FMT     text (default), json or markdown (the PR comment)\n"
    "      --db FILE        size database for build:/commit: (default $FLASHSIZE_DB or ./flashsize.db)\n"
    "  -b, --board NAME     board layout for ELF inputs (default: from the ELF's symbols)\n"
    "      --rules-dir DIR  rules directory (default $FLASHSIZE_RULES or the installed one)\n"
    "      --top N          symbols to list (text and markdown: 20; json: all; 0 = all)\n"
    "      --forecast       markdown: add the regions near their limit (within 30 builds or\n"
    "                       90 days at the trend of the board's history in --db)\n"
    "  -o, --output FILE    write to FILE instead of standard output\n"
    "\n"
    "Exit status: 0 HEAD has no error findings, 1 it has some, 2 bad input or usage.\n";

typedef struct diff_args {
    const char *format, *db, *board, *rules_dir, *output;
    size_t top;
    bool top_set, forecast;
    char **inputs;
    size_t ninputs;
} diff_args;

static int diff_parse(int argc, char **argv, diff_args *a)
{
    enum { OPT_DB = 256, OPT_RULES, OPT_TOP, OPT_FORECAST };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'}, {"db", required_argument, NULL, OPT_DB},
        {"board", required_argument, NULL, 'b'},  {"rules-dir", required_argument, NULL, OPT_RULES},
        {"top", required_argument, NULL, OPT_TOP}, {"output", required_argument, NULL, 'o'},
        {"forecast", no_argument, NULL, OPT_FORECAST},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    a->format = "text";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:b:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': a->format = optarg; break;
        case 'b': a->board = optarg; break;
        case 'o': a->output = optarg; break;
        case OPT_DB: a->db = optarg; break;
        case OPT_FORECAST: a->forecast = true; break;
        case OPT_RULES: a->rules_dir = optarg; break;
        case OPT_TOP:
            if (cli_parse_size("--top", optarg, &a->top) < 0)
                return -1;
            a->top_set = true;
            break;
        case 'h': fputs(diff_usage, stdout); return 1;
        default: fputs(diff_usage, stderr); return -1;
        }
    }
    if (cli_check_format(a->format, "text", "json", "markdown", NULL) < 0)
        return -1;
    if (a->forecast && strcmp(a->format, "markdown") != 0) {
        cli_error("--forecast: only with --format markdown");
        return -1;
    }
    a->inputs = argv + optind;
    a->ninputs = (size_t)(argc - optind);
    if (a->ninputs < 2 || a->ninputs % 2 || a->ninputs > 2 * DIFF_MAX_PAIRS) {
        cli_error("diff: expected BASE HEAD pairs (1 to %d), got %zu input%s", DIFF_MAX_PAIRS, a->ninputs,
                  a->ninputs == 1 ? "" : "s");
        fputs(diff_usage, stderr);
        return -1;
    }
    if (!a->top_set)
        a->top = strcmp(a->format, "json") == 0 ? 0 : 20;
    return 0;
}

/* Load one BASE/HEAD pair and compare them. */
static int diff_pair(const diff_args *a, size_t i, fs_diff *out)
{
    fs_input_opts io = {a->db, a->board, a->rules_dir};
    fs_error err = {{0}};
    json_t *base = NULL, *head = NULL;
    char *lbase = NULL, *lhead = NULL;
    int rc = -1;
    if (fs_input_load(a->inputs[i], &io, &base, &lbase, &err) == 0 &&
        fs_input_load(a->inputs[i + 1], &io, &head, &lhead, &err) == 0 &&
        fs_diff_compute(base, head, lhead, out, &err) == 0)
        rc = 0;
    else
        cli_error("%s", err.msg);
    json_decref(base);
    json_decref(head);
    free(lbase);
    free(lhead);
    return rc;
}

int cmd_diff(int argc, char **argv)
{
    diff_args a = {0};
    int parsed = diff_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    size_t npairs = a.ninputs / 2, done = 0;
    fs_diff *diffs = calloc(npairs, sizeof *diffs);
    int status = FS_EXIT_INPUT;
    fs_forecast *fc = NULL;
    size_t nfc = 0;
    if (!diffs) {
        cli_error("out of memory");
        return status;
    }
    for (; done < npairs; done++)
        if (diff_pair(&a, done * 2, &diffs[done]) < 0)
            goto done;
    if (a.forecast) {
        fs_error err = {{0}};
        if (fs_diff_forecasts(a.db, diffs, npairs, a.board, NULL, &fc, &nfc, &err) < 0) {
            cli_error("%s", err.msg);
            goto done;
        }
    }
    char *tmp;
    FILE *out = cli_open_output(a.output, &tmp);
    if (!out)
        goto done;
    int rc = strcmp(a.format, "json") == 0       ? fs_diff_write_json(out, diffs, npairs, a.top)
             : strcmp(a.format, "markdown") == 0 ? fs_diff_write_markdown_forecast(out, diffs, npairs, a.top, fc, nfc)
                                                 : fs_diff_write_text(out, diffs, npairs, a.top);
    if (cli_close_output(out, a.output, tmp, rc == 0) < 0 || rc < 0)
        goto done;
    status = FS_EXIT_OK;
    for (size_t i = 0; i < npairs; i++)
        if (!fs_diff_pass(&diffs[i]))
            status = FS_EXIT_FINDINGS;
done:
    for (size_t i = 0; i < done; i++)
        fs_diff_free(&diffs[i]);
    free(diffs);
    for (size_t i = 0; i < nfc; i++)
        fs_forecast_free(&fc[i]);
    free(fc);
    return status;
}
