/* test_fetch.c: sha256 of files, copies and downloads (file:// URLs, a
 * refused connection and a tiny HTTP server on loopback, so no network is
 * needed). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static void check_sha(const char *path, const char *want) {
    char hex[65];
    nst_error err;
    int rc = sha256_file(path, hex, &err);
    CHECK(rc == NST_OK, "sha256 %s: %s", path, err.msg);
    CHECK(rc == NST_OK && !strcmp(hex, want), "sha256 %s = %s, want %s", path, rc ? "-" : hex, want);
}

static void test_sha256(void) {
    tu_write_file(tu_tmp_path("abc"), "abc", 3);
    check_sha(tu_tmp_path("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    tu_write_file(tu_tmp_path("empty"), "", 0);
    check_sha(tu_tmp_path("empty"),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* FIPS 180-2 test vector: one million 'a', many read buffers */
    char *m = malloc(1000000);
    memset(m, 'a', 1000000);
    tu_write_file(tu_tmp_path("million"), m, 1000000);
    free(m);
    check_sha(tu_tmp_path("million"),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    char hex[65];
    nst_error err;
    const char *p = tu_tmp_path("nothere");
    int rc = sha256_file(p, hex, &err);
    CHECK(rc == NST_ERR_IO && strstr(err.msg, p) && strstr(err.msg, "no such file"),
          "sha256 of a missing file: rc %d '%s'", rc, err.msg);
    printf("  expected error: %s\n", err.msg);
}

