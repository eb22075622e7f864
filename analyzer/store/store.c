/*
 * store.c - the size history in SQLite (see store.h for the ideas).
 *
 * The analysis document is validated here too (fs_analysis_validate), since
 * the store is where a hostile document would do lasting harm: every field
 * read later by the store, diff and check is type-checked and every array
 * capped before anything is written.
 *
 * Symbol sets (encodings in symset.h): a row of symsets is a snapshot
 * (base_id NULL, depth 0) or a delta against the row base_id (depth = its
 * depth + 1, an upper bound once a base was re-based).  Reading one walks
 * the chain to its snapshot and applies the deltas back down.  Rows are
 * immutable while a build or a delta uses them; the only rewrite is the
 * re-basing of deltas whose base is being deleted.
 */
#include "store.h"
#include "store_db.h"
#include "symset.h"
#include "symtab.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Interned string ids (strings table) this handle has seen: text -> id,
 * open addressing.  Rows of strings are never deleted, so an id read once
 * stays right; ids added by a transaction that rolls back are forgotten
 * (the whole map is cleared).  Cleared when full, so it stays bounded. */
#define STORE_NAMES_SLOTS 32768u  /* power of two */
#define STORE_NAMES_MAX   (STORE_NAMES_SLOTS / 2)

typedef struct store_name {
    char *s;               /* owned; NULL = empty slot */
    uint64_t hash;
    int64_t id;
} store_name;

struct fs_store {
    fs_db *db;             /* the connection (store_db.h): db->version is the schema version */
    const char *path;      /* db->name: the file, or the URI without its password */
    fs_store_hook hook;
    void *hook_ctx;
    store_name *names;     /* STORE_NAMES_SLOTS slots, allocated on first use */
    size_t nnames;
    uint64_t names_gen;    /* one more each time the map is cleared */
    fs_symset_memo *memo;  /* shared, or NULL */
    bool batch;            /* inside fs_store_begin: writes are savepoints */
};

struct fs_symset_memo {
    pthread_mutex_t lock;
    int64_t id, hash;      /* the set's row: id 0 = empty */
    fs_symrec *v;
    size_t n;
};

fs_symset_memo *fs_symset_memo_new(void)
{
    fs_symset_memo *m = calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->lock, NULL);
    return m;
}

void fs_symset_memo_free(fs_symset_memo *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->v);
    free(m);
}

void fs_store_set_symset_memo(fs_store *s, fs_symset_memo *m)
{
    s->memo = m;
}

/* Keep a copy of set id's records (a failed copy only forgets). */
static void memo_put(fs_store *s, int64_t id, int64_t hash, const fs_symrec *v, size_t n)
{
    fs_symset_memo *m = s->memo;
    if (!m)
        return;
    fs_symrec *copy = malloc((n + 1) * sizeof *copy);
    if (copy && n)
        memcpy(copy, v, n * sizeof *copy);
    pthread_mutex_lock(&m->lock);
    free(m->v);
    m->v = copy;
    m->n = n;
    m->id = copy ? id : 0;
    m->hash = hash;
    pthread_mutex_unlock(&m->lock);
}

/* A copy of set id's records if the memo holds them for this hash and count. */
static fs_symrec *memo_get(fs_store *s, int64_t id, int64_t hash, int64_t count, size_t *n)
{
    fs_symset_memo *m = s->memo;
    fs_symrec *copy = NULL;
    if (!m)
        return NULL;
    pthread_mutex_lock(&m->lock);
    if (m->id == id && m->hash == hash && (int64_t)m->n == count && (copy = malloc((m->n + 1) * sizeof *copy))) {
        if (m->n)
            memcpy(copy, m->v, m->n * sizeof *copy);
        *n = m->n;
    }
    pthread_mutex_unlock(&m->lock);
    return copy;
}

/* ---- opening ---------------------------------------------------------------- */

char *fs_store_display_name(const char *target)
{
    return fs_db_is_pg(target) ? fs_db_redact(target) : strdup(target);
}

const char *fs_store_path(const char *path)
{
    if (path && *path)
        return path;
    const char *env = getenv("FLASHSIZE_DB");
    return env && *env ? env : FS_STORE_DEFAULT_PATH;
}

int fs_store_open(const char *path, const fs_store_opts *opts, fs_store **out, fs_error *err)
{
    *out = NULL;
    int busy_ms = opts && opts->busy_ms > 0 ? opts->busy_ms : FS_STORE_BUSY_MS;
    const char *env = getenv("FLASHSIZE_DB_BUSY_MS");
    if (!(opts && opts->busy_ms > 0) && env && *env) {
        long ms = strtol(env, NULL, 10);
        if (ms > 0 && ms <= 3600000)
            busy_ms = (int)ms;
    }
    fs_store *s = calloc(1, sizeof *s);
    if (!s)
        return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", path);
    int rc = fs_db_is_pg(path) ? fs_db_open_pg(path, opts, busy_ms, &s->db, err)
                               : fs_db_open_sqlite(path, opts, busy_ms, &s->db, err);
    if (rc < 0) {
        free(s);
        return -1;
    }
    s->path = s->db->name;
    *out = s;
    return 0;
}

static void store_names_clear(fs_store *s)
{
    s->names_gen++;
    for (size_t i = 0; s->names && i < STORE_NAMES_SLOTS; i++) {
        free(s->names[i].s);
        s->names[i].s = NULL;
    }
    s->nnames = 0;
}

static int store_fail(fs_store *s, fs_error *err, const char *what);

/* A write's own transaction, or a savepoint inside fs_store_begin's (the
 * same SQL on both engines). */
static int tx_begin(fs_store *s, fs_error *err)
{
    int rc = s->batch ? fs_db_exec(s->db, "SAVEPOINT fs_write") : fs_db_begin(s->db, true);
    return rc < 0 ? store_fail(s, err, "starting a transaction") : 0;
}

static int tx_commit(fs_store *s, fs_error *err)
{
    int rc = s->batch ? fs_db_exec(s->db, "RELEASE SAVEPOINT fs_write") : fs_db_commit(s->db);
    return rc < 0 ? store_fail(s, err, "committing") : 0;
}

static void tx_rollback(fs_store *s)
{
    if (s->batch)
        fs_db_exec(s->db, "ROLLBACK TO SAVEPOINT fs_write; RELEASE SAVEPOINT fs_write");
    else
        fs_db_rollback(s->db);
}

int fs_store_begin(fs_store *s, fs_error *err)
{
    if (s->batch)
        return fs_fail_kind(err, FS_ERR_INTERNAL, "%s: a transaction is already open", s->path);
    if (s->db->version != FS_STORE_SCHEMA_VERSION)
        return fs_fail_kind(err, FS_ERR_READONLY, "%s: cannot write the database: opened read-only", s->path);
    if (fs_db_begin(s->db, true) < 0)
        return store_fail(s, err, "starting a transaction");
    s->batch = true;
    return 0;
}

int fs_store_commit(fs_store *s, fs_error *err)
{
    if (!s->batch)
        return fs_fail_kind(err, FS_ERR_INTERNAL, "%s: no transaction is open", s->path);
    if (fs_db_commit(s->db) < 0) {
        store_fail(s, err, "committing");
        fs_store_rollback(s);
        return -1;
    }
    s->batch = false;
    return 0;
}

void fs_store_rollback(fs_store *s)
{
    if (!s->batch)
        return;
    fs_db_rollback(s->db);
    s->batch = false;
    store_names_clear(s); /* ids added by the transaction are gone */
}

void fs_store_close(fs_store *s)
{
    if (!s)
        return;
    fs_store_rollback(s);
    store_names_clear(s);
    free(s->names);
    fs_db_close(s->db);
    free(s);
}

void fs_store_set_hook(fs_store *s, fs_store_hook hook, void *ctx)
{
    s->hook = hook;
    s->hook_ctx = ctx;
}

void fs_build_info_free(fs_build_info *b)
{
    if (!b)
        return;
    free(b->project);
    free(b->board);
    free(b->commit);
    free(b->branch);
    free(b->parent);
    free(b->tool_version);
    memset(b, 0, sizeof *b);
}

