/* cmd_apply.c: nst apply, feed-forward style transfer in one pass per
 * image: with a pretrained style network (--net), or with any painting
 * through the arbitrary-style pair (--style). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cluster/cluster.h"
#include "core/util.h"

static const char help[] =
    "usage: nst apply --net NET INPUT -o OUTPUT [OPTIONS]\n"
    "       nst apply --style PAINTING INPUT -o OUTPUT [OPTIONS]\n"
    "       nst apply --net NET|--style PAINTING INPUT... -o DIR [OPTIONS]\n"
    "       mpirun -np N nst apply ... INPUT... -o DIR    (the inputs shared by N ranks)\n"
    "\n"
    "Paint photos in one pass, a second or so per image instead of minutes of\n"
    "optimisation: in the style a network was trained on (--net, Johnson et al.\n"
    "2016), or in the style of any painting (--style, Ghiasi et al. 2017: a\n"
    "network turns the painting into a style vector, another paints with it).\n"
    "\n"
    "  -n, --net NET           a style network: la_muse, mathura, matilde_perez, matta,\n"
    "                          rain_princess, scream, udnie, wave, wreck (see nst models;\n"
    "                          install with nst models install NAME), or a checkpoint\n"
    "                          directory (manifest.json + variable files)\n"
    "  -s, --style PATH        any painting (an image), or a style vector saved with\n"
    "                          --save-style (.json); repeat to blend several\n"
    "      --style-blend W,W   blend weights of the styles (default equal)\n"
    "      --save-style FILE   write the (blended) style vector to FILE.json, to reuse\n"
    "                          for a batch or a video; inputs are then optional\n"
    "      --arbitrary MODEL   the arbitrary-style pair (default magenta-arbitrary;\n"
    "                          install with nst models install magenta-arbitrary)\n"
    "  -o, --output PATH       result, .png/.jpg/.bmp/.tga; with several inputs (or an\n"
    "                          existing directory) a directory: DIR/<input name>, .png\n"
    "                          when the input's format cannot be written; -: standard\n"
    "                          output (one input; an input '-' is standard input)\n"
    "      --format png|jpg|bmp|tga  of the result on standard output (default png)\n"
    "      --size N            long side of the result (default: the input's)\n"
    "      --strength F        0..1 (default 1): with --net, F * styled + (1 - F) *\n"
    "                          photo; with --style, the style vector F * painting's +\n"
    "                          (1 - F) * the photo's own (a lighter style, not a fade)\n"
    "      --color-transfer none|luminance|histogram  colour control (default none):\n"
    "                          luminance keeps the photo's colours, histogram\n"
    "                          gives the result the photo's colour statistics\n"
    "      --original-colors   the same as --color-transfer luminance\n"
    "      --mask PATH         regions (instead of --net/--style): an image of the\n"
    "                          inputs' shape whose colours (or grey levels) mark them\n"
    "      --region-style LABEL=NET|PAINTING|none  the style of the region of colour\n"
    "                          LABEL (#rrggbb, #rgb, a colour name or a grey level\n"
    "                          0..255): a style network, a painting or style vector\n"
    "                          (.json) for the any-painting network, or none to keep\n"
    "                          the photo; once per region. Each region is painted\n"
    "                          whole and the results blended by the feathered mask\n"
    "      --mask-feather N    soften the regions' edges over N px (default 4)\n"
    "      --tile N            run images larger than N px in overlapping N px tiles\n"
    "                          (default 1024, 2048 with --style; bounds memory; every tile uses\n"
    "                          whole-image statistics, so the look stays close\n"
    "                          to a one-pass result)\n"
    "      --resume            skip the inputs whose output exists (outputs are only\n"
    "                          ever complete: a rerun finishes a cut-off batch)\n"
    "      --threads N         CPU threads (default all cores; under mpirun, the\n"
    "                          cores of a machine shared by its ranks)\n"
    "  -q, --quiet             no progress output\n"
    "  -h, --help              this help\n"
    "\n"
    "examples:\n"
    "  nst apply --net scream tubingen.jpg -o tubingen_scream.png\n"
    "  nst apply --net wave --size 1024 --strength 0.8 photos/*.jpg -o waves/\n"
    "  nst apply --style picasso.jpg --style kandinsky.jpg --style-blend 2,1 photo.jpg -o out.png\n"
    "  nst apply --style starry_night.jpg --save-style starry.json\n"
    "  nst apply --style starry.json --strength 0.5 photos/*.jpg -o starry/\n"
    "  nst apply --mask sky.png --region-style white=starry_night.jpg --region-style black=wave \\\n"
    "            tubingen.jpg -o out.png\n";

enum { O_SIZE = 256, O_STRENGTH, O_ORIG, O_COLOR, O_TILE, O_THREADS, O_BLEND, O_SAVE_STYLE, O_ARBITRARY, O_FORMAT,
       O_RESUME, O_MASK, O_REGION, O_FEATHER };

static const struct option options[] = {
    {"net", required_argument, 0, 'n'},
    {"style", required_argument, 0, 's'},
    {"style-blend", required_argument, 0, O_BLEND},
    {"save-style", required_argument, 0, O_SAVE_STYLE},
    {"arbitrary", required_argument, 0, O_ARBITRARY},
    {"output", required_argument, 0, 'o'},
    {"size", required_argument, 0, O_SIZE},
    {"strength", required_argument, 0, O_STRENGTH},
    {"original-colors", no_argument, 0, O_ORIG},
    {"color-transfer", required_argument, 0, O_COLOR},
    {"tile", required_argument, 0, O_TILE},
    {"mask", required_argument, 0, O_MASK},
    {"region-style", required_argument, 0, O_REGION},
    {"mask-feather", required_argument, 0, O_FEATHER},
    {"threads", required_argument, 0, O_THREADS},
    {"resume", no_argument, 0, O_RESUME},
    {"quiet", no_argument, 0, 'q'},
    {"format", required_argument, 0, O_FORMAT},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

#define MAX_STYLES 16

typedef struct {
    const char *net, *output, *save_style, *arbitrary, *format;
    const char *styles[MAX_STYLES];
    int n_styles, n_blend;
    char blend[MAX_STYLES][64];
    char **inputs;
    int n_inputs, threads, quiet, to_dir, resume;
    region_args regions;
    nst_apply_params p;
} args;

/* DIR/<input file name>, with .png instead of an extension we cannot write. */
static int output_in_dir(const char *dir, const char *input, char *out, size_t n, nst_error *err) {
    const char *base = strrchr(input, '/');
    base = !strcmp(input, "-") ? "stdin" : base ? base + 1 : input;
    int dl = (int)strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--; /* "multi/" + name: one slash */
    const char *dot = strrchr(base, '.');
    int keep = dot && dot != base && writable_ext(dot);
    int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    if (keep ? path_printf(out, n, "%.*s/%s", dl, dir, base)
             : path_printf(out, n, "%.*s/%.*s.png", dl, dir, stem, base))
        return nst_fail(err, NST_ERR_ARG, "%s/%s: path too long", dir, base);
    return NST_OK;
}

