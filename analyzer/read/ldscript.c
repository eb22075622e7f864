/*
 * ldscript.c - read MEMORY regions and symbol assignments from GNU ld scripts.
 *
 * A size analysis needs only a small part of a linker script: the MEMORY
 * regions, and the top-level symbol assignments whose value is known before
 * linking (`_firmware_size = ORIGIN(irom0_0_seg) + LENGTH(irom0_0_seg) - ...;`,
 * ROM tables of `PROVIDE(memcpy = 0x4000df48);`).  So this is not a full ld
 * parser.  It is two small pieces:
 *
 *   1. An expression evaluator (ex_* functions): recursive descent over the
 *      text with C precedence, unsigned 64-bit arithmetic as ld does it
 *      (except `/` and `%`, which ld does on signed values).  It works
 *      directly on the script buffer and stops at the first token that
 *      cannot continue an expression, so the caller needs no separate
 *      tokenizer for expressions.  It tells apart two kinds of failure:
 *      a syntax error (the script is broken, reading stops) and a value that
 *      cannot be known without linking (`.`, SIZEOF(.text), an unknown
 *      symbol).  In the second case it still parses to the end of the
 *      expression, so a top-level assignment like `_end = ADDR(.bss) + 4;`
 *      is skipped cleanly.  Operands whose value is not used (the untaken
 *      branch of ?:, the right side of `0 && x`) are parsed in "skip" mode
 *      with no lookups, so `DEFINED(x) ? x : 0` works as in ld.
 *
 *   2. A statement reader (ld_* functions) that walks the script:
 *      MEMORY blocks, INCLUDE, SEARCH_DIR, REGION_ALIAS, assignments and
 *      PROVIDE/HIDDEN.  Everything else (SECTIONS, PHDRS, VERSION, ENTRY(),
 *      OUTPUT_FORMAT(), ...) is a keyword followed by a balanced (...) or
 *      {...} group, which is skipped while still honouring comments and
 *      strings, so a brace inside a comment does not upset the balance.
 *
 * INCLUDEs are read recursively with the including file on a linked stack,
 * which gives cycle detection (same device and inode on the stack) and the
 * depth limit.  An INCLUDE inside MEMORY reads the file as more MEMORY
 * entries, as ld does.  Every error names FILE:LINE; the line is computed
 * from the byte offset only when an error is reported.
 *
 * Symbols are kept in out->symbols in the order first assigned, with a small
 * open-addressing hash index beside them so that ROM tables with thousands
 * of PROVIDEs stay linear.
 */
#include "ldscript.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LD_MAX_NEST       256   /* nesting of skipped (...) and {...} groups */
#define LD_MAX_SEARCH     256   /* SEARCH_DIR commands */
#define LD_MAX_ARGS       4     /* function arguments kept by the evaluator */

#define LD_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ======================================================================
 * Characters shared by both parts
 * ====================================================================== */

static int ld_is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int ld_is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int ld_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Symbol names: letters, digits, '_', '.', '$', not starting with a digit. */
static int ld_is_name_start(int c)
{
    return ld_is_alpha(c) || c == '_' || c == '.' || c == '$';
}

static int ld_is_name_char(int c)
{
    return ld_is_name_start(c) || ld_is_digit(c);
}

/* Bytes that never appear in a text script outside comments and strings. */
static int ld_is_binary(int c)
{
    return (c < 0x20 && !ld_is_space(c)) || c >= 0x7f;
}

/* Describe the byte at s[pos] (or the end) for an error message. */
static const char *ld_describe(const char *s, size_t len, size_t pos, char *buf, size_t size)
{
    if (pos >= len)
        snprintf(buf, size, "end of input");
    else if (ld_is_binary((unsigned char)s[pos]) || ld_is_space((unsigned char)s[pos]))
        snprintf(buf, size, "byte 0x%02x", (unsigned char)s[pos]);
    else
        snprintf(buf, size, "'%c'", s[pos]);
    return buf;
}

/* Offset just past the comment that starts at s[pos] ("/" "*"), or 0 if it
 * is never closed. */
static size_t ld_comment_end(const char *s, size_t len, size_t pos)
{
    const char *end = memmem(s + pos + 2, len - pos - 2, "*/", 2);
    return end ? (size_t)(end - s) + 2 : 0;
}

static int ld_is_comment(const char *s, size_t len, size_t pos)
{
    return pos + 1 < len && s[pos] == '/' && s[pos + 1] == '*';
}

/* ======================================================================
 * Part 1: expressions
 * ====================================================================== */

enum {
    EX_NONE, EX_MUL, EX_DIV, EX_MOD, EX_ADD, EX_SUB, EX_SHL, EX_SHR,
    EX_LT, EX_LE, EX_GT, EX_GE, EX_EQ, EX_NE, EX_AND, EX_XOR, EX_OR,
    EX_LAND, EX_LOR
};

/* Status of an evaluation: fine, value unknown before linking, or broken. */
enum { EX_OK = 0, EX_UNKNOWN = 1, EX_SYNTAX = -1 };

typedef struct ld_expr {
    const char *s;        /* text; not necessarily NUL-terminated */
    size_t len, pos;
    fs_expr_lookup lookup;
    void *ctx;
    int depth;            /* nesting, against FS_EXPR_MAX_DEPTH */
    int skip;             /* > 0 while parsing an operand whose value is unused */
    int status;           /* EX_OK, EX_UNKNOWN or EX_SYNTAX */
    bool sizes;           /* fs_expr_eval_size: a negation below zero is an error */
    size_t errpos;        /* where the reported problem is */
    char *msg;            /* message buffer (may be NULL) */
    size_t msglen;
} ld_expr;

static int ex_cond(ld_expr *e, uint64_t *v);

LD_PRINTF(2, 0)
static void ex_vmessage(ld_expr *e, const char *fmt, va_list ap)
{
    if (e->msg && e->msglen)
        vsnprintf(e->msg, e->msglen, fmt, ap);
}

/* A syntax error: parsing stops.  Returns -1. */
LD_PRINTF(2, 3)
static int ex_syntax(ld_expr *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ex_vmessage(e, fmt, ap);
    va_end(ap);
    e->status = EX_SYNTAX;
    e->errpos = e->pos;
    return -1;
}

/* A value that cannot be computed: parsing goes on.  Only the first such
 * problem is kept, and none in operands whose value is not used. */
