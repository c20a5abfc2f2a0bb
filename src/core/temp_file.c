/* temp_file.c: writing a file atomically: a temporary file beside the
 * destination, renamed into place only when complete, so an interrupted or
 * failed write never leaves a file that looks finished. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

/* A temporary file beside `path` (PATH.partXXXXXX, random letters),
 * created with O_EXCL and mode 0666 so that the kernel applies the umask as
 * for a plain fopen: reading the umask would mean setting it, process-wide,
 * under the feet of other threads. Returns NULL with errno set. */
FILE *temp_open(const char *path, char **tmp) {
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t len = strlen(path) + 16;
    *tmp = malloc(len);
    if (!*tmp) return NULL;
    uint64_t seed = (uint64_t)now_seconds() * 1000003u ^ (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)*tmp;
    int fd = -1;
    for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
        uint64_t r = splitmix64(&seed);
        char name[7];
        for (int i = 0; i < 6; i++, r >>= 6) name[i] = letters[r % (sizeof letters - 1)];
        name[6] = 0;
        snprintf(*tmp, len, "%s.part%s", path, name);
        fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0) close(fd), unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
        errno = e;
    }
    return f;
}

/* Close the temporary file and rename it to `path` unless `e` (an errno
 * value) or the close failed; on failure it is removed. Returns the error. */
int temp_finish(FILE *f, char *tmp, const char *path, int e) {
    if (fclose(f) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) unlink(tmp);
    free(tmp);
    return e;
}
