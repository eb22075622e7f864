/*
 * fuzz_archive.c - libFuzzer harness for relocatable objects and ar
 * archives (archive.h).  An input that starts with the ar magic "!<arch>\n"
 * is written to "in.a" in the harness's private directory and read with
 * fs_archive_load (the only way in for archives: member headers, the symbol
 * index and long-name tables, then every member as an object); anything
 * else goes to fs_object_load_mem.  Accepted objects are queried the way
 * the natmod classification queries them.
 */
#include "fuzz.h"

#include "archive.h"

int fuzz_archive_run(const uint8_t *data, size_t size);

static void fuzz_archive_object(const fs_object *o)
{
    (void)fs_object_file_bytes(o);
    for (size_t i = 0; i < o->img.nsymbols; i++) {
        const fs_symbol *s = &o->img.symbols[i];
        if (fs_symbol_is_global_def(s) && fs_object_defines(o, s->name) == NULL)
            abort();
        (void)fs_symbol_is_undef_ref(s);
    }
}

int fuzz_archive_run(const uint8_t *data, size_t size)
{
    fs_error err = {{0}};
    int rc;
    if (size >= 8 && memcmp(data, "!<arch>\n", 8) == 0) {
        char path[128];
        fuzz_tmpfile("in.a", data, size, path, sizeof path);
        fs_archive a;
        memset(&a, 0, sizeof a);
        rc = fuzz_check(fs_archive_load(path, &a, &err), &err, path);
        if (rc == FUZZ_ACCEPTED) {
            for (size_t i = 0; i < a.nmembers; i++)
                fuzz_archive_object(&a.members[i]);
            for (size_t i = 0; i < a.nmembers; i++)
                for (size_t k = 0; k < a.members[i].img.nsymbols; k++)
                    if (fs_symbol_is_global_def(&a.members[i].img.symbols[k]) &&
                        fs_archive_find(&a, a.members[i].img.symbols[k].name) < 0)
                        abort();
        }
        fs_archive_free(&a);
        unlink(path);
    } else {
        fs_object o;
        memset(&o, 0, sizeof o);
        rc = fuzz_check(fs_object_load_mem(FUZZ_NAME, "in.o", data, size, &o, &err), &err, FUZZ_NAME);
        if (rc == FUZZ_ACCEPTED)
            fuzz_archive_object(&o);
        fs_object_free(&o);
    }
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_archive_run(data, size);
    return 0;
}
#endif
