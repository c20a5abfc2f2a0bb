/* image_io.c: reading image files (decoded by image_decode.c) and encoding
 * images with stb_image_write: PNG, JPEG (quality 95), BMP, TGA, written to
 * a temporary file and renamed. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "core/util.h"
#include "nst.h"

static int read_all(const char *path, unsigned char **buf, size_t *len, nst_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return nst_fail(err, NST_ERR_IO, "%s: no such file", path);
        return nst_fail(err, NST_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return nst_fail(err, NST_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        fclose(f);
        return nst_fail(err, NST_ERR_FORMAT, "%s: not an image (empty file)", path);
    }
    if (st.st_size > 0x7fffffff) { /* no picture nst takes is 2 GB */
        fclose(f);
        return nst_fail(err, NST_ERR_FORMAT, "%s: image too large: file of %lld bytes", path,
                        (long long)st.st_size);
    }
    *len = (size_t)st.st_size;
    *buf = malloc(*len);
    if (!*buf) {
        fclose(f);
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, *len);
    }
    size_t got = fread(*buf, 1, *len, f);
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (got != *len) {
        free(*buf);
        return nst_fail(err, NST_ERR_IO, "%s: read error (%s)", path,
                        rerr ? strerror(rerr) : "file shrank while reading");
    }
    return NST_OK;
}

int nst_image_load(const char *path, nst_image *img, nst_error *err) {
    img->w = img->h = 0;
    img->data = NULL;
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = read_all(path, &buf, &len, err);
    if (rc) return rc;
    rc = nst_image_decode(buf, len, path, img, err);
    free(buf);
    return rc;
}

/* stb_image_write reports no write errors, so the sink keeps the first one. */
struct sink {
    FILE *f;
    int err;
};

static void write_cb(void *ctx, void *data, int size) {
    struct sink *s = ctx;
    if (!s->err && fwrite(data, 1, (size_t)size, s->f) != (size_t)size) s->err = errno ? errno : EIO;
}

static int encode(int kind, struct sink *s, const nst_image *img, const unsigned char *px) {
    switch (kind) {
    case 1: return stbi_write_png_to_func(write_cb, s, img->w, img->h, 3, px, img->w * 3);
    case 2: return stbi_write_jpg_to_func(write_cb, s, img->w, img->h, 3, px, 95);
    case 3: return stbi_write_bmp_to_func(write_cb, s, img->w, img->h, 3, px);
    default: return stbi_write_tga_to_func(write_cb, s, img->w, img->h, 3, px);
    }
}

/* 1..4: PNG, JPEG, BMP, TGA by a format name or extension; 0: none of them. */
static int kind_of(const char *ext) {
    return !strcasecmp(ext, "png")                               ? 1
           : !strcasecmp(ext, "jpg") || !strcasecmp(ext, "jpeg") ? 2
           : !strcasecmp(ext, "bmp")                             ? 3
           : !strcasecmp(ext, "tga")                             ? 4
                                                                 : 0;
}

/* Interleaved 8-bit RGB, rounded and clamped (NaN to 0); NULL: no memory. */
static unsigned char *to_bytes(const nst_image *img) {
    size_t n = (size_t)img->w * img->h;
    unsigned char *px = malloc(n * 3);
    for (size_t i = 0; px && i < n; i++)
        for (int c = 0; c < 3; c++) {
            float v = img->data[c * n + i];
            if (!(v > 0.0f)) v = 0.0f;
            if (v > 255.0f) v = 255.0f;
            px[i * 3 + c] = (unsigned char)(v + 0.5f);
        }
    return px;
}

/* Encode into s->f; 0 or an errno value. */
static int encode_to(int kind, struct sink *s, const nst_image *img) {
    unsigned char *px = to_bytes(img);
    if (!px) return s->err = ENOMEM;
    if (!encode(kind, s, img, px) && !s->err) s->err = ENOMEM; /* stb fails only on allocation */
    free(px);
    return s->err;
}

int nst_image_write(FILE *f, const char *name, const char *format, const nst_image *img, nst_error *err) {
    int kind = kind_of(format);
    if (!kind) return nst_fail(err, NST_ERR_ARG, "%s: unsupported format '%s' (png, jpg, bmp or tga)", name, format);
    if (!img->data || img->w <= 0 || img->h <= 0) return nst_fail(err, NST_ERR_ARG, "%s: no image to write", name);
    struct sink s = {f, 0};
    int e = encode_to(kind, &s, img);
    if (!e && fflush(f) != 0) e = errno;
    return e ? nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", name, strerror(e)) : NST_OK;
}

int nst_image_save(const char *path, const nst_image *img, nst_error *err) {
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    const char *ext = dot && (!slash || dot > slash) ? dot + 1 : "";
    int kind = kind_of(ext);
    if (!kind)
        return nst_fail(err, NST_ERR_ARG,
                        "%s: unsupported output format '%s%s' (use .png, .jpg, .jpeg, .bmp or .tga)",
                        path, *ext ? "." : "", *ext ? ext : "no extension");
    if (!img->data || img->w <= 0 || img->h <= 0)
        return nst_fail(err, NST_ERR_ARG, "%s: no image to save", path);
    char *tmp;
    struct sink s = {temp_open(path, &tmp), 0};
    if (!s.f) return nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
    encode_to(kind, &s, img);
    int e = temp_finish(s.f, tmp, path, s.err);
    return e ? nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", path, strerror(e)) : NST_OK;
}

int nst_image_alloc(nst_image *img, int w, int h, nst_error *err) {
    img->w = img->h = img->flattened = 0;
    img->data = NULL;
    if (w <= 0 || h <= 0 || (size_t)w * h > SIZE_MAX / 3 / sizeof(float))
        return nst_fail(err, NST_ERR_ARG, "invalid image size %dx%d", w, h);
    img->data = calloc((size_t)w * h * 3, sizeof(float));
    if (!img->data) return nst_fail(err, NST_ERR_NOMEM, "out of memory for a %dx%d image", w, h);
    img->w = w;
    img->h = h;
    return NST_OK;
}

void nst_image_free(nst_image *img) {
    if (!img) return;
    free(img->data);
    img->data = NULL;
    img->w = img->h = 0;
}
