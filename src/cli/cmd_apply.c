/* cmd_apply.c: nst apply, feed-forward style transfer with a pretrained
 * style network (one forward pass per image). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/util.h"

static const char help[] =
    "usage: nst apply --net NET INPUT -o OUTPUT [OPTIONS]\n"
    "       nst apply --net NET INPUT... -o DIR [OPTIONS]\n"
    "\n"
    "Paint photos in the style a network was trained on (Johnson et al. 2016), in\n"
    "one pass: a second or so per image instead of minutes of optimisation.\n"
    "\n"
    "  -n, --net NET           a style network: la_muse, mathura, matilde_perez, matta,\n"
    "                          rain_princess, scream, udnie, wave, wreck (see nst models;\n"
    "                          install with nst models install NAME), or a checkpoint\n"
    "                          directory (manifest.json + variable files)\n"
    "  -o, --output PATH       result, .png/.jpg/.bmp/.tga; with several inputs (or an\n"
    "                          existing directory) a directory: DIR/<input name>, .png\n"
    "                          when the input's format cannot be written\n"
    "      --size N            long side of the result (default: the input's)\n"
    "      --strength F        0..1, blend with the photo: F * styled + (1 - F) * photo\n"
    "                          (default 1)\n"
    "      --original-colors   keep the photo's colours\n"
    "      --tile N            run images larger than N px in overlapping N px tiles\n"
    "                          (default 1024; bounds memory; every tile uses\n"
    "                          whole-image statistics, so the look stays close\n"
    "                          to a one-pass result)\n"
    "      --threads N         CPU threads (default all cores)\n"
    "  -q, --quiet             no progress output\n"
    "  -h, --help              this help\n"
    "\n"
    "examples:\n"
    "  nst apply --net scream tubingen.jpg -o tubingen_scream.png\n"
    "  nst apply --net wave --size 1024 --strength 0.8 photos/*.jpg -o waves/\n";

enum { O_SIZE = 256, O_STRENGTH, O_ORIG, O_TILE, O_THREADS };

static const struct option options[] = {
    {"net", required_argument, 0, 'n'},
    {"output", required_argument, 0, 'o'},
    {"size", required_argument, 0, O_SIZE},
    {"strength", required_argument, 0, O_STRENGTH},
    {"original-colors", no_argument, 0, O_ORIG},
    {"tile", required_argument, 0, O_TILE},
    {"threads", required_argument, 0, O_THREADS},
    {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

typedef struct {
    const char *net, *output;
    char **inputs;
    int n_inputs, threads, quiet, to_dir;
    nst_apply_params p;
} args;

static int parse(int argc, char **argv, args *a, nst_error *err) {
    nst_apply_defaults(&a->p);
    int c, rc = NST_OK;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":n:o:qh", options, NULL)) != -1) {
        const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "option";
        switch (c) {
        case 'n': a->net = optarg; break;
        case 'o': a->output = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'h': fputs(help, stdout); exit(0);
        case O_SIZE: rc = parse_int("--size", optarg, 16, NST_MAX_SIDE, &a->p.size, err); break;
        case O_STRENGTH: rc = parse_float("--strength", optarg, 0, 1, &a->p.strength, err); break;
        case O_ORIG: a->p.original_colors = 1; break;
        case O_TILE: rc = parse_int("--tile", optarg, 64, NST_MAX_SIDE, &a->p.tile, err); break;
        case O_THREADS: rc = parse_int("--threads", optarg, 1, 1024, &a->threads, err); break;
        case ':': rc = nst_fail(err, NST_ERR_USAGE, "%s needs a value", opt); break;
        default: rc = nst_fail(err, NST_ERR_USAGE, "unknown option %s (nst apply --help)", opt); break;
        }
    }
    if (rc) return rc;
    a->inputs = argv + optind;
    a->n_inputs = argc - optind;
    if (!a->net) return nst_fail(err, NST_ERR_USAGE, "a style network is needed: --net NAME|DIR");
    if (!a->n_inputs) return nst_fail(err, NST_ERR_USAGE, "an input image is needed (nst apply --help)");
    if (!a->output) return nst_fail(err, NST_ERR_USAGE, "an output is needed: -o PATH (or -o DIR)");
    struct stat st;
    a->to_dir = a->n_inputs > 1 || (stat(a->output, &st) == 0 && S_ISDIR(st.st_mode));
    if (!a->to_dir) return check_output_path(a->output, err);
    if (mkdir(a->output, 0755) && errno != EEXIST)
        return nst_fail(err, NST_ERR_USAGE, "%s: cannot create directory: %s", a->output, strerror(errno));
    return NST_OK;
}

/* DIR/<input file name>, with .png instead of an extension we cannot write. */
static int output_in_dir(const char *dir, const char *input, char *out, size_t n, nst_error *err) {
    const char *base = strrchr(input, '/');
    base = base ? base + 1 : input;
    const char *dot = strrchr(base, '.');
    int keep = dot && dot != base && writable_ext(dot);
    int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    if (keep ? nst_pathf(out, n, "%s/%s", dir, base) : nst_pathf(out, n, "%s/%.*s.png", dir, stem, base))
        return nst_fail(err, NST_ERR_USAGE, "%s/%s: path too long", dir, base);
    return NST_OK;
}

/* One input to one output. */
static int apply_one(const nst_generator *g, const args *a, const char *input, nst_error *err) {
    char path[NST_PATH_MAX];
    const char *output = a->output;
    if (a->to_dir) {
        int rc = output_in_dir(a->output, input, path, sizeof path, err);
        if (rc) return rc;
        output = path;
    }
    double t0 = now_seconds();
    nst_image in = {0}, out = {0};
    int rc = nst_image_load(input, &in, err);
    if (!rc) rc = nst_apply(g, &in, &a->p, &out, err);
    if (!rc) rc = nst_image_save(output, &out, err);
    if (!rc && !a->quiet)
        fprintf(stderr, "nst: wrote %s (%dx%d, %.2f s)\n", output, out.w, out.h, now_seconds() - t0);
    nst_image_free(&in);
    nst_image_free(&out);
    return rc;
}

int cmd_apply(int argc, char **argv) {
    args a = {0};
    nst_error err = {0};
    nst_generator *g = NULL;
    char net_path[NST_PATH_MAX];
    int rc = parse(argc, argv, &a, &err);
    if (!rc) {
        nst_set_threads(a.threads);
        rc = nst_models_resolve(a.net, net_path, sizeof net_path, &err);
    }
    if (!rc) rc = nst_generator_load(net_path, &g, &err);
    if (rc) return report(&err);
    /* a bad input is reported and the others still painted; exit 1 at the end */
    int failed = 0;
    for (int i = 0; i < a.n_inputs; i++)
        if (apply_one(g, &a, a.inputs[i], &err)) {
            report(&err);
            failed = 1;
        }
    nst_generator_free(g);
    return failed;
}
