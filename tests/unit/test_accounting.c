/*
 * test_accounting.c - the bytes sized symbols cover, per section, against
 * the union of their ranges worked out here the plain way (clip each range
 * to its section, sort, merge).
 *
 * The images are made in memory: sections that end inside a 64-bit word
 * and on a word boundary, one with two symbols fifteen words apart, a
 * non-allocated and a TLS section (never counted), symbols that overlap, nest, cross their section's ends, wrap
 * the address space, and ARM functions with the Thumb bit.  Each image is
 * accounted twice: as it is (coverage kept as one bit per byte) and with a
 * 200 MiB NOBITS section added (too large for the bitmaps: the ranges are
 * sorted instead).  Both must give the same numbers, and every section's
 * labels add up to its size.
 */
#include "testutil.h"

#include "accounting.h"

#include <elf.h>

#define NSYMS 3000

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    return tu_rng(&rng_state);
}

typedef struct range {
    uint64_t lo, hi;
} range;

static int range_cmp(const void *a, const void *b)
{
    const range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool counts(const fs_section *s)
{
    return (s->flags & SHF_ALLOC) && s->size > 0 && !((s->flags & SHF_TLS) && s->type == SHT_NOBITS);
}

/* The union of the sized symbols' ranges clipped to section sec. */
static uint64_t covered(const fs_image *img, size_t sec)
{
    const fs_section *s = &img->sections[sec];
    range *r = malloc((img->nsymbols + 1) * sizeof *r);
    assert_non_null(r);
    size_t n = 0;
    for (size_t i = 0; i < img->nsymbols; i++) {
        const fs_symbol *y = &img->symbols[i];
        if (y->section != (int)sec || y->size == 0)
            continue;
        uint64_t v = y->value;
        if (img->machine == EM_ARM && y->type == STT_FUNC)
            v &= ~1ull;
        uint64_t e = y->size > UINT64_MAX - v ? UINT64_MAX : v + y->size;
        uint64_t lo = v > s->addr ? v : s->addr, hi = e < s->addr + s->size ? e : s->addr + s->size;
        if (lo < hi)
            r[n++] = (range){lo, hi};
    }
    qsort(r, n, sizeof *r, range_cmp);
    uint64_t total = 0, cur = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t lo = r[i].lo > cur ? r[i].lo : cur;
        if (r[i].hi > lo) {
            total += r[i].hi - lo;
            cur = r[i].hi;
        }
    }
    free(r);
    return total;
}

static void expect_accounting(const fs_image *img)
{
    fs_accounting a;
    fs_error err;
    if (fs_accounting_build(img, NULL, NULL, &a, &err) != 0)
        fail_msg("%s", err.msg);
    size_t k = 0;
    for (size_t i = 0; i < img->nsections; i++) {
        const fs_section *s = &img->sections[i];
        if (!counts(s))
            continue;
        assert_true(k < a.nsecs);
        const fs_acct_section *x = &a.secs[k++];
        assert_string_equal(x->name, s->name);
        assert_int_equal(x->size, s->size);
        assert_int_equal(x->symbols, covered(img, i));
        assert_int_equal(x->symbols + x->literal_pools + x->string_literals + x->object_data + x->padding +
                             x->unattributed,
                         s->size);
    }
    assert_int_equal(a.nsecs, k);
    fs_accounting_free(&a);
}

/* A symbol in section sec from value, size bytes. */
static fs_symbol sym(int sec, uint64_t value, uint64_t size, uint8_t type)
{
    return (fs_symbol){.name = "s", .value = value, .size = size, .type = type, .section = sec};
}

