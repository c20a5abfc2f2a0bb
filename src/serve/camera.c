/* camera.c: POST /api/camera, the studio's live camera. The page sends
 * each frame of the camera as a JPEG; it is painted through an nst_video
 * kept per session (the page's random id), so consecutive frames hold to
 * the previous output warped by the optical flow instead of flickering, and
 * answered as a JPEG. A session is created on its first frame, started
 * again when the frame size, style or temporal weight changes, and dropped
 * after 30 s without a frame; at most max_camera_sessions exist (429
 * beyond). The pretrained networks are loaded once and shared: nst_video
 * only reads them. Frames are painted one at a time by a camera thread of
 * its own: a session's plans (oneDNN primitives) are built and run on that
 * one thread, and the request threads only decode, wait and encode. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stb_image_write.h>

#include "core/util.h"
#include "serve/serve.h"

#define IDLE_SECONDS 30.0
#define MAX_NETS 16

typedef struct {
    char id[65], net[64];
    int used, busy;        /* busy: requests inside (under camera.mu) */
    double last;           /* monotonic seconds of the last frame */
    nst_video *v;
    nst_video_params vp;   /* must outlive v */
    int w, h;
} session;

/* A frame handed to the camera thread. */
typedef struct task {
    session *s;
    const nst_generator *g;
    const char *net;
    float temporal;
    const nst_image *in;
    nst_image out;
    nst_error err;
    int rc, done;
    struct task *next;
} task;

struct camera {
    const serve_config *cfg;
    pthread_mutex_t mu;
    pthread_cond_t wake, finished;
    pthread_t thread;
    int started, stopping;
    task *head, *tail;
    struct { char name[64]; nst_generator *g; } nets[MAX_NETS];
    int n_nets, n;
    session *s;
};

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Paint t's frame through its session's nst_video (on the camera thread). */
static void paint(task *t) {
    session *s = t->s;
    if (s->v && (s->w != t->in->w || s->h != t->in->h || strcmp(s->net, t->net) ||
                 (t->temporal >= 0 && t->temporal != s->vp.temporal))) {
        nst_video_close(s->v); /* a new size or style: start again */
        s->v = NULL;
    }
    t->rc = 0;
    if (!s->v) {
        nst_video_params_init(&s->vp);
        s->vp.method = NST_VIDEO_NET;
        s->vp.net = t->g;
        if (t->temporal >= 0) s->vp.temporal = t->temporal;
        s->w = t->in->w, s->h = t->in->h;
        snprintf(s->net, sizeof s->net, "%s", t->net);
        t->rc = nst_video_open(&s->vp, s->w, s->h, &s->v, &t->err);
    }
    if (!t->rc) t->rc = nst_video_frame(s->v, t->in, &t->out, NULL, &t->err);
}

static void *camera_main(void *arg) {
    camera *c = arg;
    nst_set_threads(c->cfg->threads); /* OpenMP's thread count is this thread's own */
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->stopping && !c->head) {
            /* every few seconds: sessions idle too long are dropped and their
             * memory freed */
            double t = mono();
            for (int i = 0; i < c->n; i++) {
                session *x = &c->s[i];
                if (x->used && !x->busy && t - x->last > IDLE_SECONDS) x->used = 0;
                if (!x->used && x->v) nst_video_close(x->v), x->v = NULL;
            }
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 5;
            pthread_cond_timedwait(&c->wake, &c->mu, &until);
        }
        if (c->stopping) break;
        task *t = c->head;
        c->head = t->next;
        if (!c->head) c->tail = NULL;
        pthread_mutex_unlock(&c->mu);
        paint(t);
        pthread_mutex_lock(&c->mu);
        t->done = 1;
        pthread_cond_broadcast(&c->finished);
    }
    /* sessions are closed here, on the thread that made them */
    for (int i = 0; i < c->n; i++) {
        nst_video_close(c->s[i].v);
        c->s[i].v = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

camera *camera_new(const serve_config *cfg) {
    camera *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cfg = cfg;
    c->n = cfg->max_camera_sessions;
    c->s = calloc((size_t)(c->n > 0 ? c->n : 1), sizeof *c->s);
    if (!c->s) return free(c), NULL;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->finished, NULL);
    c->started = pthread_create(&c->thread, NULL, camera_main, c) == 0;
    if (!c->started) return camera_free(c), NULL;
    return c;
}

/* Called once no request is in progress (the HTTP daemon has stopped). */
void camera_free(camera *c) {
    if (!c) return;
    if (c->started) {
        pthread_mutex_lock(&c->mu);
        c->stopping = 1;
        pthread_cond_broadcast(&c->wake);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
    }
    pthread_cond_destroy(&c->wake);
    pthread_cond_destroy(&c->finished);
    for (int i = 0; i < c->n_nets; i++) nst_generator_free(c->nets[i].g);
    pthread_mutex_destroy(&c->mu);
    free(c->s);
    free(c);
}

static int valid_id(const char *s) {
    size_t n = strlen(s);
    if (n < 1 || n > 64) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return 0;
    return 1;
}

/* The network `name`, loaded on first use; with c->mu held. */
static nst_generator *network(camera *c, const char *name, nst_error *err) {
    for (int i = 0; i < c->n_nets; i++)
        if (!strcmp(c->nets[i].name, name)) return c->nets[i].g;
    char path[NST_PATH_MAX];
    nst_generator *g = NULL;
    if (c->n_nets == MAX_NETS) return nst_fail(err, NST_ERR_RUNTIME, "too many networks"), NULL;
    if (nst_models_resolve(name, path, sizeof path, err) || nst_generator_load(path, &g, err)) return NULL;
    snprintf(c->nets[c->n_nets].name, sizeof c->nets[c->n_nets].name, "%s", name);
    c->nets[c->n_nets++].g = g;
    return g;
}