static void test_copy(void) {
    nst_error err;
    const char *src = tu_tmp_path("million"), *dst = tu_tmp_path("copy");
    int rc = copy_file(src, dst, &err);
    CHECK(rc == NST_OK, "copy: %s", err.msg);
    check_sha(dst, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* replaces an existing file */
    rc = copy_file(tu_tmp_path("abc"), dst, &err);
    CHECK(rc == NST_OK, "copy over existing: %s", err.msg);
    check_sha(dst, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    struct stat st;
    CHECK(stat(dst, &st) == 0 && (st.st_mode & 0777) != 0600, "copy has mkstemp's mode 0600");

    int before = tu_tmpdir_entries();
    const char *missing = tu_tmp_path("nothere"), *dst2 = tu_tmp_path("copy2");
    rc = copy_file(missing, dst2, &err);
    CHECK(rc == NST_ERR_IO && strstr(err.msg, missing) && strstr(err.msg, dst2),
          "copy of a missing file: rc %d '%s'", rc, err.msg);
    printf("  expected error: %s\n", err.msg);
    const char *nodir = tu_tmp_path("nodir/copy");
    rc = copy_file(tu_tmp_path("abc"), nodir, &err);
    CHECK(rc == NST_ERR_IO && strstr(err.msg, nodir), "copy into a missing dir: rc %d '%s'", rc,
          err.msg);
    printf("  expected error: %s\n", err.msg);
    /* reading a directory fails after the temp file exists: it must be removed */
    mkdir(tu_tmp_path("adir"), 0755);
    rc = copy_file(tu_tmp_path("adir"), dst2, &err);
    CHECK(rc == NST_ERR_IO && strstr(err.msg, "adir") && strstr(err.msg, dst2),
          "copy of a directory: rc %d '%s'", rc, err.msg);
    printf("  expected error: %s\n", err.msg);
    CHECK(tu_tmpdir_entries() == before + 1,
          "failed copies left files behind (%d entries, want %d)", tu_tmpdir_entries(),
          before + 1);
}

static void test_download(void) {
    nst_error err;
    char url[600];
    snprintf(url, sizeof url, "file://%s", tu_tmp_path("million"));
    const char *dst = tu_tmp_path("down");
    int rc = download_file(url, dst, &err);
    CHECK(rc == NST_OK, "download %s: %s", url, err.msg);
    check_sha(dst, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    size_t n = 0;
    char *b = tu_read_file(dst, &n);
    CHECK(b && n == 1000000 && b[0] == 'a' && b[n - 1] == 'a', "downloaded %zu bytes", n);
    free(b);

    int before = tu_tmpdir_entries();
    const char *dst2 = tu_tmp_path("down2");
    snprintf(url, sizeof url, "file://%s", tu_tmp_path("nothere"));
    rc = download_file(url, dst2, &err);
    CHECK(rc == NST_ERR_IO && strstr(err.msg, url) && strstr(err.msg, "download failed"),
          "download of a missing file: rc %d '%s'", rc, err.msg);
    printf("  expected error: %s\n", err.msg);
    /* port 1 on loopback refuses connections */
    rc = download_file("http://127.0.0.1:1/model.bin", dst2, &err);
    CHECK(rc == NST_ERR_IO && strstr(err.msg, "http://127.0.0.1:1/model.bin"),
          "download from a refused port: rc %d '%s'", rc, err.msg);
    printf("  expected error: %s\n", err.msg);
    rc = download_file("gopher://example.invalid/x", dst2, &err);
    CHECK(rc == NST_ERR_IO && strstr(err.msg, "gopher://"), "unsupported protocol: rc %d '%s'",
          rc, err.msg);
    printf("  expected error: %s\n", err.msg);
    CHECK(tu_tmpdir_entries() == before, "failed downloads left files behind (%d entries, want %d)",
          tu_tmpdir_entries(), before);
    snprintf(url, sizeof url, "file://%s", tu_tmp_path("abc"));
    const char *nodir = tu_tmp_path("nodir/down");
    rc = download_file(url, nodir, &err);
    CHECK(rc == NST_ERR_IO && strstr(err.msg, nodir), "download into a missing dir: rc %d '%s'",
          rc, err.msg);
    printf("  expected error: %s\n", err.msg);
}

/* HTTP/1.0 server for `n` requests: /data answers 200, /redirect sends
 * there with a 302, anything else is a 404 with a body. */
typedef struct {
    int fd, n;
} server;

static void *serve(void *arg) {
    server *sv = arg;
    for (int k = 0; k < sv->n; k++) {
        int c = accept(sv->fd, NULL, NULL);
        if (c < 0) break;
        char req[2048];
        ssize_t got = recv(c, req, sizeof req - 1, 0);
        req[got > 0 ? got : 0] = 0;
        const char *resp =
            !strncmp(req, "GET /data ", 10)
                ? "HTTP/1.0 200 OK\r\nContent-Length: 7\r\n\r\npayload"
            : !strncmp(req, "GET /redirect ", 14)
                ? "HTTP/1.0 302 Found\r\nLocation: /data\r\nContent-Length: 0\r\n\r\n"
                : "HTTP/1.0 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found";
        if (send(c, resp, strlen(resp), 0) < 0) perror("send");
        close(c);
    }
    return NULL;
}

static void test_http(void) {
    server sv = {socket(AF_INET, SOCK_STREAM, 0), 3}; /* redirect + data, then 404 */
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (sv.fd < 0 || bind(sv.fd, (struct sockaddr *)&a, sizeof a) || listen(sv.fd, 4) ||
        getsockname(sv.fd, (struct sockaddr *)&a, &al)) {
        CHECK(0, "cannot start a loopback HTTP server");
        return;
    }
    pthread_t th;
    pthread_create(&th, NULL, serve, &sv);
    nst_error err;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect", ntohs(a.sin_port));
    const char *dst = tu_tmp_path("http");
    int rc = download_file(url, dst, &err);
    size_t n = 0;
    char *b = rc ? NULL : tu_read_file(dst, &n);
    CHECK(b && n == 7 && !memcmp(b, "payload", 7), "download following a redirect: %s",
          rc ? err.msg : "wrong content");
    free(b);
    int before = tu_tmpdir_entries();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/missing.pth", ntohs(a.sin_port));
    rc = download_file(url, tu_tmp_path("http404"), &err);
    CHECK(rc == NST_ERR_IO && strstr(err.msg, url) && strstr(err.msg, "404"),
          "HTTP 404: rc %d '%s'", rc, err.msg);
    printf("  expected error: %s\n", err.msg);
    CHECK(tu_tmpdir_entries() == before, "the 404 body was left in a file");
    pthread_join(th, NULL);
    close(sv.fd);
}

int main(void) {
    tu_tmpdir_create("test_fetch");
    test_sha256();
    test_copy();
    test_download();
    test_http();
    tu_tmpdir_remove();
    return tu_finish();
}
