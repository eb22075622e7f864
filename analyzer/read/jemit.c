/*
 * jemit.c - JSON events (jemit.h): the text rule for strings, unsigned
 * values, and the sink that builds a jansson tree.
 */
#include "jemit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *fs_json_text(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    /* not UTF-8 (names from a hostile ELF or map may be anything) */
    size_t n = strlen(s);
    char *buf = malloc(n * 4 + 1);
    if (!buf)
        return NULL;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80)
            buf[o++] = (char)*p;
        else
            o += (size_t)snprintf(buf + o, 5, "\\x%02x", *p);
    }
    buf[o] = '\0';
    j = json_string(buf);
    free(buf);
    return j;
}

void fs_jemit_u64(fs_jemit *e, uint64_t v)
{
    if (v <= INT64_MAX) {
        e->ops->integer(e, (int64_t)v);
        return;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
    e->ops->text(e, buf);
}

/* ---- the tree sink ---------------------------------------------------------- */

/* Put v (taken) where the events say: the root, the pending key of the
 * open object, or the end of the open array. */
static void tree_put(fs_jemit_tree *t, json_t *v)
{
    if (t->base.failed || !v) {
        t->base.failed = true;
        json_decref(v);
        return;
    }
    if (t->depth == 0) {
        if (t->root) { /* a second top-level value */
            t->base.failed = true;
            json_decref(v);
            return;
        }
        t->root = v;
        return;
    }
    json_t *top = t->stack[t->depth - 1];
    int rc;
    if (json_is_object(top)) {
        rc = t->key ? json_object_set_new(top, t->key, v) : (json_decref(v), -1);
        t->key = NULL;
    } else {
        rc = json_array_append_new(top, v);
    }
    if (rc < 0)
        t->base.failed = true;
}

static void tree_open(fs_jemit *e, bool array)
{
    fs_jemit_tree *t = (fs_jemit_tree *)e;
    json_t *c = array ? json_array() : json_object();
    tree_put(t, c);
    if (t->base.failed)
        return;
    if (t->depth == FS_JEMIT_MAX_DEPTH) {
        t->base.failed = true;
        return;
    }
    t->stack[t->depth++] = c;
}

static void tree_close(fs_jemit *e)
{
    fs_jemit_tree *t = (fs_jemit_tree *)e;
    if (t->depth == 0)
        t->base.failed = true;
    else
        t->depth--;
}

static void tree_key(fs_jemit *e, const char *key)
{
    fs_jemit_tree *t = (fs_jemit_tree *)e;
    t->key = key;
}

static void tree_text(fs_jemit *e, const char *s)
{
    tree_put((fs_jemit_tree *)e, fs_json_text(s));
}

static void tree_integer(fs_jemit *e, int64_t v)
{
    tree_put((fs_jemit_tree *)e, json_integer((json_int_t)v));
}

static void tree_value(fs_jemit *e, json_t *v)
{
    tree_put((fs_jemit_tree *)e, v);
}

static const fs_jemit_ops tree_ops = {tree_open, tree_close, tree_key, tree_text, tree_integer, tree_value};

void fs_jemit_tree_init(fs_jemit_tree *t)
{
    memset(t, 0, sizeof *t);
    t->base.ops = &tree_ops;
}

json_t *fs_jemit_tree_finish(fs_jemit_tree *t)
{
    json_t *v = t->root;
    t->root = NULL;
    if (t->base.failed || t->depth != 0) {
        json_decref(v);
        return NULL;
    }
    return v;
}
