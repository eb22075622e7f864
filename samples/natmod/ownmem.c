/* ownmem.c - a native module with its own memcpy, which the ESP8266 ROM
 * also provides (a redundant copy), plus a ROM call (strlen), a bss
 * buffer, a table of code pointers (a run of text relocations) and a
 * call through mp_fun_table. */
#include "runtime.h"

static char buffer[64];

__attribute__((noinline)) void *memcpy(void *dst, const void *src, size_t n)
{
    char *d = dst;
    const char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

static int op_len(const char *s) { return (int)strlen(s); }
static int op_copy(const char *s) { memcpy(buffer, s, 8); return buffer[0]; }
static int op_first(const char *s) { return s[0]; }

static int (*const ops[])(const char *) = {op_len, op_copy, op_first};

int mpy_init(void *self, int n_args, int n_kw, void **args)
{
    void (*print)(const char *) = (void (*)(const char *))mp_fun_table[72];
    print("ownmem");
    int sum = 0;
    for (int i = 0; i < 3; i++)
        sum += ops[i]((const char *)args[i]);
    return sum + n_args + n_kw + (self != 0);
}
