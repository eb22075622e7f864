/*
 * main.c - entry point of the frozen-module sample firmwares (ESP8266 and
 * Cortex-M).  It reads every frozen table so that the link keeps them, the
 * way MicroPython's import machinery does.
 */
#include "mpstub.h"

extern const char mp_frozen_names[];
extern const uint32_t mp_frozen_str_sizes[];
extern const char mp_frozen_str_content[];
extern const mp_frozen_module_t *const mp_frozen_mpy_content[];
extern const qstr_pool_t mp_qstr_frozen_const_pool;

volatile uint32_t fw_frozen_check;

void firmware_start(void);
void Reset_Handler(void);

void firmware_start(void)
{
    uint32_t h = (uint32_t)(uintptr_t)mp_frozen_names + mp_frozen_str_sizes[0];
    h += (uint32_t)(uintptr_t)mp_frozen_str_content;
    h += (uint32_t)(uintptr_t)mp_frozen_mpy_content[0]->proto_fun;
    h += mp_qstr_frozen_const_pool.len;
    fw_frozen_check = h;
    for (;;) {
    }
}

void Reset_Handler(void)
{
    firmware_start();
}
