/* cmd_stylize.c: nst stylize, optimisation-based style transfer. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cluster/cluster.h"
#include "core/util.h"

static const char help[] =
    "usage: nst stylize -c CONTENT -s STYLE [-s STYLE...] [-o OUTPUT] [OPTIONS]\n"
    "       nst stylize --batch JOBS.csv [OPTIONS]\n"
    "       mpirun -np N nst stylize --batch JOBS.csv [OPTIONS]   (the jobs shared by N ranks)\n"
    "\n"
    "Paint CONTENT in the style of STYLE by optimising the pixels so that the loss\n"
    "network sees the content of the photo and the Gram statistics of the painting.\n"
    "\n"
    "images:\n"
    "  -c, --content PATH        photo to paint (PNG, JPEG, BMP, TGA, GIF, PNM; -: standard input)\n"
    "  -s, --style PATH          painting; repeat to blend several\n"
    "      --style-blend W,W...  blend weights of the styles (default equal)\n"
    "  -o, --output PATH         result, .png/.jpg/.bmp/.tga (default out.png; -: standard output)\n"
    "      --format png|jpg|bmp|tga  of the result on standard output (default png)\n"
    "      --size N              long side of the result in pixels (default 512)\n"
    "      --style-scale F       style image long side relative to --size (default 1)\n"
    "      --color-transfer none|luminance|histogram  colour control (default none):\n"
    "                            luminance keeps the photo's colours under the\n"
    "                            painting's strokes; histogram recolours the\n"
    "                            painting to the photo's colours first\n"
    "      --original-colors     the same as --color-transfer luminance\n"
    "regions (a painting per part of the photo, instead of -s):\n"
    "      --mask PATH           an image of the photo's shape whose colours (or grey\n"
    "                            levels) mark the regions\n"
    "      --region-style LABEL=PAINTING|none  the painting of the region of colour\n"
    "                            LABEL (#rrggbb, #rgb, black, white, red, green, blue,\n"
    "                            yellow, cyan, magenta, grey, or a grey level 0..255),\n"
    "                            or none to keep the photo there; once per region.\n"
    "                            Each pixel belongs to the label nearest its colour; a\n"
    "                            grey mask with grey labels blends between the levels\n"
    "      --mask-feather N      soften the regions' edges over N px of the result\n"
    "                            (default 4)\n"
    "loss:\n"
    "      --model NAME|PATH     loss network (default darknet-tiny; see nst models)\n"
    "      --content-weight F    (default 1)\n"
    "      --style-weight F      (default 200)\n"
    "      --tv-weight F         total variation, smooths noise (default 0.0001)\n"
    "      --content-layers L,L  (default leaky_re_lu_10; relu4_2 for VGG)\n"
    "      --style-layers L,L    (default leaky_re_lu_1,2,4,8,12; relu1_1..relu5_1 for VGG)\n"
    "      --style-layer-weights W,W  one weight per style layer (default 1 each)\n"
    "      --pooling max|avg     pooling in the loss network (default max)\n"
    "      --padding reflect|zero  convolution padding (default reflect: no border)\n"
    "      --precision fp32|bf16  loss network arithmetic; bf16 (CPUs with AVX512-BF16\n"
    "                            or AMX) is faster: the first 60 % of the iterations\n"
    "                            in bfloat16, the rest in float32 (default fp32)\n"
    "optimisation:\n"
    "      --iterations N        per scale (default 400)\n"
    "      --optimizer lbfgs|adam  (default lbfgs)\n"
    "      --learning-rate F     step size (default 1 for L-BFGS, 10 for Adam)\n"
    "      --lbfgs-history N     L-BFGS memory (default 100)\n"
    "      --init content|noise|PATH  starting image (default content)\n"
    "      --seed N              noise seed (default 0)\n"
    "      --scales N            coarse-to-fine levels, each twice the previous size (default 1)\n"
    "      --threads N           CPU threads (default all cores; under mpirun, the\n"
    "                            cores of a machine shared by its ranks)\n"
    "batch:\n"
    "      --batch FILE          run the jobs of a CSV file: a header row naming the\n"
    "                            columns content, style, output and (optionally)\n"
    "                            options, then a job per row; several styles are\n"
    "                            separated by ';', options are more of the options\n"
    "                            above, separated by spaces, for that job (after the\n"
    "                            command line's); a failed job does not stop the others\n"
    "      --resume              skip the jobs whose output exists (outputs are only\n"
    "                            ever complete: a rerun finishes a cut-off batch)\n"
    "output:\n"
    "      --print-every N       progress line every N iterations (default 50, 0: never)\n"
    "      --save-every N        also save OUTPUT_<iteration> every N iterations\n"
    "  -q, --quiet               no progress output\n"
    "  -h, --help                this help\n"
    "\n"
    "Ctrl-C stops after the current iteration and keeps the picture so far as\n"
    "OUTPUT_interrupted (exit status 130); a second Ctrl-C quits at once.\n"
    "\n"
    "examples:\n"
    "  nst stylize -c tubingen.jpg -s starry_night.jpg -o tubingen_starry.png --size 512\n"
    "  nst stylize -c tubingen.jpg --mask sky.png --region-style white=starry_night.jpg \\\n"
    "              --region-style black=none -o sky_only.png\n"
    "  nst stylize --batch jobs.csv --size 384 --resume\n"
    "     with jobs.csv:  content,style,output,options\n"
    "                     tubingen.jpg,starry_night.jpg,out/tubingen_starry.png,\n"
    "                     stata.jpg,wave.jpg;scream.jpg,out/stata_mix.png,--iterations 200\n";

enum {
    O_BLEND = 256, O_SIZE, O_STYLE_SCALE, O_ORIG, O_COLOR, O_MODEL, O_CW, O_SW, O_TW, O_CL, O_SL, O_SLW,
    O_POOL, O_PAD, O_ITERS, O_OPT, O_LR, O_HIST, O_INIT, O_SEED, O_SCALES, O_THREADS, O_PRINT,
    O_SAVE, O_PREC, O_FORMAT, O_BATCH, O_RESUME, O_MASK, O_REGION, O_FEATHER,
};

static const struct option options[] = {
    {"content", required_argument, 0, 'c'},
    {"style", required_argument, 0, 's'},
    {"output", required_argument, 0, 'o'},
    {"style-blend", required_argument, 0, O_BLEND},
    {"size", required_argument, 0, O_SIZE},
    {"style-scale", required_argument, 0, O_STYLE_SCALE},
    {"original-colors", no_argument, 0, O_ORIG},
    {"color-transfer", required_argument, 0, O_COLOR},
    {"mask", required_argument, 0, O_MASK},
    {"region-style", required_argument, 0, O_REGION},
    {"mask-feather", required_argument, 0, O_FEATHER},
    {"model", required_argument, 0, O_MODEL},
    {"content-weight", required_argument, 0, O_CW},
    {"style-weight", required_argument, 0, O_SW},
    {"tv-weight", required_argument, 0, O_TW},
    {"content-layers", required_argument, 0, O_CL},
    {"style-layers", required_argument, 0, O_SL},
    {"style-layer-weights", required_argument, 0, O_SLW},
    {"pooling", required_argument, 0, O_POOL},
    {"padding", required_argument, 0, O_PAD},
    {"precision", required_argument, 0, O_PREC},
    {"iterations", required_argument, 0, O_ITERS},
    {"optimizer", required_argument, 0, O_OPT},
    {"learning-rate", required_argument, 0, O_LR},
    {"lbfgs-history", required_argument, 0, O_HIST},
    {"init", required_argument, 0, O_INIT},
    {"seed", required_argument, 0, O_SEED},
    {"scales", required_argument, 0, O_SCALES},
    {"threads", required_argument, 0, O_THREADS},
    {"print-every", required_argument, 0, O_PRINT},
    {"save-every", required_argument, 0, O_SAVE},
    {"quiet", no_argument, 0, 'q'},
    {"format", required_argument, 0, O_FORMAT},
    {"batch", required_argument, 0, O_BATCH},
    {"resume", no_argument, 0, O_RESUME},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

typedef struct {
    const char *content, *styles[NST_MAX_STYLES], *output, *model, *init_path, *format, *batch;
    int n_styles, threads, print_every, save_every, quiet, resume;
    char content_layers[NST_MAX_LAYERS][64], style_layers[NST_MAX_LAYERS][64];
    int n_cl, n_sl, n_slw, n_blend;
    char slw[NST_MAX_LAYERS][64], blend[NST_MAX_STYLES][64];
    region_args regions;
    nst_stylize_params p;
} args;

static int choice(const char *opt, const char *v, const char *a, const char *b, int *out,
                  nst_error *err) {
    if (!strcmp(v, a)) *out = 0;
    else if (!strcmp(v, b)) *out = 1;
    else return nst_fail(err, NST_ERR_ARG, "%s: '%s' is not %s or %s", opt, v, a, b);
    return NST_OK;
}

/* With --mask: the styles are the regions' paintings, each once, and
 * region_style maps each region to its painting (-1: none). */
