/* optional_libs.c: the libraries of optional_libs.h, opened on first use.
 * NST_SONAME_* come from the libraries found at build time (CMakeLists.txt),
 * so the one loaded has the ABI the headers describe. */
#include "io/optional_libs.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    pthread_once_t once;
    const char *soname, *package, *what;
    int ok;
    char msg[512]; /* why it could not be loaded */
} lib_state;

/* dlopen the library and resolve names[0..n-1] into the table, a struct of
 * n function pointers (copied in as POSIX's dlsym allows); ok or msg */
static void load(lib_state *s, const char *const *names, void *table, int n) {
    void *h = dlopen(s->soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(s->msg, sizeof s->msg, "%s needs %s (Debian package %s): %s", s->what, s->soname, s->package,
                 dlerror());
        return;
    }
    for (int i = 0; i < n; i++) {
        void *f = dlsym(h, names[i]);
        if (!f) {
            snprintf(s->msg, sizeof s->msg, "%s: %s has no %s", s->what, s->soname, names[i]);
            dlclose(h);
            return;
        }
        memcpy((char *)table + i * sizeof f, &f, sizeof f);
    }
    s->ok = 1; /* kept open for the process's life */
}

#define NAME(f) #f,
#define COUNT(f) +1
/* One table per library: its state, names, and the once-run loader. */
#define LIBRARY(name, funcs, soname, package, what)                                                   \
    static name##_api name##_table;                                                                   \
    _Static_assert(sizeof(name##_api) == (0 funcs(COUNT)) * sizeof(void *), "only function pointers");  \
    static lib_state name##_state = {PTHREAD_ONCE_INIT, soname, package, what, 0, ""};               \
    static void name##_load(void) {                                                                   \
        static const char *const names[] = {funcs(NAME)};                                            \
        load(&name##_state, names, &name##_table, 0 funcs(COUNT));                           \
    }                                                                                                 \
    const name##_api *name##_lib(nst_error *err) {                                                   \
        pthread_once(&name##_state.once, name##_load);                                               \
        if (name##_state.ok) return &name##_table;                                                  \
        nst_fail(err, NST_ERR_RUNTIME, "%s", name##_state.msg);                                      \
        return NULL;                                                                                  \
    }

LIBRARY(zip, ZIP_FUNCS, NST_SONAME_ZIP, "libzip4", "reading a torch.save file")
LIBRARY(curl, CURL_FUNCS, NST_SONAME_CURL, "libcurl4", "downloading")
LIBRARY(crypto, CRYPTO_FUNCS, NST_SONAME_CRYPTO, "libssl3", "checking a sha256")