LD_PRINTF(3, 4)
static void ex_unknown(ld_expr *e, size_t pos, const char *fmt, ...)
{
    if (e->skip || e->status != EX_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    ex_vmessage(e, fmt, ap);
    va_end(ap);
    e->status = EX_UNKNOWN;
    e->errpos = pos;
}

static int ex_peek(const ld_expr *e)
{
    return e->pos < e->len ? (unsigned char)e->s[e->pos] : -1;
}

/* Skip white space and comments. */
static int ex_space(ld_expr *e)
{
    while (e->pos < e->len) {
        if (ld_is_space((unsigned char)e->s[e->pos])) {
            e->pos++;
        } else if (ld_is_comment(e->s, e->len, e->pos)) {
            size_t end = ld_comment_end(e->s, e->len, e->pos);
            if (!end)
                return ex_syntax(e, "unterminated comment");
            e->pos = end;
        } else {
            break;
        }
    }
    return 0;
}

/* Expect the character c (after white space). */
static int ex_expect(ld_expr *e, int c, const char *what)
{
    char d[24];
    if (ex_space(e))
        return -1;
    if (ex_peek(e) != c)
        return ex_syntax(e, "expected '%c' %s but found %s", c, what,
                         ld_describe(e->s, e->len, e->pos, d, sizeof d));
    e->pos++;
    return 0;
}

/* An integer: 0x hex, 0 octal or decimal, with an optional K/M/G suffix. */
static int ex_number(ld_expr *e, uint64_t *v)
{
    size_t start = e->pos, i = e->pos, end = e->pos;
    unsigned base = 10;
    int ndigits = 0, wide = 0;
    uint64_t x = 0;

    while (end < e->len && ld_is_name_char((unsigned char)e->s[end]))
        end++;
    if (e->s[i] == '0' && i + 1 < e->len && (e->s[i + 1] == 'x' || e->s[i + 1] == 'X')) {
        base = 16;
        i += 2;
    } else if (e->s[i] == '0') {
        base = 8;
    }
    for (; i < e->len; i++, ndigits++) {
        int c = (unsigned char)e->s[i];
        unsigned d;
        if (ld_is_digit(c))
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            break;
        if (d >= base)
            break;
        if (__builtin_mul_overflow(x, (uint64_t)base, &x) || __builtin_add_overflow(x, (uint64_t)d, &x))
            wide = 1;
    }
    unsigned shift = 0;
    if (i < e->len && (e->s[i] == 'K' || e->s[i] == 'k'))
        shift = 10, i++;
    else if (i < e->len && (e->s[i] == 'M' || e->s[i] == 'm'))
        shift = 20, i++;
    else if (i < e->len && (e->s[i] == 'G' || e->s[i] == 'g'))
        shift = 30, i++;
    int n = end - start > 40 ? 40 : (int)(end - start);
    if (ndigits == 0 || i != end)
        return ex_syntax(e, "bad number '%.*s'", n, e->s + start);
    if (shift && (x >> (64 - shift)) != 0)
        wide = 1;
    if (wide)
        return ex_syntax(e, "number '%.*s' does not fit in 64 bits", n, e->s + start);
    x <<= shift;
    e->pos = i;
    *v = x;
    return 0;
}

/* A name: a run of name characters, or a "quoted" name as ld allows. */
static int ex_name(ld_expr *e, const char **name, size_t *n)
{
    char d[24];
    if (ex_space(e))
        return -1;
    size_t start = e->pos;
    if (ex_peek(e) == '"') {
        const char *q = memchr(e->s + start + 1, '"', e->len - start - 1);
        if (!q)
            return ex_syntax(e, "unterminated string");
        *name = e->s + start + 1;
        *n = (size_t)(q - *name);
        e->pos = (size_t)(q - e->s) + 1;
        return 0;
    }
    if (!ld_is_name_start(ex_peek(e)))
        return ex_syntax(e, "expected a name but found %s",
                         ld_describe(e->s, e->len, e->pos, d, sizeof d));
    while (e->pos < e->len && ld_is_name_char((unsigned char)e->s[e->pos]))
        e->pos++;
    *name = e->s + start;
    *n = e->pos - start;
    return 0;
}

/* Ask the lookup function about a name.  Returns 0 and sets *v, or -1. */
static int ex_lookup(ld_expr *e, const char *func, const char *name, size_t n, uint64_t *v)
{
    if (!e->lookup)
        return -1;
    char *z = strndup(name, n);
    if (!z)
        return ex_syntax(e, "out of memory");
    int rc = e->lookup(e->ctx, func, z, v);
    free(z);
    return rc;
}

/* Arguments "( a, b, ... )" after a function name: up to LD_MAX_ARGS values
 * are kept, *nargs counts all of them. */
static int ex_args(ld_expr *e, uint64_t *args, int *nargs)
{
    *nargs = 0;
    if (ex_expect(e, '(', "after function name") || ex_space(e))
        return -1;
    if (ex_peek(e) == ')') {
        e->pos++;
        return 0;
    }
    for (;;) {
        uint64_t v;
        if (ex_cond(e, &v) || ex_space(e))
            return -1;
        if (*nargs < LD_MAX_ARGS)
            args[*nargs] = v;
        ++*nargs;
        if (ex_peek(e) == ')') {
            e->pos++;
            return 0;
        }
        if (ex_expect(e, ',', "between arguments"))
            return -1;
    }
}

/* ORIGIN(r), LENGTH(r), DEFINED(s): one name as the argument. */
static int ex_name_func(ld_expr *e, const char *func, size_t at, uint64_t *v)
{
    const char *name;
    size_t n;
    if (ex_expect(e, '(', "after function name") || ex_name(e, &name, &n) ||
        ex_expect(e, ')', "after the name"))
        return -1;
    *v = 0;
    if (e->skip || ex_lookup(e, func, name, n, v) == 0)
        return 0;
    if (e->status == EX_SYNTAX)
        return -1;
    if (strcmp(func, "DEFINED") == 0)
        *v = 0;
    else
        ex_unknown(e, at, "unknown memory region '%.*s'", (int)n, name);
    return 0;
}

/* ld's ALIGN(x, a): round x up to a multiple of a. */
static uint64_t ex_align(uint64_t x, uint64_t a)
{
    if (a <= 1)
        return x;
    return (x + a - 1) / a * a;
}

/* Functions that only the linker can evaluate; their arguments are parsed. */
static int ex_is_link_func(const char *name, size_t n)
{
    static const char *const funcs[] = {
        "ADDR", "LOADADDR", "SIZEOF", "ALIGNOF", "NEXT", "CONSTANT",
        "SEGMENT_START", "DATA_SEGMENT_ALIGN", "DATA_SEGMENT_END",
        "DATA_SEGMENT_RELRO_END", "BLOCK", "ASSERT", "LOG2CEIL",
    };
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (strlen(funcs[i]) == n && memcmp(funcs[i], name, n) == 0)
            return 1;
    return 0;
}

static int ex_is(const char *name, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(name, word, n) == 0;
}

/* A function call; the name has been read and e->pos is at '('. */
static int ex_call(ld_expr *e, const char *name, size_t n, size_t at, uint64_t *v)
{
    uint64_t a[LD_MAX_ARGS] = {0};
    int nargs;

    *v = 0;
    if (ex_is(name, n, "ORIGIN") || ex_is(name, n, "LENGTH") || ex_is(name, n, "DEFINED"))
        return ex_name_func(e, ex_is(name, n, "ORIGIN") ? "ORIGIN" :
                               ex_is(name, n, "LENGTH") ? "LENGTH" : "DEFINED", at, v);
    if (ex_is_link_func(name, n)) {
        e->skip++;
        int rc = ex_args(e, a, &nargs);
        e->skip--;
        if (rc)
            return -1;
        ex_unknown(e, at, "%.*s() needs the linker", (int)n, name);
        return 0;
    }
    if (ex_args(e, a, &nargs))
        return -1;
    if (ex_is(name, n, "ABSOLUTE") && nargs == 1) {
        *v = a[0];
    } else if (ex_is(name, n, "MAX") && nargs == 2) {
        *v = a[0] > a[1] ? a[0] : a[1];
    } else if (ex_is(name, n, "MIN") && nargs == 2) {
        *v = a[0] < a[1] ? a[0] : a[1];
    } else if (ex_is(name, n, "ALIGN") && nargs == 2) {
        *v = ex_align(a[0], a[1]);
    } else if (ex_is(name, n, "ALIGN") && nargs == 1) {
        ex_unknown(e, at, "ALIGN() with one argument needs the location counter");
    } else if (ex_is(name, n, "ABSOLUTE") || ex_is(name, n, "MAX") ||
               ex_is(name, n, "MIN") || ex_is(name, n, "ALIGN")) {
        e->pos = at;
        return ex_syntax(e, "wrong number of arguments to %.*s()", (int)n, name);
    } else {
        ex_unknown(e, at, "unknown function '%.*s'", (int)n, name);
    }
    return 0;
}

/* A number, a name, a function call or a parenthesised expression. */
static int ex_primary(ld_expr *e, uint64_t *v)
{
    char d[24];
    if (ex_space(e))
        return -1;
    int c = ex_peek(e);
    size_t at = e->pos;
    *v = 0;
    if (c == '(') {
        e->pos++;
        return ex_cond(e, v) || ex_expect(e, ')', "to close '('") ? -1 : 0;
    }
    if (ld_is_digit(c))
        return ex_number(e, v);
    if (c != '"' && !ld_is_name_start(c)) {
        if (c < 0)
            return ex_syntax(e, "unexpected end of expression");
        return ex_syntax(e, "expected a value but found %s",
                         ld_describe(e->s, e->len, e->pos, d, sizeof d));
    }
    const char *name;
    size_t n;
    if (ex_name(e, &name, &n) || ex_space(e))
        return -1;
    if (c != '"' && ex_peek(e) == '(')
        return ex_call(e, name, n, at, v);
    if (c != '"' && n == 1 && name[0] == '.') {
        ex_unknown(e, at, "'.' needs the location counter");
        return 0;
    }
    if (!e->skip && ex_lookup(e, NULL, name, n, v) != 0) {
        if (e->status == EX_SYNTAX)
            return -1;
        ex_unknown(e, at, "unknown symbol '%.*s'", (int)n, name);
    }
    return 0;
}

/* Unary - + ~ ! and then a primary. */
static int ex_unary(ld_expr *e, uint64_t *v)
{
    if (ex_space(e))
        return -1;
    int c = ex_peek(e);
    if (c != '-' && c != '+' && c != '~' && c != '!')
        return ex_primary(e, v);
    if (++e->depth > FS_EXPR_MAX_DEPTH)
        return ex_syntax(e, "expression nested more than %d deep", FS_EXPR_MAX_DEPTH);
    size_t at = e->pos++;
    int rc = ex_unary(e, v);
    e->depth--;
    if (c == '-' && e->sizes && *v && !rc && !e->skip && e->status == EX_OK) {
        e->pos = at;
        return ex_syntax(e, "-0x%" PRIx64 " is negative (a size is 0 or more bytes)", *v);
    }
    if (c == '-')
        *v = 0 - *v;
    else if (c == '~')
        *v = ~*v;
    else if (c == '!')
        *v = !*v;
    return rc;
}

/* The binary operator at e->pos, its length in *n; EX_NONE if there is
 * none (an assignment operator such as "+=" or "<<=" ends an expression). */
static int ex_binop(const ld_expr *e, size_t *n)
{
    int c = ex_peek(e);
    int d = e->pos + 1 < e->len ? (unsigned char)e->s[e->pos + 1] : 0;
    int f = e->pos + 2 < e->len ? (unsigned char)e->s[e->pos + 2] : 0;

    *n = 1;
    switch (c) {
    case '*': return d == '=' ? EX_NONE : EX_MUL;
    case '/': return d == '=' ? EX_NONE : EX_DIV;
    case '%': return d == '=' ? EX_NONE : EX_MOD;
    case '+': return d == '=' ? EX_NONE : EX_ADD;
    case '-': return d == '=' ? EX_NONE : EX_SUB;
    case '^': return d == '=' ? EX_NONE : EX_XOR;
    case '<':
    case '>':
        *n = 2;
        if (d == c)
            return f == '=' ? EX_NONE : c == '<' ? EX_SHL : EX_SHR;
        if (d == '=')
            return c == '<' ? EX_LE : EX_GE;
        *n = 1;
        return c == '<' ? EX_LT : EX_GT;
    case '=': *n = 2; return d == '=' ? EX_EQ : EX_NONE;
    case '!': *n = 2; return d == '=' ? EX_NE : EX_NONE;
    case '&':
    case '|':
        if (d == '=')
            return EX_NONE;
        if (d == c) {
            *n = 2;
            return c == '&' ? EX_LAND : EX_LOR;
        }
        return c == '&' ? EX_AND : EX_OR;
    default:
        return EX_NONE;
    }
}

/* Binding strength of a binary operator: higher binds tighter. */
static int ex_prec(int op)
{
    switch (op) {
    case EX_LOR: return 1;
    case EX_LAND: return 2;
    case EX_OR: return 3;
    case EX_XOR: return 4;
    case EX_AND: return 5;
    case EX_EQ: case EX_NE: return 6;
    case EX_LT: case EX_LE: case EX_GT: case EX_GE: return 7;
    case EX_SHL: case EX_SHR: return 8;
    case EX_ADD: case EX_SUB: return 9;
    case EX_MUL: case EX_DIV: case EX_MOD: return 10;
    default: return 0;
    }
}

/* Apply a binary operator.  Division is signed, as in ld; the others are
 * unsigned 64-bit, and a result that does not fit (a + b or a * b past
 * 2^64 - 1, a - b below 0, a << b losing bits) is an error, not a value
 * wrapped modulo 2^64.  Returns -1 on division by zero, -2 on overflow. */
static int ex_fold(int op, uint64_t a, uint64_t b, uint64_t *r)
{
    switch (op) {
    case EX_MUL: if (__builtin_mul_overflow(a, b, r)) return -2; break;
    case EX_DIV:
    case EX_MOD:
        if (b == 0)
            return -1;
        if (b == UINT64_MAX) /* x / -1 and x % -1, without INT64_MIN / -1 */
            *r = op == EX_DIV ? 0 - a : 0;
        else if (op == EX_DIV)
            *r = (uint64_t)((int64_t)a / (int64_t)b);
        else
            *r = (uint64_t)((int64_t)a % (int64_t)b);
        break;
    case EX_ADD: if (__builtin_add_overflow(a, b, r)) return -2; break;
    case EX_SUB: if (__builtin_sub_overflow(a, b, r)) return -2; break;
    case EX_SHL:
        if (a && (b >= 64 || (a >> (63 - b)) >> 1))
            return -2;
        *r = a << (b >= 64 ? 0 : b);
        break;
    case EX_SHR: *r = b >= 64 ? 0 : a >> b; break;
    case EX_LT: *r = a < b; break;
    case EX_LE: *r = a <= b; break;
    case EX_GT: *r = a > b; break;
    case EX_GE: *r = a >= b; break;
    case EX_EQ: *r = a == b; break;
    case EX_NE: *r = a != b; break;
    case EX_AND: *r = a & b; break;
    case EX_XOR: *r = a ^ b; break;
    case EX_OR: *r = a | b; break;
    case EX_LAND: *r = a && b; break;
    case EX_LOR: *r = a || b; break;
    default: return -1;
    }
    return 0;
}

/* Binary operators of strength minprec and above (precedence climbing). */
static int ex_binary(ld_expr *e, int minprec, uint64_t *v)
{
    if (ex_unary(e, v))
        return -1;
    for (;;) {
        size_t n;
        if (ex_space(e))
            return -1;
        int op = ex_binop(e, &n);
        int prec = ex_prec(op);
        if (op == EX_NONE || prec < minprec)
            return 0;
        size_t at = e->pos;
        e->pos += n;
        /* The right side of 0 && x and 1 || x is not evaluated. */
        int lazy = (op == EX_LAND && !*v) || (op == EX_LOR && *v);
        uint64_t rhs;
        e->skip += lazy;
        int rc = ex_binary(e, prec + 1, &rhs);
        e->skip -= lazy;
        if (rc)
            return -1;
        uint64_t lhs = *v;
        int bad = ex_fold(op, lhs, rhs, v);
        if (bad && (e->skip || e->status == EX_UNKNOWN)) {
            *v = 0; /* an operand whose value is not used, or not known */
        } else if (bad) {
            static const char *const sym[] = {
                [EX_MUL] = "*", [EX_ADD] = "+", [EX_SUB] = "-", [EX_SHL] = "<<"};
            e->pos = at;
            if (bad == -1)
                return ex_syntax(e, "division by zero");
            return ex_syntax(e, "0x%" PRIx64 " %s 0x%" PRIx64 " %s", lhs, sym[op], rhs,
                             op == EX_SUB ? "is below zero" : "does not fit in 64 bits");
        }
    }
}

/* A whole expression: binary operators and ?: (right-associative). */
static int ex_cond(ld_expr *e, uint64_t *v)
{
    int rc = -1;
    if (++e->depth > FS_EXPR_MAX_DEPTH) {
        ex_syntax(e, "expression nested more than %d deep", FS_EXPR_MAX_DEPTH);
        goto out;
    }
    if (ex_binary(e, 1, v) || ex_space(e))
        goto out;
    if (ex_peek(e) == '?') {
        uint64_t c = *v, a, b;
        e->pos++;
        e->skip += !c;
        rc = ex_cond(e, &a);
        e->skip -= !c;
        if (rc || ex_expect(e, ':', "in ?: expression"))
            goto fail;
        e->skip += !!c;
        rc = ex_cond(e, &b);
        e->skip -= !!c;
        if (rc)
            goto fail;
        *v = c ? a : b;
    }
    rc = 0;
    goto out;
fail:
    rc = -1;
out:
    e->depth--;
    return rc;
}

static int ex_eval(const char *text, fs_expr_lookup lookup, void *ctx, uint64_t *value, char *errbuf,
                   size_t errlen, bool sizes)
{
    ld_expr e = {.sizes = sizes};
    uint64_t v = 0;
    char d[24];

    if (errbuf && errlen)
        errbuf[0] = '\0';
    e.s = text ? text : "";
    e.len = strlen(e.s);
    e.lookup = lookup;
    e.ctx = ctx;
    e.msg = errbuf;
    e.msglen = errlen;
    if (ex_cond(&e, &v) == 0 && ex_space(&e) == 0 && e.pos < e.len)
        ex_syntax(&e, "unexpected %s after expression",
                  ld_describe(e.s, e.len, e.pos, d, sizeof d));
    if (e.status != EX_OK)
        return -1;
    if (value)
        *value = v;
    return 0;
}

int fs_expr_eval(const char *text, fs_expr_lookup lookup, void *ctx, uint64_t *value,
                 char *errbuf, size_t errlen)
{
    return ex_eval(text, lookup, ctx, value, errbuf, errlen, false);
}

int fs_expr_eval_size(const char *text, fs_expr_lookup lookup, void *ctx, uint64_t *value,
                      char *errbuf, size_t errlen)
{
    return ex_eval(text, lookup, ctx, value, errbuf, errlen, true);
}

/* ======================================================================
 * Part 2: scripts
 * ====================================================================== */

/* What a file holds: whole-script statements, or MEMORY entries (a file
 * INCLUDEd from inside MEMORY { }). */
enum { LD_SCRIPT, LD_MEMORY };

/* One script being read; parent is the file that INCLUDEd it. */
typedef struct ld_file {
    const char *path;
    char *buf;
    size_t len, pos;
    dev_t dev;
    ino_t ino;
    struct ld_file *parent;
} ld_file;

typedef struct ld_alias {
    char *name;
    size_t region;        /* index into out->regions */
} ld_alias;

typedef struct ld_loader {
    fs_memmap *out;
    const fs_ld_options *opts;
    fs_error *err;
    char *top_parent;     /* parent of the top-level script's directory */
    char **search;        /* SEARCH_DIRs seen so far */
    size_t nsearch;
    ld_alias *aliases;
    size_t naliases;
    size_t symcap;        /* allocated entries of out->symbols */
    size_t *index;        /* hash of out->symbols: slot holds index + 1 */
    size_t nindex;        /* slots, a power of two (or 0) */
    size_t total;         /* bytes read, includes and all */
    int depth;            /* INCLUDE depth of the file being read */
    char exmsg[512];      /* message from the last expression */
} ld_loader;

static int ld_statements(ld_loader *L, ld_file *f);
static int ld_memory_body(ld_loader *L, ld_file *f, size_t open);

/* ---- errors ------------------------------------------------------------ */

static int ld_line(const ld_file *f, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos && i < f->len; i++)
        line += f->buf[i] == '\n';
    return line;
}

