/*
 * fuzz_board.c - libFuzzer harness for board rule files (fs_board_load: INI
 * through inih, ld expressions in region values).  The input is written to
 * "in.ini" in the harness's private directory and loaded by path.
 */
#include "fuzz.h"

#include "board.h"

int fuzz_board_run(const uint8_t *data, size_t size);

int fuzz_board_run(const uint8_t *data, size_t size)
{
    char path[128];
    fuzz_tmpfile("in.ini", data, size, path, sizeof path);
    fs_board b;
    fs_error err = {{0}};
    memset(&b, 0, sizeof b);
    int rc = fuzz_check(fs_board_load(NULL, path, &b, &err), &err, path);
    if (rc == FUZZ_ACCEPTED) {
        (void)fs_chip_name(b.chip);
        for (size_t i = 0; i < b.map.nregions; i++)
            if (fs_memmap_find(&b.map, b.map.regions[i].name) < 0)
                abort();
    }
    fs_board_free(&b);
    unlink(path);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_board_run(data, size);
    return 0;
}
#endif
