#include "CCrypto.h"
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <string.h>

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

/* ---- Private keys for DKIM signatures (RSA, Ed25519) ---------------------------------- */

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

void *relance_key_read_pem(const void *pem, size_t length, int *kind, int *bits) {
    BIO *bio = BIO_new_mem_buf(pem, (int)length);
    if (bio == NULL) return NULL;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
    BIO_free(bio);
    ERR_clear_error();
    if (key == NULL) return NULL;
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: *kind = RELANCE_KEY_RSA; break;
    case EVP_PKEY_ED25519: *kind = RELANCE_KEY_ED25519; break;
    default: *kind = RELANCE_KEY_OTHER; break;
    }
    *bits = EVP_PKEY_get_bits(key);
    return key;
}

void *relance_key_generate(int kind, int bits) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(kind == RELANCE_KEY_RSA ? EVP_PKEY_RSA : EVP_PKEY_ED25519, NULL);
    EVP_PKEY *key = NULL;
    if (ctx != NULL && EVP_PKEY_keygen_init(ctx) > 0 &&
        (kind != RELANCE_KEY_RSA || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) > 0)) {
        if (EVP_PKEY_keygen(ctx, &key) <= 0) key = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return key;
}

void relance_key_free(void *key) { EVP_PKEY_free((EVP_PKEY *)key); }

long relance_key_sign(void *key, int kind, const void *bytes, size_t length, unsigned char *signature,
                      size_t capacity) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t written = capacity;
    long result = -1;
    /* RSA: PKCS#1 v1.5 over SHA-256 of the bytes. Ed25519: PureEdDSA over the bytes as
       given (DKIM passes the SHA-256 of the signed data, RFC 8463). */
    const EVP_MD *md = kind == RELANCE_KEY_RSA ? EVP_sha256() : NULL;
    if (ctx != NULL && EVP_DigestSignInit(ctx, NULL, md, NULL, (EVP_PKEY *)key) > 0 &&
        EVP_DigestSign(ctx, signature, &written, (const unsigned char *)bytes, length) > 0) {
        result = (long)written;
    }
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return result;
}

long relance_key_public(void *key, int kind, unsigned char *out, size_t capacity) {
    if (kind == RELANCE_KEY_ED25519) {
        size_t length = capacity;
        long result = EVP_PKEY_get_raw_public_key((EVP_PKEY *)key, out, &length) > 0 ? (long)length : -1;
        ERR_clear_error();
        return result;
    }
    int length = i2d_PUBKEY((EVP_PKEY *)key, NULL);
    if (length <= 0 || (size_t)length > capacity) {
        ERR_clear_error();
        return -1;
    }
    unsigned char *cursor = out;
    length = i2d_PUBKEY((EVP_PKEY *)key, &cursor);
    ERR_clear_error();
    return length > 0 ? length : -1;
}

long relance_key_private_pem(void *key, char *out, size_t capacity) {
    BIO *bio = BIO_new(BIO_s_mem());
    long result = -1;
    if (bio != NULL && PEM_write_bio_PrivateKey(bio, (EVP_PKEY *)key, NULL, NULL, 0, NULL, NULL) > 0) {
        char *data = NULL;
        long length = BIO_get_mem_data(bio, &data);
        if (length > 0 && (size_t)length <= capacity) {
            memcpy(out, data, (size_t)length);
            result = length;
        }
    }
    BIO_free(bio);
    ERR_clear_error();
    return result;
}

/* ---- DKIM relaxed body canonicalization (RFC 6376 §3.4.4) ----------------------------- */

size_t relance_dkim_relaxed_body(const unsigned char *in, size_t n, unsigned char *out) {
    size_t o = 0, line_start = 0, empty_lines = 0, i = 0;
    int space = 0;
    while (i < n) {
        unsigned char byte = in[i];
        if (byte == '\r' && i + 1 < n && in[i + 1] == '\n') {
            if (o == line_start) {
                empty_lines++;
            } else {
                out[o++] = '\r';
                out[o++] = '\n';
                line_start = o;
            }
            space = 0;
            i += 2;
            continue;
        }
        if (byte == ' ' || byte == '\t') {
            space = 1;
            i++;
            continue;
        }
        if (o == line_start && empty_lines > 0) {
            /* Empty lines followed by text stay; only those at the end go. */
            for (; empty_lines > 0; empty_lines--) {
                out[o++] = '\r';
                out[o++] = '\n';
            }
            line_start = o;
        }
        if (space) {
            out[o++] = ' ';
            space = 0;
        }
        /* The rest of a run of ordinary bytes, copied at once. */
        size_t start = i;
        while (i < n && in[i] != ' ' && in[i] != '\t' && in[i] != '\r') i++;
        if (i == start) i++; /* a CR not followed by LF is an ordinary byte */
        memcpy(out + o, in + start, i - start);
        o += i - start;
    }
    if (o != line_start) {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    return o;
}

/* Passwords of the web console's users: bcrypt ($2b$) through libxcrypt's crypt_r. */
#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

long relance_bcrypt_hash(const char *password, int cost, char *out, size_t capacity) {
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    /* NULL random bytes: libxcrypt reads them from the kernel (getrandom). */
    if (crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, salt, (int)sizeof salt) == NULL) return -1;
    struct crypt_data *data = calloc(1, sizeof *data);
    if (data == NULL) return -1;
    long result = -1;
    const char *hash = crypt_r(password, salt, data);
    if (hash != NULL && hash[0] != '*') {
        size_t n = strlen(hash);
        if (n + 1 <= capacity) {
            memcpy(out, hash, n + 1);
            result = (long)n;
        }
    }
    OPENSSL_cleanse(data, sizeof *data);
    free(data);
    return result;
}

int relance_bcrypt_verify(const char *password, const char *stored) {
    struct crypt_data *data = calloc(1, sizeof *data);
    if (data == NULL) return 0;
    int match = 0;
    const char *hash = crypt_r(password, stored, data);
    size_t n = strlen(stored);
    if (hash != NULL && hash[0] != '*' && strlen(hash) == n) match = CRYPTO_memcmp(hash, stored, n) == 0;
    OPENSSL_cleanse(data, sizeof *data);
    free(data);
    return match;
}
