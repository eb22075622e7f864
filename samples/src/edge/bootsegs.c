/* bootsegs.c - the esp8266-bootsegs sample (samples/README.md): one word in
 * each of 18 sections that samples/ld/esp8266_bootsegs.ld places 64 bytes
 * apart in IRAM, so that the boot image needs 19 segments with .text: more
 * than the 16 the ESP8266 boot ROM loads. */
#define SEG(n) __attribute__((section(".iram.seg" #n), used)) const unsigned seg##n = 0x5e600000u;
SEG(01) SEG(02) SEG(03) SEG(04) SEG(05) SEG(06) SEG(07) SEG(08) SEG(09)
SEG(10) SEG(11) SEG(12) SEG(13) SEG(14) SEG(15) SEG(16) SEG(17) SEG(18)
__attribute__((section(".irom0.text.flash_fn"))) int flash_fn(int x) { return x * 3 + 1; }
void firmware_start(void);
void firmware_start(void) { (void)flash_fn(2); for (;;) {} }
