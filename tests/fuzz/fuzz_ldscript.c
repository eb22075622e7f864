/*
 * fuzz_ldscript.c - libFuzzer harness for the GNU ld linker script reader
 * (fs_ldscript_load, which reads files) and its expression evaluator
 * (fs_expr_eval, which reads a string).
 *
 * The input is written to "in.ld" in the harness's private directory and
 * loaded by path, so INCLUDE, SEARCH_DIR and the file-size cap are
 * exercised as a user meets them; an INCLUDE of "in.ld" is the script
 * itself (the include-depth cap).  The same bytes, up to the first NUL, are
 * then evaluated as one expression with a lookup that knows every region
 * and a few symbols.
 */
#include "fuzz.h"

#include "ldscript.h"

int fuzz_ldscript_run(const uint8_t *data, size_t size);

static int fuzz_ldscript_lookup(void *ctx, const char *func, const char *name, uint64_t *value)
{
    (void)ctx;
    if (func && strcmp(func, "ORIGIN") == 0)
        *value = 0x40200000u + strlen(name);
    else if (func && strcmp(func, "LENGTH") == 0)
        *value = 0x100000u;
    else if (func && strcmp(func, "DEFINED") == 0)
        *value = name[0] == '_';
    else if (name[0] == '_')
        *value = 0x3ffe8000u;
    else
        return -1;
    return 0;
}

int fuzz_ldscript_run(const uint8_t *data, size_t size)
{
    char path[128];
    fuzz_tmpfile("in.ld", data, size, path, sizeof path);
    fs_memmap map;
    fs_error err = {{0}};
    memset(&map, 0, sizeof map);
    /* what the RP2-style seeds expect from the command line (ld --defsym) */
    static const fs_ldsym defsyms[] = {{(char *)"__flash_size__", 2u << 20}, {(char *)"__storage__", 1u << 20}};
    fs_ld_options opts = {.defsyms = defsyms, .ndefsyms = 2};
    int rc = fuzz_check(fs_ldscript_load(path, &opts, &map, &err), &err, NULL);
    fs_memmap_free(&map);
    unlink(path);

    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    uint64_t value;
    char why[256];
    why[0] = '\0';
    if (fs_expr_eval(text, fuzz_ldscript_lookup, NULL, &value, why, sizeof why) < 0 && why[0] == '\0') {
        fprintf(stderr, "fuzz: expression refused without a message\n");
        abort();
    }
    free(text);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_ldscript_run(data, size);
    return 0;
}
#endif
