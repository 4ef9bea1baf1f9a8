#include "CCrypto.h"
#include <openssl/hmac.h>
#include <openssl/sha.h>

void relance_sha256(const void *bytes, size_t length, unsigned char digest[32]) {
    SHA256((const unsigned char *)bytes, length, digest);
}

int relance_hmac_sha256(const void *key, size_t key_length, const void *bytes, size_t length,
                        unsigned char digest[32]) {
    unsigned int digest_length = 32;
    return HMAC(EVP_sha256(), key, (int)key_length, (const unsigned char *)bytes, length, digest,
                &digest_length) != NULL;
}

int relance_hmac_sha1(const void *key, size_t key_length, const void *bytes, size_t length,
                      unsigned char digest[20]) {
    unsigned int digest_length = 20;
    return HMAC(EVP_sha1(), key, (int)key_length, (const unsigned char *)bytes, length, digest,
                &digest_length) != NULL;
}
