/*
 * test_refgraph.c - reference graph, dominators, retained sizes, chains and
 * cut proposals against samples/refgraph (chain.c defines the chains).
 *
 * Ground truth:
 *   - retained sizes: the toolchain's `size -A` of the sample and of its
 *     relinks without a feature (samples/refgraph/build/ARCH*.size): the
 *     bytes of allocated sections (address != 0) that the linker dropped;
 *   - node sizes: `nm -S` of the same ELF;
 *   - chains: the calls and the handler table written in chain.c;
 *   - dominators of small hand-made graphs: worked out by hand below.
 */
#include "testutil.h"

#include "analyze.h"
#include "dominators.h"
#include "elfread.h"
#include "ldscript.h"
#include "refgraph.h"

#include <elf.h>
#include <inttypes.h>
#include <sys/stat.h>

#define RG "samples/refgraph/build/"

static const char *const archs[] = {"thumb", "xtensa", "xtensa-lc", "x86_64"};
static const char *const tools[] = {"arm-none-eabi-", "xtensa-lx106-elf-", "xtensa-lx106-elf-", ""};

/* Σ sizes of the sections `size -A` lists with a non-zero address. */
static uint64_t alloc_total(const char *name)
{
    char path[256], line[256];
    snprintf(path, sizeof path, RG "%s.size", name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("%s: missing (run make -C samples)", path);
    uint64_t total = 0, size, addr;
    char sec[128];
    while (fgets(line, sizeof line, f))
        if (line[0] == '.' && sscanf(line, "%127s %" SCNu64 " %" SCNu64, sec, &size, &addr) == 3 && addr != 0)
            total += size;
    fclose(f);
    assert_true(total > 0);
    return total;
}

typedef struct loaded {
    fs_image img;
    fs_refgraph g;
} loaded;

static void load(const char *name, loaded *l, const fs_refgraph_opts *o)
{
    char path[256];
    fs_error err;
    memset(l, 0, sizeof *l);
    snprintf(path, sizeof path, RG "%s.elf", name);
    if (fs_elf_load(path, &l->img, &err) != 0)
        fail_msg("%s", err.msg);
    if (fs_refgraph_build_file(&l->img, o, &l->g, &err) != 0)
        fail_msg("%s", err.msg);
}

static void unload(loaded *l)
{
    fs_refgraph_free(&l->g);
    fs_image_free(&l->img);
}

/* A node's alignment padding (the gap up to the next node, counted with
 * it) belongs to it: an address there, such as a one-past-the-end pointer,
 * finds the node; the next node starts where the padding ends. */
static void test_node_padding(void **state)
{
    (void)state;
    const char *names[] = {"xtensa", "xtensa-lc"};
    for (size_t k = 0; k < 2; k++) {
        loaded l;
        load(names[k], &l, NULL);
        size_t padded = 0;
        for (size_t i = 0; i < l.g.nnodes; i++) {
            const fs_rnode *n = &l.g.nodes[i];
            if (!n->pad || !n->size)
                continue;
            padded++;
            assert_int_equal(fs_refgraph_node_at(&l.g, n->addr + n->size), i);
            assert_int_equal(fs_refgraph_node_at(&l.g, n->addr + n->size + n->pad - 1), i);
            if (i + 1 < l.g.nnodes && l.g.nodes[i + 1].addr == n->addr + n->size + n->pad)
                assert_int_equal(fs_refgraph_node_at(&l.g, n->addr + n->size + n->pad), i + 1);
        }
        assert_true(padded > 0);
        unload(&l);
    }
}

static uint64_t retained(const loaded *l, const char *sym)
{
    uint32_t v = fs_refgraph_find(&l->g, sym);
    if (v == FS_REFGRAPH_NONE)
        fail_msg("%s: no node for %s", l->img.path, sym);
    return l->g.nodes[v].retained;
}

/* ---- dominators -------------------------------------------------------------- */

static void build_csr(size_t n, const uint32_t (*e)[2], size_t ne, uint32_t *so, uint32_t *s, uint32_t *po, uint32_t *p)
{
    memset(so, 0, (n + 1) * sizeof *so);
    memset(po, 0, (n + 1) * sizeof *po);
    for (size_t i = 0; i < ne; i++)
        so[e[i][0] + 1]++, po[e[i][1] + 1]++;
    for (size_t v = 0; v < n; v++)
        so[v + 1] += so[v], po[v + 1] += po[v];
    uint32_t fs[16], fp[16];
    memcpy(fs, so, n * sizeof *fs);
    memcpy(fp, po, n * sizeof *fp);
    for (size_t i = 0; i < ne; i++) {
        s[fs[e[i][0]]++] = e[i][1];
        p[fp[e[i][1]]++] = e[i][0];
    }
}

static void test_dominators_by_hand(void **state)
{
    (void)state;
    /* 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3 (diamond), 3 -> 4, 4 -> 5, 5 -> 4 (loop),
     * 5 -> 6, 1 -> 6; 7 is unreachable, 7 -> 3. */
    static const uint32_t e[][2] = {{0, 1}, {0, 2}, {1, 3}, {2, 3}, {3, 4}, {4, 5}, {5, 4}, {5, 6}, {1, 6}, {7, 3}};
    uint32_t so[9], s[10], po[9], p[10];
    build_csr(8, e, 10, so, s, po, p);
    fs_domtree t;
    fs_error err;
    assert_int_equal(fs_dominators(8, so, s, po, p, 0, &t, &err), 0);
    static const uint32_t want[] = {0, 0, 0, 0, 3, 4, 0, FS_DOM_NONE};
    for (int v = 0; v < 8; v++)
        assert_int_equal(t.idom[v], want[v]);
    assert_int_equal(t.nrpo, 7);
    assert_int_equal(t.rpo[0], 0);
    assert_true(fs_dominates(&t, 3, 5));
    assert_false(fs_dominates(&t, 1, 3));
    assert_false(fs_dominates(&t, 0, 7));
    fs_domtree_free(&t);
    /* an edge to a node outside the graph is refused */
    s[0] = 99;
    assert_int_equal(fs_dominators(8, so, s, po, p, 0, &t, &err), -1);
    assert_non_null(strstr(err.msg, "outside"));
    assert_int_equal(fs_dominators(8, so, s, po, p, 8, &t, &err), -1);
}

/* ---- retained sizes equal what a relink drops ----------------------------------- */

static void check_retained(const char *arch, const char *variant)
{
    char full[64], without[64];
    snprintf(full, sizeof full, "%s%s", arch, variant);
    loaded l;
    load(full, &l, NULL);
    uint64_t total = alloc_total(arch);
    assert_int_equal(l.g.total, total);
    snprintf(without, sizeof without, "%s-nocompress", arch);
    assert_int_equal(retained(&l, "feature_compress"), total - alloc_total(without));
    snprintf(without, sizeof without, "%s-noselftest", arch);
    assert_int_equal(retained(&l, "feature_selftest"), total - alloc_total(without));
    /* shared by both features: dominated by neither */
    uint32_t crc = fs_refgraph_find(&l.g, "crc8"), seed = fs_refgraph_find(&l.g, "crc_seed");
    assert_false(fs_refgraph_dominates(&l.g, fs_refgraph_find(&l.g, "feature_compress"), crc));
    assert_false(fs_refgraph_dominates(&l.g, fs_refgraph_find(&l.g, "feature_selftest"), crc));
    assert_int_equal(l.g.nodes[seed].idom, crc);
    assert_int_equal(l.g.nodes[crc].idom, fs_refgraph_find(&l.g, "fw_handlers"));
    /* nothing left unexplained in these samples */
    assert_int_equal(l.g.nroots_by_kind[FS_ROOT_UNREFERENCED], 0);
    /* the roots' retained sizes add up to the image (the virtual root's) */
    uint64_t sum = 0;
    for (uint32_t v = 0; v < l.g.nnodes; v++)
        if (l.g.nodes[v].idom == FS_REFGRAPH_NONE)
            sum += l.g.nodes[v].retained;
    assert_int_equal(sum, total);
    unsigned want = strncmp(arch, "xtensa", 6) == 0 ? FS_REFGRAPH_XTENSA : FS_REFGRAPH_CAPSTONE;
    assert_true(l.g.methods & want);
    assert_true(l.g.methods & FS_REFGRAPH_DATASCAN);
    assert_int_equal(!!(l.g.methods & FS_REFGRAPH_RELOCS), strcmp(variant, "-relocs") == 0);
    unload(&l);
}

static void test_retained_thumb(void **state) { (void)state; check_retained("thumb", ""); check_retained("thumb", "-relocs"); }
static void test_retained_xtensa(void **state) { (void)state; check_retained("xtensa", ""); check_retained("xtensa", "-relocs"); }
static void test_retained_xtensa_lc(void **state) { (void)state; check_retained("xtensa-lc", ""); check_retained("xtensa-lc", "-relocs"); }
static void test_retained_x86_64(void **state) { (void)state; check_retained("x86_64", ""); check_retained("x86_64", "-relocs"); }

/* The numbers, as measured with the Debian toolchains (size -A), so that a
 * change of toolchain shows up here first. */
static void test_retained_figures(void **state)
{
    (void)state;
    static const struct { const char *arch; uint64_t total, compress, selftest; } want[] = {
        {"thumb", 752, 276, 96}, {"xtensa", 860, 308, 120}, {"xtensa-lc", 866, 308, 120}, {"x86_64", 739, 298, 123}};
    for (size_t i = 0; i < 4; i++) {
        char n[64];
        assert_int_equal(alloc_total(want[i].arch), want[i].total);
        snprintf(n, sizeof n, "%s-nocompress", want[i].arch);
        assert_int_equal(want[i].total - alloc_total(n), want[i].compress);
        snprintf(n, sizeof n, "%s-noselftest", want[i].arch);
        assert_int_equal(want[i].total - alloc_total(n), want[i].selftest);
    }
}

/* Every symbol node has the size nm -S gives it (padding aside). */
static void test_node_sizes_match_nm(void **state)
{
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%snm -S " RG "%s.elf | awk 'NF == 4'", tools[i], archs[i]);
        char *out = tu_run(cmd);
        assert_non_null(out);
        loaded l;
        load(archs[i], &l, NULL);
        size_t checked = 0;
        for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
            char name[128], type;
            uint64_t addr, size;
            if (sscanf(line, "%" SCNx64 " %" SCNx64 " %c %127s", &addr, &size, &type, name) != 4)
                continue;
            uint32_t v = fs_refgraph_find(&l.g, name);
            if (v == FS_REFGRAPH_NONE)
                fail_msg("%s: no node for %s", archs[i], name);
            assert_int_equal(l.g.nodes[v].size, size);
            checked++;
        }
        assert_true(checked >= 17);
        free(out);
        unload(&l);
    }
}