/* Report "FILE:LINE: message" for the byte at pos.  Returns -1. */
LD_PRINTF(4, 5)
static int ld_error(ld_loader *L, const ld_file *f, size_t pos, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fs_fail(L->err, "%s:%d: %s", f->path, ld_line(f, pos), msg);
}

static int ld_unexpected(ld_loader *L, const ld_file *f, const char *where)
{
    char d[24];
    return ld_error(L, f, f->pos, "unexpected %s %s",
                    ld_describe(f->buf, f->len, f->pos, d, sizeof d), where);
}

/* ---- tokens ------------------------------------------------------------ */

static int ld_peek(const ld_file *f)
{
    return f->pos < f->len ? (unsigned char)f->buf[f->pos] : -1;
}

/* Skip white space and comments. */
static int ld_space(ld_loader *L, ld_file *f)
{
    while (f->pos < f->len) {
        if (ld_is_space((unsigned char)f->buf[f->pos])) {
            f->pos++;
        } else if (ld_is_comment(f->buf, f->len, f->pos)) {
            size_t end = ld_comment_end(f->buf, f->len, f->pos);
            if (!end)
                return ld_error(L, f, f->pos, "unterminated comment");
            f->pos = end;
        } else {
            break;
        }
    }
    return 0;
}

/* Expect the character c after white space. */
static int ld_expect(ld_loader *L, ld_file *f, int c, const char *where)
{
    char what[64];
    if (ld_space(L, f))
        return -1;
    if (ld_peek(f) == c) {
        f->pos++;
        return 0;
    }
    snprintf(what, sizeof what, "(expected '%c' %s)", c, where);
    return ld_unexpected(L, f, what);
}

