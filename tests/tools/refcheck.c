/*
 * refcheck.c - checks the reference graph flashsize infers from a firmware
 * ELF against the true graph that the relocations of the same link give
 * (the link repeated with ld --emit-relocs).  Used by tests/e2e/test_refgraph.sh
 * and by hand on real firmware.
 *
 *   refcheck FIRMWARE.elf FIRMWARE-relocs.elf [-v]
 *
 * Both ELFs must have the same allocated sections at the same addresses
 * (checked).  The graph of FIRMWARE.elf is built as `flashsize top` builds
 * it (no roots files).  The true graph has the same nodes; each relocation
 * of an allocated section of the second ELF adds place -> target, where the
 * target is the symbol's address, a section symbol's address plus the
 * addend (RELA), or for ARM REL the word or the branch the place holds.
 * Xtensa relocations that only mark relaxation or hold differences
 * (NONE, DIFF*, PDIFF*, NDIFF*) are skipped; ASM_SIMPLIFY names the target
 * of a call ld relaxed to call0, and counts.
 *
 * Symbol-to-symbol edges: both graphs are contracted onto their symbol
 * nodes (S -> T when T is reached from S through literal and gap nodes
 * only), so a function -> literal -> object chain counts as one edge.
 *
 * Prints key=value lines (all counts of distinct edges):
 *   true_edges, inferred_edges, common, missing (true, not inferred),
 *   extra (inferred, not true), recall_ppm = common * 1e6 / true_edges,
 *   extra_ppm = extra * 1e6 / inferred_edges,
 *   true_reachable: symbols the true graph reaches from the entry, vector
 *   and kept-section roots, unreached: how many of those the inferred graph
 *   does not reach from the same roots,
 *   unresolved: relocations whose target could not be worked out;
 *   nodes, edges, unreferenced_roots of the inferred graph, and
 *   reachable_bytes_ppm / true_reachable_bytes_ppm: the share of the
 *   allocated bytes the inferred / true graph reaches from those roots.
 * With -v also every missing and extra edge and unreached symbol by name.
 * Exit 0, or 2 with a message naming the file.
 */
#include "elfread.h"
#include "refgraph.h"

#include <elf.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pair {
    uint32_t a, b;
} pair;

typedef struct pairs {
    pair *p;
    size_t n, cap;
} pairs;

static void die(const char *msg, const char *file)
{
    fprintf(stderr, "refcheck: %s: %s\n", file, msg);
    exit(2);
}

static void push(pairs *ps, uint32_t a, uint32_t b)
{
    if (a == FS_REFGRAPH_NONE || b == FS_REFGRAPH_NONE || a == b)
        return;
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 4096;
        ps->p = realloc(ps->p, ps->cap * sizeof *ps->p);
        if (!ps->p)
            die("out of memory", "-");
    }
    ps->p[ps->n++] = (pair){a, b};
}

static int pair_cmp(const void *x, const void *y)
{
    const pair *a = x, *b = y;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return a->b < b->b ? -1 : a->b > b->b;
}

static void uniq(pairs *ps)
{
    if (ps->n < 2)
        return;
    qsort(ps->p, ps->n, sizeof *ps->p, pair_cmp);
    size_t k = 1;
    for (size_t i = 1; i < ps->n; i++)
        if (pair_cmp(&ps->p[i], &ps->p[k - 1]) != 0)
            ps->p[k++] = ps->p[i];
    ps->n = k;
}

/* CSR over nnodes of a pair list (sorted, unique). */
typedef struct csr {
    uint32_t *off, *to;
} csr;

static csr mkcsr(const pairs *ps, size_t nnodes)
{
    csr c = {calloc(nnodes + 2, sizeof(uint32_t)), malloc((ps->n + 1) * sizeof(uint32_t))};
    if (!c.off || !c.to)
        die("out of memory", "-");
    for (size_t i = 0; i < ps->n; i++)
        c.off[ps->p[i].a + 1]++;
    for (size_t v = 0; v < nnodes; v++)
        c.off[v + 1] += c.off[v];
    for (size_t i = 0; i < ps->n; i++)
        c.to[i] = ps->p[i].b; /* sorted by a already */
    return c;
}