/* ---- why --------------------------------------------------------------------------- */

static void check_chain(const loaded *l, const char *target, const char *const *want, size_t n)
{
    fs_refpath *p;
    size_t np;
    fs_error err;
    char buf[96];
    assert_int_equal(fs_refgraph_paths(&l->g, fs_refgraph_find(&l->g, target), 0, &p, &np, &err), 0);
    assert_true(np >= 1);
    assert_int_equal(p[0].len, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(fs_refgraph_node_name(&l->g, p[0].nodes[i], buf, sizeof buf), want[i]);
    fs_refpaths_free(p, np);
}

static void test_why_chains(void **state)
{
    (void)state;
    static const char *const entry[] = {"thumb", "Reset_Handler", "xtensa", "_start", "xtensa-lc", "_start",
                                        "x86_64", "_start"};
    for (size_t i = 0; i < 4; i++) {
        loaded l;
        load(entry[2 * i], &l, NULL);
        const char *chain[] = {entry[2 * i + 1], "fw_main", "fw_dispatch", "fw_handlers", "handler_parse",
                               "parse_number", "digit_value"};
        check_chain(&l, "digit_value", chain, 7);
        if (i < 3) { /* the vector chain: no vectors on x86-64 */
            const char *vec[] = {i == 0 ? "vectors" : "xt_vectors", "tick_handler", "tick_hook"};
            check_chain(&l, "tick_hook", vec, 3);
        }
        unload(&l);
    }
}

static void test_why_kinds_and_roots(void **state)
{
    (void)state;
    loaded l;
    load("thumb", &l, NULL);
    fs_refpath *p;
    size_t np;
    fs_error err;
    uint32_t t = fs_refgraph_find(&l.g, "digit_value");
    /* two roots reach it: the entry (6 steps) and the vector table (7) */
    assert_int_equal(fs_refgraph_paths(&l.g, t, 0, &p, &np, &err), 0);
    assert_int_equal(np, 2);
    assert_int_equal(l.g.nodes[p[0].nodes[0]].root, FS_ROOT_ENTRY);
    assert_int_equal(l.g.nodes[p[1].nodes[0]].root, FS_ROOT_VECTOR);
    assert_int_equal(p[1].len, 8);
    /* fw_dispatch -> fw_handlers is a literal load, the table -> handler a pointer, bl a call */
    assert_int_equal(p[0].via[3], FS_REF_LOAD);
    assert_int_equal(p[0].via[4], FS_REF_POINTER);
    assert_int_equal(p[0].via[6], FS_REF_CALL);
    fs_refpaths_free(p, np);
    assert_int_equal(fs_refgraph_paths(&l.g, t, 1, &p, &np, &err), 0);
    assert_int_equal(np, 1);
    fs_refpaths_free(p, np);
    /* a --root makes a symbol a root: nothing dominates it any more */
    unload(&l);
    const char *roots[] = {"crc8"};
    fs_refgraph_opts o = {roots, 1, NULL, 0};
    load("thumb", &l, &o);
    uint32_t crc = fs_refgraph_find(&l.g, "crc8");
    assert_int_equal(l.g.nodes[crc].root, FS_ROOT_NAMED);
    assert_int_equal(l.g.nodes[crc].idom, FS_REFGRAPH_NONE);
    assert_int_equal(retained(&l, "fw_handlers"), 534 - 72);
    unload(&l);
    /* an unknown --root is an error naming it; a soft (board) one is ignored */
    const char *bad[] = {"no_such_fn"};
    fs_refgraph_opts ob = {bad, 1, NULL, 0}, os = {NULL, 0, bad, 1};
    fs_image img = {0};
    fs_refgraph g;
    assert_int_equal(fs_elf_load(RG "thumb.elf", &img, &err), 0);
    assert_int_equal(fs_refgraph_build_file(&img, &ob, &g, &err), -1);
    assert_non_null(strstr(err.msg, "thumb.elf: root 'no_such_fn'"));
    assert_int_equal(fs_refgraph_build_file(&img, &os, &g, &err), 0);
    fs_refgraph_free(&g);
    fs_image_free(&img);
}

/* ---- cut ---------------------------------------------------------------------------- */

static void test_cut(void **state)
{
    (void)state;
    loaded l;
    load("thumb", &l, NULL);
    fs_error err;
    fs_memmap ld = {0};
    fs_report rep = {0};
    assert_int_equal(fs_ldscript_load("samples/refgraph/thumb.ld", NULL, &ld, &err), 0);
    fs_analyze_opts ao = {&ld, "samples/refgraph/thumb.ld", NULL, 0};
    assert_int_equal(fs_analyze(&l.img, &ao, &rep, &err), 0);
    int flash = fs_memmap_find(&rep.map, "FLASH");
    assert_true(flash >= 0);
    /* FLASH holds everything but .bss (196 bytes: window 128, io_buf 64, ticks 4) */
    assert_int_equal(rep.map.regions[flash].used, 752 - 196);
    fs_cut cut;
    /* 100 bytes over: the smallest candidate retaining >= 100 FLASH bytes is
     * compress_block (252 retained - compress_window's 128 in RAM = 124), not
     * feature_compress (148) that dominates it */
    assert_int_equal(fs_refgraph_cut(&l.g, &rep, flash, 556 - 100, &cut, &err), 0);
    assert_int_equal(cut.need, 100);
    assert_int_equal(cut.nitems, 1);
    assert_string_equal(l.g.nodes[cut.items[0].node].name, "compress_block");
    assert_int_equal(cut.items[0].saved, 124);
    assert_int_equal(cut.items[0].retained, 252);
    assert_true(cut.fits);
    fs_cut_free(&cut);
    /* 200 over: whatever is picked fits, is no root, and no pick dominates another */
    assert_int_equal(fs_refgraph_cut(&l.g, &rep, flash, 356, &cut, &err), 0);
    assert_true(cut.fits);
    assert_true(cut.saved >= 200);
    for (size_t i = 0; i < cut.nitems; i++) {
        assert_int_equal(l.g.nodes[cut.items[i].node].root, FS_ROOT_NONE);
        for (size_t j = 0; j < cut.nitems; j++)
            if (i != j)
                assert_false(fs_refgraph_dominates(&l.g, cut.items[i].node, cut.items[j].node));
    }
    fs_cut_free(&cut);
    /* already fits: nothing proposed */
    assert_int_equal(fs_refgraph_cut(&l.g, &rep, flash, 1000, &cut, &err), 0);
    assert_int_equal(cut.nitems, 0);
    assert_true(cut.fits);
    fs_cut_free(&cut);
    /* a budget below what the roots alone need cannot be met */
    assert_int_equal(fs_refgraph_cut(&l.g, &rep, flash, 10, &cut, &err), 0);
    assert_false(cut.fits);
    fs_cut_free(&cut);
    assert_int_equal(fs_refgraph_cut(&l.g, &rep, 99, 10, &cut, &err), -1);
    fs_report_free(&rep);
    fs_memmap_free(&ld);
    unload(&l);
}

/* ---- JSON hook ----------------------------------------------------------------------- */

static void test_top_json(void **state)
{
    (void)state;
    loaded l;
    load("xtensa-lc-relocs", &l, NULL);
    json_t *doc = fs_refgraph_top_json(&l.g, 3);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "schema")), "flashsize-refgraph-top");
    assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")), 1);
    json_t *syms = json_object_get(doc, "symbols");
    assert_int_equal(json_array_size(syms), 3);
    json_t *first = json_array_get(syms, 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "_start");
    assert_string_equal(json_string_value(json_object_get(first, "root")), "entry");
    assert_int_equal(json_integer_value(json_object_get(first, "retained")), 810);
    json_t *m = json_object_get(doc, "methods");
    assert_int_equal(json_array_size(m), 3);
    assert_string_equal(json_string_value(json_array_get(m, 0)), "xtensa-decoder");
    assert_string_equal(json_string_value(json_array_get(m, 1)), "relocations");
    json_decref(doc);
    unload(&l);
}

