/*
 * refgraph.h - the reference graph of a linked firmware ELF: which symbol
 * keeps which other symbol in the image, the dominator tree over it and
 * each symbol's retained size.  Answers "why is it in my firmware" and
 * "what do I cut" (flashsize why / top --retained / cut; docs/refgraph.md).
 *
 * Ideas:
 *   - Nodes are the sized FUNC/OBJECT symbols of allocated sections (an
 *     alias or a symbol inside another's bytes is the same node), plus a
 *     node for each run of bytes no symbol covers ("gap", e.g. merged
 *     strings).  In Xtensa code each word of a literal pool is its own node,
 *     so a literal is charged to the functions that load it.  A gap shorter
 *     than its section's alignment that ends aligned is the previous node's
 *     alignment padding and counts with it.
 *   - Edges come from four methods, each reported when it contributed:
 *       capstone        ARM/Thumb and x86-64 code: direct calls and branches
 *                       that leave the function, PC-relative (literal pool /
 *                       RIP-relative) loads and the words they load, and on
 *                       x86-64 absolute addresses in immediates and
 *                       displacements;
 *       xtensa-decoder  lx106 code: l32r (the literal and the word it
 *                       holds), call0, j, callx0 through an l32r'd register;
 *       relocations     relocation sections kept by ld --emit-relocs;
 *       data-scan       every aligned pointer-sized word of an allocated
 *                       data section (and of Xtensa literals) that falls in
 *                       a node (Thumb function pointers have bit 0 set).
 *   - Roots: the ELF entry point, every node of a vector-table section (name
 *     containing "vector"), of .init/.fini/.init_array/.fini_array/
 *     .preinit_array/.ctors/.dtors, and the names given (--root, board
 *     rules).  What none of them reaches was still kept by the linker for a
 *     reason the graph cannot see: such nodes become roots of kind
 *     "unreferenced" (first those nothing references, then the rest of any
 *     cycle, lowest address first).
 *   - A virtual node above all roots makes one tree; a node's retained size
 *     is the bytes of its dominator subtree: what disappears with it.
 *
 * Ownership: fs_refgraph owns its arrays; the image is borrowed and must
 * outlive the graph (names point into it).  Free with fs_refgraph_free.
 */
#ifndef FS_REFGRAPH_H
#define FS_REFGRAPH_H

#include <stdio.h>

#include <jansson.h>

#include "analyze.h"
#include "model.h"
#include "retained.h"

/* Versions of the JSON documents (docs/refgraph.md). */
#define FS_REFGRAPH_SCHEMA_VERSION 1

#define FS_REFGRAPH_NONE UINT32_MAX
#define FS_REFGRAPH_MAX_ROOT_NAMES 256
/* Limits on a graph's size (a real ESP8266 firmware has about 30,000 nodes
 * and 20,000 edges): past them the build fails with "PATH: ... more than N
 * nodes/edges" instead of growing without bound on a damaged file. */
#define FS_REFGRAPH_MAX_NODES (1u << 22)
#define FS_REFGRAPH_MAX_EDGES (1u << 24)

/* Methods that produced edges (bit set in fs_refgraph.methods). */
#define FS_REFGRAPH_CAPSTONE 1u
#define FS_REFGRAPH_XTENSA   2u
#define FS_REFGRAPH_RELOCS   4u
#define FS_REFGRAPH_DATASCAN 8u

typedef enum {
    FS_REF_CALL = 0,  /* direct call (bl, call0, callx0 via literal, call rel32) */
    FS_REF_BRANCH,    /* jump leaving the function (tail call, j, b.w) */
    FS_REF_LOAD,      /* literal-pool / PC-relative / absolute address use */
    FS_REF_POINTER,   /* a data word holding the address */
    FS_REF_RELOC      /* an --emit-relocs relocation */
} fs_ref_kind;

typedef enum {
    FS_ROOT_NONE = 0,
    FS_ROOT_ENTRY,        /* holds the ELF entry point */
    FS_ROOT_VECTOR,       /* in a vector-table section */
    FS_ROOT_KEPT,         /* in .init/.fini/.init_array/... */
    FS_ROOT_NAMED,        /* --root or the board's roots file */
    FS_ROOT_UNREFERENCED  /* kept by the linker, no reference found */
} fs_root_kind;

typedef enum { FS_RNODE_SYMBOL = 0, FS_RNODE_LITERAL, FS_RNODE_GAP } fs_rnode_kind;

typedef struct fs_rnode {
    const char *name;    /* symbol name (borrowed), NULL for literals and gaps */
    uint64_t addr, size; /* its bytes */
    uint64_t pad;        /* alignment padding after it, counted with it */
    int section;         /* index into img->sections */
    fs_rnode_kind kind;
    uint8_t sym_type;    /* STT_* of the symbol */
    bool thumb;          /* ARM: a Thumb function */
    bool grown;          /* Xtensa code whose end the decoder found (a FUNC without a size, or no symbol) */
    fs_root_kind root;
    uint32_t idom;       /* immediate dominator; FS_REFGRAPH_NONE = a root */
    uint64_t retained;   /* size + pad of every node it dominates, itself included */
} fs_rnode;

