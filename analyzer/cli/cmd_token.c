/*
 * cmd_token.c - `flashsize token create|revoke|list`: the server's upload
 * tokens (server/auth.h, docs/server.md).
 *
 * The token is printed once, on standard output, and never stored: the
 * database keeps its SHA-256 only.
 */
#include "auth.h"
#include "cli.h"
#include "parseopt.h"
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct token_args {
    const char *action, *project, *note, *db, *id;
} token_args;

static int token_parse(int argc, char **argv, token_args *a)
{
    const cli_option opts[] = {
        CLI_OPT_PROJECT(&a->project, "project the token may upload to (create)"),
        CLI_OPT_STRING(0, "note", &a->note, "TEXT", "what the token is for (create)"),
        CLI_OPT_DB(&a->db, "file or postgresql:// URI (default $FLASHSIZE_DB or ./flashsize.db)"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "token",
        .synopsis = "flashsize token create --project P [--note TEXT] [--db DB]\n"
                    "       flashsize token revoke ID [--db DB]\n"
                    "       flashsize token list [--db DB]",
        .about = "Manage the bearer tokens `flashsize serve` accepts for uploads (one project each).\n"
                 "create prints the new token once: keep it in your CI's secrets. revoke makes a\n"
                 "token useless at once. list shows ids, projects and states, never the tokens.\n",
        .options = opts,
        .epilogue = "Exit status: 0 done, 2 bad usage, unknown id or a database error.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (first == argc) {
        cli_error("token: expected create, revoke or list");
        cli_usage(&cmd, stderr);
        return -1;
    }
    a->action = argv[first++];
    bool create = strcmp(a->action, "create") == 0, revoke = strcmp(a->action, "revoke") == 0,
         list = strcmp(a->action, "list") == 0;
    if (!create && !revoke && !list) {
        cli_error("token: unknown action '%s' (create, revoke or list)", a->action);
        return -1;
    }
    if (revoke) {
        if (first + 1 != argc) {
            cli_error("token revoke: expected one token id");
            return -1;
        }
        a->id = argv[first++];
    }
    if (first != argc) {
        cli_error("token %s: unexpected argument '%s'", a->action, argv[first]);
        return -1;
    }
    if (create && !a->project) {
        cli_error("token create: --project is required");
        return -1;
    }
    if (!create && (a->project || a->note)) {
        cli_error("token %s: --project and --note are for create", a->action);
        return -1;
    }
    return 0;
}

/* The store (created if missing), with its token table when writing. */
static int token_open(const char *path, bool write, fs_store **store, fs_error *err)
{
    fs_store_opts o = {.readonly = !write, .busy_ms = 0};
    if (fs_store_open(path, &o, store, err) < 0)
        return -1;
    return write ? fs_store_tokens_init(*store, err) : 0;
}

static int token_print_row(void *ctx, const fs_token_row *r)
{
    (void)ctx;
    char created[32], revoked[32] = "active";
    time_t t = (time_t)r->created;
    struct tm tm;
    strftime(created, sizeof created, "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
    if (r->revoked) {
        t = (time_t)r->revoked;
        strftime(revoked, sizeof revoked, "revoked %Y-%m-%d", gmtime_r(&t, &tm));
    }
    return printf("%-6lld %-24.256s %-20s %-19s %.256s\n", (long long)r->id, r->project, created, revoked, r->note) < 0
               ? -1
               : 0;
}

int cmd_token(int argc, char **argv)
{
    token_args a = {0};
    int parsed = token_parse(argc, argv, &a);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    const char *path = fs_store_path(a.db);
    bool list = strcmp(a.action, "list") == 0;
    fs_store *store = NULL;
    fs_error err = {{0}};
    int status = FS_EXIT_INPUT;
    if (token_open(path, !list, &store, &err) < 0)
        goto fail;
    if (strcmp(a.action, "create") == 0) {
        char token[AUTH_TOKEN_MAX];
        int64_t id;
        if (auth_token_create(store, path, a.project, a.note, &id, token, &err) < 0)
            goto fail;
        printf("%s\n", token);
        fprintf(stderr, "flashsize token: created token %lld for project '%s' (shown once: store it now)\n",
                (long long)id, a.project);
    } else if (strcmp(a.action, "revoke") == 0) {
        char *end;
        errno = 0;
        long long id = strtoll(a.id, &end, 10);
        if (errno || end == a.id || *end || id <= 0) {
            fs_fail(&err, "token revoke: '%s' is not a token id", a.id);
            goto fail;
        }
        if (fs_store_token_revoke(store, id, (int64_t)time(NULL), &err) < 0)
            goto fail;
        printf("revoked token %lld\n", id);
    } else {
        printf("%-6s %-24s %-20s %-19s %s\n", "ID", "PROJECT", "CREATED (UTC)", "STATE", "NOTE");
        if (fs_store_token_list(store, token_print_row, NULL, &err) < 0)
            goto fail;
    }
    status = FS_EXIT_OK;
    goto done;
fail:
    status = cli_fail(&err);
done:
    fs_store_close(store);
    return status;
}
