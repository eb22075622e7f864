/*
 * symset.c - snapshot and delta encodings of symbol tables (see symset.h).
 *
 * The delta encoder pairs base and new records greedily, front to back,
 * both sorted by address: records with the same identity (name, size,
 * type, bind, section) are copied, and the address difference between the
 * pair becomes the shift.  A base record whose identity no longer occurs in
 * the new table is skipped; a new record whose identity does not occur in
 * what is left of the base is inserted.  When both occur elsewhere (a
 * symbol that moved), the base record is skipped and the new one later
 * inserted: never wrong, only a little larger.  Counting identities takes
 * one hash table of both tables; the walk is linear.
 */
#include "symset.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { OP_COPY = 0, OP_SKIP = 1, OP_INSERT = 2, OP_SHIFT = 3 };

/* ---- records ---------------------------------------------------------------- */

int fs_symrec_cmp(const void *a, const void *b)
{
    const fs_symrec *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->name != y->name)
        return x->name < y->name ? -1 : 1;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    if (x->bind != y->bind)
        return x->bind < y->bind ? -1 : 1;
    return x->section < y->section ? -1 : x->section > y->section;
}

void fs_symrec_sort(fs_symrec *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, fs_symrec_cmp);
}

int fs_symrec_equal(const fs_symrec *a, size_t na, const fs_symrec *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (fs_symrec_cmp(&a[i], &b[i]) != 0)
            return 0;
    return 1;
}

static bool symrec_same_id(const fs_symrec *x, const fs_symrec *y)
{
    return x->name == y->name && x->size == y->size && x->type == y->type && x->bind == y->bind &&
           x->section == y->section;
}

/* ---- varints ---------------------------------------------------------------- */

static int buf_grow(fs_symbuf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more)
        cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int put_varint(fs_symbuf *b, uint64_t v)
{
    if (buf_grow(b, 10) < 0)
        return -1;
    do {
        unsigned char byte = v & 0x7f;
        v >>= 7;
        b->p[b->len++] = byte | (v ? 0x80 : 0);
    } while (v);
    return 0;
}

static uint64_t zigzag(uint64_t delta)
{
    int64_t d = (int64_t)delta;
    return ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
}

static uint64_t unzigzag(uint64_t zz)
{
    return (zz >> 1) ^ (uint64_t)-(int64_t)(zz & 1);
}

typedef struct reader {
    const unsigned char *p;
    size_t len, pos;
} reader;

static bool get_varint(reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && r->pos < r->len; shift += 7) {
        unsigned char byte = r->p[r->pos++];
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* ---- kinds: distinct (type, bind, section) --------------------------------- */

typedef struct kinds {
    int64_t *v;      /* 3 per kind */
    size_t n, cap;
} kinds;

/* Index of the kind of r, added if new (linear: a table has a few dozen). */
static int kinds_index(kinds *k, const fs_symrec *r, uint64_t *idx)
{
    for (size_t i = 0; i < k->n; i++)
        if (k->v[3 * i] == r->type && k->v[3 * i + 1] == r->bind && k->v[3 * i + 2] == r->section) {
            *idx = i;
            return 0;
        }
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 16;
        int64_t *v = realloc(k->v, cap * 3 * sizeof *v);
        if (!v)
            return -1;
        k->v = v;
        k->cap = cap;
    }
    k->v[3 * k->n] = r->type;
    k->v[3 * k->n + 1] = r->bind;
    k->v[3 * k->n + 2] = r->section;
    *idx = k->n++;
    return 0;
}

static int kinds_write(const kinds *k, fs_symbuf *out)
{
    int bad = put_varint(out, k->n);
    for (size_t i = 0; i < 3 * k->n && !bad; i++)
        bad = put_varint(out, (uint64_t)k->v[i]);
    return bad ? -1 : 0;
}

