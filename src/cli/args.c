/* args.c: option value parsing shared by the subcommands. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cluster/cluster.h"
#include "core/util.h"

int parse_int(const char *opt, const char *s, long lo, long hi, int *out, nst_error *err) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno)
        return nst_fail(err, NST_ERR_ARG, "%s: '%s' is not an integer", opt, s);
    if (v < lo || v > hi)
        return nst_fail(err, NST_ERR_ARG, "%s: %ld is out of range %ld..%ld", opt, v, lo, hi);
    *out = (int)v;
    return NST_OK;
}

int parse_color(const char *opt, const char *s, int *out, nst_error *err) {
    static const char *const names[] = {"none", "luminance", "histogram"}; /* NST_COLOR_* order */
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) return *out = i, NST_OK;
    return nst_fail(err, NST_ERR_ARG, "%s: '%s' is not none, luminance or histogram", opt, s);
}

int parse_float(const char *opt, const char *s, double lo, double hi, float *out, nst_error *err) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return nst_fail(err, NST_ERR_ARG, "%s: '%s' is not a number", opt, s);
    if (v < lo || v > hi)
        return nst_fail(err, NST_ERR_ARG, "%s: %g is out of range %g..%g", opt, v, lo, hi);
    *out = (float)v;
    return NST_OK;
}

int parse_list(const char *opt, const char *s, char items[][64], int max, int *n, nst_error *err) {
    *n = 0;
    const char *p = s;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= 64)
            return nst_fail(err, NST_ERR_ARG, "%s: bad list '%s'", opt, s);
        if (*n == max)
            return nst_fail(err, NST_ERR_ARG, "%s: at most %d items", opt, max);
        memcpy(items[*n], p, len);
        items[(*n)++][len] = 0;
        p += len + (comma ? 1 : 0);
        if (comma && !*p) return nst_fail(err, NST_ERR_ARG, "%s: bad list '%s'", opt, s);
    }
    if (*n == 0) return nst_fail(err, NST_ERR_ARG, "%s: empty list", opt);
    return NST_OK;
}

int check_output_path(const char *path, nst_error *err) {
    struct stat st;
    if (!strcmp(path, "-")) return NST_OK; /* standard output */
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return check_output_dir(path, err);
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash) || !writable_ext(dot))
        return nst_fail(err, NST_ERR_ARG, "%s: unsupported output format (use .png, .jpg, .bmp or .tga)", path);
    return check_output_dir(path, err);
}

int check_output_dir(const char *path, nst_error *err) {
    const char *slash = strrchr(path, '/');
    char dir[1024];
    struct stat st;
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else snprintf(dir, sizeof dir, ".");
    if (!dir[0]) snprintf(dir, sizeof dir, "/");
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return nst_fail(err, NST_ERR_ARG, "%s is a directory: give a file name (%s/NAME)", path, path);
    if (stat(dir, &st) != 0)
        return nst_fail(err, NST_ERR_ARG, "%s: directory %s does not exist", path, dir);
    if (!S_ISDIR(st.st_mode))
        return nst_fail(err, NST_ERR_ARG, "%s: %s is not a directory", path, dir);
    if (access(dir, W_OK) != 0)
        return nst_fail(err, NST_ERR_ARG, "%s: cannot write into directory %s (%s)", path, dir, strerror(errno));
    return NST_OK;
}

void format_duration(double s, char *buf, size_t n) {
    if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)s / 3600, (int)s / 60 % 60);
}

int writable_ext(const char *ext) {
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".bmp", ".tga"};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
        if (!strcasecmp(ext, exts[i])) return 1;
    return 0;
}

int progress_in_place(void) {
    const char *term = getenv("TERM");
    return isatty(2) && !(term && !strcmp(term, "dumb"));
}

int report(const nst_error *err) {
    /* bad usage (exit 2): a bad argument, or options this CPU cannot run;
     * everything else is a failure at run time (exit 1). In a job of
     * several ranks, a usage error is every rank's: said once. */
    int usage = err->code == NST_ERR_ARG || err->code == NST_ERR_CPU;
    const cluster_info *c = cluster();
    if (c->size == 1) fprintf(stderr, "nst: %s\n", err->msg);
    else if (!usage) fprintf(stderr, "nst: rank %d: %s\n", c->rank, err->msg);
    else if (c->rank == 0) fprintf(stderr, "nst: %s\n", err->msg);
    return usage ? 2 : 1;
}

