/*
 * docparse.c - analysis documents read in one streaming pass (docparse.h).
 *
 * yajl reports events (start of an object, a key, a string, ...); this file
 * keeps a stack of the jansson containers being filled and adds each value
 * to the innermost one, so the JSON comes out as jansson's own reader would
 * build it.  When the "symbols" array of the right object starts, events
 * go to a second, flat state machine instead: one fs_sym per element, its
 * keys matched against the six the validator checks (store.c, v_each with
 * "s:name u:address u:size s:type s:bind S:section"), anything else
 * skipped, however deeply nested.
 */
#include "docparse.h"

#include "document.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

enum { F_NAME, F_ADDRESS, F_SIZE, F_TYPE, F_BIND, F_SECTION, F_COUNT, F_OTHER = F_COUNT };
static const char *const dp_fields[F_COUNT] = {"name", "address", "size", "type", "bind", "section"};

#define DP_KINDS 64

typedef struct dp_frame {
    json_t *v;            /* the container (a borrowed reference: its parent holds it) */
    char *key;            /* pending key of an object, owned */
    size_t keylen;
    bool symbols_parent;  /* this object's "symbols" is the array to decode */
} dp_frame;

typedef struct dp {
    const fs_docparse_opts *o;
    dp_frame *st;
    size_t nst, cap;
    size_t depth;         /* every open container, decoded ones included */
    json_t *root;
    fs_symtab *tab;
    bool *had;
    /* the symbols array, while open */
    bool in_syms;
    size_t sym_depth;     /* depth of the array itself */
    fs_sym *cur;
    unsigned seen;        /* fields of cur given so far */
    int field;            /* field of the value to come */
    char msg[FS_ANALYSIS_MAX_STRING + 256];
    int rc;               /* set with msg: -1, or FS_DOCPARSE_TOO_DEEP */
    bool sym_error;       /* msg is a symbol's validation error */
    /* the few distinct types, binds and sections, copied once each */
    const char *kinds[DP_KINDS];
    size_t kind_len[DP_KINDS], nkinds;
} dp;

/* Stop the parse with a message; sym: it is a symbol's validation error,
 * the whole error as the validator words it. */
static int dp_vfail(dp *p, bool sym, const char *fmt, va_list ap)
{
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    if (!p->rc)
        p->rc = -1;
    p->sym_error = sym;
    return 0; /* yajl: stop */
}

__attribute__((format(printf, 2, 3))) static int dp_fail(dp *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dp_vfail(p, false, fmt, ap);
    va_end(ap);
    return 0;
}

__attribute__((format(printf, 2, 3))) static int dp_sym_fail(dp *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dp_vfail(p, true, fmt, ap);
    va_end(ap);
    return 0;
}

static int dp_oom(dp *p)
{
    return dp_fail(p, "out of memory");
}

/* ---- the symbols ----------------------------------------------------------- */

static size_t dp_sym_index(const dp *p)
{
    return p->tab->n ? p->tab->n - 1 : 0;
}

static int dp_sym_type(dp *p, const char *what)
{
    return dp_sym_fail(p, "%s: symbols[%zu].%s: expected %s", p->o->doc_name, dp_sym_index(p), dp_fields[p->field],
                   what);
}

static bool dp_sym_u64_field(int f)
{
    return f == F_ADDRESS || f == F_SIZE;
}

static void dp_sym_set_u64(dp *p, uint64_t v)
{
    if (p->field == F_ADDRESS)
        p->cur->address = v;
    else
        p->cur->size = v;
    p->seen |= 1u << p->field;
}

/* Number text as jansson reads it: 1 an integer (*i), 2 a real (*d), 0 an
 * error (p->msg set). */
static int dp_num(dp *p, const char *s, size_t len, long long *i, double *d)
{
    if (len && len <= 18) { /* the usual case: a few digits, no sign, no fraction */
        long long v = 0;
        size_t k = 0;
        while (k < len && s[k] >= '0' && s[k] <= '9')
            v = v * 10 + (s[k++] - '0');
        if (k == len) {
            *i = v;
            return 1;
        }
    }
    char tmp[512];
    if (len >= sizeof tmp)
        return dp_fail(p, "number too long");
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    if (strpbrk(tmp, ".eE")) {
        *d = strtod(tmp, NULL);
        if (errno == ERANGE && isinf(*d))
            return dp_fail(p, "real number overflow");
        return 2;
    }
    *i = strtoll(tmp, NULL, 10);
    if (errno == ERANGE)
        return dp_fail(p, tmp[0] == '-' ? "too big negative integer" : "too big integer");
    return 1;
}