/* Two inputs of one name would overwrite each other's picture: the output
 * names, sorted, must differ from their neighbours. */
typedef struct {
    char *path;
    int input;
} named_output;

static int by_path(const void *x, const void *y) {
    return strcmp(((const named_output *)x)->path, ((const named_output *)y)->path);
}

static int distinct_outputs(const args *a, nst_error *err) {
    named_output *o = calloc((size_t)a->n_inputs, sizeof *o);
    char path[NST_PATH_MAX];
    int rc = o ? NST_OK : nst_fail(err, NST_ERR_NOMEM, "out of memory for %d inputs", a->n_inputs);
    for (int i = 0; i < a->n_inputs && !rc; i++) {
        rc = output_in_dir(a->output, a->inputs[i], path, sizeof path, err);
        if (!rc && !(o[i].path = strdup(path))) rc = nst_fail(err, NST_ERR_NOMEM, "out of memory");
        o[i].input = i;
    }
    if (!rc) qsort(o, (size_t)a->n_inputs, sizeof *o, by_path);
    for (int i = 1; i < a->n_inputs && !rc; i++)
        if (!strcmp(o[i - 1].path, o[i].path))
            rc = nst_fail(err, NST_ERR_ARG, "%s and %s would both be written to %s: give each input "
                          "its own name, or one at a time with -o FILE", a->inputs[o[i - 1].input],
                          a->inputs[o[i].input], o[i].path);
    for (int i = 0; o && i < a->n_inputs; i++) free(o[i].path);
    free(o);
    return rc;
}

