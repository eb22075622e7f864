/*
 * fuzz_budget.c - libFuzzer harness for budget rule files (fs_budget_load:
 * INI through fs_ini_load and inih, GNU ld expressions in byte values,
 * percentages, strict keys).  The input is written to "budget.ini" in the
 * harness's private directory and loaded by path, as the CLI loads it.
 *
 * An accepted budget is then evaluated (fs_budget_check) against a real
 * analysis document, the committed seed
 * tests/fuzz/corpus/analysis_json/esp8266-frozen.json (read once per
 * process, from the repository root where fuzz.sh and the tests run), once
 * without a base and once against itself as the base.  Besides not
 * crashing, the evaluation must keep its own books: the failed, warned and
 * skipped counts match the rules' statuses, every rule has a name and a
 * message, and without a base no growth or new-symbol rule passes or fails.
 * A refused evaluation (a region the analysis lacks) must name the file.
 */
#include "fuzz.h"

#include "budget.h"

#include <jansson.h>

#define FUZZ_BUDGET_DOC "tests/fuzz/corpus/analysis_json/esp8266-frozen.json"

int fuzz_budget_run(const uint8_t *data, size_t size);

/* The analysis the budgets are checked against, loaded on first use and
 * kept for the life of the process. */
static const json_t *fuzz_budget_doc(void)
{
    static json_t *doc;
    if (!doc) {
        json_error_t je;
        doc = json_load_file(FUZZ_BUDGET_DOC, JSON_REJECT_DUPLICATES, &je);
        if (!doc) {
            fprintf(stderr, "fuzz_budget: %s: %s (run from the repository root)\n", FUZZ_BUDGET_DOC, je.text);
            abort();
        }
    }
    return doc;
}

static bool fuzz_budget_growth_rule(const char *rule)
{
    return strstr(rule, "max_growth_") != NULL || strncmp(rule, "symbols new_symbol_max", 22) == 0;
}

/* The result's counts agree with its rules; without a base no growth rule
 * was decided. */
static void fuzz_budget_books(const fs_budget_result *r, bool has_base)
{
    size_t failed = 0, warned = 0, skipped = 0;
    for (size_t i = 0; i < r->nrules; i++) {
        const fs_rule_result *e = &r->rules[i];
        if (!e->rule || !e->message || !e->rule[0] || !e->message[0])
            abort();
        failed += e->status == FS_RULE_FAIL;
        warned += e->status == FS_RULE_WARN;
        skipped += e->status == FS_RULE_SKIPPED;
        if (!has_base && fuzz_budget_growth_rule(e->rule) && e->status != FS_RULE_SKIPPED) {
            fprintf(stderr, "fuzz_budget: rule '%s' decided without a base\n", e->rule);
            abort();
        }
    }
    if (failed != r->failed || warned != r->warned || skipped != r->skipped)
        abort();
}

int fuzz_budget_run(const uint8_t *data, size_t size)
{
    char path[128];
    fuzz_tmpfile("budget.ini", data, size, path, sizeof path);
    fs_budget b;
    fs_error err = {{0}};
    int rc = fuzz_check(fs_budget_load(path, &b, &err), &err, path);
    if (rc == FUZZ_ACCEPTED) {
        if (!b.board || !b.board[0] || !b.path || strcmp(b.path, path) != 0)
            abort();
        const json_t *doc = fuzz_budget_doc();
        for (int with_base = 0; with_base < 2; with_base++) {
            fs_budget_result res;
            fs_error cerr = {{0}};
            if (fuzz_check(fs_budget_check(&b, doc, with_base ? doc : NULL, &res, &cerr), &cerr, path) ==
                FUZZ_ACCEPTED)
                fuzz_budget_books(&res, with_base);
            fs_budget_result_free(&res);
        }
    }
    fs_budget_free(&b);
    unlink(path);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_budget_run(data, size);
    return 0;
}
#endif
