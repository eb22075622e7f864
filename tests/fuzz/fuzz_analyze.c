/*
 * fuzz_analyze.c - libFuzzer harness for the whole analysis of an ELF:
 * fs_elf_load_mem, then fs_analyze (regions, ESP8266 chip module, findings,
 * symbol ordering) and the three formatters (text, JSON, CSV).
 *
 * Each accepted image is analyzed twice: with the regions the ELF itself
 * implies (no options), and against a board file (rules/boards/
 * esp8266-2m-romfs.ini, read once, relative to the repository root, where
 * scripts/fuzz.sh and the test runner start), whose regions and ROMFS
 * partition meet whatever sections the input invents.
 */
#include "fuzz.h"

#include "analyze.h"
#include "board.h"
#include "elfread.h"
#include "output.h"

#define FUZZ_ANALYZE_BOARD "rules/boards/esp8266-2m-romfs.ini"

int fuzz_analyze_run(const uint8_t *data, size_t size);

/* The board, loaded on first use and kept for the life of the process. */
static const fs_board *fuzz_analyze_board(void)
{
    static fs_board board;
    static int loaded;
    if (!loaded) {
        fs_error err = {{0}};
        if (fs_board_load(NULL, FUZZ_ANALYZE_BOARD, &board, &err) < 0) {
            fprintf(stderr, "fuzz_analyze: %s (run from the repository root)\n", err.msg);
            abort();
        }
        loaded = 1;
    }
    return &board;
}

static void fuzz_analyze_once(fs_image *img, const fs_analyze_opts *opts)
{
    fs_report rep;
    fs_error err = {{0}};
    if (fuzz_check(fs_analyze(img, opts, &rep, &err), &err, FUZZ_NAME) == FUZZ_ACCEPTED) {
        fs_output_opts oo = {0};
        FUZZ_FORMAT(fs_output_text(f, &rep, &oo));
        FUZZ_FORMAT(fs_output_json(f, &rep, &oo));
        FUZZ_FORMAT(fs_output_csv(f, &rep, &oo));
        (void)fs_report_worst(&rep);
        (void)fs_report_boots(&rep);
    }
    fs_report_free(&rep);
}

int fuzz_analyze_run(const uint8_t *data, size_t size)
{
    fs_image img = {0};
    fs_error err = {{0}};
    int rc = fuzz_check(fs_elf_load_mem(FUZZ_NAME, data, size, &img, &err), &err, FUZZ_NAME);
    if (rc == FUZZ_ACCEPTED) {
        fs_analyze_opts plain = {0};
        fuzz_analyze_once(&img, &plain);
        fs_analyze_opts with_board = {.board = fuzz_analyze_board()};
        fuzz_analyze_once(&img, &with_board);
    }
    fs_image_free(&img);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_analyze_run(data, size);
    return 0;
}
#endif
