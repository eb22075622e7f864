/*
 * main.c - entry point of the ESP8266 sample firmware.
 *
 * firmware_start (the ELF entry, in IRAM) clears .bss and then touches every
 * registered module and frozen script, which is what keeps all generated
 * code alive under --gc-sections.
 */
#include "fw.h"

extern uint32_t _bss_start[], _bss_end[];

volatile uint32_t fw_boot_checksum;
uint32_t fw_boot_count = 1;
static const char fw_banner[] = "flashsize sample firmware (esp8266)";

FLASH_FN(fw_walk_modules) static FW_NOINLINE uint32_t fw_walk_modules(uint32_t h)
{
    for (uint32_t m = 0; m < fw_module_count; m++) {
        const fw_module_t *mod = fw_module_table[m];
        for (uint32_t i = 0; i < mod->count; i++) {
            h ^= (uint32_t)(uintptr_t)mod->table[i].fun((mp_obj_t)(uintptr_t)h, (mp_obj_t)(uintptr_t)i);
            h += (uint32_t)(uintptr_t)mod->table[i].name;
        }
    }
    return h;
}

FLASH_FN(fw_walk_frozen) static FW_NOINLINE uint32_t fw_walk_frozen(uint32_t h)
{
    for (uint32_t i = 0; i < fw_frozen_count; i++) {
        h = fw_core_hash(h, fw_frozen_table[i].size);
        h ^= fw_frozen_table[i].data[0];
    }
    return h;
}

void firmware_start(void)
{
    for (uint32_t *p = _bss_start; p < _bss_end; p++) {
        *p = 0;
    }
    uint32_t h = fw_boot_count + (uint32_t)(uintptr_t)fw_banner;
    h = fw_walk_modules(h);
    h = fw_walk_frozen(h);
    fw_boot_checksum = h;
    for (;;) {
    }
}
