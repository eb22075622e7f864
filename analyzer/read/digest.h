/*
 * digest.h - MD5 and SHA-256 for the readers that check them (ESP-IDF
 * partition tables, ESP32 app images), from libcrypto.
 *
 * The light `flashsize` links only libelf, jansson and inih, for its
 * start-up time, so libcrypto must stay out of it: fs_digest calls
 * fs_digest_libcrypto (digest_crypto.c, the one object that names
 * libcrypto) through a weak reference, which does not pull that object out
 * of libflashsize.a.  Programs that want the digests link it in with
 * -Wl,--undefined=fs_digest_libcrypto (the Makefile's WITH_DIGEST: the full
 * binary, the tests, the fuzzers); without it fs_digest_available() is
 * false and the light binary hands such work to flashsize-full
 * (cmd_analyze.c).
 */
#ifndef FS_DIGEST_H
#define FS_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { FS_DIGEST_MD5 = 0, FS_DIGEST_SHA256 = 1 } fs_digest_kind;

bool fs_digest_available(void);
/* out receives 16 (MD5) or 32 (SHA-256) bytes; -1 when libcrypto is not
 * linked in or fails. */
int fs_digest(fs_digest_kind kind, const void *data, size_t len, unsigned char *out);

/* The libcrypto implementation (digest_crypto.c). */
int fs_digest_libcrypto(fs_digest_kind kind, const void *data, size_t len, unsigned char *out);

#endif
