/* optional_libs.h: libzip (the torch.save reader), libcurl (downloads) and
 * libcrypto (sha256 of downloads) are loaded when first needed (dlopen), so
 * that a program which embeds libnst to stylise pulls in none of them.
 * Each table holds the functions nst calls, as name_fn; the first call to
 * *_api() opens the library (by the SONAME nst was built against) and
 * resolves them, later calls return the same table. NULL and an error
 * naming the library when it cannot be loaded. */
#ifndef NST_OPTIONAL_LIBS_H
#define NST_OPTIONAL_LIBS_H

#include <curl/curl.h>
#include <openssl/evp.h>
#include <zip.h>

#include "nst.h"

#define FIELD(f) __typeof__(&f) f##_fn;

#define ZIP_FUNCS(X) X(zip_open) X(zip_discard) X(zip_stat) X(zip_fopen) X(zip_fread) X(zip_fclose) \
    X(zip_strerror) X(zip_file_strerror) X(zip_get_num_entries) X(zip_get_name) X(zip_name_locate) \
    X(zip_error_init_with_code) X(zip_error_strerror) X(zip_error_fini)
typedef struct { ZIP_FUNCS(FIELD) } zip_api;

#define CURL_FUNCS(X) X(curl_global_init) X(curl_easy_init) X(curl_easy_setopt) X(curl_easy_perform) \
    X(curl_easy_cleanup) X(curl_easy_strerror)
typedef struct { CURL_FUNCS(FIELD) } curl_api;

#define CRYPTO_FUNCS(X) X(EVP_MD_CTX_new) X(EVP_MD_CTX_free) X(EVP_sha256) X(EVP_DigestInit_ex) \
    X(EVP_DigestUpdate) X(EVP_DigestFinal_ex)
typedef struct { CRYPTO_FUNCS(FIELD) } crypto_api;

#undef FIELD

const zip_api *zip_lib(nst_error *err);
const curl_api *curl_lib(nst_error *err);
const crypto_api *crypto_lib(nst_error *err);

#endif