static int kinds_read(reader *r, kinds *k)
{
    uint64_t n;
    if (!get_varint(r, &n) || n > r->len / 3 + 1)
        return FS_SYMSET_CORRUPT;
    k->v = malloc((3 * n + 1) * sizeof *k->v);
    if (!k->v)
        return FS_SYMSET_NOMEM;
    k->n = k->cap = n;
    for (size_t i = 0; i < 3 * n; i++) {
        uint64_t x;
        if (!get_varint(r, &x) || x > INT64_MAX)
            return FS_SYMSET_CORRUPT;
        k->v[i] = (int64_t)x;
    }
    return FS_SYMSET_OK;
}

/* One record: name, zigzag(address - prev), size, kind index. */
static int put_record(fs_symbuf *out, kinds *k, const fs_symrec *r, uint64_t prev)
{
    uint64_t idx;
    if (kinds_index(k, r, &idx) < 0)
        return -1;
    return put_varint(out, (uint64_t)r->name) | put_varint(out, zigzag(r->addr - prev)) | put_varint(out, r->size) |
           put_varint(out, idx);
}

static int get_record(reader *rd, const kinds *k, uint64_t prev, fs_symrec *r)
{
    uint64_t name, zz, size, idx;
    if (!get_varint(rd, &name) || !get_varint(rd, &zz) || !get_varint(rd, &size) || !get_varint(rd, &idx) ||
        idx >= k->n || name == 0 || name > INT64_MAX)
        return FS_SYMSET_CORRUPT;
    *r = (fs_symrec){(int64_t)name, prev + unzigzag(zz), size, k->v[3 * idx], k->v[3 * idx + 1], k->v[3 * idx + 2]};
    return FS_SYMSET_OK;
}

/* ---- snapshots ---------------------------------------------------------------- */

int fs_symset_pack_full(const fs_symrec *v, size_t n, fs_symbuf *out)
{
    kinds k = {0};
    uint64_t idx;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) /* kinds by first appearance */
        rc = kinds_index(&k, &v[i], &idx);
    if (rc == 0)
        rc = kinds_write(&k, out) | put_varint(out, n);
    uint64_t prev = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = put_record(out, &k, &v[i], prev);
        prev = v[i].addr;
    }
    free(k.v);
    return rc ? -1 : 0;
}

/* A decoded table must be in fs_symrec_cmp order; schema v1 broke ties of
 * equal address, name and size by kind number, so sort when it is not. */
static void sort_if_needed(fs_symrec *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (fs_symrec_cmp(&v[i - 1], &v[i]) > 0) {
            fs_symrec_sort(v, n);
            return;
        }
}

int fs_symset_unpack_full(const unsigned char *p, size_t len, fs_symrec **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    reader rd = {p, len, 0};
    kinds k = {0};
    uint64_t count;
    fs_symrec *v = NULL;
    int rc = kinds_read(&rd, &k);
    if (rc == FS_SYMSET_OK && (!get_varint(&rd, &count) || count > len / 4))
        rc = FS_SYMSET_CORRUPT;
    if (rc == FS_SYMSET_OK && !(v = malloc((count + 1) * sizeof *v)))
        rc = FS_SYMSET_NOMEM;
    uint64_t prev = 0;
    for (size_t i = 0; rc == FS_SYMSET_OK && i < count; i++) {
        rc = get_record(&rd, &k, prev, &v[i]);
        prev = v[i].addr;
    }
    if (rc == FS_SYMSET_OK && rd.pos != len)
        rc = FS_SYMSET_CORRUPT;
    free(k.v);
    if (rc != FS_SYMSET_OK) {
        free(v);
        return rc;
    }
    sort_if_needed(v, count);
    *out = v;
    *n = count;
    return FS_SYMSET_OK;
}

/* ---- deltas: encoding ---------------------------------------------------------- */

