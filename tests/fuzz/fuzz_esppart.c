/*
 * fuzz_esppart.c - libFuzzer harness for the ESP-IDF partition table reader
 * (fs_esppart_parse: CSV and binary, with the table's verification, against
 * a 4 MiB flash), then the app partition check of a fixed-size image, its
 * findings, the JSON object and the text report.
 */
#include "fuzz.h"

#include "analyze.h"
#include "esp32app.h"
#include "esppart.h"

#include <jansson.h>

int fuzz_esppart_run(const uint8_t *data, size_t size);

int fuzz_esppart_run(const uint8_t *data, size_t size)
{
    fs_esp32app a;
    fs_error err = {{0}};
    memset(&a, 0, sizeof a);
    int rc = fuzz_check(fs_esppart_parse(FUZZ_NAME, data, size, 4u << 20, &a.table, &err), &err, FUZZ_NAME);
    if (rc == FUZZ_ACCEPTED) {
        /* what fs_esp32app_run does after reading, with a 1 MiB image */
        a.image.size = 1u << 20;
        a.image.source = FS_ESP32_SIZE_ELF;
        a.image.path = strdup("fuzz-image");
        if (!a.image.path)
            abort();
        if (fs_esp32app_check(&a, NULL, &err) < 0 || !a.target) /* verify promises a factory or ota_N */
            abort();
        fs_report rep;
        memset(&rep, 0, sizeof rep);
        if (fs_esp32app_findings(&a, &rep) < 0)
            abort();
        json_t *doc = fs_esp32app_json(&a);
        if (!doc)
            abort();
        json_decref(doc);
        FUZZ_FORMAT(fs_esp32app_print_text(f, &a));
        fs_report_free(&rep);
    }
    fs_esp32app_free(&a);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_esppart_run(data, size);
    return 0;
}
#endif