static int region_styles(args *a, nst_error *err) {
    if (a->n_styles || a->n_blend)
        return nst_fail(err, NST_ERR_ARG, "with --mask, each region's painting comes from --region-style "
                        "(no -s or --style-blend)");
    for (int r = 0; r < a->regions.n; r++) {
        const char *v = a->regions.value[r];
        int k = 0;
        if (!strcmp(v, "none")) {
            a->p.region_style[r] = -1;
            continue;
        }
        while (k < a->n_styles && strcmp(a->styles[k], v)) k++;
        if (k == a->n_styles) a->styles[a->n_styles++] = v;
        a->p.region_style[r] = k;
    }
    if (!a->n_styles)
        return nst_fail(err, NST_ERR_ARG, "every --region-style is none: there is nothing to paint");
    return NST_OK;
}

/* The command line, or (job) the command line and a batch job's own. */
static int parse(int argc, char **argv, int job, args *a, nst_error *err) {
    nst_stylize_params *p = &a->p;
    memset(a, 0, sizeof *a);
    nst_stylize_params_init(p);
    a->output = "out.png";
    a->model = "darknet-tiny";
    a->print_every = 50;
    a->regions.feather = REGION_FEATHER;
    int c, rc = NST_OK, seed = 0;
    opterr = 0;
    optind = 0; /* getopt starts afresh: parse runs once per batch job */
    while (!rc && (c = getopt_long(argc, argv, ":c:s:o:qh", options, NULL)) != -1) {
        const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "option";
        switch (c) {
        case 'c': a->content = optarg; break;
        case 's':
            if (a->n_styles == NST_MAX_STYLES)
                rc = nst_fail(err, NST_ERR_ARG, "at most %d style images", NST_MAX_STYLES);
            else a->styles[a->n_styles++] = optarg;
            break;
        case 'o': a->output = optarg; break;
        case 'q': a->quiet = 1; break;
        case O_FORMAT: a->format = optarg; break;
        case O_BATCH: a->batch = optarg; break;
        case O_RESUME: a->resume = 1; break;
        case 'h': fputs(help, stdout); exit(0);
        case O_BLEND: rc = parse_list("--style-blend", optarg, a->blend, NST_MAX_STYLES, &a->n_blend, err); break;
        case O_SIZE: rc = parse_int("--size", optarg, 16, NST_MAX_SIDE, &p->size, err); break;
        case O_STYLE_SCALE: rc = parse_float("--style-scale", optarg, 0.05, 8, &p->style_scale, err); break;
        case O_ORIG: p->color_transfer = NST_COLOR_LUMINANCE; break;
        case O_COLOR: rc = parse_color("--color-transfer", optarg, &p->color_transfer, err); break;
        case O_MASK: a->regions.mask = optarg; break;
        case O_REGION: rc = region_arg_add(&a->regions, "--region-style", optarg, err); break;
        case O_FEATHER: rc = parse_int("--mask-feather", optarg, 0, 1000, &a->regions.feather, err); break;
        case O_MODEL: a->model = optarg; break;
        case O_CW: rc = parse_float("--content-weight", optarg, 0, 1e12, &p->content_weight, err); break;
        case O_SW: rc = parse_float("--style-weight", optarg, 0, 1e12, &p->style_weight, err); break;
        case O_TW: rc = parse_float("--tv-weight", optarg, 0, 1e12, &p->tv_weight, err); break;
        case O_CL: rc = parse_list("--content-layers", optarg, a->content_layers, NST_MAX_LAYERS, &a->n_cl, err); break;
        case O_SL: rc = parse_list("--style-layers", optarg, a->style_layers, NST_MAX_LAYERS, &a->n_sl, err); break;
        case O_SLW: rc = parse_list("--style-layer-weights", optarg, a->slw, NST_MAX_LAYERS, &a->n_slw, err); break;
        case O_POOL: rc = choice("--pooling", optarg, "max", "avg", &p->pooling, err); break;
        case O_PAD: rc = choice("--padding", optarg, "zero", "reflect", &p->padding, err); break;
        case O_PREC: rc = choice("--precision", optarg, "fp32", "bf16", &p->precision, err); break;
        case O_ITERS: rc = parse_int("--iterations", optarg, 1, 1000000, &p->iterations, err); break;
        case O_OPT: rc = choice("--optimizer", optarg, "lbfgs", "adam", &p->optimizer, err); break;
        case O_LR: rc = parse_float("--learning-rate", optarg, 1e-9, 1e6, &p->learning_rate, err); break;
        case O_HIST: rc = parse_int("--lbfgs-history", optarg, 1, 1000, &p->lbfgs_history, err); break;
        case O_INIT:
            if (!strcmp(optarg, "content")) p->init = NST_INIT_CONTENT;
            else if (!strcmp(optarg, "noise")) p->init = NST_INIT_NOISE;
            else p->init = NST_INIT_IMAGE, a->init_path = optarg;
            break;
        case O_SEED: rc = parse_int("--seed", optarg, 0, 2147483647, &seed, err); break;
        case O_SCALES: rc = parse_int("--scales", optarg, 1, 8, &p->scales, err); break;
        case O_THREADS: rc = parse_int("--threads", optarg, 1, 1024, &a->threads, err); break;
        case O_PRINT: rc = parse_int("--print-every", optarg, 0, 1000000, &a->print_every, err); break;
        case O_SAVE: rc = parse_int("--save-every", optarg, 0, 1000000, &a->save_every, err); break;
        case ':': rc = nst_fail(err, NST_ERR_ARG, "%s needs a value", opt); break;
        default: rc = unknown_option(opt, options, "stylize", err); break;
        }
    }
    if (rc) return rc;
    p->seed = (uint64_t)seed;
    if (optind < argc)
        return nst_fail(err, NST_ERR_ARG, "unexpected argument '%s' (nst stylize --help)", argv[optind]);
    if (a->batch && !job) {
        if (a->content || a->n_styles || strcmp(a->output, "out.png") || a->save_every || a->format)
            return nst_fail(err, NST_ERR_ARG, "--batch: the contents, styles and outputs are the file's "
                            "(no -c, -s, -o, --format or --save-every)");
        return NST_OK;
    }
    if (a->resume && !a->batch)
        return nst_fail(err, NST_ERR_ARG, "--resume goes with --batch (a single run overwrites its output)");
    if (!a->content) return nst_fail(err, NST_ERR_ARG, "a content image is needed: -c PATH");
    if ((rc = region_args_check(&a->regions, err))) return rc;
    if (a->regions.mask) return region_styles(a, err);
    if (!a->n_styles) return nst_fail(err, NST_ERR_ARG, "a style image is needed: -s PATH");
    if (a->n_blend && a->n_blend != a->n_styles)
        return nst_fail(err, NST_ERR_ARG, "--style-blend has %d weights for %d styles", a->n_blend,
                        a->n_styles);
    for (int i = 0; i < a->n_blend && !rc; i++)
        rc = parse_float("--style-blend", a->blend[i], 0, 1e6, &p->style_blend[i], err);
    return rc;
}

