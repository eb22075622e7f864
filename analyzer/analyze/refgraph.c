/*
 * refgraph.c - the reference graph, its dominator tree, retained sizes,
 * shortest chains and cut proposals (ideas and ownership: refgraph.h).
 *
 * Building runs in steps, each a small function:
 *   nodes     sized symbols, gaps, Xtensa literal words, padding
 *   edges     capstone / Xtensa decoder over function bytes, data words,
 *             --emit-relocs relocations; sorted and deduplicated into CSR
 *   roots     entry, vectors, kept sections, names; then "unreferenced"
 *   tree      dominators.c from a virtual root above the roots, subtree sums
 *
 * The Xtensa decoder (lx106, little-endian, code density option):
 *   length    op0 = bits 0..3 of the first byte; op0 >= 8 is a 2-byte
 *             (narrow) instruction, anything else 3 bytes.
 *   l32r      op0 = 1, t = bits 4..7, imm16 = bits 8..23; the literal is at
 *             ((PC + 3) & ~3) + ((0xFFFF0000 | imm16) << 2), 32-bit
 *             arithmetic: always below the instruction.
 *   call0     op0 = 5, n = bits 4..5 = 0, offset = bits 6..23 signed;
 *             target = (PC & ~3) + (offset << 2) + 4.
 *   j         op0 = 6, n = 0, offset = bits 6..23 signed; target = PC + 4 + offset.
 *   callx0    op0 = 0, bits 4..7 = 0xC, s = bits 8..11, bits 12..23 = 0;
 *             resolved when register s was last loaded by an l32r in the
 *             same function: a call to the word that literal holds.
 * The sweep (fs_xt_walk, pcrel.h, shared with literals.c) is linear over
 * each function's bytes.  gas pads branch targets
 * with zero bytes after an instruction that never falls through (j, jx,
 * ret, ret.n); up to 3 such bytes are skipped there.  Other filler could
 * still desynchronise the sweep for a few bytes, so every target is only
 * used when it lands in a node of the image (a call0/j target must also
 * start one).
 */
#include "refgraph.h"

#include "dominators.h"
#include "elfread.h"
#include "frozen.h"
#include "mapfile.h"
#include "literals.h"
#include "pcrel.h"

#include <capstone/capstone.h>
#include <elf.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>

/* ---- small helpers -------------------------------------------------------- */

typedef struct rg_edge {
    uint32_t from, to;
    uint8_t kind;
} rg_edge;

typedef struct rg_builder {
    const fs_image *img;
    const uint8_t *data;
    size_t len;
    fs_refgraph *g;
    fs_error *err;
    rg_edge *e;
    size_t ne, cap;
    int oom;
    uint8_t *loaded;      /* Xtensa: per node, an l32r loads it */
    uint32_t *work;       /* Xtensa: code without a symbol that a call reaches */
    size_t nwork;
} rg_builder;

