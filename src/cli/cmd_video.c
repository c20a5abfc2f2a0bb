/* cmd_video.c: nst video, stylised clips with temporal consistency. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cluster/cluster.h"
#include "core/util.h"

static const char help[] =
    "usage: nst video --net NET INPUT OUTPUT [OPTIONS]\n"
    "       nst video --method arbitrary -s PAINTING INPUT OUTPUT [OPTIONS]\n"
    "       nst video --method optimize -s STYLE INPUT OUTPUT [OPTIONS]\n"
    "\n"
    "Paint a clip frame by frame. Strokes follow the motion: each frame holds to\n"
    "the previous one warped by the optical flow wherever the flow is reliable, so\n"
    "the result does not flicker; scene cuts start afresh. The sound is kept.\n"
    "\n"
    "  INPUT                   what FFmpeg reads: .mp4 .mkv .webm .mov .gif ..., an\n"
    "                          image sequence (frames/%04d.png), a camera (/dev/video0)\n"
    "  OUTPUT                  .mp4 (H.264), .webm (VP9), .gif, or frames/%04d.png\n"
    "  -n, --net NET           a style network, as for nst apply (see nst models)\n"
    "      --method M          net (default): one pass of --net per frame;\n"
    "                          arbitrary: one pass per frame in the style of any\n"
    "                          painting -s (or a style vector saved by nst apply\n"
    "                          --save-style), as nst apply --style;\n"
    "                          optimize: Gatys et al. per frame with a temporal loss\n"
    "                          (Ruder et al. 2016): minutes per frame, --resume continues\n"
    "  -s, --style PATH        the painting, for --method optimize or arbitrary\n"
    "      --temporal W        0..1, how strongly a frame holds to the previous one;\n"
    "                          0 paints every frame on its own (default 0.6)\n"
    "      --scene-cut T       mean change in grey levels that starts a new shot\n"
    "                          (default 20)\n"
    "      --start T           begin at T (seconds, or [hh:]mm:ss[.ms])\n"
    "      --duration T        paint T of the clip (default: to the end)\n"
    "      --size N            long side of the frames (default: the input's; even)\n"
    "      --crf N             encoder quality, lower is better (default: H.264 20,\n"
    "                          VP9 32)\n"
    "      --no-audio          drop the sound\n"
    "      --strength F        0..1, blend with the input frames (--method net; with\n"
    "                          arbitrary, the style vector, as nst apply --style)\n"
    "      --color-transfer none|luminance|histogram  colour control (default none),\n"
    "                          as for nst stylize and nst apply\n"
    "      --original-colors   the same as --color-transfer luminance\n"
    "      --mask PATH         regions (instead of --net / -s), an image of the clip's\n"
    "                          shape, as for nst apply; a still mask for the clip\n"
    "      --region-style LABEL=NET|PAINTING|none  the style of the region of colour\n"
    "                          LABEL: a network or a painting (any-painting network),\n"
    "                          with --method optimize a painting; none keeps the clip\n"
    "      --mask-feather N    soften the regions' edges over N px (default 4)\n"
    "      --tile N            tiles for frames larger than N px (--method net)\n"
    "      --model NAME        loss network for --method optimize (default darknet-tiny)\n"
    "      --iterations N      per frame, --method optimize (default 200)\n"
    "      --iterations-first N  for the first frame of each shot (default 2x)\n"
    "      --style-weight W    --method optimize (default as nst stylize)\n"
    "      --resume            continue a stopped --method optimize run (or, under\n"
    "                          mpirun, any run: finished parts are kept)\n"
    "      --warmup N          under mpirun: frames each rank paints before its part,\n"
    "                          so the strokes carry over the seams (default 8); an\n"
    "                          optimisation fades them in: a dissolve at each seam\n"
    "      --report            measure flicker: the warping error (Lai et al. 2018) of\n"
    "                          the result and of the input, and where the time went\n"
    "      --threads N         CPU threads (default all cores)\n"
    "  -q, --quiet             no progress output\n"
    "  -h, --help              this help\n"
    "\n"
    "examples:\n"
    "  nst video --net wave clip.mp4 clip_wave.mp4\n"
    "  nst video --net udnie --start 0:10 --duration 5 --size 480 clip.mp4 short.webm\n"
    "  nst video --method arbitrary -s picasso.jpg --size 640 clip.mp4 picasso.mp4\n"
    "  nst video --method optimize -s starry_night.jpg --size 320 clip.mp4 starry.mp4\n"
    "  mpirun -np 8 nst video --method optimize -s starry_night.jpg clip.mp4 starry.mp4\n"
    "\n"
    "Under mpirun each rank paints a contiguous part of the clip; rank 0 joins them.\n";

enum {
    O_METHOD = 256, O_TEMPORAL, O_CUT, O_START, O_DURATION, O_SIZE, O_CRF, O_NOAUDIO, O_STRENGTH,
    O_ORIG, O_COLOR, O_TILE, O_MASK, O_REGION, O_FEATHER, O_MODEL, O_ITERS, O_ITERS_FIRST, O_SW, O_RESUME, O_WARMUP, O_REPORT, O_THREADS,
};

static const struct option options[] = {
    {"net", required_argument, 0, 'n'},
    {"method", required_argument, 0, O_METHOD},
    {"style", required_argument, 0, 's'},
    {"temporal", required_argument, 0, O_TEMPORAL},
    {"scene-cut", required_argument, 0, O_CUT},
    {"start", required_argument, 0, O_START},
    {"duration", required_argument, 0, O_DURATION},
    {"size", required_argument, 0, O_SIZE},
    {"crf", required_argument, 0, O_CRF},
    {"no-audio", no_argument, 0, O_NOAUDIO},
    {"strength", required_argument, 0, O_STRENGTH},
    {"original-colors", no_argument, 0, O_ORIG},
    {"color-transfer", required_argument, 0, O_COLOR},
    {"tile", required_argument, 0, O_TILE},
    {"mask", required_argument, 0, O_MASK},
    {"region-style", required_argument, 0, O_REGION},
    {"mask-feather", required_argument, 0, O_FEATHER},
    {"model", required_argument, 0, O_MODEL},
    {"iterations", required_argument, 0, O_ITERS},
    {"iterations-first", required_argument, 0, O_ITERS_FIRST},
    {"style-weight", required_argument, 0, O_SW},
    {"resume", no_argument, 0, O_RESUME},
    {"warmup", required_argument, 0, O_WARMUP},
    {"report", no_argument, 0, O_REPORT},
    {"threads", required_argument, 0, O_THREADS},
    {"quiet", no_argument, 0, 'q'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

typedef struct {
    const char *net, *style, *model, *input, *output;
    int threads, quiet, report, iterations_first_set;
    region_args regions;
    nst_video_params vp;
    nst_video_file_params fp;
} args;

/* Seconds, or [hh:]mm:ss[.frac]. */
static int parse_time(const char *opt, const char *s, double *out, nst_error *err) {
    double parts[3] = {0};
    int n = 0;
    const char *p = s;
    while (n < 3) {
        char *end;
        parts[n++] = strtod(p, &end);
        if (end == p || !isfinite(parts[n - 1]) || parts[n - 1] < 0) break;
        if (*end != ':') {
            p = end;
            break;
        }
        p = end + 1;
    }
    if (*p || !*s || (n > 1 && parts[n - 1] >= 60))
        return nst_fail(err, NST_ERR_ARG, "%s: '%s' is not a time (seconds, or mm:ss)", opt, s);
    double t = 0;
    for (int i = 0; i < n; i++) t = t * 60 + parts[i];
    *out = t;
    return NST_OK;
}

