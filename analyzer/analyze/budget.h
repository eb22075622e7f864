/*
 * budget.h - size budgets (rules/budgets/NAME.ini) and their evaluation
 * against an analysis document, optionally with a base for growth rules.
 *
 * Format (INI, inih; reference in docs/store.md):
 *   [budget]               board = NAME (required); the region keys below,
 *                          applied to the analysis's main region
 *   [budget region NAME]   max (bytes, GNU ld expression: 1M - 36K),
 *                          warn_percent, max_growth_bytes, max_growth_percent
 *   [budget frozen]        max (total frozen bytes), module.NAME = max
 *   [budget symbols]       new_symbol_max = N (a new symbol larger than N
 *                          bytes is a violation; needs a base)
 * Like board files, keys are checked strictly: a typo is an error naming
 * file:line, never a silently ignored budget.
 */
#ifndef FS_BUDGET_H
#define FS_BUDGET_H

#include "model.h"

#include <jansson.h>

#define FS_BUDGET_MAX_RULES 1024

typedef struct fs_region_budget {
    char *region;            /* NULL: the main region ([budget]) */
    bool has_max, has_warn, has_growth_bytes, has_growth_pct;
    uint64_t max, max_growth_bytes;
    double warn_percent, max_growth_percent;
} fs_region_budget;

typedef struct fs_module_budget {
    char *name;
    uint64_t max;
} fs_module_budget;

typedef struct fs_budget {
    char *path;
    char *board;
    fs_region_budget *regions; size_t nregions;
    bool has_frozen_max;
    uint64_t frozen_max;
    fs_module_budget *modules; size_t nmodules;
    bool has_new_symbol_max;
    uint64_t new_symbol_max;
} fs_budget;

/* Read a budget file; *out is freed with fs_budget_free (also on failure). */
int fs_budget_load(const char *path, fs_budget *out, fs_error *err);
void fs_budget_free(fs_budget *b);

typedef enum { FS_RULE_PASS = 0, FS_RULE_WARN, FS_RULE_FAIL, FS_RULE_SKIPPED } fs_rule_status;

/* One evaluated rule: "region irom0_0_seg max", its numbers in words. */
typedef struct fs_rule_result {
    char *rule;
    char *message;
    fs_rule_status status;
} fs_rule_result;

typedef struct fs_budget_result {
    fs_rule_result *rules; size_t nrules;
    size_t failed, warned, skipped;
} fs_budget_result;

/* Evaluate every rule of b against head (and base, NULL if none; growth and
 * new-symbol rules are then skipped).  Validated documents only.  A rule for
 * a region the analysis does not have is an error. */
int fs_budget_check(const fs_budget *b, const json_t *head, const json_t *base, fs_budget_result *out,
                    fs_error *err);
/* The same, with the symbols of head and base as indexed tables (bs NULL
 * when base is). */
struct fs_symtab;
int fs_budget_check_tabs(const fs_budget *b, const json_t *head, const struct fs_symtab *hs, const json_t *base,
                         const struct fs_symtab *bs, fs_budget_result *out, fs_error *err);
void fs_budget_result_free(fs_budget_result *r);

#endif
