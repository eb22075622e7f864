/*
 * fuzz.h - what every harness in tests/fuzz shares.
 *
 * A harness is one file, fuzz_NAME.c, holding one entry point with
 * libFuzzer's signature.  Built alone with clang -fsanitize=fuzzer it is
 * LLVMFuzzerTestOneInput; tests/unit/test_fuzz_regress.c includes every
 * harness file with FUZZ_ENTRY defined to a distinct name, so the committed
 * corpus and regression inputs go through exactly the same code in the
 * normal and sanitizer test builds, without libFuzzer.
 *
 * Besides not crashing, not hanging and not leaking, a harness checks the
 * error convention of model.h: a refused input leaves a message that names
 * the input.  fuzz_check aborts otherwise, so the fuzzer reports it like a
 * crash.
 *
 * Readers that only take a path (linker scripts, board files, ROM tables)
 * get the input through a file in a private temporary directory made once
 * per process (fuzz_tmpfile); the harness writes the bytes there and reads
 * them back through the public API, so nothing is added to that API.
 */
#ifndef FS_FUZZ_H
#define FS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

/* The name every in-memory harness gives its input. */
#define FUZZ_NAME "fuzz-input"

/* The outcome a harness returns through fuzz_run_* for the replay test
 * (libFuzzer's entry point always returns 0). */
enum { FUZZ_ACCEPTED = 0, FUZZ_REFUSED = 1 };

/* rc is a library call's result; on failure err must name `name` (NULL:
 * some file, for readers whose errors name the INCLUDEd file at fault).  With
 * FUZZ_VERBOSE set in the environment the message is printed. */
static inline int fuzz_check(int rc, const fs_error *err, const char *name)
{
    if (rc == 0)
        return FUZZ_ACCEPTED;
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz: refused: %s\n", err->msg);
    if (rc != -1 || err->msg[0] == '\0' || strstr(err->msg, name ? name : ": ") == NULL) {
        fprintf(stderr, "fuzz: refused without naming %s: rc %d, \"%s\"\n", name ? name : "a file", rc, err->msg);
        abort();
    }
    return FUZZ_REFUSED;
}

/* This process's private directory, made on first use and removed at
 * exit (harnesses unlink their files after each input). */
static char fuzz_dir[64];

static inline void fuzz_tmpdir_remove(void)
{
    if (fuzz_dir[0])
        rmdir(fuzz_dir);
}

static inline const char *fuzz_tmpdir(void)
{
    if (!fuzz_dir[0]) {
        snprintf(fuzz_dir, sizeof fuzz_dir, "/tmp/flashsize-fuzz-XXXXXX");
        if (!mkdtemp(fuzz_dir)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_tmpdir_remove);
    }
    return fuzz_dir;
}

/* Write data[0..len) to DIR/name (replacing it) and return the path in buf. */
static inline const char *fuzz_tmpfile(const char *name, const uint8_t *data, size_t len, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", fuzz_tmpdir(), name);
    FILE *f = fopen(buf, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        perror("fuzz: writing the input file");
        abort();
    }
    return buf;
}

/* Run a formatter fn(FILE *, arg) into memory and throw the text away;
 * a formatter may fail only on a write error, which memory cannot have. */
#define FUZZ_FORMAT(call_with_f)                                 \
    do {                                                         \
        char *fuzz_buf_ = NULL;                                  \
        size_t fuzz_len_ = 0;                                    \
        FILE *f = open_memstream(&fuzz_buf_, &fuzz_len_);        \
        if (!f)                                                  \
            abort();                                             \
        if ((call_with_f) != 0) {                                \
            fprintf(stderr, "fuzz: formatter failed: %s\n", #call_with_f); \
            abort();                                             \
        }                                                        \
        fclose(f);                                               \
        free(fuzz_buf_);                                         \
    } while (0)

#endif
