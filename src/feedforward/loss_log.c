/* loss_log.c: the loss curve of nst train as CSV and as a plot (see
 * loss_log.h). The plot is drawn here with simple line drawing and
 * stb_easy_font's bitmap glyphs for the labels. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-braces"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

#include "core/util.h"
#include "feedforward/loss_log.h"

int loss_log_add(loss_log *l, const double row[LOG_COLS], nst_error *err) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        void *r = realloc(l->row, (size_t)cap * sizeof *l->row);
        if (!r) return nst_fail(err, NST_ERR_NOMEM, "out of memory");
        l->row = r, l->cap = cap;
    }
    memcpy(l->row[l->n++], row, sizeof *l->row);
    return NST_OK;
}

int loss_log_read_csv(loss_log *l, const char *path, int upto, nst_error *err) {
    FILE *f = fopen(path, "r");
    if (!f) return NST_OK;
    char line[512];
    int rc = NST_OK;
    while (!rc && fgets(line, sizeof line, f)) {
        double r[LOG_COLS];
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf", &r[0], &r[1], &r[2], &r[3], &r[4], &r[5]) ==
                LOG_COLS && r[LOG_ITER] <= upto)
            rc = loss_log_add(l, r, err);
    }
    fclose(f);
    return rc;
}

int loss_log_write_csv(const loss_log *l, const char *path, nst_error *err) {
    char *tmp;
    FILE *f = temp_open(path, &tmp);
    if (!f) return nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
    int ok = fprintf(f, "iteration,total,content,style,tv,seconds\n") > 0;
    for (int i = 0; i < l->n && ok; i++) {
        const double *r = l->row[i];
        ok = fprintf(f, "%d,%.6g,%.6g,%.6g,%.6g,%.3f\n", (int)r[0], r[1], r[2], r[3], r[4], r[5]) > 0;
    }
    int e = temp_finish(f, tmp, path, ok ? 0 : EIO);
    if (e) return nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", path, strerror(e));
    return NST_OK;
}

static void plot_pixel(nst_image *im, int x, int y, const float rgb[3]) {
    if (x < 0 || y < 0 || x >= im->w || y >= im->h) return;
    for (int c = 0; c < 3; c++) im->data[((size_t)c * im->h + y) * im->w + x] = rgb[c];
}

/* Bresenham's line from (x0, y0) to (x1, y1). */
static void plot_line(nst_image *im, int x0, int y0, int x1, int y1, const float rgb[3]) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    for (int e = dx + dy;;) {
        plot_pixel(im, x0, y0, rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) e += dy, x0 += sx;
        if (e2 <= dx) e += dx, y0 += sy;
    }
}

/* Text at (x, y) (top left), glyphs scaled by 2: stb_easy_font emits each
 * glyph stroke as an axis-aligned quad (4 vertices of 16 bytes, x y z
 * floats then RGBA), which we fill as a rectangle. */
static void plot_text(nst_image *im, int x, int y, const char *text, const float rgb[3]) {
    static char buf[64 * 1024];
    int quads = stb_easy_font_print(0, 0, (char *)text, NULL, buf, sizeof buf);
    for (int q = 0; q < quads; q++) {
        float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
        for (int v = 0; v < 4; v++) {
            const float *p = (const float *)(buf + (size_t)(4 * q + v) * 16);
            x0 = fminf(x0, p[0]), x1 = fmaxf(x1, p[0]), y0 = fminf(y0, p[1]), y1 = fmaxf(y1, p[1]);
        }
        for (int py = (int)(2 * y0); py < (int)(2 * y1); py++)
            for (int px = (int)(2 * x0); px < (int)(2 * x1); px++) plot_pixel(im, x + px, y + py, rgb);
    }
}

int loss_log_plot(const loss_log *l, const char *path, nst_error *err) {
    enum { W = 800, H = 500, M = 60 };
    static const float grey[3] = {200, 200, 200}, black[3] = {0, 0, 0};
    static const float colour[4][3] = {{0, 0, 0}, {0, 80, 220}, {220, 30, 30}, {0, 160, 60}};
    nst_image im = {0};
    int rc = nst_image_alloc(&im, W, H, err);
    if (rc) return rc;
    for (size_t i = 0; i < (size_t)3 * W * H; i++) im.data[i] = 255;
    /* y range: the decades that hold every positive loss */
    double lo = INFINITY, hi = -INFINITY, x0 = l->n ? l->row[0][LOG_ITER] : 0, x1 = x0 + 1;
    for (int i = 0; i < l->n; i++) {
        for (int c = LOG_TOTAL; c <= LOG_TV; c++)
            if (l->row[i][c] > 0) lo = fmin(lo, log10(l->row[i][c])), hi = fmax(hi, log10(l->row[i][c]));
        x1 = fmax(x1, l->row[i][LOG_ITER]);
    }
    if (!(lo <= hi)) lo = -1, hi = 1;
    lo = floor(lo), hi = fmax(ceil(hi), lo + 1);
#define PX(it) ((int)lround(M + ((it) - x0) / (x1 - x0) * (W - 2 * M)))
#define PY(v) ((int)lround(H - M - ((v) - lo) / (hi - lo) * (H - 2 * M)))
    char label[64];
    for (double d = lo; d <= hi; d++) {
        plot_line(&im, M, PY(d), W - M, PY(d), grey);
        snprintf(label, sizeof label, "1e%+d", (int)d);
        plot_text(&im, 4, PY(d) - 6, label, black);
    }
    plot_line(&im, M, M, M, H - M, black);
    plot_line(&im, M, H - M, W - M, H - M, black);
    snprintf(label, sizeof label, "%d", (int)x0);
    plot_text(&im, M, H - M + 8, label, black);
    snprintf(label, sizeof label, "%d", (int)x1);
    plot_text(&im, W - M - 12 * (int)strlen(label), H - M + 8, label, black);
    plot_text(&im, W / 2 - 40, H - M + 8, "iteration", black);
    static const char *const names[4] = {"total", "content", "style", "tv"};
    for (int c = 0; c < 4; c++) plot_text(&im, M + 10 + 130 * c, 16, names[c], colour[c]);
    for (int c = LOG_TOTAL; c <= LOG_TV; c++)
        for (int i = 1; i < l->n; i++) {
            const double *a = l->row[i - 1], *b = l->row[i];
            if (a[c] > 0 && b[c] > 0)
                plot_line(&im, PX(a[LOG_ITER]), PY(log10(a[c])), PX(b[LOG_ITER]), PY(log10(b[c])),
                          colour[c - LOG_TOTAL]);
        }
#undef PX
#undef PY
    rc = nst_image_save(path, &im, err);
    nst_image_free(&im);
    return rc;
}

void loss_log_free(loss_log *l) {
    free(l->row);
    memset(l, 0, sizeof *l);
}
