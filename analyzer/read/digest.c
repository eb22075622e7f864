/*
 * digest.c - MD5 and SHA-256 through libcrypto's EVP_Digest, referenced
 * weakly (digest.h says why).
 */
#include "digest.h"

#include <openssl/evp.h>

#pragma weak EVP_Digest
#pragma weak EVP_md5
#pragma weak EVP_sha256

bool fs_digest_available(void)
{
    return EVP_Digest != NULL && EVP_md5 != NULL && EVP_sha256 != NULL;
}

int fs_digest(fs_digest_kind kind, const void *data, size_t len, unsigned char *out)
{
    if (!fs_digest_available())
        return -1;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    const EVP_MD *alg = kind == FS_DIGEST_MD5 ? EVP_md5() : EVP_sha256();
    if (!alg || !EVP_Digest(data, len, md, &n, alg, NULL) || n != (kind == FS_DIGEST_MD5 ? 16u : 32u))
        return -1;
    for (unsigned i = 0; i < n; i++)
        out[i] = md[i];
    return 0;
}
