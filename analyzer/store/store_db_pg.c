/*
 * store_db_pg.c - the store's PostgreSQL driver (store_db.h), on libpq:
 * connecting (a new database gets the whole schema from store_schema.c,
 * with the schema version in the table store_meta), statements prepared
 * once per connection with "?" and "?N" numbered $N, binary results,
 * writers serialized by a transaction-level advisory lock (what SQLite's
 * BEGIN IMMEDIATE gives), and PostgreSQL's errors as fs_error kinds.  A
 * lost connection (the server restarted) fails the call with
 * FS_ERR_UNAVAILABLE; a later call resets the connection and prepares its
 * statements again.
 */
#include "store_db.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_STMTS 64
#define PG_APP_ID 0x46534442 /* "FSDB", as SQLite's application_id */
/* The writers' lock: one key for every flashsize process on a database. */
#define PG_WRITE_LOCK "SELECT pg_advisory_xact_lock(4604121916150810690)"

/* Type oids (pg_type.h is server-side). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25

typedef struct pg_db pg_db;

typedef struct pg_stmt {
    fs_db_stmt base;
    pg_db *db;
    char *sql;             /* the store's SQL: the key; NULL = not kept */
    char *text;            /* with $N parameters */
    char name[16];
    uint64_t prepared;     /* the connection generation it was prepared in; 0 = not */
    bool busy;
    int nparams;
    char **vals;
    int *lens, *fmts;
    Oid *types;
    PGresult *res;
    int row, nrows;
} pg_stmt;

struct pg_db {
    fs_db base;
    PGconn *conn;
    bool readonly;
    bool in_tx;            /* a transaction is open: a lost connection is not reset under it */
    uint64_t gen;          /* one more per (re)connection */
    pg_stmt *stmts[PG_STMTS];
    size_t nstmts;
    unsigned names;
    int64_t changes;
    char state[6];         /* SQLSTATE of the last error */
    char msg[512];
};

static const fs_db_ops pg_ops;

/* ---- errors ------------------------------------------------------------------- */

static void set_error(pg_db *p, const char *state, const char *msg)
{
    snprintf(p->state, sizeof p->state, "%s", state ? state : "");
    /* one line: libpq's messages have newlines and tabs */
    size_t n = 0;
    for (const char *c = msg && *msg ? msg : "unknown error"; *c && n + 1 < sizeof p->msg; c++) {
        if (isspace((unsigned char)*c)) {
            if (n && p->msg[n - 1] != ' ')
                p->msg[n++] = ' ';
        } else {
            p->msg[n++] = *c;
        }
    }
    while (n && p->msg[n - 1] == ' ')
        n--;
    p->msg[n] = '\0';
}

/* Keep res's error (or the connection's, when it is lost); clears res. */
static void keep_error(pg_db *p, PGresult *res)
{
    if (PQstatus(p->conn) != CONNECTION_OK)
        set_error(p, "08006", PQerrorMessage(p->conn));
    else if (res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY))
        set_error(p, PQresultErrorField(res, PG_DIAG_SQLSTATE), PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
    else
        set_error(p, res ? "" : "53200", res ? PQresultErrorMessage(res) : PQerrorMessage(p->conn));
    PQclear(res);
}

static int pg_fail(fs_db *d, fs_error *err, const char *what)
{
    pg_db *p = (pg_db *)d;
    const char *st = p->state;
    if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0)
        return fs_fail_kind(err, FS_ERR_UNAVAILABLE, "%s: the database server is unavailable (%s): %s", d->name, p->msg,
                            what);
    if (strcmp(st, "55P03") == 0 || strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0)
        return fs_fail_kind(err, FS_ERR_BUSY, "%s: database is locked by another writer (waited %d ms): %s", d->name,
                            d->busy_ms, what);
    if (strcmp(st, "25006") == 0 || strcmp(st, "42501") == 0)
        return fs_fail_kind(err, FS_ERR_READONLY, "%s: cannot write the database (%s): %s", d->name, p->msg, what);
    fs_error_kind kind = strcmp(st, "53200") == 0                                    ? FS_ERR_NOMEM
                         : strncmp(st, "53", 2) == 0 || strncmp(st, "58", 2) == 0 ? FS_ERR_IO
                                                                                    : FS_ERR_INTERNAL;
    return fs_fail_kind(err, kind, "%s: %s: %s", d->name, what, p->msg);
}

