/*
 * http.h - what the server's parts share: the request a handler reads, the
 * response it fills, the connection pool it borrows a database from.
 *
 * server.c owns the libmicrohttpd side (bodies, limits, logging) and turns
 * an srv_response into an HTTP answer; api.c and static.c only fill
 * responses from requests, so they never see libmicrohttpd's types beyond
 * the opaque connection used to look up headers and query arguments.
 *
 * Ownership: srv_request is borrowed by handlers for one call.
 * srv_response.body is owned by the response (malloc'd) and freed by
 * server.c after sending, unless the response holds a shared body
 * (srv_response.shared, a reference): then body points into it and the
 * reference is given back once libmicrohttpd has sent it.
 */
#ifndef FS_SRV_HTTP_H
#define FS_SRV_HTTP_H

#include "model.h"
#include "server.h"
#include "store.h"
#include "symtab.h"

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

struct MHD_Connection;
struct fs_store;

/* ---- database connections (db.c) ----------------------------------------- */

/* One slot: a store handle, through which every query of the server goes
 * (store.h; the handle keeps its statements prepared). */
typedef struct sdb_conn {
    struct fs_store *store;
    bool busy;
} sdb_conn;

typedef struct sdb_pool {
    char *path;
    bool readonly;            /* the file could not be opened for writing */
    char readonly_why[1024];  /* the store's message saying why */
    sdb_conn *conns;
    size_t nconns;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    /* Held around each write (sdb_write_begin/end): the server's writers
     * queue here instead of in SQLite's busy handler, which sleeps and
     * polls (1, 2, 5, 10 ... 100 ms) and so left the write lock idle most
     * of the time under concurrent uploads.  Other processes (the CLI)
     * still meet the server through SQLite's lock and busy timeout. */
    pthread_mutex_t write_lock;
    /* The symbol set last recorded, shared by the connections' store
     * handles: the next upload's delta base, not decoded again. */
    fs_symset_memo *memo;
} sdb_pool;

/* Open n store handles on path; a file that cannot be written is opened
 * read-only (p->readonly, uploads then answer 503).  The token table
 * (fs_store_tokens_init) is created when the file is writable. */
int sdb_pool_open(sdb_pool *p, const char *path, size_t n, fs_error *err);
void sdb_pool_close(sdb_pool *p);
/* Borrow a connection (waits for one to be free); give it back with release. */
sdb_conn *sdb_acquire(sdb_pool *p);
void sdb_release(sdb_pool *p, sdb_conn *c);
/* One writer of this server at a time (see write_lock). */
void sdb_write_begin(sdb_pool *p);
void sdb_write_end(sdb_pool *p);

/* ---- base builds kept decoded (basecache.c) --------------------------------- */

#define SBC_SLOTS 16

/* A base build as kept: immutable once made, shared by reference. */
typedef struct sbc_base {
    json_t *doc;              /* the loaded document, one reference */
    fs_symtab syms;           /* its symbols, indexed (borrowing doc's strings) */
    fs_build_info info;       /* owned strings */
    unsigned refs;            /* under the cache's lock */
} sbc_base;

typedef struct sbc_entry {
    int64_t id, symset;       /* build id and its symbol set; base NULL = empty slot */
    uint64_t hash;            /* sbc_hash of the stored document text */
    sbc_base *base;           /* one reference */
} sbc_entry;

typedef struct sbc_cache {
    pthread_mutex_t lock;
    sbc_entry e[SBC_SLOTS];
    size_t next;              /* slot replaced next */
    uint64_t hits, misses;
} sbc_cache;

void sbc_init(sbc_cache *c);
void sbc_free(sbc_cache *c);
/* FNV-1a of the stored document's bytes (builds.doc). */
uint64_t sbc_hash(const unsigned char *p, size_t n);
/* A base of doc (consumed) and info (moved: *info is left empty), its
 * symbols indexed, with one reference; NULL when out of memory (both freed). */
sbc_base *sbc_base_new(json_t *doc, fs_build_info *info);
/* Drop a reference taken by sbc_base_new or sbc_get. */
void sbc_release(sbc_cache *c, sbc_base *b);
/* Build id's base (a new reference), or NULL when not kept or recorded
 * again since (symset or hash differ). */
