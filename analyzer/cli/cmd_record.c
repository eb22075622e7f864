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
#include "diff.h"
#include "store.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char record_usage[] =
    "usage: flashsize record FIRMWARE --project P --board B --commit SHA [options]\n"
    "\n"
    "Store a build in the size database: FIRMWARE is an ELF (analyzed now, with the\n"
    "board's layout when the rules directory has one called B) or an analysis JSON\n"
    "file. Recording the same project, board and commit again replaces that build.\n"
    "\n"
    "  -p, --project P      project name (required)\n"
    "  -b, --board B        board name (required)\n"
    "  -c, --commit SHA     commit (required)\n"
    "      --branch NAME    branch\n"
    "      --parent SHA     parent commit\n"
    "      --pr N           pull request number\n"
    "      --timestamp T    seconds since 1970 (default: now)\n"
    "      --db FILE        database (default $FLASHSIZE_DB or ./flashsize.db)\n"
    "      --rules-dir DIR  rules directory (default $FLASHSIZE_RULES or the installed one)\n"
    "\n"
    "Exit status: 0 recorded, 2 bad input, usage or a database error.\n";

typedef struct record_args {
    const char *input, *db, *rules_dir;
    fs_build_meta meta;
} record_args;

static int record_int(const char *opt, const char *text, int64_t *out)
{
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
    enum { OPT_BRANCH = 256, OPT_PARENT, OPT_PR, OPT_TS, OPT_DB, OPT_RULES };
    static const struct option longopts[] = {
        {"project", required_argument, NULL, 'p'},      {"board", required_argument, NULL, 'b'},
        {"commit", required_argument, NULL, 'c'},       {"branch", required_argument, NULL, OPT_BRANCH},
        {"parent", required_argument, NULL, OPT_PARENT}, {"pr", required_argument, NULL, OPT_PR},
        {"timestamp", required_argument, NULL, OPT_TS}, {"db", required_argument, NULL, OPT_DB},
        {"rules-dir", required_argument, NULL, OPT_RULES}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "p:b:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': a->meta.project = optarg; break;
        case 'b': a->meta.board = optarg; break;
        case 'c': a->meta.commit = optarg; break;
        case OPT_BRANCH: a->meta.branch = optarg; break;
        case OPT_PARENT: a->meta.parent = optarg; break;
        case OPT_DB: a->db = optarg; break;
        case OPT_RULES: a->rules_dir = optarg; break;
        case OPT_PR:
            if (record_int("--pr", optarg, &a->meta.pr) < 0)
                return -1;
            break;
        case OPT_TS:
            if (record_int("--timestamp", optarg, &a->meta.timestamp) < 0)
                return -1;
            break;
        case 'h': fputs(record_usage, stdout); return 1;
        default: fputs(record_usage, stderr); return -1;
        }
    }
    if (!a->meta.project || !a->meta.board || !a->meta.commit) {
        cli_error("record: --project, --board and --commit are required");
        fputs(record_usage, stderr);
        return -1;
    }
    if (!(a->input = cli_operand(argv, optind, argc, "record", "firmware", record_usage)))
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
           a.meta.commit, path);
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
