/*
 * cmd_diff.c - `flashsize diff A B [A2 B2 ...] [options]`.
 *
 * Each pair is one board of the report: A is the base, B the change.  The
 * inputs are ELFs, analysis JSON files or stored builds (build:ID,
 * commit:SHA[@BOARD]); see docs/store.md.
 */
#include "cli.h"
#include "parseopt.h"
#include "diff.h"
#include "forecast.h"

#include <stdlib.h>
#include <string.h>

#define DIFF_MAX_PAIRS 64

typedef struct diff_args {
    const char *format, *db, *board, *rules_dir, *output;
    size_t top;
    bool top_set, forecast;
    char **inputs;
    size_t ninputs;
} diff_args;

static int diff_parse(int argc, char **argv, diff_args *a)
{
    a->format = "text";
    const cli_option opts[] = {
        CLI_OPT_FORMAT(&a->format, "text (default), json or markdown (the PR comment)", "text", "json", "markdown"),
        CLI_OPT_DB(&a->db, "store for build:/commit:, file or postgresql:// URI (default $FLASHSIZE_DB or ./flashsize.db)"),
        CLI_OPT_BOARD(&a->board, "board layout for ELF inputs (default: from the ELF's symbols)"),
        CLI_OPT_RULES_DIR(&a->rules_dir),
        {.kind = CLI_SIZE, .long_name = "top", .value = &a->top, .arg = "N", .given = &a->top_set,
         .help = "symbols to list (text and markdown: 20; json: all; 0 = all)"},
        CLI_OPT_FLAG(0, "forecast", &a->forecast, "markdown: add the regions near their limit (within 30 builds or\n"
                                                  "90 days at the trend of the board's history in --db)"),
        CLI_OPT_OUTPUT(&a->output, "write to FILE instead of standard output"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "diff",
        .synopsis = "flashsize diff BASE HEAD [BASE2 HEAD2 ...] [options]",
        .about = "What changed from BASE to HEAD: regions, sections, frozen modules, symbols\n"
                 "(added, removed, grown, shrunk; largest change first) and findings. BASE and HEAD\n"
                 "are firmware ELFs, analysis JSON files (`flashsize analyze --format json`) or stored\n"
                 "builds: build:ID or commit:SHA[@BOARD]. Each pair is one board of the report.\n",
        .options = opts,
        .epilogue = "Exit status: 0 HEAD has no error findings, 1 it has some, 2 bad input or usage.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (a->forecast && strcmp(a->format, "markdown") != 0) {
        cli_error("--forecast: only with --format markdown");
        return -1;
    }
    a->inputs = argv + first;
    a->ninputs = (size_t)(argc - first);
    if (a->ninputs < 2 || a->ninputs % 2 || a->ninputs > 2 * DIFF_MAX_PAIRS) {
        cli_error("diff: expected BASE HEAD pairs (1 to %d), got %zu input%s", DIFF_MAX_PAIRS, a->ninputs,
                  a->ninputs == 1 ? "" : "s");
        cli_usage(&cmd, stderr);
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
