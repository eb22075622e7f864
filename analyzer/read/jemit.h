/*
 * jemit.h - a JSON value told as a sequence of events (open, key, value,
 * close), so that one description of a part of a document serves two
 * sinks: a jansson tree (fs_jemit_tree, here) for the code that keeps or
 * compares documents, and a writer that streams the text straight out
 * (fs_jsonw_emitter, report/jsonw.h) for `analyze --format json`, which
 * would otherwise build, walk and free a tree of tens of thousands of
 * values (a map's sections and their objects) for one write.
 *
 * Both sinks give the same document: the tree is what json_dumps writes,
 * the stream writes it in json_dumps's layout (tests/unit/test_jsonw.c).
 * Strings follow fs_json_text: valid UTF-8 as it is, otherwise each byte
 * above 0x7f written as the four characters \xNN.  A key is given once per
 * object (a tree would replace a repeated one in place, the stream would
 * write it twice).  Out of memory marks the emitter failed; the events
 * after it are ignored by the tree and written as far as possible by the
 * stream, whose writer reports the failure.
 */
#ifndef FS_JEMIT_H
#define FS_JEMIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define FS_JEMIT_MAX_DEPTH 32

typedef struct fs_jemit fs_jemit;

typedef struct fs_jemit_ops {
    void (*open)(fs_jemit *e, bool array); /* a value: { or [ */
    void (*close)(fs_jemit *e);            /* } or ] of the innermost open one */
    void (*key)(fs_jemit *e, const char *key); /* inside an object: the next value's key */
    void (*text)(fs_jemit *e, const char *s);  /* a string value (NULL: null) */
    void (*integer)(fs_jemit *e, int64_t v);
    void (*value)(fs_jemit *e, json_t *v); /* any other value (a new reference, taken; NULL: failed) */
} fs_jemit_ops;

struct fs_jemit {
    const fs_jemit_ops *ops;
    bool failed;
};

/* The string s as the documents write it: NULL -> null, valid UTF-8 as it
 * is, anything else with each byte above 0x7f as \xNN (a new reference;
 * NULL when out of memory). */
json_t *fs_json_text(const char *s);

/* The events, and a key with its value in one call. */
static inline void fs_jemit_open(fs_jemit *e, bool array) { e->ops->open(e, array); }
static inline void fs_jemit_close(fs_jemit *e) { e->ops->close(e); }
static inline void fs_jemit_key(fs_jemit *e, const char *k) { e->ops->key(e, k); }
static inline void fs_jemit_text(fs_jemit *e, const char *s) { e->ops->text(e, s); }
static inline void fs_jemit_int(fs_jemit *e, int64_t v) { e->ops->integer(e, v); }
/* An unsigned value as fs_json_from_u64 writes it (document.h). */
void fs_jemit_u64(fs_jemit *e, uint64_t v);
static inline void fs_jemit_bool(fs_jemit *e, bool b) { e->ops->value(e, json_boolean(b)); }
static inline void fs_jemit_null(fs_jemit *e) { e->ops->value(e, json_null()); }
static inline void fs_jemit_real(fs_jemit *e, double v) { e->ops->value(e, json_real(v)); }

static inline void fs_jemit_ktext(fs_jemit *e, const char *k, const char *s) { fs_jemit_key(e, k); fs_jemit_text(e, s); }
static inline void fs_jemit_kint(fs_jemit *e, const char *k, int64_t v) { fs_jemit_key(e, k); fs_jemit_int(e, v); }
static inline void fs_jemit_ku64(fs_jemit *e, const char *k, uint64_t v) { fs_jemit_key(e, k); fs_jemit_u64(e, v); }
static inline void fs_jemit_kbool(fs_jemit *e, const char *k, bool b) { fs_jemit_key(e, k); fs_jemit_bool(e, b); }
static inline void fs_jemit_knull(fs_jemit *e, const char *k) { fs_jemit_key(e, k); fs_jemit_null(e); }
static inline void fs_jemit_kreal(fs_jemit *e, const char *k, double v) { fs_jemit_key(e, k); fs_jemit_real(e, v); }
static inline void fs_jemit_kopen(fs_jemit *e, const char *k, bool array) { fs_jemit_key(e, k); fs_jemit_open(e, array); }

/* The tree sink: the events build one jansson value. */
typedef struct fs_jemit_tree {
    fs_jemit base;
    json_t *root;                        /* the value, once opened or given */
    json_t *stack[FS_JEMIT_MAX_DEPTH];   /* the open containers (borrowed from root) */
    unsigned depth;
    const char *key;                     /* the pending key, borrowed until its value */
} fs_jemit_tree;

void fs_jemit_tree_init(fs_jemit_tree *t);
/* The value built (a new reference), or NULL when anything failed or the
 * events were not balanced; what was built is freed then. */
json_t *fs_jemit_tree_finish(fs_jemit_tree *t);

#endif