const char *fs_ref_kind_name(fs_ref_kind k)
{
    static const char *const names[] = {"call", "branch", "load", "pointer", "reloc"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

const char *fs_root_kind_name(fs_root_kind k)
{
    static const char *const names[] = {"", "entry", "vector", "kept-section", "named", "unreferenced"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

const char *fs_refgraph_methods(unsigned methods, char *buf, size_t len)
{
    static const char *const names[] = {"capstone", "xtensa-decoder", "relocations", "data-scan"};
    size_t off = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < 4; i++)
        if (methods & (1u << i)) {
            int n = snprintf(buf + off, len - off, "%s%s", off ? "+" : "", names[i]);
            if (n < 0 || (size_t)n >= len - off)
                break;
            off += (size_t)n;
        }
    if (off == 0)
        snprintf(buf, len, "none");
    return buf;
}


/* qsort, but not on an empty or one-element array: an empty graph has NULL
 * arrays, and qsort(NULL, 0, ...) is undefined behaviour. */
static void rg_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

static void rg_add_edge(rg_builder *b, uint32_t from, uint32_t to, fs_ref_kind kind)
{
    if (from == FS_REFGRAPH_NONE || to == FS_REFGRAPH_NONE || from == to || b->oom)
        return;
    if (b->ne >= FS_REFGRAPH_MAX_EDGES) {
        b->oom = 2; /* the limit, not the allocator */
        return;
    }
    if (b->ne == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        rg_edge *e = realloc(b->e, cap * sizeof *e);
        if (!e) {
            b->oom = 1;
            return;
        }
        b->e = e;
        b->cap = cap;
    }
    b->e[b->ne++] = (rg_edge){from, to, (uint8_t)kind};
}

/* The address index: about 4 buckets per node over the nodes' span. */
static int rg_index(fs_refgraph *g)
{
    free(g->index_first);
    g->index_first = NULL;
    g->nindex = 0;
    if (g->nnodes < 64)
        return 0;
    uint64_t lo = g->nodes[0].addr, hi = g->nodes[g->nnodes - 1].addr + 1;
    unsigned shift = 0;
    while (((hi - lo) >> shift) >= 4 * (uint64_t)g->nnodes)
        shift++;
    size_t n = (size_t)((hi - lo) >> shift) + 2;
    uint32_t *first = malloc(n * sizeof *first);
    if (!first)
        return -1;
    size_t v = 0;
    for (size_t k = 0; k < n; k++) {
        uint64_t start = lo + ((uint64_t)k << shift);
        while (v < g->nnodes && g->nodes[v].addr <= start)
            v++;
        first[k] = (uint32_t)v;
    }
    g->index_first = first;
    g->nindex = n;
    g->index_lo = lo;
    g->index_shift = shift;
    return 0;
}

uint32_t fs_refgraph_node_at(const fs_refgraph *g, uint64_t addr)
{
    size_t lo = 0, hi = g->nnodes;
    if (g->index_first && addr < g->index_lo)
        return FS_REFGRAPH_NONE; /* below every node: most data words are small numbers */
    if (g->index_first) {
        uint64_t k = (addr - g->index_lo) >> g->index_shift;
        if (k + 1 < g->nindex) { /* the answer lies between the bucket's first node and the next bucket's */
            lo = g->index_first[k];
            hi = g->index_first[k + 1];
            if (hi - lo <= 8) {
                while (lo < hi && g->nodes[lo].addr <= addr)
                    lo++;
                hi = lo;
            }
        } else {
            lo = g->index_first[g->nindex - 1];
        }
    }
    while (lo < hi) { /* first node with addr > addr */
        size_t mid = lo + (hi - lo) / 2;
        if (g->nodes[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return FS_REFGRAPH_NONE;
    const fs_rnode *n = &g->nodes[lo - 1];
    return addr - n->addr < n->size + n->pad ? (uint32_t)(lo - 1) : FS_REFGRAPH_NONE;
}

/* The node a code address names: for Thumb, bit 0 only says "Thumb". */
static uint32_t rg_code_target(const fs_refgraph *g, uint64_t addr)
{
    uint32_t v = fs_refgraph_node_at(g, addr);
    if (v == FS_REFGRAPH_NONE && g->img->machine == EM_ARM)
        v = fs_refgraph_node_at(g, addr & ~(uint64_t)1);
    return v;
}

/* The file bytes of an allocated section with contents, or NULL. */
static const uint8_t *rg_section_bytes(rg_builder *b, const fs_section *s)
{
    if (s->type == SHT_NOBITS || s->size == 0)
        return NULL;
    if (s->offset > b->len || s->size > b->len - s->offset) {
        fs_fail(b->err, "%s: section %s data lies past end of file", b->img->path, s->name);
        return NULL;
    }
    return b->data + s->offset;
}

static uint64_t rg_get(const fs_image *img, const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)p[img->big_endian ? size - 1 - i : i] << (8 * i);
    return v;
}

/* Read a size-byte word at addr from a section with contents; 0 / -1. */
static int rg_read(rg_builder *b, uint64_t addr, unsigned size, uint64_t *out)
{
    uint32_t v = fs_refgraph_node_at(b->g, addr);
    if (v == FS_REFGRAPH_NONE)
        return -1;
    const fs_section *s = &b->img->sections[b->g->nodes[v].section];
    if (s->type == SHT_NOBITS || addr < s->addr || addr - s->addr + size > s->size ||
        s->offset + s->size > b->len)
        return -1;
    *out = rg_get(b->img, b->data + s->offset + (addr - s->addr), size);
    return 0;
}

/* ---- nodes ----------------------------------------------------------------- */

static uint64_t rg_sym_addr(const fs_image *img, const fs_symbol *s)
{
    return img->machine == EM_ARM && s->type == STT_FUNC ? s->value & ~(uint64_t)1 : s->value;
}

/* A symbol that becomes a node: sized symbols, and code or object symbols
 * without a size (assembler: libgcc's soft-float, start code, an stm32
 * vector table g_pfnVectors), which run to the next symbol. */
typedef struct rg_cand {
    const char *name;
    uint64_t addr, size;
    int section;
    uint8_t type, bind;
    bool thumb;
} rg_cand;

static int rg_cand_cmp(const void *pa, const void *pb)
{
    const rg_cand *a = pa, *b = pb;
    if (a->section != b->section)
        return a->section < b->section ? -1 : 1;
    if (a->addr != b->addr)
        return a->addr < b->addr ? -1 : 1;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    if ((a->bind == STB_GLOBAL) != (b->bind == STB_GLOBAL))
        return a->bind == STB_GLOBAL ? -1 : 1;
    return strcmp(a->name, b->name);
}

static int rg_node_cmp(const void *pa, const void *pb)
{
    const fs_rnode *a = pa, *b = pb;
    if (a->addr != b->addr)
        return a->addr < b->addr ? -1 : 1;
    return a->section - b->section;
}

static int rg_push_node(rg_builder *b, size_t *cap, fs_rnode n)
{
    fs_refgraph *g = b->g;
    if (g->nnodes >= FS_REFGRAPH_MAX_NODES)
        return fs_fail(b->err, "%s: the reference graph would have more than %u nodes (damaged symbols or sections?)",
                       b->img->path, FS_REFGRAPH_MAX_NODES);
    if (g->nnodes == *cap) {
        size_t c = *cap ? *cap * 2 : 256;
        fs_rnode *p = realloc(g->nodes, c * sizeof *p);
        if (!p)
            return fs_fail(b->err, "%s: out of memory", b->img->path);
        g->nodes = p;
        *cap = c;
    }
    n.idom = FS_REFGRAPH_NONE;
    g->nodes[g->nnodes++] = n;
    return 0;
}

/* Is s a symbol that becomes a node?  Its bytes must lie in its section;
 * a FUNC symbol without a size must lie in an executable section. */
static int rg_sym_usable(const fs_image *img, const fs_symbol *s)
{
    if ((s->type != STT_FUNC && s->type != STT_OBJECT) || s->section < 0 || (size_t)s->section >= img->nsections)
        return 0;
    const fs_section *sec = &img->sections[s->section];
    uint64_t a = rg_sym_addr(img, s);
    if (s->size == 0) /* Xtensa: rg_xtensa_sizeless() */
        return img->machine != EM_XTENSA && (s->type == STT_OBJECT || (sec->flags & SHF_EXECINSTR)) &&
               (sec->flags & SHF_ALLOC) && a >= sec->addr && a < sec->addr + sec->size;
    return (sec->flags & SHF_ALLOC) && a >= sec->addr && a - sec->addr <= sec->size &&
           s->size <= sec->size - (a - sec->addr);
}

/* Are the bytes [start, end) of s all zero?  Literal words of Xtensa code
 * can sit in what looks like alignment padding (the pool of the next
 * function, or a whole object's pool when it was built without
 * -ffunction-sections), so only zero bytes are padding there. */
static int rg_zero_bytes(const rg_builder *b, const fs_section *s, uint64_t start, uint64_t end)
{
    if (s->type == SHT_NOBITS)
        return 1;
    if (s->offset > b->len || s->size > b->len - s->offset)
        return 0;
    for (uint64_t a = start; a < end; a++)
        if (b->data[s->offset + (a - s->addr)])
            return 0;
    return 1;
}

/* The bytes [start, end) of section si that no symbol covers; prev is the
 * node just before in the same section or -1. */
static int rg_gap(rg_builder *b, size_t *cap, int si, uint64_t start, uint64_t end, long prev)
{
    const fs_section *s = &b->img->sections[si];
    uint64_t align = s->align < 4 ? 4 : s->align > 16 ? 16 : s->align;
    fs_refgraph *g = b->g;
    int xtensa_code = b->img->machine == EM_XTENSA && (s->flags & SHF_EXECINSTR);
    if (prev >= 0 && end - start < align && (end % align == 0 || end == s->addr + s->size) &&
        (!xtensa_code || rg_zero_bytes(b, s, start, end))) {
        g->nodes[prev].pad += end - start;
        return 0;
    }
    /* Literal words are split out of code only where the file holds the
     * bytes: a NOBITS section (or one past the end of the file) has none to
     * decode, whatever size its header claims. */
    int has_bytes = s->type != SHT_NOBITS && s->offset <= b->len && s->size <= b->len - s->offset;
    if (xtensa_code && has_bytes) {
        size_t before = g->nnodes;
        uint64_t head = (4 - start % 4) % 4;
        if (head > end - start)
            head = end - start;
        if (head && prev >= 0) {
            g->nodes[prev].pad += head;
            start += head;
        } else if (head) {
            if (rg_push_node(b, cap, (fs_rnode){.addr = start, .size = head, .section = si, .kind = FS_RNODE_GAP}) < 0)
                return -1;
            start += head;
        }
        for (; end - start >= 4; start += 4)
            if (rg_push_node(b, cap, (fs_rnode){.addr = start, .size = 4, .section = si, .kind = FS_RNODE_LITERAL}) < 0)
                return -1;
        if (start == end)
            return 0;
        /* the last 1-3 bytes: padding of the node just pushed, else of prev,
         * else a gap node of their own */
        if (g->nnodes > before)
            g->nodes[g->nnodes - 1].pad += end - start;
        else if (prev >= 0)
            g->nodes[prev].pad += end - start;
        else
            return rg_push_node(b, cap, (fs_rnode){.addr = start, .size = end - start, .section = si, .kind = FS_RNODE_GAP});
        return 0;
    }
    return rg_push_node(b, cap, (fs_rnode){.addr = start, .size = end - start, .section = si, .kind = FS_RNODE_GAP});
}

/* The nodes come in runs, one per section, each in address order: order
 * the runs by their first address (sections do not overlap; if they do,
 * a full sort). */
typedef struct rg_run {
    size_t start, n;
} rg_run;

static int rg_run_cmp(const void *pa, const void *pb, void *ctx)
{
    const rg_run *a = pa, *b = pb;
    const fs_refgraph *g = ctx;
    return rg_node_cmp(&g->nodes[a->start], &g->nodes[b->start]);
}

static int rg_sort_runs(fs_refgraph *g)
{
    size_t nruns = 0;
    for (size_t v = 0; v < g->nnodes; v++)
        nruns += v == 0 || g->nodes[v].section != g->nodes[v - 1].section;
    if (nruns < 2)
        return 0;
    rg_run *runs = malloc(nruns * sizeof *runs);
    fs_rnode *out = malloc(g->nnodes * sizeof *out);
    if (!runs || !out) {
        free(runs), free(out);
        return -1;
    }
    size_t k = 0;
    for (size_t v = 0; v < g->nnodes; v++) {
        if (v == 0 || g->nodes[v].section != g->nodes[v - 1].section)
            runs[k++] = (rg_run){v, 0};
        runs[k - 1].n++;
    }
    qsort_r(runs, nruns, sizeof *runs, rg_run_cmp, g);
    size_t o = 0;
    int overlap = 0;
    for (size_t r = 0; r < nruns; r++) {
        memcpy(out + o, g->nodes + runs[r].start, runs[r].n * sizeof *out);
        if (o && out[o].addr < out[o - 1].addr + out[o - 1].size + out[o - 1].pad)
            overlap = 1;
        o += runs[r].n;
    }
    free(g->nodes);
    g->nodes = out;
    free(runs);
    if (overlap)
        rg_qsort(g->nodes, g->nnodes, sizeof *g->nodes, rg_node_cmp);
    return 0;
}

static int rg_nodes(rg_builder *b)
{
    const fs_image *img = b->img;
    rg_cand *c = malloc((img->nsymbols + 1) * sizeof *c);
    size_t n = 0, cap = 0;
    if (!c)
        return fs_fail(b->err, "%s: out of memory", img->path);
    for (size_t i = 0; i < img->nsymbols; i++) {
        const fs_symbol *sym = &img->symbols[i];
        if (rg_sym_usable(img, sym))
            c[n++] = (rg_cand){sym->name, rg_sym_addr(img, sym), sym->size, sym->section, sym->type, sym->bind,
                               img->machine == EM_ARM && sym->type == STT_FUNC && (sym->value & 1)};
    }
    rg_qsort(c, n, sizeof *c, rg_cand_cmp);
    /* a code symbol without a size runs to the next symbol's start (or the
     * section's end); it then sorts after the sized ones at its address */
    size_t sizeless = 0;
    for (size_t k = 0; k < n; k++) {
        if (c[k].size)
            continue;
        sizeless++;
        const fs_section *s = &img->sections[c[k].section];
        uint64_t end = s->addr + s->size;
        for (size_t j = k + 1; j < n && c[j].section == c[k].section; j++)
            if (c[j].addr > c[k].addr) {
                end = c[j].addr;
                break;
            }
        c[k].size = end - c[k].addr;
    }
    if (sizeless)
        rg_qsort(c, n, sizeof *c, rg_cand_cmp);
    int rc = 0;
    size_t k = 0;
    for (size_t si = 0; rc == 0 && si < img->nsections; si++) {
        const fs_section *s = &img->sections[si];
        while (k < n && (size_t)c[k].section < si)
            k++;
        if (!(s->flags & SHF_ALLOC) || s->size == 0)
            continue;
        uint64_t cursor = s->addr;
        long prev = -1;
        for (; rc == 0 && k < n && (size_t)c[k].section == si; k++) {
            uint64_t a = c[k].addr;
            if (a < cursor)
                continue; /* an alias, or a symbol inside the previous one */
            if (a > cursor)
                rc = rg_gap(b, &cap, (int)si, cursor, a, prev);
            if (rc == 0)
                rc = rg_push_node(b, &cap, (fs_rnode){.name = c[k].name, .addr = a, .size = c[k].size,
                                                     .section = (int)si, .kind = FS_RNODE_SYMBOL,
                                                     .sym_type = c[k].type, .thumb = c[k].thumb});
            prev = (long)b->g->nnodes - 1;
            cursor = a + c[k].size;
        }
        if (rc == 0 && cursor < s->addr + s->size)
            rc = rg_gap(b, &cap, (int)si, cursor, s->addr + s->size, prev);
    }
    free(c);
    /* each section's nodes are in order already: sort section runs, as whole blocks */
    if (rc == 0 && rg_sort_runs(b->g) < 0)
        rc = fs_fail(b->err, "%s: out of memory", img->path);
    if (rc == 0 && rg_index(b->g) < 0)
        rc = fs_fail(b->err, "%s: out of memory", img->path);
    return rc;
}

/* ---- edges: capstone (ARM/Thumb, x86-64) ------------------------------------ */

static void rg_arm_insn(rg_builder *b, uint32_t self, const cs_insn *in, int thumb)
{
    const cs_arm *arm = &in->detail->arm;
    for (uint8_t i = 0; i < arm->op_count; i++) {
        const cs_arm_op *op = &arm->operands[i];
        if (op->type == ARM_OP_IMM &&
            (in->id == ARM_INS_BL || in->id == ARM_INS_BLX || in->id == ARM_INS_B)) {
            uint32_t t = rg_code_target(b->g, (uint32_t)op->imm);
            if (t != self)
                rg_add_edge(b, self, t, in->id == ARM_INS_B ? FS_REF_BRANCH : FS_REF_CALL);
        } else if (op->type == ARM_OP_MEM && op->mem.base == ARM_REG_PC && op->mem.index == ARM_REG_INVALID) {
            int64_t disp = op->mem.disp;
            if (op->subtracted && disp > 0)
                disp = -disp;
            uint64_t lit = ((in->address + (thumb ? 4 : 8)) & ~(uint64_t)3) + (uint64_t)disp;
            lit &= 0xffffffffu;
            rg_add_edge(b, self, fs_refgraph_node_at(b->g, lit), FS_REF_LOAD);
            uint64_t word;
            if (in->id == ARM_INS_LDR && rg_read(b, lit, 4, &word) == 0)
                rg_add_edge(b, self, rg_code_target(b->g, word), FS_REF_LOAD);
        }
    }
}

static void rg_x86_insn(rg_builder *b, uint32_t self, const cs_insn *in)
{
    const cs_x86 *x = &in->detail->x86;
    int branch = in->id == X86_INS_CALL || in->id == X86_INS_JMP ||
                 (in->detail->groups_count && cs_insn_group(0, in, CS_GRP_JUMP));
    for (uint8_t i = 0; i < x->op_count; i++) {
        const cs_x86_op *op = &x->operands[i];
        uint64_t target;
        fs_ref_kind kind = FS_REF_LOAD;
        if (op->type == X86_OP_IMM) {
            target = (uint64_t)op->imm;
            if (branch)
                kind = in->id == X86_INS_CALL ? FS_REF_CALL : FS_REF_BRANCH;
        } else if (op->type == X86_OP_MEM && op->mem.base == X86_REG_RIP) {
            target = in->address + in->size + (uint64_t)op->mem.disp;
        } else if (op->type == X86_OP_MEM && op->mem.segment == X86_REG_INVALID) {
            target = (uint64_t)op->mem.disp; /* absolute, or an array base indexed by registers */
        } else {
            continue;
        }
        uint32_t t = fs_refgraph_node_at(b->g, target);
        if (t != self)
            rg_add_edge(b, self, t, kind);
    }
}

/* Thumb code is decoded here, not by Capstone (which formats every
 * instruction's text, some 3000 host instructions each): only the length of
 * each instruction, and the ones a reference comes from (fs_thumb_decode,
 * pcrel.h): branches and calls, and loads from a PC-relative address (ldr,
 * ldr.w: the literal and the address it holds; ldrd, vldr: the literal). */
static unsigned rg_thumb_insn(rg_builder *b, uint32_t self, const uint8_t *p, size_t size, uint64_t pc)
{
    uint32_t h1 = (uint32_t)rg_get(b->img, p, 2), h2 = size >= 4 ? (uint32_t)rg_get(b->img, p + 2, 2) : 0;
    fs_thumb_insn in;
    fs_thumb_decode(h1, h2, size >= 4, pc, &in);
    if (in.kind == FS_THUMB_OTHER)
        return in.len;
    uint64_t target = in.target & 0xffffffffu;
    if (in.kind == FS_THUMB_LOAD) {
        rg_add_edge(b, self, fs_refgraph_node_at(b->g, target), FS_REF_LOAD);
        uint64_t word;
        if (in.word && rg_read(b, target, 4, &word) == 0)
            rg_add_edge(b, self, rg_code_target(b->g, word), FS_REF_LOAD);
        return in.len;
    }
    uint32_t t = rg_code_target(b->g, target);
    if (t != self)
        rg_add_edge(b, self, t, in.kind == FS_THUMB_CALL ? FS_REF_CALL : FS_REF_BRANCH);
    return in.len;
}

static void rg_capstone_range(rg_builder *b, csh h, cs_insn *in, uint32_t self, const uint8_t *code, size_t size,
                              uint64_t addr, int thumb)
{
    size_t step = b->img->machine == EM_ARM ? (thumb ? 2 : 4) : 1;
    while (thumb && b->img->machine == EM_ARM && size >= 2) {
        size_t len = rg_thumb_insn(b, self, code, size, addr);
        code += len, size -= len, addr += len;
    }
    while (size > 0) {
        if (!cs_disasm_iter(h, &code, &size, &addr, in)) {
            size_t k = size < step ? size : step; /* undecodable: skip one unit */
            code += k, size -= k, addr += k;
            continue;
        }
        if (b->img->machine == EM_ARM)
            rg_arm_insn(b, self, in, thumb);
        else
            rg_x86_insn(b, self, in);
    }
}

static int rg_capstone(rg_builder *b)
{
    const fs_image *img = b->img;
    cs_arch arch = img->machine == EM_ARM ? CS_ARCH_ARM : CS_ARCH_X86;
    cs_mode mode = img->machine == EM_ARM ? CS_MODE_ARM : CS_MODE_64;
    if (img->big_endian)
        mode |= CS_MODE_BIG_ENDIAN;
    csh h;
    if (cs_open(arch, mode, &h) != CS_ERR_OK)
        return fs_fail(b->err, "%s: capstone cannot open its %s decoder", img->path,
                       arch == CS_ARCH_ARM ? "ARM" : "x86-64");
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    cs_insn *in = cs_malloc(h);
    size_t nmap;
    fs_armmap *map = img->machine == EM_ARM ? fs_armmap_of(img, &nmap) : NULL;
    if (!map)
        nmap = 0;
    if (!in) {
        free(map);
        cs_close(&h);
        return fs_fail(b->err, "%s: out of memory", img->path);
    }
    for (uint32_t v = 0; v < b->g->nnodes && !b->oom; v++) {
        const fs_rnode *n = &b->g->nodes[v];
        const fs_section *s = &img->sections[n->section];
        const uint8_t *bytes = (s->flags & SHF_EXECINSTR) ? rg_section_bytes(b, s) : NULL;
        if (!bytes || n->kind != FS_RNODE_SYMBOL || n->sym_type != STT_FUNC)
            continue;
        int thumb = 0;
        if (img->machine == EM_ARM) {
            thumb = n->thumb;
            cs_option(h, CS_OPT_MODE, (thumb ? CS_MODE_THUMB : CS_MODE_ARM) | (img->big_endian ? CS_MODE_BIG_ENDIAN : 0));
        }
        for (uint64_t a = n->addr, end = n->addr + n->size; a < end;) {
            uint64_t until = end;
            int data = img->machine == EM_ARM ? fs_armmap_data_at(map, nmap, a, &until) : 0;
            if (until > end || until <= a)
                until = end;
            if (!data)
                rg_capstone_range(b, h, in, v, bytes + (a - s->addr), until - a, a, thumb);
            a = until;
        }
    }
    free(map);
    cs_free(in, 1);
    cs_close(&h);
    b->g->methods |= FS_REFGRAPH_CAPSTONE;
    return 0;
}

/* ---- edges: the Xtensa lx106 decoder ---------------------------------------- */


/* Node t, reached by a call0 or j or as a function's address, is code: if
 * it is a literal word (code without a symbol: a static function of a
 * stripped library), it becomes the head of such code, decoded later. */
static void rg_xtensa_code_at(rg_builder *b, uint32_t t)
{
    fs_rnode *tn = &b->g->nodes[t];
    if (tn->kind == FS_RNODE_LITERAL && tn->sym_type != STT_FUNC && b->work) {
        tn->kind = FS_RNODE_GAP;
        tn->sym_type = STT_FUNC;
        tn->grown = true;
        b->work[b->nwork++] = t;
    }
}

/* Xtensa FUNC symbols without a size (assembler code: an SDK's start stub,
 * libgcc's soft-float) name the literal word they start; that word becomes
 * code whose end the decoder finds, like code without a symbol (it must not
 * run to the next symbol: the next function's literal pool lies between). */
static void rg_xtensa_sizeless(rg_builder *b)
{
    const fs_image *img = b->img;
    for (size_t i = 0; i < img->nsymbols; i++) {
        const fs_symbol *s = &img->symbols[i];
        if (s->type != STT_FUNC || s->size != 0 || s->section < 0 || (size_t)s->section >= img->nsections ||
            !(img->sections[s->section].flags & SHF_EXECINSTR))
            continue;
        uint32_t v = fs_refgraph_node_at(b->g, s->value);
        if (v == FS_REFGRAPH_NONE || b->g->nodes[v].addr != s->value || b->g->nodes[v].kind != FS_RNODE_LITERAL)
            continue;
        rg_xtensa_code_at(b, v);
        b->g->nodes[v].kind = FS_RNODE_SYMBOL;
        b->g->nodes[v].name = s->name;
    }
}

/* Does code start at addr: the call0 ABI's prologue addi a1, a1, -N (bytes
 * 12 c1 N), first or after one or two short instructions (movi ...)? */
static int rg_xtensa_prologue(rg_builder *b, uint64_t addr)
{
    uint64_t lo, hi;
    if (rg_read(b, addr, 4, &lo) < 0 || rg_read(b, addr + 4, 4, &hi) < 0)
        return 0;
    uint64_t w = lo | hi << 32;
    static const unsigned at[] = {0, 2, 3, 5};
    for (unsigned i = 0; i < sizeof at / sizeof *at; i++) {
        uint64_t x = w >> (8 * at[i]);
        if ((x & 0xffff) == 0xc112 && (x >> 16 & 0x80))
            return 1;
    }
    return 0;
}

static void rg_xtensa_func(rg_builder *b, uint32_t self, const uint8_t *p, uint64_t addr, uint64_t size)
{
    uint64_t reg[16];
    uint16_t known = 0;
    fs_xt_walk w = {p, size, 0, 0};
    uint32_t insn;
    unsigned len;
    uint64_t off;
    while (fs_xt_next(&w, &insn, &len, &off)) {
        if (len != 3)
            continue;
        uint32_t pc = (uint32_t)(addr + off), lit;
        unsigned op0 = insn & 0xf;
        if (fs_xt_l32r(insn, len, pc, &lit)) {
            uint64_t word;
            uint32_t ln = fs_refgraph_node_at(b->g, lit);
            rg_add_edge(b, self, ln, FS_REF_LOAD);
            if (ln != FS_REFGRAPH_NONE && b->loaded)
                b->loaded[ln] = 1;
            if (rg_read(b, lit, 4, &word) == 0) {
                uint32_t wn = fs_refgraph_node_at(b->g, word);
                rg_add_edge(b, self, wn, FS_REF_LOAD);
                if (wn != FS_REFGRAPH_NONE && b->g->nodes[wn].addr == word && rg_xtensa_prologue(b, word))
                    rg_xtensa_code_at(b, wn); /* the address of a function without a symbol */
                reg[(insn >> 4) & 0xf] = word;
                known |= (uint16_t)(1u << ((insn >> 4) & 0xf));
            }
        } else if ((op0 == 5 || op0 == 6) && ((insn >> 4) & 3) == 0) { /* call0, j */
            int32_t o = fs_sext32(insn >> 6, 18);
            uint32_t target = op0 == 5 ? (pc & ~3u) + ((uint32_t)o << 2) + 4 : pc + 4 + (uint32_t)o;
            uint32_t t = fs_refgraph_node_at(b->g, target);
            if (t != FS_REFGRAPH_NONE && b->g->nodes[t].addr == target && t != self) {
                rg_add_edge(b, self, t, op0 == 5 ? FS_REF_CALL : FS_REF_BRANCH);
                rg_xtensa_code_at(b, t);
            }
        } else if (op0 == 0 && (insn & 0xfff0ffu) == 0x0000c0u) { /* callx0 as */
            unsigned s = (insn >> 8) & 0xf;
            uint32_t t = known & (1u << s) ? fs_refgraph_node_at(b->g, reg[s]) : FS_REFGRAPH_NONE;
            if (t != FS_REFGRAPH_NONE && b->g->nodes[t].sym_type == STT_FUNC && b->g->nodes[t].addr == reg[s])
                rg_add_edge(b, self, t, FS_REF_CALL);
        }
    }
}

/* Code a call0 or j reaches that no symbol names (static functions of
 * libraries built without symbols or -ffunction-sections, such as the
 * ESP8266 SDK's) was cut into literal words.  It runs from the target to
 * the next symbol or the next word an l32r loads; its words are marked as
 * code (sym_type STT_FUNC: neither scanned as data nor left as roots) and
 * decoded like a function, which can reach more such code. */
static void rg_xtensa_anon(rg_builder *b, uint32_t v)
{
    fs_refgraph *g = b->g;
    const fs_section *s = &b->img->sections[g->nodes[v].section];
    const uint8_t *bytes = rg_section_bytes(b, s);
    if (!bytes)
        return;
    uint32_t w = v + 1;
    for (; w < g->nnodes && g->nodes[w].section == g->nodes[v].section && g->nodes[w].kind == FS_RNODE_LITERAL &&
           g->nodes[w].sym_type != STT_FUNC && !b->loaded[w];
         w++)
        g->nodes[w].sym_type = STT_FUNC;
    const fs_rnode *last = &g->nodes[w - 1];
    uint64_t end = last->addr + last->size + last->pad;
    rg_xtensa_func(b, v, bytes + (g->nodes[v].addr - s->addr), g->nodes[v].addr, end - g->nodes[v].addr);
}

static int rg_xtensa(rg_builder *b)
{
    b->loaded = calloc(b->g->nnodes + 1, 1);
    b->work = malloc((b->g->nnodes + 1) * sizeof *b->work);
    if (!b->loaded || !b->work)
        return fs_fail(b->err, "%s: out of memory", b->img->path);
    rg_xtensa_sizeless(b);
    for (uint32_t v = 0; v < b->g->nnodes && !b->oom; v++) {
        const fs_rnode *n = &b->g->nodes[v];
        const fs_section *s = &b->img->sections[n->section];
        if (n->kind != FS_RNODE_SYMBOL || n->sym_type != STT_FUNC || n->grown || !(s->flags & SHF_EXECINSTR))
            continue;
        const uint8_t *bytes = rg_section_bytes(b, s);
        if (!bytes) {
            if (s->type == SHT_NOBITS)
                continue;
            return -1;
        }
        rg_xtensa_func(b, v, bytes + (n->addr - s->addr), n->addr, n->size);
    }
    while (b->nwork && !b->oom)
        rg_xtensa_anon(b, b->work[--b->nwork]);
    b->g->methods |= FS_REFGRAPH_XTENSA;
    return 0;
}

/* ---- edges: data words ------------------------------------------------------ */

/* Every aligned word of [lo, hi) of node v that points into a node. */
static void rg_scan_words(rg_builder *b, uint32_t v, const fs_section *s, const uint8_t *bytes, uint64_t lo, uint64_t hi)
{
    unsigned w = b->img->elf_class == 64 ? 8 : 4;
    for (uint64_t a = (lo + w - 1) / w * w; a + w <= hi; a += w) {
        /* an offset into the section's bytes: bytes - s->addr may not be a
         * valid pointer (a section's address can exceed the buffer's) */
        const uint8_t *q = bytes + (a - s->addr);
        uint64_t word;
        if (w == 4 && !b->img->big_endian) /* the common case, without a loop per byte */
            word = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        else
            word = rg_get(b->img, q, w);
        uint32_t t = rg_code_target(b->g, word);
        if (t != FS_REFGRAPH_NONE)
            rg_add_edge(b, v, t, FS_REF_POINTER);
    }
}

/* Const data lives inside code sections too: ESP8266 routes .rodata into
 * .irom0.text, stm32 into .text.  In an executable section the scan reads
 * objects, Xtensa literals, and on ARM whatever the $d mapping symbols mark
 * as data (literal pools, and gaps that are const data without a symbol;
 * without any mapping symbols every gap).  Code itself is left to the
 * decoders. */
static int rg_datascan(rg_builder *b)
{
    size_t nmap = 0;
    fs_armmap *map = b->img->machine == EM_ARM ? fs_armmap_of(b->img, &nmap) : NULL;
    for (uint32_t v = 0; v < b->g->nnodes && !b->oom; v++) {
        const fs_rnode *n = &b->g->nodes[v];
        const fs_section *s = &b->img->sections[n->section];
        if (s->type == SHT_NOBITS)
            continue;
        int exec = (s->flags & SHF_EXECINSTR) != 0;
        if (exec && n->grown)
            continue; /* Xtensa code without a symbol or size */
        int whole = !exec || n->kind == FS_RNODE_LITERAL || (n->kind == FS_RNODE_SYMBOL && n->sym_type == STT_OBJECT) ||
                    (b->img->machine == EM_ARM && n->kind == FS_RNODE_GAP && !map);
        if (!whole && !(b->img->machine == EM_ARM && map))
            continue;
        const uint8_t *bytes = rg_section_bytes(b, s);
        if (!bytes) {
            free(map);
            return -1;
        }
        uint64_t end = n->addr + n->size;
        if (whole) {
            rg_scan_words(b, v, s, bytes, n->addr, end);
            continue;
        }
        for (uint64_t a = n->addr; a < end;) {
            uint64_t until;
            int data = fs_armmap_data_at(map, nmap, a, &until);
            if (until > end || until <= a)
                until = end;
            if (data)
                rg_scan_words(b, v, s, bytes, a, until);
            a = until;
        }
    }
    free(map);
    b->g->methods |= FS_REFGRAPH_DATASCAN;
    return 0;
}

/* ---- edges: relocations (ld --emit-relocs) ----------------------------------- */

static int rg_x86_pcrel(const fs_image *img, size_t type)
{
    return img->machine == EM_X86_64 && (type == R_X86_64_PC32 || type == R_X86_64_PLT32 || type == R_X86_64_GOTPCREL ||
                                         type == R_X86_64_PC64 || type == R_X86_64_GOTPCRELX ||
                                         type == R_X86_64_REX_GOTPCRELX || type == R_X86_64_PC16 || type == R_X86_64_PC8);
}

/* The target of an Xtensa relocation against a section symbol, from what
 * its place holds: R_XTENSA_32 a data word; SLOTn_OP, ASM_EXPAND and
 * ASM_SIMPLIFY an l32r (the literal), call0 or j (ASM_SIMPLIFY marks a call
 * ld relaxed: it stays where the l32r ld deleted was, 3 bytes before the
 * call0).  Branches inside a function: -1. */
static int rg_xtensa_place(rg_builder *b, size_t type, uint64_t place, uint64_t *to)
{
    uint64_t w, next;
    if (rg_read(b, place, 4, &w) < 0) { /* an instruction in a section's last 3 bytes */
        uint64_t lo;
        if (rg_read(b, place - 1, 4, &lo) < 0)
            return -1;
        w = lo >> 8;
    }
    if (type == 1) {
        *to = w & 0xffffffffu;
        return 0;
    }
    if ((type < 20 || type > 34) && type != 11 && type != 12)
        return -1;
    if (type == 12 && rg_read(b, place + 3, 4, &next) == 0 && (next & 0x3f) == 5) {
        place += 3;
        w = next;
    }
    uint32_t insn = (uint32_t)w & 0xffffff, pc = (uint32_t)place;
    unsigned op0 = insn & 0xf;
    if (op0 == 1) {
        *to = ((pc + 3) & ~3u) + ((0xffff0000u | (insn >> 8)) << 2);
        return 0;
    }
    if ((op0 == 5 || op0 == 6) && ((insn >> 4) & 3) == 0) {
        int32_t o = fs_sext32(insn >> 6, 18);
        *to = op0 == 5 ? (pc & ~3u) + ((uint32_t)o << 2) + 4 : pc + 4 + (uint32_t)o;
        return 0;
    }
    return -1;
}

/* The target of an ARM REL relocation against a section symbol: the word
 * (R_ARM_ABS32, R_ARM_TARGET1) or the branch (bl, blx, b.w; ARM bl, b)
 * the place holds. */
static int rg_arm_place(rg_builder *b, size_t type, uint64_t place, uint64_t *to)
{
    uint64_t w;
    if (rg_read(b, place, 4, &w) < 0)
        return -1;
    if (type == R_ARM_ABS32 || type == R_ARM_TARGET1) {
        *to = w;
        return 0;
    }
    if (type == R_ARM_THM_PC22 || type == R_ARM_THM_JUMP24) {
        uint32_t h1 = (uint32_t)w & 0xffff, h2 = (uint32_t)(w >> 16);
        if (b->img->big_endian) /* halfwords in the file's order */
            h1 = (uint32_t)(w >> 16), h2 = (uint32_t)w & 0xffff;
        uint32_t sgn = (h1 >> 10) & 1, j1 = (h2 >> 13) & 1, j2 = (h2 >> 11) & 1;
        uint32_t i1 = !(j1 ^ sgn), i2 = !(j2 ^ sgn);
        int32_t off = fs_sext32(sgn << 24 | i1 << 23 | i2 << 22 | (h1 & 0x3ff) << 12 | (h2 & 0x7ff) << 1, 25);
        uint64_t base = place + 4;
        if (type == R_ARM_THM_PC22 && !(h2 & 0x1000))
            base &= ~(uint64_t)3; /* blx */
        *to = (uint32_t)(base + (uint64_t)(int64_t)off);
        return 0;
    }
    if (type == R_ARM_CALL || type == R_ARM_JUMP24) {
        *to = (uint32_t)(place + 8 + (uint64_t)(int64_t)fs_sext32(((uint32_t)w & 0xffffff) << 2, 26));
        return 0;
    }
    return -1;
}

/* Does the image keep relocation sections of allocated sections
 * (ld --emit-relocs)? */
static int rg_has_relocs(const fs_image *img)
{
    for (size_t i = 0; i < img->nsections; i++) {
        const fs_section *s = &img->sections[i];
        if (s->type != SHT_RELA && s->type != SHT_REL)
            continue;
        const char *rest = strncmp(s->name, ".rela", 5) == 0 ? s->name + 5 : strncmp(s->name, ".rel", 4) == 0 ? s->name + 4 : NULL;
        const fs_section *t = rest ? fs_image_section(img, rest) : NULL;
        if (t && (t->flags & SHF_ALLOC))
            return 1;
    }
    return 0;
}

static int rg_reloc_section(rg_builder *b, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh)
{
    const fs_section *target = fs_image_section_by_index(b->img, sh->sh_info);
    if (!target || !(target->flags & SHF_ALLOC))
        return 0;
    Elf_Scn *symscn = elf_getscn(elf, sh->sh_link);
    Elf_Data *syms = symscn ? elf_getdata(symscn, NULL) : NULL;
    Elf_Data *rel = elf_getdata(scn, NULL);
    if (!syms || !rel)
        return fs_fail(b->err, "%s: relocation section %zu: cannot read it or its symbol table: %s", b->img->path,
                       elf_ndxscn(scn), elf_errmsg(-1));
    size_t ent = sh->sh_entsize ? sh->sh_entsize : 1, n = sh->sh_size / ent;
    for (size_t i = 0; i < n && !b->oom; i++) {
        GElf_Rela r;
        if (sh->sh_type == SHT_RELA) {
            if (!gelf_getrela(rel, (int)i, &r))
                return fs_fail(b->err, "%s: relocation %zu of section %zu unreadable", b->img->path, i, elf_ndxscn(scn));
        } else {
            GElf_Rel rr;
            if (!gelf_getrel(rel, (int)i, &rr))
                return fs_fail(b->err, "%s: relocation %zu of section %zu unreadable", b->img->path, i, elf_ndxscn(scn));
            r = (GElf_Rela){rr.r_offset, rr.r_info, 0};
        }
        /* gelf gives r_info in the 64-bit layout for 32-bit files too (ELF32_R_SYM
         * of it was always 0: 32-bit relocations were never used before) */
        size_t type = GELF_R_TYPE(r.r_info), symi = GELF_R_SYM(r.r_info);
        GElf_Sym sym;
        if (type == 0 || symi == 0)
            continue;
        if (b->img->machine == EM_XTENSA && ((type >= 15 && type <= 19) || (type >= 57 && type <= 62)))
            continue; /* VTINHERIT/VTENTRY, DIFF*, PDIFF*, NDIFF*: differences, not references */
        if (!gelf_getsym(syms, (int)symi, &sym))
            return fs_fail(b->err, "%s: relocation %zu of section %zu names symbol %zu, which does not exist",
                           b->img->path, i, elf_ndxscn(scn), symi);
        /* A symbol names its node; a section symbol needs the addend to say where
         * in the section.  x86-64 PC-relative addends also hold the distance from
         * the field to the instruction's end: unknown here, left to capstone. */
        int section_sym = GELF_ST_TYPE(sym.st_info) == STT_SECTION;
        uint64_t to = section_sym ? sym.st_value + (uint64_t)r.r_addend : sym.st_value;
        if (section_sym && rg_x86_pcrel(b->img, type))
            continue;
        if (b->img->machine == EM_XTENSA && section_sym) {
            /* ld leaves these addends relative to the input section: the
             * place says where it points */
            if (rg_xtensa_place(b, type, r.r_offset, &to) < 0)
                continue;
        } else if (sh->sh_type == SHT_REL && section_sym) {
            /* the addend is in place, and the place already resolved */
            if (b->img->machine != EM_ARM || rg_arm_place(b, type, r.r_offset, &to) < 0)
                continue;
        }
        rg_add_edge(b, fs_refgraph_node_at(b->g, r.r_offset), rg_code_target(b->g, to), FS_REF_RELOC);
    }
    b->g->methods |= FS_REFGRAPH_RELOCS;
    return 0;
}

static int rg_relocs(rg_builder *b)
{
    elf_version(EV_CURRENT);
    Elf *elf = elf_memory((char *)b->data, b->len);
    if (!elf)
        return fs_fail(b->err, "%s: cannot read as ELF: %s", b->img->path, elf_errmsg(-1));
    int rc = 0;
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn && rc == 0; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) && (sh.sh_type == SHT_RELA || sh.sh_type == SHT_REL) && sh.sh_size)
            rc = rg_reloc_section(b, elf, scn, &sh);
    }
    elf_end(elf);
    return rc;
}

/* ---- merging literal words nothing loads ------------------------------------ */

/* Xtensa code sections hold, besides the literal pools, const data without
 * a symbol (strings, switch tables, a whole .rodata on ESP8266).  Such
 * bytes are first cut into 4-byte literal nodes; once the edges are known,
 * a literal word nothing refers to that directly follows another literal
 * (or const data) node is the rest of that node's object and joins it: a
 * string's or a table's later words go with its first.  Edges are renumbered. */
static int rg_merge_literals(rg_builder *b)
{
    fs_refgraph *g = b->g;
    if (b->img->machine != EM_XTENSA || g->nnodes == 0)
        return 0;
    uint8_t *referred = calloc(g->nnodes, 1);
    uint32_t *map = malloc(g->nnodes * sizeof *map);
    if (!referred || !map) {
        free(referred), free(map);
        return fs_fail(b->err, "%s: out of memory", b->img->path);
    }
    for (size_t i = 0; i < b->ne; i++)
        if (b->e[i].from != b->e[i].to)
            referred[b->e[i].to] = 1;
    uint32_t out = 0;
    for (uint32_t v = 0; v < g->nnodes; v++) {
        fs_rnode *n = &g->nodes[v];
        fs_rnode *p = out ? &g->nodes[out - 1] : NULL;
        int code = n->kind == FS_RNODE_LITERAL && n->sym_type == STT_FUNC;
        if (p && n->kind == FS_RNODE_LITERAL && (!referred[v] || code) && p->section == n->section &&
            (code ? p->grown
                  : p->sym_type != STT_FUNC && (p->kind == FS_RNODE_LITERAL ||
                                                 (p->kind == FS_RNODE_SYMBOL && p->sym_type == STT_OBJECT))) &&
            p->addr + p->size + p->pad == n->addr) {
            p->size += p->pad + n->size;
            p->pad = n->pad;
            map[v] = out - 1;
            continue;
        }
        map[v] = out;
        g->nodes[out++] = *n;
    }
    g->nnodes = out;
    size_t k = 0;
    for (size_t i = 0; i < b->ne; i++) {
        rg_edge e = {map[b->e[i].from], map[b->e[i].to], b->e[i].kind};
        if (e.from != e.to)
            b->e[k++] = e;
    }
    b->ne = k;
    free(referred), free(map);
    if (rg_index(g) < 0)
        return fs_fail(b->err, "%s: out of memory", b->img->path);
    return 0;
}

/* ---- CSR, roots, dominators ---------------------------------------------------- */

/* Sort the edges by (from, to): two stable counting-sort passes, by to and
 * then by from (linear; a comparison sort was a third of the build). */
static int rg_sort_edges(rg_builder *b)
{
    size_t n = b->g->nnodes + 1, ne = b->ne;
    if (ne < 2)
        return 0;
    rg_edge *tmp = malloc(ne * sizeof *tmp);
    uint32_t *count = malloc((n + 1) * sizeof *count);
    if (!tmp || !count) {
        free(tmp), free(count);
        return -1;
    }
    for (int pass = 0; pass < 2; pass++) {
        rg_edge *src = pass == 0 ? b->e : tmp, *dst = pass == 0 ? tmp : b->e;
        memset(count, 0, (n + 1) * sizeof *count);
        for (size_t i = 0; i < ne; i++)
            count[(pass == 0 ? src[i].to : src[i].from) + 1]++;
        for (size_t v = 0; v < n; v++)
            count[v + 1] += count[v];
        for (size_t i = 0; i < ne; i++)
            dst[count[pass == 0 ? src[i].to : src[i].from]++] = src[i];
    }
    free(tmp), free(count);
    return 0;
}

/* Dedup the edges, add virtual-root edges to the roots, build both CSRs. */
static int rg_csr(rg_builder *b)
{
    fs_refgraph *g = b->g;
    size_t n = g->nnodes + 1, out = 0;
    if (rg_sort_edges(b) < 0)
        return fs_fail(b->err, "%s: out of memory", b->img->path);
    for (size_t i = 0; i < b->ne; i++)
        if (out == 0 || b->e[i].from != b->e[out - 1].from || b->e[i].to != b->e[out - 1].to)
            b->e[out++] = b->e[i];
        else if (b->e[i].kind < b->e[out - 1].kind)
            b->e[out - 1].kind = b->e[i].kind;
    b->ne = out;
    g->nedges = out;
    size_t total = out + g->nnodes;
    free(g->succ_off), free(g->succ), free(g->succ_kind), free(g->pred_off), free(g->pred);
    g->succ_off = calloc(n + 1, sizeof *g->succ_off);
    g->pred_off = calloc(n + 1, sizeof *g->pred_off);
    g->succ = malloc((total + 1) * sizeof *g->succ);
    g->succ_kind = malloc(total + 1);
    g->pred = malloc((total + 1) * sizeof *g->pred);
    if (!g->succ_off || !g->pred_off || !g->succ || !g->succ_kind || !g->pred)
        return fs_fail(b->err, "%s: out of memory", b->img->path);
    size_t k = 0;
    for (size_t v = 0, i = 0; v < n; v++) {
        g->succ_off[v] = (uint32_t)k;
        if (v == g->nnodes) {
            for (uint32_t r = 0; r < g->nnodes; r++)
                if (g->nodes[r].root != FS_ROOT_NONE)
                    g->succ[k] = r, g->succ_kind[k++] = FS_REF_CALL;
        }
        for (; i < out && b->e[i].from == v; i++)
            g->succ[k] = b->e[i].to, g->succ_kind[k++] = b->e[i].kind;
    }
    g->succ_off[n] = (uint32_t)k;
    for (size_t i = 0; i < k; i++)
        g->pred_off[g->succ[i] + 1]++;
    for (size_t v = 0; v < n; v++)
        g->pred_off[v + 1] += g->pred_off[v];
    uint32_t *fill = malloc(n * sizeof *fill);
    if (!fill)
        return fs_fail(b->err, "%s: out of memory", b->img->path);
    memcpy(fill, g->pred_off, n * sizeof *fill);
    for (uint32_t v = 0; v < n; v++)
        for (uint32_t i = g->succ_off[v]; i < g->succ_off[v + 1]; i++)
            g->pred[fill[g->succ[i]]++] = v;
    free(fill);
    return 0;
}

static int rg_is_kept_section(const char *name)
{
    static const char *const kept[] = {".init", ".fini", ".init_array", ".fini_array", ".preinit_array", ".ctors", ".dtors"};
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++)
        if (strcmp(name, kept[i]) == 0)
            return 1;
    return 0;
}

static void rg_mark(fs_refgraph *g, uint32_t v, fs_root_kind k)
{
    if (v != FS_REFGRAPH_NONE && g->nodes[v].root == FS_ROOT_NONE)
        g->nodes[v].root = k;
}

static int rg_named_roots(rg_builder *b, const fs_refgraph_opts *o)
{
    for (size_t i = 0; o && i < o->nroots; i++) {
        uint32_t v = fs_refgraph_find(b->g, o->roots[i]);
        if (v == FS_REFGRAPH_NONE)
            return fs_fail(b->err, "%s: root '%s': no such symbol in the image", b->img->path, o->roots[i]);
        rg_mark(b->g, v, FS_ROOT_NAMED);
    }
    for (size_t i = 0; o && i < o->nsoft; i++)
        rg_mark(b->g, fs_refgraph_find(b->g, o->soft_roots[i]), FS_ROOT_NAMED);
    return 0;
}

/* Mark everything reachable from v (seen[] accumulates). */
static void rg_reach(const rg_builder *b, uint32_t v, uint8_t *seen, uint32_t *stack)
{
    const fs_refgraph *g = b->g;
    size_t depth = 0;
    if (seen[v])
        return;
    seen[v] = 1;
    stack[depth++] = v;
    while (depth) {
        uint32_t u = stack[--depth];
        for (uint32_t i = g->succ_off[u]; i < g->succ_off[u + 1]; i++)
            if (!seen[g->succ[i]]) {
                seen[g->succ[i]] = 1;
                stack[depth++] = g->succ[i];
            }
    }
}

/* Nodes no root reaches become "unreferenced" roots: those without any
 * referrer first, then, lowest address first, one per remaining cycle. */
static int rg_unreferenced(rg_builder *b)
{
    fs_refgraph *g = b->g;
    uint8_t *seen = calloc(g->nnodes + 1, 1);
    uint32_t *stack = malloc((g->nnodes + 1) * sizeof *stack);
    if (!seen || !stack) {
        free(seen), free(stack);
        return fs_fail(b->err, "%s: out of memory", b->img->path);
    }
    for (uint32_t v = 0; v < g->nnodes; v++)
        if (g->nodes[v].root != FS_ROOT_NONE)
            rg_reach(b, v, seen, stack);
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t v = 0; v < g->nnodes; v++) {
            if (seen[v] || (pass == 0 && g->pred_off[v + 1] != g->pred_off[v]))
                continue;
            g->nodes[v].root = FS_ROOT_UNREFERENCED;
            rg_reach(b, v, seen, stack);
        }
    free(seen), free(stack);
    return 0;
}