/* Fill layers from the flags or the network's defaults. */
static int set_layers(args *a, const nst_net *net, nst_error *err) {
    nst_stylize_params *p = &a->p;
    nst_stylize_default_layers(p, net);
    if (a->n_cl) {
        memcpy(p->content_layers, a->content_layers, sizeof p->content_layers);
        p->n_content_layers = a->n_cl;
    }
    if (a->n_sl) {
        memcpy(p->style_layers, a->style_layers, sizeof p->style_layers);
        p->n_style_layers = a->n_sl;
    }
    if (a->n_slw && a->n_slw != p->n_style_layers)
        return nst_fail(err, NST_ERR_ARG, "--style-layer-weights has %d weights for %d style layers",
                        a->n_slw, p->n_style_layers);
    for (int i = 0; i < a->n_slw; i++) {
        int rc = parse_float("--style-layer-weights", a->slw[i], 0, 1e6, &p->style_layer_weights[i], err);
        if (rc) return rc;
    }
    return NST_OK;
}

typedef struct {
    const args *a;
    char stem[1024], ext[16];
    nst_image last;       /* the picture at the latest iteration, kept for Ctrl-C */
    int last_iteration;
    int tty, bar_open;    /* stderr is a terminal: one live progress line */
    double drawn;         /* when it was last redrawn */
} progress_ctx;

