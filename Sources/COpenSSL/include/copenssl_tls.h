#ifndef COPENSSL_TLS_H
#define COPENSSL_TLS_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>

/// A server TLS context (TLS 1.2+) loaded from PEM files; NULL on failure,
/// with a reason in `err` (at most errlen bytes).
SSL_CTX *copenssl_server_ctx(const char *cert_path, const char *key_path, char *err, size_t errlen);
/// A client TLS context (TLS 1.2+). With `verify` non-zero the server's chain is verified
/// (SSL_VERIFY_PEER) against `ca_path`, or the system's CA store when `ca_path` is NULL;
/// with `verify` zero nothing is checked (tests only).
SSL_CTX *copenssl_client_ctx(const char *ca_path, int verify, char *err, size_t errlen);
/// Names the server a client connection must reach: SNI, and the name (or IP address
/// literal) its certificate must carry, checked during the handshake. 1 on success.
int copenssl_set_peer_name(SSL *ssl, const char *name);
/// The verification result of the handshake, as text (for error messages).
const char *copenssl_verify_result(SSL *ssl);
/// A new SSL over two memory BIOs (network side read via `wbio`, written via `rbio`).
SSL *copenssl_new_mem(SSL_CTX *ctx, int is_server, BIO **rbio, BIO **wbio);
/// BIO_pending, a macro.
static inline size_t copenssl_bio_pending(BIO *b) { return (size_t)BIO_ctrl_pending(b); }
/// The last OpenSSL error as text into buf.
void copenssl_last_error(char *buf, size_t len);
#endif
