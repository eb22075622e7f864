/*
 * server.h - `flashsize serve`: the size-budget service (docs/server.md).
 *
 * One process serves three things from one SQLite store (analyzer/store.h):
 *   - the JSON REST API under /api/v1 (api.c), uploads guarded by per-project
 *     bearer tokens (auth.c);
 *   - the dashboard's static files from a web directory (static.c);
 *   - /healthz for load balancers and container health checks.
 *
 * Ideas:
 *   - libmicrohttpd with its own threads: MHD_USE_INTERNAL_POLLING_THREAD |
 *     MHD_USE_EPOLL and a thread pool.  Handlers block (SQLite, ELF
 *     analysis), so a pool of threads - each with its own listening epoll set -
 *     keeps one slow upload from stalling every other request.
 *   - Each pool thread borrows a database connection from a fixed pool
 *     (db.c) for the length of one request: SQLite connections are never
 *     shared between threads at the same time.
 *   - Every limit is a number in srv_config, documented and tested: body size,
 *     JSON nesting, result size, connections, idle timeout.
 *   - The answer to a write is sent only after its transaction committed, so
 *     a 2xx means the build is in the WAL (synchronous=NORMAL): it survives
 *     the process being killed; a power cut may lose the last commits.
 *
 * Errors follow model.h: 0/-1 and a message in an fs_error.
 */
#ifndef FS_SERVER_H
#define FS_SERVER_H

#include "model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Defaults and caps (docs/server.md, "Limits"). */
#define SRV_MAX_JSON_BYTES   (16u << 20) /* body of a JSON upload */
#define SRV_MAX_ELF_BYTES    (32u << 20) /* body of a raw ELF upload */
#define SRV_MAX_OTHER_BYTES  (64u << 10) /* any other request body */
#define SRV_MAX_JSON_DEPTH   64          /* nesting of arrays and objects */
#define SRV_MAX_RESULTS      1000        /* rows of a history or list answer */
#define SRV_DEFAULT_RESULTS  100
#define SRV_MAX_FIELD        256         /* bytes of a project/board/branch/commit name */
#define SRV_DEFAULT_THREADS  8
#define SRV_DEFAULT_CONNS    256         /* simultaneous connections */
#define SRV_DEFAULT_TIMEOUT  15          /* seconds a connection may stay idle */
#define SRV_DEFAULT_PER_IP   32          /* simultaneous connections from one address (0 = no limit) */
#define SRV_DEFAULT_HEAD_TIMEOUT 10      /* seconds to send a complete request head (guard.c) */
#define SRV_CONN_MEMORY      (64u << 10) /* libmicrohttpd's per-connection memory: a request line
                                          * and headers past it are answered 431 (or 414) */

typedef struct srv_config {
    const char *db_path;      /* the store (created if missing, unless read-only) */
    const char *web_dir;      /* the dashboard's files; NULL = no dashboard */
    const char *rules_dir;    /* boards/ and budgets/; NULL = none */
    const char *log_path;     /* access log; NULL = standard error */
    char host[64];            /* numeric IPv4 or IPv6 address to bind */
    uint16_t port;            /* 0 = any free port (printed on start) */
    bool private_reads;       /* GET /api/v1/... needs a token too */
    unsigned threads;         /* handler threads */
    unsigned conn_limit;      /* MHD_OPTION_CONNECTION_LIMIT */
    unsigned conn_timeout;    /* MHD_OPTION_CONNECTION_TIMEOUT, seconds */
    unsigned per_ip_limit;    /* MHD_OPTION_PER_IP_CONNECTION_LIMIT, 0 = none */
    unsigned head_timeout;    /* seconds for a complete request head, from accept or the previous answer */
    size_t max_json_bytes, max_elf_bytes;
} srv_config;

/* Fill c with the defaults above (db_path and friends left NULL). */
void srv_config_defaults(srv_config *c);

/* Parse "HOST:PORT" ("127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0") into c. */
int srv_parse_listen(const char *text, srv_config *c, fs_error *err);

/* Serve until SIGINT or SIGTERM arrives (the caller blocks those two in
 * every thread before calling, so the server's threads inherit the mask).
 * Prints "flashsize serve: listening on http://HOST:PORT/" to standard
 * error once the socket is bound.  Returns 0 on a clean stop. */
int srv_run(const srv_config *c, fs_error *err);

#endif