typedef struct fs_refgraph_opts {
    const char *const *roots; size_t nroots;      /* must exist (--root) */
    const char *const *soft_roots; size_t nsoft;  /* used when present (board rules) */
} fs_refgraph_opts;

typedef struct fs_refgraph {
    const fs_image *img;           /* borrowed */
    fs_rnode *nodes; size_t nnodes;
    /* Edges in CSR form over nnodes + 1 nodes (the last is the virtual root,
     * whose successors are the roots): successors of v are
     * succ[succ_off[v] .. succ_off[v+1]), with their kinds. */
    uint32_t *succ_off, *succ; uint8_t *succ_kind;
    uint32_t *pred_off, *pred;
    size_t nedges;                 /* without the virtual root's */
    unsigned methods;              /* FS_REFGRAPH_* bits */
    bool exact;                    /* edges from the link's relocations alone (--emit-relocs) */
    size_t nroots;
    size_t nroots_by_kind[FS_ROOT_UNREFERENCED + 1];
    uint32_t *rpo; size_t nrpo;    /* dominator-tree order, virtual root first */
    uint64_t total;                /* Σ size + pad over all nodes */
    /* address index for fs_refgraph_node_at: bucket k (addresses from
     * index_lo + (k << index_shift)) starts at node index_first[k], the
     * count of nodes at or below its first address; NULL: binary search */
    uint32_t *index_first; size_t nindex;
    uint64_t index_lo; unsigned index_shift;
} fs_refgraph;

/* Build the graph of img from the file bytes data[0..len) (borrowed for
 * the call).  Unknown --root names, truncated or inconsistent sections and
 * relocations are errors naming the file. */
int fs_refgraph_build(const fs_image *img, const uint8_t *data, size_t len, const fs_refgraph_opts *o,
                      fs_refgraph *g, fs_error *err);
/* The same, reading img->path. */
int fs_refgraph_build_file(const fs_image *img, const fs_refgraph_opts *o, fs_refgraph *g, fs_error *err);
void fs_refgraph_free(fs_refgraph *g);

/* Root names a board adds: DIR/roots/BOARD.txt, one symbol per line, "#"
 * starts a comment.  BOARD may be a board name or a path to its .ini (its
 * base name is used).  No file means no names (returns 0, *n = 0).
 * *names and its strings are malloc'd; free with fs_refgraph_names_free. */
int fs_refgraph_board_roots(const char *rules_dir, const char *board, char ***names, size_t *n, fs_error *err);
void fs_refgraph_names_free(char **names, size_t n);

/* The node of the symbol called name (or of an address written 0x...), or
 * FS_REFGRAPH_NONE. */
uint32_t fs_refgraph_find(const fs_refgraph *g, const char *name);
/* The node whose bytes (or padding) hold addr, or FS_REFGRAPH_NONE. */
uint32_t fs_refgraph_node_at(const fs_refgraph *g, uint64_t addr);
/* "name", or "[literal 0xADDR]" / "[.section+0xOFF]" for nameless nodes. */
const char *fs_refgraph_node_name(const fs_refgraph *g, uint32_t v, char *buf, size_t len);
/* Does a dominate b? */
int fs_refgraph_dominates(const fs_refgraph *g, uint32_t a, uint32_t b);

const char *fs_ref_kind_name(fs_ref_kind k);
const char *fs_root_kind_name(fs_root_kind k);
/* "capstone+data-scan" etc. into buf. */
const char *fs_refgraph_methods(unsigned methods, char *buf, size_t len);

/* Subtree sums of the dominator tree for per-node weights w[nnodes]:
 * out[v] = Σ w over the nodes v dominates.  out has nnodes entries. */
void fs_refgraph_subtree(const fs_refgraph *g, const uint64_t *w, uint64_t *out);

/* ---- why: shortest reference chains from the roots -------------------- */

typedef struct fs_refpath {
    uint32_t *nodes; size_t len;   /* root first, target last */
    uint8_t *via;                  /* via[i]: kind of the edge nodes[i-1] -> nodes[i] (via[0] unused) */
} fs_refpath;

/* Up to max shortest paths to target, one per root that reaches it,
 * shortest first (ties: lower root address).  *paths is malloc'd. */
int fs_refgraph_paths(const fs_refgraph *g, uint32_t target, size_t max, fs_refpath **paths, size_t *npaths,
                      fs_error *err);
void fs_refpaths_free(fs_refpath *paths, size_t n);

/* ---- cut: what to remove to fit a budget -------------------------------- */

