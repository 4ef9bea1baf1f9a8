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

/* Private keys for DKIM (opaque EVP_PKEY pointers, freed with relance_key_free). */
enum { RELANCE_KEY_OTHER = 0, RELANCE_KEY_RSA = 1, RELANCE_KEY_ED25519 = 2 };
/// Reads an unencrypted PEM private key (PKCS#8 or traditional). NULL when unreadable;
/// `kind` is one of RELANCE_KEY_* and `bits` its size.
void *relance_key_read_pem(const void *pem, size_t length, int *kind, int *bits);
/// A new key: RSA of `bits` bits, or Ed25519. NULL on failure.
void *relance_key_generate(int kind, int bits);
void relance_key_free(void *key);
/// Signs `bytes`: RSA PKCS#1 v1.5 with SHA-256, or pure Ed25519. Returns the signature's
/// length written into `signature` (at most `capacity`), or -1.
long relance_key_sign(void *key, int kind, const void *bytes, size_t length, unsigned char *signature,
                      size_t capacity);
/// The public key as DKIM publishes it: SubjectPublicKeyInfo DER for RSA, the raw 32 bytes
/// for Ed25519 (RFC 8463). Returns its length, or -1.
long relance_key_public(void *key, int kind, unsigned char *out, size_t capacity);
/// The private key as PKCS#8 PEM. Returns its length, or -1.
long relance_key_private_pem(void *key, char *out, size_t capacity);
/// DKIM's relaxed body canonicalization (RFC 6376 §3.4.4) of `n` bytes into `out`, which
/// holds at least `n + 2` bytes. Returns the length written.
size_t relance_dkim_relaxed_body(const unsigned char *in, size_t n, unsigned char *out);
/// A bcrypt ($2b$) hash of `password` at `cost` (4-31) with a random salt, as a
/// NUL-terminated string in `out`. Returns its length, or -1.
long relance_bcrypt_hash(const char *password, int cost, char *out, size_t capacity);
/// 1 when `password` matches the bcrypt hash `stored` (compared in constant time), else 0.
int relance_bcrypt_verify(const char *password, const char *stored);
#endif