/* ---- the connection ---------------------------------------------------------------- */

static void no_notices(void *arg, const char *message)
{
    (void)arg, (void)message; /* the library never prints */
}

/* Session settings, after each (re)connection. */
static int pg_setup(pg_db *p)
{
    PQsetNoticeProcessor(p->conn, no_notices, NULL);
    char sql[256];
    snprintf(sql, sizeof sql, "SET client_encoding = 'UTF8'; SET lock_timeout = %d; SET TIME ZONE 'UTC'%s",
             p->base.busy_ms, p->readonly ? "; SET default_transaction_read_only = on" : "");
    PGresult *res = PQexec(p->conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        keep_error(p, res);
        return -1;
    }
    PQclear(res);
    p->gen++;
    return 0;
}

/* A connection that works: after a loss, reset it (its prepared
 * statements are gone: the new generation prepares them again). */
static int pg_ready(pg_db *p)
{
    if (PQstatus(p->conn) == CONNECTION_OK)
        return 0;
    if (p->in_tx) { /* the rest of a transaction must not run on its own */
        set_error(p, "08006", "the connection was lost in a transaction");
        return -1;
    }
    PQreset(p->conn);
    if (PQstatus(p->conn) != CONNECTION_OK) {
        set_error(p, "08006", PQerrorMessage(p->conn));
        return -1;
    }
    return pg_setup(p);
}

static int pg_exec(fs_db *d, const char *sql)
{
    pg_db *p = (pg_db *)d;
    if (pg_ready(p) < 0)
        return -1;
    PGresult *res = PQexec(p->conn, sql);
    ExecStatusType s = PQresultStatus(res);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        keep_error(p, res);
        return -1;
    }
    /* COMMIT of a failed transaction answers ROLLBACK */
    if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0 && strncmp(sql, "COMMIT", 6) == 0) {
        set_error(p, "40000", "the transaction was rolled back");
        PQclear(res);
        return -1;
    }
    PQclear(res);
    return 0;
}

/* ---- statements ----------------------------------------------------------------- */

/* sql with SQLite's parameters ("?" = the next number, "?N") as $N;
 * *n the highest number. */