static int parse(int argc, char **argv, args *a, nst_error *err) {
    nst_video_params_init(&a->vp);
    nst_video_file_params_init(&a->fp);
    a->model = "darknet-tiny";
    a->regions.feather = REGION_FEATHER;
    a->vp.stylize.iterations = 200;
    int c, rc = NST_OK, method = -1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":n:s:qh", options, NULL)) != -1) {
        const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "option";
        nst_stylize_params *sp = &a->vp.stylize;
        switch (c) {
        case 'n': a->net = optarg; break;
        case 's': a->style = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'h': fputs(help, stdout); exit(0);
        case O_METHOD:
            if (!strcmp(optarg, "net")) method = NST_VIDEO_NET;
            else if (!strcmp(optarg, "optimize")) method = NST_VIDEO_OPTIMIZE;
            else if (!strcmp(optarg, "arbitrary")) method = NST_VIDEO_ARBITRARY;
            else rc = nst_fail(err, NST_ERR_ARG, "--method: '%s' is not net, arbitrary or optimize", optarg);
            break;
        case O_TEMPORAL: rc = parse_float("--temporal", optarg, 0, 1, &a->vp.temporal, err); break;
        case O_CUT: rc = parse_float("--scene-cut", optarg, 0.01, 255, &a->vp.scene_cut, err); break;
        case O_START: rc = parse_time("--start", optarg, &a->fp.start, err); break;
        case O_DURATION: rc = parse_time("--duration", optarg, &a->fp.duration, err); break;
        case O_SIZE: rc = parse_int("--size", optarg, 16, NST_MAX_SIDE, &a->fp.size, err); break;
        case O_CRF: rc = parse_int("--crf", optarg, 0, 63, &a->fp.crf, err); break;
        case O_NOAUDIO: a->fp.audio = 0; break;
        case O_STRENGTH: rc = parse_float("--strength", optarg, 0, 1, &a->vp.apply.strength, err); break;
        case O_ORIG: a->vp.apply.color_transfer = sp->color_transfer = NST_COLOR_LUMINANCE; break;
        case O_COLOR:
            rc = parse_color("--color-transfer", optarg, &sp->color_transfer, err);
            a->vp.apply.color_transfer = sp->color_transfer;
            break;
        case O_TILE: rc = parse_int("--tile", optarg, 64, NST_MAX_SIDE, &a->vp.apply.tile, err); break;
        case O_MASK: a->regions.mask = optarg; break;
        case O_REGION: rc = region_arg_add(&a->regions, "--region-style", optarg, err); break;
        case O_FEATHER: rc = parse_int("--mask-feather", optarg, 0, 1000, &a->regions.feather, err); break;
        case O_MODEL: a->model = optarg; break;
        case O_ITERS: rc = parse_int("--iterations", optarg, 1, 1000000, &sp->iterations, err); break;
        case O_ITERS_FIRST:
            rc = parse_int("--iterations-first", optarg, 1, 1000000, &a->vp.iterations_first, err);
            a->iterations_first_set = 1;
            break;
        case O_SW: rc = parse_float("--style-weight", optarg, 0, 1e12, &sp->style_weight, err); break;
        case O_RESUME: a->fp.resume = 1; break;
        case O_WARMUP: rc = parse_int("--warmup", optarg, 0, 100000, &a->fp.warmup, err); break;
        case O_REPORT: a->report = a->vp.measure = 1; break;
        case O_THREADS: rc = parse_int("--threads", optarg, 1, 1024, &a->threads, err); break;
        case ':': rc = nst_fail(err, NST_ERR_ARG, "%s needs a value", opt); break;
        default: rc = unknown_option(opt, options, "video", err); break;
        }
    }
    if (rc) return rc;
    if (argc - optind != 2)
        return nst_fail(err, NST_ERR_ARG, "an input and an output are needed: nst video [OPTIONS] IN OUT");
    a->input = argv[optind], a->output = argv[optind + 1];
    if (a->net && (rc = net_is_image(a->net, err))) return rc;
    if ((rc = region_args_check(&a->regions, err))) return rc;
    if (a->regions.mask) {
        if (a->net || a->style)
            return nst_fail(err, NST_ERR_ARG, "with --mask, each region's style comes from --region-style "
                            "(no --net or -s)");
        if (method == NST_VIDEO_ARBITRARY)
            return nst_fail(err, NST_ERR_ARG, "with --mask, a region's painting goes to the any-painting "
                            "network by itself: no --method arbitrary");
        a->vp.method = method == NST_VIDEO_OPTIMIZE ? NST_VIDEO_OPTIMIZE : NST_VIDEO_NET;
        if (!a->iterations_first_set) a->vp.iterations_first = 2 * a->vp.stylize.iterations;
        return check_output_dir(a->output, err);
    }
    a->vp.method = method >= 0 ? method : a->style && !a->net ? NST_VIDEO_OPTIMIZE : NST_VIDEO_NET;
    if (a->vp.method == NST_VIDEO_NET && !a->net)
        return nst_fail(err, NST_ERR_ARG, "a style network is needed: --net NAME (or --method optimize -s STYLE)");
    if (a->vp.method != NST_VIDEO_NET && !a->style)
        return nst_fail(err, NST_ERR_ARG, "--method %s needs a style image: -s PATH",
                        a->vp.method == NST_VIDEO_OPTIMIZE ? "optimize" : "arbitrary");
    if (a->vp.method != NST_VIDEO_NET && a->net)
        return nst_fail(err, NST_ERR_ARG, "--net is for --method net; --method %s takes -s STYLE",
                        a->vp.method == NST_VIDEO_OPTIMIZE ? "optimize" : "arbitrary");
    if (!a->iterations_first_set) a->vp.iterations_first = 2 * a->vp.stylize.iterations;
    return check_output_dir(a->output, err);
}

