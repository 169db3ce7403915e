#include "copenssl_crypto.h"
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/bn.h>
#include <openssl/kdf.h>
#include <openssl/rsa.h>
#include <openssl/err.h>

EVP_PKEY *copenssl_rsa_public_key(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len) {
    EVP_PKEY *key = NULL;
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
    BIGNUM *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    if (!bn_n || !bn_e || !bld) goto done;
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e)) goto done;
    params = OSSL_PARAM_BLD_to_param(bld);
    if (!params) goto done;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0) goto done;
    if (EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) key = NULL;
done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return key;
}

int copenssl_pkey_bits(const EVP_PKEY *key) {
    return key ? EVP_PKEY_get_bits(key) : 0;
}

int copenssl_rs256_verify(EVP_PKEY *key, const uint8_t *data, size_t data_len,
                          const uint8_t *sig, size_t sig_len) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) return -1;
    int result = -1;
    EVP_PKEY_CTX *pctx = NULL;
    if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0) {
        int rc = EVP_DigestVerify(md, sig, sig_len, data, data_len);
        result = rc == 1 ? 1 : 0;
    }
    EVP_MD_CTX_free(md);
    // A failed verification leaves reasons on the thread's error queue; drop them so
    // they do not surface later as the cause of an unrelated TLS error.
    ERR_clear_error();
    return result;
}

int copenssl_scrypt(const uint8_t *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
                    uint64_t n, uint32_t r, uint32_t p, uint64_t maxmem,
                    uint8_t *out, size_t out_len) {
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    if (!kdf) return 0;
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!ctx) return 0;
    OSSL_PARAM params[7];
    OSSL_PARAM *q = params;
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pass, pass_len);
    *q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    *q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
    *q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
    *q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
    *q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
    *q = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(ctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(ctx);
    if (!ok) ERR_clear_error();
    return ok;
}

EVP_PKEY *copenssl_rsa_generate(unsigned int bits) {
    return EVP_RSA_gen(bits);
}

static int export_bn(const EVP_PKEY *key, const char *name, uint8_t *out, size_t *len) {
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return 0;
    size_t need = (size_t)BN_num_bytes(bn);
    int ok = need <= *len && BN_bn2bin(bn, out) == (int)need;
    if (ok) *len = need;
    BN_free(bn);
    return ok;
}

int copenssl_rsa_export_public(const EVP_PKEY *key, uint8_t *n, size_t *n_len,
                               uint8_t *e, size_t *e_len) {
    return export_bn(key, OSSL_PKEY_PARAM_RSA_N, n, n_len) &&
           export_bn(key, OSSL_PKEY_PARAM_RSA_E, e, e_len);
}

int copenssl_rs256_sign(EVP_PKEY *key, const uint8_t *data, size_t data_len,
                        uint8_t *sig, size_t *sig_len) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) return 0;
    int ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestSign(md, sig, sig_len, data, data_len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}