sbc_base *sbc_get(sbc_cache *c, int64_t id, int64_t symset, uint64_t hash);
/* Keep b (the cache takes its own reference) for build id. */
void sbc_put(sbc_cache *c, int64_t id, int64_t symset, uint64_t hash, sbc_base *b);
/* Build id was written: drop it. */
void sbc_forget(sbc_cache *c, int64_t id);

/* ---- history answers kept ready (respcache.c) -------------------------------- */

/* A response body shared by reference: by the cache and by every answer
 * libmicrohttpd is still sending from it.  Never written once made; freed
 * with its last reference (atomic, any thread). */
typedef struct srv_body {
    atomic_uint refs;
    size_t len;
    char *data;               /* owned, malloc'd */
} srv_body;

/* A body of data (malloc'd, taken over: freed here on failure), one reference;
 * NULL when out of memory. */
srv_body *srv_body_adopt(char *data, size_t len);
srv_body *srv_body_ref(srv_body *b);
/* Give a reference back; NULL is ignored. */
void srv_body_unref(srv_body *b);

#define SRV_GZIP_LEVEL 6
/* data as a gzip member (RFC 1952: zlib's deflate in a gzip wrapper, no
 * name, no time), a new body; NULL when out of memory. */
srv_body *srv_gzip(const char *data, size_t len);

/* Does an Accept-Encoding value (NULL: none sent) ask for gzip?  Elements
 * "coding[;q=qvalue]" (RFC 9110 12.5.3; coding names in any case, x-gzip as
 * gzip, "*" for codings not named); an element that does not parse is
 * ignored.  gzip when its weight is above 0, unless identity is named with
 * a higher one. */
bool srv_accepts_gzip(const char *accept_encoding);
/* Does an If-None-Match value name etag (a quoted strong tag)?  "*", or a
 * list of entity tags compared weakly (a W/ prefix is ignored); anything
 * malformed matches nothing. */
bool srv_etag_match(const char *if_none_match, const char *etag);

#define RSC_SLOTS      32
#define RSC_TTL_MS     5000            /* the rules files are read again after this long */
#define RSC_MAX_BYTES  (64u << 20)     /* bodies kept, plain and gzip */
#define RSC_ETAG_MAX   64

/* The ETag of a history answer: "GEN-KEY-BODY" (the store's generation, or
 * "n" when gen < 0; CRC-32 of the cache key and of the plain body, 8 hex
 * digits each), quoted; its gzip form ends in "-gz". */
void rsc_etag(char out[RSC_ETAG_MAX], int64_t gen, const char *key, size_t klen, const char *body, size_t len);
void rsc_etag_gzip(char out[RSC_ETAG_MAX], const char *etag);

typedef struct rsc_entry {
    char *key;                /* owned; NULL = empty slot */
    size_t klen;
    uint32_t khash;           /* CRC-32 of key */
    int64_t gen;              /* the store's generation the answer was read at */
    int64_t born;             /* ms, on the caller's clock */
    int64_t refreshing;       /* ms a request began reading it again after the TTL; 0 none */
    uint64_t used;            /* tick of the last use (least recently used goes first) */
    srv_body *plain, *gz;     /* one reference each; gz NULL until asked for */
    char etag[RSC_ETAG_MAX];  /* of plain */
} rsc_entry;

typedef struct rsc_cache {
    pthread_mutex_t lock;
    rsc_entry e[RSC_SLOTS];
    int64_t ttl_ms;
    size_t bytes;             /* of the bodies kept */
    uint64_t tick;
    uint64_t hits, misses;
} rsc_cache;

/* What a hit hands out: new references (rsc_hit_release). */
typedef struct rsc_hit {
    srv_body *plain, *gz;     /* gz NULL when not compressed yet */
    char etag[RSC_ETAG_MAX];
} rsc_hit;

void rsc_init(rsc_cache *c, int64_t ttl_ms);
void rsc_free(rsc_cache *c);
/* The answer kept for key at generation gen, filled less than the TTL
 * before now_ms; false (and an entry of another generation or too old
 * dropped) otherwise. */
bool rsc_get(rsc_cache *c, const char *key, size_t klen, int64_t gen, int64_t now_ms, rsc_hit *out);
/* Keep plain (a reference is taken) and its etag for key at gen, filled at
 * now_ms; entries of other generations are dropped, the least recently
 * used make room.  A body over RSC_MAX_BYTES / 8 is not kept. */
