/*
 * respcache.c - history answers kept ready (docs/server.md, "History
 * answers"): shared bodies, their gzip form, the cache that keeps them, and
 * the two request headers that decide what is sent (Accept-Encoding,
 * If-None-Match).
 *
 * The dashboard asks for the same few histories again and again (every
 * open board page, every reload), and an answer of 1,000 builds is 350 KB
 * of JSON read from SQLite each time.  Here it is kept, with its gzip form,
 * and handed to libmicrohttpd by reference.
 *
 * Ideas:
 *   - An entry is keyed by the request's canonical values (api.c: project,
 *     board, branch, since, until, limit as parsed) and holds the store's
 *     generation it was read at (schema 4: one more after every write to
 *     builds, by any process).  The caller reads the generation for every
 *     request; an entry of another one is never used, so an answer is never
 *     older than the database, whoever wrote it.  What the database does not
 *     know - the budget file in the rules directory - is read again after
 *     the TTL (RSC_TTL_MS): by one request, while the others are still
 *     given the entry (a miss for every thread at once, each reading 1,000
 *     builds, held up a busy server: history p99 60-150 ms at 32
 *     connections, 6-8 ms without).
 *   - Bodies are immutable and reference-counted (C11 atomics): a hit takes
 *     a reference under the lock and hands the bytes to libmicrohttpd
 *     without copying; the reference is given back when the answer has
 *     been sent (server.c), so an entry evicted meanwhile stays readable.
 *   - gzip is made on the first request that accepts it and kept beside the
 *     plain body, so a cached answer is compressed once.
 *   - A fixed number of slots, least recently used replaced first, and a
 *     cap on the bytes kept; an entry of a newer generation drops the
 *     older ones (they can no longer be hit).
 *   - The clock is the caller's (milliseconds), so tests can move it.
 */
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- shared bodies -------------------------------------------------------------- */

srv_body *srv_body_adopt(char *data, size_t len)
{
    srv_body *b = malloc(sizeof *b);
    if (!b) {
        free(data);
        return NULL;
    }
    atomic_init(&b->refs, 1);
    b->len = len;
    b->data = data;
    return b;
}

srv_body *srv_body_ref(srv_body *b)
{
    if (b)
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void srv_body_unref(srv_body *b)
{
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        free(b->data);
        free(b);
    }
}