/* ---- bad input ------------------------------------------------------------------------- */

static void test_truncated_data(void **state)
{
    (void)state;
    unsigned char *data;
    size_t len;
    fs_error err;
    fs_image img = {0};
    fs_refgraph g;
    assert_int_equal(fs_read_file(RG "thumb-relocs.elf", 1 << 24, "ELF file", &data, &len, &err), 0);
    assert_int_equal(fs_elf_load_mem("thumb-relocs.elf", data, len, &img, &err), 0);
    /* the same image over fewer bytes than its sections need: an error, never a read past the end */
    for (size_t cut = 0; cut < len; cut += 97) {
        int rc = fs_refgraph_build(&img, data, cut, NULL, &g, &err);
        if (rc == 0)
            fs_refgraph_free(&g);
        else
            assert_non_null(strstr(err.msg, "thumb-relocs.elf"));
    }
    assert_int_equal(fs_refgraph_build(&img, data, 0x100, NULL, &g, &err), -1);
    assert_non_null(strstr(err.msg, "lies past end of file"));
    /* garbage in every byte of the code: any graph, no crash */
    const fs_section *text = fs_image_section(&img, ".text");
    unsigned char *copy = malloc(len);
    memcpy(copy, data, len);
    for (uint64_t i = 0; i < text->size; i++)
        copy[text->offset + i] = (unsigned char)(i * 131 + 7);
    assert_int_equal(fs_refgraph_build(&img, copy, len, NULL, &g, &err), 0);
    fs_refgraph_free(&g);
    free(copy);
    fs_image_free(&img);
    free(data);
}

