/*
 * symtab.c - symbol tables as C records (symtab.h).
 */
#include "symtab.h"

#include "document.h"

#include <stdlib.h>
#include <string.h>

#define SYMTAB_BLOCK 16384

struct fs_symtab_block {
    fs_symtab_block *next;
    size_t used, cap;
    char text[];
};

void fs_symtab_free(fs_symtab *t)
{
    if (!t)
        return;
    for (fs_symtab_block *b = t->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(t->v);
    free(t->by_name);
    memset(t, 0, sizeof *t);
}

fs_sym *fs_symtab_add(fs_symtab *t)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        fs_sym *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return NULL;
        t->v = v;
        t->cap = cap;
    }
    fs_sym *s = &t->v[t->n++];
    memset(s, 0, sizeof *s);
    return s;
}

const char *fs_symtab_strdup(fs_symtab *t, const char *s, size_t n)
{
    fs_symtab_block *b = t->blocks;
    if (!b || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > SYMTAB_BLOCK ? n + 1 : SYMTAB_BLOCK;
        if (!(b = malloc(sizeof *b + cap)))
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = t->blocks;
        t->blocks = b;
    }
    char *p = b->text + b->used;
    memcpy(p, s, n);
    p[n] = '\0';
    b->used += n + 1;
    return p;
}

static int sym_name_cmp(const void *a, const void *b)
{
    const fs_sym *x = *(const fs_sym *const *)a, *y = *(const fs_sym *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x < y ? -1 : x > y); /* stable: the document's order */
}

int fs_symtab_index(fs_symtab *t)
{
    free(t->by_name);
    if (!(t->by_name = malloc((t->n + 1) * sizeof *t->by_name)))
        return -1;
    for (size_t i = 0; i < t->n; i++)
        t->by_name[i] = &t->v[i];
    if (t->n > 1)
        qsort(t->by_name, t->n, sizeof *t->by_name, sym_name_cmp);
    return 0;
}

const fs_sym *fs_symtab_find(const fs_symtab *t, const char *name)
{
    size_t lo = 0, hi = t->by_name ? t->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->by_name[mid]->name, name);
        if (c == 0) {
            while (mid > 0 && strcmp(t->by_name[mid - 1]->name, name) == 0)
                mid--;
            return t->by_name[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int fs_symtab_from_json(fs_symtab *t, const json_t *symbols)
{
    memset(t, 0, sizeof *t);
    size_t n = json_array_size(symbols);
    if (!(t->v = malloc((n + 1) * sizeof *t->v)))
        return -1;
    t->cap = n + 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(symbols, i);
        fs_sym *s = &t->v[t->n++];
        s->name = json_string_value(json_object_get(e, "name"));
        s->type = json_string_value(json_object_get(e, "type"));
        s->bind = json_string_value(json_object_get(e, "bind"));
        s->section = json_string_value(json_object_get(e, "section"));
        s->address = s->size = 0;
        fs_json_u64(json_object_get(e, "address"), &s->address);
        fs_json_u64(json_object_get(e, "size"), &s->size);
        if (!s->name)
            s->name = ""; /* not validated (a unit test's document): never NULL */
    }
    if (fs_symtab_index(t) < 0) {
        fs_symtab_free(t);
        return -1;
    }
    return 0;
}
