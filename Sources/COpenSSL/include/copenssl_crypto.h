#ifndef COPENSSL_CRYPTO_H
#define COPENSSL_CRYPTO_H
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#endif