/* A newline after the live progress line, before any other message. */
static void end_bar(progress_ctx *ctx) {
    if (ctx->bar_open) fputc('\n', stderr);
    ctx->bar_open = 0;
}

/* The progress of one iteration: on a terminal a bar redrawn in place (at
 * most 10 times a second), else a plain line every print_every iterations. */
static void show_progress(progress_ctx *ctx, const nst_progress *pr) {
    const args *a = ctx->a;
    int last = pr->iteration == pr->total;
    char el[32], left[32] = "estimating", sc[32] = "";
    if (ctx->tty) {
        double t = now_seconds();
        if (!last && t - ctx->drawn < 0.1) return;
        ctx->drawn = t;
    } else if (!(pr->iteration % a->print_every == 0 || pr->iteration == 1 || last)) {
        return;
    }
    format_duration(pr->elapsed, el, sizeof el);
    if (pr->remaining >= 0) format_duration(pr->remaining, left, sizeof left);
    if (pr->scales > 1) snprintf(sc, sizeof sc, "scale %d/%d ", pr->scale, pr->scales);
    if (!ctx->tty) {
        fprintf(stderr, "%siter %4d/%d  loss %.4e  content %.3e  style %.3e  tv %.3e  %s elapsed, %s left\n",
                sc, pr->iteration, pr->total, pr->loss, pr->content, pr->style, pr->tv, el, left);
        return;
    }
    char bar[25];
    int full = (int)(24.0 * pr->iteration / pr->total);
    for (int i = 0; i < 24; i++) bar[i] = i < full ? '#' : '.';
    bar[24] = 0;
    fprintf(stderr, "\r%s[%s] %d/%d  loss %.4e  %s elapsed, %s left\033[K", sc, bar, pr->iteration, pr->total,
            pr->loss, el, left);
    ctx->bar_open = 1;
    if (last) end_bar(ctx);
}

