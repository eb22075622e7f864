/*
 * chain.c - the refgraph samples' firmware: reference chains the tests know.
 *
 * Chains (what `flashsize why` must print, root first):
 *   entry -> fw_main -> fw_dispatch -> fw_handlers -> handler_parse
 *         -> parse_number -> digit_value
 *   vectors -> tick_handler -> tick_hook          (Thumb and Xtensa only)
 * Two features hang off the handler table only, so that removing one is a
 * one-word change (its slot becomes a null pointer, the table keeps its
 * size) and --gc-sections drops exactly what only that feature uses:
 *   feature_compress: compress_block, compress_codes, compress_window
 *   feature_selftest: selftest_check, selftest_vectors
 * Both call crc8 and read crc_seed, which therefore belong to neither: the
 * retained size of each feature is what a relink without it drops.
 * Build with -DOMIT_COMPRESS or -DOMIT_SELFTEST for the relinked variants.
 * Data objects are multiples of 4 bytes so that no alignment padding moves
 * when something is dropped.
 */
#include <stdint.h>

#define FN __attribute__((noipa))

typedef int (*handler_fn)(const uint8_t *buf, int len);

volatile uint8_t io_buf[64];
volatile uint32_t fw_ticks;
const uint32_t crc_seed[4] = {0x1d, 0x07, 0x31, 0x9b};

FN int digit_value(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : -1;
}

FN int parse_number(const uint8_t *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        int d = digit_value(p[i]);
        if (d < 0)
            break;
        v = v * 10 + d;
    }
    return v;
}

FN int handler_parse(const uint8_t *buf, int len)
{
    return parse_number(buf, len);
}

FN int handler_echo(const uint8_t *buf, int len)
{
    return len > 0 ? buf[len - 1] : 0;
}

FN uint8_t crc8(const uint8_t *p, int n)
{
    uint8_t c = (uint8_t)crc_seed[n & 3];
    for (int i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = (uint8_t)(c & 0x80 ? (c << 1) ^ 0x07 : c << 1);
    }
    return c;
}

#ifndef OMIT_COMPRESS
const uint16_t compress_codes[32] = {
    3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3,
    2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5,
};
uint8_t compress_window[128];

FN int compress_block(const uint8_t *p, int n)
{
    int out = 0;
    for (int i = 0; i < n; i++) {
        uint8_t v = (uint8_t)(p[i] ^ compress_window[(i + out) & 127]);
        compress_window[i & 127] = v;
        out += compress_codes[v & 31];
    }
    return out;
}

FN int feature_compress(const uint8_t *buf, int len)
{
    return compress_block(buf, len) + crc8(buf, len);
}
#define COMPRESS_ENTRY feature_compress
#else
#define COMPRESS_ENTRY 0
#endif

#ifndef OMIT_SELFTEST
const uint32_t selftest_vectors[8] = {
    0x12345678, 0x9abcdef0, 0x0f1e2d3c, 0x4b5a6978,
    0x11111111, 0x22222222, 0x33333333, 0x44444444,
};

FN int selftest_check(int i)
{
    return (selftest_vectors[i & 7] >> (i & 15)) & 1;
}

FN int feature_selftest(const uint8_t *buf, int len)
{
    int bad = 0;
    for (int i = 0; i < 8; i++)
        bad += selftest_check(i + len);
    return bad + crc8(buf, len);
}
#define SELFTEST_ENTRY feature_selftest
#else
#define SELFTEST_ENTRY 0
#endif

const handler_fn fw_handlers[4] = {handler_parse, COMPRESS_ENTRY, SELFTEST_ENTRY, handler_echo};

FN int fw_dispatch(int cmd, int len)
{
    handler_fn h = fw_handlers[cmd & 3];
    return h ? h((const uint8_t *)io_buf, len) : -1;
}

FN void tick_hook(void)
{
    fw_ticks++;
}

void tick_handler(void)
{
    tick_hook();
}

int fw_main(void)
{
    for (;;) {
        if (fw_dispatch(io_buf[0], io_buf[1]) < 0)
            io_buf[2] = 1;
    }
}
