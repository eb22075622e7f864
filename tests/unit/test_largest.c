/*
 * test_largest.c - the largest-symbols order (fs_report_largest) against
 * the order its header promises, worked out here with qsort: size
 * descending, then name (strcmp), then address, then table order.
 *
 * The symbols are made to tie: a few sizes (below, at and above 2^32,
 * where the sort's size key saturates), names that share long prefixes
 * (8, 16 and 2,500 bytes: past the radix sort's depth limit), names that
 * end where others go on, bytes above 0x7f (strcmp compares them
 * unsigned), the same name at several addresses and the same name and
 * address many times; once with sizes of every width, once with two small
 * ones (long runs of equal size and name).  Both paths: every symbol (the radix sort), and the top
 * n of them for several n (the pass that keeps the n best).
 */
#include "testutil.h"

#include "analyze.h"

#define NSYMS 6000

static uint64_t rng_state = 0x2545f4914f6cdd1du;

static uint64_t rng(void)
{
    return tu_rng(&rng_state);
}

static int ref_cmp(const void *pa, const void *pb, void *ctx)
{
    const fs_image *img = ctx;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    const fs_symbol *x = &img->symbols[a], *y = &img->symbols[b];
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* NSYMS symbols of the given sizes, sorted both ways. */
static void check_order(const uint64_t *sizes, size_t nsizes)
{
    static const char *const stems[] = {"", "a", "mp_obj_", "mp_obj_i", "mp_obj_instance_",
                                        "mp_obj_instance_attr_lookup_", "\x80", "\xff\xfe", "z"};
    static const char *const tails[] = {"", "a", "b", "aa", "\x7f", "\x80", "\xff", "0", "a\x80", "zzzzzzzzz"};
    char *long_stem = malloc(2501);
    assert_non_null(long_stem);
    memset(long_stem, 'L', 2500);
    long_stem[2500] = '\0';

    fs_symbol *syms = calloc(NSYMS, sizeof *syms);
    char **names = calloc(NSYMS, sizeof *names);
    size_t *by_size = malloc(NSYMS * sizeof *by_size);
    assert_true(syms && names && by_size);
    size_t nsized = 0;
    for (size_t i = 0; i < NSYMS; i++) {
        const char *stem = rng() % 50 == 0 ? long_stem : stems[rng() % (sizeof stems / sizeof *stems)];
        const char *tail = tails[rng() % (sizeof tails / sizeof *tails)];
        size_t len = strlen(stem) + strlen(tail);
        names[i] = malloc(len + 1);
        assert_non_null(names[i]);
        snprintf(names[i], len + 1, "%s%s", stem, tail);
        syms[i] = (fs_symbol){.name = names[i], .value = 0x40200000 + 4 * (rng() % 4),
                              .size = sizes[rng() % nsizes], .section = 0};
        if (rng() % 10 == 0) /* not sized, or in no section: not listed */
            syms[i].size = 0;
        else if (rng() % 10 == 0)
            syms[i].section = -1;
        if (syms[i].size > 0 && syms[i].section >= 0)
            by_size[nsized++] = i;
    }
    fs_image img = {.path = "mem.elf", .symbols = syms, .nsymbols = NSYMS};
    fs_report rep = {.image = &img, .by_size = by_size, .nby_size = nsized};

    size_t *want = malloc(nsized * sizeof *want);
    assert_non_null(want);
    memcpy(want, by_size, nsized * sizeof *want);
    qsort_r(want, nsized, sizeof *want, ref_cmp, &img);

    static const size_t tops[] = {0, 1, 2, 17, 100, 4000};
    for (size_t t = 0; t < sizeof tops / sizeof *tops; t++) {
        size_t count;
        size_t *got = fs_report_largest(&rep, tops[t], &count);
        assert_non_null(got);
        assert_int_equal(count, tops[t] ? tops[t] : nsized);
        for (size_t i = 0; i < count; i++)
            if (got[i] != want[i])
                fail_msg("top %zu: place %zu is symbol %zu (size %llu, \"%.20s\"), expected %zu (size %llu, \"%.20s\")",
                         tops[t], i, got[i], (unsigned long long)syms[got[i]].size, syms[got[i]].name, want[i],
                         (unsigned long long)syms[want[i]].size, syms[want[i]].name);
        free(got);
    }
    free(want);
    for (size_t i = 0; i < NSYMS; i++)
        free(names[i]);
    free(names);
    free(syms);
    free(by_size);
    free(long_stem);
}

/* Sizes of one to eight bytes and past 32 bits. */
static void test_wide_sizes(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {1, 2, 4, 255, 256, 257, 65536, 1u << 24, 0xffffffffu, 0x100000000u,
                                     0x100000001u, 1ull << 40, UINT64_MAX};
    check_order(sizes, sizeof sizes / sizeof *sizes);
}

/* Two small sizes: groups of the same size and name many times over
 * (ordered by address, then table order), names first unlike at any byte. */
static void test_dense_ties(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {4, 8};
    check_order(sizes, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wide_sizes),
        cmocka_unit_test(test_dense_ties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