/* Symbol-to-symbol edges: from each symbol node through non-symbol nodes. */
static pairs contract(const fs_refgraph *g, const csr *c)
{
    pairs out = {0};
    uint32_t *stamp = calloc(g->nnodes + 1, sizeof *stamp), *stack = malloc((g->nnodes + 1) * sizeof *stack);
    if (!stamp || !stack)
        die("out of memory", "-");
    for (uint32_t s = 0; s < g->nnodes; s++) {
        if (g->nodes[s].kind != FS_RNODE_SYMBOL)
            continue;
        size_t sp = 0;
        stack[sp++] = s;
        stamp[s] = s + 1;
        while (sp) {
            uint32_t v = stack[--sp];
            for (uint32_t i = c->off[v]; i < c->off[v + 1]; i++) {
                uint32_t w = c->to[i];
                if (stamp[w] == s + 1)
                    continue;
                stamp[w] = s + 1;
                if (g->nodes[w].kind == FS_RNODE_SYMBOL)
                    push(&out, s, w);
                else
                    stack[sp++] = w;
            }
        }
    }
    free(stamp), free(stack);
    uniq(&out);
    return out;
}

/* Nodes reachable from the entry, vector and kept-section roots. */
static uint8_t *reach(const fs_refgraph *g, const csr *c)
{
    uint8_t *seen = calloc(g->nnodes + 1, 1);
    uint32_t *stack = malloc((g->nnodes + 1) * sizeof *stack);
    size_t sp = 0;
    if (!seen || !stack)
        die("out of memory", "-");
    for (uint32_t v = 0; v < g->nnodes; v++)
        if (g->nodes[v].root == FS_ROOT_ENTRY || g->nodes[v].root == FS_ROOT_VECTOR || g->nodes[v].root == FS_ROOT_KEPT)
            seen[v] = 1, stack[sp++] = v;
    while (sp) {
        uint32_t v = stack[--sp];
        for (uint32_t i = c->off[v]; i < c->off[v + 1]; i++)
            if (!seen[c->to[i]])
                seen[c->to[i]] = 1, stack[sp++] = c->to[i];
    }
    free(stack);
    return seen;
}

static uint32_t target_node(const fs_refgraph *g, uint64_t addr)
{
    uint32_t v = fs_refgraph_node_at(g, addr);
    if (v == FS_REFGRAPH_NONE && g->img->machine == EM_ARM)
        v = fs_refgraph_node_at(g, addr & ~(uint64_t)1);
    return v;
}

static int xtensa_skip(unsigned type)
{
    /* 0 NONE, 15/16 VTINHERIT/VTENTRY, 17-19 DIFF, 57-62 PDIFF/NDIFF */
    return type == 0 || type == 15 || type == 16 || (type >= 17 && type <= 19) || (type >= 57 && type <= 62);
}

/* The target of an ARM REL relocation against a section symbol: what the place holds. */
static int arm_rel_target(unsigned type, const uint8_t *p, uint64_t place, uint64_t *to)
{
    uint32_t w = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (type == R_ARM_ABS32 || type == R_ARM_TARGET1) {
        *to = w;
        return 0;
    }
    if (type == R_ARM_THM_PC22 || type == R_ARM_THM_JUMP24) {
        uint32_t h1 = w & 0xffff, h2 = w >> 16;
        uint32_t s = (h1 >> 10) & 1, j1 = (h2 >> 13) & 1, j2 = (h2 >> 11) & 1;
        uint32_t i1 = !(j1 ^ s), i2 = !(j2 ^ s);
        uint32_t imm = s << 24 | i1 << 23 | i2 << 22 | (h1 & 0x3ff) << 12 | (h2 & 0x7ff) << 1;
        int32_t off = (int32_t)(imm << 7) >> 7;
        uint64_t base = place + 4;
        if (type == R_ARM_THM_PC22 && !(h2 & 0x1000)) /* blx: to ARM code, word aligned */
            base &= ~(uint64_t)3;
        *to = (uint32_t)(base + (uint64_t)(int64_t)off);
        return 0;
    }
    if (type == R_ARM_CALL || type == R_ARM_JUMP24) {
        int32_t off = (int32_t)(w << 8) >> 6;
        *to = (uint32_t)(place + 8 + (uint64_t)(int64_t)off);
        return 0;
    }
    return -1;
}