/* A scalar (string s, number text num, or null) as the value of a field. */
static int dp_sym_scalar(dp *p, const unsigned char *s, size_t len, const char *num, size_t numlen, bool null)
{
    long long iv = 0;
    double dv;
    int kind = num ? dp_num(p, num, numlen, &iv, &dv) : -1;
    if (kind == 0)
        return 0;
    if (p->depth == p->sym_depth)
        return dp_sym_fail(p, "%s: symbols[%zu]: expected an object", p->o->doc_name, p->tab->n);
    if (p->depth > p->sym_depth + 1 || p->field == F_OTHER)
        return 1; /* inside a key the validator does not read */
    if (dp_sym_u64_field(p->field)) {
        uint64_t v = 0;
        bool ok = kind == 1 && iv >= 0;
        v = (uint64_t)iv;
        if (s && len > 2 && len <= 18 && s[0] == '0' && s[1] == 'x') {
            ok = true;
            for (size_t i = 2; i < len && ok; i++) {
                int c = s[i];
                int h = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                      : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                ok = h >= 0;
                v = v << 4 | (uint64_t)(h & 15);
            }
        }
        if (!ok)
            return dp_sym_type(p, "a non-negative integer");
        dp_sym_set_u64(p, v);
        return 1;
    }
    if (null && p->field == F_SECTION) {
        p->seen |= 1u << F_SECTION;
        return 1;
    }
    if (!s)
        return dp_sym_type(p, "a string");
    if (len > FS_ANALYSIS_MAX_STRING)
        return dp_sym_fail(p, "%s: symbols[%zu].%s: string of %zu bytes, longer than the %u-byte limit",
                           p->o->doc_name, dp_sym_index(p), dp_fields[p->field], len, FS_ANALYSIS_MAX_STRING);
    const char *copy = NULL;
    bool shared = p->field != F_NAME;
    for (size_t i = 0; shared && i < p->nkinds && !copy; i++)
        if (p->kind_len[i] == len && memcmp(p->kinds[i], s, len) == 0)
            copy = p->kinds[i];
    if (!copy) {
        if (!(copy = fs_symtab_strdup(p->tab, (const char *)s, len)))
            return dp_oom(p);
        if (shared && p->nkinds < DP_KINDS) {
            p->kinds[p->nkinds] = copy;
            p->kind_len[p->nkinds++] = len;
        }
    }
    const char **slot = p->field == F_NAME ? &p->cur->name
                      : p->field == F_TYPE ? &p->cur->type
                      : p->field == F_BIND ? &p->cur->bind
                                           : &p->cur->section;
    *slot = copy;
    p->seen |= 1u << p->field;
    return 1;
}

static int dp_sym_open(dp *p, bool object)
{
    if (p->depth == p->sym_depth && !object)
        return dp_sym_fail(p, "%s: symbols[%zu]: expected an object", p->o->doc_name, p->tab->n);
    if (p->depth == p->sym_depth) {
        if (p->tab->n >= FS_ANALYSIS_MAX_SYMBOLS)
            return dp_sym_fail(p, "%s: 'symbols' has more entries than the limit of %u", p->o->doc_name,
                           FS_ANALYSIS_MAX_SYMBOLS);
        if (!(p->cur = fs_symtab_add(p->tab)))
            return dp_oom(p);
        p->seen = 0;
        p->field = F_OTHER;
        return 1;
    }
    if (p->depth == p->sym_depth + 1 && p->field != F_OTHER)
        return dp_sym_type(p, dp_sym_u64_field(p->field) ? "a non-negative integer" : "a string");
    return 1;
}

static int dp_sym_end_object(dp *p)
{
    if (p->depth != p->sym_depth + 1)
        return 1;
    for (int f = 0; f < F_COUNT; f++)
        if (!(p->seen & 1u << f))
            return dp_sym_fail(p, "%s: symbols[%zu].%s: expected %s (missing)", p->o->doc_name, dp_sym_index(p),
                           dp_fields[f], dp_sym_u64_field(f) ? "a non-negative integer" : "a string");
    return 1;
}

/* ---- the JSON values -------------------------------------------------------- */

static dp_frame *dp_top(dp *p)
{
    return p->nst ? &p->st[p->nst - 1] : NULL;
}

