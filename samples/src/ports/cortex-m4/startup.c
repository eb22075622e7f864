/*
 * startup.c - vector table and reset handler of the Cortex-M4 sample.
 *
 * The vector table goes to .isr_vector (kept and placed first in FLASH by
 * the linker script).  Reset_Handler copies .data from its load address in
 * FLASH to RAM, clears .bss and calls main.
 */
#include "fw.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
int main(void);

void Reset_Handler(void);
void Default_Handler(void);
void HardFault_Handler(void);
void SysTick_Handler(void);

volatile uint32_t fw_fault_count;
volatile uint32_t fw_ticks;

void Reset_Handler(void)
{
    uint32_t *src = _sidata;
    for (uint32_t *dst = _sdata; dst < _edata; dst++) {
        *dst = *src++;
    }
    for (uint32_t *dst = _sbss; dst < _ebss; dst++) {
        *dst = 0;
    }
    main();
    for (;;) {
    }
}

void Default_Handler(void)
{
    for (;;) {
    }
}

void HardFault_Handler(void)
{
    fw_fault_count++;
    for (;;) {
    }
}

void SysTick_Handler(void)
{
    fw_ticks++;
}

/* 16 core exceptions followed by 82 peripheral interrupts. */
__attribute__((section(".isr_vector"), used))
void (*const fw_isr_vector[16 + 82])(void) = {
    [0] = (void (*)(void))_estack,
    [1] = Reset_Handler,
    [2] = Default_Handler,      /* NMI */
    [3] = HardFault_Handler,
    [4] = Default_Handler,      /* MemManage */
    [5] = Default_Handler,      /* BusFault */
    [6] = Default_Handler,      /* UsageFault */
    [11] = Default_Handler,     /* SVCall */
    [12] = Default_Handler,     /* DebugMon */
    [14] = Default_Handler,     /* PendSV */
    [15] = SysTick_Handler,
    [16 ... 16 + 81] = Default_Handler,
};
