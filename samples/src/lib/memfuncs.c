/*
 * memfuncs.c - the memory and string routines a freestanding firmware has to
 * bring along (the compiler emits calls to memset/memcpy for plain loops).
 * The loops here must not themselves be turned back into such calls.
 */
#include "fw.h"

#define NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

NO_LIBCALLS void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    if ((((uintptr_t)d | n) & 3u) == 0) {
        uint32_t w = (uint8_t)c * 0x01010101u;
        for (uint32_t *dw = (uint32_t *)d; n; n -= 4) {
            *dw++ = w;
        }
        return dst;
    }
    while (n--) {
        *d++ = (uint8_t)c;
    }
    return dst;
}

NO_LIBCALLS void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((((uintptr_t)d | (uintptr_t)s | n) & 3u) == 0) {
        uint32_t *dw = (uint32_t *)d;
        const uint32_t *sw = (const uint32_t *)s;
        for (; n; n -= 4) {
            *dw++ = *sw++;
        }
        return dst;
    }
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

NO_LIBCALLS void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d <= s || d >= s + n) {
        return memcpy(dst, src, n);
    }
    while (n--) {
        d[n] = s[n];
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++) {
        if (*x != *y) {
            return *x - *y;
        }
    }
    return 0;
}

size_t strlen(const char *s)
{
    const char *p = s;
    while (*p) {
        p++;
    }
    return (size_t)(p - s);
}