static nst_cancel_flag interrupted; /* lock-free: a signal handler may set it */
static void on_signal(int sig) {
    (void)sig;
    if (interrupted) _exit(130); /* a second Ctrl-C quits at once */
    interrupted = 1;
}

/* A line at most every second (and for the last frame). */
static void on_progress(const nst_video_progress *p, void *user) {
    static double last;
    (void)user;
    double t = now_seconds();
    if (t - last < 1 && p->frame != p->total) return;
    last = t;
    char el[32], left[32], total[32] = "", line[256];
    format_duration(p->elapsed, el, sizeof el);
    format_duration(p->remaining, left, sizeof left);
    if (p->total > 0) snprintf(total, sizeof total, "/%d", p->total);
    snprintf(line, sizeof line, "frame %d%s  %.2f fps  %s elapsed%s%s%s%s", p->frame, total, p->fps, el,
             p->total > 0 ? ", " : "", p->total > 0 ? left : "", p->total > 0 ? " left" : "",
             p->info->cut && p->frame > 1 ? "  (scene cut)" : "");
    cluster_note(line); /* rank 0 prints every rank's */
}

static void print_report(const nst_video_report *r) {
    int n = r->frames > 0 ? r->frames : 1;
    fprintf(stderr,
            "nst: report: %d frames of %dx%d, %.2f fps, %d scene cuts; warping error %.5f (input %.5f, "
            "%d frame pairs)\n"
            "nst: report: per frame: decode %.1f ms, flow %.1f ms, paint %.1f ms, blend %.1f ms, "
            "encode %.1f ms\n",
            r->frames, r->w, r->h, r->fps, r->cuts > 0 ? r->cuts - 1 : 0, r->warp_error,
            r->warp_error_input, r->measured, 1e3 * r->t_decode / n, 1e3 * r->t_flow / n,
            1e3 * r->t_paint / n, 1e3 * r->t_blend / n, 1e3 * r->t_encode / n);
}