static char *translate(const char *sql, int *n)
{
    char *out = malloc(strlen(sql) * 4 + 1), *o = out;
    int max = 0;
    char quote = 0;
    if (!out)
        return NULL;
    for (const char *c = sql; *c; c++) {
        if (quote) {
            if (*c == quote)
                quote = 0;
            *o++ = *c;
        } else if (*c == '\'' || *c == '"') {
            quote = *c;
            *o++ = *c;
        } else if (*c == '?') {
            int k;
            if (isdigit((unsigned char)c[1])) {
                k = (int)strtol(c + 1, (char **)&c, 10);
                c--;
            } else {
                k = max + 1;
            }
            if (k > max)
                max = k;
            o += sprintf(o, "$%d", k);
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    *n = max;
    return out;
}

static void stmt_clear(pg_stmt *k)
{
    PQclear(k->res);
    k->res = NULL;
    for (int i = 0; i < k->nparams; i++) {
        free(k->vals[i]);
        k->vals[i] = NULL;
        k->lens[i] = 0;
        k->fmts[i] = 0;
    }
}

static void stmt_free(pg_stmt *k)
{
    stmt_clear(k);
    free(k->vals);
    free(k->lens);
    free(k->fmts);
    free(k->types);
    free(k->sql);
    free(k->text);
    free(k);
}

static fs_db_stmt *pg_stmt_get(fs_db *d, const char *sql)
{
    pg_db *p = (pg_db *)d;
    for (size_t i = 0; i < p->nstmts; i++) {
        pg_stmt *k = p->stmts[i];
        if (!k->busy && strcmp(k->sql, sql) == 0) {
            k->busy = true;
            return &k->base;
        }
    }
    pg_stmt *k = calloc(1, sizeof *k);
    if (!k || !(k->text = translate(sql, &k->nparams))) {
        free(k);
        set_error(p, "53200", "out of memory");
        return NULL;
    }
    size_t np = (size_t)k->nparams + 1;
    k->vals = calloc(np, sizeof *k->vals);
    k->lens = calloc(np, sizeof *k->lens);
    k->fmts = calloc(np, sizeof *k->fmts);
    k->types = calloc(np, sizeof *k->types);
    if (!k->vals || !k->lens || !k->fmts || !k->types) {
        stmt_free(k);
        set_error(p, "53200", "out of memory");
        return NULL;
    }
    k->base.ops = &pg_ops;
    k->db = p;
    k->busy = true;
    if (p->nstmts < PG_STMTS && (k->sql = strdup(sql))) {
        snprintf(k->name, sizeof k->name, "fs%u", ++p->names);
        p->stmts[p->nstmts++] = k;
    }
    return &k->base;
}

static void pg_done(fs_db *d, fs_db_stmt *s)
{
    (void)d;
    pg_stmt *k = (pg_stmt *)s;
    stmt_clear(k);
    if (k->sql)
        k->busy = false;
    else
        stmt_free(k);
}

static void pg_reset(fs_db_stmt *s)
{
    pg_stmt *k = (pg_stmt *)s;
    PQclear(k->res);
    k->res = NULL;
}

/* Parameter i (1-based) as val (owned; NULL = NULL) of type and format. */
static void bind(pg_stmt *k, int i, char *val, int len, int fmt, Oid type)
{
    if (i < 1 || i > k->nparams) {
        free(val);
        return;
    }
    free(k->vals[i - 1]);
    k->vals[i - 1] = val;
    k->lens[i - 1] = len;
    k->fmts[i - 1] = fmt;
    /* the first type seen stays: a statement is prepared with one */
    if (!k->types[i - 1] || (k->prepared == 0 && val))
        k->types[i - 1] = type;
}

static void pg_bind_int(fs_db_stmt *s, int i, int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    bind((pg_stmt *)s, i, strdup(buf), 0, 0, OID_INT8);
}

static void pg_bind_text(fs_db_stmt *s, int i, const char *v)
{
    bind((pg_stmt *)s, i, v ? strdup(v) : NULL, 0, 0, OID_TEXT);
}

static void pg_bind_blob(fs_db_stmt *s, int i, const void *v, size_t n)
{
    char *copy = malloc(n + 1);
    if (copy && n)
        memcpy(copy, v, n);
    bind((pg_stmt *)s, i, copy, (int)n, 1, OID_BYTEA);
}

static int pg_step(fs_db_stmt *s)
{
    pg_stmt *k = (pg_stmt *)s;
    pg_db *p = k->db;
    if (!k->res) {
        if (pg_ready(p) < 0)
            return FS_DB_ERROR;
        for (int i = 0; i < k->nparams; i++)
            if (!k->types[i])
                k->types[i] = OID_TEXT; /* never bound: a NULL text */
        PGresult *res;
        if (k->sql) {
            if (k->prepared != p->gen) {
                res = PQprepare(p->conn, k->name, k->text, k->nparams, k->types);
                if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                    keep_error(p, res);
                    return FS_DB_ERROR;
                }
                PQclear(res);
                k->prepared = p->gen;
            }
            res = PQexecPrepared(p->conn, k->name, k->nparams, (const char *const *)k->vals, k->lens, k->fmts, 1);
        } else {
            res = PQexecParams(p->conn, k->text, k->nparams, k->types, (const char *const *)k->vals, k->lens,
                               k->fmts, 1);
        }
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
            keep_error(p, res);
            return FS_DB_ERROR;
        }
        const char *ct = PQcmdTuples(res);
        p->changes = ct && *ct ? strtoll(ct, NULL, 10) : 0;
        k->res = res;
        k->nrows = st == PGRES_TUPLES_OK ? PQntuples(res) : 0;
        k->row = -1;
    }
    if (k->row < k->nrows)
        k->row++;
    return k->row < k->nrows ? FS_DB_ROW : FS_DB_DONE;
}