static bool dp_key_is(const dp_frame *f, const char *word)
{
    return f && f->key && f->keylen == strlen(word) && memcmp(f->key, word, f->keylen) == 0;
}

/* Add v (a new reference, consumed) to the innermost container. */
static int dp_add(dp *p, json_t *v)
{
    if (!v)
        return dp_oom(p);
    dp_frame *f = dp_top(p);
    if (!f) {
        p->root = v;
        return 1;
    }
    if (json_is_array(f->v)) {
        if (json_array_append_new(f->v, v) < 0)
            return dp_oom(p);
        return 1;
    }
    /* an object: the key came just before */
    if (json_object_getn(f->v, f->key, f->keylen)) {
        json_decref(v);
        return dp_fail(p, "duplicate object key");
    }
    int rc = json_object_setn_new_nocheck(f->v, f->key, f->keylen, v);
    free(f->key);
    f->key = NULL;
    return rc < 0 ? dp_oom(p) : 1;
}

static int dp_open(dp *p, json_t *v, bool object)
{
    if (++p->depth > p->o->max_depth) {
        json_decref(v);
        p->rc = FS_DOCPARSE_TOO_DEEP;
        return dp_fail(p, "nested deeper than %zu levels", p->o->max_depth);
    }
    if (p->in_syms) {
        /* the element itself (depth sym_depth + 1) or a value inside one */
        p->depth--;
        int rc = dp_sym_open(p, object);
        p->depth++;
        return rc;
    }
    if (!v)
        return dp_oom(p);
    dp_frame *f = dp_top(p);
    bool symbols_parent = object && (p->o->symbols_in ? p->nst == 1 && dp_key_is(f, p->o->symbols_in)
                                                                 : p->nst == 0);
    if (!dp_add(p, v)) /* the parent (or root) holds v; the frame borrows it */
        return 0;
    if (p->nst == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        dp_frame *st = realloc(p->st, cap * sizeof *st);
        if (!st)
            return dp_oom(p);
        p->st = st;
        p->cap = cap;
    }
    p->st[p->nst++] = (dp_frame){v, NULL, 0, symbols_parent};
    return 1;
}

static int dp_close(dp *p)
{
    p->depth--;
    if (p->in_syms)
        return 1;
    dp_frame *f = dp_top(p);
    free(f->key);
    p->nst--;
    return 1;
}

static int dp_null(void *ctx)
{
    dp *p = ctx;
    return p->in_syms ? dp_sym_scalar(p, NULL, 0, NULL, 0, true) : dp_add(p, json_null());
}

static int dp_boolean(void *ctx, int b)
{
    dp *p = ctx;
    return p->in_syms ? dp_sym_scalar(p, NULL, 0, NULL, 0, false) : dp_add(p, json_boolean(b));
}

static int dp_number(void *ctx, const char *s, size_t len)
{
    dp *p = ctx;
    if (p->in_syms)
        return dp_sym_scalar(p, NULL, 0, s, len, false);
    long long i;
    double d;
    int kind = dp_num(p, s, len, &i, &d);
    return kind == 1 ? dp_add(p, json_integer(i)) : kind == 2 ? dp_add(p, json_real(d)) : 0;
}

static int dp_string(void *ctx, const unsigned char *s, size_t len)
{
    dp *p = ctx;
    if (memchr(s, '\0', len))
        return dp_fail(p, "\\u0000 is not allowed");
    if (p->in_syms)
        return dp_sym_scalar(p, s, len, NULL, 0, false);
    return dp_add(p, json_stringn_nocheck((const char *)s, len));
}

static int dp_start_map(void *ctx)
{
    dp *p = ctx;
    return dp_open(p, p->in_syms ? NULL : json_object(), true);
}

static int dp_map_key(void *ctx, const unsigned char *s, size_t len)
{
    dp *p = ctx;
    if (memchr(s, '\0', len))
        return dp_fail(p, "\\u0000 is not allowed");
    if (p->in_syms) {
        if (p->depth != p->sym_depth + 1)
            return 1;
        /* the six keys differ in length or first letter */
        int f = len == 4 ? (s[0] == 'n' ? F_NAME : s[0] == 's' ? F_SIZE : s[0] == 't' ? F_TYPE : s[0] == 'b' ? F_BIND
                                                                                                    : F_OTHER)
              : len == 7 ? (s[0] == 'a' ? F_ADDRESS : s[0] == 's' ? F_SECTION : F_OTHER)
                         : F_OTHER;
        p->field = f != F_OTHER && memcmp(dp_fields[f], s, len) == 0 ? f : F_OTHER;
        if (p->field != F_OTHER && p->seen & 1u << p->field)
            return dp_fail(p, "duplicate object key");
        return 1;
    }
    dp_frame *f = dp_top(p);
    if (f->symbols_parent && *p->had && len == 7 && memcmp(s, "symbols", 7) == 0)
        return dp_fail(p, "duplicate object key");
    free(f->key);
    if (!(f->key = malloc(len + 1)))
        return dp_oom(p);
    memcpy(f->key, s, len);
    f->key[len] = '\0';
    f->keylen = len;
    return 1;
}

