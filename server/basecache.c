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
 *   - Documents are immutable once cached and shared between threads by
 *     reference (jansson's reference counts are atomic); the build's
 *     identity is copied out, never shared.
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

static void sbc_clear(sbc_entry *e)
{
    json_decref(e->doc);
    fs_build_info_free(&e->info);
    memset(e, 0, sizeof *e);
}

void sbc_free(sbc_cache *c)
{
    for (size_t i = 0; i < SBC_SLOTS; i++)
        sbc_clear(&c->e[i]);
    pthread_mutex_destroy(&c->lock);
}

static char *sbc_dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* A deep copy of b; false when out of memory (*out then freed). */
static bool sbc_info_copy(const fs_build_info *b, fs_build_info *out)
{
    *out = *b;
    out->project = sbc_dup(b->project);
    out->board = sbc_dup(b->board);
    out->commit = sbc_dup(b->commit);
    out->branch = sbc_dup(b->branch);
    out->parent = sbc_dup(b->parent);
    out->tool_version = sbc_dup(b->tool_version);
    if ((b->project && !out->project) || (b->board && !out->board) || (b->commit && !out->commit) ||
        (b->branch && !out->branch) || (b->parent && !out->parent) || (b->tool_version && !out->tool_version)) {
        fs_build_info_free(out);
        return false;
    }
    return true;
}

uint64_t sbc_hash(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

json_t *sbc_get(sbc_cache *c, int64_t id, int64_t symset, uint64_t hash, fs_build_info *info)
{
    json_t *doc = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < SBC_SLOTS; i++) {
        sbc_entry *e = &c->e[i];
        if (e->doc && e->id == id) {
            if (e->symset == symset && e->hash == hash && sbc_info_copy(&e->info, info))
                doc = json_incref(e->doc);
            else if (e->symset != symset || e->hash != hash)
                sbc_clear(e); /* recorded again since */
            break;
        }
    }
    if (doc)
        c->hits++;
    else
        c->misses++;
    pthread_mutex_unlock(&c->lock);
    return doc;
}

void sbc_put(sbc_cache *c, int64_t id, int64_t symset, uint64_t hash, json_t *doc, const fs_build_info *info)
{
    fs_build_info copy;
    if (!sbc_info_copy(info, &copy))
        return;
    pthread_mutex_lock(&c->lock);
    sbc_entry *slot = NULL;
    for (size_t i = 0; i < SBC_SLOTS && !slot; i++)
        if (c->e[i].doc && c->e[i].id == id)
            slot = &c->e[i];
    if (!slot) {
        slot = &c->e[c->next];
        c->next = (c->next + 1) % SBC_SLOTS;
    }
    sbc_clear(slot);
    slot->id = id;
    slot->symset = symset;
    slot->hash = hash;
    slot->doc = json_incref(doc);
    slot->info = copy;
    pthread_mutex_unlock(&c->lock);
}

void sbc_forget(sbc_cache *c, int64_t id)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < SBC_SLOTS; i++)
        if (c->e[i].doc && c->e[i].id == id)
            sbc_clear(&c->e[i]);
    pthread_mutex_unlock(&c->lock);
}