static void test_board_roots_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/flashsize-roots-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], cmd[600];
    snprintf(path, sizeof path, "%s/roots", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/roots/myboard.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("# roots of myboard\n  crc8  \n\nselftest_check # called by the ROM\n", f);
    fclose(f);
    char **names;
    size_t n;
    fs_error err;
    assert_int_equal(fs_refgraph_board_roots(dir, "myboard", &names, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "crc8");
    assert_string_equal(names[1], "selftest_check");
    fs_refgraph_names_free(names, n);
    assert_int_equal(fs_refgraph_board_roots(dir, "boards/myboard.ini", &names, &n, &err), 0);
    assert_int_equal(n, 2);
    fs_refgraph_names_free(names, n);
    assert_int_equal(fs_refgraph_board_roots(dir, "otherboard", &names, &n, &err), 0);
    assert_int_equal(n, 0);
    f = fopen(path, "w");
    fputs("crc8\ntwo names\n", f);
    fclose(f);
    assert_int_equal(fs_refgraph_board_roots(dir, "myboard", &names, &n, &err), -1);
    assert_non_null(strstr(err.msg, "myboard.txt:2: one symbol name per line"));
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dominators_by_hand),  cmocka_unit_test(test_retained_figures),
        cmocka_unit_test(test_retained_thumb),      cmocka_unit_test(test_retained_xtensa),
        cmocka_unit_test(test_retained_xtensa_lc),  cmocka_unit_test(test_retained_x86_64),
        cmocka_unit_test(test_node_sizes_match_nm), cmocka_unit_test(test_why_chains),
        cmocka_unit_test(test_why_kinds_and_roots), cmocka_unit_test(test_cut),
        cmocka_unit_test(test_top_json),            cmocka_unit_test(test_truncated_data),
        cmocka_unit_test(test_board_roots_file),    cmocka_unit_test(test_node_padding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
