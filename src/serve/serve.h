/* serve.h: nst serve, the web studio: an HTTP server (libmicrohttpd) in
 * front of libnst. Requests are handled in server.c, uploads turned into job
 * parameters by params.c, jobs kept in SQLite by store.c and run by the
 * worker threads of jobs.c; page.html is the page it serves.
 *
 * On disk, in the data directory: nst.db (the jobs), and per job
 * jobs/<id>/ holding content.png, style_<k>.png, mask.png (a job with
 * regions), preview.png, result.png and checkpoint.safetensors (a video
 * job: clip and result.mp4); every name is
 * chosen by the server. Live camera frames (camera.c) are kept in memory
 * only. */
#ifndef NST_SERVE_H
#define NST_SERVE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "nst.h"

typedef struct {
    const char *host, *data_dir, *model;
    int port;
    int workers;          /* optimisations at a time */
    long max_upload;      /* bytes of one request body */
    long max_pixels;      /* of one uploaded image */
    int max_size;         /* largest result side */
    int max_iterations;
    int max_queue;        /* queued + running jobs */
    int max_client_jobs;  /* queued + running jobs of one client */
    int max_client_connections; /* connections of one client at a time */
    double rate;          /* requests a second of one client (0: unlimited) */
    double max_memory;    /* bytes the optimisations may use together, shared
                           * by the workers: a job estimated (nst_stylize_memory)
                           * above max_memory / workers is refused */
    int checkpoint_every; /* iterations */
    double preview_every; /* seconds between preview images */
    double max_video_seconds; /* longest clip of a video job */
    int max_camera_sessions;  /* live camera streams at a time */
    double retention_days;    /* ended jobs older than this are deleted; 0: kept */
    const char *token;        /* every /api/ request must carry it (NULL: open) */
    int threads;              /* of each job (0: all cores); OpenMP's count is
                               * per thread, so each worker sets its own */
} serve_config;

typedef struct store store;
/* ---- clients.c: per-client request rate ---------------------------------- */
struct MHD_Connection;
#define CLIENT_KEY 64
typedef struct clients clients;
/* rate: requests a second per client, bursts of 2 s of it; <= 0: unlimited */
clients *clients_new(double rate);
void clients_free(clients *c);
/* Who sent a request: its IPv4 address, or its IPv6 /64. */
void client_key(struct MHD_Connection *conn, char key[CLIENT_KEY]);
/* Count one request of `key`: 0 when it may go on, else the seconds until
 * it may (answered 429 with Retry-After). Thread-safe. */
double clients_take(clients *c, const char *key);

typedef struct jobs jobs;

/* ---- store.c: the jobs table in <data>/nst.db ---------------------------- */
/* Open (create) the database; jobs left running by a killed server are
 * queued again, jobs whose upload never finished are forgotten. */
int store_open(store **s, const char *dir, nst_error *err);
void store_close(store *s);
/* A new job in state "new" (its files are not written yet); its id.
 * names_json: the uploaded files' names, a JSON array (captions). */
long store_insert(store *s, const char *kind, const char *params_json, const char *names_json, int n_styles,
                  const char *net, const char *client);
/* Replace the parameters of a job still in state "new". */
void store_params(store *s, long id, const char *params_json);
/* Forget a job still in state "new" (its upload was refused). */
void store_delete_new(store *s, long id);
/* Forget a job that has ended (done, failed, cancelled): 1 when it had. */
int store_delete_ended(store *s, long id);
/* [{"id": N}, ...]: the jobs that ended before `before` (Unix time). */
cJSON *store_ended_before(store *s, double before);
/* The job as the API shows it, or NULL when there is none. */
cJSON *store_get(store *s, long id);
/* The latest `limit` jobs, newest first. */
cJSON *store_list(store *s, int limit);
/* "queued", "running", ... or "" when there is no such job. */
void store_state(store *s, long id, char *state, size_t n);
/* Move job id from state `from` to `to` (with an error message or NULL);
 * 1 when it was in `from`, else 0. Atomic, so a cancel and a claim cannot
 * both win. */
int store_transition(store *s, long id, const char *from, const char *to, const char *error);
/* Claim the oldest queued job of `kind`: state running; 0 when none. Its
 * parameters (JSON, malloc'd), style count and net are returned. */
long store_claim(store *s, const char *kind, char **params_json, int *n_styles, char net[64]);
void store_progress(store *s, long id, const nst_progress *p, double fraction);
/* A video job's progress: frame (1-based) of total, stored as iteration/total. */
void store_progress_video(store *s, long id, const nst_video_progress *p);
/* Jobs queued or running (for the queue limits): all, or one client's
 * (client_key; never shown by the API). */