static int parse(int argc, char **argv, args *a, nst_error *err) {
    nst_apply_params_init(&a->p);
    int c, rc = NST_OK;
    opterr = 0;
    a->arbitrary = "magenta-arbitrary";
    a->regions.feather = REGION_FEATHER;
    while (!rc && (c = getopt_long(argc, argv, ":n:s:o:qh", options, NULL)) != -1) {
        const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "option";
        switch (c) {
        case 'n': a->net = optarg; break;
        case 's':
            if (a->n_styles == MAX_STYLES)
                rc = nst_fail(err, NST_ERR_ARG, "--style: at most %d styles", MAX_STYLES);
            else a->styles[a->n_styles++] = optarg;
            break;
        case O_BLEND: rc = parse_list("--style-blend", optarg, a->blend, MAX_STYLES, &a->n_blend, err); break;
        case O_SAVE_STYLE: a->save_style = optarg; break;
        case O_ARBITRARY: a->arbitrary = optarg; break;
        case 'o': a->output = optarg; break;
        case 'q': a->quiet = 1; break;
        case O_RESUME: a->resume = 1; break;
        case O_FORMAT: a->format = optarg; break;
        case 'h': fputs(help, stdout); exit(0);
        case O_SIZE: rc = parse_int("--size", optarg, 16, NST_MAX_SIDE, &a->p.size, err); break;
        case O_STRENGTH: rc = parse_float("--strength", optarg, 0, 1, &a->p.strength, err); break;
        case O_ORIG: a->p.color_transfer = NST_COLOR_LUMINANCE; break;
        case O_COLOR: rc = parse_color("--color-transfer", optarg, &a->p.color_transfer, err); break;
        case O_TILE: rc = parse_int("--tile", optarg, 64, NST_MAX_SIDE, &a->p.tile, err); break;
        case O_MASK: a->regions.mask = optarg; break;
        case O_REGION: rc = region_arg_add(&a->regions, "--region-style", optarg, err); break;
        case O_FEATHER: rc = parse_int("--mask-feather", optarg, 0, 1000, &a->regions.feather, err); break;
        case O_THREADS: rc = parse_int("--threads", optarg, 1, 1024, &a->threads, err); break;
        case ':': rc = nst_fail(err, NST_ERR_ARG, "%s needs a value", opt); break;
        default: rc = unknown_option(opt, options, "apply", err); break;
        }
    }
    if (rc) return rc;
    a->inputs = argv + optind;
    a->n_inputs = argc - optind;
    if ((rc = region_args_check(&a->regions, err))) return rc;
    if (a->regions.mask && (a->net || a->n_styles || a->save_style))
        return nst_fail(err, NST_ERR_ARG, "with --mask, each region's style comes from --region-style "
                        "(no --net, --style or --save-style)");
    if (a->regions.mask && a->regions.mask[0] == '-' && !a->regions.mask[1])
        return nst_fail(err, NST_ERR_ARG, "--mask -: the mask is read for every input, so it must be a file");
    if (!a->regions.mask && !a->net == !a->n_styles)
        return nst_fail(err, NST_ERR_ARG, a->net ? "--net and --style exclude each other: a style "
                        "network has its own style" : "a style is needed: --net NAME|DIR (a style "
                        "network) or --style PAINTING (any painting)");
    if (a->net && (rc = net_is_image(a->net, err))) return rc;
    if (a->n_blend && a->n_blend != a->n_styles)
        return nst_fail(err, NST_ERR_ARG, "--style-blend has %d weight%s for %d style%s", a->n_blend,
                        a->n_blend == 1 ? "" : "s", a->n_styles, a->n_styles == 1 ? "" : "s");
    if (a->save_style && a->net)
        return nst_fail(err, NST_ERR_ARG, "--save-style goes with --style (a style network has no "
                        "style vector)");
    if (a->save_style && !a->n_inputs && !a->output) return NST_OK;
    if (!a->n_inputs) return nst_fail(err, NST_ERR_ARG, "an input image is needed (nst apply --help)");
    if (!a->output) return nst_fail(err, NST_ERR_ARG, "an output is needed: -o PATH (or -o DIR)");
    if ((rc = check_format(a->output, a->format, err))) return rc;
    int stdins = 0;
    for (int i = 0; i < a->n_inputs; i++) stdins += !strcmp(a->inputs[i], "-");
    if (stdins > 1) return nst_fail(err, NST_ERR_ARG, "'-' (standard input) can be only one of the inputs");
    if (!strcmp(a->output, "-") && a->n_inputs > 1)
        return nst_fail(err, NST_ERR_ARG, "-o - (standard output) takes one input, not %d", a->n_inputs);
    struct stat st;
    int is_dir = stat(a->output, &st) == 0 && S_ISDIR(st.st_mode);
    const char *dot = strrchr(a->output, '.'), *slash = strrchr(a->output, '/');
    if (a->n_inputs > 1 && !is_dir && dot && (!slash || dot > slash) && writable_ext(dot))
        return nst_fail(err, NST_ERR_ARG, "-o %s: %d inputs need an output directory, not an image "
                        "name (-o DIR writes DIR/<input name>)", a->output, a->n_inputs);
    a->to_dir = a->n_inputs > 1 || is_dir;
    if (!a->to_dir) return check_output_path(a->output, err);
    if ((rc = distinct_outputs(a, err))) return rc;
    if (mkdir(a->output, 0755) && errno != EEXIST)
        return nst_fail(err, NST_ERR_ARG, "%s: cannot create directory: %s", a->output, strerror(errno));
    return NST_OK;
}

