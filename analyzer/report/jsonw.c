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

/* A line break and the indentation of nesting depth depth. */
static void jsonw_newline(fs_jsonw *w, unsigned depth)
{
    static const char spaces[] = "                                ";
    fs_jsonw_lit(w, "\n");
    for (size_t n = 2 * (size_t)depth, k; n; n -= k) {
        k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        fs_jsonw_put(w, spaces, k);
    }
}

void fs_jsonw_string(fs_jsonw *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    fs_jsonw_lit(w, "\"");
    size_t run = 0; /* s[run..i) waits to be copied */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        fs_jsonw_put(w, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': fs_jsonw_lit(w, "\\\""); break;
        case '\\': fs_jsonw_lit(w, "\\\\"); break;
        case '\b': fs_jsonw_lit(w, "\\b"); break;
        case '\f': fs_jsonw_lit(w, "\\f"); break;
        case '\n': fs_jsonw_lit(w, "\\n"); break;
        case '\r': fs_jsonw_lit(w, "\\r"); break;
        case '\t': fs_jsonw_lit(w, "\\t"); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            fs_jsonw_put(w, u, sizeof u);
        }
        }
    }
    fs_jsonw_put(w, s + run, n - run);
    fs_jsonw_lit(w, "\"");
}

void fs_jsonw_int(fs_jsonw *w, int64_t v)
{
    char buf[24];
    char *p = buf + sizeof buf;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    fs_jsonw_put(w, p, (size_t)(buf + sizeof buf - p));
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
            jsonw_newline(w, depth + 1);
            fs_jsonw_string(w, json_object_iter_key(it), json_object_iter_key_len(it));
            fs_jsonw_lit(w, ": ");
            fs_jsonw_value(w, json_object_iter_value(it), depth + 1);
        }
        jsonw_newline(w, depth);
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
            jsonw_newline(w, depth + 1);
            fs_jsonw_value(w, json_array_get(value, i), depth + 1);
        }
        jsonw_newline(w, depth);
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
