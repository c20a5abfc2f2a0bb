/* fuzz_replay.c: main() for a harness built without libFuzzer (the
 * NST_SANITIZE build): runs LLVMFuzzerTestOneInput once on every file
 * named on the command line, or in a directory named there, so the test
 * suite replays the seed corpus and the regression inputs under ASan. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return fprintf(stderr, "%s: cannot open\n", path), -1;
    size_t cap = 1 << 16, n = 0, got;
    unsigned char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0)
        if ((n += got) == cap) {
            unsigned char *grown = realloc(buf, cap *= 2);
            if (!grown) free(buf);
            buf = grown;
        }
    fclose(f);
    if (!buf) return fprintf(stderr, "%s: out of memory\n", path), -1;
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    int runs = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: no such file or directory\n", argv[i]);
            bad = 1;
        } else if (S_ISDIR(st.st_mode)) {
            struct dirent **list;
            int n = scandir(argv[i], &list, NULL, alphasort);
            for (int k = 0; k < n; k++) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[i], list[k]->d_name);
                if (list[k]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
                    bad |= run_file(path) != 0, runs++;
                free(list[k]);
            }
            if (n >= 0) free(list);
        } else {
            bad |= run_file(argv[i]) != 0, runs++;
        }
    }
    printf("%s: %d inputs replayed\n", argv[0], runs);
    return bad;
}
