/* fetch.c: files from their public origin or a local mirror. Every write
 * goes to a temporary file beside the destination that is renamed into place
 * only when complete, so an interrupted download or copy never leaves a file
 * that looks finished. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "io/io.h"
#include "io/optional_libs.h"

int sha256_file(const char *path, char hex[65], nst_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? nst_fail(err, NST_ERR_IO, "%s: no such file", path)
                               : nst_fail(err, NST_ERR_IO, "%s: cannot open (%s)", path,
                                          strerror(errno));
    const crypto_api *O = crypto_lib(err);
    if (!O) return fclose(f), err->code;
    EVP_MD_CTX *ctx = O->EVP_MD_CTX_new_fn();
    unsigned char buf[1 << 16], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int ok = ctx && O->EVP_DigestInit_ex_fn(ctx, O->EVP_sha256_fn(), NULL);
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0) ok = O->EVP_DigestUpdate_fn(ctx, buf, n);
    int rerr = ferror(f) ? errno : 0;
    ok = ok && !rerr && O->EVP_DigestFinal_ex_fn(ctx, md, &mdlen);
    O->EVP_MD_CTX_free_fn(ctx);
    fclose(f);
    if (rerr) return nst_fail(err, NST_ERR_IO, "%s: read error (%s)", path, strerror(rerr));
    if (!ok) return nst_fail(err, NST_ERR_INTERNAL, "%s: sha256 failed (OpenSSL error)", path);
    for (unsigned i = 0; i < mdlen; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return NST_OK;
}


static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void) { curl_init_rc = curl_lib(NULL)->curl_global_init_fn(CURL_GLOBAL_DEFAULT); }

struct sink {
    FILE *f;
    int err; /* errno of the first failed write */
};

static size_t write_cb(char *data, size_t size, size_t n, void *ctx) {
    struct sink *s = ctx;
    if (fwrite(data, size, n, s->f) != n) {
        s->err = errno ? errno : EIO;
        return 0; /* makes curl abort with CURLE_WRITE_ERROR */
    }
    return n;
}

int download_file(const char *url, const char *path, nst_error *err) {
    const curl_api *L = curl_lib(err);
    if (!L) return err->code;
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return nst_fail(err, NST_ERR_IO, "%s: cannot initialise libcurl (%s)", url,
                        L->curl_easy_strerror_fn(curl_init_rc));
    char *tmp;
    struct sink s = {temp_open(path, &tmp), 0};
    if (!s.f) return nst_fail(err, NST_ERR_IO, "%s: cannot create (%s)", path, strerror(errno));
    CURL *c = L->curl_easy_init_fn();
    char cerr[CURL_ERROR_SIZE] = "";
    CURLcode rc = CURLE_FAILED_INIT;
    if (c) {
        L->curl_easy_setopt_fn(c, CURLOPT_URL, url);
        L->curl_easy_setopt_fn(c, CURLOPT_PROTOCOLS_STR, "http,https,ftp,file");
        /* a server must not redirect us to local files */
        L->curl_easy_setopt_fn(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https,ftp");
        L->curl_easy_setopt_fn(c, CURLOPT_FOLLOWLOCATION, 1L);
        L->curl_easy_setopt_fn(c, CURLOPT_MAXREDIRS, 10L);
        L->curl_easy_setopt_fn(c, CURLOPT_FAILONERROR, 1L); /* HTTP >= 400 is an error, not a body */
        L->curl_easy_setopt_fn(c, CURLOPT_CONNECTTIMEOUT, 30L);
        /* model files are large, so no total timeout: give up on a stalled
         * transfer (under 1 KiB/s for a minute) instead */
        L->curl_easy_setopt_fn(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        L->curl_easy_setopt_fn(c, CURLOPT_LOW_SPEED_TIME, 60L);
        L->curl_easy_setopt_fn(c, CURLOPT_USERAGENT, "nst");
        L->curl_easy_setopt_fn(c, CURLOPT_NOSIGNAL, 1L); /* we may run beside other threads */
        L->curl_easy_setopt_fn(c, CURLOPT_ERRORBUFFER, cerr);
        L->curl_easy_setopt_fn(c, CURLOPT_WRITEFUNCTION, write_cb);
        L->curl_easy_setopt_fn(c, CURLOPT_WRITEDATA, &s);
        rc = L->curl_easy_perform_fn(c);
        L->curl_easy_cleanup_fn(c);
    }
    /* a failed transfer (EIO stands for it) discards the temporary file too */
    int e = temp_finish(s.f, tmp, path, s.err ? s.err : rc != CURLE_OK ? EIO : 0);
    if (rc != CURLE_OK && !s.err)
        return nst_fail(err, NST_ERR_IO, "%s: download failed (%s)", url,
                        *cerr ? cerr : L->curl_easy_strerror_fn(rc));
    if (e)
        return nst_fail(err, NST_ERR_IO, "%s: cannot write download of %s (%s)", path, url,
                        strerror(e));
    return NST_OK;
}

int copy_file(const char *src, const char *dst, nst_error *err) {
    FILE *in = fopen(src, "rb");
    if (!in)
        return nst_fail(err, NST_ERR_IO, "cannot copy %s to %s: %s", src, dst,
                        errno == ENOENT ? "no such file" : strerror(errno));
    char *tmp;
    FILE *out = temp_open(dst, &tmp);
    if (!out) {
        int e = errno;
        fclose(in);
        return nst_fail(err, NST_ERR_IO, "cannot copy %s to %s: cannot create %s (%s)", src,
                        dst, dst, strerror(e));
    }
    unsigned char buf[1 << 16];
    size_t n;
    int e = 0;
    while (!e && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) e = errno ? errno : EIO;
    if (!e && ferror(in)) e = errno ? errno : EIO;
    fclose(in);
    e = temp_finish(out, tmp, dst, e);
    if (e) return nst_fail(err, NST_ERR_IO, "cannot copy %s to %s: %s", src, dst, strerror(e));
    return NST_OK;
}
