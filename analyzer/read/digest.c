/*
 * digest.c - MD5 and SHA-256 when digest_crypto.c is linked in (digest.h
 * says why it is referenced weakly).
 */
#include "digest.h"

#pragma weak fs_digest_libcrypto

bool fs_digest_available(void)
{
    return fs_digest_libcrypto != NULL;
}

int fs_digest(fs_digest_kind kind, const void *data, size_t len, unsigned char *out)
{
    return fs_digest_available() ? fs_digest_libcrypto(kind, data, len, out) : -1;
}
