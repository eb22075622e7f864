/*
 * mpyshape_thumb.c - reset handler and vector table of the MicroPython-shaped
 * Thumb sample (mpyshape.c), as on stm32.
 */
#include <stdint.h>

extern uint32_t _estack;
void sdk_start(void);

void Reset_Handler(void)
{
    sdk_start();
}

void Default_Handler(void)
{
    for (;;) {
    }
}

__attribute__((section(".isr_vector"), used)) void *const vectors[16] = {
    &_estack, Reset_Handler, Default_Handler, Default_Handler, 0, 0, 0, 0,
    0, 0, 0, Default_Handler, 0, 0, Default_Handler, Default_Handler,
};
