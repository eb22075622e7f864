/*
 * start_thumb.c - reset handler and vector table of the Thumb sample.
 */
#include <stdint.h>

extern uint32_t _estack;
int fw_main(void);
void tick_handler(void);

void Reset_Handler(void)
{
    fw_main();
}

void Default_Handler(void)
{
    for (;;) {
    }
}

__attribute__((section(".isr_vector"), used)) void *const vectors[16] = {
    &_estack, Reset_Handler, Default_Handler, Default_Handler, 0, 0, 0, 0,
    0, 0, 0, Default_Handler, 0, 0, Default_Handler, tick_handler,
};
