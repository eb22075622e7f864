/*
 * fmt.c - numbers as the text and Markdown outputs write them: bytes with
 * thousands separators, signed deltas.  Shared by diff, forecast, budget,
 * the bot and the history, so none of them depends on another for it.
 */
#include "fmt.h"

#include <stdio.h>

void fs_fmt_bytes(char *buf, size_t len, uint64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < len; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

void fs_fmt_delta(char *buf, size_t len, int64_t v)
{
    uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
    if (len < 2)
        return;
    buf[0] = v < 0 ? '-' : '+';
    fs_fmt_bytes(buf + 1, len - 1, mag);
}