static int dp_end_map(void *ctx)
{
    dp *p = ctx;
    if (p->in_syms && !dp_sym_end_object(p))
        return 0;
    return dp_close(p);
}

static int dp_start_array(void *ctx)
{
    dp *p = ctx;
    dp_frame *f = dp_top(p);
    if (!p->in_syms && f && f->symbols_parent && dp_key_is(f, "symbols")) {
        if (++p->depth > p->o->max_depth) {
            p->rc = FS_DOCPARSE_TOO_DEEP;
            return dp_fail(p, "nested deeper than %zu levels", p->o->max_depth);
        }
        free(f->key);
        f->key = NULL;
        p->in_syms = true;
        p->sym_depth = p->depth;
        *p->had = true;
        return 1;
    }
    return dp_open(p, p->in_syms ? NULL : json_array(), false);
}

static int dp_end_array(void *ctx)
{
    dp *p = ctx;
    if (p->in_syms && p->depth == p->sym_depth) {
        p->in_syms = false;
        p->depth--;
        return 1;
    }
    return dp_close(p);
}

static const yajl_callbacks dp_callbacks = {
    dp_null, dp_boolean, NULL, NULL, dp_number, dp_string, dp_start_map, dp_map_key, dp_end_map,
    dp_start_array, dp_end_array,
};

/* Line and column (from 1) of byte offset at in text. */
static void dp_where(const unsigned char *text, size_t len, size_t at, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else
            (*col)++;
    }
}

int fs_docparse(const unsigned char *text, size_t len, const fs_docparse_opts *o, json_t **out, fs_symtab *syms,
                bool *had_symbols, fs_error *err)
{
    *out = NULL;
    *had_symbols = false;
    memset(syms, 0, sizeof *syms);
    dp p = {.o = o, .tab = syms, .had = had_symbols};
    yajl_handle h = yajl_alloc(&dp_callbacks, NULL, &p);
    if (!h)
        return fs_fail(err, "%s: out of memory", o->name);
    yajl_status st = yajl_parse(h, text, len);
    bool at_end = false;
    if (st == yajl_status_ok) {
        st = yajl_complete_parse(h);
        at_end = true;
    }
    int rc = 0;
    if (st != yajl_status_ok || !p.root) {
        size_t line, col, at = at_end ? len : yajl_get_bytes_consumed(h);
        char why[sizeof p.msg];
        if (st == yajl_status_client_canceled || st == yajl_status_ok)
            snprintf(why, sizeof why, "%s", st == yajl_status_ok ? "no value" : p.msg);
        else {
            unsigned char *e = yajl_get_error(h, 0, text, len);
            snprintf(why, sizeof why, "%s", e ? (const char *)e : "parse error");
            size_t n = strlen(why); /* yajl's words end with a full stop and a newline */
            while (n && (why[n - 1] == '\n' || why[n - 1] == ' ' || why[n - 1] == '.'))
                why[--n] = '\0';
            if (e)
                yajl_free_error(h, e);
        }
        if (p.sym_error)
            rc = fs_fail(err, "%s", p.msg);
        else {
            dp_where(text, len, at, &line, &col);
            rc = fs_fail(err, "%s: invalid JSON at line %zu column %zu: %s", o->name, line, col, why);
        }
        if (p.rc == FS_DOCPARSE_TOO_DEEP)
            rc = FS_DOCPARSE_TOO_DEEP;
    }
    yajl_free(h);
    for (size_t i = 0; i < p.nst; i++)
        free(p.st[i].key);
    free(p.st);
    if (rc) {
        json_decref(p.root);
        fs_symtab_free(syms);
        *had_symbols = false;
        return rc;
    }
    if (fs_symtab_index(syms) < 0) {
        json_decref(p.root);
        fs_symtab_free(syms);
        return fs_fail(err, "%s: out of memory", o->name);
    }
    *out = p.root;
    return 0;
}
