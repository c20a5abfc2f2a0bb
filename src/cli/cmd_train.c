/* cmd_train.c: nst train, training a feed-forward style network for a
 * painting (Johnson et al. 2016) that nst apply then uses. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cluster/cluster.h"
#include "core/util.h"

static const char help[] =
    "usage: nst train --style PAINTING --content-dir DIR -o NET [OPTIONS]\n"
    "       mpirun -np N nst train ...   (data-parallel: N ranks share each batch)\n"
    "\n"
    "Train a style network (Johnson et al. 2016) on random crops of the photos in\n"
    "DIR, with the loss of nst stylize; nst apply --net NET then paints in one pass.\n"
    "NET is written in nst's format (safetensors) at every checkpoint and at the end.\n"
    "\n"
    "  -s, --style PATH         the painting\n"
    "      --content-dir DIR    training photos (unreadable files are skipped)\n"
    "  -o, --output NET         the network file (also the checkpoint for --resume)\n"
    "      --model NAME|PATH    loss network (default darknet-tiny)\n"
    "      --iterations N       total iterations (default 2000)\n"
    "      --batch-size N       photos per iteration (default 4; under mpirun, per rank)\n"
    "      --crop N             crop side in px (default 256)\n"
    "      --learning-rate F    Adam step (default 0.001)\n"
    "      --content-weight F   (default 1)\n"
    "      --style-weight F     (default 50)\n"
    "      --tv-weight F        (default 0.0001)\n"
    "      --style-layers L,..  --content-layers L,..  loss layers (default: as stylize)\n"
    "      --style-size N       long side of the painting in px (default: the crop)\n"
    "      --checkpoint-every N write NET every N iterations (default 100)\n"
    "      --resume             continue from NET's checkpoint (same result as one run)\n"
    "      --init-net NET       start from this network instead of random weights\n"
    "      --upsample nearest|deconv  upsampling of a new network: nearest x2 + conv\n"
    "                           (default, no checkerboard) or transposed convolution;\n"
    "                           --init-net and --resume keep the network's own\n"
    "      --seed N             photo order, crops and initial weights (default 0)\n"
    "      --threads N          CPU threads (default all cores)\n"
    "      --print-every N      progress every N iterations (default 10)\n"
    "      --loss-csv PATH      the losses per iteration as CSV\n"
    "      --loss-plot PATH     the losses as a PNG plot (log scale)\n"
    "  -q, --quiet              no progress output\n"
    "  -h, --help               this help\n"
    "\n"
    "example:\n"
    "  nst train --style starry_night.jpg --content-dir photos -o starry.nst\n"
    "  nst apply --net starry.nst photo.jpg -o photo_starry.jpg\n";

enum { O_DIR = 256, O_MODEL, O_ITERS, O_BATCH, O_CROP, O_LR, O_CW, O_SW, O_TW, O_SL, O_CL,
       O_SSIZE, O_CKPT, O_RESUME, O_INIT, O_UP, O_SEED, O_THREADS, O_PRINT, O_CSV, O_PLOT };

static const struct option options[] = {
    {"style", required_argument, 0, 's'},
    {"content-dir", required_argument, 0, O_DIR},
    {"output", required_argument, 0, 'o'},
    {"model", required_argument, 0, O_MODEL},
    {"iterations", required_argument, 0, O_ITERS},
    {"batch-size", required_argument, 0, O_BATCH},
    {"crop", required_argument, 0, O_CROP},
    {"learning-rate", required_argument, 0, O_LR},
    {"content-weight", required_argument, 0, O_CW},
    {"style-weight", required_argument, 0, O_SW},
    {"tv-weight", required_argument, 0, O_TW},
    {"style-layers", required_argument, 0, O_SL},
    {"content-layers", required_argument, 0, O_CL},
    {"style-size", required_argument, 0, O_SSIZE},
    {"checkpoint-every", required_argument, 0, O_CKPT},
    {"resume", no_argument, 0, O_RESUME},
    {"init-net", required_argument, 0, O_INIT},
    {"upsample", required_argument, 0, O_UP},
    {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS},
    {"print-every", required_argument, 0, O_PRINT},
    {"loss-csv", required_argument, 0, O_CSV},
    {"loss-plot", required_argument, 0, O_PLOT},
    {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

typedef struct {
    const char *style, *model;
    int threads, quiet, n_sl, n_cl;
    char sl[NST_MAX_LAYERS][64], cl[NST_MAX_LAYERS][64];
    nst_train_params p;
} args;

static int parse(int argc, char **argv, args *a, nst_error *err) {
    nst_train_params *p = &a->p;
    nst_train_params_init(p);
    a->model = "darknet-tiny";
    int c, rc = NST_OK, seed = 0;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":s:o:qh", options, NULL)) != -1) {
        const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "option";
        switch (c) {
        case 's': a->style = optarg; break;
        case 'o': p->output = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'h': fputs(help, stdout); exit(0);
        case O_DIR: p->content_dir = optarg; break;
        case O_MODEL: a->model = optarg; break;
        case O_ITERS: rc = parse_int("--iterations", optarg, 1, 10000000, &p->iterations, err); break;
        case O_BATCH: rc = parse_int("--batch-size", optarg, 1, 256, &p->batch_size, err); break;
        case O_CROP: rc = parse_int("--crop", optarg, 16, 4096, &p->crop, err); break;
        case O_LR: rc = parse_float("--learning-rate", optarg, 1e-9, 10, &p->learning_rate, err); break;
        case O_CW: rc = parse_float("--content-weight", optarg, 0, 1e12, &p->loss.content_weight, err); break;
        case O_SW: rc = parse_float("--style-weight", optarg, 0, 1e12, &p->loss.style_weight, err); break;
        case O_TW: rc = parse_float("--tv-weight", optarg, 0, 1e12, &p->loss.tv_weight, err); break;
        case O_SL: rc = parse_list("--style-layers", optarg, a->sl, NST_MAX_LAYERS, &a->n_sl, err); break;
        case O_CL: rc = parse_list("--content-layers", optarg, a->cl, NST_MAX_LAYERS, &a->n_cl, err); break;
        case O_SSIZE: rc = parse_int("--style-size", optarg, 16, NST_MAX_SIDE, &p->style_size, err); break;
        case O_CKPT: rc = parse_int("--checkpoint-every", optarg, 0, 10000000, &p->checkpoint_every, err); break;
        case O_RESUME: p->resume = 1; break;
        case O_INIT: p->init_net = optarg; break;
        case O_UP:
            p->upsample = !strcmp(optarg, "nearest") ? NST_UPSAMPLE_NEAREST
                        : !strcmp(optarg, "deconv")  ? NST_UPSAMPLE_DECONV : -1;
            if (p->upsample < 0)
                rc = nst_fail(err, NST_ERR_ARG, "--upsample: '%s' is not nearest or deconv", optarg);
            break;
        case O_SEED: rc = parse_int("--seed", optarg, 0, 2147483647, &seed, err); break;
        case O_THREADS: rc = parse_int("--threads", optarg, 1, 1024, &a->threads, err); break;
        case O_PRINT: rc = parse_int("--print-every", optarg, 1, 10000000, &p->report_every, err); break;
        case O_CSV: p->loss_csv = optarg; break;
        case O_PLOT: p->loss_plot = optarg; break;
        case ':': rc = nst_fail(err, NST_ERR_ARG, "%s needs a value", opt); break;
        default: rc = unknown_option(opt, options, "train", err); break;
        }
    }
    p->seed = (uint64_t)seed;
    if (rc) return rc;
    if (optind < argc) return nst_fail(err, NST_ERR_ARG, "unexpected argument '%s'", argv[optind]);
    if (!a->style) return nst_fail(err, NST_ERR_ARG, "a style image is needed: --style PAINTING");
    if (!p->content_dir) return nst_fail(err, NST_ERR_ARG, "training photos are needed: --content-dir DIR");
    if (!p->output) return nst_fail(err, NST_ERR_ARG, "an output is needed: -o NET");
    if (p->resume && p->init_net) return nst_fail(err, NST_ERR_ARG, "--resume and --init-net exclude each other");
    rc = check_output_dir(p->output, err);
    if (!rc && p->loss_csv) rc = check_output_dir(p->loss_csv, err);
    if (!rc && p->loss_plot) rc = check_output_path(p->loss_plot, err);
    return rc;
}

static void on_progress(const nst_train_progress *pr, void *user) {
    (void)user;
    char eta[32];
    format_duration(pr->remaining, eta, sizeof eta);
    fprintf(stderr, "iter %6d/%d  loss %10.4f  content %9.4f  style %9.4f  tv %8.4f  %5.1f img/s  ETA %s\n",
            pr->iteration, pr->total, pr->loss, pr->content, pr->style, pr->tv, pr->images_per_sec, eta);
}

/* nst_train's collective: MPI_Allreduce over the ranks */
static int sum_over_ranks(float *buf, size_t n, void *user) {
    (void)user;
    return cluster_sum_floats(buf, n);
}

