/* fuzz_util.c: temporary files and input splitting for the harnesses. */
#include "fuzz_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fuzz_dir_make(char dir[256]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, 256, "%s/nst-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

int fuzz_dir_write(const char *dir, const char *name, const void *data, size_t size, char path[512]) {
    char local[512];
    if (!path) path = local;
    snprintf(path, 512, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int bad = size && fwrite(data, 1, size, f) != size;
    return fclose(f) || bad ? -1 : 0;
}

void fuzz_dir_remove(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[512];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(dir);
}

int fuzz_split(const uint8_t *data, size_t size, const uint8_t *part[FUZZ_MAX_PARTS],
               size_t len[FUZZ_MAX_PARTS]) {
    static const char sep[] = FUZZ_SEPARATOR;
    const size_t n = sizeof sep - 1;
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; k < FUZZ_MAX_PARTS - 1 && i + n <= size; i++)
        if (!memcmp(data + i, sep, n)) {
            part[k] = data + start, len[k] = i - start, k++;
            start = i + n;
            i = start - 1;
        }
    part[k] = data + start, len[k] = size - start;
    return k + 1;
}

void fuzz_check_message(int rc, const char *msg, const char *name) {
    if (rc && !strstr(msg, name)) {
        fprintf(stderr, "error message does not name %s: %s\n", name, msg);
        abort();
    }
}

int fuzz_dir_of_parts(const uint8_t *data, size_t size, const char *first, const char *numbered,
                      char dir[256]) {
    const uint8_t *part[FUZZ_MAX_PARTS];
    size_t len[FUZZ_MAX_PARTS];
    int n = fuzz_split(data, size, part, len);
    if (fuzz_dir_make(dir)) return -1;
    int rc = fuzz_dir_write(dir, first, part[0], len[0], NULL);
    for (int k = 1; !rc && k < n; k++) {
        char name[32];
        snprintf(name, sizeof name, numbered, k);
        rc = fuzz_dir_write(dir, name, part[k], len[k], NULL);
    }
    if (rc) fuzz_dir_remove(dir);
    return rc;
}