static int rg_roots(rg_builder *b, const fs_refgraph_opts *o)
{
    fs_refgraph *g = b->g;
    const fs_image *img = b->img;
    uint64_t entry = img->machine == EM_ARM ? img->entry & ~(uint64_t)1 : img->entry;
    if (img->elf_type == ET_EXEC || img->elf_type == ET_DYN)
        rg_mark(g, fs_refgraph_node_at(g, entry), FS_ROOT_ENTRY);
    for (uint32_t v = 0; v < g->nnodes; v++) {
        const char *sec = img->sections[g->nodes[v].section].name;
        if (strstr(sec, "vector"))
            rg_mark(g, v, FS_ROOT_VECTOR);
        else if (rg_is_kept_section(sec))
            rg_mark(g, v, FS_ROOT_KEPT);
    }
    if (rg_named_roots(b, o) < 0 || rg_csr(b) < 0 || rg_unreferenced(b) < 0)
        return -1;
    return rg_csr(b); /* again, now with every root under the virtual one */
}

static int rg_tree(rg_builder *b)
{
    fs_refgraph *g = b->g;
    fs_domtree t;
    uint32_t vroot = (uint32_t)g->nnodes;
    if (fs_dominators(g->nnodes + 1, g->succ_off, g->succ, g->pred_off, g->pred, vroot, &t, b->err) < 0)
        return -1;
    g->total = 0;
    for (uint32_t v = 0; v < g->nnodes; v++) {
        fs_rnode *n = &g->nodes[v];
        n->idom = t.idom[v] == vroot ? FS_REFGRAPH_NONE : t.idom[v];
        n->retained = n->size + n->pad;
        g->total += n->size + n->pad;
        if (n->root != FS_ROOT_NONE) {
            g->nroots++;
            g->nroots_by_kind[n->root]++;
        }
    }
    g->rpo = t.rpo;
    g->nrpo = t.nrpo;
    free(t.idom);
    for (size_t i = g->nrpo; i-- > 1;) {
        uint32_t v = g->rpo[i];
        if (g->nodes[v].idom != FS_REFGRAPH_NONE)
            g->nodes[g->nodes[v].idom].retained += g->nodes[v].retained;
    }
    return 0;
}

