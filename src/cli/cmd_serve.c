/* cmd_serve.c: nst serve, the web studio (src/serve/). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "serve/serve.h"

static const char help[] =
    "usage: nst serve [--port P] [--data DIR] [OPTIONS]\n"
    "\n"
    "Run the studio: a web page to drop a photo and a painting on, watch the\n"
    "picture form and download it, and the JSON API behind it (see README).\n"
    "Jobs, their progress and results are kept in DIR; a job interrupted by a\n"
    "restart (even a crash) continues from its last checkpoint.\n"
    "\n"
    "      --port P              TCP port (default 8080; 0: any free port)\n"
    "      --host ADDR           address to listen on (default 127.0.0.1; 0.0.0.0 or\n"
    "                            :: for every interface)\n"
    "      --data DIR            jobs database and images (default nst-data)\n"
    "      --model NAME|PATH     loss network for optimisation jobs (default darknet-tiny)\n"
    "      --workers N           optimisations at a time (default 1; feed-forward jobs\n"
    "                            run alongside)\n"
    "      --max-upload MB       largest request body (default 32)\n"
    "      --max-pixels MP       largest uploaded image, in megapixels (default 16)\n"
    "      --max-size N          largest result side (default 1024)\n"
    "      --max-iterations N    (default 2000)\n"
    "      --max-queue N         queued and running jobs (default 100)\n"
    "      --max-client-jobs N   queued and running jobs of one address (default 10)\n"
    "      --max-client-connections N\n"
    "                            connections of one address at a time (default 16)\n"
    "      --rate N              requests a second from one address, in bursts of up\n"
    "                            to 2 s of them (default 30; 0: no limit). Behind a\n"
    "                            proxy every request comes from the proxy's address:\n"
    "                            limit there, and raise these here\n"
    "      --max-memory MB       memory the optimisations may use together, shared by\n"
    "                            the workers (default 3/4 of this machine's); a job\n"
    "                            estimated to need more than its share is refused\n"
    "      --checkpoint-every N  iterations between checkpoints (default 20)\n"
    "      --max-video-seconds N longest clip of a video job (default 20)\n"
    "      --max-camera N        live camera sessions at a time (default 4)\n"
    "      --retention DAYS      delete ended jobs (photos, paintings, results) this many\n"
    "                            days after they end (default 0: keep them; DELETE\n"
    "                            /api/jobs/N or the page's Delete removes one at once)\n"
    "      --token FILE          ask every API request for the secret in FILE (its\n"
    "                            first line, 16 characters or more; or set NST_TOKEN):\n"
    "                            the page asks for it once; use it, and HTTPS through\n"
    "                            a proxy, whenever others can reach the port\n"
    "      --threads N           CPU threads (default all cores)\n"
    "  -h, --help                this help\n"
    "\n"
    "example:\n"
    "  nst serve --port 8080 --data ~/nst-studio    # then open http://127.0.0.1:8080/\n";

enum { O_PORT = 256, O_HOST, O_DATA, O_MODEL, O_WORKERS, O_UPLOAD, O_PIXELS, O_SIZE, O_ITERS,
       O_QUEUE, O_CKPT, O_THREADS, O_VSECONDS, O_CAMERA, O_RETENTION, O_TOKEN,
       O_CLIENT_JOBS, O_CLIENT_CONNS, O_RATE, O_MEMORY };

static const struct option options[] = {
    {"port", required_argument, 0, O_PORT},
    {"host", required_argument, 0, O_HOST},
    {"data", required_argument, 0, O_DATA},
    {"model", required_argument, 0, O_MODEL},
    {"workers", required_argument, 0, O_WORKERS},
    {"max-upload", required_argument, 0, O_UPLOAD},
    {"max-pixels", required_argument, 0, O_PIXELS},
    {"max-size", required_argument, 0, O_SIZE},
    {"max-iterations", required_argument, 0, O_ITERS},
    {"max-queue", required_argument, 0, O_QUEUE},
    {"checkpoint-every", required_argument, 0, O_CKPT},
    {"threads", required_argument, 0, O_THREADS},
    {"max-video-seconds", required_argument, 0, O_VSECONDS},
    {"max-camera", required_argument, 0, O_CAMERA},
    {"retention", required_argument, 0, O_RETENTION},
    {"token", required_argument, 0, O_TOKEN},
    {"max-client-jobs", required_argument, 0, O_CLIENT_JOBS},
    {"max-client-connections", required_argument, 0, O_CLIENT_CONNS},
    {"rate", required_argument, 0, O_RATE},
    {"max-memory", required_argument, 0, O_MEMORY},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* The secret of --token FILE (its first line) or of NST_TOKEN, trimmed. */
