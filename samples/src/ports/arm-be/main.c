/*
 * main.c - the big-endian ARM (Cortex-R4, BE8) sample.
 */
#include "fw.h"

int main(void);
void _start(void);

volatile uint32_t fw_result;
uint32_t fw_seed = 0x01020304u;
static uint32_t fw_scratch[32];

void _start(void)
{
    main();
    for (;;) {
    }
}

int main(void)
{
    uint32_t h = fw_seed;
    for (uint32_t m = 0; m < fw_module_count; m++) {
        const fw_module_t *mod = fw_module_table[m];
        for (uint32_t i = 0; i < mod->count; i++) {
            h ^= (uint32_t)(uintptr_t)mod->table[i].fun((mp_obj_t)(uintptr_t)h, (mp_obj_t)(uintptr_t)i);
            fw_scratch[i & 31u] = h;
        }
    }
    fw_result = h ^ fw_scratch[h & 31u];
    return 0;
}
