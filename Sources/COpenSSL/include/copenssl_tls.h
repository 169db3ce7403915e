#ifndef COPENSSL_TLS_H
#define COPENSSL_TLS_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>

/// A server TLS context (TLS 1.2+) loaded from PEM files; NULL on failure,
/// with a reason in `err` (at most errlen bytes).
SSL_CTX *copenssl_server_ctx(const char *cert_path, const char *key_path, char *err, size_t errlen);
/// A client TLS context (TLS 1.2+). If `ca_path` is non-NULL peers are verified against it.
SSL_CTX *copenssl_client_ctx(const char *ca_path, char *err, size_t errlen);
/// A new SSL over two memory BIOs (network side read via `wbio`, written via `rbio`).
SSL *copenssl_new_mem(SSL_CTX *ctx, int is_server, BIO **rbio, BIO **wbio);
/// BIO_pending, a macro.
static inline size_t copenssl_bio_pending(BIO *b) { return (size_t)BIO_ctrl_pending(b); }
/// The last OpenSSL error as text into buf.
void copenssl_last_error(char *buf, size_t len);
#endif