/* Ctrl-C: the library stops at the next iteration (params.cancel) and the
 * progress callback keeps the picture so far; a second Ctrl-C ends the
 * process at once (the default action, re-raised). */
static nst_cancel_flag interrupted; /* lock-free: a signal handler may set it */
static void on_sigint(int sig) {
    if (interrupted) {
        signal(sig, SIG_DFL);
        raise(sig);
    }
    interrupted = 1;
}

static void on_progress(const nst_progress *pr, void *user) {
    progress_ctx *ctx = user;
    const args *a = ctx->a;
    /* a copy per iteration (3 w h floats, a fraction of a millisecond
     * against the iteration's evaluation) so that Ctrl-C can keep it */
    size_t n = (size_t)3 * pr->image->w * pr->image->h;
    if (ctx->last.w * ctx->last.h != pr->image->w * pr->image->h) {
        free(ctx->last.data);
        ctx->last.data = malloc(n * sizeof(float));
    }
    if (ctx->last.data) {
        memcpy(ctx->last.data, pr->image->data, n * sizeof(float));
        ctx->last.w = pr->image->w, ctx->last.h = pr->image->h, ctx->last_iteration = pr->iteration;
    } else {
        ctx->last.w = ctx->last.h = 0;
    }
    if (!a->quiet && a->print_every) show_progress(ctx, pr);
    if (a->save_every && pr->iteration % a->save_every == 0) {
        char path[1200];
        if (pr->scales > 1)
            snprintf(path, sizeof path, "%s_s%d_%04d%s", ctx->stem, pr->scale, pr->iteration, ctx->ext);
        else
            snprintf(path, sizeof path, "%s_%04d%s", ctx->stem, pr->iteration, ctx->ext);
        nst_error err;
        if (nst_image_save(path, pr->image, &err)) fprintf(stderr, "nst: warning: %s\n", err.msg);
    }
}