/* A "string": sets *s and *n to its contents (no escapes in ld). */
static int ld_string(ld_loader *L, ld_file *f, const char **s, size_t *n)
{
    size_t start = f->pos;
    const char *q = memchr(f->buf + start + 1, '"', f->len - start - 1);
    if (!q)
        return ld_error(L, f, start, "unterminated string");
    *s = f->buf + start + 1;
    *n = (size_t)(q - *s);
    for (size_t i = 0; i < *n; i++)
        if (((unsigned char)(*s)[i] < 0x20 && !ld_is_space((unsigned char)(*s)[i])) ||
            (*s)[i] == 0x7f)
            return ld_error(L, f, start, "bad byte 0x%02x in string",
                            (unsigned char)(*s)[i]);
    f->pos = (size_t)(q - f->buf) + 1;
    return 0;
}

/* A name (symbol, region, keyword) or a quoted name, after white space.
 * *n is 0 if there is none. */
static int ld_name(ld_loader *L, ld_file *f, const char **s, size_t *n)
{
    *n = 0;
    if (ld_space(L, f))
        return -1;
    if (ld_peek(f) == '"')
        return ld_string(L, f, s, n);
    *s = f->buf + f->pos;
    while (f->pos < f->len && ld_is_name_char((unsigned char)f->buf[f->pos]))
        f->pos++, ++*n;
    return 0;
}

