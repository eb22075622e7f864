/*
 * main.c - main loop of the Cortex-M4 sample: walks the generated modules
 * and frozen scripts so that --gc-sections keeps them.
 */
#include "fw.h"

volatile uint32_t fw_result;
uint32_t fw_boot_count = 1;
uint8_t fw_rx_buffer[2048];

int main(void)
{
    uint32_t h = fw_boot_count;
    for (uint32_t m = 0; m < fw_module_count; m++) {
        const fw_module_t *mod = fw_module_table[m];
        for (uint32_t i = 0; i < mod->count; i++) {
            h ^= (uint32_t)(uintptr_t)mod->table[i].fun((mp_obj_t)(uintptr_t)h, (mp_obj_t)(uintptr_t)fw_rx_buffer[i]);
        }
    }
    for (uint32_t i = 0; i < fw_frozen_count; i++) {
        h = fw_core_hash(h, fw_frozen_table[i].data[i & 7u]);
    }
    fw_result = h;
    return 0;
}