static void on_warn(const char *msg, void *user) {
    (void)user;
    fprintf(stderr, "nst: warning: skipping %s\n", msg);
}

int cmd_train(int argc, char **argv) {
    static args a; /* large; static keeps it off the stack */
    nst_error err = {0};
    nst_net *net = NULL;
    nst_image style = {0};
    char model_path[NST_PATH_MAX], init_path[NST_PATH_MAX];
    int rc = parse(argc, argv, &a, &err);
    if (!rc) {
        nst_set_threads(cluster_threads(a.threads));
        rc = nst_models_resolve(a.model, model_path, sizeof model_path, &err);
    }
    if (!rc && a.p.init_net) { /* a style network's name (udnie) or a path */
        rc = nst_models_resolve(a.p.init_net, init_path, sizeof init_path, &err);
        a.p.init_net = init_path;
    }
    if (!rc) rc = nst_net_load(model_path, &net, &err);
    if (!rc) rc = nst_image_load(a.style, &style, &err);
    rc = cluster_all_started(rc, &err);
    if (!rc) {
        nst_train_params *p = &a.p;
        nst_stylize_default_layers(&p->loss, net);
        if (a.n_sl) memcpy(p->loss.style_layers, a.sl, sizeof a.sl), p->loss.n_style_layers = a.n_sl;
        if (a.n_cl) memcpy(p->loss.content_layers, a.cl, sizeof a.cl), p->loss.n_content_layers = a.n_cl;
        const cluster_info *c = cluster();
        int speaks = !a.quiet && c->rank == 0; /* rank 0 speaks for all */
        p->shard = c->rank, p->shards = c->size, p->sum = sum_over_ranks;
        if (c->rank == 0) p->warn = on_warn;
        if (speaks) {
            p->progress = on_progress;
            char ranks[96] = "";
            if (c->size > 1)
                snprintf(ranks, sizeof ranks, " (%d ranks x batch %d: a global batch of %d)", c->size,
                         p->batch_size, c->size * p->batch_size);
            fprintf(stderr, "nst: training %s on %s, %d iterations of %d x %d px%s, loss network %s\n",
                    a.style, p->content_dir, p->iterations, c->size * p->batch_size, p->crop, ranks,
                    nst_net_name(net));
        }
        rc = nst_train(net, &style, p, &err);
    }
    if (!rc && !a.quiet && cluster()->rank == 0) fprintf(stderr, "nst: wrote %s\n", a.p.output);
    nst_image_free(&style);
    nst_net_free(net);
    return rc ? report(&err) : 0;
}