/* A file name: quoted, or a run of characters up to white space or
 * punctuation that cannot be part of one. */
static int ld_filename(ld_loader *L, ld_file *f, const char **s, size_t *n)
{
    if (ld_space(L, f))
        return -1;
    if (ld_peek(f) == '"')
        return ld_string(L, f, s, n);
    *s = f->buf + f->pos;
    *n = 0;
    while (f->pos < f->len) {
        int c = (unsigned char)f->buf[f->pos];
        if (ld_is_space(c) || ld_is_binary(c) || strchr(";,(){}\"", c) ||
            ld_is_comment(f->buf, f->len, f->pos))
            break;
        f->pos++, ++*n;
    }
    return 0;
}

static int ld_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Characters of ld's wildcard patterns such as `*extmod/` `*.o*(.text*)`
 * (written as one word in a script).  Right after one of these, ld's lexer
 * does not see "/" "*" as the start of a comment: it is part of the word. */
static int ld_is_wild_char(int c)
{
    return ld_is_name_char(c) || (c && strchr("*?-~\\:[]+!^/", c));
}

/* Skip a balanced (...) or {...} group starting at f->pos, honouring
 * comments and strings. */
static int ld_skip_group(ld_loader *L, ld_file *f)
{
    size_t open[LD_MAX_NEST];
    int depth = 0;

    while (f->pos < f->len) {
        int c = (unsigned char)f->buf[f->pos];
        if (ld_is_space(c) || (ld_is_comment(f->buf, f->len, f->pos) &&
                               !ld_is_wild_char((unsigned char)f->buf[f->pos - 1]))) {
            if (ld_space(L, f))
                return -1;
        } else if (c == '"') {
            const char *s;
            size_t n;
            if (ld_string(L, f, &s, &n))
                return -1;
        } else if (c == '(' || c == '{') {
            if (depth == LD_MAX_NEST)
                return ld_error(L, f, f->pos, "brackets nested more than %d deep", LD_MAX_NEST);
            open[depth++] = f->pos++;
        } else if (c == ')' || c == '}') {
            char want = f->buf[open[depth - 1]] == '(' ? ')' : '}';
            if (c != want)
                return ld_error(L, f, f->pos, "'%c' does not match '%c' on line %d", c,
                                f->buf[open[depth - 1]], ld_line(f, open[depth - 1]));
            f->pos++;
            if (--depth == 0)
                return 0;
        } else if (ld_is_binary(c)) {
            return ld_unexpected(L, f, "in script");
        } else {
            f->pos++;
        }
    }
    return ld_error(L, f, open[depth - 1], "'%c' is never closed", f->buf[open[depth - 1]]);
}

/* ---- expressions in a script ------------------------------------------- */

/* Index of region name (or of the region it aliases), or -1. */
static int ld_region_index(const ld_loader *L, const char *name)
{
    int r = fs_memmap_find(L->out, name);
    if (r >= 0)
        return r;
    for (size_t i = 0; i < L->naliases; i++)
        if (strcmp(L->aliases[i].name, name) == 0)
            return (int)L->aliases[i].region;
    return -1;
}