int fs_refgraph_build(const fs_image *img, const uint8_t *data, size_t len, const fs_refgraph_opts *o,
                      fs_refgraph *g, fs_error *err)
{
    memset(g, 0, sizeof *g);
    g->img = img;
    rg_builder b = {.img = img, .data = data, .len = len, .g = g, .err = err};
    int rc = rg_nodes(&b);
    int code_ok = img->machine == EM_ARM || img->machine == EM_X86_64 || img->machine == EM_XTENSA;
    if (rc == 0 && img->machine == EM_XTENSA && img->big_endian)
        code_ok = 0; /* the decoder reads little-endian lx106 code only */
    /* With the link's relocations (ld --emit-relocs), Xtensa and ARM edges
     * come from them alone: the graph is exact.  (The Xtensa decoder still
     * runs for the nodes' shape, code without a symbol; its edges go.)
     * x86-64 PC-relative relocations against sections cannot be resolved
     * here, so there they add to the decoder's. */
    for (size_t i = 0; rc == 0 && i < img->nsections; i++) /* every allocated section's bytes are in the file */
        if ((img->sections[i].flags & SHF_ALLOC) && img->sections[i].type != SHT_NOBITS && img->sections[i].size &&
            !rg_section_bytes(&b, &img->sections[i]))
            rc = -1;
    int exact = rc == 0 && (img->machine == EM_XTENSA || img->machine == EM_ARM) && rg_has_relocs(img);
    if (rc == 0 && code_ok && (!exact || img->machine == EM_XTENSA))
        rc = img->machine == EM_XTENSA ? rg_xtensa(&b) : rg_capstone(&b);
    if (rc == 0 && exact) {
        b.ne = 0;
        g->methods = 0;
    }
    if (rc == 0 && !exact)
        rc = rg_datascan(&b);
    if (rc == 0)
        rc = rg_relocs(&b);
    g->exact = exact;
    if (rc == 0 && b.oom == 2)
        rc = fs_fail(err, "%s: the reference graph would have more than %u edges (damaged code or relocations?)",
                     img->path, FS_REFGRAPH_MAX_EDGES);
    else if (rc == 0 && b.oom)
        rc = fs_fail(err, "%s: out of memory", img->path);
    if (rc == 0)
        rc = rg_merge_literals(&b);
    if (rc == 0)
        rc = rg_roots(&b, o);
    if (rc == 0)
        rc = rg_tree(&b);
    free(b.e), free(b.loaded), free(b.work);
    if (rc < 0)
        fs_refgraph_free(g);
    return rc;
}

