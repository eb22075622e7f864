/* app.c - the esp32-app sample (samples/README.md): a little of every kind
 * of section an ESP-IDF application has (app description, flash rodata and
 * code, IRAM code, DRAM data and bss, RTC code), for samples/ld/esp32_app.ld
 * to place at the ESP32's addresses. */
struct app_desc { unsigned magic; char version[32]; char name[32]; unsigned char pad[188]; };
__attribute__((section(".flash.appdesc"), used)) const struct app_desc esp_app_desc = {0xABCD5432u, "v1.28.0", "micropython", {0}};
static const unsigned short table[64] = {1, 2, 3, 5, 8, 13, 21, 34, 55, 89};
int counter = 7;
static int scratch[256];
__attribute__((section(".iram1.isr"), noinline)) int isr_handler(int x) { return x ^ counter; }
__attribute__((section(".rtc.text"), noinline)) int rtc_wake_stub(int x) { return x + 1; }
int app_main(void);
int app_main(void)
{
    int s = 0;
    for (int i = 0; i < 64; i++)
        s += table[i] * (scratch[i & 255] = isr_handler(i));
    return s + rtc_wake_stub(s);
}