static size_t ld_hash(const char *s)
{
    size_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Index of the script symbol called name, or -1. */
static long ld_sym_find(const ld_loader *L, const char *name)
{
    if (!L->nindex)
        return -1;
    for (size_t i = ld_hash(name) & (L->nindex - 1);; i = (i + 1) & (L->nindex - 1)) {
        size_t k = L->index[i];
        if (k == 0)
            return -1;
        if (strcmp(L->out->symbols[k - 1].name, name) == 0)
            return (long)(k - 1);
    }
}

/* Value of a symbol: assigned in the script so far, else --defsym. */
static int ld_sym_value(const ld_loader *L, const char *name, uint64_t *v)
{
    long i = ld_sym_find(L, name);
    if (i >= 0) {
        *v = L->out->symbols[i].value;
        return 1;
    }
    if (L->opts)
        for (size_t j = 0; j < L->opts->ndefsyms; j++)
            if (L->opts->defsyms[j].name && strcmp(L->opts->defsyms[j].name, name) == 0) {
                *v = L->opts->defsyms[j].value;
                return 1;
            }
    return 0;
}

/* fs_expr_lookup for scripts. */
static int ld_lookup(void *ctx, const char *func, const char *name, uint64_t *value)
{
    const ld_loader *L = ctx;
    if (func && (strcmp(func, "ORIGIN") == 0 || strcmp(func, "LENGTH") == 0)) {
        int r = ld_region_index(L, name);
        if (r < 0)
            return -1;
        *value = func[0] == 'O' ? L->out->regions[r].origin : L->out->regions[r].length;
        return 0;
    }
    int found = ld_sym_value(L, name, value);
    if (func) { /* DEFINED */
        *value = (uint64_t)found;
        return 0;
    }
    return found ? 0 : -1;
}

/* Evaluate the expression at f->pos and move past it.  Returns EX_OK,
 * EX_UNKNOWN or EX_SYNTAX; the message is in L->exmsg, its offset in *at. */
static int ld_eval(ld_loader *L, ld_file *f, uint64_t *v, size_t *at)
{
    ld_expr e = {0};
    e.s = f->buf;
    e.len = f->len;
    e.pos = f->pos;
    e.lookup = ld_lookup;
    e.ctx = L;
    e.msg = L->exmsg;
    e.msglen = sizeof L->exmsg;
    L->exmsg[0] = '\0';
    *v = 0;
    ex_cond(&e, v);
    f->pos = e.pos;
    *at = e.errpos;
    return e.status;
}

/* ---- symbols ----------------------------------------------------------- */

static void ld_index_insert(ld_loader *L, size_t k)
{
    size_t i = ld_hash(L->out->symbols[k].name) & (L->nindex - 1);
    while (L->index[i])
        i = (i + 1) & (L->nindex - 1);
    L->index[i] = k + 1;
}

/* Keep the hash index at most half full. */
static int ld_index_grow(ld_loader *L)
{
    if (2 * (L->out->nsymbols + 1) <= L->nindex)
        return 0;
    size_t n = L->nindex ? 2 * L->nindex : 64;
    size_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    free(L->index);
    L->index = slots;
    L->nindex = n;
    for (size_t k = 0; k < L->out->nsymbols; k++)
        ld_index_insert(L, k);
    return 0;
}

/* Record name = v.  A PROVIDE does not replace an existing definition; a
 * plain assignment replaces the value but keeps the original position. */
static int ld_sym_set(ld_loader *L, ld_file *f, size_t at, const char *name, size_t n,
                      uint64_t v, int provide)
{
    char *z = strndup(name, n);
    uint64_t old;
    if (!z)
        return ld_error(L, f, at, "out of memory");
    long i = ld_sym_find(L, z);
    if (i >= 0 || (provide && ld_sym_value(L, z, &old))) {
        if (i >= 0 && !provide)
            L->out->symbols[i].value = v;
        free(z);
        return 0;
    }
    if (L->out->nsymbols >= FS_LD_MAX_SYMBOLS) {
        free(z);
        return ld_error(L, f, at, "more than %d symbol assignments", FS_LD_MAX_SYMBOLS);
    }
    if (L->out->nsymbols == L->symcap) {
        size_t cap = L->symcap ? 2 * L->symcap : 64;
        fs_ldsym *grown = realloc(L->out->symbols, cap * sizeof *grown);
        if (!grown) {
            free(z);
            return ld_error(L, f, at, "out of memory");
        }
        L->out->symbols = grown;
        L->symcap = cap;
    }
    if (ld_index_grow(L) != 0) {
        free(z);
        return ld_error(L, f, at, "out of memory");
    }
    L->out->symbols[L->out->nsymbols].name = z;
    L->out->symbols[L->out->nsymbols].value = v;
    ld_index_insert(L, L->out->nsymbols++);
    return 0;
}

/* The assignment operator at f->pos ("=", "+=", "<<=", ...): its length,
 * and the binary operator it applies (EX_NONE for plain "="); 0 if none. */
static size_t ld_assign_op(const ld_file *f, int *op)
{
    static const struct { const char *text; int op; } ops[] = {
        {"<<=", EX_SHL}, {">>=", EX_SHR}, {"+=", EX_ADD}, {"-=", EX_SUB},
        {"*=", EX_MUL}, {"/=", EX_DIV}, {"&=", EX_AND}, {"|=", EX_OR},
        {"^=", EX_XOR}, {"=", EX_NONE},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if (f->len - f->pos >= n && memcmp(f->buf + f->pos, ops[i].text, n) == 0 &&
            !(n == 1 && f->pos + 1 < f->len && f->buf[f->pos + 1] == '=')) {
            *op = ops[i].op;
            return n;
        }
    }
    return 0;
}

/* name OP expr, with f->pos at OP.  Values that need linking are skipped. */
static int ld_assignment(ld_loader *L, ld_file *f, const char *name, size_t n, size_t at,
                         int provide)
{
    int op;
    size_t oplen = ld_assign_op(f, &op), errat;
    uint64_t v, cur;

    f->pos += oplen;
    int st = ld_eval(L, f, &v, &errat);
    if (st == EX_SYNTAX)
        return ld_error(L, f, errat, "bad expression assigned to '%.*s': %s", (int)n, name,
                        L->exmsg);
    if (st != EX_OK || (n == 1 && name[0] == '.'))
        return 0;
    if (op != EX_NONE) {
        char *z = strndup(name, n);
        int known = z && ld_sym_value(L, z, &cur);
        free(z);
        if (!known || ex_fold(op, cur, v, &v) != 0)
            return 0;
    }
    return ld_sym_set(L, f, at, name, n, v, provide);
}

/* ---- statements -------------------------------------------------------- */

/* PROVIDE(name = expr), PROVIDE_HIDDEN(...), HIDDEN(...); f->pos after
 * the keyword. */
static int ld_provide(ld_loader *L, ld_file *f, int provide)
{
    const char *name;
    size_t n, at;
    int op;

    if (ld_expect(L, f, '(', "after PROVIDE") || ld_name(L, f, &name, &n))
        return -1;
    at = f->pos - n;
    if (n == 0)
        return ld_unexpected(L, f, "(expected a symbol name)");
    if (ld_space(L, f))
        return -1;
    if (ld_assign_op(f, &op) == 0)
        return ld_unexpected(L, f, "(expected '=')");
    if (ld_assignment(L, f, name, n, at, provide) || ld_expect(L, f, ')', "to close PROVIDE"))
        return -1;
    return 0;
}

/* REGION_ALIAS("alias", region); f->pos after the keyword. */
static int ld_region_alias(ld_loader *L, ld_file *f)
{
    const char *alias, *region;
    size_t an, rn, at;

    if (ld_expect(L, f, '(', "after REGION_ALIAS") || ld_name(L, f, &alias, &an))
        return -1;
    at = f->pos;
    if (an == 0)
        return ld_unexpected(L, f, "(expected an alias name)");
    if (ld_expect(L, f, ',', "after the alias") || ld_name(L, f, &region, &rn))
        return -1;
    if (rn == 0)
        return ld_unexpected(L, f, "(expected a region name)");
    if (ld_expect(L, f, ')', "to close REGION_ALIAS"))
        return -1;

    char *a = strndup(alias, an), *r = strndup(region, rn);
    int idx = -1, rc = 0;
    if (!a || !r)
        rc = ld_error(L, f, at, "out of memory");
    else if (ld_region_index(L, a) >= 0)
        rc = ld_error(L, f, at, "REGION_ALIAS: '%s' is already a memory region", a);
    else if ((idx = ld_region_index(L, r)) < 0)
        rc = ld_error(L, f, at, "REGION_ALIAS: memory region '%s' does not exist", r);
    else if (L->naliases >= FS_LD_MAX_REGIONS)
        rc = ld_error(L, f, at, "more than %d REGION_ALIASes", FS_LD_MAX_REGIONS);
    if (rc == 0) {
        ld_alias *grown = realloc(L->aliases, (L->naliases + 1) * sizeof *grown);
        if (!grown) {
            rc = ld_error(L, f, at, "out of memory");
        } else {
            L->aliases = grown;
            L->aliases[L->naliases].name = a;
            L->aliases[L->naliases++].region = (size_t)idx;
            a = NULL;
        }
    }
    free(a);
    free(r);
    return rc;
}

/* SEARCH_DIR(path); f->pos after the keyword. */
static int ld_search_dir(ld_loader *L, ld_file *f)
{
    const char *dir;
    size_t n, at;

    if (ld_expect(L, f, '(', "after SEARCH_DIR") || ld_filename(L, f, &dir, &n))
        return -1;
    at = f->pos;
    if (n == 0)
        return ld_unexpected(L, f, "(expected a directory)");
    if (ld_expect(L, f, ')', "to close SEARCH_DIR"))
        return -1;
    if (L->nsearch >= LD_MAX_SEARCH)
        return ld_error(L, f, at, "more than %d SEARCH_DIRs", LD_MAX_SEARCH);
    char **grown = realloc(L->search, (L->nsearch + 1) * sizeof *grown);
    if (!grown)
        return ld_error(L, f, at, "out of memory");
    L->search = grown;
    if (!(L->search[L->nsearch] = strndup(dir, n)))
        return ld_error(L, f, at, "out of memory");
    L->nsearch++;
    return 0;
}

/* ---- files and INCLUDE ------------------------------------------------- */

static char *ld_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static char *ld_join(const char *dir, const char *name)
{
    if (strcmp(dir, ".") == 0)
        return strdup(name);
    size_t d = strlen(dir), n = strlen(name);
    char *p = malloc(d + n + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, d);
    p[d] = '/';
    memcpy(p + d + 1, name, n + 1);
    return p;
}

/* The directory above the one holding path: "a/b/x.ld" -> "a", "x.ld" -> "..". */
static char *ld_parent_dir(const char *path)
{
    char *dir = ld_dirname(path), *parent;
    if (!dir)
        return NULL;
    const char *base = strrchr(dir, '/');
    base = base ? base + 1 : dir;
    if (strcmp(dir, "/") == 0)
        parent = strdup("/");
    else if (strcmp(dir, ".") == 0)
        parent = strdup("..");
    else if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        parent = ld_join(dir, "..");
    else
        parent = ld_dirname(dir);
    free(dir);
    return parent;
}

static int ld_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Try dir/name; on success *found takes the path.  Returns -1 on OOM. */
static int ld_try(const char *dir, const char *name, char **found)
{
    char *p = dir ? ld_join(dir, name) : strdup(name);
    if (!p)
        return -1;
    if (ld_exists(p))
        *found = p;
    else
        free(p);
    return 0;
}

/* Find an INCLUDE file in the documented order; *found is NULL if absent. */
static int ld_resolve(const ld_loader *L, const ld_file *f, const char *name, char **found)
{
    *found = NULL;
    if (name[0] == '/')
        return ld_try(NULL, name, found);
    char *dir = ld_dirname(f->path);
    if (!dir || ld_try(NULL, name, found) || (!*found && ld_try(dir, name, found)) ||
        (!*found && L->top_parent && ld_try(L->top_parent, name, found))) {
        free(dir);
        return -1;
    }
    free(dir);
    for (size_t i = 0; !*found && i < L->nsearch; i++)
        if (ld_try(L->search[i], name, found))
            return -1;
    for (size_t i = 0; L->opts && !*found && i < L->opts->nsearch_dirs; i++)
        if (L->opts->search_dirs[i] && ld_try(L->opts->search_dirs[i], name, found))
            return -1;
    return 0;
}

/* Report a problem with the file being opened: at the INCLUDE if there is
 * one, else against the file itself. */
LD_PRINTF(4, 5)
static int ld_open_error(ld_loader *L, const ld_file *from, size_t at, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (from)
        return ld_error(L, from, at, "%s", msg);
    return fs_fail(L->err, "%s", msg);
}

/* Read the whole of path into f->buf (NUL-terminated), within the limits. */
static int ld_read(ld_loader *L, ld_file *f, const ld_file *from, size_t at)
{
    const unsigned limit = FS_LD_MAX_FILE_BYTES;
    struct stat st;
    fs_error oe;
    int fd = fs_open_input(f->path, &st, &oe);
    if (fd < 0)
        return ld_open_error(L, from, at, "%s", oe.msg);
    if ((uint64_t)st.st_size > limit) {
        close(fd);
        return ld_open_error(L, from, at, "%s: script is larger than %u bytes", f->path, limit);
    }
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        close(fd);
        return ld_open_error(L, from, at, "%s: out of memory", f->path);
    }
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    /* One byte more than expected, to notice a file that grows or a pipe. */
    size_t cap = (size_t)st.st_size + 1;
    f->buf = malloc(cap + 1);
    if (!f->buf) {
        fclose(fp);
        return ld_open_error(L, from, at, "%s: out of memory", f->path);
    }
    f->len = fread(f->buf, 1, cap, fp);
    int bad = ferror(fp);
    fclose(fp);
    f->buf[f->len] = '\0';
    if (bad)
        return ld_open_error(L, from, at, "%s: read error", f->path);
    if (f->len > limit)
        return ld_open_error(L, from, at, "%s: script is larger than %u bytes", f->path, limit);
    L->total += f->len;
    if (L->total > limit)
        return ld_open_error(L, from, at, "%s: scripts and INCLUDEs add up to more than %u bytes",
                             f->path, limit);
    return 0;
}

