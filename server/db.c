/*
 * db.c - the server's fixed pool of database connections.
 *
 * Each slot is one store handle (fs_store): every query of the server,
 * reads, uploads and the token table, goes through the store's API, which
 * keeps each statement prepared per handle.  A handler borrows one slot for
 * one request, so no handle is ever used by two threads at once.  Writers
 * wait for each other through SQLite's busy timeout (the store's,
 * FS_STORE_BUSY_MS).
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
    }
    if (!p->readonly && fs_store_tokens_init(p->conns[0].store, err) < 0)
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
    for (size_t i = 0; p->conns && i < p->nconns; i++)
        fs_store_close(p->conns[i].store);
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
