/*
 * dominators.c - Cooper-Harvey-Kennedy iterative dominators (see
 * dominators.h for the idea).  The depth-first search is iterative with an
 * explicit stack, so deep call chains cannot overflow the C stack.
 */
#include "dominators.h"

#include <stdlib.h>

void fs_domtree_free(fs_domtree *t)
{
    free(t->idom);
    free(t->rpo);
    t->idom = t->rpo = NULL;
    t->nrpo = 0;
}

/* Postorder of the nodes reachable from root, written into order[]; returns
 * how many.  stack and next are scratch arrays of n entries. */
static size_t dom_postorder(size_t n, const uint32_t *succ_off, const uint32_t *succ, uint32_t root,
                            uint32_t *order, uint32_t *stack, uint32_t *next, uint8_t *seen)
{
    size_t depth = 0, count = 0;
    for (size_t i = 0; i < n; i++)
        next[i] = succ_off[i];
    stack[depth++] = root;
    seen[root] = 1;
    while (depth > 0) {
        uint32_t v = stack[depth - 1];
        if (next[v] < succ_off[v + 1]) {
            uint32_t w = succ[next[v]++];
            if (!seen[w]) {
                seen[w] = 1;
                stack[depth++] = w;
            }
            continue;
        }
        order[count++] = v;
        depth--;
    }
    return count;
}

/* The closest common dominator of a and b, walking by RPO number. */
static uint32_t dom_intersect(const uint32_t *idom, const uint32_t *num, uint32_t a, uint32_t b)
{
    while (a != b) {
        while (num[a] > num[b])
            a = idom[a];
        while (num[b] > num[a])
            b = idom[b];
    }
    return a;
}

int fs_dominators(size_t n, const uint32_t *succ_off, const uint32_t *succ, const uint32_t *pred_off,
                  const uint32_t *pred, uint32_t root, fs_domtree *t, fs_error *err)
{
    t->idom = t->rpo = NULL;
    t->nrpo = 0;
    if (n == 0 || root >= n || n >= FS_DOM_NONE)
        return fs_fail(err, "dominators: root %u outside a graph of %zu nodes", (unsigned)root, n);
    for (size_t i = 0; i < succ_off[n]; i++)
        if (succ[i] >= n)
            return fs_fail(err, "dominators: edge to node %u outside a graph of %zu nodes", (unsigned)succ[i], n);
    for (size_t i = 0; i < pred_off[n]; i++)
        if (pred[i] >= n)
            return fs_fail(err, "dominators: edge from node %u outside a graph of %zu nodes", (unsigned)pred[i], n);
    uint32_t *idom = malloc(n * sizeof *idom), *order = malloc(n * sizeof *order);
    uint32_t *num = malloc(n * sizeof *num), *stack = malloc(n * sizeof *stack);
    uint8_t *seen = calloc(n, 1);
    if (!idom || !order || !num || !stack || !seen) {
        free(idom), free(order), free(num), free(stack), free(seen);
        return fs_fail(err, "out of memory");
    }
    size_t count = dom_postorder(n, succ_off, succ, root, order, stack, num, seen);
    /* reverse into RPO; num[v] = position in RPO, FS_DOM_NONE if unreached */
    for (size_t i = 0; i < count / 2; i++) {
        uint32_t x = order[i];
        order[i] = order[count - 1 - i];
        order[count - 1 - i] = x;
    }
    for (size_t i = 0; i < n; i++) {
        num[i] = FS_DOM_NONE;
        idom[i] = FS_DOM_NONE;
    }
    for (size_t i = 0; i < count; i++)
        num[order[i]] = (uint32_t)i;
    idom[root] = root;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 1; i < count; i++) {
            uint32_t v = order[i], best = FS_DOM_NONE;
            for (uint32_t k = pred_off[v]; k < pred_off[v + 1]; k++) {
                uint32_t p = pred[k];
                if (idom[p] == FS_DOM_NONE)
                    continue; /* unreached or not yet processed */
                best = best == FS_DOM_NONE ? p : dom_intersect(idom, num, p, best);
            }
            if (best != idom[v]) {
                idom[v] = best;
                changed = 1;
            }
        }
    }
    free(num), free(stack), free(seen);
    t->idom = idom;
    t->rpo = order;
    t->nrpo = count;
    return 0;
}

int fs_dominates(const fs_domtree *t, uint32_t a, uint32_t b)
{
    if (t->idom[b] == FS_DOM_NONE)
        return 0;
    for (;;) {
        if (b == a)
            return 1;
        uint32_t up = t->idom[b];
        if (up == b)
            return 0;
        b = up;
    }
}