/* ---- statements ------------------------------------------------------------- */

static fs_db_stmt *store_stmt_get(fs_store *s, const char *sql)
{
    return fs_db_stmt_get(s->db, sql);
}

static void store_done(fs_store *s, fs_db_stmt *st)
{
    fs_db_done(s->db, st);
}

static int store_fail(fs_store *s, fs_error *err, const char *what)
{
    return fs_db_fail(s->db, err, what);
}

/* Prepare sql (once per handle) and bind "?" parameters from fmt: s (string
 * or NULL), i (int64).  Give the statement back with store_done. */
static fs_db_stmt *store_prep(fs_store *s, fs_error *err, const char *sql, const char *fmt, ...)
{
    fs_db_stmt *st = store_stmt_get(s, sql);
    if (!st) {
        store_fail(s, err, "preparing a query");
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    for (int i = 0; fmt && fmt[i]; i++) {
        if (fmt[i] == 's')
            fs_db_bind_text(st, i + 1, va_arg(ap, const char *));
        else
            fs_db_bind_int(st, i + 1, va_arg(ap, int64_t));
    }
    va_end(ap);
    return st;
}

/* Step a statement to completion; with out, the first column of the first row. */
static int store_run(fs_store *s, fs_db_stmt *st, int64_t *out, fs_error *err, const char *what)
{
    if (!st)
        return -1;
    int rc = fs_db_step(st);
    bool row = rc == FS_DB_ROW;
    if (row && out)
        *out = fs_db_col_int(st, 0);
    while (rc == FS_DB_ROW)
        rc = fs_db_step(st);
    if (rc != FS_DB_DONE) {
        store_fail(s, err, what);
        store_done(s, st);
        return -1;
    }
    store_done(s, st);
    return out && !row ? 1 : 0;
}

static char *dupcol(fs_db_stmt *st, int col)
{
    const char *t = fs_db_col_text(st, col);
    return t ? strdup(t) : NULL;
}

static int store_sync_ids(fs_store *s, const char *table, fs_error *err);

/* ---- symbol sets ------------------------------------------------------------ */

/* Strings looked up by value per query (rec_lookup). */
#define STORE_IDS_PER_QUERY 256

typedef struct recorder {
    fs_store *s;
    fs_error *err;
    fs_db_stmt *get_str, *put_str;
    bool looked_up;        /* every string of the table was looked up (rec_lookup) ... */
    uint64_t names_gen;    /* ... into the map as it is while names_gen is the handle's */
    int64_t want_id;       /* fs_store_record_copy: a new build's id (0 = next) */
    bool exact_time;       /* fs_store_record_copy: the timestamp as it is */
} recorder;

static int symset_corrupt(fs_store *s, fs_error *err, int64_t id, int code)
{
    if (code == FS_SYMSET_NOMEM)
        return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory reading symbol set %lld", s->path, (long long)id);
    return fs_fail_kind(err, FS_ERR_INTERNAL, "%s: corrupted symbol set %lld", s->path, (long long)id);
}

/* The chain of symbol set id: ids[0] = id, then its base, its base's base...
 * up to the snapshot; *blobs the statements holding each row's data. */
typedef struct chain {
    int64_t ids[FS_STORE_MAX_CHAIN + 1];
    fs_db_stmt *rows[FS_STORE_MAX_CHAIN + 1];
    size_t n;
    fs_store *s;
} chain;

static void chain_free(chain *c)
{
    for (size_t i = 0; i < c->n; i++)
        store_done(c->s, c->rows[i]);
    c->n = 0;
}

static int chain_load(fs_store *s, int64_t id, chain *c, fs_error *err)
{
    c->n = 0;
    c->s = s;
    const char *sql = s->db->version >= 2 ? "SELECT data, base_id, count FROM symsets WHERE id = ?"
                                      : "SELECT data, NULL, count FROM symsets WHERE id = ?";
    for (int64_t at = id; at;) {
        if (c->n > FS_STORE_MAX_CHAIN) {
            chain_free(c);
            return fs_fail_kind(err, FS_ERR_INTERNAL, "%s: corrupted symbol set %lld (a chain of more than %d deltas)", s->path,
                           (long long)id, FS_STORE_MAX_CHAIN);
        }
        fs_db_stmt *st = store_prep(s, err, sql, "i", at);
        if (!st) {
            chain_free(c);
            return -1;
        }
        int rc = fs_db_step(st);
        if (rc != FS_DB_ROW) {
            if (rc != FS_DB_DONE)
                store_fail(s, err, "reading a symbol set");
            store_done(s, st);
            chain_free(c);
            if (rc == FS_DB_DONE)
                return fs_fail_kind(err, FS_ERR_INTERNAL, "%s: corrupted store: symbol set %lld is missing", s->path, (long long)at);
            return -1;
        }
        c->ids[c->n] = at;
        c->rows[c->n++] = st;
        at = fs_db_col_int(st, 1);
    }
    return 0;
}

/* The records of symbol set id, sorted (*v owned by the caller). */
static int symset_read(fs_store *s, int64_t id, fs_symrec **v, size_t *n, fs_error *err)
{
    *v = NULL;
    *n = 0;
    chain c;
    if (chain_load(s, id, &c, err) < 0)
        return -1;
    fs_symrec *cur = NULL;
    size_t ncur = 0;
    int rc = FS_SYMSET_OK;
    int64_t at = id;
    for (size_t k = c.n; k-- > 0 && rc == FS_SYMSET_OK;) {
        fs_db_stmt *st = c.rows[k];
        const unsigned char *p = fs_db_col_blob(st, 0);
        size_t len = fs_db_col_bytes(st, 0);
        fs_symrec *next;
        size_t nnext;
        at = c.ids[k];
        rc = k == c.n - 1 ? fs_symset_unpack_full(p, len, &next, &nnext)
                          : fs_symset_apply_delta(cur, ncur, p, len, &next, &nnext);
        if (rc == FS_SYMSET_OK && (int64_t)nnext != fs_db_col_int(st, 2)) {
            free(next);
            rc = FS_SYMSET_CORRUPT;
        }
        if (rc == FS_SYMSET_OK) {
            free(cur);
            cur = next;
            ncur = nnext;
        }
    }
    chain_free(&c);
    if (rc != FS_SYMSET_OK) {
        free(cur);
        return symset_corrupt(s, err, at, rc);
    }
    *v = cur;
    *n = ncur;
    return 0;
}

/* FNV-1a, 64 bits, of a name for the handle's map of string ids. */
static uint64_t store_name_hash(const char *t)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        h = (h ^ *p) * 0x100000001b3u;
    return h;
}

/* The slot of t in the map: its entry, or the empty slot where it would go;
 * NULL when the map is not allocated. */
static store_name *store_name_slot(const fs_store *s, const char *t, uint64_t h)
{
    if (!s->names)
        return NULL;
    for (size_t i = h & (STORE_NAMES_SLOTS - 1);; i = (i + 1) & (STORE_NAMES_SLOTS - 1)) {
        store_name *e = &s->names[i];
        if (!e->s || (e->hash == h && strcmp(e->s, t) == 0))
            return e;
    }
}

/* Remember t -> id; out of memory only means it is not remembered. */
static void store_name_add(fs_store *s, const char *t, uint64_t h, int64_t id)
{
    if (!s->names && !(s->names = calloc(STORE_NAMES_SLOTS, sizeof *s->names)))
        return;
    if (s->nnames >= STORE_NAMES_MAX)
        store_names_clear(s);
    store_name *e = store_name_slot(s, t, h);
    if (e->s || !(e->s = strdup(t)))
        return;
    e->hash = h;
    e->id = id;
    s->nnames++;
}