int fs_refgraph_build_file(const fs_image *img, const fs_refgraph_opts *o, fs_refgraph *g, fs_error *err)
{
    unsigned char *data;
    size_t len;
    memset(g, 0, sizeof *g);
    if (fs_read_file(img->path, FS_ELF_MAX_FILE_BYTES, "ELF file", &data, &len, err) < 0)
        return -1;
    int rc = fs_refgraph_build(img, data, len, o, g, err);
    free(data);
    return rc;
}

void fs_refgraph_free(fs_refgraph *g)
{
    free(g->nodes), free(g->succ_off), free(g->succ), free(g->succ_kind);
    free(g->pred_off), free(g->pred), free(g->rpo), free(g->index_first);
    memset(g, 0, sizeof *g);
}

/* ---- queries ------------------------------------------------------------------ */

uint32_t fs_refgraph_find(const fs_refgraph *g, const char *name)
{
    const fs_image *img = g->img;
    if (name[0] == '0' && (name[1] == 'x' || name[1] == 'X')) {
        char *end;
        unsigned long long a = strtoull(name, &end, 16);
        return *end == '\0' && end != name + 2 ? fs_refgraph_node_at(g, a) : FS_REFGRAPH_NONE;
    }
    /* a symbol that became a node (or lies inside one) */
    for (size_t i = 0; i < img->nsymbols; i++) {
        const fs_symbol *s = &img->symbols[i];
        if (strcmp(s->name, name) != 0 || s->section < 0 || (s->type != STT_FUNC && s->type != STT_OBJECT))
            continue;
        uint32_t v = fs_refgraph_node_at(g, rg_sym_addr(img, s));
        if (v != FS_REFGRAPH_NONE && g->nodes[v].section == s->section)
            return v;
    }
    return FS_REFGRAPH_NONE;
}

const char *fs_refgraph_node_name(const fs_refgraph *g, uint32_t v, char *buf, size_t len)
{
    const fs_rnode *n = &g->nodes[v];
    if (n->name)
        return n->name;
    const fs_section *s = &g->img->sections[n->section];
    if (n->kind == FS_RNODE_LITERAL)
        snprintf(buf, len, "[literal 0x%" PRIx64 "]", n->addr);
    else
        snprintf(buf, len, "[%s+0x%" PRIx64 "]", s->name, n->addr - s->addr);
    return buf;
}

int fs_refgraph_dominates(const fs_refgraph *g, uint32_t a, uint32_t b)
{
    for (uint32_t v = b; v != FS_REFGRAPH_NONE; v = g->nodes[v].idom)
        if (v == a)
            return 1;
    return 0;
}

void fs_refgraph_subtree(const fs_refgraph *g, const uint64_t *w, uint64_t *out)
{
    for (size_t v = 0; v < g->nnodes; v++)
        out[v] = w[v];
    for (size_t i = g->nrpo; i-- > 1;) {
        uint32_t v = g->rpo[i];
        if (v < g->nnodes && g->nodes[v].idom != FS_REFGRAPH_NONE)
            out[g->nodes[v].idom] += out[v];
    }
}

/* ---- why -------------------------------------------------------------------------- */

void fs_refpaths_free(fs_refpath *paths, size_t n)
{
    for (size_t i = 0; paths && i < n; i++) {
        free(paths[i].nodes);
        free(paths[i].via);
    }
    free(paths);
}

/* dist[v] = edges from v to target (UINT32_MAX if none): BFS over preds. */
static int rg_dist_to(const fs_refgraph *g, uint32_t target, uint32_t *dist)
{
    uint32_t *queue = malloc((g->nnodes + 1) * sizeof *queue);
    if (!queue)
        return -1;
    for (size_t v = 0; v <= g->nnodes; v++)
        dist[v] = UINT32_MAX;
    size_t head = 0, tail = 0;
    dist[target] = 0;
    queue[tail++] = target;
    while (head < tail) {
        uint32_t v = queue[head++];
        for (uint32_t i = g->pred_off[v]; i < g->pred_off[v + 1]; i++) {
            uint32_t p = g->pred[i];
            if (p < g->nnodes && dist[p] == UINT32_MAX) {
                dist[p] = dist[v] + 1;
                queue[tail++] = p;
            }
        }
    }
    free(queue);
    return 0;
}

/* Walk from root down the distances: the lowest-numbered next step each time. */
static int rg_walk(const fs_refgraph *g, const uint32_t *dist, uint32_t root, fs_refpath *p)
{
    p->len = dist[root] + 1;
    p->nodes = malloc(p->len * sizeof *p->nodes);
    p->via = calloc(p->len, 1);
    if (!p->nodes || !p->via)
        return -1;
    uint32_t v = root;
    p->nodes[0] = v;
    for (size_t k = 1; k < p->len; k++) {
        for (uint32_t i = g->succ_off[v]; i < g->succ_off[v + 1]; i++)
            if (g->succ[i] < g->nnodes && dist[g->succ[i]] == dist[v] - 1) {
                p->via[k] = g->succ_kind[i];
                v = g->succ[i];
                break;
            }
        p->nodes[k] = v;
    }
    return 0;
}

int fs_refgraph_paths(const fs_refgraph *g, uint32_t target, size_t max, fs_refpath **paths, size_t *npaths,
                      fs_error *err)
{
    *paths = NULL;
    *npaths = 0;
    if (target >= g->nnodes)
        return fs_fail(err, "%s: no such node %u", g->img->path, (unsigned)target);
    uint32_t *dist = malloc((g->nnodes + 1) * sizeof *dist);
    uint32_t *order = malloc((g->nroots + 1) * sizeof *order);
    if (!dist || !order || rg_dist_to(g, target, dist) < 0) {
        free(dist), free(order);
        return fs_fail(err, "out of memory");
    }
    size_t n = 0;
    for (uint32_t v = 0; v < g->nnodes; v++) /* nodes are in address order already */
        if (g->nodes[v].root != FS_ROOT_NONE && dist[v] != UINT32_MAX)
            order[n++] = v;
    /* stable insertion sort: chains from real roots (entry, vector, kept
     * section, named) before those from "unreferenced" ones, then by length */
#define RG_PATH_KEY(v) ((uint64_t)(g->nodes[v].root == FS_ROOT_UNREFERENCED) << 32 | dist[v])
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && RG_PATH_KEY(order[j - 1]) > RG_PATH_KEY(order[j]); j--) {
            uint32_t x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
#undef RG_PATH_KEY
    if (max && n > max)
        n = max;
    int rc = 0;
    *paths = calloc(n ? n : 1, sizeof **paths);
    for (size_t i = 0; *paths && i < n && rc == 0; i++) {
        rc = rg_walk(g, dist, order[i], &(*paths)[i]);
        *npaths = i + 1;
    }
    free(dist), free(order);
    if (!*paths || rc < 0) {
        fs_refpaths_free(*paths, *npaths);
        *paths = NULL;
        *npaths = 0;
        return fs_fail(err, "out of memory");
    }
    return 0;
}

/* ---- cut ---------------------------------------------------------------------------- */

/*
 * Candidates other than symbols are groups: a frozen module or a map
 * object.  A group carries the sorted list of nodes its removal touches
 * (what disappears with it, and the nodes holding its bytes), which is how
 * overlap with other proposals is decided: a symbol overlaps a group when
 * it is in that list or dominates a node of it; two groups overlap when
 * their lists share a node (frozen modules never overlap each other: str
 * modules share the one node holding all their texts).
 */
typedef struct rg_group {
    fs_cut_kind kind;
    const char *name;
    uint32_t *nodes; size_t n;
    uint64_t in, all;
    bool chosen;
    uint64_t own;
} rg_group;

typedef struct rg_cutter {
    const fs_refgraph *g;
    const fs_report *rep;
    int region;
    uint64_t *in;        /* per node: retained bytes in the region */
    rg_group *groups; size_t ngroups;
    fs_cut *cut;
    uint32_t *features; size_t nfeatures; /* MicroPython module objects and frozen modules' anchors */
    uint8_t *hub;        /* per node: not a candidate (a table features hang off, or a library's) */
} rg_cutter;

/* Referred to by this many nodes (a symbol) or objects (with --map), a
 * candidate is code everything hangs off, not something to remove. */
#define RG_CUT_CORE_REFERRERS 16
#define RG_CUT_CORE_OBJECTS 8

/* A MicroPython module object: mp_module_NAME (not its globals). */
static bool rg_is_mp_module(const fs_rnode *n)
{
    return n->kind == FS_RNODE_SYMBOL && n->sym_type == STT_OBJECT && n->name &&
           strncmp(n->name, "mp_module_", 10) == 0 && n->name[10] && !strstr(n->name, "_globals");
}

/* Code the MicroPython modules all run on (the VM, the qstr pool, the
 * object model): reached from at least a quarter of the module objects
 * (at most 64 looked at, at least 3 and at least 4 modules) it is
 * everything's, not a feature: hub.  The modules themselves are exempt. */
static int rg_cut_shared(rg_cutter *c)
{
    const fs_refgraph *g = c->g;
    uint32_t mods[64];
    size_t nm = 0;
    for (size_t i = 0; i < c->nfeatures && nm < 64; i++)
        if (rg_is_mp_module(&g->nodes[c->features[i]]))
            mods[nm++] = c->features[i];
    if (nm < 4)
        return 0;
    uint64_t *mask = calloc(g->nnodes + 1, sizeof *mask);
    uint32_t *stack = malloc((g->nnodes + 1) * sizeof *stack);
    if (!mask || !stack) {
        free(mask), free(stack);
        return -1;
    }
    for (size_t k = 0; k < nm; k++) {
        uint64_t bit = 1ull << k;
        size_t sp = 0;
        stack[sp++] = mods[k];
        mask[mods[k]] |= bit;
        while (sp) {
            uint32_t v = stack[--sp];
            for (uint32_t i = g->succ_off[v]; i < g->succ_off[v + 1]; i++) {
                uint32_t w = g->succ[i];
                if (w < g->nnodes && !(mask[w] & bit)) {
                    mask[w] |= bit;
                    stack[sp++] = w;
                }
            }
        }
    }
    size_t need = nm / 4 > 3 ? nm / 4 : 3;
    for (uint32_t v = 0; v < g->nnodes; v++)
        if ((size_t)__builtin_popcountll(mask[v]) >= need && !rg_is_mp_module(&g->nodes[v]))
            c->hub[v] = 1;
    free(mask), free(stack);
    return 0;
}

