/* temp_file.c: writing a file atomically: a temporary file beside the
 * destination, renamed into place only when complete, so an interrupted or
 * failed write never leaves a file that looks finished. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

/* A temporary file beside `path`, with the mode a plain fopen would give
 * (mkstemp makes it 0600). Returns NULL with errno set. */
FILE *nst_temp_open(const char *path, char **tmp) {
    size_t len = strlen(path) + 16;
    *tmp = malloc(len);
    if (!*tmp) return NULL;
    snprintf(*tmp, len, "%s.partXXXXXX", path);
    int fd = mkstemp(*tmp);
    FILE *f = NULL;
    if (fd >= 0) {
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(fd, 0666 & ~mask) == 0) f = fdopen(fd, "wb");
        if (!f) {
            int e = errno;
            close(fd);
            unlink(*tmp);
            errno = e;
        }
    }
    if (!f) {
        int e = errno;
        free(*tmp);
        *tmp = NULL;
        errno = e;
    }
    return f;
}

/* Close the temporary file and rename it to `path` unless `e` (an errno
 * value) or the close failed; on failure it is removed. Returns the error. */
int nst_temp_finish(FILE *f, char *tmp, const char *path, int e) {
    if (fclose(f) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) unlink(tmp);
    free(tmp);
    return e;
}