/* The id of string t in the shared string table (0 for NULL), added if new. */
static int rec_string(recorder *r, const char *t, int64_t *id)
{
    if (!t) {
        *id = 0;
        return 0;
    }
    uint64_t h = store_name_hash(t);
    const store_name *known = store_name_slot(r->s, t, h);
    if (known && known->s) {
        *id = known->id;
        return 0;
    }
    if (r->looked_up && r->names_gen == r->s->names_gen)
        goto add; /* not in the table: rec_lookup would have found it */
    fs_db_reset(r->get_str);
    fs_db_bind_text(r->get_str, 1, t);
    int rc = fs_db_step(r->get_str);
    if (rc == FS_DB_ROW) {
        *id = fs_db_col_int(r->get_str, 0);
        fs_db_reset(r->get_str);
        store_name_add(r->s, t, h, *id);
        return 0;
    }
    if (rc != FS_DB_DONE)
        return store_fail(r->s, r->err, "reading symbol names");
add:
    fs_db_reset(r->put_str);
    fs_db_bind_text(r->put_str, 1, t);
    if (fs_db_step(r->put_str) != FS_DB_ROW)
        return store_fail(r->s, r->err, "adding symbol names");
    *id = fs_db_col_int(r->put_str, 0);
    fs_db_reset(r->put_str);
    store_name_add(r->s, t, h, *id);
    return 0;
}

/* Read the ids of the table's strings the handle does not know into its
 * map, STORE_IDS_PER_QUERY a query (a fresh handle would otherwise ask
 * once per name: a round trip each on a database server); afterwards a
 * string not in the map is not in the table. */
static int rec_lookup(recorder *r, const fs_symtab *t)
{
    fs_store *s = r->s;
    char sql[64 + 3 * STORE_IDS_PER_QUERY];
    size_t len = (size_t)snprintf(sql, sizeof sql, "SELECT id, s FROM strings WHERE s IN (?");
    for (size_t i = 1; i < STORE_IDS_PER_QUERY; i++)
        len += (size_t)snprintf(sql + len, sizeof sql - len, ", ?");
    snprintf(sql + len, sizeof sql - len, ")");
    uint64_t gen = s->names_gen;
    const char *batch[STORE_IDS_PER_QUERY], *kinds[64];
    size_t nb = 0, nk = 0;
    for (size_t i = 0; i <= 4 * t->n; i++) {
        const char *name = NULL;
        if (i < 4 * t->n) {
            const fs_sym *e = &t->v[i / 4];
            name = (const char *[]){e->name, e->type, e->bind, e->section}[i % 4];
            if (!name)
                continue;
            if (i % 4) { /* types, binds and sections: a few, in every symbol */
                size_t k = 0;
                while (k < nk && strcmp(kinds[k], name) != 0)
                    k++;
                if (k < nk)
                    continue;
                if (nk < 64)
                    kinds[nk++] = name;
            }
            const store_name *known = store_name_slot(s, name, store_name_hash(name));
            if (known && known->s)
                continue;
            batch[nb++] = name;
        }
        if (nb == 0 || (nb < STORE_IDS_PER_QUERY && i < 4 * t->n))
            continue;
        fs_db_stmt *st = store_stmt_get(s, sql);
        if (!st)
            return store_fail(s, r->err, "reading symbol names");
        for (size_t k = 0; k < STORE_IDS_PER_QUERY; k++)
            fs_db_bind_text(st, (int)k + 1, k < nb ? batch[k] : NULL);
        int rc;
        while ((rc = fs_db_step(st)) == FS_DB_ROW) {
            const char *got = fs_db_col_text(st, 1);
            if (got)
                store_name_add(s, got, store_name_hash(got), fs_db_col_int(st, 0));
        }
        store_done(s, st);
        if (rc != FS_DB_DONE)
            return store_fail(s, r->err, "reading symbol names");
        nb = 0;
    }
    r->looked_up = s->names != NULL;
    r->names_gen = gen;
    return 0;
}

/* The symbols of a table as sorted records (*v owned by the caller). */
static int rec_records(recorder *r, const fs_symtab *t, fs_symrec **v, size_t *nv)
{
    size_t n = t->n;
    fs_symrec *recs = malloc((n + 1) * sizeof *recs);
    *v = NULL;
    *nv = 0;
    if (!recs)
        return fs_fail_kind(r->err, FS_ERR_NOMEM, "%s: out of memory packing %zu symbols", r->s->path, n);
    if (rec_lookup(r, t) < 0) {
        free(recs);
        return -1;
    }
    /* Types, binds and sections repeat; a table from the upload parser
     * shares one copy of each, so their ids are remembered by address. */
    const char *kp[16] = {0};
    int64_t kid[16];
    size_t next = 0;
    for (size_t i = 0; i < n; i++) {
        const fs_sym *e = &t->v[i];
        fs_symrec *x = &recs[i];
        const char *kinds[3] = {e->type, e->bind, e->section};
        int64_t *ids[3] = {&x->type, &x->bind, &x->section};
        if (rec_string(r, e->name, &x->name) < 0)
            goto fail;
        for (size_t k = 0; k < 3; k++) {
            size_t j = 0;
            while (j < 16 && (kp[j] != kinds[k] || !kinds[k]))
                j++;
            if (j < 16) {
                *ids[k] = kid[j];
                continue;
            }
            if (rec_string(r, kinds[k], ids[k]) < 0)
                goto fail;
            kp[next] = kinds[k];
            kid[next] = *ids[k];
            next = (next + 1) % 16;
        }
        x->addr = e->address;
        x->size = e->size;
    }
    fs_symrec_sort(recs, n);
    *v = recs;
    *nv = n;
    return 0;
fail:
    free(recs);
    return -1;
}

/* An existing symbol set with exactly these records (hash of the snapshot
 * form, then a comparison of the decoded records), or *id = 0. */
static int symset_find(recorder *r, int64_t hash, const fs_symrec *v, size_t n, int64_t *id)
{
    *id = 0;
    fs_db_stmt *st = store_prep(r->s, r->err, "SELECT id FROM symsets WHERE hash = ? AND count = ? ORDER BY id", "ii",
                                  hash, (int64_t)n);
    if (!st)
        return -1;
    int rc = FS_DB_DONE;
    while (!*id && (rc = fs_db_step(st)) == FS_DB_ROW) {
        int64_t cand = fs_db_col_int(st, 0);
        fs_symrec *cv;
        size_t cn;
        if (symset_read(r->s, cand, &cv, &cn, r->err) < 0) {
            store_done(r->s, st);
            return -1;
        }
        if (fs_symrec_equal(cv, cn, v, n))
            *id = cand;
        free(cv);
    }
    if (!*id && rc != FS_DB_DONE) {
        store_done(r->s, st);
        return store_fail(r->s, r->err, "looking up the symbol set");
    }
    store_done(r->s, st);
    return 0;
}

/* Depth of symbol set id (0 for a snapshot), or -1 on error. */
/* Symbol set id's depth, hash and count. */
static int symset_row(recorder *r, int64_t id, int64_t *depth, int64_t *hash, int64_t *count)
{
    fs_db_stmt *st = store_prep(r->s, r->err, "SELECT depth, hash, count FROM symsets WHERE id = ?", "i", id);
    if (!st)
        return -1;
    int rc = fs_db_step(st);
    if (rc == FS_DB_ROW) {
        *depth = fs_db_col_int(st, 0);
        *hash = fs_db_col_int(st, 1);
        *count = fs_db_col_int(st, 2);
    }
    store_done(r->s, st);
    if (rc == FS_DB_DONE)
        return fs_fail_kind(r->err, FS_ERR_INTERNAL, "%s: corrupted store: symbol set %lld is missing", r->s->path, (long long)id);
    return rc == FS_DB_ROW ? 0 : store_fail(r->s, r->err, "reading a symbol set");
}

/* The packed form of v against base (0 = none): a delta when the base's
 * chain is short enough and the delta is less than half the snapshot,
 * else the snapshot.  *base_out is the base used (0 for a snapshot). */
