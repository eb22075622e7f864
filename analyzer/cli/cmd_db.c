/*
 * cmd_db.c - `flashsize db copy SRC DST`: move a size database to another
 * file or server (docs/store.md, "Moving a database"; docs/deploy.md).
 *
 * Everything goes through the store's interface (store.h), so either side
 * may be an SQLite file or a PostgreSQL URI: the projects with their
 * default branches, every build in id order (its analysis, symbols and
 * identity, same id when it is free), and the upload tokens (hashes and
 * revocations).  All of it is written in one transaction on DST, and
 * before that transaction commits every copied build is loaded from both
 * sides and compared: a copy that fails anywhere leaves DST as it was.
 */
#include "cli.h"
#include "parseopt.h"
#include "store.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct db_args {
    const char *src, *dst;
    bool merge, no_tokens, quiet;
} db_args;

static int db_parse(int argc, char **argv, db_args *a)
{
    const cli_option opts[] = {
        CLI_OPT_FLAG(0, "merge", &a->merge,
                     "copy into a DST that already has builds (a build of the same project, board and commit is "
                     "replaced; the others get the next free id when theirs is taken)"),
        CLI_OPT_FLAG(0, "no-tokens", &a->no_tokens, "leave the upload tokens out"),
        CLI_OPT_FLAG('q', "quiet", &a->quiet, "print the summary line only (not the builds whose id changed)"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "db",
        .synopsis = "flashsize db copy SRC DST [--merge] [--no-tokens]",
        .about = "Copy a size database: SRC and DST are each an SQLite file or a PostgreSQL URI\n"
                 "(postgresql://...). Copies every project with its default branch, every build\n"
                 "(analysis, symbols, project, board, commit, branch, parent, pull request, time)\n"
                 "under the same id, and the upload tokens (hashes and revocations), in one\n"
                 "transaction on DST. Before committing, every build is loaded from both sides and\n"
                 "the stored analyses are compared; on any failure DST is left as it was.\n"
                 "A DST that already has builds is refused unless --merge is given; then a build\n"
                 "whose id is taken in DST gets the next free one, printed as `build SRC -> DST`.\n",
        .options = opts,
        .epilogue = "Exit status: 0 copied and verified, 2 bad usage or a database error (nothing copied).\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (first == argc || strcmp(argv[first], "copy") != 0) {
        if (first == argc)
            cli_error("db: expected an action: copy");
        else
            cli_error("db: unknown action '%s' (copy)", argv[first]);
        cli_usage(&cmd, stderr);
        return -1;
    }
    if (argc - first != 3) {
        cli_error("db copy: expected SRC and DST");
        return -1;
    }
    a->src = argv[first + 1];
    a->dst = argv[first + 2];
    return 0;
}

static bool db_is_uri(const char *s)
{
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

/* SRC and DST name the same database: the same file (by device and inode)
 * or the same URI. */
static bool db_same(const char *a, const char *b)
{
    if (db_is_uri(a) || db_is_uri(b))
        return strcmp(a, b) == 0;
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

typedef struct copy_state {
    fs_store *src, *dst;
    const char *src_name, *dst_name;
    fs_error *err;
    size_t projects, tokens, tokens_kept;
} copy_state;

static int copy_project(void *ctx, const fs_project_row *row)
{
    copy_state *c = ctx;
    char branch[1024];
    if (fs_store_default_branch(c->src, row->name, branch, sizeof branch, c->err) < 0 ||
        fs_store_set_default_branch(c->dst, row->name, branch, c->err) < 0)
        return -1;
    c->projects++;
    return 0;
}

static int copy_token(void *ctx, const fs_token_row *row)
{
    copy_state *c = ctx;
    bool existed;
    if (fs_store_token_import(c->dst, row, &existed, c->err) < 0)
        return -1;
    c->tokens++;
    c->tokens_kept += existed;
    return 0;
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Build sid of SRC and did of DST hold the same analysis and identity. */
static int copy_verify(copy_state *c, int64_t sid, int64_t did)
{
    json_t *a = NULL, *b = NULL;
    fs_build_info ia = {0}, ib = {0};
    int rc = -1;
    if (fs_store_load(c->src, sid, &a, &ia, c->err) < 0 || fs_store_load(c->dst, did, &b, &ib, c->err) < 0)
        goto done;
    const char *what = !json_equal(a, b)                   ? "the analysis"
                       : !str_eq(ia.project, ib.project)   ? "the project"
                       : !str_eq(ia.board, ib.board)       ? "the board"
                       : !str_eq(ia.commit, ib.commit)     ? "the commit"
                       : !str_eq(ia.branch, ib.branch)     ? "the branch"
                       : !str_eq(ia.parent, ib.parent)     ? "the parent"
                       : !str_eq(ia.tool_version, ib.tool_version) ? "the tool version"
                       : ia.pr != ib.pr                    ? "the pull request"
                       : ia.timestamp != ib.timestamp      ? "the time"
                                                           : NULL;
    if (what) {
        fs_fail_kind(c->err, FS_ERR_INTERNAL, "%s: build %lld differs from build %lld of %s in %s after the copy",
                     c->dst_name, (long long)did, (long long)sid, c->src_name, what);
        goto done;
    }
    rc = 0;
done:
    json_decref(a);
    json_decref(b);
    fs_build_info_free(&ia);
    fs_build_info_free(&ib);
    return rc;
}

/* Copy build sid into DST (under the next free id when taken): its id
 * there in *did. */
static int copy_build(copy_state *c, int64_t sid, bool taken, int64_t *did)
{
    json_t *doc = NULL;
    fs_build_info in = {0};
    int rc = -1;
    if (fs_store_load(c->src, sid, &doc, &in, c->err) < 0)
        goto done;
    fs_build_meta m = {in.project, in.board, in.commit, in.branch, in.parent, in.pr, in.timestamp};
    rc = fs_store_record_copy(c->dst, doc, &m, taken ? 0 : sid, did, c->err);
done:
    json_decref(doc);
    fs_build_info_free(&in);
    return rc;
}

static int db_copy(const db_args *a, fs_error *err)
{
    /* Messages name the databases, never a URI's password. */
    char *src_name = fs_store_display_name(a->src), *dst_name = fs_store_display_name(a->dst);
    copy_state c = {.src_name = src_name, .dst_name = dst_name, .err = err};
    int64_t *ids = NULL, *dids = NULL;
    size_t n = 0, moved = 0;
    int rc = -1;
    if (!src_name || !dst_name) {
        fs_fail_kind(err, FS_ERR_NOMEM, "db copy: out of memory");
        goto done;
    }
    if (db_same(a->src, a->dst)) {
        fs_fail(err, "%s: SRC and DST are the same database", dst_name);
        goto done;
    }
    fs_store_opts ro = {.readonly = true};
    if (fs_store_open(a->src, &ro, &c.src, err) < 0 || fs_store_open(a->dst, NULL, &c.dst, err) < 0)
        goto done;
    int64_t existing;
    if (fs_store_count_builds(c.dst, &existing, err) < 0)
        goto done;
    if (existing > 0 && !a->merge) {
        fs_fail(err, "%s: the destination already has %lld builds (give --merge to copy into it)", dst_name,
                (long long)existing);
        goto done;
    }
    /* The token table is made (when missing) before the transaction: on
     * PostgreSQL that takes a transaction of its own. */
    if ((!a->no_tokens && fs_store_tokens_init(c.dst, err) < 0) || fs_store_build_ids(c.src, &ids, &n, err) < 0 ||
        fs_store_begin(c.dst, err) < 0)
        goto done;
    if (n && !(dids = calloc(n, sizeof *dids))) {
        fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", dst_name);
        goto rollback;
    }
    if (fs_store_projects(c.src, NULL, INT_MAX, copy_project, &c, err) < 0)
        goto rollback;
    /* With --merge, the builds whose id is free in DST first, so that the
     * builds that must move (to the next free id) take no id another build
     * could have kept. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            bool taken = false;
            if (a->merge && fs_store_build_exists(c.dst, ids[i], &taken, err) < 0)
                goto rollback;
            if (pass == 0 ? taken : !taken || dids[i])
                continue;
            if (copy_build(&c, ids[i], taken, &dids[i]) < 0)
                goto rollback;
        }
    if (!a->no_tokens && fs_store_token_export(c.src, copy_token, &c, err) < 0)
        goto rollback;
    for (size_t i = 0; i < n; i++)
        if (copy_verify(&c, ids[i], dids[i]) < 0)
            goto rollback;
    if (fs_store_commit(c.dst, err) < 0)
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (dids[i] == ids[i])
            continue;
        moved++;
        if (!a->quiet)
            printf("build %lld -> %lld\n", (long long)ids[i], (long long)dids[i]);
    }
    printf("copied %zu builds (%zu under another id), %zu projects, %zu tokens (%zu already there) from %s to %s; "
           "every build verified\n",
           n, moved, c.projects, c.tokens, c.tokens_kept, src_name, dst_name);
    rc = 0;
    goto done;
rollback:
    fs_store_rollback(c.dst);
done:
    fs_store_close(c.src);
    fs_store_close(c.dst);
    free(ids);
    free(dids);
    free(src_name);
    free(dst_name);
    return rc;
}

int cmd_db(int argc, char **argv)
{
    db_args a = {0};
    int parsed = db_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    fs_error err = {{0}};
    if (db_copy(&a, &err) < 0) {
        cli_fail(&err);
        return FS_EXIT_INPUT;
    }
    return FS_EXIT_OK;
}
