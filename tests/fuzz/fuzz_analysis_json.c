/*
 * fuzz_analysis_json.c - libFuzzer harness for uploaded analysis documents:
 * the bytes are parsed the way fs_analysis_load_file parses a file (jansson,
 * duplicate keys refused) and checked with fs_analysis_validate (schema,
 * version, field types, limits); an accepted document is read by the store's
 * helpers that pick the main region and the frozen modules.
 */
#include "fuzz.h"

#include "store.h"

#include <jansson.h>

int fuzz_analysis_json_run(const uint8_t *data, size_t size);

int fuzz_analysis_json_run(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return FUZZ_REFUSED;
    fs_error err = {{0}};
    int rc = fuzz_check(fs_analysis_validate(doc, FUZZ_NAME, &err), &err, FUZZ_NAME);
    if (rc == FUZZ_ACCEPTED) {
        (void)fs_analysis_main_region(doc);
        (void)fs_analysis_frozen_modules(doc);
    }
    json_decref(doc);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_analysis_json_run(data, size);
    return 0;
}
#endif
