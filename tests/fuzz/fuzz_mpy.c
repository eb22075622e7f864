/*
 * fuzz_mpy.c - libFuzzer harness for the .mpy parser (fs_mpy_parse: header,
 * qstr and object tables, the raw code tree, viper relocation streams).  An
 * accepted file is walked through the accessors the natmod report uses:
 * relocation destinations and the text words of every raw code.
 */
#include "fuzz.h"

#include "mpy.h"

int fuzz_mpy_run(const uint8_t *data, size_t size);

static void fuzz_mpy_walk(const fs_mpy *m)
{
    char buf[96];
    for (size_t i = 0; i < m->nrelocs; i++) {
        fs_mpy_reloc_dest(&m->relocs[i], buf, sizeof buf);
        if (m->relocs[i].rawcode >= m->nrawcodes)
            abort();
    }
    for (size_t r = 0; r < m->nrawcodes; r++) {
        (void)fs_mpy_kind_name(m->rawcodes[r].kind);
        uint64_t word;
        /* the first and last few words, and one past the end */
        for (uint64_t w = 0; w < 4; w++) {
            (void)fs_mpy_text_word(m, r, w, &word);
            (void)fs_mpy_text_word_relocated(m, r, w);
        }
        uint64_t words = m->rawcodes[r].data_len / (m->word_size ? m->word_size : 4);
        (void)fs_mpy_text_word(m, r, words, &word);
        (void)fs_mpy_text_word_relocated(m, r, words);
    }
    for (size_t i = 0; i < m->nobjs; i++)
        (void)fs_mpy_obj_type_name(m->objs[i].type);
    (void)fs_mpy_arch_name(m->hdr.arch);
}

int fuzz_mpy_run(const uint8_t *data, size_t size)
{
    fs_mpy m;
    fs_error err = {{0}};
    memset(&m, 0, sizeof m);
    int rc = fuzz_check(fs_mpy_parse(FUZZ_NAME, data, size, &m, &err), &err, FUZZ_NAME);
    if (rc == FUZZ_ACCEPTED)
        fuzz_mpy_walk(&m);
    fs_mpy_free(&m);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_mpy_run(data, size);
    return 0;
}
#endif