static int read_token(const char *file, char *out, size_t n, nst_error *err) {
    const char *what = file ? file : "NST_TOKEN";
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) return nst_fail(err, NST_ERR_ARG, "--token %s: %s", file, strerror(errno));
        if (!fgets(out, (int)n, f)) *out = 0;
        fclose(f);
    } else {
        snprintf(out, n, "%s", getenv("NST_TOKEN"));
    }
    out[strcspn(out, "\r\n")] = 0;
    size_t len = strlen(out);
    while (len && (out[len - 1] == ' ' || out[len - 1] == '\t')) out[--len] = 0;
    for (size_t i = 0; i < len; i++)
        if (out[i] <= ' ' || out[i] == ';' || out[i] == ',' || (unsigned char)out[i] > 126)
            return nst_fail(err, NST_ERR_ARG, "%s: the token has a space, ';' or ','", what);
    if (len < 16) return nst_fail(err, NST_ERR_ARG, "%s: a token of %zu characters; 16 or more are needed", what, len);
    return NST_OK;
}

int cmd_serve(int argc, char **argv) {
    serve_config cfg = {.host = "127.0.0.1", .data_dir = "nst-data", .model = "darknet-tiny",
                        .port = 8080, .workers = 1, .max_size = 1024, .max_iterations = 2000,
                        .max_queue = 100, .checkpoint_every = 20, .preview_every = 0.5,
                        .max_camera_sessions = 4, .max_client_jobs = 10, .max_client_connections = 16};
    int upload_mb = 32, pixels_mp = 16, threads = 0, video_s = 20, memory_mb = 0, c, rc = NST_OK;
    const char *token_file = NULL;
    float days = 0, rate = 30;
    nst_error err = {0};
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "option";
        switch (c) {
        case 'h': fputs(help, stdout); return 0;
        case O_PORT: rc = parse_int("--port", optarg, 0, 65535, &cfg.port, &err); break;
        case O_HOST: cfg.host = optarg; break;
        case O_DATA: cfg.data_dir = optarg; break;
        case O_MODEL: cfg.model = optarg; break;
        case O_WORKERS: rc = parse_int("--workers", optarg, 1, 64, &cfg.workers, &err); break;
        case O_UPLOAD: rc = parse_int("--max-upload", optarg, 1, 2000, &upload_mb, &err); break;
        case O_PIXELS: rc = parse_int("--max-pixels", optarg, 1, 64, &pixels_mp, &err); break;
        case O_SIZE: rc = parse_int("--max-size", optarg, 16, NST_MAX_SIDE, &cfg.max_size, &err); break;
        case O_ITERS: rc = parse_int("--max-iterations", optarg, 1, 1000000, &cfg.max_iterations, &err); break;
        case O_QUEUE: rc = parse_int("--max-queue", optarg, 1, 1000000, &cfg.max_queue, &err); break;
        case O_CKPT: rc = parse_int("--checkpoint-every", optarg, 1, 1000000, &cfg.checkpoint_every, &err); break;
        case O_VSECONDS: rc = parse_int("--max-video-seconds", optarg, 1, 86400, &video_s, &err); break;
        case O_CAMERA: rc = parse_int("--max-camera", optarg, 0, 1000, &cfg.max_camera_sessions, &err); break;
        case O_THREADS: rc = parse_int("--threads", optarg, 1, 1024, &threads, &err); break;
        case O_RETENTION: rc = parse_float("--retention", optarg, 0, 1e5, &days, &err); break;
        case O_TOKEN: token_file = optarg; break;
        case O_CLIENT_JOBS: rc = parse_int("--max-client-jobs", optarg, 1, 1000000, &cfg.max_client_jobs, &err); break;
        case O_CLIENT_CONNS:
            rc = parse_int("--max-client-connections", optarg, 1, 256, &cfg.max_client_connections, &err);
            break;
        case O_RATE: rc = parse_float("--rate", optarg, 0, 1e6, &rate, &err); break;
        case O_MEMORY: rc = parse_int("--max-memory", optarg, 16, 1 << 30, &memory_mb, &err); break;
        case ':': rc = nst_fail(&err, NST_ERR_ARG, "%s needs a value", opt); break;
        default: rc = unknown_option(opt, options, "serve", &err);
        }
    }
    if (!rc && optind < argc)
        rc = nst_fail(&err, NST_ERR_ARG, "unexpected argument '%s' (nst serve --help)", argv[optind]);
    cfg.max_upload = (long)upload_mb << 20;
    cfg.max_pixels = (long)pixels_mp << 20;
    cfg.max_video_seconds = video_s;
    cfg.retention_days = days;
    cfg.threads = threads;
    cfg.rate = rate;
    cfg.max_memory = memory_mb ? memory_mb * 1048576.0
                               : 0.75 * (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    static char token[256];
    if (!rc && (token_file || getenv("NST_TOKEN"))) rc = read_token(token_file, token, sizeof token, &err);
    if (!rc && *token) cfg.token = token;
    if (!rc) rc = serve_run(&cfg, &err);
    return rc ? report(&err) : 0;
}