/* Reject an output we could not write before spending minutes on it. */
static int check_output(const char *path, progress_ctx *ctx, nst_error *err) {
    int rc = check_output_path(path, err);
    if (rc) return rc;
    if (!strcmp(path, "-")) { /* standard output: --save-every and Ctrl-C files are nst_*.png here */
        snprintf(ctx->stem, sizeof ctx->stem, "nst");
        snprintf(ctx->ext, sizeof ctx->ext, ".png");
        return NST_OK;
    }
    const char *dot = strrchr(path, '.');
    snprintf(ctx->stem, sizeof ctx->stem, "%.*s", (int)(dot - path), path);
    snprintf(ctx->ext, sizeof ctx->ext, "%s", dot);
    return NST_OK;
}

/* Standard input holds one picture: "-" may be given once. */
static int one_stdin(const args *a, nst_error *err) {
    int n = !strcmp(a->content, "-") + (a->init_path && !strcmp(a->init_path, "-")) +
            (a->regions.mask && !strcmp(a->regions.mask, "-"));
    for (int i = 0; i < a->n_styles; i++) n += !strcmp(a->styles[i], "-");
    return n > 1 ? nst_fail(err, NST_ERR_ARG, "'-' (standard input) can be only one of the images") : NST_OK;
}

/* a's content in the style of its styles (init: its --init image) into
 * out, with net. */
