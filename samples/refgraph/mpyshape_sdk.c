/*
 * mpyshape_sdk.c - SDK-style start code for the MicroPython-shaped samples:
 * built without -ffunction-sections, and on Xtensa its local symbols are
 * stripped (objcopy -x), as in the ESP8266 SDK's archives, so its static
 * functions are code without a symbol: one reached by call0, one only
 * through a function pointer the start code stores.
 */
#include <stdint.h>

int mp_main(void);
void sdk_start(void);
extern volatile uint32_t mp_io[8];

static void (*volatile sdk_timer_fn)(void);

static __attribute__((noinline)) void sdk_timer_cb(void)
{
    int a = (int)mp_io[4];
    mp_io[5] = (uint32_t)(a * 7 + 3);
    mp_io[6] = (uint32_t)(a >> 3);
    mp_main();
}

static __attribute__((noinline)) void sdk_init_hw(uint32_t v)
{
    mp_io[7] = v * 3u;
    sdk_timer_fn = sdk_timer_cb;
}

void sdk_start(void)
{
    sdk_init_hw(mp_io[0]);
    for (;;)
        if (sdk_timer_fn)
            sdk_timer_fn();
}
