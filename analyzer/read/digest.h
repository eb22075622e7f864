/*
 * digest.h - MD5 and SHA-256 for the readers that check them (ESP-IDF
 * partition tables, ESP32 app images), from libcrypto.
 *
 * libcrypto is referenced weakly: flashsize-full links it and gets the
 * digests; the light `flashsize` (which links only libelf, jansson and
 * inih, for its start-up time) does not, and fs_digest_available() is then
 * false: its callers hand such work to flashsize-full (cmd_analyze.c).
 */
#ifndef FS_DIGEST_H
#define FS_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { FS_DIGEST_MD5 = 0, FS_DIGEST_SHA256 = 1 } fs_digest_kind;

bool fs_digest_available(void);
/* out receives 16 (MD5) or 32 (SHA-256) bytes; -1 when libcrypto is not
 * linked or fails. */
int fs_digest(fs_digest_kind kind, const void *data, size_t len, unsigned char *out);

#endif
