/*
 * dominators.h - the dominator tree of a directed graph.
 *
 * Node d dominates node v when every path from the root to v passes
 * through d; the immediate dominator of v is the closest such d.  The tree
 * is computed with the iterative algorithm of Cooper, Harvey and Kennedy
 * ("A Simple, Fast Dominance Algorithm", 2001): number the nodes in
 * reverse postorder of a depth-first search from the root, then repeat
 *     idom(v) = intersection of idom-chains of v's already-processed
 *               predecessors
 * in that order until nothing changes.  On the graphs of one firmware
 * (tens of thousands of nodes, mostly shallow) it converges in a few
 * passes and needs no more than the arrays below.
 *
 * The graph is given in compressed form (CSR): the successors of v are
 * succ[succ_off[v] .. succ_off[v + 1]), the predecessors likewise.  All
 * arrays are borrowed for the call.
 */
#ifndef FS_DOMINATORS_H
#define FS_DOMINATORS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

#define FS_DOM_NONE UINT32_MAX

typedef struct fs_domtree {
    uint32_t *idom;   /* n entries: immediate dominator; the root's is itself,
                         FS_DOM_NONE for nodes the root does not reach */
    uint32_t *rpo;    /* the reached nodes in reverse postorder, root first */
    size_t nrpo;
} fs_domtree;

/* Compute the dominator tree of the n-node graph from root.  On success
 * fills t (owned, free with fs_domtree_free) and returns 0; -1 only when
 * out of memory or the arguments are inconsistent (err says which). */
int fs_dominators(size_t n, const uint32_t *succ_off, const uint32_t *succ, const uint32_t *pred_off,
                  const uint32_t *pred, uint32_t root, fs_domtree *t, fs_error *err);
void fs_domtree_free(fs_domtree *t);

/* Does a dominate b?  (Walks b's idom chain; every node dominates itself.) */
int fs_dominates(const fs_domtree *t, uint32_t a, uint32_t b);

#endif