/* A rerun with --resume keeps an output that a finished run left: it is
 * there and no work directory is (outputs appear only when complete). */
static int finished(const char *out) {
    char work[NST_PATH_MAX];
    return access(out, F_OK) == 0 && !path_printf(work, sizeof work, "%s.nst-work", out) && access(work, F_OK) != 0;
}

/* cluster_run's job k: part k of the clip into the work directory. */
static int paint_part(int k, void *user, char *line, size_t cap) {
    args *a = user;
    nst_video_file_params fp = a->fp;
    nst_video_report r;
    nst_error err = {0};
    fp.chunk = k;
    int rc = nst_video_file(a->input, a->output, &a->vp, &fp, &r, &err);
    char before[64] = "", measured[96] = "";
    if (r.resumed) snprintf(before, sizeof before, " (%d of them from before)", r.resumed);
    if (a->report && r.warp_error >= 0)
        snprintf(measured, sizeof measured, ", warping error %.5f (input %.5f)", r.warp_error, r.warp_error_input);
    if (rc) snprintf(line, cap, "part %d: %s", k + 1, err.msg);
    else snprintf(line, cap, "part %d: %d frames%s, %.1f s%s", k + 1, r.frames, before, r.seconds, measured);
    return rc;
}

/* Under mpirun: rank r paints part r of the clip, then rank 0 joins the
 * parts into the output (a rerun with --resume finishes what failed).
 * Returns the exit status; rank 0 says what failed. */
