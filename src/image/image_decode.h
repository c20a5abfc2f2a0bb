/* image_decode.h: decoding images from untrusted bytes.
 *
 * Each format goes through the library built for it: PNG through libpng,
 * JPEG through libjpeg-turbo (EXIF orientation applied), WebP through
 * libwebp, HEIC and AVIF through libheif, binary PNM by a small parser here.
 * stb_image reads what is left (BMP, TGA, GIF, PSD, HDR, PIC) only where the
 * caller allows it: its security fixes lag, so nst serve never uses it.
 * Every decoder reads the header first and checks the size against the
 * limits before a pixel is decoded.
 *
 * Pixels: grey is replicated to RGB; alpha is composited over white (so a
 * transparent area looks as it does in a viewer on a white page); 16-bit
 * samples keep their precision (scaled to 0..255). */
#ifndef NST_IMAGE_DECODE_H
#define NST_IMAGE_DECODE_H

#include <stddef.h>

#include "nst.h"

/* nst_image_limits and nst_image_decode_limited (nst.h) pick the decoder by
 * the first bytes. */

/* ---- shared by the decoders (image_decode.c) ---------------------------- */

/* NST_OK when w x h fits the limits, else an error naming the size. */
int image_check_size(const char *name, long w, long h, const nst_image_limits *lim, long *oversize,
                     nst_error *err);
/* Interleaved 8- or 16-bit samples (0..amax) with nc channels (1 grey,
 * 2 grey + alpha, 3 RGB, 4 RGBA), rows `stride` samples apart, into
 * planar RGB (img allocated at its size). */
void image_to_planar(const void *px, int is16, int nc, size_t stride, float amax, nst_image *img);
/* Turn img upright from EXIF orientation o (1..8; others: as is). */
int image_orient(nst_image *img, int o, nst_error *err);
/* The EXIF orientation (1..8) in a TIFF structure (an APP1 Exif payload
 * after "Exif\0\0"), or 0 if there is none; every offset is checked. */
int exif_orientation(const unsigned char *p, size_t n);

int decode_png(const unsigned char *buf, size_t len, const char *name, const nst_image_limits *lim,
               nst_image *img, long *oversize, nst_error *err);
int decode_jpeg(const unsigned char *buf, size_t len, const char *name, const nst_image_limits *lim,
                nst_image *img, long *oversize, nst_error *err);
int decode_webp(const unsigned char *buf, size_t len, const char *name, const nst_image_limits *lim,
                nst_image *img, long *oversize, nst_error *err);
int decode_heif(const unsigned char *buf, size_t len, const char *name, const nst_image_limits *lim,
                nst_image *img, long *oversize, nst_error *err);
int decode_pnm(const unsigned char *buf, size_t len, const char *name, const nst_image_limits *lim,
               nst_image *img, long *oversize, nst_error *err);
int decode_stb(const unsigned char *buf, size_t len, const char *name, const nst_image_limits *lim,
               nst_image *img, long *oversize, nst_error *err);

#endif
