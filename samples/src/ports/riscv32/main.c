/*
 * main.c - the RISC-V (RV32IMAC) sample: walks its modules once.
 */
#include "fw.h"

volatile uint32_t fw_result;
uint32_t fw_seed = 0x1234u;
static uint32_t fw_scratch[64];

int main(void)
{
    uint32_t h = fw_seed;
    for (uint32_t m = 0; m < fw_module_count; m++) {
        const fw_module_t *mod = fw_module_table[m];
        for (uint32_t i = 0; i < mod->count; i++) {
            h ^= (uint32_t)(uintptr_t)mod->table[i].fun((mp_obj_t)(uintptr_t)h, (mp_obj_t)(uintptr_t)i);
            fw_scratch[i & 63u] = h;
        }
    }
    fw_result = h ^ fw_scratch[h & 63u];
    return 0;
}