static bool cell(pg_stmt *k, int c)
{
    return k->res && k->row >= 0 && k->row < k->nrows && c >= 0 && c < PQnfields(k->res) &&
           !PQgetisnull(k->res, k->row, c);
}

static int64_t be(const unsigned char *b, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | b[i];
    if (n < 8 && (b[0] & 0x80))
        v |= ~(uint64_t)0 << (8 * n); /* sign */
    return (int64_t)v;
}

static int64_t pg_col_int(fs_db_stmt *s, int c)
{
    pg_stmt *k = (pg_stmt *)s;
    if (!cell(k, c))
        return 0;
    const unsigned char *v = (const unsigned char *)PQgetvalue(k->res, k->row, c);
    switch (PQftype(k->res, c)) {
    case OID_INT8: return be(v, 8);
    case OID_INT4: return be(v, 4);
    case OID_INT2: return be(v, 2);
    case OID_BOOL: return v[0] != 0;
    default: return strtoll((const char *)v, NULL, 10);
    }
}

static const char *pg_col_text(fs_db_stmt *s, int c)
{
    pg_stmt *k = (pg_stmt *)s;
    return cell(k, c) ? PQgetvalue(k->res, k->row, c) : NULL;
}

static const void *pg_col_blob(fs_db_stmt *s, int c)
{
    return pg_col_text(s, c);
}

static size_t pg_col_bytes(fs_db_stmt *s, int c)
{
    pg_stmt *k = (pg_stmt *)s;
    return cell(k, c) ? (size_t)PQgetlength(k->res, k->row, c) : 0;
}

static bool pg_col_null(fs_db_stmt *s, int c)
{
    return !cell((pg_stmt *)s, c);
}

static int64_t pg_changes(fs_db *d)
{
    return ((pg_db *)d)->changes;
}

static void pg_rollback(fs_db *d);

/* A writer holds the writers' lock until its transaction ends, waiting up
 * to busy_ms (lock_timeout) for another writer; a reader reads one
 * snapshot. */
