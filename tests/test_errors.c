/* test_errors.c: the library's error codes under injected failures, and the
 * process living on after each.
 *   - every code has its own name;
 *   - a missing file, a directory given as a file: NST_ERR_IO; a damaged
 *     image and a damaged network: NST_ERR_FORMAT; a bad argument:
 *     NST_ERR_ARG;
 *   - allocations that fail: nst_stylize at 2048 px under an address-space
 *     limit (setrlimit RLIMIT_AS, 256 MB above what the process maps) and
 *     nst_image_alloc of 8000x8000 returns NST_ERR_NOMEM with a message,
 *     and the same calls work again once the limit is lifted. Under
 *     AddressSanitizer the limit would starve the sanitizer's own mappings,
 *     so there the allocator refuses any allocation above 256 MB instead
 *     (ASAN_OPTIONS from tests/CMakeLists.txt);
 *   - a cancel flag set before the run: NST_ERR_CANCELLED.
 * A oneDNN primitive that cannot be created or run is test_layers'
 * (NST_ERR_INTERNAL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "testutil.h"

/* The bytes this process has mapped (VmSize). */
static double mapped_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmSize:", 7)) kb = atof(line + 7);
    if (f) fclose(f);
    return kb * 1024;
}

/* Limit the address space to what is mapped now + extra bytes (extra < 0:
 * lift the limit again). */
static int limit_memory(double extra, struct rlimit *saved) {
#ifdef UNDER_ASAN
    (void)extra, (void)saved;
    return 1;
#else
    if (extra < 0) return setrlimit(RLIMIT_AS, saved) == 0;
    if (getrlimit(RLIMIT_AS, saved)) return 0;
    struct rlimit r = *saved;
    r.rlim_cur = (rlim_t)(mapped_bytes() + extra);
    return setrlimit(RLIMIT_AS, &r) == 0;
#endif
}

static void expect(int rc, const nst_error *err, int code, const char *what, const char *fragment) {
    CHECK(rc == code && err->code == code, "%s: rc %d, code %d, want %d (%s): %s", what, rc, err->code, code,
          nst_error_name(code), err->msg);
    CHECK(strstr(err->msg, fragment), "%s: message '%s' lacks '%s'", what, err->msg, fragment);
}

static void codes(void) {
    for (int a = NST_OK; a <= NST_ERR_INTERNAL; a++)
        for (int b = a + 1; b <= NST_ERR_INTERNAL; b++)
            CHECK(strcmp(nst_error_name(a), nst_error_name(b)), "codes %d and %d share the name '%s'", a, b,
                  nst_error_name(a));
    CHECK(!strcmp(nst_error_name(NST_ERR_NOMEM), "out of memory"), "NOMEM is '%s'", nst_error_name(NST_ERR_NOMEM));
    CHECK(!strcmp(nst_error_name(99), "unknown error"), "99 is '%s'", nst_error_name(99));
}

static void files(void) {
    nst_image img = {0};
    nst_net *net = NULL;
    nst_error err = {0};
    const char *missing = tu_tmp_path("missing.png");
    expect(nst_image_load(missing, &img, &err), &err, NST_ERR_IO, "a missing image", missing);
    const char *dir = tu_tmp_path("adir.png");
    mkdir(dir, 0755);
    expect(nst_image_load(dir, &img, &err), &err, NST_ERR_IO, "a directory as an image", "not a regular file");
    const char *bad = tu_tmp_path("bad.png");
    tu_write_file(bad, "\x89PNG\r\n\x1a\nnot really", 18);
    expect(nst_image_load(bad, &img, &err), &err, NST_ERR_FORMAT, "a damaged PNG", bad);
    const char *json = tu_tmp_path("model.json");
    tu_write_file(json, "{\"modelTopology\": 3", 19);
    expect(nst_net_load(json, &net, &err), &err, NST_ERR_FORMAT, "a damaged model.json", "not valid JSON");
    CHECK(!net, "a damaged model.json gave a network");
    expect(nst_image_alloc(&img, 0, 5, &err), &err, NST_ERR_ARG, "a 0x5 image", "0x5");
}

static void memory_and_cancel(void) {
    const char *model = tu_shared("models/darknet-tiny/model.json");
    const char *cpath = tu_shared("images/content/tubingen.jpg");
    const char *spath = tu_shared("images/style/starry_night.jpg");
    if (!model || !cpath || !spath) return;
    nst_net *net = NULL;
    nst_image content = {0}, style = {0}, out = {0};
    nst_error err = {0};
    if (nst_net_load(model, &net, &err) || nst_image_load(cpath, &content, &err) ||
        nst_image_load(spath, &style, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    nst_stylize_params small, big;
    nst_stylize_params_init(&small);
    nst_stylize_default_layers(&small, net);
    small.size = 96, small.iterations = 2;
    big = small;
    big.size = 2048;
    /* a first run: the thread pools and oneDNN's code exist before the limit */
    CHECK(nst_stylize(net, &content, &style, 1, &small, &out, &err) == 0, "before the limit: %s", err.msg);
    nst_image_free(&out);
    double need = 0;
    CHECK(nst_stylize_memory(net, content.w, content.h, &style, 1, &big, &need, &err) == 0, "%s", err.msg);
    CHECK(need > 1e9, "2048 px needs %.0f MB: not enough to exceed the limit", need / 1e6);

    struct rlimit saved;
    CHECK(limit_memory(256e6, &saved), "cannot limit the address space");
    expect(nst_stylize(net, &content, &style, 1, &big, &out, &err), &err, NST_ERR_NOMEM, "2048 px in 256 MB",
           "out of memory");
    CHECK(!out.data, "a failed run returned an image");
    expect(nst_image_alloc(&out, 8000, 8000, &err), &err, NST_ERR_NOMEM, "an 8000x8000 image", "8000x8000");
    CHECK(limit_memory(-1, &saved), "cannot lift the limit");
    /* the process lives on and the library works as before */
    CHECK(nst_stylize(net, &content, &style, 1, &small, &out, &err) == 0 && out.w == 96,
          "after the limit: %s", err.msg);
    nst_image_free(&out);

    nst_cancel_flag cancel = 1;
    small.cancel = &cancel;
    expect(nst_stylize(net, &content, &style, 1, &small, &out, &err), &err, NST_ERR_CANCELLED, "cancelled",
           "cancelled");
    nst_image_free(&content);
    nst_image_free(&style);
    nst_net_free(net);
}

int main(void) {
    codes();
    files();
    memory_and_cancel();
    return tu_finish();
}
