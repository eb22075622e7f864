/*
 * jsonw.c - the buffered JSON writer (jsonw.h).
 *
 * The layout is json_dumps's with JSON_INDENT(2): a container's members on
 * their own lines, two spaces per level, ", " never, ": " between key and
 * value, "[]" and "{}" for empty containers; strings escaped the way
 * jansson escapes them without JSON_ENSURE_ASCII (backslash, quote and the
 * control characters below 0x20 only; \uXXXX in upper case).  Members are
 * visited with jansson's own iterator, so their order is jansson's.  Reals
 * are rare in the reports and their shortest-digits rules are jansson's
 * business: each is formatted by json_dumps itself.
 */
#include "jsonw.h"


#include <stdlib.h>
#include <string.h>

void fs_jsonw_init(fs_jsonw *w, FILE *out, int precision)
{
    w->out = out;
    w->precision = precision;
    w->failed = false;
    w->len = 0;
}

static void jsonw_flush(fs_jsonw *w)
{
    if (w->len && fwrite(w->buf, 1, w->len, w->out) != w->len)
        w->failed = true;
    w->len = 0;
}

int fs_jsonw_finish(fs_jsonw *w)
{
    jsonw_flush(w);
    return w->failed ? -1 : 0;
}

void fs_jsonw_put_slow(fs_jsonw *w, const char *s, size_t n)
{
    jsonw_flush(w);
    if (n > sizeof w->buf) {
        if (fwrite(s, 1, n, w->out) != n)
            w->failed = true;
        return;
    }
    memcpy(w->buf, s, n);
    w->len = n;
}

void fs_jsonw_newline(fs_jsonw *w, unsigned depth)
{
    static const char spaces[] = "                                ";
    if (depth < sizeof spaces / 2 && sizeof spaces <= sizeof w->buf - w->len) { /* the usual case */
        char *o = w->buf + w->len;
        *o = '\n';
        memcpy(o + 1, spaces, sizeof spaces - 1); /* a fixed size; only 2 * depth of it kept */
        w->len += 2 * (size_t)depth + 1;
        return;
    }
    fs_jsonw_lit(w, "\n");
    for (size_t n = 2 * (size_t)depth, k; n; n -= k) {
        k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        fs_jsonw_put(w, spaces, k);
    }
}

/* What a byte needs in a JSON string: 0 nothing, 1 an escape (quote,
 * backslash, control characters), 2 it is not ASCII (fs_jsonw_ascii stops). */
static const unsigned char jsonw_class[256] = {
    [0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 2,
};

/* The escape of c (jsonw_class 1) at o; the end of what was written. */
static char *jsonw_escape(char *o, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\b': *o++ = 'b'; break;
    case '\f': *o++ = 'f'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    default:
        memcpy(o, "u00", 3);
        o[3] = hex[c >> 4];
        o[4] = hex[c & 15];
        o += 5;
    }
    return o;
}

/* Do the eight bytes at p need nothing?  None below 0x20, a quote, a
 * backslash or not ASCII (the usual bit tricks: a byte below k sets its top
 * bit in (v - k*0x01..) & ~v, exactly so for the first such byte). */
static inline bool jsonw_plain8(const char *p)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t v, q, b;
    memcpy(&v, p, 8);
    q = v ^ (ones * '"');
    b = v ^ (ones * '\\');
    return !((((v - ones * 0x20) | (q - ones) | (b - ones)) & ~v & high) | (v & high));
}

/* How many bytes at the start of s[0..n) need nothing (class 0): eight at a
 * time, the last eight read again overlapping, the rest one by one. */
static inline size_t jsonw_plain(const char *s, size_t n)
{
    size_t i = 0;
    if (n >= 8) {
        while (i + 8 <= n && jsonw_plain8(s + i))
            i += 8;
        if (i + 8 > n && (i == n || jsonw_plain8(s + n - 8)))
            return n;
    }
    while (i < n && jsonw_class[(unsigned char)s[i]] == 0)
        i++;
    return i;
}

/* s[0..n) quoted and escaped into the buffer, which must have room for the
 * worst case (6n + 2 bytes). */
static void jsonw_string_in(fs_jsonw *w, const char *s, size_t n)
{
    char *o = w->buf + w->len;
    *o++ = '"';
    for (size_t i = 0;;) {
        size_t k = jsonw_plain(s + i, n - i);
        memcpy(o, s + i, k);
        o += k;
        i += k;
        if (i == n)
            break;
        unsigned char c = (unsigned char)s[i++];
        if (jsonw_class[c] == 1)
            o = jsonw_escape(o, c);
        else
            *o++ = (char)c;
    }
    *o++ = '"';
    w->len = (size_t)(o - w->buf);
}

