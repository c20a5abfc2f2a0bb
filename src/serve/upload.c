/* upload.c: POST /api/jobs. The multipart form is parsed by libmicrohttpd's
 * post processor into the file fields (content, style...) and the text
 * fields (net, and the parameters of params.c; fast=1 makes style images
 * a one-pass arbitrary-style job; a 'mask' image with the 'regions' field
 * gives each region of the mask its own painting, or the photo). Then each image is checked
 * (header size against max_pixels before any pixel is decoded), decoded,
 * shrunk to what the job can use, and written as PNG under a name the
 * server chooses: the client's file names and bytes never reach the disk. */
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "serve/serve.h"

typedef struct {
    char *data;
    size_t len;
} bytes;

enum { MASK = 1 + NST_MAX_STYLES, N_FILES }; /* files[]: the content, the styles, the mask */

struct upload {
    const serve_config *cfg;
    const nst_net *loss_net; /* an optimisation's memory estimate is made on it */
    char client[CLIENT_KEY];
    int wh[N_FILES][2];    /* the stored images' sizes */
    int sent[N_FILES][2];  /* their sizes as uploaded */
    struct MHD_PostProcessor *pp;
    int status;            /* first error: an HTTP status, 0 while all is well */
    char msg[512];
    size_t received;
    bytes files[N_FILES];  /* content, the styles, the mask */
    bytes video;           /* a clip (a video job) */
    char names[2 + NST_MAX_STYLES][65]; /* the files' names as sent (captions): content,
                                         * styles, then the clip; printable, cut at 64 bytes */
    int has_content, n_styles, has_video, has_mask;
    char net[64];
    cJSON *params;
    char key[64];          /* the text field being received */
    char text[256];
    size_t text_len;
    int in_text;
};

void upload_refuse(upload *u, int status, const char *fmt, ...) {
    if (u->status) return; /* the first error is the one reported */
    u->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(u->msg, sizeof u->msg, fmt, ap);
    va_end(ap);
}