void rsc_put(rsc_cache *c, const char *key, size_t klen, int64_t gen, int64_t now_ms, srv_body *plain,
             const char *etag);
/* Keep gz (a reference is taken) beside the entry of key still holding
 * plain; nothing when that entry is gone or has its gzip body already. */
void rsc_put_gzip(rsc_cache *c, const char *key, size_t klen, const srv_body *plain, srv_body *gz);
void rsc_hit_release(rsc_hit *h);

/* ---- connections: the head deadline (guard.c) ------------------------------ */

struct MHD_Connection;
struct srv_conn;
typedef struct srv_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running, stop;
    unsigned head_timeout;     /* seconds for a complete request head */
    struct srv_conn *conns;    /* every open connection */
    size_t open;
    uint64_t cut;              /* connections shut down for a late head */
} srv_guard;

int srv_guard_start(srv_guard *g, unsigned head_timeout);
void srv_guard_stop(srv_guard *g);
/* MHD_OPTION_NOTIFY_CONNECTION's callback (cls: the srv_guard). */
void srv_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe);
/* The handler saw a complete head; the answer to a request is done (the
 * connection waits for the next head, from now). */
void srv_guard_head_done(srv_guard *g, struct MHD_Connection *conn);
void srv_guard_answered(srv_guard *g, struct MHD_Connection *conn);

/* ---- requests and responses ---------------------------------------------- */

typedef struct srv_ctx {
    const srv_config *cfg;
    sdb_pool pool;
    sbc_cache bases;          /* base builds of upload diffs */
    rsc_cache history;        /* history answers */
    FILE *log;
    char web_root[4096];      /* realpath of cfg->web_dir, "" if none */
    srv_guard guard;          /* the head deadline */
} srv_ctx;

typedef struct srv_request {
    struct MHD_Connection *conn;
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* percent-decoded path, query removed */
    const char *raw_path;     /* the path as the client sent it (for checks of encodings) */
    const unsigned char *body;
    size_t body_len;
} srv_request;

typedef struct srv_response {
    unsigned status;
    char *body;               /* owned, malloc'd, or inside shared; may be NULL for an empty body */
    size_t len;
    srv_body *shared;         /* when set, body is shared->data (one reference, owned); a 304
                               * (body NULL) holds the body of the answer it stands for, whose
                               * length libmicrohttpd sends as Content-Length, never its bytes */
    const char *content_type; /* static string */
    const char *cache;        /* Cache-Control value, static; NULL = "no-store" */
    const char *encoding;     /* Content-Encoding, static; NULL = none */
    bool vary_encoding;       /* add Vary: Accept-Encoding */
    bool www_authenticate;    /* add WWW-Authenticate: Bearer (401) */
    char etag[RSC_ETAG_MAX];  /* ETag header when non-empty */
    char location[128];       /* Location header when non-empty */
} srv_response;

/* Drop the response's body (freed, or its shared reference given back). */
void srv_response_free(srv_response *resp);

/* A header or query argument of the request, or NULL. */
const char *srv_header(const srv_request *r, const char *name);
const char *srv_arg(const srv_request *r, const char *name);

/* Serialize doc (a new reference, consumed) as the response body. */
void srv_reply_json(srv_response *resp, unsigned status, json_t *doc);
/* {"error": message, "status": status} */
void srv_reply_error(srv_response *resp, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The HTTP status of an error of this kind (one table, server.c): input 400,
 * limit 413, not found 404, auth 401, busy, read-only and I/O 503 (the
 * server's state, not the request), out of memory and internal 500. */
unsigned srv_http_status(fs_error_kind kind);
/* srv_reply_error with err's message and srv_http_status(err->kind). */
void srv_reply_fs_error(srv_response *resp, const fs_error *err);

/* ---- handlers -------------------------------------------------------------- */

/* /api/v1/... and /healthz (api.c). */
void api_handle(srv_ctx *ctx, const srv_request *r, srv_response *resp);
/* Files of the dashboard (static.c). */
void static_handle(const srv_ctx *ctx, const srv_request *r, srv_response *resp);

/* Is path (decoded) safe to map into the web directory?  Exposed for tests. */
bool static_path_ok(const char *path);
/* The Content-Type for a file name, by its extension. */
const char *static_mime(const char *name);

#endif