/* What paints: a style network, or the arbitrary-style pair and a vector;
 * with --mask one per region (neither: the region keeps the photo). */
typedef struct painter_cli {
    nst_generator *g;
    nst_arbitrary *arb;
    float style[NST_STYLE_VECTOR_MAX];
    struct painter_cli *region; /* --mask: regions.n painters */
} painter_cli;

static void painter_free(painter_cli *pc, int n_regions) {
    for (int r = 0; pc->region && r < n_regions; r++) nst_generator_free(pc->region[r].g);
    free(pc->region);
    nst_generator_free(pc->g);
    nst_arbitrary_free(pc->arb);
}

static int paint_with(const painter_cli *pc, const nst_image *in, const nst_apply_params *p, nst_image *out,
                      nst_error *err) {
    return pc->g ? nst_apply(pc->g, in, p, out, err) : nst_arbitrary_apply(pc->arb, in, pc->style, p, out, err);
}

/* --mask: each region's style painted over the whole input, blended by the
 * regions' weights; the photo (at the output's size) where a region has none. */
static int paint_regions(const painter_cli *pc, const args *a, const nst_image *in, nst_image *out, nst_error *err) {
    nst_regions regions = {0};
    nst_image pics[NST_MAX_REGIONS] = {{0}}, photo = {0};
    const nst_image *use[NST_MAX_REGIONS] = {0};
    int rc = region_args_load(&a->regions, "photo", in->w, in->h, a->p.size, a->quiet, &regions, err);
    int w = in->w, h = in->h;
    if (a->p.size > 0) nst_image_fit(in->w, in->h, a->p.size, &w, &h);
    if (!rc) rc = nst_image_resize(in, w, h, &photo, err);
    for (int r = 0; r < regions.n && !rc; r++) {
        const painter_cli *rp = &pc->region[r];
        if (!rp->g && !rp->arb) continue; /* none */
        rc = paint_with(rp, in, &a->p, &pics[r], err);
        use[r] = &pics[r];
    }
    if (!rc) rc = nst_regions_blend(&regions, use, &photo, out, err);
    for (int r = 0; r < regions.n; r++) nst_image_free(&pics[r]);
    nst_image_free(&photo);
    nst_regions_free(&regions);
    return rc;
}

/* What one job of the batch needs. */
typedef struct {
    const painter_cli *pc;
    const args *a;
} batch;

/* Input i to its output; what it did into line. */
static int apply_one(int i, void *user, char *line, size_t cap) {
    const batch *B = user;
    const args *a = B->a;
    const char *input = a->inputs[i], *output = a->output;
    char path[NST_PATH_MAX];
    nst_error err;
    int rc = a->to_dir ? output_in_dir(a->output, input, path, sizeof path, &err) : NST_OK;
    if (rc) return snprintf(line, cap, "%s", err.msg), 1;
    if (a->to_dir) output = path;
    struct stat st;
    if (a->resume && strcmp(output, "-") && stat(output, &st) == 0) {
        snprintf(line, cap, "kept %s (it exists: --resume)", output);
        return 0;
    }
    double t0 = now_seconds();
    nst_image in = {0}, out = {0};
    rc = read_image_arg(input, a->quiet, &in, &err);
    if (!rc && !a->quiet) warn_size(arg_name(input, 0), in.w, in.h, a->p.size);
    if (!rc) rc = a->regions.mask ? paint_regions(B->pc, a, &in, &out, &err)
                                  : paint_with(B->pc, &in, &a->p, &out, &err);
    if (!rc) rc = write_image_arg(output, a->format, &out, &err);
    if (!rc) snprintf(line, cap, "wrote %s (%dx%d, %.2f s)", arg_name(output, 1), out.w, out.h, now_seconds() - t0);
    nst_image_free(&in);
    nst_image_free(&out);
    if (rc) snprintf(line, cap, "%s", err.msg);
    return rc;
}

