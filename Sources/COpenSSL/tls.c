#include "copenssl_tls.h"
#include <string.h>
#include <openssl/x509v3.h>

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
    // TLS 1.2 suites: forward secret and AEAD only (Mozilla's "intermediate" list without
    // DHE). The CBC suites OpenSSL also enables by default are what testssl.sh reports as
    // LUCKY13-prone; no TLS 1.2 client this serves lacks AES-GCM or ChaCha20. TLS 1.3
    // suites are all AEAD and stay at OpenSSL's defaults.
    if (SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                     "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                     "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1) {
        copenssl_last_error(err, errlen);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        copenssl_last_error(err, errlen);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

SSL_CTX *copenssl_client_ctx(const char *ca_path, int verify, char *err, size_t errlen) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) { copenssl_last_error(err, errlen); return NULL; }
    tune(ctx);
    if (!verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return ctx;
    }
    int loaded = ca_path ? SSL_CTX_load_verify_locations(ctx, ca_path, NULL) : SSL_CTX_set_default_verify_paths(ctx);
    if (loaded != 1) { copenssl_last_error(err, errlen); SSL_CTX_free(ctx); return NULL; }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

int copenssl_set_peer_name(SSL *ssl, const char *name) {
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    // An IP literal is matched against the certificate's IP addresses; a name against
    // its DNS names, and sent as SNI (which never carries an address).
    if (X509_VERIFY_PARAM_set1_ip_asc(param, name) == 1) return 1;
    ERR_clear_error();
    if (X509_VERIFY_PARAM_set1_host(param, name, 0) != 1) return 0;
    return SSL_set_tlsext_host_name(ssl, name) == 1;
}

const char *copenssl_verify_result(SSL *ssl) {
    return X509_verify_cert_error_string(SSL_get_verify_result(ssl));
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
