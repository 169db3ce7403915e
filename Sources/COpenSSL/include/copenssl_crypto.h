#ifndef COPENSSL_CRYPTO_H
#define COPENSSL_CRYPTO_H
// Hashing, KDFs, signatures and randomness from OpenSSL 3, the one crypto library
// of the binary. Plain functions (SHA256, RAND_bytes, EVP_PBE_scrypt, CRYPTO_memcmp)
// import into Swift as they are; only what Swift cannot express safely lives in
// crypto.c: OSSL_PARAM arrays (they must outlive the call that reads them, which
// Swift temporaries do not) and macros such as EVP_RSA_gen.
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>

/// An RSA public key from the big-endian modulus `n` and exponent `e` of a JWK
/// (RFC 7518 §6.3.1). NULL if OpenSSL rejects them. Free with EVP_PKEY_free.
EVP_PKEY *copenssl_rsa_public_key(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len);

/// The key's size in bits (EVP_PKEY_get_bits), 0 for NULL.
int copenssl_pkey_bits(const EVP_PKEY *key);

/// RSASSA-PKCS1-v1_5 with SHA-256 (JWS "RS256", RFC 7518 §3.3) over `data`.
/// 1 when the signature is valid, 0 when it is not, -1 on an internal error.
int copenssl_rs256_verify(EVP_PKEY *key, const uint8_t *data, size_t data_len,
                          const uint8_t *sig, size_t sig_len);

/// scrypt (RFC 7914) through the EVP_KDF "SCRYPT" with its OSSL_PARAM array built here.
/// `maxmem` bounds the memory OpenSSL may use (it must exceed 128 * r * N).
/// 1 on success, 0 on failure.
int copenssl_scrypt(const uint8_t *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
                    uint64_t n, uint32_t r, uint32_t p, uint64_t maxmem,
                    uint8_t *out, size_t out_len);

// --- Key generation and signing: used by tests to mint ID tokens at test time. ---

/// A fresh RSA key pair of `bits` bits (EVP_RSA_gen is a macro). Free with EVP_PKEY_free.
EVP_PKEY *copenssl_rsa_generate(unsigned int bits);

/// Writes the big-endian `n` and `e` of an RSA key into the buffers; the lengths are
/// in/out (capacity in, bytes written out). 1 on success, 0 on failure.
int copenssl_rsa_export_public(const EVP_PKEY *key, uint8_t *n, size_t *n_len,
                               uint8_t *e, size_t *e_len);

/// Signs `data` with RS256. `sig_len` is in/out. 1 on success, 0 on failure.
int copenssl_rs256_sign(EVP_PKEY *key, const uint8_t *data, size_t data_len,
                        uint8_t *sig, size_t *sig_len);
#endif