/* A complete text field. */
static void end_text(upload *u) {
    if (!u->in_text) return;
    u->in_text = 0;
    u->text[u->text_len] = 0;
    if (!strcmp(u->key, "net")) {
        if (*u->net) upload_refuse(u, 400, "field 'net' given twice");
        else if (!params_style_net(u->text))
            upload_refuse(u, 400, "net: '%.64s' is not a pretrained style (GET /api/models lists them)", u->text);
        else snprintf(u->net, sizeof u->net, "%.63s", u->text);
        return;
    }
    char msg[256];
    int st = params_add(u->params, u->key, u->text, u->cfg, msg, sizeof msg);
    if (st) upload_refuse(u, st, "%s", msg);
}

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *content_type,
                                const char *transfer_encoding, const char *data, uint64_t off,
                                size_t size) {
    (void)kind, (void)content_type, (void)transfer_encoding;
    upload *u = cls;
    if (u->status) return MHD_YES; /* keep reading, so the error can be answered */
    int is_file = !strcmp(key, "content") || !strcmp(key, "style") || !strcmp(key, "video") || !strcmp(key, "mask");
    if (off == 0 || !u->in_text || strcmp(u->key, key)) end_text(u);
    if (!is_file) {
        if (!u->in_text) { /* a new text field */
            u->in_text = 1;
            u->text_len = 0;
            snprintf(u->key, sizeof u->key, "%s", key);
        }
        if (u->text_len + size >= sizeof u->text)
            upload_refuse(u, 400, "field '%.64s' is longer than %zu bytes", key, sizeof u->text - 1);
        else {
            memcpy(u->text + u->text_len, data, size);
            u->text_len += size;
        }
        return MHD_YES;
    }
    if (!filename) return upload_refuse(u, 400, "field '%s' must be a file", key), MHD_YES;
    if (strchr(filename, '/') || strchr(filename, '\\'))
        return upload_refuse(u, 400, "%s: file name '%.64s' holds a path", key, filename), MHD_YES;
    bytes *b;
    int slot;
    if (!strcmp(key, "video")) {
        if (off == 0 && u->has_video++) return upload_refuse(u, 400, "more than one video"), MHD_YES;
        b = &u->video, slot = 1 + NST_MAX_STYLES;
    } else if (!strcmp(key, "mask")) {
        if (off == 0 && u->has_mask++) return upload_refuse(u, 400, "more than one mask"), MHD_YES;
        b = &u->files[MASK], slot = -1; /* no caption */
    } else if (!strcmp(key, "content")) {
        if (off == 0 && u->has_content++) return upload_refuse(u, 400, "more than one content image"), MHD_YES;
        b = &u->files[0], slot = 0;
    } else {
        if (off == 0 && u->n_styles++ == NST_MAX_STYLES)
            return upload_refuse(u, 400, "more than %d style images", NST_MAX_STYLES), MHD_YES;
        b = &u->files[u->n_styles], slot = u->n_styles;
    }
    if (off == 0 && slot >= 0) { /* a caption, not a path: control bytes become '?' */
        size_t k = 0;
        for (; filename[k] && k < 64; k++)
            u->names[slot][k] = (unsigned char)filename[k] < 0x20 || filename[k] == 0x7f ? '?' : filename[k];
        if (filename[k]) { /* cut: not inside a UTF-8 character */
            const unsigned char *c = (const unsigned char *)u->names[slot];
            size_t start = k;
            while (start > 0 && (c[start - 1] & 0xC0) == 0x80) start--;
            if (start > 0 && c[start - 1] >= 0xC0) { /* the lead byte of the last character */
                size_t len = c[start - 1] >= 0xF0 ? 4 : c[start - 1] >= 0xE0 ? 3 : 2;
                if (start - 1 + len > k) k = start - 1;
            }
        }
        u->names[slot][k] = 0;
    }
    char *grown = realloc(b->data, b->len + size + 1);
    if (!grown) return upload_refuse(u, 503, "out of memory for the upload"), MHD_YES;
    memcpy(grown + b->len, data, size);
    b->data = grown;
    b->len += size;
    return MHD_YES;
}

upload *upload_new(struct MHD_Connection *c, const serve_config *cfg, const char *client, const nst_net *net) {
    upload *u = calloc(1, sizeof *u);
    if (!u) return NULL;
    u->cfg = cfg, u->loss_net = net;
    snprintf(u->client, sizeof u->client, "%s", client);
    u->params = cJSON_CreateObject();
    u->pp = MHD_create_post_processor(c, 64 * 1024, on_field, u);
    if (!u->params) upload_refuse(u, 503, "out of memory");
    if (!u->pp) upload_refuse(u, 415, "POST /api/jobs takes a multipart/form-data form");
    return u;
}

void upload_feed(upload *u, const char *data, size_t size) {
    u->received += size;
    if ((long)u->received > u->cfg->max_upload)
        upload_refuse(u, 413, "upload larger than %ld bytes", u->cfg->max_upload);
    if (!u->status && MHD_post_process(u->pp, data, size) != MHD_YES)
        upload_refuse(u, 400, "malformed multipart form");
}

void upload_free(upload *u) {
    if (!u) return;
    if (u->pp) MHD_destroy_post_processor(u->pp);
    for (int i = 0; i < N_FILES; i++) free(u->files[i].data);
    free(u->video.data);
    cJSON_Delete(u->params);
    free(u);
}