/* The features whose removal a user can configure: MicroPython module
 * objects and frozen modules (their frozen_module_NAME objects).  A symbol
 * that dominates two or more of them, an object whose removal loses two or
 * more, is a table they hang off (mp_builtin_module_table, the frozen
 * content): proposing it would propose removing the features together. */
static int rg_cut_features(rg_cutter *c)
{
    const fs_refgraph *g = c->g;
    c->features = malloc((g->nnodes + 1) * sizeof *c->features);
    c->hub = calloc(g->nnodes + 1, 1);
    uint32_t *count = calloc(g->nnodes + 1, sizeof *count);
    if (!c->features || !c->hub || !count) {
        free(count);
        return -1;
    }
    for (uint32_t v = 0; v < g->nnodes; v++) {
        const fs_rnode *n = &g->nodes[v];
        if (rg_is_mp_module(n) || (n->kind == FS_RNODE_SYMBOL && n->name && strncmp(n->name, "frozen_module_", 14) == 0))
            c->features[c->nfeatures++] = v;
    }
    for (size_t i = 0; i < c->nfeatures; i++)
        for (uint32_t v = g->nodes[c->features[i]].idom; v != FS_REFGRAPH_NONE; v = g->nodes[v].idom)
            count[v]++;
    if (rg_cut_shared(c) < 0) {
        free(count);
        return -1;
    }
    for (uint32_t v = 0; v < g->nnodes; v++) {
        const fs_rnode *n = &g->nodes[v];
        c->hub[v] = count[v] >= 2;
        /* code everything calls (qstr_str, mp_obj_new_int): referred to from all over */
        size_t refs = 0;
        for (uint32_t i = g->pred_off[v]; i < g->pred_off[v + 1]; i++)
            refs += g->pred[i] < g->nnodes;
        if (refs >= RG_CUT_CORE_REFERRERS)
            c->hub[v] = 1;
        if (n->kind != FS_RNODE_SYMBOL || !n->name)
            continue;
        /* the frozen content's plumbing (its qstr pool, names, tables): its modules are the candidates */
        if (strncmp(n->name, "mp_qstr_frozen_const_", 21) == 0 || strncmp(n->name, "mp_frozen_", 10) == 0)
            c->hub[v] = 1;
        /* a module's globals and their table: the module is the candidate */
        if (n->sym_type == STT_OBJECT && strstr(n->name, "_globals"))
            for (uint32_t a = n->idom; a != FS_REFGRAPH_NONE && !c->hub[v]; a = g->nodes[a].idom)
                c->hub[v] = rg_is_mp_module(&g->nodes[a]);
    }
    free(count);
    return 0;
}

static fs_cut_kind rg_sym_kind(const fs_refgraph *g, uint32_t v)
{
    return rg_is_mp_module(&g->nodes[v]) ? FS_CUT_MPMODULE : FS_CUT_SYMBOL;
}

/* The name a symbol candidate is listed by: a module's own name for mp-module. */
static const char *rg_sym_cut_name(const fs_refgraph *g, uint32_t v)
{
    return rg_is_mp_module(&g->nodes[v]) ? g->nodes[v].name + 10 : g->nodes[v].name;
}

const char *fs_cut_kind_name(fs_cut_kind k)
{
    static const char *const names[] = {"symbol", "frozen-module", "object", "mp-module"};
    return (unsigned)k <= FS_CUT_MPMODULE ? names[k] : "?";
}

void fs_cut_free(fs_cut *cut)
{
    free(cut->items);
    free(cut->ranked);
    cut->ranked = NULL;
    cut->nranked = 0;
    cut->items = NULL;
    cut->nitems = 0;
}

/* Bytes of node v that occupy region r (its VMA or its load image there). */
static uint64_t rg_bytes_in(const fs_refgraph *g, uint32_t v, int r)
{
    const fs_section *s = &g->img->sections[g->nodes[v].section];
    return s->vma_region == r || s->lma_region == r ? g->nodes[v].size + g->nodes[v].pad : 0;
}

static int rg_u32_cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : a > b;
}

static bool rg_group_has(const rg_group *gr, uint32_t v)
{
    return gr->n && bsearch(&v, gr->nodes, gr->n, sizeof v, rg_u32_cmp) != NULL;
}

static bool rg_sym_overlaps(const fs_refgraph *g, const rg_group *gr, uint32_t v)
{
    if (rg_group_has(gr, v))
        return true;
    for (size_t i = 0; i < gr->n; i++)
        if (fs_refgraph_dominates(g, v, gr->nodes[i]))
            return true;
    return false;
}

static bool rg_groups_overlap(const rg_group *a, const rg_group *b)
{
    if (a->kind == FS_CUT_MODULE && b->kind == FS_CUT_MODULE)
        return false;
    for (size_t i = 0, j = 0; i < a->n && j < b->n;) {
        if (a->nodes[i] == b->nodes[j])
            return true;
        a->nodes[i] < b->nodes[j] ? i++ : j++;
    }
    return false;
}

static bool rg_cut_sym_ok(const rg_cutter *c, uint32_t v)
{
    const fs_refgraph *g = c->g;
    const fs_rnode *n = &g->nodes[v];
    if (n->root != FS_ROOT_NONE || n->kind != FS_RNODE_SYMBOL || c->in[v] == 0 || c->hub[v])
        return false;
    for (size_t i = 0; i < c->cut->nitems; i++)
        if (c->cut->items[i].node != FS_REFGRAPH_NONE &&
            (fs_refgraph_dominates(g, c->cut->items[i].node, v) || fs_refgraph_dominates(g, v, c->cut->items[i].node)))
            return false;
    for (size_t i = 0; i < c->ngroups; i++)
        if (c->groups[i].chosen && rg_sym_overlaps(g, &c->groups[i], v))
            return false;
    return true;
}

static bool rg_cut_group_ok(const rg_cutter *c, const rg_group *gr)
{
    if (gr->chosen || gr->in == 0)
        return false;
    for (size_t i = 0; i < c->cut->nitems; i++)
        if (c->cut->items[i].node != FS_REFGRAPH_NONE && rg_sym_overlaps(c->g, gr, c->cut->items[i].node))
            return false;
    for (size_t i = 0; i < c->ngroups; i++)
        if (c->groups[i].chosen && rg_groups_overlap(gr, &c->groups[i]))
            return false;
    return true;
}

/* Does any listed node hold a root other than an "unreferenced" one (which
 * goes with the group that holds it)?  Such a group is never proposed. */
static bool rg_group_has_root(const fs_refgraph *g, const rg_group *gr)
{
    for (size_t i = 0; i < gr->n; i++)
        if (g->nodes[gr->nodes[i]].root != FS_ROOT_NONE && g->nodes[gr->nodes[i]].root != FS_ROOT_UNREFERENCED)
            return true;
    return false;
}

static int rg_group_push(rg_cutter *c, rg_group *gr)
{
    if (gr->n)
        rg_qsort(gr->nodes, gr->n, sizeof *gr->nodes, rg_u32_cmp);
    if (rg_group_has_root(c->g, gr)) {
        free(gr->nodes);
        return 0;
    }
    if (gr->kind == FS_CUT_MODULE) /* a frozen module's objects go with it, not one by one */
        for (size_t i = 0; i < gr->n; i++)
            c->hub[gr->nodes[i]] = 1;
    c->groups[c->ngroups++] = *gr;
    c->cut->ncandidates[gr->kind] += gr->in > 0;
    return 0;
}

/* The region an ELF section's bytes count toward here: r when its VMA or
 * its load image is in r. */
static bool rg_section_in(const fs_image *img, const char *name, int r)
{
    const fs_section *s = fs_image_section(img, name);
    return s && (s->vma_region == r || s->lma_region == r);
}

/* A frozen module: the nodes its C objects dominate (an .mpy module: the
 * subtree of frozen_module_<cname>; a str module: the node holding
 * mp_frozen_str_content); its bytes in the region as the frozen analysis
 * charges them (on ESP8266 the IRAM part lies in .text, the rest in
 * .irom0.text; elsewhere all with the section of its objects). */
static int rg_module_group(rg_cutter *c, const fs_frozen *fz, const fs_frozen_module *m)
{
    const fs_refgraph *g = c->g;
    char sym[320];
    if (m->is_str || !m->cname)
        snprintf(sym, sizeof sym, "mp_frozen_str_content");
    else
        snprintf(sym, sizeof sym, "frozen_module_%s", m->cname);
    uint32_t anchor = fs_refgraph_find(g, sym);
    rg_group gr = {FS_CUT_MODULE, m->name, NULL, 0, 0, m->bytes, false, 0};
    gr.nodes = malloc((g->nnodes + 1) * sizeof *gr.nodes);
    if (!gr.nodes)
        return -1;
    if (anchor != FS_REFGRAPH_NONE && !m->is_str) {
        for (uint32_t v = 0; v < g->nnodes; v++)
            if (fs_refgraph_dominates(g, anchor, v))
                gr.nodes[gr.n++] = v;
    } else if (anchor != FS_REFGRAPH_NONE) {
        gr.nodes[gr.n++] = anchor;
    }
    if (fz->esp8266) {
        if (rg_section_in(g->img, ".irom0.text", c->region))
            gr.in += m->bytes - m->iram;
        if (rg_section_in(g->img, ".text", c->region))
            gr.in += m->iram;
    } else if (anchor != FS_REFGRAPH_NONE && rg_bytes_in(g, anchor, c->region)) {
        gr.in = m->bytes;
    }
    gr.own = gr.in;
    return rg_group_push(c, &gr);
}

/* owner[v] = the map object whose input sections hold node v's address, or -1. */
typedef struct rg_span {
    uint64_t addr, end;
    int object;
} rg_span;

static int rg_span_cmp(const void *pa, const void *pb)
{
    const rg_span *a = pa, *b = pb;
    return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static int rg_owners(const fs_refgraph *g, const fs_mapfile *m, int *owner)
{
    rg_span *sp = malloc((m->ninputs + 1) * sizeof *sp);
    size_t n = 0;
    if (!sp)
        return -1;
    for (size_t s = 0; s < m->nsections; s++) {
        const fs_map_section *ms = &m->sections[s];
        for (size_t i = ms->first_input; ms->alloc && i < ms->first_input + ms->ninputs; i++) {
            const fs_map_input *in = &m->inputs[i];
            if (!in->fill && in->object >= 0 && in->counted)
                sp[n++] = (rg_span){in->addr, in->addr + in->size, in->object};
        }
    }
    rg_qsort(sp, n, sizeof *sp, rg_span_cmp);
    for (uint32_t v = 0; v < g->nnodes; v++) {
        uint64_t a = g->nodes[v].addr;
        size_t lo = 0, hi = n; /* last span starting at or below a */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (sp[mid].addr <= a)
                lo = mid + 1;
            else
                hi = mid;
        }
        owner[v] = lo && a < sp[lo - 1].end ? sp[lo - 1].object : -1;
    }
    free(sp);
    return 0;
}

/* The object's bytes in the region, from the map's input sections: those
 * of output sections whose ELF section counts toward the region. */
static uint64_t rg_object_bytes_in(const rg_cutter *c, const fs_mapfile *m, int obj)
{
    uint64_t sum = 0;
    for (size_t s = 0; s < m->nsections; s++) {
        const fs_map_section *ms = &m->sections[s];
        if (!ms->alloc || !rg_section_in(c->g->img, ms->name, c->region))
            continue;
        for (size_t i = ms->first_input; i < ms->first_input + ms->ninputs; i++)
            if (m->inputs[i].object == obj)
                sum += m->inputs[i].counted;
    }
    return sum;
}

/* Nodes still reachable from the roots once every node owned by obj is
 * gone: seen[v] = 1.  Returns the number of owned nodes. */
static size_t rg_reach_without(const fs_refgraph *g, const int *owner, int obj, uint8_t *seen, uint32_t *stack)
{
    size_t owned = 0, sp = 0;
    for (uint32_t v = 0; v < g->nnodes; v++) {
        seen[v] = 0;
        owned += owner[v] == obj;
    }
    if (!owned)
        return 0;
    stack[sp++] = (uint32_t)g->nnodes;
    while (sp) {
        uint32_t v = stack[--sp];
        for (uint32_t k = g->succ_off[v]; k < g->succ_off[v + 1]; k++) {
            uint32_t w = g->succ[k];
            if (w < g->nnodes && !seen[w] && owner[w] != obj) {
                seen[w] = 1;
                stack[sp++] = w;
            }
        }
    }
    return owned;
}

/* How many other objects refer to a node of object obj (mark: scratch, one
 * byte per object, left zeroed). */
static size_t rg_object_referrers(const fs_refgraph *g, const fs_mapfile *m, const int *owner, int obj, uint8_t *mark)
{
    size_t n = 0;
    for (uint32_t v = 0; v < g->nnodes; v++) {
        if (owner[v] != obj)
            continue;
        for (uint32_t i = g->pred_off[v]; i < g->pred_off[v + 1]; i++) {
            uint32_t p = g->pred[i];
            int po = p < g->nnodes ? owner[p] : -1;
            if (po >= 0 && po != obj && !mark[po]) {
                mark[po] = 1;
                n++;
            }
        }
    }
    for (uint32_t v = 0; v < g->nnodes; v++) /* unmark */
        if (owner[v] == obj)
            for (uint32_t i = g->pred_off[v]; i < g->pred_off[v + 1]; i++)
                if (g->pred[i] < g->nnodes && owner[g->pred[i]] >= 0)
                    mark[owner[g->pred[i]]] = 0;
    (void)m;
    return n;
}

