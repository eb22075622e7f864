/*
 * fmt.h - numbers as the text and Markdown outputs write them (fmt.c).
 */
#ifndef FS_FMT_H
#define FS_FMT_H

#include <stddef.h>
#include <stdint.h>

/* v with thousands separators ("1,048,576"), cut to fit len bytes. */
void fs_fmt_bytes(char *buf, size_t len, uint64_t v);
/* v with its sign and thousands separators ("+1,024", "-12"). */
void fs_fmt_delta(char *buf, size_t len, int64_t v);

#endif
