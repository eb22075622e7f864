/*
 * rommain.c - entry point of the ROM samples.  It copies with its own
 * memcpy, measures with its own strlen, clears with memset (which the
 * ESP8266 ROM table provides) and divides (the compiler calls __udivsi3
 * and __umodsi3: from the ROM on the ESP8266, from libgcc on a Cortex-M0).
 */
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);
void firmware_start(void);
void Reset_Handler(void);

volatile uint32_t fw_rom_divisor = 7;
volatile uint32_t fw_rom_out;
static char fw_rom_buf[32];
static const char fw_rom_text[] = "rom sample";

void firmware_start(void)
{
    memcpy(fw_rom_buf, fw_rom_text, sizeof fw_rom_text);
    uint32_t n = (uint32_t)strlen(fw_rom_buf);
#ifdef WITH_MEMSET
    memset(fw_rom_buf, 0, n);
#endif
    fw_rom_out = n / fw_rom_divisor + n % fw_rom_divisor;
    for (;;) {
    }
}

void Reset_Handler(void)
{
    firmware_start();
}
