/*
 * romfuncs.c - a firmware's own copies of routines the ESP8266 mask ROM
 * already has (memcpy, strlen): the case `flashsize rom` reports as
 * rom-duplicate.  -DNO_MEMCPY / -DNO_STRLEN leave one out (the sdkdup
 * sample puts each in an object of a different owner).
 */
#include <stddef.h>
#include <stdint.h>

#define NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))

void *memcpy(void *dst, const void *src, size_t n);
size_t strlen(const char *s);

#ifndef NO_MEMCPY
NO_LIBCALLS void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}
#endif

#ifndef NO_STRLEN
NO_LIBCALLS size_t strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}
#endif
