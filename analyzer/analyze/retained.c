/*
 * retained.c - free and format the retained part of an analysis (the
 * numbers are computed by refgraph.c).
 */
#include "retained.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void fs_retained_free(fs_retained *r)
{
    for (size_t i = 0; r && i < r->nsyms; i++)
        free(r->syms[i].name), free(r->syms[i].section), free(r->syms[i].dominator);
    if (r)
        free(r->syms);
    if (r)
        memset(r, 0, sizeof *r);
}

json_t *fs_retained_json(const fs_retained *r)
{
    json_t *o = json_object(), *arr = json_array();
    if (!o || !arr) {
        json_decref(o), json_decref(arr);
        return NULL;
    }
    if (!r->computed) {
        json_object_set_new(o, "method", json_null());
        json_object_set_new(o, "skipped", json_string(r->note));
    } else {
        json_object_set_new(o, "method", json_string(r->method));
        json_object_set_new(o, "nodes", json_integer((json_int_t)r->nodes));
        json_object_set_new(o, "edges", json_integer((json_int_t)r->edges));
        json_object_set_new(o, "roots", json_integer((json_int_t)r->roots));
        json_object_set_new(o, "unreferenced", json_integer((json_int_t)r->unreferenced));
        json_object_set_new(o, "total", json_integer((json_int_t)r->total));
    }
    for (size_t i = 0; i < r->nsyms; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "name", json_string(r->syms[i].name));
        json_object_set_new(s, "size", json_integer((json_int_t)r->syms[i].size));
        json_object_set_new(s, "retained", json_integer((json_int_t)r->syms[i].retained));
        json_object_set_new(s, "section", json_string(r->syms[i].section));
        json_object_set_new(s, "dominator", r->syms[i].dominator ? json_string(r->syms[i].dominator) : json_null());
        json_array_append_new(arr, s);
    }
    json_object_set_new(o, "symbols", arr);
    return o;
}

int fs_retained_text(FILE *out, const fs_retained *r, size_t top)
{
    if (!r->computed) {
        fprintf(out, "\nLargest retained sizes: skipped (%s)\n", r->note);
        return ferror(out) ? -1 : 0;
    }
    size_t n = top && top < r->nsyms ? top : r->nsyms;
    fprintf(out, "\nLargest retained sizes (%zu; graph by %s, %zu nodes, %zu unreferenced roots)\n", n, r->method,
            r->nodes, r->unreferenced);
    fprintf(out, "  %10s %8s  %-16s %s\n", "retained", "size", "section", "symbol");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %10" PRIu64 " %8" PRIu64 "  %-16s %s\n", r->syms[i].retained, r->syms[i].size, r->syms[i].section,
                r->syms[i].name);
    return ferror(out) ? -1 : 0;
}
