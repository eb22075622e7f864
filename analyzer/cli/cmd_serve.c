/*
 * cmd_serve.c - `flashsize serve --db F --listen HOST:PORT`: the size-budget
 * service and its dashboard (server/, docs/server.md).
 */
#include "board.h"
#include "cli.h"
#include "parseopt.h"
#include "server.h"
#include "store.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static int serve_uint(const char *opt, const char *text, size_t min, size_t max, size_t *out)
{
    if (cli_parse_size(opt, text, out) < 0)
        return -1;
    if (*out < min || *out > max) {
        cli_error("%s: %zu is out of range (%zu to %zu)", opt, *out, min, max);
        return -1;
    }
    return 0;
}

/* --listen HOST:PORT into the configuration (value). */
static int serve_opt_listen(const cli_option *o, char *arg)
{
    fs_error err;
    if (srv_parse_listen(arg, o->value, &err) < 0) {
        cli_error("%s", err.msg);
        return -1;
    }
    return 0;
}

/* A count (unsigned) or a number of bytes (size_t) from min to max, said
 * as "--threads: 0 is out of range (1 to 256)". */
static int serve_opt_range(const cli_option *o, const char *arg, size_t *v)
{
    char name[64];
    snprintf(name, sizeof name, "--%s", o->long_name);
    return serve_uint(name, arg, (size_t)o->min, (size_t)o->max, v);
}

static int serve_opt_count(const cli_option *o, char *arg)
{
    size_t v;
    if (serve_opt_range(o, arg, &v) < 0)
        return -1;
    *(unsigned *)o->value = (unsigned)v;
    return 0;
}

static int serve_opt_bytes(const cli_option *o, char *arg)
{
    return serve_opt_range(o, arg, o->value);
}

#define SERVE_OPT_UINT(l, v, a, lo, hi, h)                                                                        \
    {.kind = CLI_CALLBACK, .long_name = (l), .value = (v), .fn = serve_opt_count, .arg = (a), .min = (lo),       \
     .max = (hi), .help = (h)}
#define SERVE_OPT_BYTES(l, v, h)                                                                                 \
    {.kind = CLI_CALLBACK, .long_name = (l), .value = (v), .fn = serve_opt_bytes, .arg = "BYTES", .min = 1024,     \
     .max = 1u << 30, .help = (h)}

static int serve_parse(int argc, char **argv, srv_config *c, const char **web, const char **rules)
{
    const cli_option opts[] = {
        CLI_OPT_DB(&c->db_path, "file or postgresql:// URI (default $FLASHSIZE_DB or ./flashsize.db)"),
        CLI_OPT_CALLBACK(0, "listen", c, serve_opt_listen, "HOST:PORT",
                         "numeric address to bind (default 127.0.0.1:8080; port 0 = any)"),
        CLI_OPT_STRING(0, "web", web, "DIR", "dashboard files (default $FLASHSIZE_WEB or the installed web/)"),
        CLI_OPT_STRING(0, "rules-dir", rules, "DIR", "rules directory: boards/ for ELF uploads, budgets/ for budgets"),
        CLI_OPT_FLAG(0, "private", &c->private_reads, "reading the API needs a token too"),
        CLI_OPT_STRING(0, "log", &c->log_path, "FILE", "access log, one JSON line per request (default standard error)"),
        SERVE_OPT_UINT("threads", &c->threads, "N", 1, 256, "handler threads (default 8)"),
        SERVE_OPT_UINT("max-connections", &c->conn_limit, "N", 1, 100000, "simultaneous connections (default 256)"),
        SERVE_OPT_UINT("max-connections-per-ip", &c->per_ip_limit, "N", 0, 100000,
                       "simultaneous connections from one address\n(default 32; 0 = no limit)"),
        SERVE_OPT_UINT("timeout", &c->conn_timeout, "SEC", 1, 3600, "close a connection idle this long (default 15)"),
        SERVE_OPT_UINT("header-timeout", &c->head_timeout, "SEC", 1, 3600,
                       "close a connection that has not sent a whole request head\n"
                       "this long after connecting or after its previous answer\n"
                       "(slow clients; default 10)"),
        SERVE_OPT_BYTES("max-json", &c->max_json_bytes, "largest JSON upload (default 16 MiB)"),
        SERVE_OPT_BYTES("max-elf", &c->max_elf_bytes, "largest ELF upload (default 32 MiB)"),
        CLI_OPT_END,
    };
    const cli_command cmd = {
        .name = "serve",
        .synopsis = "flashsize serve [--db DB] [--listen HOST:PORT] [options]",
        .about = "Serve the size database: the JSON API under /api/v1 (uploads need a token from\n"
                 "`flashsize token create`), the dashboard, and /healthz. Runs until SIGINT/SIGTERM.\n",
        .options = opts,
        .epilogue = "Exit status: 0 stopped by a signal, 2 bad usage or the server could not start.\n",
    };
    int first = cli_parse(&cmd, argc, argv);
    if (first <= 0)
        return first == 0 ? 1 : -1;
    if (first != argc) {
        cli_error("serve: unexpected argument '%s'", argv[first]);
        cli_usage(&cmd, stderr);
        return -1;
    }
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    srv_config c;
    srv_config_defaults(&c);
    const char *web = NULL, *rules = NULL;
    int parsed = serve_parse(argc, argv, &c, &web, &rules);
    if (parsed != 0)
        return parsed > 0 ? FS_EXIT_OK : FS_EXIT_INPUT;
    c.db_path = fs_store_path(c.db_path);
    char *web_dir = web ? strdup(web) : fs_install_dir("FLASHSIZE_WEB", "web");
    char *rules_dir = rules ? strdup(rules) : fs_rules_dir();
    c.web_dir = web_dir;
    c.rules_dir = rules_dir;
    if (!web_dir)
        fprintf(stderr, "flashsize serve: no web directory found (--web): serving the API only\n");
    /* The server's threads inherit this mask; srv_run waits for the signals. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    fs_error err;
    int status = FS_EXIT_OK;
    if (srv_run(&c, &err) < 0) {
        cli_error("%s", err.msg);
        status = FS_EXIT_INPUT;
    }
    free(web_dir);
    free(rules_dir);
    return status;
}