/* The target of an Xtensa RELA relocation against a section symbol.  ld
 * does not move such addends to the output section (they stay relative to
 * the input section), so the place says where it points: a data word holds
 * the address; l32r, call0 and j encode their target.  Branches inside a
 * function: -1 (not a symbol-to-symbol reference).  ASM_SIMPLIFY marks a
 * call ld relaxed to call0; its place is that of the l32r ld deleted, 3
 * bytes before the call0. */
static int xtensa_place_target(unsigned type, const uint8_t *p, size_t avail, uint64_t place, uint64_t *to)
{
    uint32_t pc = (uint32_t)place;
    if (type == 1) { /* R_XTENSA_32 */
        *to = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        return 0;
    }
    if ((type < 20 || type > 34) && type != 11 && type != 12) /* SLOTn_OP, ASM_EXPAND, ASM_SIMPLIFY */
        return -1;
    if (type == 12 && avail >= 6 && (p[3] & 0x3f) == 5) { /* ASM_SIMPLIFY stays where the deleted l32r was */
        p += 3;
        pc += 3;
    }
    uint32_t insn = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    unsigned op0 = insn & 0xf;
    if (op0 == 1) {
        *to = ((pc + 3) & ~3u) + ((0xffff0000u | (insn >> 8)) << 2);
        return 0;
    }
    if ((op0 == 5 || op0 == 6) && ((insn >> 4) & 3) == 0) {
        uint32_t off = insn >> 6, m = 1u << 17;
        int32_t o = (int32_t)((off ^ m) - m);
        *to = op0 == 5 ? (pc & ~3u) + ((uint32_t)o << 2) + 4 : pc + 4 + (uint32_t)o;
        return 0;
    }
    return -1;
}

static void true_edges(const char *path, const fs_refgraph *g, pairs *out, size_t *unresolved)
{
    fs_image img;
    fs_error err = {{0}};
    const unsigned char *data;
    size_t len;
    if (fs_elf_load(path, &img, &err) < 0 || fs_elf_reread(&img, &data, &len, &err) < 0)
        die(err.msg, path);
    /* same layout */
    for (size_t i = 0; i < g->img->nsections; i++) {
        const fs_section *a = &g->img->sections[i];
        if (!(a->flags & SHF_ALLOC))
            continue;
        const fs_section *b = fs_image_section(&img, a->name);
        if (!b || b->addr != a->addr || b->size != a->size)
            die("its allocated sections differ from the first ELF's", path);
    }
    elf_version(EV_CURRENT);
    Elf *elf = elf_memory((char *)data, len);
    if (!elf)
        die("not an ELF file", path);
    for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_RELA && sh.sh_type != SHT_REL))
            continue;
        GElf_Shdr tsh;
        Elf_Scn *tscn = elf_getscn(elf, sh.sh_info);
        if (!tscn || !gelf_getshdr(tscn, &tsh) || !(tsh.sh_flags & SHF_ALLOC))
            continue;
        Elf_Data *rel = elf_getdata(scn, NULL), *syms = elf_getdata(elf_getscn(elf, sh.sh_link), NULL);
        if (!rel || !syms)
            die("a relocation section or its symbol table is unreadable", path);
        size_t n = sh.sh_size / (sh.sh_entsize ? sh.sh_entsize : 1);
        for (size_t i = 0; i < n; i++) {
            GElf_Rela r;
            if (sh.sh_type == SHT_RELA) {
                if (!gelf_getrela(rel, (int)i, &r))
                    die("a relocation is unreadable", path);
            } else {
                GElf_Rel rr;
                if (!gelf_getrel(rel, (int)i, &rr))
                    die("a relocation is unreadable", path);
                r = (GElf_Rela){rr.r_offset, rr.r_info, 0};
            }
            unsigned type = (unsigned)GELF_R_TYPE(r.r_info);
            size_t symi = GELF_R_SYM(r.r_info);
            if (img.machine == EM_XTENSA && xtensa_skip(type))
                continue;
            if (img.machine == EM_ARM && (type == R_ARM_NONE || type == R_ARM_V4BX))
                continue;
            if (symi == 0)
                continue;
            GElf_Sym sym;
            if (!gelf_getsym(syms, (int)symi, &sym))
                die("a relocation names a symbol that does not exist", path);
            uint64_t to = sym.st_value;
            if (GELF_ST_TYPE(sym.st_info) == STT_SECTION) {
                uint64_t off = r.r_offset - tsh.sh_addr;
                int inside = off + 4 <= tsh.sh_size && tsh.sh_type != SHT_NOBITS && tsh.sh_offset + off + 4 <= len;
                if (img.machine == EM_XTENSA) {
                    if (!inside || xtensa_place_target(type, data + tsh.sh_offset + off, tsh.sh_size - off, r.r_offset, &to) < 0) {
                        *unresolved += !inside || type == 1;
                        continue;
                    }
                } else if (sh.sh_type == SHT_RELA) {
                    to += (uint64_t)r.r_addend;
                } else {
                    if (img.machine != EM_ARM || !inside ||
                        arm_rel_target(type, data + tsh.sh_offset + off, r.r_offset, &to) < 0) {
                        ++*unresolved;
                        continue;
                    }
                }
            } else if (sym.st_shndx == SHN_UNDEF) {
                continue; /* weak undefined */
            }
            push(out, fs_refgraph_node_at(g, r.r_offset), target_node(g, to));
        }
    }
    elf_end(elf);
    fs_unmap_file(data, len);
    fs_image_free(&img);
}