void fs_jsonw_string(fs_jsonw *w, const char *s, size_t n)
{
    if (n <= (sizeof w->buf - 2) / 6 && 6 * n + 2 > sizeof w->buf - w->len)
        jsonw_flush(w);
    if (n <= (sizeof w->buf - 2) / 6) {
        jsonw_string_in(w, s, n);
        return;
    }
    /* a long string: escaped piece by piece through the buffer */
    char esc[6];
    fs_jsonw_lit(w, "\"");
    size_t run = 0; /* s[run..i) waits to be copied */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (jsonw_class[c] != 1)
            continue;
        fs_jsonw_put(w, s + run, i - run);
        run = i + 1;
        fs_jsonw_put(w, esc, (size_t)(jsonw_escape(esc, c) - esc));
    }
    fs_jsonw_put(w, s + run, n - run);
    fs_jsonw_lit(w, "\"");
}

bool fs_jsonw_ascii(fs_jsonw *w, const char *s)
{
    size_t n = strlen(s), k = jsonw_plain(s, n);
    for (size_t i = k; i < n; i++)
        if (jsonw_class[(unsigned char)s[i]] == 2)
            return false;
    if (k == n && n + 2 <= sizeof w->buf - w->len) { /* the usual name: nothing to escape */
        char *o = w->buf + w->len;
        o[0] = '"';
        memcpy(o + 1, s, n);
        o[n + 1] = '"';
        w->len += n + 2;
        return true;
    }
    fs_jsonw_string(w, s, n);
    return true;
}

/* "00".."99": an integer is written two digits at a time. */
static const char jsonw_digits[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                   "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                   "8081828384858687888990919293949596979899";

char *fs_jsonw_fmt_int(char *o, int64_t v)
{
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    if (v < 0)
        *o++ = '-';
    /* its number of digits, from its bit length (log10(2) ~ 1233 / 4096) */
    static const uint64_t pow10[20] = {1u,
                                       10u,
                                       100u,
                                       1000u,
                                       10000u,
                                       100000u,
                                       1000000u,
                                       10000000u,
                                       100000000u,
                                       1000000000u,
                                       10000000000u,
                                       100000000000u,
                                       1000000000000u,
                                       10000000000000u,
                                       100000000000000u,
                                       1000000000000000u,
                                       10000000000000000u,
                                       100000000000000000u,
                                       1000000000000000000u,
                                       10000000000000000000u};
    unsigned guess = (unsigned)((64 - __builtin_clzll(u | 1)) * 1233) >> 12;
    unsigned digits = u ? guess + (u >= pow10[guess]) : 1;
    char *end = o + digits, *p = end;
    for (; u >= 100; u /= 100) {
        p -= 2;
        memcpy(p, jsonw_digits + 2 * (u % 100), 2);
    }
    if (u >= 10) {
        p -= 2;
        memcpy(p, jsonw_digits + 2 * u, 2);
    } else {
        *--p = (char)('0' + u);
    }
    return end;
}

void fs_jsonw_int(fs_jsonw *w, int64_t v)
{
    char buf[24];
    fs_jsonw_put(w, buf, (size_t)(fs_jsonw_fmt_int(buf, v) - buf));
}

size_t fs_jsonw_plain(const char *s, size_t n)
{
    return jsonw_plain(s, n);
}

char *fs_jsonw_reserve(fs_jsonw *w, size_t n)
{
    if (n > sizeof w->buf)
        return NULL;
    if (n > sizeof w->buf - w->len)
        jsonw_flush(w);
    return w->buf + w->len;
}

void fs_jsonw_commit(fs_jsonw *w, const char *end)
{
    w->len = (size_t)(end - w->buf);
}

static void jsonw_real(fs_jsonw *w, const json_t *value)
{
    char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_REAL_PRECISION(w->precision));
    if (!text) {
        w->failed = true;
        return;
    }
    fs_jsonw_put(w, text, strlen(text));
    free(text);
}

void fs_jsonw_value(fs_jsonw *w, const json_t *value, unsigned depth)
{
    if (!value) {
        w->failed = true;
        return;
    }
    switch (json_typeof(value)) {
    case JSON_OBJECT: {
        void *it = json_object_iter((json_t *)value);
        if (!it) {
            fs_jsonw_lit(w, "{}");
            return;
        }
        fs_jsonw_lit(w, "{");
        for (bool first = true; it; it = json_object_iter_next((json_t *)value, it), first = false) {
            if (!first)
                fs_jsonw_lit(w, ",");
            fs_jsonw_newline(w, depth + 1);
            fs_jsonw_string(w, json_object_iter_key(it), json_object_iter_key_len(it));
            fs_jsonw_lit(w, ": ");
            fs_jsonw_value(w, json_object_iter_value(it), depth + 1);
        }
        fs_jsonw_newline(w, depth);
        fs_jsonw_lit(w, "}");
        return;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(value);
        if (!n) {
            fs_jsonw_lit(w, "[]");
            return;
        }
        fs_jsonw_lit(w, "[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                fs_jsonw_lit(w, ",");
            fs_jsonw_newline(w, depth + 1);
            fs_jsonw_value(w, json_array_get(value, i), depth + 1);
        }
        fs_jsonw_newline(w, depth);
        fs_jsonw_lit(w, "]");
        return;
    }
    case JSON_STRING:
        fs_jsonw_string(w, json_string_value(value), json_string_length(value));
        return;
    case JSON_INTEGER:
        fs_jsonw_int(w, json_integer_value(value));
        return;
    case JSON_REAL:
        jsonw_real(w, value);
        return;
    case JSON_TRUE:
        fs_jsonw_lit(w, "true");
        return;
    case JSON_FALSE:
        fs_jsonw_lit(w, "false");
        return;
    case JSON_NULL:
        fs_jsonw_lit(w, "null");
        return;
    }
}

