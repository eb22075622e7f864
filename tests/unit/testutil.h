/*
 * testutil.h - shared helpers for the cmocka unit tests.
 *
 * Tests run from the repository root (tests/run.sh does the cd), so paths
 * such as "samples/build/esp8266-fits.elf" and "tests/data/..." are relative
 * to it.
 */
#ifndef FS_TESTUTIL_H
#define FS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A repeatable pseudo-random sequence (xorshift64) from *state, which
 * must not be 0: the same inputs on every run and machine. */
static inline uint64_t tu_rng(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Run a shell command and return its whole stdout as a malloc'd string
 * (NULL if it could not be started or exited non-zero). */
static inline char *tu_run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 2048) {
            char *g = realloc(buf, cap *= 2);
            if (!g) { free(buf); buf = NULL; }
            else buf = g;
        }
    }
    int st = pclose(p);
    if (!buf)
        return NULL;
    buf[len] = '\0';
    if (st != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Write bytes to a fresh temporary file; returns its malloc'd path. */
static inline char *tu_tmpfile(const void *data, size_t len)
{
    char tmpl[] = "/tmp/flashsize-test-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "wb");
    if (!f)
        return NULL;
    if (len && fwrite(data, 1, len, f) != len) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    return strdup(tmpl);
}

#endif
