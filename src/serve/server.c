/* server.c: the HTTP side of nst serve, on libmicrohttpd: routing, JSON
 * answers, files. A small pool of threads answers requests (uploads are
 * decoded there); the long work runs in jobs.c's workers, so a slow or
 * vanished client holds up nothing but its own connection.
 *
 *   GET    /                     the studio page (page.html, built in)
 *   POST   /api/jobs             multipart form -> 201 {"id": N}; a 'video' clip
 *                                 and a 'net' make a video job (frame/frames);
 *                                 'style' paintings with fast=1 a one-pass
 *                                 arbitrary-style job (kind "apply"); a 'mask'
 *                                 image and regions=LABEL=K|none,... a style
 *                                 per region (upload.c)
 *   GET    /api/limits           the server's limits (upload bytes, pixels, size, iterations)
 *   GET    /api/jobs             the latest jobs, newest first
 *   GET    /api/jobs/N           state, progress, losses, time left
 *   GET    /api/jobs/N/preview   the latest intermediate image (PNG)
 *   GET    /api/jobs/N/result    the result (PNG; a video job's: MP4)
 *   DELETE /api/jobs/N           cancel a queued or running job; delete an ended one and its files
 *   POST   /api/camera?net=NAME&session=ID[&temporal=F]
 *                                 a camera frame (JPEG/PNG body) -> the
 *                                 stylised frame (JPEG), see camera.c
 *   GET    /api/models           loss networks, pretrained styles and the
 *                                 arbitrary-style pair ("arbitrary")
 * Every error is a 4xx/5xx with {"error": "message"}. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "serve/page_html.h"
#include "serve/serve.h"

typedef struct {
    const serve_config *cfg;
    store *s;
    jobs *j;
    camera *cam;
    clients *cl;
    const nst_net *net;
} server;

/* A POST being received: a job's form or a camera frame's bytes. */
typedef struct {
    upload *u;
    char *body;
    size_t len;
    int too_big;
} pending;

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, struct MHD_Response *r,
                            const char *type) {
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Answer with a JSON value (taken over). */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, cJSON *v) {
    char *text = v ? cJSON_PrintUnformatted(v) : NULL;
    cJSON_Delete(v);
    if (!text) return MHD_NO;
    return respond(c, status, MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE),
                "application/json");
}

__attribute__((format(printf, 3, 4))) static enum MHD_Result send_error(struct MHD_Connection *c,
                                                                        unsigned status,
                                                                        const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    return send_json(c, status, o);
}

/* 429 to a client over its request rate, with when to come back. */
static enum MHD_Result send_slow_down(struct MHD_Connection *c, double wait, double rate) {
    char msg[160], after[16];
    snprintf(msg, sizeof msg, "{\"error\": \"more than %g requests a second from your address: try again in "
             "%.1f s\"}", rate, wait);
    snprintf(after, sizeof after, "%d", (int)wait + 1);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(msg), msg, MHD_RESPMEM_MUST_COPY);
    if (r) MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, after);
    return respond(c, MHD_HTTP_TOO_MANY_REQUESTS, r, "application/json");
}

/* A job's file; when it is missing, why: not yet (queued or running), or
 * never (the job was cancelled or failed). */
static enum MHD_Result send_file(struct MHD_Connection *c, const char *path, const char *what, long id,
                                 const char *state, const char *download, const char *type) {
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) close(fd);
        if (!strcmp(state, "cancelled") || !strcmp(state, "failed"))
            return send_error(c, MHD_HTTP_NOT_FOUND, "job %ld %s: it has no %s", id,
                              *state == 'c' ? "was cancelled" : "failed", what);
        return send_error(c, MHD_HTTP_NOT_FOUND, "job %ld has no %s yet (it is %s)", id, what, state);
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (r && download) {
        char disp[96];
        snprintf(disp, sizeof disp, "inline; filename=\"%s\"", download);
        MHD_add_response_header(r, "Content-Disposition", disp);
    }
    if (!r) close(fd);
    return respond(c, MHD_HTTP_OK, r, type);
}