/* What a proposal removes. */
typedef enum {
    FS_CUT_SYMBOL = 0,   /* a symbol node and everything it dominates */
    FS_CUT_MODULE,       /* a frozen module (fs_frozen) */
    FS_CUT_OBJECT,       /* an object file of the map file (not an archive member) */
    FS_CUT_MPMODULE      /* a MicroPython module object (mp_module_NAME) and what only it keeps */
} fs_cut_kind;

typedef struct fs_cut_item {
    fs_cut_kind kind;
    uint32_t node;       /* FS_CUT_SYMBOL, FS_CUT_MPMODULE: the node; else FS_REFGRAPH_NONE */
    const char *name;    /* borrowed: symbol name, module path or object path */
    uint64_t saved;      /* retained bytes in the region */
    uint64_t own;        /* of those, its own bytes (the rest: what only it keeps) */
    uint64_t retained;   /* retained bytes in every region */
} fs_cut_item;

typedef struct fs_cut {
    int region;          /* index into the report's map */
    uint64_t used, limit, need;
    fs_cut_item *items; size_t nitems;
    uint64_t saved;      /* Σ items[].saved */
    bool fits;           /* used - saved <= limit */
    size_t ncandidates[FS_CUT_MPMODULE + 1]; /* removable candidates of each kind */
    fs_cut_item *ranked; size_t nranked;   /* every removable candidate, by saved bytes */
} fs_cut;

/* Candidates besides symbols, all optional and borrowed (they must outlive
 * the fs_cut, whose names point into them). */
typedef struct fs_cut_sources {
    const struct fs_frozen *frozen;   /* frozen modules of the same image */
    const struct fs_mapfile *map;     /* the map file of the same link */
} fs_cut_sources;

/* Propose removals bringing region (of rep, whose sections the image's
 * fs_analyze run placed) under limit: while bytes are still needed, the
 * smallest candidate whose retained bytes in the region cover the rest,
 * else the largest; never a root, a nameless node, or a candidate whose
 * bytes overlap (contain, or lie inside) one already chosen.  Candidates
 * are symbol nodes, and with src the frozen modules (retained = the bytes
 * the frozen analysis charges to the module) and the map's objects
 * (retained = their input-section bytes plus every node that only they
 * keep reachable).  A group holding an entry, vector, kept-section or named
 * root is never proposed; "unreferenced" roots inside it go with it.
 * Listed largest first; cut->ranked lists every candidate (largest saving
 * first, then kind, then name).  src may be NULL. */
int fs_refgraph_cut_from(const fs_refgraph *g, const fs_report *rep, int region, uint64_t limit,
                         const fs_cut_sources *src, fs_cut *cut, fs_error *err);
/* The same with symbols only. */
int fs_refgraph_cut(const fs_refgraph *g, const fs_report *rep, int region, uint64_t limit, fs_cut *cut,
                    fs_error *err);
void fs_cut_free(fs_cut *cut);
const char *fs_cut_kind_name(fs_cut_kind k);

/* ---- retained sizes for the whole analysis ------------------------------ */

/* Build the graph of img (file bytes data[0..len), or read img->path when
 * data is NULL) with the names of o as soft roots, and keep the top symbols
 * by retained size.  An image without a symbol table, with more than
 * FS_RETAINED_MAX_SYMBOLS symbols, or whose graph cannot be built gives
 * computed = false with the reason in note, and returns 0: the rest of an
 * analysis does not depend on it.  -1 only when out of memory. */
int fs_retained_compute(const fs_image *img, const uint8_t *data, size_t len, const fs_refgraph_opts *o, size_t top,
                        fs_retained *out, fs_error *err);
/* fs_retained_compute for a whole analysis (an fs_retained_fn): the board's
 * roots file as soft roots, the top FS_RETAINED_TOP symbols. */
int fs_retained_for_analysis(const fs_image *img, const uint8_t *data, size_t len, const char *rules_dir,
                             const char *board, fs_retained *out, fs_error *err);

/* ---- outputs ------------------------------------------------------------ */

/* Symbols by retained size, largest first: schema "flashsize-refgraph-top".
 * top = 0 lists every symbol node.  The hook for the dashboard and the PR
 * comment.  NULL when out of memory. */
json_t *fs_refgraph_top_json(const fs_refgraph *g, size_t top);
int fs_refgraph_top_text(FILE *out, const fs_refgraph *g, size_t top);
/* schema "flashsize-refgraph-why" */
json_t *fs_refgraph_why_json(const fs_refgraph *g, uint32_t target, const fs_refpath *paths, size_t npaths);
int fs_refgraph_why_text(FILE *out, const fs_refgraph *g, uint32_t target, const fs_refpath *paths, size_t npaths);
/* schema "flashsize-refgraph-cut" */
/* ranked: how many of cut->ranked to list (0 = all). */
json_t *fs_refgraph_cut_json(const fs_refgraph *g, const fs_report *rep, const fs_cut *cut, size_t ranked);
int fs_refgraph_cut_text(FILE *out, const fs_refgraph *g, const fs_report *rep, const fs_cut *cut, size_t ranked);

#endif