/* Decode file i, check its size, shrink it to `side`, write it to path. */
static void store_image(upload *u, int i, const char *what, int side, const char *path) {
    bytes *b = &u->files[i];
    char most[32];
    human_pixels((double)u->cfg->max_pixels, most, sizeof most);
    nst_image img = {0}, small = {0};
    nst_error err;
    nst_image_limits lim = {u->cfg->max_pixels, 0, 0}; /* no stb_image on the server */
    long big[2];
    if (nst_image_decode_limited(b->data, b->len, what, &lim, &img, big, &err)) {
        if (big[0]) return upload_refuse(u, 413, "%s: image of %ldx%ld pixels, more than the %s allowed", what,
                                         big[0], big[1], most);
        return upload_refuse(u, 400, "%s", err.msg);
    }
    u->wh[i][0] = u->sent[i][0] = img.w, u->wh[i][1] = u->sent[i][1] = img.h;
    if (img.w > side || img.h > side) {
        int sw, sh;
        nst_image_fit(img.w, img.h, side, &sw, &sh);
        u->wh[i][0] = sw, u->wh[i][1] = sh;
        if (nst_image_resize(&img, sw, sh, &small, &err) || nst_image_save(path, &small, &err))
            upload_refuse(u, 500, "%s", err.msg);
    } else if (nst_image_save(path, &img, &err)) {
        upload_refuse(u, 500, "%s", err.msg);
    }
    nst_image_free(&img);
    nst_image_free(&small);
}

/* Containers a video job takes, by their first bytes: MP4/MOV (an ISO BMFF
 * box), Matroska/WebM (EBML), GIF. Only these reach FFmpeg: a playlist or
 * concat script (text) could make its demuxers read other files or URLs. */
static int is_clip(const bytes *b) {
    const unsigned char *d = (const unsigned char *)b->data;
    if (b->len < 12) return 0;
    static const char *boxes[] = {"ftyp", "moov", "mdat", "wide", "free", "skip"};
    for (size_t i = 0; i < sizeof boxes / sizeof *boxes; i++)
        if (!memcmp(d + 4, boxes[i], 4)) return 1;
    return !memcmp(d, "\x1a\x45\xdf\xa3", 4) || !memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6);
}

/* Write the clip under the server's name, then open it to check that it is
 * a video and not longer than max_video_seconds (answered at once, like a
 * picture that is not an image: a job is only made for a clip that opens). */
static void store_clip(upload *u, const char *path) {
    if (!is_clip(&u->video))
        return upload_refuse(u, 400, "video: not a video clip (MP4, MOV, WebM, MKV or GIF)");
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(u->video.data, 1, u->video.len, f) != u->video.len) {
        if (f) fclose(f);
        return upload_refuse(u, 500, "%s: cannot write the clip (%s)", path, strerror(errno));
    }
    if (fclose(f)) return upload_refuse(u, 500, "%s: cannot write the clip (%s)", path, strerror(errno));
    nst_video_info info;
    nst_error err;
    if (nst_video_probe(path, &info, &err)) {
        /* the library names the file by our path: say "video" instead */
        const char *m = strstr(err.msg, path);
        upload_refuse(u, 400, "video: %s", m ? m + strlen(path) + (m[strlen(path)] == ':' ? 2 : 0) : err.msg);
    } else if (info.duration > u->cfg->max_video_seconds) {
        upload_refuse(u, 413, "video: clip of %.1f s, longer than the %g s allowed", info.duration,
                      u->cfg->max_video_seconds);
    } else if (!cJSON_GetObjectItemCaseSensitive(u->params, "size")) {
        /* no size asked: the clip's own, within max_size (never enlarged) */
        int side = info.w > info.h ? info.w : info.h;
        cJSON_AddNumberToObject(u->params, "size", side < u->cfg->max_size ? side : u->cfg->max_size);
    }
}

/* An optimisation that would need more memory than a worker's share of
 * max_memory is refused now, not left to fail (or to be killed) later. */