/* Identity counts of both tables: open addressing on (name, size, kind). */
typedef struct idtab {
    const fs_symrec **key;
    size_t *in_base, *in_new; /* records not yet consumed */
    size_t mask;
} idtab;

static uint64_t id_hash(const fs_symrec *r)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    uint64_t parts[5] = {(uint64_t)r->name, r->size, (uint64_t)r->type, (uint64_t)r->bind, (uint64_t)r->section};
    for (int i = 0; i < 5; i++) {
        h ^= parts[i] + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
        h *= 0xff51afd7ed558ccdull;
    }
    return h ^ (h >> 33);
}

static size_t idtab_slot(idtab *t, const fs_symrec *r)
{
    size_t i = (size_t)id_hash(r) & t->mask;
    while (t->key[i] && !symrec_same_id(t->key[i], r))
        i = (i + 1) & t->mask;
    t->key[i] = r;
    return i;
}

static int idtab_init(idtab *t, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 2)
        cap *= 2;
    t->mask = cap - 1;
    t->key = calloc(cap, sizeof *t->key);
    t->in_base = calloc(cap, sizeof *t->in_base);
    t->in_new = calloc(cap, sizeof *t->in_new);
    return t->key && t->in_base && t->in_new ? 0 : -1;
}

static void idtab_free(idtab *t)
{
    free(t->key);
    free(t->in_base);
    free(t->in_new);
}

/* The operations being written: a pending COPY or SKIP run, or a run of
 * inserted records (indexes into the new table). */
typedef struct delta_enc {
    fs_symbuf body;
    kinds k;
    int op;                 /* pending op, -1 for none */
    size_t count, first;    /* its length; INSERT: first new index */
    uint64_t prev;          /* address of the last output record */
    const fs_symrec *v;
    int bad;
} delta_enc;

static void enc_flush(delta_enc *e)
{
    if (e->op < 0 || e->bad)
        return;
    e->bad |= put_varint(&e->body, (uint64_t)e->count << 2 | (uint64_t)e->op);
    for (size_t i = 0; e->op == OP_INSERT && i < e->count && !e->bad; i++) {
        const fs_symrec *r = &e->v[e->first + i];
        e->bad |= put_record(&e->body, &e->k, r, e->prev);
        e->prev = r->addr;
    }
    e->op = -1;
}

/* Add one record (new index j for INSERT) to the pending op. */
static void enc_op(delta_enc *e, int op, size_t j)
{
    if (e->op != op) {
        enc_flush(e);
        e->op = op;
        e->count = 0;
        e->first = j;
    }
    e->count++;
}

static void enc_shift(delta_enc *e, uint64_t d)
{
    enc_flush(e);
    e->bad |= put_varint(&e->body, OP_SHIFT) | put_varint(&e->body, zigzag(d));
}

int fs_symset_pack_delta(const fs_symrec *base, size_t nb, const fs_symrec *v, size_t n, fs_symbuf *out)
{
    idtab t = {0};
    size_t *bs = malloc((nb + 1) * sizeof *bs), *ns = malloc((n + 1) * sizeof *ns);
    delta_enc e = {.op = -1, .v = v};
    int rc = -1;
    if (!bs || !ns || idtab_init(&t, nb + n) < 0)
        goto done;
    for (size_t i = 0; i < nb; i++)
        t.in_base[bs[i] = idtab_slot(&t, &base[i])]++;
    for (size_t j = 0; j < n; j++)
        t.in_new[ns[j] = idtab_slot(&t, &v[j])]++;
    uint64_t shift = 0;
    size_t i = 0, j = 0;
    while (i < nb || j < n) {
        if (i < nb && j < n && bs[i] == ns[j]) {
            if (v[j].addr != base[i].addr + shift) {
                enc_shift(&e, v[j].addr - base[i].addr - shift);
                shift = v[j].addr - base[i].addr;
            }
            enc_op(&e, OP_COPY, j);
            e.prev = v[j].addr;
            t.in_base[bs[i++]]--;
            t.in_new[ns[j++]]--;
        } else if (i < nb && (j == n || t.in_new[bs[i]] == 0 || t.in_base[ns[j]] > 0)) {
            enc_op(&e, OP_SKIP, j); /* gone, changed, or moved elsewhere */
            t.in_base[bs[i++]]--;
        } else {
            enc_op(&e, OP_INSERT, j);
            t.in_new[ns[j++]]--;
        }
    }
    enc_flush(&e);
    if (!e.bad && kinds_write(&e.k, out) == 0 && buf_grow(out, e.body.len) == 0) {
        if (e.body.len)
            memcpy(out->p + out->len, e.body.p, e.body.len);
        out->len += e.body.len;
        rc = 0;
    }
done:
    free(bs);
    free(ns);
    idtab_free(&t);
    free(e.body.p);
    free(e.k.v);
    return rc;
}