/* Links the page and clients follow, beside the stored fields. */
static cJSON *with_links(cJSON *job) {
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(job, "id");
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(job, "state");
    char url[64];
    snprintf(url, sizeof url, "/api/jobs/%ld/result", (long)id->valuedouble);
    cJSON_AddItemToObject(job, "result_url",
                          !strcmp(state->valuestring, "done") ? cJSON_CreateString(url) : cJSON_CreateNull());
    snprintf(url, sizeof url, "/api/jobs/%ld/preview", (long)id->valuedouble);
    cJSON_AddStringToObject(job, "preview_url", url);
    /* a video job counts frames in iteration/total */
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(job, "kind");
    if (cJSON_IsString(kind) && !strcmp(kind->valuestring, "video")) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(job, "iteration");
        const cJSON *total = cJSON_GetObjectItemCaseSensitive(job, "total");
        cJSON_AddNumberToObject(job, "frame", cJSON_IsNumber(it) ? it->valuedouble : 0);
        cJSON_AddNumberToObject(job, "frames", cJSON_IsNumber(total) ? total->valuedouble : 0);
    }
    return job;
}

static cJSON *models_json(void) {
    const nst_model_info *list;
    int n = nst_models_known(&list);
    cJSON *o = cJSON_CreateObject();
    cJSON *loss = cJSON_AddArrayToObject(o, "loss_networks"), *styles = cJSON_AddArrayToObject(o, "styles");
    for (int i = 0; i < n && loss && styles; i++) {
        char path[NST_PATH_MAX];
        nst_error err;
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "name", list[i].name);
        cJSON_AddStringToObject(m, "description", list[i].description);
        cJSON_AddBoolToObject(m, "installed", nst_models_resolve(list[i].name, path, sizeof path, &err) == 0);
        if (!strcmp(list[i].kind, "arbitrary style")) /* the pair behind fast=1 with paintings */
            cJSON_AddItemToObject(o, "arbitrary", m);
        else cJSON_AddItemToArray(strcmp(list[i].kind, "style network") ? loss : styles, m);
    }
    return o;
}

/* "/api/jobs/N[/rest]": N (> 0) and rest ("" when absent); 0 when the path
 * is not of that form. */
static long job_url(const char *url, const char **rest) {
    const char *p = url + strlen("/api/jobs/");
    long id = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 15; p++, digits++) id = id * 10 + (*p - '0');
    if (!digits || (*p && *p != '/')) return 0;
    *rest = *p ? p + 1 : p;
    return id;
}

static enum MHD_Result route_job(server *sv, struct MHD_Connection *c, const char *url, const char *method) {
    const char *rest;
    long id = job_url(url, &rest);
    if (!id) return send_error(c, MHD_HTTP_NOT_FOUND, "no such job '%.64s'", url + strlen("/api/jobs/"));
    int get = !strcmp(method, "GET");
    if (!*rest && !strcmp(method, "DELETE")) {
        int rc = jobs_cancel(sv->j, id);
        if (rc == 404) return send_error(c, MHD_HTTP_NOT_FOUND, "no job %ld", id);
        if (rc == 409) { /* an ended job: DELETE removes it and its files */
            rc = jobs_delete(sv->j, id);
            if (rc == 404) return send_error(c, MHD_HTTP_NOT_FOUND, "no job %ld", id);
            if (rc) return send_error(c, MHD_HTTP_CONFLICT, "job %ld is being cancelled: delete it once it has stopped", id);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "id", (double)id);
            cJSON_AddBoolToObject(o, "deleted", 1);
            return send_json(c, MHD_HTTP_OK, o);
        }
    } else if (!get || (*rest && strcmp(rest, "preview") && strcmp(rest, "result"))) {
        return *rest && strcmp(rest, "preview") && strcmp(rest, "result")
                   ? send_error(c, MHD_HTTP_NOT_FOUND, "no such resource '%.64s'", url)
                   : send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "%s not allowed on %.64s", method, url);
    }
    cJSON *job = store_get(sv->s, id);
    if (!job) return send_error(c, MHD_HTTP_NOT_FOUND, "no job %ld", id);
    if (!*rest) return send_json(c, MHD_HTTP_OK, with_links(job));
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(job, "kind"),
                *st = cJSON_GetObjectItemCaseSensitive(job, "state");
    int video = cJSON_IsString(kind) && !strcmp(kind->valuestring, "video");
    char path[NST_PATH_MAX], name[64], state[16];
    snprintf(state, sizeof state, "%s", cJSON_IsString(st) ? st->valuestring : "queued");
    cJSON_Delete(job);
    int result = !strcmp(rest, "result");
    job_path(sv->cfg, id, !result ? "preview.png" : video ? "result.mp4" : "result.png", path, sizeof path);
    snprintf(name, sizeof name, "nst_%ld.%s", id, video ? "mp4" : "png");
    return send_file(c, path, rest, id, state, result ? name : NULL, result && video ? "video/mp4" : "image/png");
}