int unknown_option(const char *opt, const struct option *opts, const char *cmd, nst_error *err) {
    char name[64];
    const char *near = NULL;
    if (!strncmp(opt, "--", 2)) {
        snprintf(name, sizeof name, "%.*s", (int)strcspn(opt + 2, "="), opt + 2);
        int best = 3;
        for (const struct option *o = opts; o->name; o++) {
            int d = edit_distance(name, o->name);
            if (d < best) best = d, near = o->name;
        }
    }
    if (near)
        return nst_fail(err, NST_ERR_ARG, "unknown option %s: did you mean --%s? (nst %s --help)", opt, near, cmd);
    return nst_fail(err, NST_ERR_ARG, "unknown option %s (nst %s --help)", opt, cmd);
}

int net_is_image(const char *net, nst_error *err) {
    static const char *const exts[] = {".png", ".jpg", ".jpeg", ".bmp", ".tga", ".gif", ".webp", ".heic", ".avif"};
    const char *dot = strrchr(net, '.'), *slash = strrchr(net, '/');
    if (!dot || (slash && dot < slash)) return NST_OK;
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
        if (!strcasecmp(dot, exts[i]))
            return nst_fail(err, NST_ERR_ARG, "--net %s: this is an image, not a style network; to paint in "
                            "its style use --style %s (any painting, one pass) or nst stylize -s %s", net, net, net);
    return NST_OK;
}

void warn_size(const char *path, int w, int h, int size) {
    if (size <= 0) return;
    int ow, oh;
    nst_image_fit(w, h, size, &ow, &oh);
    int lng = w > h ? w : h, thin = ow < oh ? ow : oh;
    if (size >= 4 * lng)
        fprintf(stderr, "nst: warning: %s is %dx%d; --size %d (the long side) enlarges it %.0fx to %dx%d, "
                "so expect a soft picture\n", path, w, h, size, (double)size / lng, ow, oh);
    if (thin < 64)
        fprintf(stderr, "nst: warning: %s becomes %dx%d at --size %d (the long side): %d px is too thin for the "
                "network's strokes; a larger --size or a crop paints better\n", path, ow, oh, size, thin);
}

static int noted(int rc, const char *name, const nst_image *img, int quiet) {
    if (!rc && img->flattened && !quiet)
        fprintf(stderr, "nst: note: %s has transparent pixels; nst paints it flattened onto white\n", name);
    return rc;
}

const char *arg_name(const char *path, int output) {
    return strcmp(path, "-") ? path : output ? "standard output" : "standard input";
}

int read_image_arg(const char *path, int quiet, nst_image *img, nst_error *err) {
    if (strcmp(path, "-")) return noted(nst_image_load(path, img, err), path, img, quiet);
    /* standard input, read whole (bounded: a picture nst accepts is far smaller) */
    size_t cap = 1 << 20, len = 0, most = (size_t)1 << 30;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + len, 1, cap - len, stdin)) > 0;) {
        len += got;
        if (len == cap && cap < most) {
            char *more = realloc(buf, cap * 2);
            if (!more) break;
            buf = more, cap *= 2;
        } else if (len == cap) {
            free(buf);
            return nst_fail(err, NST_ERR_FORMAT, "standard input: more than 1 GB, too large for an image");
        }
    }
    int rc = buf ? nst_image_decode(buf, len, "standard input", img, err)
                 : nst_fail(err, NST_ERR_NOMEM, "standard input: out of memory");
    free(buf);
    return noted(rc, arg_name(path, 0), img, quiet);
}

int write_image_arg(const char *path, const char *format, const nst_image *img, nst_error *err) {
    if (strcmp(path, "-")) return nst_image_save(path, img, err);
    return nst_image_write(stdout, "standard output", format ? format : "png", img, err);
}

int check_format(const char *output, const char *format, nst_error *err) {
    if (!format) return NST_OK;
    if (!output || strcmp(output, "-"))
        return nst_fail(err, NST_ERR_ARG, "--format is for -o - (standard output); a file's format follows "
                        "its extension");
    char ext[16];
    snprintf(ext, sizeof ext, ".%s", format);
    if (writable_ext(ext)) return NST_OK;
    return nst_fail(err, NST_ERR_ARG, "--format: '%s' is not png, jpg, bmp or tga", format);
}
