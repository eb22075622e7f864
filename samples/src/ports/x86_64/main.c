/*
 * main.c - the host (x86-64) sample: an ordinary hosted program that runs
 * every function of its generated modules and prints a checksum.
 */
#include <stdio.h>
#include <string.h>

#include "fw.h"

static unsigned long checksum(const char *s, unsigned long h)
{
    while (*s) {
        h = h * 131u + (unsigned char)*s++;
    }
    return h;
}

int main(int argc, char **argv)
{
    unsigned long h = (unsigned long)argc;
    int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    for (uint32_t m = 0; m < fw_module_count; m++) {
        const fw_module_t *mod = fw_module_table[m];
        for (uint32_t i = 0; i < mod->count; i++) {
            mp_obj_t r = mod->table[i].fun((mp_obj_t)(uintptr_t)h, (mp_obj_t)(uintptr_t)i);
            h = checksum(mod->table[i].name, h ^ (uintptr_t)r);
            if (verbose) {
                printf("%s.%s\n", mod->name, mod->table[i].name);
            }
        }
    }
    printf("modules: %u, checksum: %08lx\n", (unsigned)fw_module_count, h & 0xffffffffu);
    return 0;
}