static int symset_encode(recorder *r, const fs_symrec *v, size_t n, const fs_symbuf *full, int64_t base,
                         fs_symbuf *out, int64_t *base_out, int64_t *depth_out)
{
    *base_out = 0;
    *depth_out = 0;
    int64_t depth = 0, hash = 0, count = 0;
    if (base && symset_row(r, base, &depth, &hash, &count) < 0)
        return -1;
    if (base && depth + 1 < FS_STORE_SNAPSHOT_EVERY) {
        size_t bn;
        fs_symrec *bv = memo_get(r->s, base, hash, count, &bn);
        if (!bv && symset_read(r->s, base, &bv, &bn, r->err) < 0)
            return -1;
        int rc = fs_symset_pack_delta(bv, bn, v, n, out);
        free(bv);
        if (rc < 0)
            return fs_fail_kind(r->err, FS_ERR_NOMEM, "%s: out of memory packing %zu symbols", r->s->path, n);
        if (out->len < full->len / 2) {
            *base_out = base;
            *depth_out = depth + 1;
            return 0;
        }
        out->len = 0;
    }
    if (fs_symset_pack_full(v, n, out) < 0)
        return fs_fail_kind(r->err, FS_ERR_NOMEM, "%s: out of memory packing %zu symbols", r->s->path, n);
    return 0;
}

/* The id of the symbol set with the records v, inserted if new, as a delta
 * against symbol set base (0 = none) when that is smaller. */
static int rec_symset(recorder *r, const fs_symrec *v, size_t n, int64_t base, int64_t *id)
{
    fs_symbuf full = {0}, packed = {0};
    int rc = -1;
    if (fs_symset_pack_full(v, n, &full) < 0) {
        fs_fail_kind(r->err, FS_ERR_NOMEM, "%s: out of memory packing %zu symbols", r->s->path, n);
        goto done;
    }
    int64_t hash = fs_symset_hash(full.p, full.len);
    if (symset_find(r, hash, v, n, id) < 0)
        goto done;
    if (*id) {
        memo_put(r->s, *id, hash, v, n);
        rc = 0;
        goto done;
    }
    int64_t used_base, depth;
    if (symset_encode(r, v, n, &full, base, &packed, &used_base, &depth) < 0)
        goto done;
    fs_db_stmt *st = store_prep(r->s, r->err,
                                  "INSERT INTO symsets(hash, count, data, base_id, depth) VALUES(?, ?, ?, NULLIF(?, 0), ?)"
                                  " RETURNING id",
                                  "ii", hash, (int64_t)n);
    if (!st)
        goto done;
    fs_db_bind_blob(st, 3, packed.p, packed.len);
    fs_db_bind_int(st, 4, used_base);
    fs_db_bind_int(st, 5, depth);
    if (store_run(r->s, st, id, r->err, "storing the symbol set") != 0)
        goto done;
    memo_put(r->s, *id, hash, v, n);
    rc = 0;
done:
    free(full.p);
    free(packed.p);
    return rc;
}

/* Rewrite symbol set child, a delta against a set about to go, against
 * new_base (0 = as a snapshot). */
static int symset_rebase(recorder *r, int64_t child, int64_t new_base)
{
    fs_symrec *v;
    size_t n;
    if (symset_read(r->s, child, &v, &n, r->err) < 0)
        return -1;
    fs_symbuf full = {0}, packed = {0};
    int64_t used_base = 0, depth = 0;
    int rc = fs_symset_pack_full(v, n, &full) < 0 ? fs_fail_kind(r->err, FS_ERR_NOMEM, "%s: out of memory", r->s->path)
                                                  : symset_encode(r, v, n, &full, new_base, &packed, &used_base, &depth);
    free(v);
    if (rc == 0) {
        fs_db_stmt *st = store_prep(r->s, r->err,
                                      "UPDATE symsets SET data = ?, base_id = NULLIF(?, 0), depth = ? WHERE id = ?", NULL);
        if (st) {
            fs_db_bind_blob(st, 1, packed.p, packed.len);
            fs_db_bind_int(st, 2, used_base);
            fs_db_bind_int(st, 3, depth);
            fs_db_bind_int(st, 4, child);
        }
        rc = store_run(r->s, st, NULL, r->err, "re-basing a symbol set");
    }
    free(full.p);
    free(packed.p);
    return rc;
}

/* Symbol set id lost a build: when no build uses it any more, re-base the
 * deltas against it (onto its own base, or as snapshots) and delete it. */
static int symset_release(recorder *r, int64_t id)
{
    int64_t users = 0, base = 0;
    if (store_run(r->s, store_prep(r->s, r->err, "SELECT count(*) FROM builds WHERE symset_id = ?", "i", id), &users,
                  r->err, "dropping a symbol set") < 0)
        return -1;
    if (users)
        return 0;
    if (store_run(r->s, store_prep(r->s, r->err, "SELECT coalesce(base_id, 0) FROM symsets WHERE id = ?", "i", id),
                  &base, r->err, "dropping a symbol set") < 0)
        return -1;
    fs_db_stmt *st = store_prep(r->s, r->err, "SELECT id FROM symsets WHERE base_id = ? ORDER BY id", "i", id);
    if (!st)
        return -1;
    int64_t *kids = NULL;
    size_t nkids = 0, cap = 0;
    int rc;
    while ((rc = fs_db_step(st)) == FS_DB_ROW) {
        if (nkids == cap) {
            cap = cap ? 2 * cap : 8;
            int64_t *k = realloc(kids, cap * sizeof *k);
            if (!k)
                break;
            kids = k;
        }
        kids[nkids++] = fs_db_col_int(st, 0);
    }
    store_done(r->s, st);
    int out = rc == FS_DB_DONE ? 0 : rc == FS_DB_ROW ? fs_fail_kind(r->err, FS_ERR_NOMEM, "%s: out of memory", r->s->path)
                                                     : store_fail(r->s, r->err, "dropping a symbol set");
    for (size_t i = 0; out == 0 && i < nkids; i++)
        out = symset_rebase(r, kids[i], base);
    free(kids);
    if (out == 0)
        out = store_run(r->s, store_prep(r->s, r->err, "DELETE FROM symsets WHERE id = ?", "i", id), NULL, r->err,
                        "dropping a symbol set");
    return out;
}

/* The symbol set a new build of m should be a delta against: that of the
 * parent commit's build on the same project and board, else of the newest
 * other build there; 0 for none. */
static int rec_base(recorder *r, const fs_build_meta *m, int64_t *base)
{
    static const char from[] = "SELECT b.symset_id FROM builds b JOIN projects p ON p.id = b.project_id"
                               " JOIN boards bo ON bo.id = b.board_id WHERE p.name = ? AND bo.name = ?"
                               " AND b.commit_sha != ?";
    char sql[512];
    *base = 0;
    int rc = 1;
    if (m->parent && *m->parent) {
        snprintf(sql, sizeof sql, "%s AND b.commit_sha = ?", from);
        rc = store_run(r->s, store_prep(r->s, r->err, sql, "ssss", m->project, m->board, m->commit, m->parent), base,
                       r->err, "looking up the parent build");
    }
    if (rc > 0) {
        snprintf(sql, sizeof sql, "%s ORDER BY b.timestamp DESC, b.id DESC LIMIT 1", from);
        rc = store_run(r->s, store_prep(r->s, r->err, sql, "sss", m->project, m->board, m->commit), base, r->err,
                       "looking up the previous build");
    }
    if (rc > 0)
        *base = 0;
    return rc < 0 ? -1 : 0;
}

