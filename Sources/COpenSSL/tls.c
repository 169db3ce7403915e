#include "copenssl_tls.h"
#include <string.h>

void copenssl_last_error(char *buf, size_t len) {
    unsigned long e = ERR_get_error();
    if (e == 0) { snprintf(buf, len, "unknown OpenSSL error"); return; }
    ERR_error_string_n(e, buf, len);
    ERR_clear_error();
}

static void tune(SSL_CTX *ctx) {
    // Macros in OpenSSL's headers, hence C.
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    // Release per-connection read/write buffers while idle: keeps idle TLS connections small.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
}

SSL_CTX *copenssl_server_ctx(const char *cert_path, const char *key_path, char *err, size_t errlen) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) { copenssl_last_error(err, errlen); return NULL; }
    tune(ctx);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        copenssl_last_error(err, errlen);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

SSL_CTX *copenssl_client_ctx(const char *ca_path, char *err, size_t errlen) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) { copenssl_last_error(err, errlen); return NULL; }
    tune(ctx);
    if (ca_path) {
        if (SSL_CTX_load_verify_locations(ctx, ca_path, NULL) != 1) {
            copenssl_last_error(err, errlen); SSL_CTX_free(ctx); return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    return ctx;
}

SSL *copenssl_new_mem(SSL_CTX *ctx, int is_server, BIO **rbio, BIO **wbio) {
    SSL *ssl = SSL_new(ctx);
    if (!ssl) return NULL;
    BIO *r = BIO_new(BIO_s_mem());
    BIO *w = BIO_new(BIO_s_mem());
    if (!r || !w) { BIO_free(r); BIO_free(w); SSL_free(ssl); return NULL; }
    // An empty read BIO means "want more", not EOF.
    BIO_set_mem_eof_return(r, -1);
    BIO_set_mem_eof_return(w, -1);
    SSL_set_bio(ssl, r, w);
    if (is_server) SSL_set_accept_state(ssl); else SSL_set_connect_state(ssl);
    *rbio = r; *wbio = w;
    return ssl;
}