static enum MHD_Result route(server *sv, struct MHD_Connection *c, const char *url, const char *method) {
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!strcmp(url, "/") || !strcmp(url, "/index.html")) {
        if (!get) return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "%s not allowed on /", method);
        return respond(c, MHD_HTTP_OK,
                    MHD_create_response_from_buffer(sizeof page_html, (void *)page_html, MHD_RESPMEM_PERSISTENT),
                    "text/html; charset=utf-8");
    }
    if (!strcmp(url, "/api/models")) {
        if (!get) return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "%s not allowed on %s", method, url);
        return send_json(c, MHD_HTTP_OK, models_json());
    }
    if (!strcmp(url, "/api/limits")) { /* what the page checks before uploading */
        if (!get) return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "%s not allowed on %s", method, url);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "max_upload", (double)sv->cfg->max_upload);
        cJSON_AddNumberToObject(o, "max_pixels", (double)sv->cfg->max_pixels);
        cJSON_AddNumberToObject(o, "max_size", sv->cfg->max_size);
        cJSON_AddNumberToObject(o, "max_iterations", sv->cfg->max_iterations);
        cJSON_AddNumberToObject(o, "max_client_jobs", sv->cfg->max_client_jobs);
        cJSON_AddNumberToObject(o, "rate", sv->cfg->rate);
        cJSON_AddNumberToObject(o, "job_memory", sv->cfg->max_memory / sv->cfg->workers);
        return send_json(c, MHD_HTTP_OK, o);
    }
    if (!strcmp(url, "/api/jobs") || !strcmp(url, "/api/jobs/")) {
        if (!get) return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "%s not allowed on %s", method, url);
        cJSON *list = store_list(sv->s, 100), *job;
        cJSON_ArrayForEach(job, list) with_links(job);
        return send_json(c, MHD_HTTP_OK, list);
    }
    if (!strncmp(url, "/api/jobs/", strlen("/api/jobs/"))) return route_job(sv, c, url, method);
    return send_error(c, MHD_HTTP_NOT_FOUND, "no such page '%.64s'", url);
}

/* A job submission before its body: an oversized one is refused at once. */
/* A body announced larger than max_upload is refused before it is read:
 * 1 and the 413 queued. */
static int too_large(const server *sv, struct MHD_Connection *c, const char *what, enum MHD_Result *answer) {
    const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char got[32], most[32];
    if (!len || strtoll(len, NULL, 10) <= sv->cfg->max_upload) return 0;
    *answer = send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "%s of %s, more than the %s allowed", what,
                         human_bytes((double)strtoll(len, NULL, 10), got, sizeof got),
                         human_bytes((double)sv->cfg->max_upload, most, sizeof most));
    return 1;
}

static enum MHD_Result begin_post(server *sv, struct MHD_Connection *c, const char *client, void **con_cls) {
    enum MHD_Result answer;
    if (too_large(sv, c, "upload", &answer)) return answer;
    pending *p = calloc(1, sizeof *p);
    upload *u = p ? upload_new(c, sv->cfg, client, sv->net) : NULL;
    if (!u) return free(p), send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
    p->u = u;
    /* answered once the body is read (and dropped): a client still sending
     * may miss an answer that comes early */
    if (store_active(sv->s, NULL) >= sv->cfg->max_queue)
        upload_refuse(u, MHD_HTTP_TOO_MANY_REQUESTS, "the queue is full (%d jobs): try again later",
                      sv->cfg->max_queue);
    else if (store_active(sv->s, client) >= sv->cfg->max_client_jobs)
        upload_refuse(u, MHD_HTTP_TOO_MANY_REQUESTS, "you have %d jobs queued or running, the most one "
                      "address may have: wait for one to end", sv->cfg->max_client_jobs);
    *con_cls = p;
    return MHD_YES;
}