static int rec_hook(recorder *r, const char *stage)
{
    if (r->s->hook && r->s->hook(r->s->hook_ctx, stage) != 0)
        return fs_fail(r->err, "%s: recording stopped at '%s' (injected failure)", r->s->path, stage);
    return 0;
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t ju64(const json_t *o, const char *key)
{
    uint64_t v = 0;
    fs_json_u64(json_object_get(o, key), &v);
    return (int64_t)v;
}

static int rec_regions(recorder *r, int64_t build, const json_t *a)
{
    size_t i;
    const json_t *e;
    json_array_foreach(a, i, e) {
        fs_db_stmt *st = store_prep(r->s, r->err, "INSERT INTO regions VALUES(?, ?, ?, ?, ?, ?, ?)", "iisiiis",
                                      build, (int64_t)i, jstr(e, "name"), ju64(e, "origin"), ju64(e, "length"),
                                      ju64(e, "used"), jstr(e, "attrs"));
        if (store_run(r->s, st, NULL, r->err, "storing regions") < 0)
            return -1;
    }
    return 0;
}

static int rec_sections(recorder *r, int64_t build, const json_t *a)
{
    size_t i;
    const json_t *e;
    json_array_foreach(a, i, e) {
        fs_db_stmt *st = store_prep(r->s, r->err, "INSERT INTO sections VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                      "iisssiiiss", build, (int64_t)i, jstr(e, "name"), jstr(e, "type"),
                                      jstr(e, "flags"), ju64(e, "address"), ju64(e, "lma"), ju64(e, "size"),
                                      jstr(e, "region"), jstr(e, "load_region"));
        if (store_run(r->s, st, NULL, r->err, "storing sections") < 0)
            return -1;
    }
    return 0;
}

static int rec_frozen(recorder *r, int64_t build, const json_t *a)
{
    size_t i;
    const json_t *e;
    json_array_foreach(a, i, e) {
        char *detail = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
        fs_db_stmt *st = store_prep(r->s, r->err, "INSERT INTO frozen VALUES(?, ?, ?, ?, ?)", "iisis", build,
                                      (int64_t)i, jstr(e, "name"), ju64(e, "bytes"), detail);
        free(detail);
        if (store_run(r->s, st, NULL, r->err, "storing frozen modules") < 0)
            return -1;
    }
    return 0;
}

static int rec_findings(recorder *r, int64_t build, const json_t *a)
{
    size_t i;
    const json_t *e;
    json_array_foreach(a, i, e) {
        const json_t *nums = json_object_get(e, "numbers");
        char *numbers = nums ? json_dumps(nums, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        fs_db_stmt *st = store_prep(r->s, r->err, "INSERT INTO findings VALUES(?, ?, ?, ?, ?, ?, ?)", "iisssss",
                                      build, (int64_t)i, jstr(e, "id"), jstr(e, "severity"), jstr(e, "subject"),
                                      jstr(e, "message"), numbers);
        free(numbers);
        if (store_run(r->s, st, NULL, r->err, "storing findings") < 0)
            return -1;
    }
    return 0;
}

/* project/board name -> id, added if new. */
static int rec_named(recorder *r, const char *table, const char *name, int64_t *id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO %s(name) VALUES(?) ON CONFLICT(name) DO NOTHING", table);
    if (store_run(r->s, store_prep(r->s, r->err, sql, "s", name), NULL, r->err, "adding a name") < 0)
        return -1;
    snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE name = ?", table);
    return store_run(r->s, store_prep(r->s, r->err, sql, "s", name), id, r->err, "reading a name") == 0 ? 0 : -1;
}

/* The document without its symbols, as stored in builds.doc. */
char *fs_store_doc_text(const json_t *doc, const char *name, fs_error *err)
{
    json_t *copy = json_copy((json_t *)doc);
    if (!copy || json_object_set_new(copy, "symbols", json_array()) < 0) {
        json_decref(copy);
        fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    char *text = json_dumps(copy, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(copy);
    if (!text)
        fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", name);
    else if (strlen(text) > FS_ANALYSIS_MAX_DOC_BYTES) {
        fs_fail_kind(err, FS_ERR_LIMIT, "%s: the analysis without its symbols is %zu bytes, more than the %u-byte limit", name,
                strlen(text), FS_ANALYSIS_MAX_DOC_BYTES);
        free(text);
        text = NULL;
    }
    return text;
}

/* The build row: inserted, or updated in place when the commit is known. */
static int rec_build_row(recorder *r, const json_t *doc, const fs_build_meta *m, int64_t symset, const char *text,
                         const char *errors, const char *regions, int64_t *id, int64_t *old_symset)
{
    int64_t project, board;
    if (rec_named(r, "projects", m->project, &project) < 0 || rec_named(r, "boards", m->board, &board) < 0)
        return -1;
    const json_t *main = fs_analysis_main_region(doc);
    const char *tool = jstr(json_object_get(doc, "tool"), "version");
    int64_t ts = m->timestamp || r->exact_time ? m->timestamp : (int64_t)time(NULL);
    fs_db_stmt *st = store_prep(r->s, r->err,
                                  "SELECT id, symset_id FROM builds WHERE project_id = ? AND board_id = ? AND commit_sha = ?",
                                  "iis", project, board, m->commit);
    if (!st)
        return -1;
    *id = 0;
    *old_symset = 0;
    int rc = fs_db_step(st);
    if (rc == FS_DB_ROW) {
        *id = fs_db_col_int(st, 0);
        *old_symset = fs_db_col_int(st, 1);
    }
    store_done(r->s, st);
    if (rc != FS_DB_ROW && rc != FS_DB_DONE)
        return store_fail(r->s, r->err, "looking up the build");
    const char *region = main ? jstr(main, "name") : NULL, *chip = jstr(doc, "chip");
    int64_t used = main ? ju64(main, "used") : 0, length = main ? ju64(main, "length") : 0;
    if (*id) {
        st = store_prep(r->s, r->err,
                        "UPDATE builds SET project_id=?, board_id=?, commit_sha=?, branch=?, parent_sha=?, pr=?,"
                        " timestamp=?, tool_version=?, chip=?, main_region=?, main_used=?, main_length=?,"
                        " symset_id=?, doc=?, errors_json=?, regions_json=? WHERE id=?",
                        "iisssiisssiiisssi", project, board, m->commit, m->branch, m->parent, m->pr, ts, tool, chip,
                        region, used, length, symset, text, errors, regions, *id);
        if (store_run(r->s, st, NULL, r->err, "storing the build") < 0)
            return -1;
    } else if (r->want_id) {
        st = store_prep(r->s, r->err,
                        "INSERT INTO builds(project_id, board_id, commit_sha, branch, parent_sha, pr, timestamp,"
                        " tool_version, chip, main_region, main_used, main_length, symset_id, doc, errors_json,"
                        " regions_json, id) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        "iisssiisssiiisssi", project, board, m->commit, m->branch, m->parent, m->pr, ts, tool, chip,
                        region, used, length, symset, text, errors, regions, r->want_id);
        if (store_run(r->s, st, id, r->err, "storing the build") != 0 || store_sync_ids(r->s, "builds", r->err) < 0)
            return -1;
    } else {
        st = store_prep(r->s, r->err,
                        "INSERT INTO builds(project_id, board_id, commit_sha, branch, parent_sha, pr, timestamp,"
                        " tool_version, chip, main_region, main_used, main_length, symset_id, doc, errors_json,"
                        " regions_json) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        "iisssiisssiiisss", project, board, m->commit, m->branch, m->parent, m->pr, ts, tool, chip,
                        region, used, length, symset, text, errors, regions);
        if (store_run(r->s, st, id, r->err, "storing the build") != 0)
            return -1;
    }
    static const char *const children[] = {"regions", "sections", "frozen", "findings"};
    for (size_t i = 0; i < 4; i++) {
        char del[64];
        snprintf(del, sizeof del, "DELETE FROM %s WHERE build_id = ?", children[i]);
        if (store_run(r->s, store_prep(r->s, r->err, del, "i", *id), NULL, r->err, "replacing the build") < 0)
            return -1;
    }
    return 0;
}

/* The summary columns of schema v3: ids of the error findings as a JSON
 * array, and {"REGION": {"used", "length"}} in the regions' order.  NULL
 * when out of memory. */
static char *rec_errors_json(const json_t *findings)
{
    json_t *a = json_array();
    size_t i;
    const json_t *e;
    json_array_foreach(findings, i, e)
        if (strcmp(jstr(e, "severity"), "error") == 0)
            json_array_append_new(a, json_string(jstr(e, "id")));
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

static char *rec_regions_json(const json_t *regions)
{
    json_t *o = json_object();
    size_t i;
    const json_t *e;
    json_array_foreach(regions, i, e)
        json_object_set_new(o, jstr(e, "name"),
                            json_pack("{s:I,s:I}", "used", (json_int_t)ju64(e, "used"), "length",
                                      (json_int_t)ju64(e, "length")));
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return text;
}

/* Insert the build row, or update it in place when the commit is known. */
static int rec_build(recorder *r, const json_t *doc, const fs_build_meta *m, int64_t symset, const char *text,
                     int64_t *id, int64_t *old_symset)
{
    char *errors = rec_errors_json(json_object_get(doc, "findings"));
    char *regions = rec_regions_json(json_object_get(doc, "regions"));
    int rc = !errors || !regions ? fs_fail_kind(r->err, FS_ERR_NOMEM, "%s: out of memory", r->s->path)
                                 : rec_build_row(r, doc, m, symset, text, errors, regions, id, old_symset);
    free(errors);
    free(regions);
    return rc;
}

static int rec_all(recorder *r, const json_t *doc, const fs_symtab *syms, const char *doc_text, const fs_build_meta *m,
                   int64_t *build_id)
{
    fs_store *s = r->s;
    if (!(r->get_str = store_stmt_get(s, "SELECT id FROM strings WHERE s = ?")) ||
        !(r->put_str = store_stmt_get(s, "INSERT INTO strings(s) VALUES(?) RETURNING id")))
        return store_fail(s, r->err, "preparing a query");
    if (rec_hook(r, "build") < 0)
        return -1;
    fs_symrec *recs = NULL;
    size_t nrecs = 0;
    int64_t symset, id = 0, old_symset = 0, base;
    char *text = NULL;
    int rc = -1;
    if (rec_records(r, syms, &recs, &nrecs) < 0 || rec_hook(r, "symbols") < 0 || rec_base(r, m, &base) < 0 ||
        rec_symset(r, recs, nrecs, base, &symset) < 0 ||
        (!doc_text && !(text = fs_store_doc_text(doc, s->path, r->err))) ||
        rec_build(r, doc, m, symset, doc_text ? doc_text : text, &id, &old_symset) < 0)
        goto done;
    if (rec_hook(r, "regions") < 0 || rec_regions(r, id, json_object_get(doc, "regions")) < 0 ||
        rec_hook(r, "sections") < 0 || rec_sections(r, id, json_object_get(doc, "sections")) < 0 ||
        rec_hook(r, "frozen") < 0 || rec_frozen(r, id, fs_analysis_frozen_modules(doc)) < 0 ||
        rec_hook(r, "findings") < 0 || rec_findings(r, id, json_object_get(doc, "findings")) < 0)
        goto done;
    if (old_symset && old_symset != symset && symset_release(r, old_symset) < 0)
        goto done;
    if (rec_hook(r, "commit") < 0)
        goto done;
    *build_id = id;
    rc = 0;
done:
    free(recs);
    free(text);
    return rc;
}

int fs_store_record_validated(fs_store *s, const json_t *analysis, const fs_build_meta *m, int64_t *build_id,
                              fs_error *err)
{
    fs_symtab t;
    if (fs_symtab_from_json(&t, json_object_get(analysis, "symbols")) < 0)
        return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory reading the symbols", s->path);
    int rc = fs_store_record_tab(s, analysis, &t, NULL, m, build_id, err);
    fs_symtab_free(&t);
    return rc;
}

static int record_tab(fs_store *s, const json_t *analysis, const fs_symtab *syms, const char *doc_text,
                      const fs_build_meta *m, int64_t want_id, bool exact_time, int64_t *build_id, fs_error *err)
{
    if (!m->project || !*m->project || !m->board || !*m->board || !m->commit || !*m->commit)
        return fs_fail(err, "%s: a build needs a project, a board and a commit", s->path);
    if (tx_begin(s, err) < 0)
        return -1;
    recorder r = {s, err, NULL, NULL, false, 0, want_id, exact_time};
    int rc = rec_all(&r, analysis, syms, doc_text, m, build_id);
    store_done(s, r.get_str);
    store_done(s, r.put_str);
    if (rc == 0 && tx_commit(s, err) == 0)
        return 0;
    tx_rollback(s);
    store_names_clear(s); /* ids added by this transaction are gone */
    return -1;
}

int fs_store_record_tab(fs_store *s, const json_t *analysis, const fs_symtab *syms, const char *doc_text,
                        const fs_build_meta *m, int64_t *build_id, fs_error *err)
{
    return record_tab(s, analysis, syms, doc_text, m, 0, false, build_id, err);
}

int fs_store_record_copy(fs_store *s, const json_t *analysis, const fs_build_meta *m, int64_t want_id,
                         int64_t *build_id, fs_error *err)
{
    char name[1100];
    snprintf(name, sizeof name, "%s (build %s)", s->path, m->commit ? m->commit : "?");
    if (fs_analysis_validate(analysis, name, err) < 0)
        return -1;
    fs_symtab t;
    if (fs_symtab_from_json(&t, json_object_get(analysis, "symbols")) < 0)
        return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory reading the symbols", s->path);
    int rc = record_tab(s, analysis, &t, NULL, m, want_id, true, build_id, err);
    fs_symtab_free(&t);
    return rc;
}

int fs_store_record(fs_store *s, const json_t *analysis, const fs_build_meta *m, int64_t *build_id, fs_error *err)
{
    char name[1100];
    snprintf(name, sizeof name, "%s (build %s)", s->path, m->commit ? m->commit : "?");
    if (fs_analysis_validate(analysis, name, err) < 0)
        return -1;
    return fs_store_record_validated(s, analysis, m, build_id, err);
}

int fs_store_delete(fs_store *s, int64_t id, fs_error *err)
{
    if (tx_begin(s, err) < 0)
        return -1;
    recorder r = {s, err, NULL, NULL, false, 0, 0, false};
    int64_t symset = 0;
    int rc = store_run(s, store_prep(s, err, "SELECT symset_id FROM builds WHERE id = ?", "i", id), &symset, err,
                       "deleting a build");
    if (rc > 0)
        rc = fs_fail_kind(err, FS_ERR_NOTFOUND, "%s: no build %lld", s->path, (long long)id);
    if (rc == 0)
        rc = store_run(s, store_prep(s, err, "DELETE FROM builds WHERE id = ?", "i", id), NULL, err, "deleting a build");
    if (rc == 0)
        rc = symset_release(&r, symset);
    if (rc == 0 && tx_commit(s, err) == 0)
        return 0;
    tx_rollback(s);
    return -1;
}

/* ---- reading ----------------------------------------------------------------- */

static json_t *load_u64(uint64_t v)
{
    if (v > INT64_MAX) {
        char b[32];
        snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
        return json_string(b);
    }
    return json_integer((json_int_t)v);
}

/* The strings of a symbol set, read by ranges of ids (a query per range,
 * not one per symbol: a round trip per name is what a load on a database
 * server would cost): sorted ids and their values. */

typedef struct strcache {
    int64_t *ids;
    json_t **vals;         /* NULL: no such row */
    size_t n;
} strcache;

static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int strcache_fill(fs_store *s, strcache *c, const fs_symrec *v, size_t n, fs_error *err)
{
    if (!(c->ids = malloc((4 * n + 1) * sizeof *c->ids)))
        return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", s->path);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const int64_t f[4] = {v[i].name, v[i].type, v[i].bind, v[i].section};
        for (size_t j = 0; j < 4; j++)
            if (f[j] && (j == 0 || k == 0 || c->ids[k - 1] != f[j]))
                c->ids[k++] = f[j];
    }
    qsort(c->ids, k, sizeof *c->ids, id_cmp);
    c->n = 0;
    for (size_t i = 0; i < k; i++)
        if (c->n == 0 || c->ids[c->n - 1] != c->ids[i])
            c->ids[c->n++] = c->ids[i];
    if (!(c->vals = calloc(c->n + 1, sizeof *c->vals)))
        return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", s->path);
    /* Ranges of ids at least half of which the set uses: names recorded
     * together have neighbouring ids, so a few range scans read them all. */
    for (size_t at = 0; at < c->n;) {
        size_t end = at + 1;
        while (end < c->n && (uint64_t)(c->ids[end] - c->ids[at]) < 2 * (uint64_t)(end - at + 1) + 256)
            end++;
        fs_db_stmt *st = store_stmt_get(s, "SELECT id, s FROM strings WHERE id >= ? AND id <= ?");
        if (!st)
            return store_fail(s, err, "reading symbol names");
        fs_db_bind_int(st, 1, c->ids[at]);
        fs_db_bind_int(st, 2, c->ids[end - 1]);
        int rc;
        while ((rc = fs_db_step(st)) == FS_DB_ROW) {
            int64_t id = fs_db_col_int(st, 0);
            const int64_t *e = bsearch(&id, c->ids + at, end - at, sizeof *c->ids, id_cmp);
            if (e && !c->vals[e - c->ids] && !(c->vals[e - c->ids] = json_string(fs_db_col_text(st, 1)))) {
                store_done(s, st);
                return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", s->path);
            }
        }
        if (rc != FS_DB_DONE) {
            store_fail(s, err, "reading symbol names");
            store_done(s, st);
            return -1;
        }
        store_done(s, st);
        at = end;
    }
    return 0;
}

static json_t *load_string(fs_store *s, strcache *c, int64_t id, fs_error *err)
{
    if (id == 0)
        return json_null();
    const int64_t *e = bsearch(&id, c->ids, c->n, sizeof *c->ids, id_cmp);
    if (!e || !c->vals[e - c->ids]) {
        fs_fail_kind(err, FS_ERR_INTERNAL, "%s: corrupted store: string %lld is missing", s->path, (long long)id);
        return NULL;
    }
    return json_incref(c->vals[e - c->ids]);
}

static int load_sym_cmp(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    uint64_t xs = 0, ys = 0, xa = 0, ya = 0;
    fs_json_u64(json_object_get(x, "size"), &xs);
    fs_json_u64(json_object_get(y, "size"), &ys);
    if (xs != ys)
        return xs > ys ? -1 : 1;
    int c = strcmp(json_string_value(json_object_get(x, "name")), json_string_value(json_object_get(y, "name")));
    if (c)
        return c;
    fs_json_u64(json_object_get(x, "address"), &xa);
    fs_json_u64(json_object_get(y, "address"), &ya);
    return xa < ya ? -1 : xa > ya;
}

/* Decode a symbol set into a symbols array in the document's order. */
static void strcache_free(strcache *c)
{
    for (size_t i = 0; c->vals && i < c->n; i++)
        json_decref(c->vals[i]);
    free(c->ids);
    free(c->vals);
}

/* One symbol object from a record. */
static json_t *load_symbol(fs_store *s, strcache *c, const fs_symrec *x, fs_error *err)
{
    json_t *o = json_object();
    json_t *nm = load_string(s, c, x->name, err);
    json_t *ty = load_string(s, c, x->type, err);
    json_t *bi = load_string(s, c, x->bind, err);
    json_t *se = load_string(s, c, x->section, err);
    if (!o || !nm || !ty || !bi || !se || !json_is_string(nm) || !json_is_string(ty) || !json_is_string(bi)) {
        if (nm && ty && bi && se)
            fs_fail_kind(err, FS_ERR_INTERNAL, "%s: corrupted symbol set (a symbol without a name, type or bind)", s->path);
        else if (!o)
            fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", s->path);
        json_decref(o), json_decref(nm), json_decref(ty), json_decref(bi), json_decref(se);
        return NULL;
    }
    json_object_set_new(o, "name", nm);
    json_object_set_new(o, "address", load_u64(x->addr));
    json_object_set_new(o, "size", load_u64(x->size));
    json_object_set_new(o, "type", ty);
    json_object_set_new(o, "bind", bi);
    json_object_set_new(o, "section", se);
    return o;
}

/* Symbol set id as a symbols array in the document's order. */
static json_t *load_symbols(fs_store *s, int64_t id, fs_error *err)
{
    fs_symrec *v;
    size_t n;
    if (symset_read(s, id, &v, &n, err) < 0)
        return NULL;
    strcache c = {0};
    json_t **items = calloc(n + 1, sizeof *items);
    json_t *arr = NULL;
    size_t done = 0;
    if (!items) {
        fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", s->path);
        goto out;
    }
    if (strcache_fill(s, &c, v, n, err) < 0)
        goto out;
    for (; done < n; done++)
        if (!(items[done] = load_symbol(s, &c, &v[done], err)))
            goto out;
    qsort(items, n, sizeof *items, load_sym_cmp);
    arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_array_append_new(arr, items[i]);
        items[i] = NULL;
    }
    if (!arr)
        fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", s->path);
out:
    for (size_t i = 0; items && i < done; i++)
        json_decref(items[i]);
    free(items);
    free(v);
    strcache_free(&c);
    return arr;
}

static const char build_cols[] =
    "SELECT b.id, p.name, bo.name, b.commit_sha, b.branch, b.parent_sha, b.tool_version, b.pr, b.timestamp";
static const char build_from[] = " FROM builds b JOIN projects p ON p.id = b.project_id JOIN boards bo ON bo.id = b.board_id";

static void load_info(fs_db_stmt *st, fs_build_info *b)
{
    b->id = fs_db_col_int(st, 0);
    b->project = dupcol(st, 1);
    b->board = dupcol(st, 2);
    b->commit = dupcol(st, 3);
    b->branch = dupcol(st, 4);
    b->parent = dupcol(st, 5);
    b->tool_version = dupcol(st, 6);
    b->pr = fs_db_col_int(st, 7);
    b->timestamp = fs_db_col_int(st, 8);
}

static int store_load_tx(fs_store *s, int64_t id, bool symbols, json_t **doc, fs_build_info *info, fs_error *err)
{
    *doc = NULL;
    if (info)
        memset(info, 0, sizeof *info);
    char sql[512];
    snprintf(sql, sizeof sql, "%s, b.doc, b.symset_id%s WHERE b.id = ?", build_cols, build_from);
    fs_db_stmt *st = store_prep(s, err, sql, "i", id);
    if (!st)
        return -1;
    int rc = fs_db_step(st);
    if (rc != FS_DB_ROW) {
        store_done(s, st);
        if (rc == FS_DB_DONE)
            return fs_fail_kind(err, FS_ERR_NOTFOUND, "%s: no build %lld", s->path, (long long)id);
        return store_fail(s, err, "reading a build");
    }
    json_error_t je;
    json_t *j = json_loads(fs_db_col_text(st, 9), 0, &je);
    json_t *syms = !j ? NULL : symbols ? load_symbols(s, fs_db_col_int(st, 10), err) : json_array();
    if (j && syms && info)
        load_info(st, info);
    store_done(s, st);
    if (!j)
        return fs_fail_kind(err, FS_ERR_INTERNAL, "%s: build %lld: stored document is corrupted (%s)", s->path, (long long)id, je.text);
    if (!syms) {
        json_decref(j);
        return -1;
    }
    json_object_set_new(j, "symbols", syms);
    char name[1100];
    snprintf(name, sizeof name, "%s (build %lld)", s->path, (long long)id);
    if (fs_analysis_validate(j, name, err) < 0) {
        json_decref(j);
        if (info)
            fs_build_info_free(info);
        return -1;
    }
    *doc = j;
    return 0;
}

/* The build row, its symbol set's chain and names are read in one read
 * transaction: one snapshot (PostgreSQL: REPEATABLE READ), so a writer
 * re-basing the chain meanwhile (another process or replica) is not seen
 * half-way. */
static int store_load(fs_store *s, int64_t id, bool symbols, json_t **doc, fs_build_info *info, fs_error *err)
{
    *doc = NULL;
    if (info)
        memset(info, 0, sizeof *info);
    /* Inside fs_store_begin's transaction (db copy's verification) the
     * reads are already one snapshot, and a BEGIN or COMMIT here would end
     * that transaction (PostgreSQL) or fail (SQLite). */
    if (s->batch)
        return store_load_tx(s, id, symbols, doc, info, err);
    if (fs_db_begin(s->db, false) < 0)
        return store_fail(s, err, "reading a build");
    int rc = store_load_tx(s, id, symbols, doc, info, err);
    if (rc == 0 && fs_db_commit(s->db) < 0) {
        rc = store_fail(s, err, "reading a build");
        json_decref(*doc);
        *doc = NULL;
        if (info)
            fs_build_info_free(info);
    }
    if (rc < 0)
        fs_db_rollback(s->db);
    return rc;
}

int fs_store_load(fs_store *s, int64_t id, json_t **doc, fs_build_info *info, fs_error *err)
{
    return store_load(s, id, true, doc, info, err);
}

int fs_store_load_summary(fs_store *s, int64_t id, json_t **doc, fs_error *err)
{
    return store_load(s, id, false, doc, NULL, err);
}

int fs_store_find(fs_store *s, const char *commit, const char *board, const char *project, int64_t *id, fs_error *err)
{
    size_t n = strlen(commit);
    if (n < 4 || n > 64 || strspn(commit, "0123456789abcdefABCDEF") != n)
        return fs_fail(err, "commit '%s': expected 4 to 64 hex digits", commit);
    char pattern[80];
    snprintf(pattern, sizeof pattern, "%s%%", commit);
    fs_db_stmt *st = store_prep(s, err,
                                  "SELECT b.id FROM builds b JOIN projects p ON p.id = b.project_id JOIN boards bo"
                                  " ON bo.id = b.board_id WHERE lower(b.commit_sha) LIKE lower(?) AND (?2 IS NULL OR bo.name = ?2)"
                                  " AND (?3 IS NULL OR p.name = ?3) ORDER BY b.id LIMIT 2",
                                  "sss", pattern, board, project);
    if (!st)
        return -1;
    int found = 0, rc;
    while ((rc = fs_db_step(st)) == FS_DB_ROW)
        if (found++ == 0)
            *id = fs_db_col_int(st, 0);
    store_done(s, st);
    if (rc != FS_DB_DONE)
        return store_fail(s, err, "finding a commit");
    if (found == 0)
        return fs_fail_kind(err, FS_ERR_NOTFOUND, "%s: no build of commit %s%s%s", s->path, commit, board ? " on board " : "",
                       board ? board : "");
    if (found > 1)
        return fs_fail(err, "%s: commit %s matches more than one build; add @BOARD or more digits", s->path, commit);
    return 0;
}

int fs_store_resolve(fs_store *s, const char *spec, int64_t *id, fs_error *err)
{
    if (strncmp(spec, "build:", 6) == 0) {
        char *end;
        errno = 0;
        long long v = strtoll(spec + 6, &end, 10);
        if (errno || end == spec + 6 || *end || v <= 0)
            return fs_fail(err, "'%s': expected build:ID with a positive number", spec);
        *id = v;
        return 0;
    }
    if (strncmp(spec, "commit:", 7) == 0) {
        char sha[80];
        snprintf(sha, sizeof sha, "%s", spec + 7);
        char *at = strchr(sha, '@');
        if (at)
            *at++ = '\0';
        return fs_store_find(s, sha, at && *at ? at : NULL, NULL, id, err);
    }
    return fs_fail(err, "'%s': expected build:ID or commit:SHA[@BOARD]", spec);
}

int fs_store_history(fs_store *s, const fs_history_query *q, fs_history_row **rows, size_t *n, fs_error *err)
{
    *rows = NULL;
    *n = 0;
    size_t limit = q->limit ? q->limit : 20;
    /* Each row's delta is against the previous build of its own branch
     * (FS_STORE_PREV_SQL: from the builds_branch_time index), not against
     * the row below it, which may be another branch's. */
    char sql[1400];
    snprintf(sql, sizeof sql,
             "%s, b.main_region, b.main_used, b.main_length, pv.id, pv.main_region, pv.main_used%s"
             " LEFT JOIN builds pv ON pv.id = " FS_STORE_PREV_SQL
             " WHERE bo.name = ?1 AND (?2 IS NULL OR p.name = ?2)"
             " AND (?3 IS NULL OR b.branch = ?3) ORDER BY b.timestamp DESC, b.id DESC LIMIT ?4",
             build_cols, build_from);
    fs_db_stmt *st = store_prep(s, err, sql, "sssi", q->board, q->project, q->branch, (int64_t)limit);
    if (!st)
        return -1;
    fs_history_row *r = calloc(limit, sizeof *r);
    if (!r) {
        store_done(s, st);
        return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory", s->path);
    }
    size_t got = 0;
    int rc;
    while (got < limit && (rc = fs_db_step(st)) == FS_DB_ROW) {
        load_info(st, &r[got].build);
        r[got].region = dupcol(st, 9);
        r[got].used = (uint64_t)fs_db_col_int(st, 10);
        r[got].length = (uint64_t)fs_db_col_int(st, 11);
        const char *pregion = fs_db_col_text(st, 13);
        if (!fs_db_col_null(st, 12) && r[got].region && pregion &&
            strcmp(r[got].region, pregion) == 0) {
            r[got].has_prev = true;
            r[got].prev_id = fs_db_col_int(st, 12);
            r[got].delta = (int64_t)(r[got].used - (uint64_t)fs_db_col_int(st, 14));
        }
        got++;
    }
    if (got == limit)
        rc = FS_DB_DONE;
    store_done(s, st);
    if (rc != FS_DB_DONE) {
        fs_history_free(r, got);
        return store_fail(s, err, "reading the history");
    }
    *rows = r;
    *n = got;
    return 0;
}

void fs_history_free(fs_history_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        fs_build_info_free(&rows[i].build);
        free(rows[i].region);
    }
    free(rows);
}

int fs_store_build_ids(fs_store *s, int64_t **ids, size_t *n, fs_error *err)
{
    *ids = NULL;
    *n = 0;
    fs_db_stmt *st = store_stmt_get(s, "SELECT id FROM builds ORDER BY id");
    if (!st)
        return store_fail(s, err, "listing the builds");
    size_t cap = 0;
    int rc;
    while ((rc = fs_db_step(st)) == FS_DB_ROW) {
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            int64_t *v = realloc(*ids, nc * sizeof *v);
            if (!v) {
                store_done(s, st);
                free(*ids);
                *ids = NULL;
                *n = 0;
                return fs_fail_kind(err, FS_ERR_NOMEM, "%s: out of memory listing the builds", s->path);
            }
            *ids = v;
            cap = nc;
        }
        (*ids)[(*n)++] = fs_db_col_int(st, 0);
    }
    if (rc != FS_DB_DONE) {
        store_fail(s, err, "listing the builds");
        store_done(s, st);
        free(*ids);
        *ids = NULL;
        *n = 0;
        return -1;
    }
    store_done(s, st);
    return 0;
}

/* After rows were inserted into table with ids of their own (db copy):
 * PostgreSQL's identity sequence goes on after the largest id. */
static int store_sync_ids(fs_store *s, const char *table, fs_error *err)
{
    if (s->db->kind != FS_DB_PG)
        return 0; /* SQLite's rowid (and AUTOINCREMENT) already goes on after the largest id */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT max(id) FROM %s))", table,
             table);
    fs_db_stmt *st = store_stmt_get(s, sql);
    if (!st)
        return store_fail(s, err, "moving the id sequence on");
    int rc = fs_db_step(st);
    while (rc == FS_DB_ROW)
        rc = fs_db_step(st);
    if (rc != FS_DB_DONE)
        store_fail(s, err, "moving the id sequence on");
    store_done(s, st);
    return rc == FS_DB_DONE ? 0 : -1;
}

int fs_store_counts(fs_store *s, int64_t *builds, int64_t *symsets, int64_t *names, fs_error *err)
{
    if (store_run(s, store_prep(s, err, "SELECT count(*) FROM builds", NULL), builds, err, "counting") != 0 ||
        store_run(s, store_prep(s, err, "SELECT count(*) FROM symsets", NULL), symsets, err, "counting") != 0 ||
        store_run(s, store_prep(s, err, "SELECT count(*) FROM strings", NULL), names, err, "counting") != 0)
        return -1;
    return 0;
}

/* ---- for the other files of the store (store_db.h) ---------------------------- */

const char *fs_store_name(const fs_store *s)
{
    return s->path;
}

fs_db *fs_store_db(fs_store *s)
{
    return s->db;
}