static void check_memory(upload *u) {
    nst_stylize_params p;
    params_stylize(u->params, u->loss_net, &p);
    nst_image styles[NST_MAX_STYLES] = {{0}};
    for (int k = 0; k < u->n_styles; k++) styles[k].w = u->wh[k + 1][0], styles[k].h = u->wh[k + 1][1];
    double need, share = u->cfg->max_memory / u->cfg->workers;
    nst_error err;
    char a[32], b[32];
    if (nst_stylize_memory(u->loss_net, u->wh[0][0], u->wh[0][1], styles, u->n_styles, &p, &need, &err))
        upload_refuse(u, 400, "%s", err.msg);
    else if (need > share)
        upload_refuse(u, 413, "the job would need about %s of memory, more than the %s one optimisation may use "
                      "here: lower size, style_scale or lbfgs_history", human_bytes(need, a, sizeof a),
                      human_bytes(share, b, sizeof b));
}

/* A 'mask' comes with a 'regions' field, in a job that paints with
 * 'style' images, each region's K one of them and some region painted. */
static void check_regions(upload *u, int kind) {
    params_region_list r;
    char msg[256];
    int n = params_regions(u->params, &r, msg, sizeof msg), painted = 0;
    if (n < 0) return upload_refuse(u, 400, "%s", msg);
    if (u->has_mask && !(kind & (PARAMS_OPTIMISATION | PARAMS_FAST)))
        return upload_refuse(u, 400, "a 'mask' is for optimisations and fast (instant) jobs, with 'style' images");
    if (!u->has_mask != !n)
        return upload_refuse(u, 400, "a 'mask' image and a 'regions' field go together (LABEL=K,...: the painting "
                             "of each colour of the mask), not one without the other");
    for (int i = 0; i < n; i++) {
        if (r.style[i] >= u->n_styles)
            return upload_refuse(u, 400, "regions: style %d, but there %s %d style image%s", r.style[i] + 1,
                                 u->n_styles == 1 ? "is" : "are", u->n_styles, u->n_styles == 1 ? "" : "s");
        painted += r.style[i] >= 0;
    }
    if (n && !painted) upload_refuse(u, 400, "regions: every region keeps the photo (none): paint at least one");
}

/* The mask is drawn on the photo: the same shape, within 2 % (as sent). */
static void check_mask_shape(upload *u) {
    const int *m = u->sent[MASK], *c = u->sent[0];
    if (fabs((double)m[0] / m[1] / ((double)c[0] / c[1]) - 1) > 0.02)
        upload_refuse(u, 400, "mask: %dx%d pixels, but the content is %dx%d: the mask must have the photo's "
                      "shape (aspect ratios within 2 %%)", m[0], m[1], c[0], c[1]);
}

