/*
 * basecache.c - the server's memory of the base builds it diffed uploads
 * against (docs/server.md, "Performance").
 *
 * Every upload of a pull request is diffed against the newest build of the
 * base branch of its board: the same few builds, loaded again and again.
 * Loading one decodes its symbol set and builds 10k JSON objects, the
 * largest cost of an upload; here the decoded document is kept instead.
 *
 * Ideas:
 *   - An entry is keyed by build id and checked against what the database
 *     says now: the build's symbol set and a hash of its stored document
 *     (read by the base query anyway).  A build recorded again in place -
 *     by this server or another process - no longer matches and is loaded
 *     afresh, so the cache is never stale, only missed.
 *   - A kept base is the document, its symbol table (symtab.h, indexed
 *     once, so an upload's diff and budget never walk the base's JSON
 *     symbols) and the build's identity, immutable once made and shared
 *     between threads by a reference count taken under the cache's lock.
 *   - A few slots, replaced round-robin: there are few base branches.
 */
#include "http.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

void sbc_init(sbc_cache *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
}

static void sbc_base_free(sbc_base *b)
{
    json_decref(b->doc);
    fs_symtab_free(&b->syms);
    fs_build_info_free(&b->info);
    free(b);
}

/* Drop one reference; the caller holds c->lock. */
static void sbc_unref_locked(sbc_base *b)
{
    if (b && --b->refs == 0)
        sbc_base_free(b);
}

static void sbc_clear(sbc_entry *e)
{
    sbc_unref_locked(e->base);
    memset(e, 0, sizeof *e);
}

void sbc_free(sbc_cache *c)
{
    for (size_t i = 0; i < SBC_SLOTS; i++)
        sbc_clear(&c->e[i]);
    pthread_mutex_destroy(&c->lock);
}

sbc_base *sbc_base_new(json_t *doc, fs_build_info *info)
{
    sbc_base *b = calloc(1, sizeof *b);
    if (!b || fs_symtab_from_json(&b->syms, json_object_get(doc, "symbols")) < 0) {
        free(b);
        json_decref(doc);
        fs_build_info_free(info);
        return NULL;
    }
    b->doc = doc;
    b->info = *info;
    memset(info, 0, sizeof *info);
    b->refs = 1;
    return b;
}

void sbc_release(sbc_cache *c, sbc_base *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&c->lock);
    sbc_unref_locked(b);
    pthread_mutex_unlock(&c->lock);
}

uint64_t sbc_hash(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

sbc_base *sbc_get(sbc_cache *c, int64_t id, int64_t symset, uint64_t hash)
{
    sbc_base *b = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < SBC_SLOTS; i++) {
        sbc_entry *e = &c->e[i];
        if (e->base && e->id == id) {
            if (e->symset == symset && e->hash == hash) {
                b = e->base;
                b->refs++;
            } else
                sbc_clear(e); /* recorded again since */
            break;
        }
    }
    if (b)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->lock);
    return b;
}

void sbc_put(sbc_cache *c, int64_t id, int64_t symset, uint64_t hash, sbc_base *b)
{
    pthread_mutex_lock(&c->lock);
    sbc_entry *slot = NULL;
    for (size_t i = 0; i < SBC_SLOTS && !slot; i++)
        if (c->e[i].base && c->e[i].id == id)
            slot = &c->e[i];
    if (!slot) {
        slot = &c->e[c->next];
        c->next = (c->next + 1) % SBC_SLOTS;
    }
    sbc_clear(slot);
    slot->id = id;
    slot->symset = symset;
    slot->hash = hash;
    slot->base = b;
    b->refs++;
    pthread_mutex_unlock(&c->lock);
}

void sbc_forget(sbc_cache *c, int64_t id)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < SBC_SLOTS; i++)
        if (c->e[i].base && c->e[i].id == id)
            sbc_clear(&c->e[i]);
    pthread_mutex_unlock(&c->lock);
}
