/* fuzz_util.h: what the harnesses share. Entry points that take a path get
 * the input written to a private temporary directory, removed after each
 * run; inputs that stand for several files are split at FUZZ_SEPARATOR. */
#ifndef NST_FUZZ_UTIL_H
#define NST_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SEPARATOR "\n--nst-fuzz-file--\n"
#define FUZZ_MAX_PARTS 8

/* A fresh directory under $TMPDIR (or /tmp) into dir; 0 on success. */
int fuzz_dir_make(char dir[256]);
/* Write size bytes as dir/name into path (path may be NULL); 0 on success. */
int fuzz_dir_write(const char *dir, const char *name, const void *data, size_t size, char path[512]);
/* Remove dir and the files in it (the harnesses make no subdirectories). */
void fuzz_dir_remove(const char *dir);
/* Split data at FUZZ_SEPARATOR into at most FUZZ_MAX_PARTS parts (the
 * last keeps any further separators); the number of parts. */
int fuzz_split(const uint8_t *data, size_t size, const uint8_t *part[FUZZ_MAX_PARTS],
               size_t len[FUZZ_MAX_PARTS]);

/* A fresh directory (into dir) holding the input's parts: the first as
 * `first`, the others named by `numbered` with their number (1, 2, ...:
 * "s%d.bin"); 0 on success, else nothing is left on disk. */
int fuzz_dir_of_parts(const uint8_t *data, size_t size, const char *first, const char *numbered,
                      char dir[256]);

/* The project's rule for a refused input: the message names the file. A
 * message that does not is reported as a crash (abort), like a sanitizer's. */
void fuzz_check_message(int rc, const char *msg, const char *name);

#endif