static int paint(args *a, const nst_net *net, progress_ctx *ctx, nst_image *out, nst_error *err) {
    nst_image content = {0}, styles[NST_MAX_STYLES] = {{0}}, init = {0};
    int rc = set_layers(a, net, err);
    if (!rc) rc = one_stdin(a, err);
    if (!rc) rc = read_image_arg(a->content, a->quiet, &content, err);
    if (!rc && !a->quiet) warn_size(arg_name(a->content, 0), content.w, content.h, a->p.size);
    nst_regions regions = {0};
    if (!rc && a->regions.mask) {
        rc = region_args_load(&a->regions, "photo", content.w, content.h, a->p.size, a->quiet, &regions, err);
        a->p.regions = &regions;
    }
    for (int i = 0; i < a->n_styles && !rc; i++) rc = read_image_arg(a->styles[i], a->quiet, &styles[i], err);
    if (!rc && a->init_path) {
        rc = read_image_arg(a->init_path, a->quiet, &init, err);
        a->p.init_image = &init;
    }
    if (!rc) {
        a->p.progress = on_progress;
        a->p.progress_user = ctx;
        a->p.cancel = &interrupted;
        if (!a->quiet)
            fprintf(stderr, "nst: %s %s %s%s, %d px, %s, %d iterations%s, loss network %s\n", a->content,
                    a->regions.mask ? "in regions, one in the style of" : "in the style of", a->styles[0],
                    a->n_styles > 1 ? " and others" : "", a->p.size,
                    a->p.optimizer == NST_OPT_ADAM ? "Adam" : "L-BFGS", a->p.iterations,
                    a->p.scales > 1 ? " per scale" : "", nst_net_name(net));
        rc = nst_stylize(net, &content, styles, a->n_styles, &a->p, out, err);
    }
    a->p.regions = NULL;
    nst_regions_free(&regions);
    nst_image_free(&init);
    nst_image_free(&content);
    for (int i = 0; i < a->n_styles; i++) nst_image_free(&styles[i]);
    return rc;
}

/* --batch: the jobs of the file over the ranks, the loss network loaded
 * once per model. */
typedef struct {
    int argc;
    char **argv;
    const char *path;
    batch_file file;
    nst_net *net;
    char model[1024]; /* the path net was loaded from */
} batch_run;

/* Up to max words of s (spaces between) into the buffer words and argv. */
static int split_words(char *s, char **argv, int max) {
    int n = 0;
    for (char *t = strtok(s, " \t"); t && n < max; t = strtok(NULL, " \t")) argv[n++] = t;
    return n;
}

static int batch_job_run(int i, void *user, char *line, size_t cap) {
    static args a; /* large: off the stack */
    batch_run *B = user;
    batch_job *job = &B->file.jobs[i];
    char *argv[256], styles[BATCH_FIELD], options[BATCH_FIELD], model[1024];
    int argc = 0, n_styles = 0;
    for (; argc < B->argc && argc < 128; argc++) argv[argc] = B->argv[argc];
    argv[argc++] = "-c", argv[argc++] = job->field[BATCH_CONTENT];
    snprintf(styles, sizeof styles, "%s", job->field[BATCH_STYLE]);
    for (char *t = strtok(styles, ";"); t && n_styles < NST_MAX_STYLES + 1; t = strtok(NULL, ";"), n_styles++)
        argv[argc++] = "-s", argv[argc++] = t + strspn(t, " ");
    argv[argc++] = "-o", argv[argc++] = job->field[BATCH_OUTPUT];
    snprintf(options, sizeof options, "%s", job->field[BATCH_OPTIONS]);
    argc += split_words(options, argv + argc, (int)(sizeof argv / sizeof *argv) - argc - 1);
    argv[argc] = NULL;
    nst_error err;
    progress_ctx ctx = {.a = &a};
    nst_image out = {0};
    double t0 = now_seconds();
    int rc = parse(argc, argv, 1, &a, &err);
    a.quiet = 1, a.print_every = 0; /* a line per job, not per iteration */
    if (!rc) rc = check_format(a.output, a.format, &err);
    if (!rc) rc = check_output(a.output, &ctx, &err);
    struct stat st;
    if (!rc && a.resume && stat(a.output, &st) == 0) {
        snprintf(line, cap, "%s:%d: kept %s (it exists: --resume)", B->path, job->line, a.output);
        return 0;
    }
    if (!rc && interrupted) rc = nst_fail(&err, NST_ERR_ARG, "interrupted: not started");
    if (!rc) rc = nst_models_resolve(a.model, model, sizeof model, &err);
    if (!rc && (!B->net || strcmp(model, B->model))) {
        nst_net_free(B->net);
        B->net = NULL;
        if (!(rc = nst_net_load(model, &B->net, &err))) snprintf(B->model, sizeof B->model, "%s", model);
    }
    if (!rc) rc = paint(&a, B->net, &ctx, &out, &err);
    if (!rc) rc = write_image_arg(a.output, a.format, &out, &err);
    free(ctx.last.data);
    if (rc) snprintf(line, cap, "%s:%d: %s", B->path, job->line, err.msg);
    else snprintf(line, cap, "wrote %s (%dx%d, %.1f s)", a.output, out.w, out.h, now_seconds() - t0);
    nst_image_free(&out);
    return rc ? 1 : 0;
}