/* ---- deltas: decoding ---------------------------------------------------------- */

static int apply_ops(reader *rd, const kinds *k, const fs_symrec *base, size_t nb, fs_symrec *o, size_t cap,
                     size_t *n)
{
    size_t i = 0, m = 0;
    uint64_t shift = 0, prev = 0;
    while (rd->pos < rd->len) {
        uint64_t opv, x;
        if (!get_varint(rd, &opv))
            return FS_SYMSET_CORRUPT;
        uint64_t count = opv >> 2;
        if (count == 0 && (opv & 3) != OP_SHIFT)
            return FS_SYMSET_CORRUPT; /* never written: an empty operation */
        switch ((int)(opv & 3)) {
        case OP_COPY:
            if (count > nb - i || count > cap - m)
                return FS_SYMSET_CORRUPT;
            for (uint64_t c = 0; c < count; c++) {
                o[m] = base[i++];
                o[m].addr += shift;
                prev = o[m++].addr;
            }
            break;
        case OP_SKIP:
            if (count > nb - i)
                return FS_SYMSET_CORRUPT;
            i += count;
            break;
        case OP_INSERT:
            if (count > cap - m)
                return FS_SYMSET_CORRUPT;
            for (uint64_t c = 0; c < count; c++) {
                if (get_record(rd, k, prev, &o[m]) != FS_SYMSET_OK)
                    return FS_SYMSET_CORRUPT;
                prev = o[m++].addr;
            }
            break;
        default:
            if (count != 0 || !get_varint(rd, &x))
                return FS_SYMSET_CORRUPT;
            shift += unzigzag(x);
            break;
        }
    }
    if (i != nb)
        return FS_SYMSET_CORRUPT;
    for (size_t c = 1; c < m; c++)
        if (fs_symrec_cmp(&o[c - 1], &o[c]) > 0)
            return FS_SYMSET_CORRUPT;
    *n = m;
    return FS_SYMSET_OK;
}

int fs_symset_apply_delta(const fs_symrec *base, size_t nb, const unsigned char *p, size_t len, fs_symrec **out,
                          size_t *n)
{
    *out = NULL;
    *n = 0;
    reader rd = {p, len, 0};
    kinds k = {0};
    int rc = kinds_read(&rd, &k);
    /* an inserted record takes at least 4 bytes */
    size_t cap = nb + len / 4 + 1;
    fs_symrec *o = rc == FS_SYMSET_OK ? malloc(cap * sizeof *o) : NULL;
    if (rc == FS_SYMSET_OK && !o)
        rc = FS_SYMSET_NOMEM;
    if (rc == FS_SYMSET_OK)
        rc = apply_ops(&rd, &k, base, nb, o, cap, n);
    free(k.v);
    if (rc != FS_SYMSET_OK) {
        free(o);
        *n = 0;
        return rc;
    }
    *out = o;
    return FS_SYMSET_OK;
}

int64_t fs_symset_hash(const unsigned char *p, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return (int64_t)(h >> 1);
}
