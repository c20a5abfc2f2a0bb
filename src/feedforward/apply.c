/* apply.c: nst_apply, painting an image with a feed-forward style network.
 *
 * An image larger than the tile size T runs in overlapping tiles so that the
 * activations stay bounded (about 0.9 KB per pixel with oneDNN's buffers).
 * Two things keep the tiles from showing:
 *  - instance norm normalises by statistics of the whole feature map, which
 *    differ from tile to tile; every tile uses instead the statistics of one
 *    pass over the whole image downscaled to T. (On a 2048 px image, against
 *    a one-pass result: 4.7 / 10.7 grey levels mean difference for scream /
 *    wave; pooling the tiles' own statistics gave 9.1 / 6.5 at twice the
 *    cost, each tile keeping its own 16 / 18.)
 *  - tiles overlap by ov pixels and are blended with weights that are
 *    0 on the outer ov/4 pixels of a tile's inner edges (where its zero
 *    padding shows) and rise linearly to 1 at 3ov/4, so no seam shows.
 *    Tile origins are multiples of 4 so every tile samples the stride-2
 *    layers on the grid of the whole image (with either upsampling: both
 *    double the stride-4 grid).
 * The zero padding at a tile's border reaches about 57 px inwards (the
 * network's receptive radius); tiles normalised with the one-pass
 * statistics match the one pass to 0.016 grey levels mean for T = 512 with
 * ov = 128 (test_apply), so the remaining difference of nst_apply's tiles
 * is the statistics'. ov = T/4 = 64 at T = 256 gave 0.46 there, ov = 128
 * 0.065: the overlap is at least 128 (at most T/2). */
#include <stdlib.h>
#include <string.h>

#include "feedforward/apply.h"

/* Automatic tiles: whole images up to this side (~0.5 GB of activations);
 * tiles change the look somewhat (statistics at another scale), so only
 * images that would need gigabytes are tiled by default. */
#define AUTO_TILE 1024

void nst_apply_params_init(nst_apply_params *p) {
    memset(p, 0, sizeof *p);
    p->strength = 1.0f;
}

/* Tile origins along an axis of n pixels: steps of T - ov, the last one
 * (rounded up to a multiple of 4) ending at n. Returns the count. */
static int axis_tiles(int n, int T, int ov, int *origin, int max) {
    int count = 0;
    for (int a = 0; count < max; a += T - ov) {
        if (a + T >= n) {
            int last = n <= T ? 0 : (n - T + 3) / 4 * 4;
            origin[count++] = last > a ? a : last; /* never behind the previous step */
            break;
        }
        origin[count++] = a;
    }
    return count;
}

/* Overlap of tiles of T px: T/4, at least 128 (see the top), at most T/2,
 * a multiple of 4. */
static int overlap(int T) {
    int ov = T / 4 > 128 ? T / 4 : 128;
    return (ov < T / 2 ? ov : T / 2) / 4 * 4;
}

/* Feathering weight of pixel x of a tile [a, b) on an axis of n pixels. A
 * tile's outer `m` pixels carry the zero-padding artefacts of its border and
 * get weight 0; then the weight rises linearly to 1 at ov - m pixels in:
 * w = clamp((d - m) / (ov - 2m), 0, 1), d the distance to an inner edge, so
 * two tiles overlapping by ov sum to 1. The image's own edges get weight 1;
 * the floor keeps the sum positive where a longer overlap leaves a gap. */
static float feather(int x, int a, int b, int n, int ov) {
    int m = ov / 4;
    float w = 1.0f, dl = (x - a + 0.5f - m) / (ov - 2 * m), dr = (b - x - 0.5f - m) / (ov - 2 * m);
    if (a > 0 && dl < w) w = dl;
    if (b < n && dr < w) w = dr;
    return w > 1e-3f ? w : 1e-3f;
}

/* A plan for each distinct tile size (interior and last column/row). */
typedef struct {
    int n;
    plan plan[4];
} plan_cache;

static const plan_opts infer; /* forward only */

/* The painter's plan for one w x h image, its style vector set. */
static int painter_plan(const painter *pt, plan *p, int w, int h, nst_error *err) {
    int rc = plan_create(p, pt->net, 1, h, w, &infer, err);
    if (!rc && pt->style) plan_set_input(p, 1, pt->style);
    return rc;
}

static plan *plan_for(plan_cache *c, const painter *pt, int w, int h, nst_error *err) {
    for (int i = 0; i < c->n; i++)
        if (c->plan[i].w == w && c->plan[i].h == h) return &c->plan[i];
    if (painter_plan(pt, &c->plan[c->n], w, h, err)) return NULL;
    return &c->plan[c->n++];
}

