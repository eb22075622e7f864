/* bootedge.c - the esp8266-boot-limit samples (samples/README.md): a little
 * code in IRAM and one word of .data, which samples/ld/esp8266_bootedge.ld
 * pads to exact sizes so that the boot image is exactly at its limit. */
int boot_counter = 7;
__attribute__((section(".irom0.text.flash_fn"))) int flash_fn(int x) { return x * 5 + boot_counter; }
void firmware_start(void);
void firmware_start(void) { (void)flash_fn(2); for (;;) {} }