/* The session `id` (made when new), marked busy; NULL and a status when
 * none can be had. With c->mu held. */
static session *claim(camera *c, const char *id, int *status, char *msg, size_t n) {
    double t = mono();
    session *free_slot = NULL, *s = NULL;
    for (int i = 0; i < c->n; i++) {
        session *x = &c->s[i];
        if (x->used && !x->busy && t - x->last > IDLE_SECONDS) /* idle: dropped (its nst_video is
                                                                 * closed by the camera thread) */
            x->used = 0;
        if (x->used && !strcmp(x->id, id)) s = x;
        if (!x->used && !free_slot) free_slot = x;
    }
    if (!s && !free_slot) {
        *status = 429;
        snprintf(msg, n, "%d camera sessions are open: try again later", c->n);
        return NULL;
    }
    if (!s) {
        s = free_slot;
        s->used = 1;
        s->w = s->h = 0; /* a new session: the slot's old nst_video is not reused */
        snprintf(s->id, sizeof s->id, "%s", id);
    }
    s->busy++;
    s->last = t;
    return s;
}

typedef struct {
    unsigned char *data;
    size_t len, cap;
    int failed;
} membuf;

static void put(void *user, void *data, int size) {
    membuf *m = user;
    if (m->failed || size <= 0) return;
    if (m->len + (size_t)size > m->cap) {
        size_t cap = (m->cap ? 2 * m->cap : 65536) + (size_t)size;
        unsigned char *p = realloc(m->data, cap);
        if (!p) { m->failed = 1; return; }
        m->data = p, m->cap = cap;
    }
    memcpy(m->data + m->len, data, (size_t)size);
    m->len += (size_t)size;
}

/* Planar float RGB -> a JPEG in memory. */
static int encode_jpeg(const nst_image *img, unsigned char **out, size_t *out_len) {
    size_t np = (size_t)img->w * img->h;
    unsigned char *rgb = malloc(3 * np);
    if (!rgb) return -1;
    for (size_t i = 0; i < np; i++)
        for (int k = 0; k < 3; k++) {
            float v = img->data[k * np + i] + 0.5f;
            rgb[3 * i + k] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    membuf m = {0};
    int ok = stbi_write_jpg_to_func(put, &m, img->w, img->h, 3, rgb, 85);
    free(rgb);
    if (!ok || m.failed) return free(m.data), -1;
    *out = m.data, *out_len = m.len;
    return 0;
}

int camera_frame(camera *c, const char *session_id, const char *net, double temporal, const void *data,
                 size_t len, unsigned char **out, size_t *out_len, char *msg, size_t n) {
    if (!session_id || !valid_id(session_id))
        return snprintf(msg, n, "session: give an id of 1 to 64 letters, digits, - or _"), 400;
    if (!net || !params_style_net(net))
        return snprintf(msg, n, "net: '%.64s' is not a pretrained style (GET /api/models lists them)",
                        net ? net : ""), 400;
    if (!(temporal >= 0 && temporal <= 1) && temporal != -1)
        return snprintf(msg, n, "temporal: out of range 0..1"), 400;
    char most[32];
    const serve_config *cfg = c->cfg;
    nst_image in = {0};
    nst_error err = {0};
    nst_image_limits lim = {cfg->max_pixels, cfg->max_size, 0}; /* no stb_image on the server */
    long big[2];
    if (nst_image_decode_limited(data, len, "camera frame", &lim, &in, big, &err)) {
        if (big[0])
            return snprintf(msg, n, "camera frame: %ldx%ld pixels, more than %d on a side or %s in all allowed",
                            big[0], big[1], cfg->max_size, human_pixels((double)cfg->max_pixels, most, sizeof most)),
                   413;
        return snprintf(msg, n, "%s", err.msg), 400;
    }
    if (c->n < 1) {
        nst_image_free(&in);
        return snprintf(msg, n, "the live camera is off (--max-camera 0)"), 503;
    }
    int status = 0;
    pthread_mutex_lock(&c->mu);
    nst_generator *g = network(c, net, &err);
    session *s = g ? claim(c, session_id, &status, msg, n) : NULL;
    pthread_mutex_unlock(&c->mu);
    if (!g) status = 500, snprintf(msg, n, "%s", err.msg);
    if (!s) return nst_image_free(&in), status;

    task t = {.s = s, .g = g, .net = net, .temporal = temporal < 0 ? -1 : (float)temporal, .in = &in};
    pthread_mutex_lock(&c->mu);
    if (c->tail) c->tail->next = &t;
    else c->head = &t;
    c->tail = &t;
    pthread_cond_broadcast(&c->wake);
    while (!t.done) pthread_cond_wait(&c->finished, &c->mu);
    s->busy--;
    s->last = mono();
    pthread_mutex_unlock(&c->mu);
    int rc = t.rc;
    nst_image styled = t.out;
    nst_error err2 = t.err;
    nst_image_free(&in);
    if (rc) return snprintf(msg, n, "%s", err2.msg), 500;
    rc = encode_jpeg(&styled, out, out_len);
    nst_image_free(&styled);
    if (rc) return snprintf(msg, n, "out of memory for the frame"), 503;
    return 200;
}