/* A camera frame: its bytes are gathered, then painted in this thread. */
static enum MHD_Result camera_post(server *sv, struct MHD_Connection *c, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls) {
    pending *p = *con_cls;
    if (!p) {
        enum MHD_Result answer;
        if (too_large(sv, c, "frame", &answer)) return answer;
        if (!(p = calloc(1, sizeof *p))) return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
        *con_cls = p;
        return MHD_YES;
    }
    if (*upload_data_size) { /* kept while within the limit, dropped beyond */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (p->too_big || p->len + n > (size_t)sv->cfg->max_upload) return p->too_big = 1, MHD_YES;
        char *grown = realloc(p->body, p->len + n);
        if (!grown) return p->too_big = 1, MHD_YES;
        memcpy(grown + p->len, upload_data, n);
        p->body = grown, p->len += n;
        return MHD_YES;
    }
    if (p->too_big) return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "frame larger than %ld bytes", sv->cfg->max_upload);
    const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "temporal");
    char *end = NULL;
    double temporal = t ? strtod(t, &end) : -1;
    if (t && (end == t || *end)) return send_error(c, MHD_HTTP_BAD_REQUEST, "temporal: '%.64s' is not a number", t);
    unsigned char *out = NULL;
    size_t out_len = 0;
    char msg[512];
    int status = camera_frame(sv->cam, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "session"),
                              MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "net"), temporal,
                              p->body ? p->body : "", p->len, &out, &out_len, msg, sizeof msg);
    if (status != 200) return send_error(c, (unsigned)status, "%s", msg);
    return respond(c, MHD_HTTP_OK, MHD_create_response_from_buffer(out_len, out, MHD_RESPMEM_MUST_FREE),
                   "image/jpeg");
}

/* a and b equal, in a time that does not depend on where they differ */
static int same_secret(const char *a, const char *b) {
    size_t n = strlen(a), m = strlen(b);
    unsigned d = n != m;
    for (size_t i = 0; i < n; i++) d |= (unsigned char)a[i] ^ (unsigned char)b[i % (m ? m : 1)];
    return !d;
}

/* With --token, an /api/ request carries it as "Authorization: Bearer T"
 * (the page's requests) or as the cookie nst_token (the images and clips
 * the page shows, which cannot set a header). The page itself is open: it
 * holds no data, and asks for the token. */
static int authorised(const server *sv, struct MHD_Connection *c, const char *url) {
    if (!sv->cfg->token || strncmp(url, "/api/", 5)) return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (h && !strncmp(h, "Bearer ", 7) && same_secret(h + 7, sv->cfg->token)) return 1;
    const char *k = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "nst_token");
    return k && same_secret(k, sv->cfg->token);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    (void)version;
    server *sv = cls;
    char client[CLIENT_KEY];
    if (!*con_cls) { /* a new request, before any of its body is read */
        client_key(c, client);
        double wait = clients_take(sv->cl, client); /* before the token: no fast guessing */
        if (wait > 0) return send_slow_down(c, wait, sv->cfg->rate);
        if (!authorised(sv, c, url))
            return send_error(c, MHD_HTTP_UNAUTHORIZED, "this server asks for its access token "
                              "(Authorization: Bearer TOKEN)");
    }
    if (!strcmp(url, "/api/camera")) {
        if (strcmp(method, "POST"))
            return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "%s not allowed on %s", method, url);
        return camera_post(sv, c, upload_data, upload_data_size, con_cls);
    }
    int post = !strcmp(method, "POST") && (!strcmp(url, "/api/jobs") || !strcmp(url, "/api/jobs/"));
    if (!post) return route(sv, c, url, method);
    if (!*con_cls) return begin_post(sv, c, client, con_cls);
    upload *u = ((pending *)*con_cls)->u;
    if (*upload_data_size) {
        upload_feed(u, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    cJSON *reply;
    int status = upload_finish(u, sv->s, sv->j, &reply);
    return send_json(c, (unsigned)status, reply);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls, (void)c, (void)toe;
    pending *p = *con_cls;
    if (p) upload_free(p->u), free(p->body), free(p);
    *con_cls = NULL;
}

/* The listening address: an IPv4 or IPv6 literal, or "localhost". */
static int parse_host(const char *host, int port, struct sockaddr_storage *sa, nst_error *err) {
    memset(sa, 0, sizeof *sa);
    struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
    if (!strcmp(host, "localhost")) host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
    } else {
        return nst_fail(err, NST_ERR_ARG, "--host '%s' is not an IPv4 or IPv6 address", host);
    }
    return NST_OK;
}

/* The listening socket, bound before anything is created on disk, so that
 * a busy port is the one message a user sees. *port gets the bound port
 * (port 0: the one the system chose). */
