/*
 * cmd_check.c - `flashsize check FIRMWARE --rules FILE [--base BASE]`: the CI
 * gate.  Evaluates a budget file against an analysis and exits 1 on any
 * violated rule, printing each rule with its numbers.  The analysis's own
 * error findings (a firmware that does not fit or will not boot) fail the
 * gate too, whatever the budget says, and are listed first.
 */
#include "board.h"
#include "budget.h"
#include "cli.h"
#include "parseopt.h"
#include "diff.h"

#include <stdlib.h>
#include <string.h>

typedef struct check_args {
    const char *input, *rules, *base, *db, *rules_dir;
} check_args;

static int check_parse(int argc, char **argv, check_args *a)
{
    const cli_option opts[] = {
        CLI_OPT_STRING('r', "rules", &a->rules, "FILE", "the budget file (required)"),
        CLI_OPT_STRING(0, "base", &a->base, "BASE", "the build to measure growth against"),
        CLI_OPT_DB(&a->db, "store for build:/commit:, file or postgresql:// URI (default $FLASHSIZE_DB or ./flashsize.db)"),
        CLI_OPT_RULES_DIR(&a->rules_dir),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "check",
        .synopsis = "flashsize check FIRMWARE --rules FILE [--base BASE] [options]",
        .about = "Check size budgets (rules/budgets/*.ini): region maximums and warning levels,\n"
                 "growth per change, frozen totals and per-module maximums, new large symbols.\n"
                 "FIRMWARE and BASE are ELFs, analysis JSON files or stored builds (build:ID,\n"
                 "commit:SHA[@BOARD]). Growth and new-symbol rules need --base; without it they\n"
                 "are skipped and said so. An ELF is analyzed with the budget's board layout when\n"
                 "the rules directory has one of that name. The analysis's error findings (a region\n"
                 "overflow, a firmware that will not boot: window-exhausted, boot-segments-overflow,\n"
                 "irom0-overflow, romfs-overlap) fail the check whatever the budget allows.\n",
        .options = opts,
        .epilogue = "Exit status: 0 every budget holds and no error finding, 1 a budget is violated or\n"
                    "the analysis has an error finding, 2 bad input or usage (a bad budget file: FILE:LINE).\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (!a->rules) {
        cli_error("check: --rules FILE is required");
        cli_usage(&cmd, stderr);
        return -1;
    }
    if (!(a->input = cli_operand_of(&cmd, argv, first, argc, "firmware")))
        return -1;
    return 0;
}

/* The analysis's error findings (a region overflow, a firmware that will not
 * boot: window-exhausted, boot-segments-overflow, irom0-overflow,
 * romfs-overlap, ...): printed first, and each one fails the check whatever
 * the budget allows.  Returns how many there are. */
static size_t check_print_errors(const json_t *head)
{
    size_t n = 0, i;
    const json_t *f;
    json_array_foreach(json_object_get(head, "findings"), i, f) {
        const char *sev = json_string_value(json_object_get(f, "severity"));
        if (!sev || strcmp(sev, "error") != 0)
            continue;
        const char *id = json_string_value(json_object_get(f, "id"));
        const char *msg = json_string_value(json_object_get(f, "message"));
        printf("  ERROR %s: %s\n", id ? id : "?", msg ? msg : "");
        n++;
    }
    return n;
}

static void check_print(const fs_budget *b, const char *input, const json_t *head, const fs_budget_result *r,
                        size_t *errors)
{
    static const char *const tags[] = {"ok  ", "warn", "FAIL", "skip"};
    printf("check %s (%s) on %s\n", b->board, b->path, input);
    *errors = check_print_errors(head);
    for (size_t i = 0; i < r->nrules; i++)
        printf("  %s  %s: %s\n", tags[r->rules[i].status], r->rules[i].rule, r->rules[i].message);
    printf("Result: %s - ", r->failed || *errors ? "FAIL" : "PASS");
    if (*errors)
        printf("will not boot or does not fit (%zu error finding%s); ", *errors, *errors == 1 ? "" : "s");
    printf("%zu of %zu rule%s violated, %zu warning%s, %zu skipped\n", r->failed, r->nrules, r->nrules == 1 ? "" : "s",
           r->warned, r->warned == 1 ? "" : "s", r->skipped);
}

int cmd_check(int argc, char **argv)
{
    check_args a = {0};
    int parsed = check_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    fs_error err = {{0}};
    fs_budget b;
    json_t *head = NULL, *base = NULL;
    char *lhead = NULL, *lbase = NULL, *layout = NULL;
    int status = FS_EXIT_INPUT;
    if (fs_budget_load(a.rules, &b, &err) < 0) {
        cli_error("%s", err.msg);
        return status;
    }
    layout = fs_board_layout_path(a.rules_dir, b.board);
    fs_input_opts io = {a.db, layout, a.rules_dir};
    fs_budget_result r = {0};
    if (fs_input_load(a.input, &io, &head, &lhead, &err) < 0 ||
        (a.base && fs_input_load(a.base, &io, &base, &lbase, &err) < 0))
        goto fail;
    const char *doc_board = json_string_value(json_object_get(json_object_get(head, "board"), "name"));
    if (doc_board && strcmp(doc_board, b.board) != 0) {
        fs_fail(&err, "%s: the analysis is for board '%s', the rules in %s for '%s'", a.input, doc_board, a.rules,
                b.board);
        goto fail;
    }
    if (fs_budget_check(&b, head, base, &r, &err) < 0)
        goto fail;
    size_t errors;
    check_print(&b, a.input, head, &r, &errors);
    status = r.failed || errors ? FS_EXIT_FINDINGS : FS_EXIT_OK;
    if (fflush(stdout) != 0)
        status = FS_EXIT_INPUT;
    fs_budget_result_free(&r);
    goto done;
fail:
    status = cli_fail(&err);
done:
    json_decref(head);
    json_decref(base);
    free(lhead);
    free(lbase);
    free(layout);
    fs_budget_free(&b);
    return status;
}