static int run_parts(args *a) {
    nst_error err = {0};
    const cluster_info *c = cluster();
    a->fp.chunks = c->size;
    a->fp.progress = a->quiet ? NULL : on_progress;
    a->fp.cancel = &interrupted;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (!a->quiet && c->rank == 0)
        fprintf(stderr, "nst: %s -> %s in %d parts, one per rank\n", a->input, a->output, c->size);
    int failed = cluster_run(c->size, paint_part, a, a->quiet);
    if (failed && interrupted) return 130;
    if (c->rank != 0) return failed ? 1 : 0;
    if (failed) {
        fprintf(stderr, "nst: %s: %d of %d parts failed; the others are kept in %s.nst-work, and a rerun "
                "with --resume paints what is missing\n", a->output, failed, c->size, a->output);
        return 1;
    }
    double t0 = now_seconds();
    if (nst_video_assemble(a->input, a->output, &a->vp, &a->fp, &err)) return report(&err);
    if (!a->quiet) fprintf(stderr, "nst: wrote %s (joined in %.1f s)\n", a->output, now_seconds() - t0);
    return 0;
}

/* --mask: the regions for the clip's frames and each region's style: for
 * an optimisation the paintings (once each) and stylize.region_style, else
 * a network or a style vector per region. The loaded things go to the
 * caller's arrays, freed by it. */
typedef struct {
    nst_regions regions;
    nst_generator *net[NST_MAX_REGIONS];
    nst_arbitrary *arb;
    float vector[NST_MAX_REGIONS][NST_STYLE_VECTOR_MAX];
    nst_image styles[NST_MAX_STYLES];
    int n_styles;
} region_styles;

static int load_regions(args *a, region_styles *R, nst_error *err) {
    nst_video_info info;
    char path[NST_PATH_MAX];
    int rc = nst_video_probe(a->input, &info, err);
    if (!rc) rc = region_args_load(&a->regions, "clip", info.w, info.h, a->fp.size, a->quiet, &R->regions, err);
    nst_video_params *vp = &a->vp;
    int optimize = vp->method == NST_VIDEO_OPTIMIZE;
    for (int r = 0; r < a->regions.n && !rc; r++) {
        const char *v = a->regions.value[r];
        int none = !strcmp(v, "none");
        vp->stylize.region_style[r] = -1;
        if (none) continue;
        if (optimize) { /* each painting once */
            int k = 0;
            while (k < r && (vp->stylize.region_style[k] < 0 || strcmp(a->regions.value[k], v))) k++;
            if (k < r) {
                vp->stylize.region_style[r] = vp->stylize.region_style[k];
                continue;
            }
            vp->stylize.region_style[r] = R->n_styles;
            rc = nst_image_load(v, &R->styles[R->n_styles++], err);
        } else if (region_value_is_painting(v)) {
            if (!R->arb && !(rc = nst_models_resolve("magenta-arbitrary", path, sizeof path, err)))
                rc = nst_arbitrary_load(path, &R->arb, err);
            if (!rc) rc = nst_style_vector_of_file(R->arb, v, R->vector[r], err);
            vp->region_style[r] = R->vector[r];
        } else {
            rc = nst_models_resolve(v, path, sizeof path, err);
            if (!rc) rc = nst_generator_load(path, &R->net[r], err);
            vp->region_net[r] = R->net[r];
        }
    }
    if (!rc && optimize && !R->n_styles)
        rc = nst_fail(err, NST_ERR_ARG, "every --region-style is none: there is nothing to paint");
    if (optimize) vp->stylize.regions = &R->regions, vp->styles = R->styles, vp->n_styles = R->n_styles;
    else vp->regions = &R->regions, vp->arbitrary = R->arb;
    return rc;
}

