/*
 * db.c - the server's fixed pool of database connections.
 *
 * Each slot pairs the store's connection (fs_store: record, load) with a
 * plain SQLite connection for the server's own read queries and its token
 * table.  A handler borrows one slot for one request, so no SQLite
 * connection is ever used by two threads at once.  Each slot keeps the
 * statements its requests prepare (sdb_prepare), reset after each use.  Writers wait for each
 * other through SQLite's busy timeout (the store's, FS_STORE_BUSY_MS).
 *
 * A file that cannot be written (mode 0444, read-only mount) is opened
 * read-only instead of refused: the dashboard keeps working and uploads
 * answer 503 with the store's reason.
 */
#include "auth.h"
#include "http.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

static int sdb_open_plain(sdb_pool *p, sdb_conn *c, fs_error *err)
{
    int flags = p->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(p->path, &c->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return fs_fail(err, "%s: cannot open the database: %s", p->path,
                       c->db ? sqlite3_errmsg(c->db) : "out of memory");
    sqlite3_busy_timeout(c->db, FS_STORE_BUSY_MS);
    /* No memory map (SQLite's default): with several connections in one
     * process each write made the others remap the file (docs/server.md). */
    return 0;
}

int sdb_pool_open(sdb_pool *p, const char *path, size_t n, fs_error *err)
{
    memset(p, 0, sizeof *p);
    if (!(p->path = strdup(path)) || !(p->conns = calloc(n, sizeof *p->conns))) {
        free(p->path);
        return fs_fail(err, "%s: out of memory", path);
    }
    p->nconns = n;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    pthread_mutex_init(&p->write_lock, NULL);
    fs_error why;
    /* The first open creates or migrates the store, or finds it read-only. */
    fs_store_opts rw = {.no_mmap = true};
    if (fs_store_open(path, &rw, &p->conns[0].store, &why) < 0) {
        if (why.kind != FS_ERR_READONLY)
            goto fail_msg;
        p->readonly = true;
        memcpy(p->readonly_why, why.msg, sizeof p->readonly_why);
        fs_store_opts ro = {.readonly = true, .no_mmap = true};
        if (fs_store_open(path, &ro, &p->conns[0].store, &why) < 0)
            goto fail_msg;
    }
    fs_store_opts so = {.readonly = p->readonly, .no_mmap = true};
    if (!(p->memo = fs_symset_memo_new())) {
        fs_fail(err, "%s: out of memory", path);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && fs_store_open(path, &so, &p->conns[i].store, &why) < 0)
            goto fail_msg;
        fs_store_set_symset_memo(p->conns[i].store, p->memo);
        if (sdb_open_plain(p, &p->conns[i], err) < 0)
            goto fail;
    }
    if (!p->readonly && auth_migrate(p->conns[0].db, path, err) < 0)
        goto fail;
    return 0;
fail_msg:
    *err = why;
fail:
    sdb_pool_close(p);
    return -1;
}

void sdb_pool_close(sdb_pool *p)
{
    for (size_t i = 0; p->conns && i < p->nconns; i++) {
        for (size_t k = 0; k < p->conns[i].nstmts; k++) {
            sqlite3_finalize(p->conns[i].stmts[k].st);
            free(p->conns[i].stmts[k].sql);
        }
        fs_store_close(p->conns[i].store);
        sqlite3_close(p->conns[i].db);
    }
    free(p->conns);
    free(p->path);
    fs_symset_memo_free(p->memo);
    if (p->nconns) {
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->freed);
        pthread_mutex_destroy(&p->write_lock);
    }
    memset(p, 0, sizeof *p);
}

sdb_conn *sdb_acquire(sdb_pool *p)
{
    pthread_mutex_lock(&p->lock);
    for (;;) {
        for (size_t i = 0; i < p->nconns; i++) {
            if (!p->conns[i].busy) {
                p->conns[i].busy = true;
                pthread_mutex_unlock(&p->lock);
                return &p->conns[i];
            }
        }
        pthread_cond_wait(&p->freed, &p->lock);
    }
}

void sdb_release(sdb_pool *p, sdb_conn *c)
{
    pthread_mutex_lock(&p->lock);
    c->busy = false;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

void sdb_write_begin(sdb_pool *p)
{
    pthread_mutex_lock(&p->write_lock);
}

void sdb_write_end(sdb_pool *p)
{
    pthread_mutex_unlock(&p->write_lock);
}

sqlite3_stmt *sdb_prepare(sdb_conn *c, const char *sql)
{
    for (size_t i = 0; i < c->nstmts; i++)
        if (strcmp(c->stmts[i].sql, sql) == 0)
            return c->stmts[i].st;
    bool keep = c->nstmts < SDB_STMTS;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v3(c->db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL) != SQLITE_OK)
        return NULL;
    char *copy = keep ? strdup(sql) : NULL;
    if (copy)
        c->stmts[c->nstmts++] = (sdb_stmt){copy, st};
    return st;
}

void sdb_done(sdb_conn *c, sqlite3_stmt *st)
{
    for (size_t i = 0; st && i < c->nstmts; i++) {
        if (c->stmts[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return;
        }
    }
    sqlite3_finalize(st);
}