/* ---- the streaming sink of JSON events (jemit.h) --------------------------- */

/* Before a value: in an array, the comma and the line of its element. */
static void emit_before(fs_jsonw_emitter *s)
{
    if (s->depth == 0 || !s->array[s->depth - 1])
        return;
    if (!s->first[s->depth - 1])
        fs_jsonw_lit(s->w, ",");
    s->first[s->depth - 1] = false;
    fs_jsonw_newline(s->w, s->base + s->depth);
}

static void emit_open(fs_jemit *e, bool array)
{
    fs_jsonw_emitter *s = (fs_jsonw_emitter *)e;
    emit_before(s);
    if (s->depth == FS_JEMIT_MAX_DEPTH) {
        s->e.failed = s->w->failed = true;
        return;
    }
    fs_jsonw_put(s->w, array ? "[" : "{", 1);
    s->array[s->depth] = array;
    s->first[s->depth] = true;
    s->depth++;
}

static void emit_close(fs_jemit *e)
{
    fs_jsonw_emitter *s = (fs_jsonw_emitter *)e;
    if (s->depth == 0) {
        s->e.failed = s->w->failed = true;
        return;
    }
    s->depth--;
    if (!s->first[s->depth]) /* else "{}" or "[]" */
        fs_jsonw_newline(s->w, s->base + s->depth);
    fs_jsonw_put(s->w, s->array[s->depth] ? "]" : "}", 1);
}

static void emit_key(fs_jemit *e, const char *key)
{
    fs_jsonw_emitter *s = (fs_jsonw_emitter *)e;
    if (s->depth == 0 || s->array[s->depth - 1]) {
        s->e.failed = s->w->failed = true;
        return;
    }
    bool first = s->first[s->depth - 1];
    s->first[s->depth - 1] = false;
    size_t kl = strlen(key), indent = 2 * (size_t)(s->base + s->depth);
    static const char spaces[] = "                                ";
    char *o;
    if (kl <= 64 && indent < sizeof spaces && fs_jsonw_plain(key, kl) == kl &&
        (o = fs_jsonw_reserve(s->w, kl + sizeof spaces + 8))) {
        /* the usual key: comma, line, indentation, quoted name and colon in one piece */
        if (!first)
            *o++ = ',';
        *o++ = '\n';
        memcpy(o, spaces, sizeof spaces - 1);
        o += indent;
        *o++ = '"';
        memcpy(o, key, kl);
        o += kl;
        memcpy(o, "\": ", 3);
        fs_jsonw_commit(s->w, o + 3);
        return;
    }
    if (!first)
        fs_jsonw_lit(s->w, ",");
    fs_jsonw_newline(s->w, s->base + s->depth);
    fs_jsonw_string(s->w, key, kl);
    fs_jsonw_lit(s->w, ": ");
}

/* v (taken) at the current place; NULL (out of memory) marks both failed. */
static void emit_json(fs_jsonw_emitter *s, json_t *v)
{
    if (!v)
        s->e.failed = true;
    fs_jsonw_value(s->w, v, s->base + s->depth);
    json_decref(v);
}

static void emit_value(fs_jemit *e, json_t *v)
{
    fs_jsonw_emitter *s = (fs_jsonw_emitter *)e;
    emit_before(s);
    emit_json(s, v);
}

static void emit_text(fs_jemit *e, const char *str)
{
    fs_jsonw_emitter *s = (fs_jsonw_emitter *)e;
    emit_before(s);
    if (!str || !fs_jsonw_ascii(s->w, str)) /* null, or UTF-8 to check: fs_json_text */
        emit_json(s, fs_json_text(str));
}

static void emit_integer(fs_jemit *e, int64_t v)
{
    fs_jsonw_emitter *s = (fs_jsonw_emitter *)e;
    emit_before(s);
    fs_jsonw_int(s->w, v);
}

static const fs_jemit_ops emit_ops = {emit_open, emit_close, emit_key, emit_text, emit_integer, emit_value};

void fs_jsonw_emitter_init(fs_jsonw_emitter *s, fs_jsonw *w, unsigned depth)
{
    memset(s, 0, sizeof *s);
    s->e.ops = &emit_ops;
    s->w = w;
    s->base = depth;
}