/* Read the script at path, INCLUDEd from `from` at offset at (or the
 * top-level script if from is NULL), as statements or MEMORY entries. */
static int ld_load(ld_loader *L, const char *path, ld_file *from, size_t at, int kind)
{
    ld_file f = {0};
    int rc;

    f.path = path;
    f.parent = from;
    if (from && L->depth > FS_LD_MAX_INCLUDE_DEPTH)
        return ld_error(L, from, at, "INCLUDEs nested more than %d deep", FS_LD_MAX_INCLUDE_DEPTH);
    rc = ld_read(L, &f, from, at);
    for (const ld_file *p = from; rc == 0 && p; p = p->parent)
        if (p->dev == f.dev && p->ino == f.ino)
            rc = ld_error(L, from, at, "INCLUDE cycle: '%s' is already being read", path);
    if (rc == 0) {
        L->depth++;
        rc = kind == LD_MEMORY ? ld_memory_body(L, &f, (size_t)-1) : ld_statements(L, &f);
        L->depth--;
    }
    free(f.buf);
    return rc;
}

/* INCLUDE file; f->pos after the keyword. */
static int ld_include(ld_loader *L, ld_file *f, int kind)
{
    const char *s;
    size_t n, at;
    char *name, *path;

    if (ld_filename(L, f, &s, &n))
        return -1;
    at = f->pos;
    if (n == 0)
        return ld_unexpected(L, f, "(expected a file name after INCLUDE)");
    if (!(name = strndup(s, n)))
        return ld_error(L, f, at, "out of memory");
    if (ld_resolve(L, f, name, &path) != 0) {
        free(name);
        return ld_error(L, f, at, "out of memory");
    }
    int rc = path ? ld_load(L, path, f, at, kind)
                  : ld_error(L, f, at, "cannot find INCLUDE file '%s'", name);
    free(path);
    free(name);
    return rc;
}

/* ---- MEMORY ------------------------------------------------------------ */

/* "(rwx)" after a region name, into attrs (truncated to fit). */
static int ld_attributes(ld_loader *L, ld_file *f, char *attrs, size_t size)
{
    size_t n = 0;
    f->pos++; /* '(' */
    for (;;) {
        int c = ld_peek(f);
        if (c == ')') {
            f->pos++;
            break;
        }
        if (!ld_is_alpha(c) && c != '!' && !ld_is_space(c))
            return ld_unexpected(L, f, "in MEMORY attributes");
        if (!ld_is_space(c) && n + 1 < size)
            attrs[n++] = (char)c;
        f->pos++;
    }
    attrs[n] = '\0';
    return 0;
}

