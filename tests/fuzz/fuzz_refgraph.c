/*
 * fuzz_refgraph.c - libFuzzer harness for the reference graph and its
 * outputs: fs_elf_load_mem, fs_refgraph_build over the same bytes (nodes,
 * Capstone / Xtensa decoding, data scan, relocations, roots, dominator
 * tree), then what `flashsize top`, `why` and `cut` print, in text and
 * JSON: the top list, the reference chains to two targets (the largest
 * retained symbol and one picked by the input's size), and a cut of one
 * region (picked the same way) to half its use.
 *
 * The regression inputs under tests/fuzz/regress/refgraph include the two
 * bugs of issue 18: any image whose top text lists a symbol reached from
 * several roots (its dominator is the virtual root: FS_REFGRAPH_NONE, once
 * used as a node index), and an executable SHT_NOBITS section claiming
 * 0xfffffff0 bytes (once split into a billion literal nodes, 8 GB).
 */
#include "fuzz.h"

#include "analyze.h"
#include "elfread.h"
#include "refgraph.h"

#include <jansson.h>

int fuzz_refgraph_run(const uint8_t *data, size_t size);

/* Dump a JSON document (and free it); NULL is a failure. */
static void fuzz_refgraph_json(json_t *doc, const char *what)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (!text) {
        fprintf(stderr, "fuzz: %s: no JSON document\n", what);
        abort();
    }
    free(text);
    json_decref(doc);
}

static void fuzz_refgraph_why(const fs_refgraph *g, uint32_t target)
{
    fs_refpath *paths = NULL;
    size_t npaths = 0;
    fs_error err = {{0}};
    if (target >= g->nnodes)
        return;
    if (fuzz_check(fs_refgraph_paths(g, target, 4, &paths, &npaths, &err), &err, FUZZ_NAME) == FUZZ_ACCEPTED) {
        FUZZ_FORMAT(fs_refgraph_why_text(f, g, target, paths, npaths));
        fuzz_refgraph_json(fs_refgraph_why_json(g, target, paths, npaths), "why");
    }
    fs_refpaths_free(paths, npaths);
}

static void fuzz_refgraph_cut(const fs_refgraph *g, fs_image *img, size_t pick)
{
    fs_report rep;
    fs_error err = {{0}};
    fs_analyze_opts ao = {0};
    if (fuzz_check(fs_analyze(img, &ao, &rep, &err), &err, FUZZ_NAME) == FUZZ_ACCEPTED && rep.map.nregions) {
        int r = (int)(pick % rep.map.nregions);
        fs_cut cut;
        memset(&cut, 0, sizeof cut);
        if (fuzz_check(fs_refgraph_cut(g, &rep, r, rep.map.regions[r].used / 2, &cut, &err), &err, FUZZ_NAME) ==
            FUZZ_ACCEPTED) {
            FUZZ_FORMAT(fs_refgraph_cut_text(f, g, &rep, &cut, 0));
            fuzz_refgraph_json(fs_refgraph_cut_json(g, &rep, &cut, 0), "cut");
        }
        fs_cut_free(&cut);
    }
    fs_report_free(&rep);
}

int fuzz_refgraph_run(const uint8_t *data, size_t size)
{
    fs_image img = {0};
    fs_error err = {{0}};
    int rc = fuzz_check(fs_elf_load_mem(FUZZ_NAME, data, size, &img, &err), &err, FUZZ_NAME);
    if (rc == FUZZ_ACCEPTED) {
        fs_refgraph g;
        fs_refgraph_opts o = {0};
        rc = fuzz_check(fs_refgraph_build(&img, data, size, &o, &g, &err), &err, FUZZ_NAME);
        if (rc == FUZZ_ACCEPTED) {
            FUZZ_FORMAT(fs_refgraph_top_text(f, &g, 0));
            fuzz_refgraph_json(fs_refgraph_top_json(&g, 0), "top");
            uint32_t biggest = FS_REFGRAPH_NONE;
            for (uint32_t v = 0; v < g.nnodes; v++)
                if (g.nodes[v].kind == FS_RNODE_SYMBOL &&
                    (biggest == FS_REFGRAPH_NONE || g.nodes[v].retained > g.nodes[biggest].retained))
                    biggest = v;
            fuzz_refgraph_why(&g, biggest);
            if (g.nnodes)
                fuzz_refgraph_why(&g, (uint32_t)(size % g.nnodes));
            fuzz_refgraph_cut(&g, &img, size);
            fs_refgraph_free(&g);
        }
    }
    fs_image_free(&img);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_refgraph_run(data, size);
    return 0;
}
#endif
