/*
 * fuzz_romfs.c - libFuzzer harness for the ROMFS reader and walker
 * (fs_romfs_parse), then the occupancy against a 64 KiB partition, the
 * findings, the JSON object and the text report.
 */
#include "fuzz.h"

#include "analyze.h"
#include "romfs.h"

#include <jansson.h>

#define FUZZ_ROMFS_PARTITION 65536u

int fuzz_romfs_run(const uint8_t *data, size_t size);

int fuzz_romfs_run(const uint8_t *data, size_t size)
{
    fs_romfs r;
    fs_error err = {{0}};
    int rc = fuzz_check(fs_romfs_parse(FUZZ_NAME, data, size, &r, &err), &err, FUZZ_NAME);
    if (rc == FUZZ_ACCEPTED) {
        /* the invariant romfs.h promises for every image it accepts */
        if (r.header + r.data + r.overhead + r.padding + r.skipped + r.vuint_pad != r.image_size)
            abort();
        fs_romfs_occupancy occ;
        fs_report rep;
        memset(&rep, 0, sizeof rep);
        if (fs_romfs_analyze(&r, NULL, NULL, FUZZ_ROMFS_PARTITION, 0, &occ, &rep, &err) < 0)
            abort();
        json_t *doc = fs_romfs_json(&r, &occ);
        if (!doc)
            abort();
        json_decref(doc);
        FUZZ_FORMAT(fs_romfs_output_text(f, &r, &occ, &rep));
        FUZZ_FORMAT(fs_romfs_output_json(f, &r, &occ, &rep));
        fs_report_free(&rep);
    }
    fs_romfs_free(&r);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_romfs_run(data, size);
    return 0;
}
#endif
