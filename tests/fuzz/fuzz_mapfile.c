/*
 * fuzz_mapfile.c - libFuzzer harness for the GNU ld map file reader
 * (fs_mapfile_parse) and everything derived from a parsed map: the
 * failed-link report with region-overflow findings, the per-section,
 * per-region and per-archive breakdowns, the text tables and the JSON
 * document.
 */
#include "fuzz.h"

#include "analyze.h"
#include "mapfile.h"

#include <jansson.h>

int fuzz_mapfile_run(const uint8_t *data, size_t size);

static void fuzz_mapfile_breakdowns(const fs_mapfile *m)
{
    fs_map_contrib *rows;
    for (size_t s = 0; s < m->nsections; s++) {
        if (fs_mapfile_section_objects(m, s, &rows) < 0)
            abort();
        free(rows);
    }
    for (size_t r = 0; r < m->map.nregions; r++) {
        fs_map_region_rest rest;
        if (fs_mapfile_region_objects(m, (int)r, &rows, &rest) < 0)
            abort();
        free(rows);
    }
    if (fs_mapfile_archive_list(m, &rows) < 0)
        abort();
    free(rows);
    if (m->nsections)
        (void)fs_mapfile_section(m, m->sections[m->nsections - 1].name);
    if (m->nobjects)
        (void)fs_mapfile_object(m, m->objects[m->nobjects - 1].path);
    (void)fs_mapfile_overflowed(m);
}

int fuzz_mapfile_run(const uint8_t *data, size_t size)
{
    fs_mapfile m;
    fs_error err = {{0}};
    memset(&m, 0, sizeof m);
    int rc = fuzz_check(fs_mapfile_parse(FUZZ_NAME, (const char *)data, size, &m, &err), &err, FUZZ_NAME);
    if (rc == FUZZ_ACCEPTED) {
        fuzz_mapfile_breakdowns(&m);
        fs_report rep;
        memset(&rep, 0, sizeof rep);
        if (fs_mapfile_report(&m, &rep, &err) < 0)
            abort();
        fs_report_free(&rep);
        FUZZ_FORMAT(fs_mapfile_print(f, &m, 0));
        json_t *doc = fs_mapfile_json(&m, 0);
        if (!doc)
            abort();
        json_decref(doc);
    }
    fs_mapfile_free(&m);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_mapfile_run(data, size);
    return 0;
}
#endif