srv_body *srv_gzip(const char *data, size_t len)
{
    if (len > UINT32_MAX / 2)
        return NULL; /* zlib counts in uInt; answers are far smaller */
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: a gzip header and trailer around the deflate data */
    if (deflateInit2(&z, SRV_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&z, (uLong)len);
    char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    char *fit = realloc(out, n ? n : 1);
    return srv_body_adopt(fit ? fit : out, n);
}

/* ---- request headers ------------------------------------------------------------------ */

static bool rsc_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* RFC 9110 tchar */
static bool rsc_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* qvalue = "0" ["." 0*3DIGIT] / "1" ["." 0*3"0"], in thousandths; -1 if not one. */
static int rsc_qvalue(const char *p, size_t n)
{
    if (n == 0 || (p[0] != '0' && p[0] != '1'))
        return -1;
    int q = (p[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (p[1] != '.' || n > 5)
        return -1;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        q += (p[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

/* One element of Accept-Encoding, p[0..n): OWS coding [OWS ";" OWS "q=" qvalue] OWS.
 * The coding in *name, *nlen and its weight in *q; false when it does not parse. */
static bool rsc_coding(const char *p, size_t n, const char **name, size_t *nlen, int *q)
{
    size_t i = 0;
    while (i < n && rsc_ows(p[i]))
        i++;
    while (n > i && rsc_ows(p[n - 1]))
        n--;
    size_t start = i;
    while (i < n && rsc_tchar((unsigned char)p[i]))
        i++;
    if (i == start)
        return false;
    *name = p + start;
    *nlen = i - start;
    *q = 1000;
    while (i < n && rsc_ows(p[i]))
        i++;
    if (i == n)
        return true;
    if (p[i++] != ';')
        return false;
    while (i < n && rsc_ows(p[i]))
        i++;
    if (n - i < 2 || (p[i] != 'q' && p[i] != 'Q') || p[i + 1] != '=')
        return false;
    *q = rsc_qvalue(p + i + 2, n - i - 2);
    return *q >= 0;
}

static bool rsc_is(const char *name, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(name, word, n) == 0;
}

bool srv_accepts_gzip(const char *h)
{
    if (!h)
        return false;
    /* the first weight given to each (-1: not named) */
    int q_gzip = -1, q_any = -1, q_identity = -1;
    for (const char *p = h; *p;) {
        size_t n = strcspn(p, ",");
        const char *name;
        size_t nlen;
        int q;
        if (rsc_coding(p, n, &name, &nlen, &q)) {
            if ((rsc_is(name, nlen, "gzip") || rsc_is(name, nlen, "x-gzip")) && q_gzip < 0)
                q_gzip = q;
            else if (rsc_is(name, nlen, "*") && q_any < 0)
                q_any = q;
            else if (rsc_is(name, nlen, "identity") && q_identity < 0)
                q_identity = q;
        }
        p += n + (p[n] == ',');
    }
    int g = q_gzip >= 0 ? q_gzip : q_any >= 0 ? q_any : 0;
    return g > 0 && q_identity <= g;
}

bool srv_etag_match(const char *h, const char *etag)
{
    if (!h || !etag)
        return false;
    const char *p = h;
    while (rsc_ows(*p))
        p++;
    if (*p == '*') {
        for (p++; rsc_ows(*p); p++)
            ;
        return *p == '\0';
    }
    size_t elen = strlen(etag);
    for (;;) {
        while (rsc_ows(*p) || *p == ',')
            p++;
        if (!*p)
            return false;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p != '"')
            return false;
        const char *q = p + 1;
        /* etagc = %x21 / %x23-7E / obs-text */
        while (*q && *q != '"' && ((unsigned char)*q >= 0x21))
            q++;
        if (*q != '"')
            return false;
        size_t n = (size_t)(q - p) + 1;
        if (n == elen && memcmp(p, etag, n) == 0)
            return true;
        for (p = q + 1; rsc_ows(*p); p++)
            ;
        if (*p && *p != ',')
            return false;
    }
}

/* ---- ETags ------------------------------------------------------------------------- */

static uint32_t rsc_crc(const char *p, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt step = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, (const Bytef *)p, step);
        p += step;
        n -= step;
    }
    return (uint32_t)crc;
}

void rsc_etag(char out[RSC_ETAG_MAX], int64_t gen, const char *key, size_t klen, const char *body, size_t len)
{
    char g[24];
    if (gen < 0)
        snprintf(g, sizeof g, "n");
    else
        snprintf(g, sizeof g, "%lld", (long long)gen);
    snprintf(out, RSC_ETAG_MAX, "\"%s-%08x-%08x\"", g, (unsigned)rsc_crc(key, klen), (unsigned)rsc_crc(body, len));
}

void rsc_etag_gzip(char out[RSC_ETAG_MAX], const char *etag)
{
    size_t n = strlen(etag);
    if (n >= 2 && etag[n - 1] == '"')
        snprintf(out, RSC_ETAG_MAX, "%.*s-gz\"", (int)(n - 1), etag);
    else
        snprintf(out, RSC_ETAG_MAX, "%s", etag);
}

/* ---- the cache ------------------------------------------------------------------------ */

void rsc_init(rsc_cache *c, int64_t ttl_ms)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    c->ttl_ms = ttl_ms;
}

static size_t rsc_bytes(const rsc_entry *e)
{
    return (e->plain ? e->plain->len : 0) + (e->gz ? e->gz->len : 0);
}

static void rsc_clear(rsc_cache *c, rsc_entry *e)
{
    c->bytes -= rsc_bytes(e);
    free(e->key);
    srv_body_unref(e->plain);
    srv_body_unref(e->gz);
    memset(e, 0, sizeof *e);
}

void rsc_free(rsc_cache *c)
{
    for (size_t i = 0; i < RSC_SLOTS; i++)
        rsc_clear(c, &c->e[i]);
    pthread_mutex_destroy(&c->lock);
}

static rsc_entry *rsc_find(rsc_cache *c, const char *key, size_t klen, uint32_t khash)
{
    for (size_t i = 0; i < RSC_SLOTS; i++) {
        rsc_entry *e = &c->e[i];
        if (e->key && e->khash == khash && e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    }
    return NULL;
}

/* The least recently used entry other than keep (an empty slot first);
 * NULL when there is none. */
static rsc_entry *rsc_victim(rsc_cache *c, const rsc_entry *keep, bool empty_ok)
{
    rsc_entry *best = NULL;
    for (size_t i = 0; i < RSC_SLOTS; i++) {
        rsc_entry *e = &c->e[i];
        if (e == keep || (!e->key && !empty_ok))
            continue;
        if (!e->key)
            return e;
        if (!best || e->used < best->used)
            best = e;
    }
    return best;
}

/* Evict (least recently used first, never keep) until n more bytes fit. */
static bool rsc_room(rsc_cache *c, size_t n, const rsc_entry *keep)
{
    while (c->bytes + n > RSC_MAX_BYTES) {
        rsc_entry *v = rsc_victim(c, keep, false);
        if (!v)
            return false;
        rsc_clear(c, v);
    }
    return true;
}

bool rsc_get(rsc_cache *c, const char *key, size_t klen, int64_t gen, int64_t now_ms, rsc_hit *out)
{
    memset(out, 0, sizeof *out);
    uint32_t khash = rsc_crc(key, klen);
    bool hit = false;
    pthread_mutex_lock(&c->lock);
    rsc_entry *e = rsc_find(c, key, klen, khash);
    if (e && e->gen != gen) {
        rsc_clear(c, e); /* the database moved on */
        e = NULL;
    } else if (e && now_ms - e->born >= c->ttl_ms &&
               (!e->refreshing || now_ms - e->refreshing >= c->ttl_ms)) {
        /* Past the TTL (the rules files may have changed) with the same
         * generation: this caller reads it again (and rsc_put replaces
         * the entry); the others meanwhile get this answer, which the
         * database still agrees with, instead of all reading at once. */
        e->refreshing = now_ms ? now_ms : 1;
        e = NULL;
    }
    if (e) {
        e->used = ++c->tick;
        out->plain = srv_body_ref(e->plain);
        out->gz = srv_body_ref(e->gz);
        memcpy(out->etag, e->etag, sizeof out->etag);
        hit = true;
    }
    if (hit)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void rsc_put(rsc_cache *c, const char *key, size_t klen, int64_t gen, int64_t now_ms, srv_body *plain,
             const char *etag)
{
    if (!plain || plain->len > RSC_MAX_BYTES / 8)
        return;
    char *copy = malloc(klen ? klen : 1);
    if (!copy)
        return;
    memcpy(copy, key, klen);
    uint32_t khash = rsc_crc(key, klen);
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < RSC_SLOTS; i++)
        if (c->e[i].key && (c->e[i].gen != gen || (c->e[i].khash == khash && c->e[i].klen == klen &&
                                                   memcmp(c->e[i].key, key, klen) == 0)))
            rsc_clear(c, &c->e[i]); /* never to be hit again, or replaced now */
    rsc_entry *slot = NULL;
    if (rsc_room(c, plain->len, NULL))
        slot = rsc_victim(c, NULL, true);
    if (slot) {
        if (slot->key)
            rsc_clear(c, slot);
        slot->key = copy;
        slot->klen = klen;
        slot->khash = khash;
        slot->gen = gen;
        slot->born = now_ms;
        slot->refreshing = 0;
        slot->used = ++c->tick;
        slot->plain = srv_body_ref(plain);
        snprintf(slot->etag, sizeof slot->etag, "%s", etag);
        c->bytes += plain->len;
        copy = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    free(copy);
}

void rsc_put_gzip(rsc_cache *c, const char *key, size_t klen, const srv_body *plain, srv_body *gz)
{
    if (!gz)
        return;
    uint32_t khash = rsc_crc(key, klen);
    pthread_mutex_lock(&c->lock);
    rsc_entry *e = rsc_find(c, key, klen, khash);
    if (e && e->plain == plain && !e->gz && rsc_room(c, gz->len, e)) {
        e->gz = srv_body_ref(gz);
        c->bytes += gz->len;
    }
    pthread_mutex_unlock(&c->lock);
}

void rsc_hit_release(rsc_hit *h)
{
    srv_body_unref(h->plain);
    srv_body_unref(h->gz);
    h->plain = h->gz = NULL;
}
