#ifndef TANDEM_OPENSSL_SHIM_H
#define TANDEM_OPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/evp.h>

/* Function-like macros of OpenSSL 3 that Swift does not import, as typed inline functions. */

static inline int tandem_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int tandem_ssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline long tandem_ssl_ctx_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline int tandem_ssl_ctx_set_dh_auto(SSL_CTX *ctx) { return (int)SSL_CTX_set_dh_auto(ctx, 1); }
static inline int tandem_ssl_ctx_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}
static inline int tandem_ssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
static inline const char *tandem_ssl_get_servername(const SSL *ssl) {
    return SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
}
static inline long tandem_bio_set_mem_eof_return(BIO *bio, int value) { return BIO_set_mem_eof_return(bio, value); }
static inline void tandem_openssl_free(void *pointer) { OPENSSL_free(pointer); }

/* Verify callback that accepts any certificate (require_cert without verify_cert). */
static inline int tandem_accept_any_certificate(int preverify, X509_STORE_CTX *store) {
    (void)preverify; (void)store;
    return 1;
}

/* Verify callback that keeps OpenSSL's verdict and, on a failure, keeps the certificate being verified in
   the session's app data (ex_data 0, owned: the session frees it), so the refused peer can be logged. */
static inline int tandem_verify_keeping_refused_certificate(int preverify, X509_STORE_CTX *store) {
    if (!preverify) {
        SSL *ssl = (SSL *)X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
        X509 *certificate = X509_STORE_CTX_get0_cert(store);
        if (ssl != NULL && certificate != NULL && SSL_get_ex_data(ssl, 0) == NULL && X509_up_ref(certificate) == 1) {
            SSL_set_ex_data(ssl, 0, certificate);
        }
    }
    return preverify;
}
/* SNI: the server name callback (SSL_TLSEXT_ERR_OK to go on) and its argument. */
typedef int (*tandem_servername_callback)(SSL *ssl, int *alert, void *arg);
static inline void tandem_ssl_ctx_set_servername_callback(SSL_CTX *ctx, tandem_servername_callback callback, void *arg) {
    SSL_CTX_set_tlsext_servername_arg(ctx, arg);
    SSL_CTX_set_tlsext_servername_callback(ctx, callback);
}
static inline int tandem_tlsext_err_ok(void) { return SSL_TLSEXT_ERR_OK; }
static inline X509 *tandem_ssl_refused_certificate(const SSL *ssl) { return (X509 *)SSL_get_ex_data(ssl, 0); }
#endif
