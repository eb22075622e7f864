/*
 * cmd_record.c - `flashsize record INPUT --project P --board B --commit SHA`:
 * store one build in the size database (docs/store.md).
 *
 * The input is an ELF (analyzed now, with the board's layout when the rules
 * directory has one of that name) or an analysis JSON file; what is stored
 * is the analysis document, in one transaction.
 */
#include "board.h"
#include "cli.h"
#include "parseopt.h"
#include "diff.h"
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct record_args {
    const char *input, *db, *rules_dir;
    fs_build_meta meta;
} record_args;

/* --pr N, --timestamp T: a whole number, not negative, into an int64_t. */
static int record_opt_int(const cli_option *o, char *text)
{
    const char *opt = o->long_name[0] == 'p' ? "--pr" : "--timestamp";
    int64_t *out = o->value;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < 0) {
        cli_error("%s: '%s' is not a whole number", opt, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int record_parse(int argc, char **argv, record_args *a)
{
    const cli_option opts[] = {
        CLI_OPT_PROJECT(&a->meta.project, "project name (required)"),
        CLI_OPT_STRING('b', "board", &a->meta.board, "B", "board name (required)"),
        CLI_OPT_STRING('c', "commit", &a->meta.commit, "SHA", "commit (required)"),
        CLI_OPT_BRANCH(&a->meta.branch, "branch"),
        CLI_OPT_STRING(0, "parent", &a->meta.parent, "SHA", "parent commit"),
        CLI_OPT_CALLBACK(0, "pr", &a->meta.pr, record_opt_int, "N", "pull request number"),
        CLI_OPT_CALLBACK(0, "timestamp", &a->meta.timestamp, record_opt_int, "T", "seconds since 1970 (default: now)"),
        CLI_OPT_DB(&a->db, "file or postgresql:// URI (default $FLASHSIZE_DB or ./flashsize.db)"),
        CLI_OPT_RULES_DIR(&a->rules_dir),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "record",
        .synopsis = "flashsize record FIRMWARE --project P --board B --commit SHA [options]",
        .about = "Store a build in the size database: FIRMWARE is an ELF (analyzed now, with the\n"
                 "board's layout when the rules directory has one called B) or an analysis JSON\n"
                 "file. Recording the same project, board and commit again replaces that build.\n",
        .options = opts,
        .epilogue = "Exit status: 0 recorded, 2 bad input, usage or a database error.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (!a->meta.project || !a->meta.board || !a->meta.commit) {
        cli_error("record: --project, --board and --commit are required");
        cli_usage(&cmd, stderr);
        return -1;
    }
    if (!(a->input = cli_operand_of(&cmd, argv, first, argc, "firmware")))
        return -1;
    return 0;
}

int cmd_record(int argc, char **argv)
{
    record_args a = {0};
    int parsed = record_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    fs_error err = {{0}};
    char *layout = fs_board_layout_path(a.rules_dir, a.meta.board), *label = NULL;
    fs_input_opts io = {a.db, layout, a.rules_dir};
    json_t *doc = NULL;
    fs_store *s = NULL;
    int status = FS_EXIT_INPUT;
    const char *path = fs_store_path(a.db);
    int64_t id;
    if (strncmp(a.input, "build:", 6) == 0 || strncmp(a.input, "commit:", 7) == 0) {
        fs_fail(&err, "%s: record takes an ELF or an analysis JSON file", a.input);
        goto fail;
    }
    if (fs_input_load(a.input, &io, &doc, &label, &err) < 0 || fs_store_open(path, NULL, &s, &err) < 0 ||
        fs_store_record(s, doc, &a.meta, &id, &err) < 0)
        goto fail;
    printf("recorded build %lld: project %s, board %s, commit %s in %s\n", (long long)id, a.meta.project, a.meta.board,
           a.meta.commit, fs_store_name(s));
    status = FS_EXIT_OK;
    goto done;
fail:
    status = cli_fail(&err);
done:
    fs_store_close(s);
    json_decref(doc);
    free(label);
    free(layout);
    return status;
}