static int stylize_batch(int argc, char **argv, const args *a) {
    batch_run B = {.argc = argc, .argv = argv, .path = a->batch};
    nst_error err;
    int rc = cluster_all_started(batch_file_read(a->batch, &B.file, &err), &err);
    if (rc) {
        batch_file_free(&B.file);
        return report(&err);
    }
    signal(SIGINT, on_sigint);
    if (!a->quiet && cluster()->rank == 0)
        fprintf(stderr, "nst: %d jobs from %s on %d rank%s\n", B.file.n, a->batch, cluster()->size,
                cluster()->size == 1 ? "" : "s");
    int failed = cluster_run(B.file.n, batch_job_run, &B, a->quiet);
    if (!a->quiet && cluster()->rank == 0 && failed)
        fprintf(stderr, "nst: %d of %d jobs failed\n", failed, B.file.n);
    nst_net_free(B.net);
    batch_file_free(&B.file);
    return interrupted ? 130 : failed > 0;
}

int cmd_stylize(int argc, char **argv) {
    static args a; /* large; static keeps it off the stack */
    nst_error err = {0};
    progress_ctx ctx = {.a = &a, .tty = progress_in_place()};
    nst_image out = {0};
    nst_net *net = NULL;
    char model_path[1024];
    int rc = parse(argc, argv, 0, &a, &err);
    if (!rc) nst_set_threads(cluster_threads(a.threads));
    if (!rc && a.batch) return stylize_batch(argc, argv, &a);
    if (!rc && cluster()->size > 1) /* N ranks would each paint the same picture */
        rc = nst_fail(&err, NST_ERR_ARG, "under mpirun, nst stylize shares the jobs of --batch FILE "
                      "among the ranks; one picture runs as one process (without mpirun)");
    if (!rc) rc = check_format(a.output, a.format, &err);
    if (!rc) rc = check_output(a.output, &ctx, &err);
    if (!rc) rc = nst_models_resolve(a.model, model_path, sizeof model_path, &err);
    if (!rc) rc = nst_net_load(model_path, &net, &err);
    if (!rc) {
        signal(SIGINT, on_sigint);
        rc = paint(&a, net, &ctx, &out, &err);
    }
    end_bar(&ctx);
    if (interrupted) { /* Ctrl-C: keep the picture so far; the shell's status for SIGINT */
        char path[1100];
        snprintf(path, sizeof path, "%s_interrupted%s", ctx.stem, ctx.ext);
        if (!ctx.last.data)
            fprintf(stderr, "nst: interrupted before the first iteration; nothing written\n");
        else if (nst_image_save(path, &ctx.last, &err))
            fprintf(stderr, "nst: interrupted; the picture so far could not be kept: %s\n", err.msg);
        else
            fprintf(stderr, "nst: interrupted at iteration %d; the picture so far is in %s\n",
                    ctx.last_iteration, path);
    }
    if (!rc && !interrupted) rc = write_image_arg(a.output, a.format, &out, &err);
    free(ctx.last.data);
    if (!rc && !interrupted && !a.quiet)
        fprintf(stderr, "nst: wrote %s (%dx%d)\n", arg_name(a.output, 1), out.w, out.h);
    nst_image_free(&out);
    nst_net_free(net);
    return interrupted ? 130 : rc ? report(&err) : 0;
}
