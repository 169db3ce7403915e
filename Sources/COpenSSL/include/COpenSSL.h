// The one crypto library of the binary: OpenSSL 3 (libssl-dev).
// copenssl_tls.h: TLS contexts and memory-BIO connections (Transport).
// copenssl_crypto.h: hashing, KDFs, signatures, randomness (WebSocket, Accounts).
#ifndef COPENSSL_H
#define COPENSSL_H
#include "copenssl_tls.h"
#include "copenssl_crypto.h"
#endif
