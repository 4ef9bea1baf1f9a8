#include "CCrypto.h"
#include <openssl/sha.h>

void relance_sha256(const void *bytes, size_t length, unsigned char digest[32]) {
    SHA256((const unsigned char *)bytes, length, digest);
}
