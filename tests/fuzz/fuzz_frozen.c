/*
 * fuzz_frozen.c - libFuzzer harness for the frozen-module walker:
 * fs_elf_load_mem, then fs_frozen_analyze over the same bytes (the walk
 * follows pointers from mp_frozen_mpy_content through section contents, so
 * every pointer, count and length in the input is hostile), then its JSON,
 * text and findings.
 */
#include "fuzz.h"

#include "analyze.h"
#include "elfread.h"
#include "frozen.h"

#include <jansson.h>

int fuzz_frozen_run(const uint8_t *data, size_t size);

int fuzz_frozen_run(const uint8_t *data, size_t size)
{
    fs_image img = {0};
    fs_error err = {{0}};
    int rc = fuzz_check(fs_elf_load_mem(FUZZ_NAME, data, size, &img, &err), &err, FUZZ_NAME);
    if (rc == FUZZ_ACCEPTED) {
        fs_frozen fz;
        memset(&fz, 0, sizeof fz);
        rc = fuzz_check(fs_frozen_analyze(&img, data, size, &fz, &err), &err, FUZZ_NAME);
        if (rc == FUZZ_ACCEPTED) {
            json_t *doc = fs_frozen_json(&fz, FUZZ_NAME);
            if (!doc)
                abort();
            json_decref(doc);
            FUZZ_FORMAT(fs_frozen_print_text(f, &fz, FUZZ_NAME));
            fs_report rep;
            memset(&rep, 0, sizeof rep);
            rep.image = &img;
            if (fs_frozen_findings(&fz, &rep) < 0)
                abort();
            fs_report_free(&rep);
            (void)fs_frozen_percent(&fz, fz.total);
        }
        fs_frozen_free(&fz);
    }
    fs_image_free(&img);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_frozen_run(data, size);
    return 0;
}
#endif
