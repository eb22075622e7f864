/*
 * fuzz_romsyms.c - libFuzzer harness for ROM symbol tables
 * (fs_romtable_load: `PROVIDE ( name = 0x... );` and `name = 0x...;` lines
 * with C comments).  The input is written to "in.ld" in the harness's
 * private directory and loaded by path; an accepted table is looked up by
 * every name and address it holds.
 */
#include "fuzz.h"

#include "romsyms.h"

int fuzz_romsyms_run(const uint8_t *data, size_t size);

int fuzz_romsyms_run(const uint8_t *data, size_t size)
{
    char path[128];
    fuzz_tmpfile("in.ld", data, size, path, sizeof path);
    fs_romtable t;
    fs_error err = {{0}};
    memset(&t, 0, sizeof t);
    int rc = fuzz_check(fs_romtable_load(path, &t, &err), &err, path);
    if (rc == FUZZ_ACCEPTED) {
        for (size_t i = 0; i < t.nsyms; i++)
            if (fs_romtable_find(&t, t.syms[i].name) == NULL || fs_romtable_at(&t, t.syms[i].addr) == NULL)
                abort();
    }
    fs_romtable_free(&t);
    unlink(path);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_romsyms_run(data, size);
    return 0;
}
#endif