static void run_image(uint16_t machine)
{
    fs_section secs[8] = {
        {.name = ".text", .type = SHT_PROGBITS, .flags = SHF_ALLOC | SHF_EXECINSTR, .addr = 0x40100000, .size = 1000},
        {.name = ".rodata", .type = SHT_PROGBITS, .flags = SHF_ALLOC, .addr = 0x3ffe8000, .size = 4103},
        {.name = ".debug_info", .type = SHT_PROGBITS, .addr = 0, .size = 500},
        {.name = ".bss", .type = SHT_NOBITS, .flags = SHF_ALLOC | SHF_WRITE, .addr = 0x3fff0000, .size = 192},
        {.name = ".tbss", .type = SHT_NOBITS, .flags = SHF_ALLOC | SHF_WRITE | SHF_TLS, .addr = 0x3fff1000, .size = 64},
        {.name = ".top", .type = SHT_PROGBITS, .flags = SHF_ALLOC, .addr = UINT64_MAX - 199, .size = 100},
        {.name = ".sparse", .type = SHT_PROGBITS, .flags = SHF_ALLOC, .addr = 0x50000000, .size = 1000},
        {.name = ".psram", .type = SHT_NOBITS, .flags = SHF_ALLOC | SHF_WRITE, .addr = 0x10000000, .size = 200u << 20},
    };
    fs_symbol *syms = calloc(NSYMS, sizeof *syms);
    assert_non_null(syms);
    size_t n = 0;
    /* the edges: a word's last byte, a run ending on a word boundary, one
     * byte past it, a whole section, across both ends, nested, a wrap */
    syms[n++] = sym(0, 0x40100000 + 63, 1, STT_OBJECT);
    syms[n++] = sym(0, 0x40100000 + 64, 64, STT_OBJECT);
    syms[n++] = sym(0, 0x40100000 + 129, 1, STT_OBJECT);
    syms[n++] = sym(0, 0x40100000 + 190, 4, STT_FUNC);
    syms[n++] = sym(0, 0x40100000 + 991, 64, STT_FUNC); /* past the end */
    syms[n++] = sym(1, 0x3ffe8000 - 10, 30, STT_OBJECT); /* before the start */
    syms[n++] = sym(1, 0x3ffe8000 + 100, 300, STT_OBJECT);
    syms[n++] = sym(1, 0x3ffe8000 + 200, 10, STT_OBJECT); /* inside the one before */
    syms[n++] = sym(3, 0x3fff0000, 192, STT_OBJECT);       /* all of .bss */
    syms[n++] = sym(4, 0x3fff1000, 64, STT_TLS);
    syms[n++] = sym(5, UINT64_MAX - 150, 200, STT_OBJECT);  /* wraps the address space */
    syms[n++] = sym(2, 0, 100, STT_OBJECT);
    syms[n++] = sym(-1, 0x40100000, 100, STT_OBJECT);
    syms[n++] = sym(6, 0x50000000 + 5, 1, STT_OBJECT); /* .sparse: words 0 and 15 of its 16 */
    syms[n++] = sym(6, 0x50000000 + 990, 5, STT_OBJECT);
    syms[n++] = sym(7, 0x10000000 + 5, 100u << 20, STT_OBJECT);
    syms[n++] = sym(7, 0x10000000 + (200u << 20) - 3, 10, STT_OBJECT);
    syms[n++] = sym(0, 0x40100000 + 301, 6, STT_FUNC); /* odd: Thumb on ARM */
    while (n < NSYMS) {
        int sec = (int)(rng() % 8) - 1; /* any but .sparse */
        sec = sec == 6 ? 7 : sec;
        const fs_section *s = sec >= 0 ? &secs[sec] : &secs[0];
        uint64_t r = rng();
        uint64_t size = r % 16 == 0 ? 0 : r % 16 == 1 ? rng() % 4096 : 1 + rng() % 70;
        uint64_t span = s->size < 4096 ? s->size + 40 : 4096;
        uint64_t value = s->addr - 20 + rng() % span;
        if (sec == 7 && rng() % 2) /* the big section's far end */
            value = s->addr + s->size - rng() % 4096;
        syms[n++] = sym(sec, value, size, rng() % 3 ? STT_FUNC : STT_OBJECT);
    }
    fs_image img = {.path = "mem.elf", .machine = machine, .sections = secs, .nsections = 7, .symbols = syms,
                    .nsymbols = n};
    expect_accounting(&img); /* without .psram: the bitmaps */
    img.nsections = 8;
    expect_accounting(&img); /* with it: the sorted ranges */
    free(syms);
}

static void test_xtensa(void **state)
{
    (void)state;
    run_image(EM_XTENSA);
}

static void test_arm(void **state)
{
    (void)state;
    run_image(EM_ARM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xtensa),
        cmocka_unit_test(test_arm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
