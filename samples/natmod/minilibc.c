/* minilibc.c - the sample "libc" archive: one function per member, so a
 * link pulls exactly the members it needs (the toolchains here ship no
 * libc.a). */
#include "runtime.h"

#ifdef MINILIBC_MEMCPY
void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}
#endif

#ifdef MINILIBC_STRLEN
size_t strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}
#endif