static int listen_on(const serve_config *cfg, const struct sockaddr_storage *sa, int *fd, unsigned *port,
                     nst_error *err) {
    socklen_t len = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    int one = 1, s = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return nst_fail(err, NST_ERR_IO, "cannot create a socket (%s)", strerror(errno));
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (const struct sockaddr *)sa, len) || listen(s, 64)) {
        int e = errno;
        close(s);
        return nst_fail(err, NST_ERR_IO, "cannot listen on %s port %d: %s", cfg->host, cfg->port,
                        e == EADDRINUSE ? "another program uses that port (--port N picks another)"
                        : e == EADDRNOTAVAIL ? "not an address of this machine"
                        : e == EACCES ? "ports below 1024 need privileges (--port N picks another)"
                                      : strerror(e));
    }
    struct sockaddr_storage got;
    socklen_t glen = sizeof got;
    *port = (unsigned)cfg->port;
    if (!getsockname(s, (struct sockaddr *)&got, &glen))
        *port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                                 : ((struct sockaddr_in *)&got)->sin_port);
    *fd = s;
    return NST_OK;
}

/* --retention: delete the jobs that ended longer ago. */
static void expire(server *sv) {
    if (sv->cfg->retention_days <= 0) return;
    int n = jobs_expire(sv->j, sv->cfg->retention_days);
    if (n) printf("nst serve: deleted %d job%s that ended more than %g days ago\n", n, n == 1 ? "" : "s",
                  sv->cfg->retention_days);
    fflush(stdout);
}

int serve_run(const serve_config *cfg, nst_error *err) {
    char path[NST_PATH_MAX];
    struct sockaddr_storage sa;
    int fd = -1, rc = parse_host(cfg->host, cfg->port, &sa, err);
    unsigned port = 0;
    if (!rc) rc = listen_on(cfg, &sa, &fd, &port, err);
    if (!rc && make_dirs(cfg->data_dir))
        rc = nst_fail(err, NST_ERR_IO, "%s: cannot create the data directory (%s)", cfg->data_dir,
                      strerror(errno));
    if (!rc && (path_printf(path, sizeof path, "%s/jobs", cfg->data_dir) ||
                (mkdir(path, 0755) && errno != EEXIST)))
        rc = nst_fail(err, NST_ERR_IO, "%s: cannot create the jobs directory (%s)", path, strerror(errno));
    nst_net *net = NULL;
    if (!rc) rc = nst_models_resolve(cfg->model, path, sizeof path, err);
    if (!rc) rc = nst_net_load(path, &net, err);
    server sv = {cfg, NULL, NULL, NULL, NULL, net};
    if (!rc && (!(sv.cam = camera_new(cfg)) || !(sv.cl = clients_new(cfg->rate))))
        rc = nst_fail(err, NST_ERR_NOMEM, "out of memory");
    if (!rc) rc = store_open(&sv.s, cfg->data_dir, err);
    /* SIGINT and SIGTERM are taken by sigwait below: block them before any
     * thread starts, so that every thread inherits the mask */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* a file size limit (ulimit -f) or a full quota: the write fails with
     * EFBIG and the job with it, rather than the server dying of SIGXFSZ */
    signal(SIGXFSZ, SIG_IGN);
    if (!rc) rc = jobs_start(&sv.j, sv.s, cfg, net, err);
    struct MHD_Daemon *d = NULL;
    /* a camera request waits for its frame in its thread: one thread per
     * camera session beside the four that answer everything else */
    unsigned pool = 4u + (unsigned)(cfg->max_camera_sessions < 60 ? cfg->max_camera_sessions : 60);
    if (!rc) {
        d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
                                 (sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
                             0, NULL, NULL, on_request, &sv, MHD_OPTION_LISTEN_SOCKET, fd,
                             MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_CONNECTION_LIMIT, 256u,
                             MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_client_connections,
                             MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                             NULL, MHD_OPTION_END);
        if (!d) rc = nst_fail(err, NST_ERR_IO, "cannot start the HTTP server on %s port %u", cfg->host, port);
        else fd = -1; /* the daemon closes it */
    }
    if (!rc) {
        expire(&sv);
        printf("nst serve: http://%s%s%s:%u/ (data in %s; Ctrl-C stops)\n",
               sa.ss_family == AF_INET6 ? "[" : "", cfg->host, sa.ss_family == AF_INET6 ? "]" : "", port,
               cfg->data_dir);
        fflush(stdout);
        /* woken by SIGINT / SIGTERM, or each minute to delete expired jobs */
        const struct timespec minute = {60, 0};
        while (sigtimedwait(&stop, NULL, &minute) < 0) expire(&sv);
        printf("nst serve: stopping (unfinished jobs continue at the next start)\n");
        fflush(stdout);
    }
    if (d) MHD_stop_daemon(d);
    if (fd >= 0) close(fd);
    jobs_stop(sv.j);
    camera_free(sv.cam);
    clients_free(sv.cl);
    store_close(sv.s);
    nst_net_free(net);
    return rc;
}
