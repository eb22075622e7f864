/*
 * jsonw.h - a buffered JSON writer for the reports.
 *
 * It writes jansson values in exactly the layout of jansson's
 * json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
 * JSON_REAL_PRECISION(p)), the layout every JSON report of flashsize has
 * always had, at about a fifth of json_dumps's cost (json_dumps spends
 * ~70 instructions per byte on a map report); and it lets a formatter write
 * the largest parts of a document straight from the model without making
 * jansson values first: the symbols by hand (out_json.c), the map, frozen
 * modules and ROM use through JSON events (jemit.h, fs_jsonw_emitter).
 * tests/unit/test_jsonw.c compares both with json_dumps.
 *
 * Failures are sticky: a write error or an out-of-memory (a NULL value)
 * marks the writer failed, and fs_jsonw_finish reports it once.
 */
#ifndef FS_JSONW_H
#define FS_JSONW_H

#include "jemit.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct fs_jsonw {
    FILE *out;        /* borrowed */
    int precision;    /* significant digits of reals; 0: jansson's default (17) */
    bool failed;
    size_t len;       /* bytes waiting in buf */
    char buf[1 << 16];
} fs_jsonw;

void fs_jsonw_init(fs_jsonw *w, FILE *out, int precision);
/* Flush; 0, or -1 if anything failed since fs_jsonw_init. */
int fs_jsonw_finish(fs_jsonw *w);

/* Append n bytes: the common case inline, the rest in fs_jsonw_put_slow. */
void fs_jsonw_put_slow(fs_jsonw *w, const char *s, size_t n);
static inline void fs_jsonw_put(fs_jsonw *w, const char *s, size_t n)
{
    if (n <= sizeof w->buf - w->len) {
        memcpy(w->buf + w->len, s, n);
        w->len += n;
    } else {
        fs_jsonw_put_slow(w, s, n);
    }
}
/* A string literal, its length known at compile time. */
#define fs_jsonw_lit(w, lit) fs_jsonw_put((w), (lit), sizeof(lit) - 1)

/* value as json_dumps writes it, its lines indented for nesting depth
 * depth (0 for a whole document).  A NULL value marks the writer failed. */
void fs_jsonw_value(fs_jsonw *w, const json_t *value, unsigned depth);
/* A JSON string of the n bytes at s (valid UTF-8), escaped as jansson does. */
void fs_jsonw_string(fs_jsonw *w, const char *s, size_t n);
/* The NUL-terminated s as a JSON string, when it is all ASCII (true);
 * false, with nothing written, when it is not (the caller checks its UTF-8). */
bool fs_jsonw_ascii(fs_jsonw *w, const char *s);
/* An integer, as jansson writes a json_integer. */
void fs_jsonw_int(fs_jsonw *w, int64_t v);
/* The same at o (room for 20 bytes); the end of what was written. */
char *fs_jsonw_fmt_int(char *o, int64_t v);
/* How many bytes at the start of s[0..n) a JSON string takes as they are
 * (no escape, all ASCII). */
size_t fs_jsonw_plain(const char *s, size_t n);
/* Room for n bytes written in place (a record made by hand): a pointer to
 * it, NULL when n is larger than the buffer; fs_jsonw_commit(w, end) then
 * keeps what was written up to end. */
char *fs_jsonw_reserve(fs_jsonw *w, size_t n);
void fs_jsonw_commit(fs_jsonw *w, const char *end);
/* A line break and the indentation of nesting depth depth. */
void fs_jsonw_newline(fs_jsonw *w, unsigned depth);

/* The streaming sink of JSON events (jemit.h): the value they tell is
 * written to w as fs_jsonw_value would write its tree at nesting depth
 * depth. */
typedef struct fs_jsonw_emitter {
    fs_jemit e;
    fs_jsonw *w;
    unsigned base, depth;                 /* the first value's nesting depth; containers open */
    bool array[FS_JEMIT_MAX_DEPTH];       /* the open containers: arrays or objects */
    bool first[FS_JEMIT_MAX_DEPTH];       /* nothing written in it yet */
} fs_jsonw_emitter;
void fs_jsonw_emitter_init(fs_jsonw_emitter *s, fs_jsonw *w, unsigned depth);

#endif