static void free_regions(region_styles *R) {
    for (int r = 0; r < NST_MAX_REGIONS; r++) nst_generator_free(R->net[r]);
    for (int k = 0; k < R->n_styles; k++) nst_image_free(&R->styles[k]);
    nst_arbitrary_free(R->arb);
    nst_regions_free(&R->regions);
}

int cmd_video(int argc, char **argv) {
    static args a; /* large; static keeps it off the stack */
    nst_error err = {0};
    nst_generator *g = NULL;
    nst_net *net = NULL;
    nst_arbitrary *arb = NULL;
    nst_image style = {0};
    static float vector[NST_STYLE_VECTOR_MAX];
    static region_styles R;
    char path[NST_PATH_MAX];
    int rc = parse(argc, argv, &a, &err), status = -1;
    if (!rc) nst_set_threads(cluster_threads(a.threads));
    if (!rc && a.regions.mask) {
        rc = load_regions(&a, &R, &err);
        if (!rc && a.vp.method == NST_VIDEO_OPTIMIZE) {
            rc = nst_models_resolve(a.model, path, sizeof path, &err);
            if (!rc) rc = nst_net_load(path, &net, &err);
            if (!rc) nst_stylize_default_layers(&a.vp.stylize, net);
            a.vp.loss_net = net;
        }
    } else if (!rc && a.vp.method == NST_VIDEO_NET) {
        rc = nst_models_resolve(a.net, path, sizeof path, &err);
        if (!rc) rc = nst_generator_load(path, &g, &err);
        a.vp.net = g;
    } else if (!rc && a.vp.method == NST_VIDEO_ARBITRARY) {
        rc = nst_models_resolve("magenta-arbitrary", path, sizeof path, &err);
        if (!rc) rc = nst_arbitrary_load(path, &arb, &err);
        if (!rc) rc = nst_style_vector_of_file(arb, a.style, vector, &err);
        a.vp.arbitrary = arb, a.vp.style_vector = vector;
    } else if (!rc) {
        rc = nst_models_resolve(a.model, path, sizeof path, &err);
        if (!rc) rc = nst_net_load(path, &net, &err);
        if (!rc) rc = nst_image_load(a.style, &style, &err);
        if (!rc) nst_stylize_default_layers(&a.vp.stylize, net);
        a.vp.loss_net = net, a.vp.styles = &style, a.vp.n_styles = 1;
    }
    if (cluster()->size > 1) rc = cluster_all_started(rc, &err);
    if (!rc && a.fp.resume && finished(a.output)) {
        if (!a.quiet && cluster()->rank == 0)
            fprintf(stderr, "nst: %s is complete: kept (remove it to paint it again)\n", a.output);
        status = 0;
    } else if (!rc && cluster()->size > 1) {
        status = run_parts(&a);
    } else if (!rc) {
        if (!a.quiet) {
            a.fp.progress = on_progress;
            fprintf(stderr, "nst: %s -> %s, %s, temporal %.2f\n", a.input, a.output,
                    a.regions.mask ? "regions" : a.vp.method == NST_VIDEO_NET ? a.net
                    : a.vp.method == NST_VIDEO_ARBITRARY ? a.style : "optimisation",
                    a.vp.temporal);
        }
        a.fp.cancel = &interrupted;
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        nst_video_report r;
        rc = nst_video_file(a.input, a.output, &a.vp, &a.fp, &r, &err);
        if (!rc && a.report) print_report(&r);
        if (!rc && !a.quiet)
            fprintf(stderr, "nst: wrote %s (%d frames, %.1f s)\n", a.output, r.frames, r.seconds);
        if (rc && interrupted) {
            report(&err);
            rc = 0, err.code = 130;
        }
    }
    nst_image_free(&style);
    free_regions(&R);
    nst_net_free(net);
    nst_generator_free(g);
    nst_arbitrary_free(arb);
    if (status >= 0) return status;
    if (err.code == 130) return 130;
    return rc ? report(&err) : 0;
}