static int pg_begin(fs_db *d, bool write)
{
    /* a reader: one snapshot for the whole transaction */
    if (pg_exec(d, write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") < 0)
        return -1;
    ((pg_db *)d)->in_tx = true;
    if (write && pg_exec(d, PG_WRITE_LOCK) < 0) {
        pg_db *p = (pg_db *)d;
        char state[6], msg[512];
        memcpy(state, p->state, sizeof state);
        memcpy(msg, p->msg, sizeof msg);
        pg_rollback(d);
        set_error(p, state, msg);
        return -1;
    }
    return 0;
}

static int pg_commit(fs_db *d)
{
    int rc = pg_exec(d, "COMMIT");
    if (rc == 0)
        ((pg_db *)d)->in_tx = false;
    return rc;
}

static void pg_rollback(fs_db *d)
{
    pg_db *p = (pg_db *)d;
    p->in_tx = false;
    if (PQstatus(p->conn) != CONNECTION_OK || PQtransactionStatus(p->conn) == PQTRANS_IDLE)
        return;
    char state[6], msg[512];
    memcpy(state, p->state, sizeof state);
    memcpy(msg, p->msg, sizeof msg);
    PQclear(PQexec(p->conn, "ROLLBACK"));
    set_error(p, state, msg); /* the error that caused it stays the one reported */
}

/* Read from the catalog with the statement's snapshot (not through the
 * session's cache of names, which may remember that a table another
 * process has since made was missing). */
static bool pg_table_exists(fs_db *d, const char *name)
{
    fs_db_stmt *st = pg_stmt_get(d, "SELECT count(*) FROM pg_catalog.pg_tables"
                                    " WHERE schemaname = current_schema() AND tablename = ?1");
    if (!st)
        return false;
    pg_bind_text(st, 1, name);
    bool found = pg_step(st) == FS_DB_ROW && pg_col_int(st, 0) > 0;
    pg_done(d, st);
    return found;
}

static void pg_close(fs_db *d)
{
    pg_db *p = (pg_db *)d;
    for (size_t i = 0; i < p->nstmts; i++)
        stmt_free(p->stmts[i]);
    PQfinish(p->conn);
    free(d->name);
    free(p);
}

static const fs_db_ops pg_ops = {
    pg_stmt_get, pg_done,      pg_reset,    pg_bind_int, pg_bind_text, pg_bind_blob,    pg_step,
    pg_col_int,  pg_col_text,  pg_col_blob, pg_col_bytes, pg_col_null, pg_exec,         pg_changes,
    pg_begin,    pg_commit,    pg_rollback, pg_fail,     pg_table_exists, pg_close,
};

/* ---- connection strings ------------------------------------------------------------ */

static const char *const pg_keywords[] = {"host", "hostaddr", "port", "dbname", "user", "password", "passfile",
                                          "service", "sslmode", "connect_timeout", "application_name", "options",
                                          "target_session_attrs", NULL};

bool fs_db_is_pg(const char *t)
{
    if (!t)
        return false;
    if (strncmp(t, "postgresql://", 13) == 0 || strncmp(t, "postgres://", 11) == 0)
        return true;
    /* a keyword string: "host=... dbname=..." (a file name would not start so) */
    while (isspace((unsigned char)*t))
        t++;
    for (size_t i = 0; pg_keywords[i]; i++) {
        size_t n = strlen(pg_keywords[i]);
        if (strncmp(t, pg_keywords[i], n) == 0) {
            const char *c = t + n;
            while (*c == ' ')
                c++;
            if (*c == '=')
                return true;
        }
    }
    return false;
}

/* Remove "password=VALUE" (VALUE up to the next sep, or quoted in a
 * keyword string) from s, in place. */
static void cut_password(char *s, bool uri)
{
    for (char *at = s; (at = strstr(at, "password"));) {
        bool start = at == s || (uri ? (at[-1] == '?' || at[-1] == '&') : isspace((unsigned char)at[-1]));
        char *c = at + 8;
        while (!uri && *c == ' ')
            c++;
        if (!start || *c != '=') {
            at += 8;
            continue;
        }
        c++;
        while (!uri && *c == ' ')
            c++;
        if (uri) {
            while (*c && *c != '&')
                c++;
            if (*c == '&')
                c++;
            else if (at > s && (at[-1] == '&' || at[-1] == '?'))
                at--; /* the last parameter: drop its separator too */
        } else if (*c == '\'') {
            for (c++; *c && *c != '\''; c++)
                if (*c == '\\' && c[1])
                    c++;
            if (*c)
                c++;
        } else {
            while (*c && !isspace((unsigned char)*c))
                c++;
        }
        while (!uri && isspace((unsigned char)*c))
            c++;
        memmove(at, c, strlen(c) + 1);
    }
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

char *fs_db_redact(const char *t)
{
    char *s = strdup(t);
    if (!s)
        return NULL;
    char *scheme = strstr(s, "://");
    if (scheme && fs_db_is_pg(s)) {
        char *auth = scheme + 3;
        size_t alen = strcspn(auth, "/?");
        char *at = memchr(auth, '@', alen);
        char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon)
            memmove(colon, at, strlen(at) + 1);
        char *q = strchr(s, '?');
        if (q)
            cut_password(q, true);
        size_t n = strlen(s);
        if (n && s[n - 1] == '?')
            s[n - 1] = '\0';
    } else {
        cut_password(s, false);
    }
    return s;
}

/* ---- opening --------------------------------------------------------------------- */

/* The one-row answer of sql (columns 0 and 1 as integers); 1 when there is no row. */
static int one_row(pg_db *p, const char *sql, int64_t *a, int64_t *b)
{
    fs_db_stmt *st = pg_stmt_get(&p->base, sql);
    if (!st)
        return -1;
    int rc = pg_step(st);
    if (rc == FS_DB_ROW) {
        *a = pg_col_int(st, 0);
        if (b)
            *b = pg_col_int(st, 1);
    }
    pg_done(&p->base, st);
    return rc == FS_DB_ROW ? 0 : rc == FS_DB_DONE ? 1 : -1;
}

/* Create the schema in an empty database, under the writers' lock (two
 * processes opening a new database at once: one creates it, the other
 * finds it made when it has the lock; its next transaction sees it). */
static int pg_create(pg_db *p, fs_error *err)
{
    fs_db *d = &p->base;
    if (pg_begin(d, true) < 0)
        return pg_fail(d, err, "creating the schema");
    int rc = 0;
    if (!pg_table_exists(d, "store_meta")) {
        if (pg_table_exists(d, "builds")) {
            pg_rollback(d);
            return fs_fail(err, "%s: a PostgreSQL database with a table 'builds', but not a flashsize one", d->name);
        }
        char *schema = fs_store_schema_sql(FS_DB_PG);
        char meta[256];
        snprintf(meta, sizeof meta,
                 "CREATE TABLE store_meta(id BIGINT PRIMARY KEY CHECK (id = 1), application_id BIGINT NOT NULL,"
                 " schema_version BIGINT NOT NULL); INSERT INTO store_meta VALUES (1, %d, %d)",
                 PG_APP_ID, FS_STORE_SCHEMA_VERSION);
        if (!schema) {
            pg_rollback(d);
            return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", d->name);
        }
        rc = pg_exec(d, schema) < 0 || pg_exec(d, meta) < 0 ? -1 : 0;
        free(schema);
    }
    if (rc < 0 || pg_commit(d) < 0) {
        pg_fail(d, err, "creating the schema");
        pg_rollback(d);
        return -1;
    }
    return 0;
}

int fs_db_open_pg(const char *uri, const fs_store_opts *opts, int busy_ms, fs_db **out, fs_error *err)
{
    *out = NULL;
    pg_db *p = calloc(1, sizeof *p);
    if (!p || !(p->base.name = fs_db_redact(uri))) {
        free(p);
        return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", "database");
    }
    fs_db *d = &p->base;
    d->ops = &pg_ops;
    d->kind = FS_DB_PG;
    d->busy_ms = busy_ms;
    p->readonly = opts && opts->readonly;
    p->conn = PQconnectdb(uri);
    if (!p->conn || PQstatus(p->conn) != CONNECTION_OK) {
        set_error(p, "08006", p->conn ? PQerrorMessage(p->conn) : "out of memory");
        fs_fail_kind(err, FS_ERR_UNAVAILABLE, "%s: cannot connect to the database: %s", d->name, p->msg);
        goto fail;
    }
    if (pg_setup(p) < 0) {
        pg_fail(d, err, "connecting");
        goto fail;
    }
    if (!pg_table_exists(d, "store_meta")) {
        if (p->state[0]) {
            pg_fail(d, err, "reading the schema version");
            goto fail;
        }
        if (p->readonly) {
            fs_fail(err, "%s: not a flashsize database (no table store_meta)", d->name);
            goto fail;
        }
        if (pg_create(p, err) < 0)
            goto fail;
    }
    int64_t app = 0, version = 0;
    int rc = one_row(p, "SELECT application_id, schema_version FROM store_meta WHERE id = 1", &app, &version);
    if (rc < 0) {
        pg_fail(d, err, "reading the schema version");
        goto fail;
    }
    if (rc > 0 || app != PG_APP_ID) {
        fs_fail(err, "%s: not a flashsize database (store_meta)", d->name);
        goto fail;
    }
    if (version > FS_STORE_SCHEMA_VERSION) {
        fs_fail(err, "%s: database schema version %lld is newer than this flashsize reads (%d); upgrade flashsize",
                d->name, (long long)version, FS_STORE_SCHEMA_VERSION);
        goto fail;
    }
    if (version < FS_STORE_SCHEMA_VERSION) {
        fs_fail(err, "%s: database schema version %lld: no migration to %d on PostgreSQL", d->name, (long long)version,
                FS_STORE_SCHEMA_VERSION);
        goto fail;
    }
    d->version = version;
    *out = d;
    return 0;
fail:
    pg_close(d);
    return -1;
}