int upload_finish(upload *u, store *s, jobs *j, cJSON **reply) {
    if (!u->status) {
        MHD_destroy_post_processor(u->pp); /* flushes the last field */
        u->pp = NULL;
        end_text(u);
    }
    if (!u->status && u->has_video && (u->has_content || u->n_styles || u->has_mask || !*u->net))
        upload_refuse(u, 400, "a video job takes a 'video' clip and a pretrained 'net' (no images)");
    int fast = params_fast(u->params);
    if (!u->status && fast && (u->has_video || *u->net))
        upload_refuse(u, 400, "field 'fast' is for 'style' paintings (a pretrained 'net' is always one pass%s)",
                      u->has_video ? "; video jobs take a 'net'" : "");
    if (!u->status && !u->has_content && !u->has_video) upload_refuse(u, 400, "a 'content' image is needed");
    if (!u->status && fast && !u->n_styles)
        upload_refuse(u, 400, "fast=1 paints in the style of a painting: a 'style' image is needed");
    if (!u->status && !u->has_video && !u->n_styles == !*u->net)
        upload_refuse(u, 400, "give either 'style' images (optimisation) or a pretrained 'net', not %s",
             u->n_styles ? "both" : "neither");
    char msg[256];
    int kind = u->has_video ? PARAMS_VIDEO : fast ? PARAMS_FAST : *u->net ? PARAMS_NET : PARAMS_OPTIMISATION;
    if (!u->status && params_check_kind(u->params, kind, msg, sizeof msg)) upload_refuse(u, 400, "%s", msg);
    if (!u->status) check_regions(u, kind);
    if (!u->status && fast) { /* answered now rather than by a failed job */
        char where[NST_PATH_MAX];
        nst_error err;
        if (nst_models_resolve(ARBITRARY_MODEL, where, sizeof where, &err))
            upload_refuse(u, 503, "fast: the arbitrary-style pair is missing: %s", err.msg);
    }
    long id = 0;
    if (!u->status) {
        char *json = cJSON_PrintUnformatted(u->params);
        /* a fast job is run by the feed-forward worker, with its paintings */
        const char *kind = u->has_video ? "video" : u->n_styles && !fast ? "stylize" : "apply";
        cJSON *names = cJSON_CreateArray();
        for (int i = 0; names && i <= 1 + NST_MAX_STYLES; i++)
            if ((i == 0 && u->has_content) || (i > 0 && i <= u->n_styles) || (i == 1 + NST_MAX_STYLES && u->has_video))
                cJSON_AddItemToArray(names, cJSON_CreateString(u->names[i]));
        char *names_json = names ? cJSON_PrintUnformatted(names) : NULL;
        id = json && names_json ? store_insert(s, kind, json, names_json, u->n_styles, u->net, u->client) : 0;
        free(json), free(names_json);
        cJSON_Delete(names);
        if (!id) upload_refuse(u, 500, "cannot record the job in the database");
    }
    char dir[NST_PATH_MAX], path[NST_PATH_MAX], name[32], what[32];
    if (!u->status && (job_path(u->cfg, id, "", dir, sizeof dir) || (mkdir(dir, 0755) && errno != EEXIST)))
        upload_refuse(u, 500, "%s: cannot create the job's directory (%s)", dir, strerror(errno));
    /* a style image may be used at style_scale (<= 4) times the size; the
     * arbitrary pair's predictor sees it at 256 px (short side) */
    int side = params_size(u->params), style_side = fast ? 1024 : 4 * side;
    if (u->has_video && !u->status) {
        job_path(u->cfg, id, "clip", path, sizeof path);
        store_clip(u, path);
        char *json = u->status ? NULL : cJSON_PrintUnformatted(u->params); /* with the size chosen */
        if (json) store_params(s, id, json);
        free(json);
    }
    for (int i = 0; i <= u->n_styles && !u->status && !u->has_video; i++) {
        if (i) snprintf(name, sizeof name, "style_%d.png", i), snprintf(what, sizeof what, "style %d", i);
        else snprintf(name, sizeof name, "content.png"), snprintf(what, sizeof what, "content");
        job_path(u->cfg, id, name, path, sizeof path);
        store_image(u, i, what, i ? style_side : side, path);
    }
    if (!u->status && u->has_mask) { /* shrunk like the photo it is drawn on */
        job_path(u->cfg, id, "mask.png", path, sizeof path);
        store_image(u, MASK, "mask", side, path);
        if (!u->status) check_mask_shape(u);
    }
    if (!u->status && !u->has_video && u->n_styles && !fast) check_memory(u);
    if (id && u->status) { /* a refused upload leaves nothing behind */
        if (!job_path(u->cfg, id, "clip", path, sizeof path)) unlink(path);
        if (!job_path(u->cfg, id, "mask.png", path, sizeof path)) unlink(path);
        for (int i = 0; i <= u->n_styles; i++) {
            if (i) snprintf(name, sizeof name, "style_%d.png", i);
            else snprintf(name, sizeof name, "content.png");
            if (!job_path(u->cfg, id, name, path, sizeof path)) unlink(path);
        }
        rmdir(dir);
        store_delete_new(s, id);
    } else if (id && store_transition(s, id, "new", "queued", NULL)) {
        jobs_notify(j);
    }
    *reply = cJSON_CreateObject();
    if (u->status) cJSON_AddStringToObject(*reply, "error", u->msg);
    else cJSON_AddNumberToObject(*reply, "id", (double)id);
    return u->status ? u->status : 201;
}
