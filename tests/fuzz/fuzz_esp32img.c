/*
 * fuzz_esp32img.c - libFuzzer harness for the ESP32 app image reader
 * (fs_esp32_image_parse: header, segments, checksum, SHA-256, what follows).
 */
#include "fuzz.h"

#include "esp32app.h"

int fuzz_esp32img_run(const uint8_t *data, size_t size);

int fuzz_esp32img_run(const uint8_t *data, size_t size)
{
    fs_esp32_image im;
    fs_error err = {{0}};
    int rc = fuzz_check(fs_esp32_image_parse(FUZZ_NAME, data, size, &im, &err), &err, FUZZ_NAME);
    if (rc == FUZZ_ACCEPTED) {
        /* an accepted image: its size is the input's, the image proper within it */
        if (im.size != size || im.content_size > size || !im.checksum_ok || (im.digest && !im.digest_ok))
            abort();
    }
    fs_esp32_image_free(&im);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_esp32img_run(data, size);
    return 0;
}
#endif