/* "ORIGIN = expr" or "LENGTH = expr" (or org/o/len/l): *which is 'O' or 'L'. */
static int ld_memory_spec(ld_loader *L, ld_file *f, const char *region, int *which, uint64_t *v)
{
    const char *kw;
    size_t n, at;

    if (ld_name(L, f, &kw, &n))
        return -1;
    if (ld_is(kw, n, "ORIGIN") || ld_is(kw, n, "org") || ld_is(kw, n, "o"))
        *which = 'O';
    else if (ld_is(kw, n, "LENGTH") || ld_is(kw, n, "len") || ld_is(kw, n, "l"))
        *which = 'L';
    else
        return 1; /* not a spec: the caller says what is missing */
    if (ld_expect(L, f, '=', "after ORIGIN/LENGTH"))
        return -1;
    int st = ld_eval(L, f, v, &at);
    if (st != EX_OK)
        return ld_error(L, f, at, "bad %s for MEMORY region '%s': %s",
                        *which == 'O' ? "ORIGIN" : "LENGTH", region, L->exmsg);
    return 0;
}

/* One entry "name [(attrs)] : ORIGIN = e, LENGTH = e"; the name is read. */
static int ld_region(ld_loader *L, ld_file *f, const char *s, size_t n, size_t at)
{
    char attrs[sizeof ((fs_region *)0)->attrs] = "";
    char name[256];
    uint64_t val[2] = {0, 0}, v;
    int have[2] = {0, 0};

    if (n >= sizeof name)
        return ld_error(L, f, at, "MEMORY region name longer than %zu characters", sizeof name - 1);
    memcpy(name, s, n);
    name[n] = '\0';
    if (ld_region_index(L, name) >= 0)
        return ld_error(L, f, at, "duplicate MEMORY region '%s'", name);
    if (ld_space(L, f))
        return -1;
    if (ld_peek(f) == '(' && ld_attributes(L, f, attrs, sizeof attrs))
        return -1;
    if (ld_expect(L, f, ':', "after MEMORY region name"))
        return -1;
    for (int i = 0; i < 2; i++) {
        int which = 0;
        int rc = ld_memory_spec(L, f, name, &which, &v);
        if (rc < 0)
            return -1;
        if (rc > 0 || have[which == 'L'])
            return ld_error(L, f, at, "MEMORY region '%s' has no %s", name,
                            have[0] ? "LENGTH" : "ORIGIN");
        have[which == 'L'] = 1;
        val[which == 'L'] = v;
        if (ld_space(L, f))
            return -1;
        if (ld_peek(f) == ',')
            f->pos++;
    }
    if (L->out->nregions >= FS_LD_MAX_REGIONS)
        return ld_error(L, f, at, "more than %d MEMORY regions", FS_LD_MAX_REGIONS);
    if (val[1] && val[0] > UINT64_MAX - (val[1] - 1))
        return ld_error(L, f, at,
                        "MEMORY region '%s' ends past the 64-bit address space (ORIGIN 0x%" PRIx64
                        " + LENGTH 0x%" PRIx64 ")",
                        name, val[0], val[1]);
    if (fs_memmap_add(L->out, name, val[0], val[1], attrs) < 0)
        return ld_error(L, f, at, "out of memory");
    return 0;
}

/* MEMORY entries up to the '}' (the '{' was at offset open) or, for a file
 * INCLUDEd inside MEMORY (open == -1), to the end of the file. */
static int ld_memory_body(ld_loader *L, ld_file *f, size_t open)
{
    for (;;) {
        const char *s;
        size_t n;
        if (ld_space(L, f))
            return -1;
        int c = ld_peek(f);
        if (c < 0) {
            if (open == (size_t)-1)
                return 0;
            return ld_error(L, f, open, "MEMORY block is never closed");
        }
        if (c == '}' && open != (size_t)-1) {
            f->pos++;
            return 0;
        }
        if (c == ',' || c == ';') {
            f->pos++;
            continue;
        }
        if (!ld_is_name_start(c))
            return ld_unexpected(L, f, "in MEMORY");
        size_t at = f->pos;
        if (ld_name(L, f, &s, &n))
            return -1;
        if (ld_is(s, n, "INCLUDE") ? ld_include(L, f, LD_MEMORY) : ld_region(L, f, s, n, at))
            return -1;
    }
}

/* ---- top level --------------------------------------------------------- */

/* One statement starting with the name s (already read, at offset at). */
static int ld_statement(ld_loader *L, ld_file *f, const char *s, size_t n, size_t at)
{
    int op;

    if (ld_is(s, n, "INCLUDE"))
        return ld_include(L, f, LD_SCRIPT);
    if (ld_space(L, f))
        return -1;
    if (ld_is(s, n, "MEMORY")) {
        size_t open = f->pos;
        if (ld_expect(L, f, '{', "after MEMORY"))
            return -1;
        return ld_memory_body(L, f, open);
    }
    if (ld_is(s, n, "PROVIDE") || ld_is(s, n, "PROVIDE_HIDDEN"))
        return ld_provide(L, f, 1);
    if (ld_is(s, n, "HIDDEN"))
        return ld_provide(L, f, 0);
    if (ld_is(s, n, "REGION_ALIAS"))
        return ld_region_alias(L, f);
    if (ld_is(s, n, "SEARCH_DIR"))
        return ld_search_dir(L, f);
    if (ld_assign_op(f, &op))
        return ld_assignment(L, f, s, n, at, 0);
    if (ld_peek(f) == '(' || ld_peek(f) == '{')
        return ld_skip_group(L, f); /* SECTIONS {...}, ENTRY(...), ... */
    return 0;                       /* a bare keyword: FORCE_COMMON_ALLOCATION, ... */
}

/* Statements to the end of the file. */
static int ld_statements(ld_loader *L, ld_file *f)
{
    for (;;) {
        const char *s;
        size_t n;
        if (ld_space(L, f))
            return -1;
        int c = ld_peek(f);
        if (c < 0)
            return 0;
        if (c == ';' || c == ',') {
            f->pos++;
            continue;
        }
        if (c != '"' && !ld_is_name_start(c))
            return ld_unexpected(L, f, "in script");
        size_t at = f->pos;
        if (ld_name(L, f, &s, &n) || ld_statement(L, f, s, n, at))
            return -1;
    }
}

int fs_ldscript_load(const char *path, const fs_ld_options *opts, fs_memmap *out, fs_error *err)
{
    ld_loader L;
    int rc;

    if (!path || !out)
        return fs_fail(err, "fs_ldscript_load: no script given");
    memset(&L, 0, sizeof L);
    L.out = out;
    L.opts = opts;
    L.err = err;
    L.symcap = out->nsymbols;
    L.top_parent = ld_parent_dir(path);
    if (!L.top_parent)
        rc = fs_fail(err, "%s: out of memory", path);
    else
        rc = ld_load(&L, path, NULL, 0, LD_SCRIPT);
    for (size_t i = 0; i < L.nsearch; i++)
        free(L.search[i]);
    for (size_t i = 0; i < L.naliases; i++)
        free(L.aliases[i].name);
    free(L.search);
    free(L.aliases);
    free(L.index);
    free(L.top_parent);
    return rc;
}

int fs_ldscript_load_regions(const char *path, const fs_ld_options *opts, fs_memmap *out, fs_error *err)
{
    if (fs_ldscript_load(path, opts, out, err) < 0)
        return -1;
    if (out->nregions == 0)
        return fs_fail(err, "%s: no MEMORY regions: the script (with what it INCLUDEs) has no MEMORY block", path);
    return 0;
}
