/*
 * fuzz_elf.c - libFuzzer harness for the ELF reader (fs_elf_load_mem):
 * section headers, program headers, symbol tables and string tables of any
 * class and byte order.  An accepted image is walked through the model's
 * lookups so every name and index the reader produced is touched.
 */
#include "fuzz.h"

#include "elfread.h"

int fuzz_elf_run(const uint8_t *data, size_t size);

int fuzz_elf_run(const uint8_t *data, size_t size)
{
    fs_image img = {0};
    fs_error err = {{0}};
    int rc = fuzz_check(fs_elf_load_mem(FUZZ_NAME, data, size, &img, &err), &err, FUZZ_NAME);
    if (rc == FUZZ_ACCEPTED) {
        char buf[32];
        size_t names = strlen(fs_elf_machine_name(img.machine, buf, sizeof buf));
        for (size_t i = 0; i < img.nsections; i++) {
            names += strlen(img.sections[i].name);
            if (fs_image_section_by_index(&img, img.sections[i].index) == NULL)
                abort();
        }
        for (size_t i = 0; i < img.nsymbols; i++) {
            names += strlen(img.symbols[i].name);
            int s = img.symbols[i].section;
            if (s >= 0 && (size_t)s >= img.nsections)
                abort();
        }
        if (img.nsymbols && fs_image_symbol(&img, img.symbols[img.nsymbols - 1].name) == NULL)
            abort();
        (void)names;
    }
    fs_image_free(&img);
    return rc;
}

#ifndef FUZZ_REPLAY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_elf_run(data, size);
    return 0;
}
#endif