/* The style vector of --style (paintings or saved vectors, blended). */
static int style_vector(painter_cli *pc, const args *a, nst_error *err) {
    int n = nst_style_vector_size(pc->arb), rc = NST_OK;
    float vecs[MAX_STYLES][NST_STYLE_VECTOR_MAX], w[MAX_STYLES];
    const float *ptr[MAX_STYLES];
    for (int k = 0; k < a->n_styles && !rc; k++) {
        ptr[k] = vecs[k];
        w[k] = 1;
        if (a->n_blend) rc = parse_float("--style-blend", a->blend[k], 0, 1e6, &w[k], err);
        if (!rc) rc = nst_style_vector_of_file(pc->arb, a->styles[k], vecs[k], err);
    }
    if (rc) return rc;
    double wsum = 0;
    for (int k = 0; k < a->n_styles; k++) wsum += w[k];
    if (!(wsum > 0)) return nst_fail(err, NST_ERR_ARG, "--style-blend: the weights sum to 0");
    nst_style_vector_blend(n, a->n_styles, ptr, w, pc->style);
    if (a->save_style && cluster()->rank == 0) {
        rc = nst_style_vector_save(a->save_style, pc->style, n, err);
        if (!rc && !a->quiet) fprintf(stderr, "nst: wrote the style vector to %s\n", a->save_style);
    }
    return rc;
}

/* --mask: each region's painter. A VALUE that names an image or a saved
 * style vector goes to the any-painting pair (loaded once, into pc->arb),
 * any other a style network. */
static int region_painters(painter_cli *pc, const args *a, nst_error *err) {
    const region_args *R = &a->regions;
    char path[NST_PATH_MAX];
    int rc = (pc->region = calloc((size_t)R->n, sizeof *pc->region)) ? NST_OK
             : nst_fail(err, NST_ERR_NOMEM, "out of memory");
    for (int r = 0; r < R->n && !rc; r++) {
        const char *v = R->value[r];
        painter_cli *rp = &pc->region[r];
        if (!strcmp(v, "none")) continue;
        if (region_value_is_painting(v)) {
            if (!pc->arb && !(rc = nst_models_resolve(a->arbitrary, path, sizeof path, err)))
                rc = nst_arbitrary_load(path, &pc->arb, err);
            if (!rc) rc = nst_style_vector_of_file(pc->arb, v, rp->style, err);
            rp->arb = pc->arb;
        } else {
            rc = nst_models_resolve(v, path, sizeof path, err);
            if (!rc) rc = nst_generator_load(path, &rp->g, err);
        }
    }
    return rc;
}

int cmd_apply(int argc, char **argv) {
    args a = {0};
    nst_error err = {0};
    painter_cli pc = {0};
    char path[NST_PATH_MAX];
    int rc = parse(argc, argv, &a, &err);
    if (!rc) {
        nst_set_threads(cluster_threads(a.threads));
        if (a.regions.mask) rc = region_painters(&pc, &a, &err);
        else rc = nst_models_resolve(a.net ? a.net : a.arbitrary, path, sizeof path, &err);
    }
    if (!rc && !a.regions.mask) rc = a.net ? nst_generator_load(path, &pc.g, &err) : nst_arbitrary_load(path, &pc.arb, &err);
    if (!rc && pc.arb && !a.regions.mask) rc = style_vector(&pc, &a, &err);
    rc = cluster_all_started(rc, &err);
    if (rc) {
        painter_free(&pc, a.regions.n);
        return report(&err);
    }
    /* a bad input is reported and the others still painted; exit 1 at the end */
    batch B = {&pc, &a};
    int failed = cluster_run(a.n_inputs, apply_one, &B, a.quiet);
    painter_free(&pc, a.regions.n);
    return failed > 0;
}
