/*
 * fuzz_natmod.c - libFuzzer harness for the native-module summary: a .mpy
 * parsed by fs_mpy_parse, then fs_natmod_analyze against the ESP8266 ROM
 * table (rules/rom/esp8266.ld, read once, relative to the repository root),
 * so text words are matched against real ROM addresses.
 */
#include "fuzz.h"

#include "mpy.h"
#include "natmod.h"
#include "romsyms.h"

#define FUZZ_NATMOD_ROM "rules/rom/esp8266.ld"

int fuzz_natmod_run(const uint8_t *data, size_t size);

static const fs_romtable *fuzz_natmod_rom(void)
{
    static fs_romtable rom;
    static int loaded;
    if (!loaded) {
        fs_error err = {{0}};
        if (fs_romtable_load(FUZZ_NATMOD_ROM, &rom, &err) < 0) {
            fprintf(stderr, "fuzz_natmod: %s (run from the repository root)\n", err.msg);
            abort();
        }
        loaded = 1;
    }
    return &rom;
}

int fuzz_natmod_run(const uint8_t *data, size_t size)
{
    fs_mpy m;
    fs_error err = {{0}};
    memset(&m, 0, sizeof m);
    int rc = fuzz_check(fs_mpy_parse(FUZZ_NAME, data, size, &m, &err), &err, FUZZ_NAME);
    if (rc == FUZZ_ACCEPTED) {
        fs_natmod n;
        rc = fuzz_check(fs_natmod_analyze(&m, fuzz_natmod_rom(), &n, &err), &err, FUZZ_NAME);
        fs_natmod_free(&n);
    }
    fs_mpy_free(&m);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_natmod_run(data, size);
    return 0;
}
#endif