/* Does object obj hold a function the MicroPython modules all run on (a
 * hub by rg_cut_shared, the objects' own hubs aside)? */
static bool rg_object_shared(const rg_cutter *c, const int *owner, int obj)
{
    for (uint32_t v = 0; v < c->g->nnodes; v++)
        if (owner[v] == obj && c->hub[v] && c->g->nodes[v].sym_type == STT_FUNC)
            return true;
    return false;
}

/* Every object of the map: what goes with it is what the roots no longer
 * reach without its nodes; it saves its input-section bytes in the region
 * plus those other nodes' bytes there. */
static int rg_object_groups(rg_cutter *c, const fs_mapfile *m)
{
    const fs_refgraph *g = c->g;
    int *owner = malloc((g->nnodes + 1) * sizeof *owner);
    uint8_t *seen = malloc(g->nnodes + 1), *mark = calloc(m->nobjects + 1, 1);
    uint32_t *stack = malloc((g->nnodes + g->nedges + g->nroots + 2) * sizeof *stack);
    int rc = owner && seen && mark && stack && rg_owners(g, m, owner) == 0 ? 0 : -1;
    for (uint32_t v = 0; rc == 0 && v < g->nnodes; v++)
        if (owner[v] >= 0 && m->objects[owner[v]].archive >= 0)
            c->hub[v] = 1; /* a library's (SDK, libgcc, libc): not the user's to remove */
    for (size_t o = 0; rc == 0 && o < m->nobjects; o++) {
        if (m->objects[o].archive >= 0 || !rg_reach_without(g, owner, (int)o, seen, stack))
            continue;
        size_t lost = 0;
        for (size_t i = 0; i < c->nfeatures; i++)
            lost += !seen[c->features[i]];
        if (lost >= 2 || rg_object_referrers(g, m, owner, (int)o, mark) >= RG_CUT_CORE_OBJECTS ||
            rg_object_shared(c, owner, (int)o))
            continue; /* features hang off it, everything calls it, or the modules all run on it */
        uint64_t own = rg_object_bytes_in(c, m, (int)o);
        rg_group gr = {FS_CUT_OBJECT, m->objects[o].path, NULL, 0, own, m->objects[o].bytes, false, own};
        gr.nodes = malloc((g->nnodes + 1) * sizeof *gr.nodes);
        if (!gr.nodes) {
            rc = -1;
            break;
        }
        for (uint32_t v = 0; v < g->nnodes; v++) {
            if (seen[v])
                continue;
            gr.nodes[gr.n++] = v;
            if (owner[v] != (int)o) {
                gr.in += rg_bytes_in(g, v, c->region);
                gr.all += g->nodes[v].size + g->nodes[v].pad;
            }
        }
        rc = rg_group_push(c, &gr);
    }
    free(owner), free(seen), free(stack), free(mark);
    return rc;
}

static int rg_cut_item_cmp(const void *pa, const void *pb)
{
    const fs_cut_item *a = pa, *b = pb;
    if (a->saved != b->saved)
        return a->saved > b->saved ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* One greedy step: the smallest candidate covering rest, else the largest.
 * Symbols first, then groups in their order, so ties keep that order. */
static int rg_cut_step(rg_cutter *c, uint64_t rest)
{
    const fs_refgraph *g = c->g;
    uint64_t cover_v = 0, large_v = 0;
    long cover = -1, large = -1; /* < nnodes: a node; else nnodes + group index */
    for (size_t i = 0; i < g->nnodes + c->ngroups; i++) {
        uint64_t val;
        if (i < g->nnodes) {
            if (!rg_cut_sym_ok(c, (uint32_t)i))
                continue;
            val = c->in[i];
        } else {
            if (!rg_cut_group_ok(c, &c->groups[i - g->nnodes]))
                continue;
            val = c->groups[i - g->nnodes].in;
        }
        if (val >= rest && (cover < 0 || val < cover_v))
            cover = (long)i, cover_v = val;
        if (large < 0 || val > large_v)
            large = (long)i, large_v = val;
    }
    long pick = cover >= 0 ? cover : large;
    if (pick < 0)
        return 0;
    fs_cut_item *it = &c->cut->items[c->cut->nitems++];
    if ((size_t)pick < g->nnodes) {
        const fs_rnode *n = &g->nodes[pick];
        *it = (fs_cut_item){rg_sym_kind(g, (uint32_t)pick), (uint32_t)pick, rg_sym_cut_name(g, (uint32_t)pick), c->in[pick],
                            rg_bytes_in(g, (uint32_t)pick, c->region), n->retained};
    } else {
        rg_group *gr = &c->groups[(size_t)pick - g->nnodes];
        gr->chosen = true;
        *it = (fs_cut_item){gr->kind, FS_REFGRAPH_NONE, gr->name, gr->in, gr->own, gr->all};
    }
    c->cut->saved += it->saved;
    return 1;
}

static int rg_cut_groups(rg_cutter *c, const fs_cut_sources *src)
{
    if (rg_cut_features(c) < 0)
        return -1;
    if (!src)
        return 0;
    size_t cap = (src->frozen && src->frozen->present ? src->frozen->nmodules : 0) + (src->map ? src->map->nobjects : 0);
    c->groups = calloc(cap + 1, sizeof *c->groups);
    if (!c->groups)
        return -1;
    if (src->frozen && src->frozen->present)
        for (size_t i = 0; i < src->frozen->nmodules; i++)
            if (rg_module_group(c, src->frozen, &src->frozen->modules[i]) < 0)
                return -1;
    return src->map ? rg_object_groups(c, src->map) : 0;
}

/* Every removable candidate with bytes in the region, largest saving first. */
static int rg_cut_ranked(rg_cutter *c)
{
    const fs_refgraph *g = c->g;
    fs_cut *cut = c->cut;
    cut->ranked = malloc((g->nnodes + c->ngroups + 1) * sizeof *cut->ranked);
    if (!cut->ranked)
        return -1;
    for (uint32_t v = 0; v < g->nnodes; v++)
        if (rg_cut_sym_ok(c, v)) {
            cut->ranked[cut->nranked++] = (fs_cut_item){rg_sym_kind(g, v), v, rg_sym_cut_name(g, v), c->in[v],
                                                        rg_bytes_in(g, v, c->region), g->nodes[v].retained};
            cut->ncandidates[rg_sym_kind(g, v)]++;
        }
    for (size_t i = 0; i < c->ngroups; i++)
        if (c->groups[i].in)
            cut->ranked[cut->nranked++] = (fs_cut_item){c->groups[i].kind, FS_REFGRAPH_NONE, c->groups[i].name,
                                                        c->groups[i].in, c->groups[i].own, c->groups[i].all};
    rg_qsort(cut->ranked, cut->nranked, sizeof *cut->ranked, rg_cut_item_cmp);
    return 0;
}

int fs_refgraph_cut_from(const fs_refgraph *g, const fs_report *rep, int region, uint64_t limit,
                         const fs_cut_sources *src, fs_cut *cut, fs_error *err)
{
    memset(cut, 0, sizeof *cut);
    if (region < 0 || (size_t)region >= rep->map.nregions)
        return fs_fail(err, "%s: no region %d", g->img->path, region);
    cut->region = region;
    cut->used = rep->map.regions[region].used;
    cut->limit = limit;
    cut->need = cut->used > limit ? cut->used - limit : 0;
    rg_cutter c = {.g = g, .rep = rep, .region = region, .cut = cut};
    uint64_t *w = malloc((g->nnodes + 1) * sizeof *w);
    c.in = malloc((g->nnodes + 1) * sizeof *c.in);
    int rc = w && c.in && rg_cut_groups(&c, src) == 0 ? 0 : -1;
    cut->items = rc == 0 ? malloc((g->nnodes + c.ngroups + 1) * sizeof *cut->items) : NULL;
    if (cut->items) {
        for (uint32_t v = 0; v < g->nnodes; v++)
            w[v] = rg_bytes_in(g, v, region);
        fs_refgraph_subtree(g, w, c.in);
        if (rg_cut_ranked(&c) < 0)
            fs_cut_free(cut);
    }
    if (cut->items) {
        while (cut->saved < cut->need && rg_cut_step(&c, cut->need - cut->saved))
            ;
        rg_qsort(cut->items, cut->nitems, sizeof *cut->items, rg_cut_item_cmp);
        cut->fits = cut->saved >= cut->need;
    }
    for (size_t i = 0; i < c.ngroups; i++)
        free(c.groups[i].nodes);
    free(c.groups), free(w), free(c.in), free(c.features), free(c.hub);
    if (!cut->items) {
        fs_cut_free(cut);
        return fs_fail(err, "out of memory");
    }
    return 0;
}

int fs_refgraph_cut(const fs_refgraph *g, const fs_report *rep, int region, uint64_t limit, fs_cut *cut,
                    fs_error *err)
{
    return fs_refgraph_cut_from(g, rep, region, limit, NULL, cut, err);
}

/* ---- outputs -------------------------------------------------------------------------- */

static json_t *rg_json_header(const fs_refgraph *g, const char *schema)
{
    char m[128], arch[32];
    json_t *doc = json_object();
    if (!doc)
        return NULL;
    json_object_set_new(doc, "schema", json_string(schema));
    json_object_set_new(doc, "schema_version", json_integer(FS_REFGRAPH_SCHEMA_VERSION));
    json_object_set_new(doc, "file", json_string(g->img->path));
    json_object_set_new(doc, "arch", json_string(fs_elf_machine_name(g->img->machine, arch, sizeof arch)));
    json_t *methods = json_array();
    for (unsigned i = 0; i < 4; i++)
        if (g->methods & (1u << i))
            json_array_append_new(methods, json_string(fs_refgraph_methods(1u << i, m, sizeof m)));
    json_object_set_new(doc, "methods", methods);
    json_object_set_new(doc, "exact", json_boolean(g->exact));
    json_object_set_new(doc, "nodes", json_integer((json_int_t)g->nnodes));
    json_object_set_new(doc, "edges", json_integer((json_int_t)g->nedges));
    json_t *roots = json_object();
    for (int k = FS_ROOT_ENTRY; k <= FS_ROOT_UNREFERENCED; k++)
        json_object_set_new(roots, fs_root_kind_name((fs_root_kind)k), json_integer((json_int_t)g->nroots_by_kind[k]));
    json_object_set_new(doc, "roots", roots);
    json_object_set_new(doc, "total", json_integer((json_int_t)g->total));
    return doc;
}

static json_t *rg_json_node(const fs_refgraph *g, uint32_t v)
{
    char buf[96];
    const fs_rnode *n = &g->nodes[v];
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "name", json_string(fs_refgraph_node_name(g, v, buf, sizeof buf)));
    json_object_set_new(o, "address", json_integer((json_int_t)n->addr));
    json_object_set_new(o, "size", json_integer((json_int_t)(n->size + n->pad)));
    json_object_set_new(o, "retained", json_integer((json_int_t)n->retained));
    json_object_set_new(o, "section", json_string(g->img->sections[n->section].name));
    json_object_set_new(o, "root", n->root ? json_string(fs_root_kind_name(n->root)) : json_null());
    json_object_set_new(o, "dominator", n->idom == FS_REFGRAPH_NONE
                                            ? json_null()
                                            : json_string(fs_refgraph_node_name(g, n->idom, buf, sizeof buf)));
    return o;
}

