/*
 * digest_crypto.c - MD5 and SHA-256 through libcrypto's EVP_Digest: the
 * only object of the library that names libcrypto (digest.h).
 */
#include "digest.h"

#include <openssl/evp.h>
#include <string.h>

int fs_digest_libcrypto(fs_digest_kind kind, const void *data, size_t len, unsigned char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    const EVP_MD *alg = kind == FS_DIGEST_MD5 ? EVP_md5() : EVP_sha256();
    if (!alg || !EVP_Digest(data, len, md, &n, alg, NULL) || n != (kind == FS_DIGEST_MD5 ? 16u : 32u))
        return -1;
    memcpy(out, md, n);
    return 0;
}