int store_active(store *s, const char *client);

/* ---- params.c: request fields -> job parameters ---------------------------- */
/* Check one text field of POST /api/jobs against the limits and add it to
 * params (JSON object); on a bad field a 4xx status and a message. */
int params_add(cJSON *params, const char *key, const char *value, const serve_config *cfg,
               char *msg, size_t n);
/* nst_stylize_params (the defaults for net, then the job's fields) /
 * nst_apply_params from the stored JSON. */
void params_stylize(const cJSON *params, const nst_net *net, nst_stylize_params *p);
void params_apply(const cJSON *params, nst_apply_params *p);
/* A video job: the network's options, temporal weight and frame size. */
void params_video(const cJSON *params, nst_video_params *vp, nst_video_file_params *fp);
/* fast=1: style images go through the arbitrary-style pair in one pass
 * (ARBITRARY_MODEL, kept by the apply worker) instead of an optimisation. */
#define ARBITRARY_MODEL "magenta-arbitrary"
int params_fast(const cJSON *params);
/* Job kinds, for params_check_kind. */
enum { PARAMS_OPTIMISATION = 1, PARAMS_NET = 2, PARAMS_FAST = 4, PARAMS_VIDEO = 8 };
/* 400 and a message naming the kinds it belongs to when a field of params
 * does nothing in a job of `kind` (one PARAMS_* bit); else 0. */
int params_check_kind(const cJSON *params, int kind, char *msg, size_t n);
/* Is `name` one of the pretrained style networks nst knows? */
int params_style_net(const char *name);
/* The `regions` field (with a `mask` image): "LABEL=K,...", region i of
 * the mask's colour rgb[i] painted in style image style[i] (0-based; -1:
 * the photo is kept there). */
typedef struct {
    int n;
    float rgb[NST_MAX_REGIONS][3];
    int style[NST_MAX_REGIONS];
} params_region_list;
/* The job's regions: how many (0: the job has none), or -1 and a message. */
int params_regions(const cJSON *params, params_region_list *r, char *msg, size_t n);
/* Long side of the result of a job (for the size of stored uploads). */
int params_size(const cJSON *params);

/* ---- upload.c: POST /api/jobs ---------------------------------------------- */
typedef struct upload upload;
/* NULL when out of memory; a form that is not multipart is answered 415 at
 * the end. client: the sender (client_key). net: the loss network, for the
 * memory estimate of an optimisation. */
upload *upload_new(struct MHD_Connection *c, const serve_config *cfg, const char *client, const nst_net *net);
/* Answer with this error once the body has been read (and dropped). */
void upload_refuse(upload *u, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A piece of the request body (counted against max_upload). */
void upload_feed(upload *u, const char *data, size_t size);
/* Create the job: 201 and {"id": N}, or a 4xx/5xx and {"error": "..."}. */
int upload_finish(upload *u, store *s, jobs *j, cJSON **reply);
void upload_free(upload *u);

/* ---- jobs.c: worker threads ------------------------------------------------ */
int jobs_start(jobs **j, store *s, const serve_config *cfg, const nst_net *net, nst_error *err);
/* A job was queued. */
void jobs_notify(jobs *j);
/* Cancel job id: 0 when cancelled (or being cancelled), 404 when there is
 * no such job, 409 when it has already ended. */
int jobs_cancel(jobs *j, long id);
/* Delete job id and its files (upload, previews, checkpoint, result): 0
 * when deleted, 404 when there is no such job, 409 when it has not ended. */
int jobs_delete(jobs *j, long id);
/* Delete the jobs that ended more than `days` days ago; how many. */
int jobs_expire(jobs *j, double days);
/* Stop the workers; running jobs go back to the queue with their checkpoint. */
void jobs_stop(jobs *j);
/* jobs/<id>/<name> under the data directory. */
int job_path(const serve_config *cfg, long id, const char *name, char *out, size_t n);

/* ---- camera.c: POST /api/camera, live frames through a per-session nst_video */
typedef struct camera camera;
camera *camera_new(const serve_config *cfg);
void camera_free(camera *c);
/* Stylise one JPEG/PNG frame of session `session` with style `net`; on
 * success 200 and *out (malloc'd, *out_len bytes, a JPEG), else a 4xx/5xx
 * and msg. `temporal` < 0: the default. */
int camera_frame(camera *c, const char *session, const char *net, double temporal, const void *data,
                 size_t len, unsigned char **out, size_t *out_len, char *msg, size_t n);

/* ---- server.c: HTTP ------------------------------------------------------ */
/* Serve until SIGINT or SIGTERM; returns an exit status. */
int serve_run(const serve_config *cfg, nst_error *err);

#endif