/* Larger retained size first; among equals, node (address) order. */
static int rg_retained_cmp(const void *pa, const void *pb, void *ctx)
{
    const fs_refgraph *g = ctx;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    if (g->nodes[a].retained != g->nodes[b].retained)
        return g->nodes[a].retained > g->nodes[b].retained ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Symbol nodes by retained size (then address): a malloc'd index array. */
static uint32_t *rg_by_retained(const fs_refgraph *g, size_t *count)
{
    uint32_t *idx = malloc((g->nnodes + 1) * sizeof *idx);
    size_t n = 0;
    if (!idx)
        return NULL;
    for (uint32_t v = 0; v < g->nnodes; v++)
        if (g->nodes[v].kind == FS_RNODE_SYMBOL)
            idx[n++] = v;
    if (n > 1)
        qsort_r(idx, n, sizeof *idx, rg_retained_cmp, (void *)g);
    *count = n;
    return idx;
}

json_t *fs_refgraph_top_json(const fs_refgraph *g, size_t top)
{
    size_t n;
    uint32_t *idx = rg_by_retained(g, &n);
    json_t *doc = idx ? rg_json_header(g, "flashsize-refgraph-top") : NULL;
    json_t *arr = doc ? json_array() : NULL;
    if (top && n > top)
        n = top;
    for (size_t i = 0; arr && i < n; i++)
        if (json_array_append_new(arr, rg_json_node(g, idx[i])) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    free(idx);
    if (!arr || json_object_set_new(doc, "symbols", arr) < 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static int rg_text_header(FILE *out, const fs_refgraph *g)
{
    char m[128], arch[32];
    return fprintf(out, "%s: %s, graph by %s%s: %zu nodes, %zu edges, %zu roots (%zu unreferenced), %" PRIu64 " bytes\n",
                   g->img->path, fs_elf_machine_name(g->img->machine, arch, sizeof arch),
                   fs_refgraph_methods(g->methods, m, sizeof m), g->exact ? " (exact)" : "", g->nnodes, g->nedges, g->nroots,
                   g->nroots_by_kind[FS_ROOT_UNREFERENCED], g->total) < 0
               ? -1
               : 0;
}

int fs_refgraph_top_text(FILE *out, const fs_refgraph *g, size_t top)
{
    size_t n;
    uint32_t *idx = rg_by_retained(g, &n);
    if (!idx || rg_text_header(out, g) < 0) {
        free(idx);
        return -1;
    }
    if (top && n > top)
        n = top;
    fprintf(out, "\n%10s %8s  %-32s %s\n", "retained", "size", "symbol", "dominator / root");
    char a[96], b[96];
    for (size_t i = 0; i < n; i++) {
        const fs_rnode *x = &g->nodes[idx[i]];
        /* A symbol that is not a root and has no dominator is reached from
         * more than one root (dominated by the virtual root only). */
        const char *dom = x->root                      ? fs_root_kind_name(x->root)
                          : x->idom == FS_REFGRAPH_NONE ? "(several roots)"
                                                        : fs_refgraph_node_name(g, x->idom, b, sizeof b);
        fprintf(out, "%10" PRIu64 " %8" PRIu64 "  %-32s %s%s\n", x->retained, x->size + x->pad,
                fs_refgraph_node_name(g, idx[i], a, sizeof a), x->root ? "root: " : "", dom);
    }
    free(idx);
    return ferror(out) ? -1 : 0;
}

json_t *fs_refgraph_why_json(const fs_refgraph *g, uint32_t target, const fs_refpath *paths, size_t npaths)
{
    char buf[96];
    json_t *doc = rg_json_header(g, "flashsize-refgraph-why");
    json_t *arr = json_array();
    if (!doc || !arr) {
        json_decref(doc), json_decref(arr);
        return NULL;
    }
    json_object_set_new(doc, "symbol", rg_json_node(g, target));
    for (size_t i = 0; i < npaths; i++) {
        json_t *p = json_object(), *chain = json_array();
        const fs_rnode *root = &g->nodes[paths[i].nodes[0]];
        json_object_set_new(p, "root", json_string(fs_refgraph_node_name(g, paths[i].nodes[0], buf, sizeof buf)));
        json_object_set_new(p, "root_kind", json_string(fs_root_kind_name(root->root)));
        json_object_set_new(p, "length", json_integer((json_int_t)(paths[i].len - 1)));
        for (size_t k = 0; k < paths[i].len; k++) {
            json_t *step = json_object();
            json_object_set_new(step, "name", json_string(fs_refgraph_node_name(g, paths[i].nodes[k], buf, sizeof buf)));
            json_object_set_new(step, "address", json_integer((json_int_t)g->nodes[paths[i].nodes[k]].addr));
            json_object_set_new(step, "via", k ? json_string(fs_ref_kind_name((fs_ref_kind)paths[i].via[k])) : json_null());
            json_array_append_new(chain, step);
        }
        json_object_set_new(p, "chain", chain);
        json_array_append_new(arr, p);
    }
    json_object_set_new(doc, "paths", arr);
    return doc;
}

int fs_refgraph_why_text(FILE *out, const fs_refgraph *g, uint32_t target, const fs_refpath *paths, size_t npaths)
{
    char a[96], b[96];
    const fs_rnode *t = &g->nodes[target];
    if (rg_text_header(out, g) < 0)
        return -1;
    fprintf(out, "\n%s: %" PRIu64 " bytes at 0x%" PRIx64 " in %s, retains %" PRIu64 " bytes, dominated by %s\n",
            fs_refgraph_node_name(g, target, a, sizeof a), t->size + t->pad, t->addr,
            g->img->sections[t->section].name, t->retained,
            t->idom != FS_REFGRAPH_NONE ? fs_refgraph_node_name(g, t->idom, b, sizeof b)
            : t->root                   ? "(a root)"
                                        : "(several roots)");
    for (size_t i = 0; i < npaths; i++) {
        const fs_refpath *p = &paths[i];
        fprintf(out, "\n%zu. from %s root %s (%zu step%s)\n", i + 1, fs_root_kind_name(g->nodes[p->nodes[0]].root),
                fs_refgraph_node_name(g, p->nodes[0], a, sizeof a), p->len - 1, p->len == 2 ? "" : "s");
        for (size_t k = 1; k < p->len; k++)
            fprintf(out, "   %*s-> %s (%s)\n", (int)(2 * (k - 1)), "", fs_refgraph_node_name(g, p->nodes[k], a, sizeof a),
                    fs_ref_kind_name((fs_ref_kind)p->via[k]));
    }
    return ferror(out) ? -1 : 0;
}

static json_t *rg_cut_item_json(const fs_cut_item *it)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(fs_cut_kind_name(it->kind)));
    json_object_set_new(o, "name", json_string(it->name));
    json_object_set_new(o, "saved", json_integer((json_int_t)it->saved));
    json_object_set_new(o, "own", json_integer((json_int_t)it->own));
    json_object_set_new(o, "retained", json_integer((json_int_t)it->retained));
    return o;
}

json_t *fs_refgraph_cut_json(const fs_refgraph *g, const fs_report *rep, const fs_cut *cut, size_t ranked)
{
    json_t *doc = rg_json_header(g, "flashsize-refgraph-cut");
    json_t *arr = json_array(), *cands = json_object(), *rank = json_array();
    if (!doc || !arr || !cands || !rank) {
        json_decref(doc), json_decref(arr), json_decref(cands), json_decref(rank);
        return NULL;
    }
    json_object_set_new(doc, "region", json_string(rep->map.regions[cut->region].name));
    json_object_set_new(doc, "used", json_integer((json_int_t)cut->used));
    json_object_set_new(doc, "limit", json_integer((json_int_t)cut->limit));
    json_object_set_new(doc, "need", json_integer((json_int_t)cut->need));
    json_object_set_new(doc, "saved", json_integer((json_int_t)cut->saved));
    json_object_set_new(doc, "fits", json_boolean(cut->fits));
    for (int k = FS_CUT_SYMBOL; k <= FS_CUT_MPMODULE; k++)
        json_object_set_new(cands, fs_cut_kind_name((fs_cut_kind)k), json_integer((json_int_t)cut->ncandidates[k]));
    json_object_set_new(doc, "candidates", cands);
    for (size_t i = 0; i < cut->nitems; i++)
        json_array_append_new(arr, rg_cut_item_json(&cut->items[i]));
    json_object_set_new(doc, "proposals", arr);
    for (size_t i = 0; i < cut->nranked && (!ranked || i < ranked); i++)
        json_array_append_new(rank, rg_cut_item_json(&cut->ranked[i]));
    json_object_set_new(doc, "ranked", rank);
    return doc;
}

int fs_refgraph_cut_text(FILE *out, const fs_refgraph *g, const fs_report *rep, const fs_cut *cut, size_t ranked)
{
    const char *region = rep->map.regions[cut->region].name;
    if (rg_text_header(out, g) < 0)
        return -1;
    fprintf(out, "candidates: %zu symbols, %zu frozen modules, %zu objects, %zu MicroPython modules\n",
            cut->ncandidates[FS_CUT_SYMBOL], cut->ncandidates[FS_CUT_MODULE], cut->ncandidates[FS_CUT_OBJECT],
            cut->ncandidates[FS_CUT_MPMODULE]);
    fprintf(out, "\nregion %s: %" PRIu64 " bytes used, limit %" PRIu64, region, cut->used, cut->limit);
    if (cut->need == 0)
        fprintf(out, ": fits, nothing to cut\n");
    else
        fprintf(out, ": %" PRIu64 " bytes over\n", cut->need);
    if (cut->nitems)
        fprintf(out, "\n%10s %10s  %-13s %s\n", "saves", "retained", "kind", "remove");
    for (size_t i = 0; i < cut->nitems; i++)
        fprintf(out, "%10" PRIu64 " %10" PRIu64 "  %-13s %s\n", cut->items[i].saved, cut->items[i].retained,
                fs_cut_kind_name(cut->items[i].kind), cut->items[i].name);
    if (cut->need)
        fprintf(out, "\n%s: %" PRIu64 " bytes saved, %s\n", cut->fits ? "fits" : "does not fit", cut->saved,
                cut->fits ? "the region would be under its limit" : "no set of removable candidates is large enough");
    size_t nr = ranked && ranked < cut->nranked ? ranked : cut->nranked;
    if (nr)
        fprintf(out, "\nLargest candidates (%zu of %zu)\n%10s %10s  %-13s %s\n", nr, cut->nranked, "saves", "retained",
                "kind", "name");
    for (size_t i = 0; i < nr; i++)
        fprintf(out, "%10" PRIu64 " %10" PRIu64 "  %-13s %s\n", cut->ranked[i].saved, cut->ranked[i].retained,
                fs_cut_kind_name(cut->ranked[i].kind), cut->ranked[i].name);
    return ferror(out) ? -1 : 0;
}

/* ---- board roots files -------------------------------------------------------------- */

void fs_refgraph_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

static int rg_add_name(char ***names, size_t *n, const char *s, size_t len)
{
    if (*n >= FS_REFGRAPH_MAX_ROOT_NAMES)
        return -1;
    char **p = realloc(*names, (*n + 1) * sizeof *p);
    if (!p)
        return -1;
    *names = p;
    if (!(p[*n] = strndup(s, len)))
        return -1;
    (*n)++;
    return 0;
}

int fs_refgraph_board_roots(const char *rules_dir, const char *board, char ***names, size_t *n, fs_error *err)
{
    *names = NULL;
    *n = 0;
    if (!rules_dir || !board)
        return 0;
    const char *base = strrchr(board, '/');
    base = base ? base + 1 : board;
    size_t blen = strlen(base);
    if (blen > 4 && strcmp(base + blen - 4, ".ini") == 0)
        blen -= 4;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/roots/%.*s.txt", rules_dir, (int)blen, base) >= (int)sizeof path)
        return fs_fail(err, "%s/roots: path too long", rules_dir);
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return 0;
    unsigned char *text;
    size_t len;
    if (fs_read_file(path, 1u << 20, "roots file", &text, &len, err) < 0)
        return -1;
    int rc = 0;
    unsigned line = 1;
    for (char *p = (char *)text, *next; rc == 0 && p < (char *)text + len; p = next, line++) {
        char *nl = strchr(p, '\n');
        next = nl ? nl + 1 : (char *)text + len;
        char *end = nl ? nl : next, *hash = memchr(p, '#', (size_t)(end - p));
        if (hash)
            end = hash;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
            p++;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            end--;
        if (p == end)
            continue;
        for (char *c = p; c < end && rc == 0; c++)
            if (*c == ' ' || *c == '\t' || (unsigned char)*c < 0x20)
                rc = fs_fail(err, "%s:%u: one symbol name per line expected", path, line);
        if (rc == 0 && rg_add_name(names, n, p, (size_t)(end - p)) < 0)
            rc = fs_fail(err, "%s:%u: more than %d names, or out of memory", path, line, FS_REFGRAPH_MAX_ROOT_NAMES);
    }
    free(text);
    if (rc < 0) {
        fs_refgraph_names_free(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return rc;
}

/* ---- retained sizes for the whole analysis ------------------------------------------ */


static int rg_retained_take(const fs_refgraph *g, size_t top, fs_retained *out)
{
    size_t n;
    uint32_t *idx = rg_by_retained(g, &n);
    if (!idx)
        return -1;
    if (top && n > top)
        n = top;
    out->syms = calloc(n + 1, sizeof *out->syms);
    for (size_t i = 0; out->syms && i < n; i++) {
        const fs_rnode *x = &g->nodes[idx[i]];
        fs_retained_sym *s = &out->syms[out->nsyms++];
        s->name = strdup(x->name);
        s->section = strdup(g->img->sections[x->section].name);
        s->size = x->size + x->pad;
        s->retained = x->retained;
        char buf[96];
        s->dominator = x->idom == FS_REFGRAPH_NONE ? NULL : strdup(fs_refgraph_node_name(g, x->idom, buf, sizeof buf));
        if (!s->name || !s->section || (x->idom != FS_REFGRAPH_NONE && !s->dominator)) {
            free(idx);
            return -1;
        }
    }
    free(idx);
    if (!out->syms)
        return -1;
    fs_refgraph_methods(g->methods, out->method, sizeof out->method);
    out->nodes = g->nnodes, out->edges = g->nedges, out->roots = g->nroots;
    out->unreferenced = g->nroots_by_kind[FS_ROOT_UNREFERENCED];
    out->total = g->total;
    out->computed = true;
    return 0;
}

int fs_retained_compute(const fs_image *img, const uint8_t *data, size_t len, const fs_refgraph_opts *o, size_t top,
                        fs_retained *out, fs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!img->has_symtab) {
        snprintf(out->note, sizeof out->note, "no symbol table");
        return 0;
    }
    if (img->nsymbols > FS_RETAINED_MAX_SYMBOLS) {
        snprintf(out->note, sizeof out->note, "%zu symbols, more than the %d the analysis builds a graph for (use flashsize top --retained)",
                 img->nsymbols, FS_RETAINED_MAX_SYMBOLS);
        return 0;
    }
    fs_refgraph g;
    fs_error gerr = {{0}};
    int rc = data ? fs_refgraph_build(img, data, len, o, &g, &gerr) : fs_refgraph_build_file(img, o, &g, &gerr);
    if (rc < 0) {
        snprintf(out->note, sizeof out->note, "no reference graph: %.400s", gerr.msg);
        return 0;
    }
    rc = rg_retained_take(&g, top, out);
    fs_refgraph_free(&g);
    if (rc < 0) {
        fs_retained_free(out);
        return fs_fail(err, "%s: out of memory", img->path);
    }
    return 0;
}



int fs_retained_for_analysis(const fs_image *img, const uint8_t *data, size_t len, const char *rules_dir,
                             const char *board, fs_retained *out, fs_error *err)
{
    char **soft = NULL;
    size_t nsoft = 0;
    fs_error rerr = {{0}};
    if (board && rules_dir && fs_refgraph_board_roots(rules_dir, board, &soft, &nsoft, &rerr) < 0)
        return fs_fail(err, "%s", rerr.msg);
    fs_refgraph_opts ro = {NULL, 0, (const char *const *)soft, nsoft};
    int rc = fs_retained_compute(img, data, len, &ro, FS_RETAINED_TOP, out, err);
    fs_refgraph_names_free(soft, nsoft);
    return rc;
}