/* The true path a -> ... -> b through non-symbol nodes (debugging aid). */
static void print_path(const fs_refgraph *g, const csr *c, uint32_t a, uint32_t b)
{
    uint32_t *prev = malloc((g->nnodes + 1) * sizeof *prev), *q = malloc((g->nnodes + 1) * sizeof *q);
    size_t h = 0, t = 0;
    for (size_t v = 0; v < g->nnodes; v++)
        prev[v] = FS_REFGRAPH_NONE;
    prev[a] = a;
    q[t++] = a;
    while (h < t && prev[b] == FS_REFGRAPH_NONE) {
        uint32_t v = q[h++];
        for (uint32_t i = c->off[v]; i < c->off[v + 1]; i++)
            if (prev[c->to[i]] == FS_REFGRAPH_NONE) {
                prev[c->to[i]] = v;
                if (g->nodes[c->to[i]].kind != FS_RNODE_SYMBOL)
                    q[t++] = c->to[i];
            }
    }
    char x[128];
    printf("path:");
    for (uint32_t v = b; prev[v] != FS_REFGRAPH_NONE && v != a; v = prev[v])
        printf(" %s <-", fs_refgraph_node_name(g, v, x, sizeof x));
    printf(" %s\n", fs_refgraph_node_name(g, a, x, sizeof x));
    free(prev), free(q);
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "-v") != 0)) {
        fprintf(stderr, "usage: refcheck FIRMWARE.elf FIRMWARE-relocs.elf [-v]\n");
        return 2;
    }
    int verbose = argc == 4;
    fs_image img;
    fs_error err = {{0}};
    fs_refgraph g;
    if (fs_elf_load(argv[1], &img, &err) < 0 || fs_refgraph_build_file(&img, NULL, &g, &err) < 0)
        die(err.msg, argv[1]);
    if (g.methods & FS_REFGRAPH_RELOCS)
        die("carries relocations: give the link without --emit-relocs first", argv[1]);
    pairs raw_true = {0}, raw_inf = {0};
    size_t unresolved = 0;
    true_edges(argv[2], &g, &raw_true, &unresolved);
    uniq(&raw_true);
    for (uint32_t v = 0; v < g.nnodes; v++)
        for (uint32_t i = g.succ_off[v]; i < g.succ_off[v + 1]; i++)
            push(&raw_inf, v, g.succ[i]);
    uniq(&raw_inf);
    csr ct = mkcsr(&raw_true, g.nnodes), ci = mkcsr(&raw_inf, g.nnodes);
    pairs t = contract(&g, &ct), f = contract(&g, &ci);
    const char *dbg = getenv("REFCHECK_NODE");
    for (size_t i = 0; dbg && i < raw_true.n; i++) {
        char x[128], y[128];
        const char *xn = fs_refgraph_node_name(&g, raw_true.p[i].a, x, sizeof x);
        if (strcmp(xn, dbg) == 0)
            printf("true %s -> %s\n", xn, fs_refgraph_node_name(&g, raw_true.p[i].b, y, sizeof y));
    }
    for (size_t i = 0; dbg && i < raw_inf.n; i++) {
        char x[128], y[128];
        const char *xn = fs_refgraph_node_name(&g, raw_inf.p[i].a, x, sizeof x);
        if (strcmp(xn, dbg) == 0)
            printf("inferred %s -> %s\n", xn, fs_refgraph_node_name(&g, raw_inf.p[i].b, y, sizeof y));
    }
    size_t common = 0, missing = 0, extra = 0;
    char a[128], b[128];
    for (size_t i = 0, j = 0; i < t.n || j < f.n;) {
        int c = i >= t.n ? 1 : j >= f.n ? -1 : pair_cmp(&t.p[i], &f.p[j]);
        if (c == 0) {
            common++, i++, j++;
            continue;
        }
        const pair *p = c < 0 ? &t.p[i++] : &f.p[j++];
        c < 0 ? missing++ : extra++;
        if (verbose && getenv("REFCHECK_PATHS"))
            print_path(&g, c < 0 ? &ct : &ci, p->a, p->b);
        if (verbose)
            printf("%s %s -> %s\n", c < 0 ? "missing" : "extra", fs_refgraph_node_name(&g, p->a, a, sizeof a),
                   fs_refgraph_node_name(&g, p->b, b, sizeof b));
    }
    uint8_t *rt = reach(&g, &ct), *ri = reach(&g, &ci);
    size_t treach = 0, unreached = 0;
    uint64_t bytes_t = 0, bytes_i = 0;
    for (uint32_t v = 0; v < g.nnodes; v++) {
        bytes_t += rt[v] ? g.nodes[v].size + g.nodes[v].pad : 0;
        bytes_i += ri[v] ? g.nodes[v].size + g.nodes[v].pad : 0;
    }
    for (uint32_t v = 0; v < g.nnodes; v++) {
        if (g.nodes[v].kind != FS_RNODE_SYMBOL || !rt[v])
            continue;
        treach++;
        if (!ri[v]) {
            unreached++;
            if (verbose)
                printf("unreached %s\n", g.nodes[v].name);
        }
    }
    printf("true_edges=%zu\ninferred_edges=%zu\ncommon=%zu\nmissing=%zu\nextra=%zu\n", t.n, f.n, common, missing, extra);
    printf("recall_ppm=%llu\nextra_ppm=%llu\n", t.n ? (unsigned long long)common * 1000000ull / t.n : 1000000ull,
           f.n ? (unsigned long long)extra * 1000000ull / f.n : 0ull);
    printf("true_reachable=%zu\nunreached=%zu\nunresolved=%zu\n", treach, unreached, unresolved);
    printf("nodes=%zu\nedges=%zu\nunreferenced_roots=%zu\n", g.nnodes, g.nedges, g.nroots_by_kind[FS_ROOT_UNREFERENCED]);
    printf("reachable_bytes_ppm=%llu\ntrue_reachable_bytes_ppm=%llu\n",
           g.total ? (unsigned long long)(bytes_i * 1000000ull / g.total) : 0ull,
           g.total ? (unsigned long long)(bytes_t * 1000000ull / g.total) : 0ull);
    free(rt), free(ri), free(t.p), free(f.p), free(raw_true.p), free(raw_inf.p);
    free(ct.off), free(ct.to), free(ci.off), free(ci.to);
    fs_refgraph_free(&g);
    fs_image_free(&img);
    return 0;
}
