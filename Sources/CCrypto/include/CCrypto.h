#ifndef RELANCE_CCRYPTO_H
#define RELANCE_CCRYPTO_H
#include <stddef.h>
/// SHA-256 of `length` bytes into `digest` (32 bytes), through OpenSSL's libcrypto.
void relance_sha256(const void *bytes, size_t length, unsigned char digest[32]);
/// HMAC-SHA-256 of `length` bytes with `key` into `digest` (32 bytes). Returns 1 on success.
int relance_hmac_sha256(const void *key, size_t key_length, const void *bytes, size_t length,
                        unsigned char digest[32]);
/// HMAC-SHA-1 of `length` bytes with `key` into `digest` (20 bytes), for Twilio's
/// request signatures. Returns 1 on success.
int relance_hmac_sha1(const void *key, size_t key_length, const void *bytes, size_t length,
                      unsigned char digest[20]);
#endif