int apply_tiles(const painter *pt, const nst_image *x, int T, const plan *stats, nst_image *y,
                nst_error *err) {
    int W = x->w, H = x->h, ov = overlap(T), ox[NST_MAX_SIDE / 32 + 2], oy[NST_MAX_SIDE / 32 + 2];
    int nx = axis_tiles(W, T, ov, ox, NST_MAX_SIDE / 32 + 2);
    int ny = axis_tiles(H, T, ov, oy, NST_MAX_SIDE / 32 + 2);
    size_t hw = (size_t)W * H;
    plan_cache cache = {0};
    float *wsum = calloc(hw, sizeof(float)), *tile = malloc((size_t)3 * T * T * sizeof(float));
    int rc = wsum && tile ? NST_OK : nst_fail(err, NST_ERR_NOMEM, "out of memory for a %dx%d image", W, H);
    if (!rc) memset(y->data, 0, 3 * hw * sizeof(float));
    for (int ty = 0; ty < ny && !rc; ty++)
        for (int tx = 0; tx < nx && !rc; tx++) {
            int x0 = ox[tx], y0 = oy[ty];
            int tw = (x0 + T < W ? x0 + T : W) - x0, th = (y0 + T < H ? y0 + T : H) - y0;
            plan *p = plan_for(&cache, pt, tw, th, err);
            if (!p) {
                rc = err->code;
                break;
            }
            for (int c = 0; c < 3; c++)
                for (int r = 0; r < th; r++)
                    memcpy(tile + ((size_t)c * th + r) * tw, x->data + c * hw + (size_t)(y0 + r) * W + x0,
                           (size_t)tw * sizeof(float));
            plan_copy_stats(p, stats); /* every tile normalised alike */
            plan_forward(p, tile, PLAN_FIXED_STATS);
            for (int r = 0; r < th; r++) {
                float wy = feather(y0 + r, y0, y0 + th, H, ov);
                for (int q = 0; q < tw; q++) {
                    float wgt = wy * feather(x0 + q, x0, x0 + tw, W, ov);
                    size_t at = (size_t)(y0 + r) * W + x0 + q;
                    wsum[at] += wgt;
                    for (int c = 0; c < 3; c++)
                        y->data[c * hw + at] += wgt * p->output[((size_t)c * th + r) * tw + q];
                }
            }
        }
    for (size_t i = 0; i < hw && !rc; i++)
        for (int c = 0; c < 3; c++) y->data[c * hw + i] /= wsum[i];
    for (int i = 0; i < cache.n; i++) plan_destroy(&cache.plan[i]);
    free(wsum);
    free(tile);
    return rc;
}

/* Tiles, normalised with the statistics of the whole image at tile size. */
static int tiled(const painter *pt, const nst_image *x, int T, nst_image *y, nst_error *err) {
    nst_image small = {0};
    plan stats;
    int sw, sh;
    nst_image_fit(x->w, x->h, T, &sw, &sh);
    int rc = nst_image_resize(x, sw, sh, &small, err);
    if (!rc) rc = painter_plan(pt, &stats, sw, sh, err);
    if (!rc) {
        plan_forward(&stats, small.data, 0);
        rc = apply_tiles(pt, x, T, &stats, y, err);
        plan_destroy(&stats);
    }
    nst_image_free(&small);
    return rc;
}

int apply_graph(const painter *pt, const nst_image *x, int T, nst_image *y, nst_error *err) {
    T = (T ? T : AUTO_TILE) / 4 * 4;
    if (x->w > T || x->h > T) return tiled(pt, x, T, y, err);
    plan pl;
    int rc = painter_plan(pt, &pl, x->w, x->h, err);
    if (rc) return rc;
    plan_forward(&pl, x->data, 0);
    memcpy(y->data, pl.output, (size_t)3 * x->w * x->h * sizeof(float));
    plan_destroy(&pl);
    return NST_OK;
}

int apply_check(const nst_apply_params *p, nst_error *err) {
    if (p->size && (p->size < 16 || p->size > NST_MAX_SIDE))
        return nst_fail(err, NST_ERR_ARG, "size %d out of range 16..%d", p->size, NST_MAX_SIDE);
    if (!(p->strength >= 0 && p->strength <= 1))
        return nst_fail(err, NST_ERR_ARG, "strength %g out of range 0..1", p->strength);
    if (p->tile && (p->tile < 64 || p->tile > NST_MAX_SIDE))
        return nst_fail(err, NST_ERR_ARG, "tile %d out of range 64..%d", p->tile, NST_MAX_SIDE);
    if (p->color_transfer < NST_COLOR_NONE || p->color_transfer > NST_COLOR_HISTOGRAM)
        return nst_fail(err, NST_ERR_ARG, "colour transfer %d: not one of NST_COLOR_*", p->color_transfer);
    return NST_OK;
}

void apply_finish(nst_image *y, const nst_image *x, const nst_apply_params *p) {
    nst_image_color_control(y, x, p->color_transfer);
    /* out = s * styled + (1 - s) * input */
    for (size_t i = 0; p->strength < 1 && i < (size_t)3 * y->w * y->h; i++)
        y->data[i] = p->strength * y->data[i] + (1 - p->strength) * x->data[i];
}

static int apply(const nst_generator *g, const nst_image *in, const nst_apply_params *p,
                 nst_image *out, nst_error *err) {
    int rc = apply_check(p, err);
    if (rc) return rc;
    int W = in->w, H = in->h;
    if (p->size) nst_image_fit(in->w, in->h, p->size, &W, &H);
    nst_image x = {0}, y = {0};
    const painter pt = {&g->g, NULL};
    rc = nst_image_resize(in, W, H, &x, err);
    if (!rc) rc = nst_image_alloc(&y, W, H, err);
    if (!rc) rc = apply_graph(&pt, &x, p->tile, &y, err);
    if (!rc) apply_finish(&y, &x, p);
    nst_image_free(&x);
    if (rc) {
        nst_image_free(&y);
        return rc;
    }
    *out = y;
    return NST_OK;
}

int nst_apply(const nst_generator *g, const nst_image *in, const nst_apply_params *p,
              nst_image *out, nst_error *err) {
    dn_run_reset();
    return dn_run_status(apply(g, in, p, out, err), err);
}
