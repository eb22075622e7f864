/*
 * cmd_serve.c - `flashsize serve --db F --listen HOST:PORT`: the size-budget
 * service and its dashboard (server/, docs/server.md).
 */
#include "board.h"
#include "cli.h"
#include "server.h"
#include "store.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char serve_usage[] =
    "usage: flashsize serve [--db FILE] [--listen HOST:PORT] [options]\n"
    "\n"
    "Serve the size database: the JSON API under /api/v1 (uploads need a token from\n"
    "`flashsize token create`), the dashboard, and /healthz. Runs until SIGINT/SIGTERM.\n"
    "\n"
    "      --db FILE          database (default $FLASHSIZE_DB or ./flashsize.db)\n"
    "      --listen HOST:PORT numeric address to bind (default 127.0.0.1:8080; port 0 = any)\n"
    "      --web DIR          dashboard files (default $FLASHSIZE_WEB or the installed web/)\n"
    "      --rules-dir DIR    rules directory: boards/ for ELF uploads, budgets/ for budgets\n"
    "      --private          reading the API needs a token too\n"
    "      --log FILE         access log, one JSON line per request (default standard error)\n"
    "      --threads N        handler threads (default 8)\n"
    "      --max-connections N  simultaneous connections (default 256)\n"
    "      --max-connections-per-ip N  simultaneous connections from one address\n"
    "                         (default 32; 0 = no limit)\n"
    "      --timeout SEC      close a connection idle this long (default 15)\n"
    "      --header-timeout SEC  close a connection that has not sent a whole request head\n"
    "                         this long after connecting or after its previous answer\n"
    "                         (slow clients; default 10)\n"
    "      --max-json BYTES   largest JSON upload (default 16 MiB)\n"
    "      --max-elf BYTES    largest ELF upload (default 32 MiB)\n"
    "\n"
    "Exit status: 0 stopped by a signal, 2 bad usage or the server could not start.\n";

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

static int serve_parse(int argc, char **argv, srv_config *c, const char **web, const char **rules)
{
    enum { OPT_DB = 256, OPT_LISTEN, OPT_WEB, OPT_RULES, OPT_PRIVATE, OPT_LOG, OPT_THREADS, OPT_CONNS, OPT_TIMEOUT,
           OPT_MAXJSON, OPT_MAXELF, OPT_PERIP, OPT_HEADTIMEOUT };
    static const struct option longopts[] = {
        {"db", required_argument, NULL, OPT_DB},           {"listen", required_argument, NULL, OPT_LISTEN},
        {"web", required_argument, NULL, OPT_WEB},         {"rules-dir", required_argument, NULL, OPT_RULES},
        {"private", no_argument, NULL, OPT_PRIVATE},       {"log", required_argument, NULL, OPT_LOG},
        {"threads", required_argument, NULL, OPT_THREADS}, {"max-connections", required_argument, NULL, OPT_CONNS},
        {"timeout", required_argument, NULL, OPT_TIMEOUT}, {"max-json", required_argument, NULL, OPT_MAXJSON},
        {"max-elf", required_argument, NULL, OPT_MAXELF},  {"help", no_argument, NULL, 'h'},
        {"max-connections-per-ip", required_argument, NULL, OPT_PERIP},
        {"header-timeout", required_argument, NULL, OPT_HEADTIMEOUT},
        {NULL, 0, NULL, 0}};
    optind = 1;
    int ch;
    size_t v;
    fs_error err;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_DB: c->db_path = optarg; break;
        case OPT_WEB: *web = optarg; break;
        case OPT_RULES: *rules = optarg; break;
        case OPT_PRIVATE: c->private_reads = true; break;
        case OPT_LOG: c->log_path = optarg; break;
        case OPT_LISTEN:
            if (srv_parse_listen(optarg, c, &err) < 0) {
                cli_error("%s", err.msg);
                return -1;
            }
            break;
        case OPT_THREADS:
            if (serve_uint("--threads", optarg, 1, 256, &v) < 0)
                return -1;
            c->threads = (unsigned)v;
            break;
        case OPT_CONNS:
            if (serve_uint("--max-connections", optarg, 1, 100000, &v) < 0)
                return -1;
            c->conn_limit = (unsigned)v;
            break;
        case OPT_PERIP:
            if (serve_uint("--max-connections-per-ip", optarg, 0, 100000, &v) < 0)
                return -1;
            c->per_ip_limit = (unsigned)v;
            break;
        case OPT_HEADTIMEOUT:
            if (serve_uint("--header-timeout", optarg, 1, 3600, &v) < 0)
                return -1;
            c->head_timeout = (unsigned)v;
            break;
        case OPT_TIMEOUT:
            if (serve_uint("--timeout", optarg, 1, 3600, &v) < 0)
                return -1;
            c->conn_timeout = (unsigned)v;
            break;
        case OPT_MAXJSON:
            if (serve_uint("--max-json", optarg, 1024, 1u << 30, &c->max_json_bytes) < 0)
                return -1;
            break;
        case OPT_MAXELF:
            if (serve_uint("--max-elf", optarg, 1024, 1u << 30, &c->max_elf_bytes) < 0)
                return -1;
            break;
        case 'h': fputs(serve_usage, stdout); return 1;
        default: fputs(serve_usage, stderr); return -1;
        }
    }
    if (optind != argc) {
        cli_error("serve: unexpected argument '%s'", argv[optind]);
        fputs(serve_usage, stderr);
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
