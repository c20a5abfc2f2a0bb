/* nst.h: the public API of libnst, neural style transfer in C.
 *
 * Data flows one way: load image -> loss network features -> losses and
 * gradients -> optimiser -> image out. Images are planar RGB floats in
 * 0..255 (3 x h x w, channel-major), the layout the loss networks consume.
 *
 * Every function that can fail returns 0 on success or an NST_ERR_* code and
 * fills an nst_error (err must point to one) whose message names the file
 * and the problem. No function exits or aborts the process.
 *
 * Ownership. What a *_load or nst_video_open makes is the caller's, freed
 * by the matching *_free / nst_video_close (which accept NULL). An
 * nst_image that a function fills (a load, a decode, nst_image_alloc and
 * _resize, the output of nst_stylize, nst_apply, nst_arbitrary_apply and
 * nst_video_frame) holds pixels the library allocated: the caller frees
 * them with nst_image_free; on failure nothing is left to free. Inputs are
 * only read, and not kept after the call returns (except what the
 * parameters of nst_video_open point to, which must outlive the
 * nst_video). Returned strings (nst_version, nst_error_name,
 * nst_net_name, nst_net_layer_name) belong to the library or to the
 * object they came from; do not free them.
 *
 * Threads. A loaded network (nst_net, nst_generator, nst_arbitrary) is
 * read-only: several threads may use one at once, each call compiling
 * its own plan (nst serve's workers share theirs so). Each call runs on
 * the OpenMP threads of the thread that makes it; nst_set_threads sets
 * their number for the calling thread and OpenBLAS's globally. An
 * nst_video belongs to the thread that opened it. Parameter structs are
 * filled by their *_params_init function first, so that fields added later
 * get their defaults in programs that do not know them. */
#ifndef NST_H
#define NST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A flag that stops a long run when another thread (or a signal handler)
 * sets it to nonzero: a C11 atomic, std::atomic<int> in C++. */
#ifdef __cplusplus
#include <atomic>
typedef std::atomic<int> nst_cancel_flag;
#else
#include <stdatomic.h>
typedef atomic_int nst_cancel_flag;
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version and symbols ---------------------------------------------
 * Semantic versioning: a major version (while it is 0, a minor version)
 * changes when a declaration here changes incompatibly; the shared
 * library's SONAME carries it (libnst.so.0.3). CMakeLists.txt reads the
 * version from these lines. */
#define NST_VERSION_MAJOR 0
#define NST_VERSION_MINOR 3
#define NST_VERSION_PATCH 0
#define NST_VERSION_STRING "0.3.0"

/* Only what this header declares is exported from libnst.so (the library
 * is built with -fvisibility=hidden and a version script, NST_0.3). */
#if defined(NST_BUILDING) && defined(__GNUC__)
#define NST_API __attribute__((visibility("default")))
#else
#define NST_API
#endif

/* The version of the library in use, "MAJOR.MINOR.PATCH" (it can differ
 * from NST_VERSION_STRING when a program runs with a newer libnst.so). */
NST_API const char *nst_version(void);

/* ---- errors ---------------------------------------------------------- */

/* What went wrong, for a caller that reacts differently to each (the nst
 * command exits with status 2 for NST_ERR_ARG and NST_ERR_CPU, 1 for the
 * others). */
enum {
    NST_OK = 0,
    NST_ERR_RUNTIME = 1,   /* the work failed at run time: the loss diverged, a process of
                            * an MPI job failed, an encoder or the optical flow failed */
    NST_ERR_ARG = 2,       /* a bad argument or an impossible combination of them */
    NST_ERR_IO = 3,        /* a file, directory or download could not be read or written */
    NST_ERR_FORMAT = 4,    /* a file is damaged, not what it claims or of a kind nst does not read */
    NST_ERR_NOMEM = 5,     /* an allocation failed */
    NST_ERR_CPU = 6,       /* this CPU lacks the instructions the options ask for */
    NST_ERR_CANCELLED = 7, /* the caller's cancel flag turned nonzero */
    NST_ERR_INTERNAL = 8   /* a library below (oneDNN, OpenSSL) or nst itself failed
                            * where it should not: a defect to report */
};

typedef struct {
    int code;       /* an NST_ERR_* value */
    char msg[1024]; /* one line, names the file and the problem */
} nst_error;

/* A short name of an error code ("bad argument", "I/O error", ...). */
NST_API const char *nst_error_name(int code);

/* Record an error (printf-style) and return its code. */
NST_API int nst_fail(nst_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Threads for the calling thread's work (OpenMP: oneDNN and nst's loops)
 * and for OpenBLAS (global); 0 keeps the default (OMP_NUM_THREADS, else
 * all cores). */
NST_API void nst_set_threads(int n);

/* ---- images ---------------------------------------------------------- */

typedef struct {
    int w, h;
    float *data; /* 3 planes of h*w floats, R then G then B, values 0..255 */
    int flattened; /* set by decoding: the file had (partly) transparent pixels,
                    * composited over white (nst paints opaque pictures) */
} nst_image;

/* Largest image side and pixel count that nst accepts (absurd sizes are
 * rejected before decoding). */
#define NST_MAX_SIDE 16384
#define NST_MAX_PIXELS (64L * 1024 * 1024)

/* Decode PNG, JPEG, BMP, TGA, GIF (first frame) or PNM. */
NST_API int nst_image_load(const char *path, nst_image *img, nst_error *err);
/* The same from len bytes in memory; `name` is what messages call them. */
NST_API int nst_image_decode(const void *data, size_t len, const char *name, nst_image *img,
                             nst_error *err);
/* Bytes from strangers (an upload): decoded only when the header's size
 * fits the limits, each format through the library built for it; stb_image
 * (BMP, TGA, GIF, PSD, HDR, PIC) only with allow_stb, as its security fixes
 * lag. oversize (NULL or 2 longs) gets the width and height of an image the
 * limits refused, else 0, 0 (a server answers 413 rather than 400). */
typedef struct {
    long max_pixels; /* at most NST_MAX_PIXELS */
    int max_side;    /* 0: NST_MAX_SIDE */
    int allow_stb;
} nst_image_limits;
NST_API int nst_image_decode_limited(const void *data, size_t len, const char *name,
                                     const nst_image_limits *lim, nst_image *img, long *oversize,
                                     nst_error *err);
/* Encode by extension (.png, .jpg/.jpeg, .bmp, .tga); values are rounded
 * and clamped to 0..255. Writes a temporary file beside `path` and renames
 * it into place, so a failed save never leaves a partial file. */
NST_API int nst_image_save(const char *path, const nst_image *img, nst_error *err);
/* The same encoding to an open stream (standard output, a pipe): format is
 * "png", "jpg"/"jpeg", "bmp" or "tga"; `name` is what messages call f. */
NST_API int nst_image_write(FILE *f, const char *name, const char *format, const nst_image *img, nst_error *err);
NST_API int nst_image_alloc(nst_image *img, int w, int h, nst_error *err);
NST_API void nst_image_free(nst_image *img);
/* Resample src to w x h (bilinear for upsampling, area-averaging for
 * downsampling). dst must not alias src. */
NST_API int nst_image_resize(const nst_image *src, int w, int h, nst_image *dst,
                             nst_error *err);
/* Size that scales (w, h) so that its long side is `side`, keeping aspect. */
NST_API void nst_image_fit(int w, int h, int side, int *ow, int *oh);
/* Luminance-only transfer: keep the luminance (Y of YIQ/YUV) of `styled`,
 * take the chrominance of `content`; both the same size. Result in place. */
NST_API void nst_image_keep_colors(nst_image *styled, const nst_image *content);
/* Colour histogram matching (Gatys et al. 2017, "Controlling Perceptual
 * Factors in Neural Style Transfer", sec. 5): the affine map of RGB
 * x' = A (x - mu_img) + mu_target, A = S_target^1/2 S_img^-1/2 (symmetric
 * square roots of the 3x3 colour covariances), which gives img the mean
 * and covariance of target's colours; in place, clamped to 0..255. In RGB
 * because the loss network sees RGB: the map reproduces the full RGB
 * covariance exactly, which moments matched in a non-linear space (Lab)
 * would not. */
NST_API void nst_image_match_colors(nst_image *img, const nst_image *target);

/* Colour control of stylize and apply: none; luminance (the styled
 * luminance on the photo's chrominance, after the transfer); histogram
 * (stylize: the paintings recoloured to the photo's colour statistics
 * before the transfer; apply: the result recoloured to the photo's). */
enum { NST_COLOR_NONE = 0, NST_COLOR_LUMINANCE = 1, NST_COLOR_HISTOGRAM = 2 };
/* The colour step after a transfer: LUMINANCE keeps photo's chrominance
 * (nst_image_keep_colors), HISTOGRAM gives styled photo's colour moments
 * (nst_image_match_colors), NONE does nothing. Same sizes; in place. */
NST_API void nst_image_color_control(nst_image *styled, const nst_image *photo, int mode);

/* ---- regions: a style per part of the picture ------------------------
 * Spatial control (Gatys et al. 2017, "Controlling Perceptual Factors in
 * Neural Style Transfer"): a mask splits the photo into regions, each with
 * its own painting or none. Region r has a weight m_r(p) at each pixel p,
 * the weights of a pixel summing to 1, so soft edges blend two regions. */
#define NST_MAX_REGIONS 16
typedef struct {
    int n, w, h;
    float *weight; /* n planes of h*w; owned, freed by nst_regions_free */
} nst_regions;

/* A region's label in a mask: "#rrggbb", "#rgb", a colour name (black,
 * white, grey/gray, red, green, blue, yellow, cyan, magenta) or a grey
 * level 0..255; rgb gets 0..255 values. */
NST_API int nst_mask_label(const char *label, float rgb[3], nst_error *err);
/* The regions of a mask image for n label colours (nst_mask_label). A grey
 * mask with grey labels is soft: a pixel between two labels' levels is
 * shared between them linearly (a blurred or painted-over edge blends).
 * Otherwise each pixel belongs to the label nearest its colour. Then the
 * weights are feathered by a box blur of radius `feather` mask pixels (0:
 * none) so that no seam shows. A label that no pixel carries is an error
 * naming it (a mistyped colour). Free out with nst_regions_free. */
NST_API int nst_regions_from_mask(const nst_image *mask, const float (*labels)[3], int n, int feather,
                                  nst_regions *out, nst_error *err);
NST_API void nst_regions_free(nst_regions *r);
/* out = sum_r m_r * images[r], the weights resized to photo's size; a NULL
 * images[r] is the photo itself (a region left unpainted). Every image is
 * photo's size. out is allocated (nst_image_free). */
NST_API int nst_regions_blend(const nst_regions *r, const nst_image *const *images, const nst_image *photo,
                              nst_image *out, nst_error *err);

/* ---- loss networks ---------------------------------------------------- */

typedef struct nst_net nst_net; /* a loaded loss network (see src/models/net.h) */

/* Load a loss network from a TensorFlow.js layers model (a directory holding
 * model.json, or the model.json itself), a torchvision VGG16/VGG19
 * state_dict written by torch.save (.pth), or the same in safetensors. */
NST_API int nst_net_load(const char *path, nst_net **net, nst_error *err);
NST_API void nst_net_free(nst_net *net);
/* Index of the layer called `name` (e.g. "relu4_2", "leaky_re_lu_10"), or -1. */
NST_API int nst_net_find_layer(const nst_net *net, const char *name);
NST_API int nst_net_layer_count(const nst_net *net);
NST_API const char *nst_net_layer_name(const nst_net *net, int i);
NST_API int nst_net_layer_channels(const nst_net *net, int i); /* output channels */
NST_API const char *nst_net_name(const nst_net *net);

/* ---- models on disk --------------------------------------------------- */

/* Where models are looked for, in order: each directory of $NST_MODELS
 * (colon-separated), the install directory (nst_models_dir), and the local
 * mirrors: $NST_MIRROR, ./../shared/models and <nst binary>/../../shared/models.
 * Calls each(dir, user) for every one (dir is valid during the call; each
 * may be NULL) and returns their number. */
NST_API int nst_models_search_path(void (*each)(const char *dir, void *user), void *user);
/* The install directory: $NST_HOME/models, else $XDG_DATA_HOME/nst/models,
 * else ~/.local/share/nst/models. */
NST_API void nst_models_dir(char *out, size_t outsz);
/* Resolve a model name ("darknet-tiny", "vgg19") or a path to the path that
 * nst_net_load takes. */
NST_API int nst_models_resolve(const char *name_or_path, char *out, size_t outsz,
                               nst_error *err);

/* Models that `nst models install` knows, with their public origin. */
typedef struct {
    const char *name, *kind, *description;
} nst_model_info;
NST_API int nst_models_known(const nst_model_info **list);

/* Install a known model into dest (NULL: nst_models_dir()). Each file comes
 * from `mirror` (a directory holding <name>/<file>, fast/<name>/<file> for
 * the style networks, or NULL to try the
 * default mirrors) when it is there, else from the public origin; every file
 * is checked against its recorded sha256. The model appears only when
 * complete (staging directory + rename). `log` gets one line per file. */
NST_API int nst_models_install(const char *name, const char *dest, const char *mirror,
                               void (*log)(const char *line), nst_error *err);

/* ---- optimisation-based style transfer -------------------------------- */

enum { NST_OPT_LBFGS = 0, NST_OPT_ADAM = 1 };
enum { NST_POOL_MAX = 0, NST_POOL_AVG = 1 };
enum { NST_PAD_ZERO = 0, NST_PAD_REFLECT = 1 };
enum { NST_INIT_CONTENT = 0, NST_INIT_NOISE = 1, NST_INIT_IMAGE = 2 };
/* Arithmetic of the loss network: float32, or bfloat16 activations and
 * convolutions (AVX512-BF16 / AMX CPUs; losses and the image stay float32). */
enum { NST_PRECISION_FP32 = 0, NST_PRECISION_BF16 = 1 };
/* Upsampling in a style network: nearest x2 + convolution (no checkerboard)
 * or transposed convolution (the ml5 networks); AUTO: nearest for a new
 * network, else the network's own. */
enum { NST_UPSAMPLE_AUTO = 0, NST_UPSAMPLE_NEAREST = 1, NST_UPSAMPLE_DECONV = 2 };

#define NST_MAX_LAYERS 16
#define NST_MAX_STYLES 16

typedef struct {
    int iteration, total;    /* 1-based iteration of this scale, its count */
    int scale, scales;       /* 1-based scale index and count */
    double loss, content, style, tv; /* weighted terms; loss is their sum
                                      * (with the temporal term, if any) */
    double elapsed, remaining;       /* seconds; remaining < 0: not known yet (it is
                                      * measured from the iterations after the first two) */
    const nst_image *image;  /* current image (valid during the call) */
} nst_progress;

typedef void (*nst_progress_fn)(const nst_progress *p, void *user);

typedef struct {
    /* layers: names resolved against the network */
    int n_content_layers;
    char content_layers[NST_MAX_LAYERS][64];
    int n_style_layers;
    char style_layers[NST_MAX_LAYERS][64];
    float style_layer_weights[NST_MAX_LAYERS]; /* per style layer, default 1 */
    float style_blend[NST_MAX_STYLES];         /* per style image, normalised to sum 1 */
    float content_weight, style_weight, tv_weight;
    int iterations;      /* per scale */
    int optimizer;       /* NST_OPT_* */
    float learning_rate; /* Adam step, or L-BFGS step scale */
    int lbfgs_history;
    int init;            /* NST_INIT_* */
    const nst_image *init_image; /* for NST_INIT_IMAGE */
    uint64_t seed;
    int pooling;         /* NST_POOL_* */
    int padding;         /* NST_PAD_* */
    int precision;       /* NST_PRECISION_* */
    int scales;          /* coarse-to-fine pyramid levels, >= 1 */
    int size;            /* long side of the output */
    float style_scale;   /* style image long side = style_scale * size */
    int color_transfer;  /* NST_COLOR_* */
    int report_every;    /* call progress every N iterations and after the last of each
                          * scale (default 1; 0: never) */
    nst_progress_fn progress;
    void *progress_user;
    /* Checkpoints and cancellation, for long runs that a service interrupts. */
    const char *checkpoint; /* safetensors file: the image and the optimiser state */
    int checkpoint_every;   /* write `checkpoint` (atomically) every N iterations (0: never) */
    int resume;             /* continue from `checkpoint`; ends as the uninterrupted run does */
    nst_cancel_flag *cancel; /* when *cancel turns nonzero, stop with NST_ERR_CANCELLED
                              * at the next iteration (NULL: never) */
    /* Video (Ruder et al. 2016): the loss adds temporal_weight * the mean over
     * pixels and channels of mask * ((x - target) / 255)^2, holding x to the
     * previous frame's result warped into this one (target) where the flow
     * is reliable (mask, weights 0..1). Both images have the content's
     * aspect and are resized to each scale. NULL: no such term. */
    const nst_image *temporal_target, *temporal_mask;
    float temporal_weight;
    /* Regions (NULL: one style everywhere, the styles blended by
     * style_blend): region r is painted in styles[region_style[r]], or kept
     * as the photo where region_style[r] is -1. Each style layer's Gram
     * matrix becomes one per region, weighted by the region's guidance
     * channel (the weights resized to the layer):
     *   G_r = sum_p m_r(p) F_p F_p^T / (C sum_p m_r(p)),
     * matched to its own painting's Gram, each region's loss weighted by
     * its share of the picture; unpainted regions get the photo's pixels,
     * blended by their weights. */
    const nst_regions *regions;
    int region_style[NST_MAX_REGIONS];
} nst_stylize_params;

/* Defaults tuned for darknet-tiny at 512 px. */
NST_API void nst_stylize_params_init(nst_stylize_params *p);
/* Fill the layer defaults that suit `net` (darknet-tiny or VGG). */
NST_API void nst_stylize_default_layers(nst_stylize_params *p, const nst_net *net);

/* Paint `content` in the style of styles[0..n_styles-1]. The result has the
 * content's aspect ratio and long side p->size. */
NST_API int nst_stylize(const nst_net *net, const nst_image *content,
                        const nst_image *styles, int n_styles,
                        const nst_stylize_params *p, nst_image *out, nst_error *err);

/* The bytes that nst_stylize would allocate at its peak for a content of
 * content_w x content_h (the loss network's plans, the optimiser's state,
 * the images), computed without allocating them: for a service that
 * refuses jobs which would not fit. Only the styles' w and h are read.
 * oneDNN's own scratch memory (a few MB) is not counted. */
NST_API int nst_stylize_memory(const nst_net *net, int content_w, int content_h, const nst_image *styles, int n_styles,
                               const nst_stylize_params *p, double *bytes, nst_error *err);

/* ---- feed-forward style networks (nst apply) ---------------------------- */

typedef struct nst_generator nst_generator; /* see src/models/generator.h */

/* Load a style network of fast-style-transfer (Johnson et al. 2016) from a
 * deeplearn.js checkpoint directory (manifest.json + one file per variable),
 * the format of ml5.js' style networks, or from a file written by nst_train
 * (either upsampling, as its architecture metadata says). */
NST_API int nst_generator_load(const char *path, nst_generator **gen, nst_error *err);
NST_API void nst_generator_free(nst_generator *gen);

typedef struct {
    int size;            /* long side of the output; 0 keeps the input's size */
    float strength;      /* 0..1: out = strength * styled + (1 - strength) * input */
    int color_transfer;  /* NST_COLOR_* */
    int tile;            /* larger images run in overlapping tiles of at most
                          * this side (multiple of 4, >= 64); 0: automatic */
} nst_apply_params;

/* size 0, strength 1, no colour keeping, automatic tiles. */
NST_API void nst_apply_params_init(nst_apply_params *p);
/* Paint `in` with the network's style in one forward pass. */
NST_API int nst_apply(const nst_generator *gen, const nst_image *in, const nst_apply_params *p,
                      nst_image *out, nst_error *err);

/* ---- arbitrary style (nst apply --style) -------------------------------- */
/* Any painting in one pass (Ghiasi et al. 2017, Magenta's arbitrary image
 * stylisation, TensorFlow Lite): a style-prediction network turns the
 * painting into a style vector, a transfer network conditioned on it paints
 * the photo. */

typedef struct nst_arbitrary nst_arbitrary; /* see src/feedforward/arbitrary.h */
#define NST_STYLE_VECTOR_MAX 256

/* Load the pair from a directory holding style_predict*.tflite and
 * style_transfer*.tflite (the float16 transfer network preferred), or
 * from the path of either file (the other is looked for beside it). */
NST_API int nst_arbitrary_load(const char *path, nst_arbitrary **out, nst_error *err);
NST_API void nst_arbitrary_free(nst_arbitrary *a);
/* Length of a style vector (100 for Magenta's pair). */
NST_API int nst_style_vector_size(const nst_arbitrary *a);
/* The style vector of a painting: resized so its short side is 256 px,
 * centre-cropped to 256 x 256, run through the predictor. v gets
 * nst_style_vector_size(a) floats. */
NST_API int nst_style_vector(const nst_arbitrary *a, const nst_image *painting, float *v, nst_error *err);
/* The style vector of a file: a saved vector (.json, nst_style_vector_load)
 * or a painting (nst_style_vector). */
NST_API int nst_style_vector_of_file(const nst_arbitrary *a, const char *path, float *v, nst_error *err);
/* v = sum_k w_k v_k / sum_k w_k over n vectors (weights NULL: equal). */
NST_API void nst_style_vector_blend(int size, int n, const float *const *vectors, const float *weights,
                                    float *v);
/* A style vector as JSON ({"format": "nst-style-vector", "size": N,
 * "vector": [...]}), written atomically / read back (size checked). */
NST_API int nst_style_vector_save(const char *path, const float *v, int size, nst_error *err);
NST_API int nst_style_vector_load(const char *path, float *v, int size, nst_error *err);
/* Paint `in` with style vector `style` in one pass. p's strength s
 * interpolates style vectors, as Magenta does (not pixels): the network
 * gets s * style + (1 - s) * (the photo's own style vector); size, tiles
 * and original colours as nst_apply. */
NST_API int nst_arbitrary_apply(const nst_arbitrary *a, const nst_image *in, const float *style,
                                const nst_apply_params *p, nst_image *out, nst_error *err);

/* ---- training style networks (nst train) -------------------------------- */

typedef struct {
    int iteration, total;            /* 1-based iteration, the last one */
    double loss, content, style, tv; /* weighted terms, batch mean; loss is their sum */
    double images_per_sec, elapsed, remaining; /* this run; seconds */
} nst_train_progress;

typedef struct {
    /* the loss, as in nst stylize: content and style layers, their weights,
     * content/style/tv weights, padding and pooling (other fields unused) */
    nst_stylize_params loss;
    const char *content_dir; /* training photos (unreadable files are skipped) */
    const char *output;      /* the network, in nst's format (also the checkpoint) */
    const char *init_net;    /* start from this network, or NULL: random N(0, 0.1) */
    int upsample;            /* NST_UPSAMPLE_*: layers 13-14 of a new network; with
                              * init_net or resume, the network's own (AUTO) or an
                              * error if they differ */
    int resume;              /* continue from the checkpoint at output */
    int iterations, batch_size;
    int crop;                /* random crop_size x crop_size crops */
    int style_size;          /* long side of the style image (0: crop) */
    float learning_rate;     /* Adam */
    uint64_t seed;           /* photo order, crops and initial weights */
    int checkpoint_every;    /* write output every N iterations (0: only at the end) */
    const char *loss_csv;    /* iteration,total,content,style,tv,seconds or NULL */
    const char *loss_plot;   /* PNG of the losses (log scale) or NULL */
    int report_every;        /* call progress every N iterations (0: never) */
    void (*progress)(const nst_train_progress *p, void *user);
    void (*warn)(const char *msg, void *user); /* skipped files */
    void *user;
    /* Data-parallel training over `shards` processes (an MPI job; the
     * caller supplies the collective, so libnst itself needs no MPI): this
     * process is shard `shard`. Every iteration draws the global batch of
     * shards x batch_size crops from the seeded stream and takes crops
     * shard x batch_size onwards; sum(buf, n, user) must replace buf by its
     * element-wise sum over the shards (MPI_Allreduce) and is called by all
     * shards together: once for the initial weights (shard 0's), then once
     * per iteration on one buffer of the gradients and the loss terms, which
     * are averaged, so Adam takes the same step everywhere. Only shard 0
     * writes the network, the loss CSV and the plot; with resume every shard
     * reads the checkpoint (a shared file system). shards 0 or 1: alone. */
    int shard, shards;
    int (*sum)(float *buf, size_t n, void *user);
} nst_train_params;

/* 2000 iterations of batch 4, 256 px crops, Adam 1e-3, stylize's loss with
 * style weight 50, a checkpoint every 100 iterations; layers are left empty:
 * nst_train then takes nst_stylize_default_layers for its net. */
NST_API void nst_train_params_init(nst_train_params *p);
/* Train a feed-forward style network (Johnson et al. 2016) for `style` with
 * the loss network `net`; writes p->output (loadable by nst_generator_load). */
NST_API int nst_train(const nst_net *net, const nst_image *style, const nst_train_params *p,
                      nst_error *err);

/* ---- video (nst video) ---------------------------------------------------
 * A clip is stylised frame by frame through one nst_video, which keeps what
 * the next frame needs: the previous input and output, the optical flow
 * between them and (feed-forward) the network's plan, built once for the
 * frame size. With temporal consistency (Ruder et al. 2016) each output
 * holds to the previous output warped by the flow where the flow is
 * reliable (a forward-backward check marks occlusions); a scene cut resets
 * that history. */

enum { NST_VIDEO_NET = 0, NST_VIDEO_OPTIMIZE = 1, NST_VIDEO_ARBITRARY = 2 };

typedef struct {
    int method;                 /* NST_VIDEO_NET, NST_VIDEO_OPTIMIZE or NST_VIDEO_ARBITRARY */
    /* NST_VIDEO_NET: a style network and nst_apply's options (size unused:
     * frames are painted at the size they come in) */
    const nst_generator *net;
    nst_apply_params apply;
    /* NST_VIDEO_ARBITRARY: the arbitrary-style pair and a style vector (any
     * painting, nst_style_vector), with the same apply options */
    const nst_arbitrary *arbitrary;
    const float *style_vector;
    /* NST_VIDEO_OPTIMIZE: a loss network, the styles and nst_stylize's
     * options (size unused); each frame starts from the previous output
     * warped by the flow and gets `iterations` L-BFGS steps (the first frame
     * and the first after a cut: iterations_first) */
    const nst_net *loss_net;
    const nst_image *styles;
    int n_styles;
    nst_stylize_params stylize;
    int iterations_first;
    /* Temporal consistency, 0 (per frame) .. 1: for NET and ARBITRARY, the weight of the
     * warped previous output in each reliable pixel; for OPTIMIZE, the
     * temporal loss weight is temporal * NST_VIDEO_TEMPORAL_LOSS. */
    float temporal;
    float scene_cut;   /* mean change in grey levels (reliable pixels, the input
                        * against its warped predecessor) that marks a cut */
    int measure;       /* compute the flow and warping errors even when temporal = 0 */
    /* Regions (NET and ARBITRARY; an optimisation takes stylize.regions):
     * region r is painted by region_net[r], else with the style vector
     * region_style[r] and `arbitrary`, else (both NULL) kept as the frame;
     * the paintings are blended by the regions' weights, then held to the
     * previous frame as one picture. net / style_vector are then unused. */
    const nst_regions *regions;
    const nst_generator *region_net[NST_MAX_REGIONS];
    const float *region_style[NST_MAX_REGIONS];
} nst_video_params;

/* The optimisation's temporal loss weight at temporal = 1. */
#define NST_VIDEO_TEMPORAL_LOSS 1000.0f

typedef struct {
    int index;              /* 0-based frame number in the clip */
    int cut;                /* history reset here (the first frame, a scene cut) */
    double reliable;        /* share of pixels whose flow passed the check */
    double change;          /* the input's mean change against its warped predecessor */
    /* warping error (Lai et al. 2018) against the previous frame: mean over
     * reliable pixels of the squared difference (values 0..1) between this
     * frame and the previous one warped by the input's flow; -1 when not
     * measured (a first frame or a cut) */
    double warp_error, warp_error_input;
    double t_flow, t_paint, t_blend; /* seconds spent on this frame */
} nst_video_frame_info;

typedef struct nst_video nst_video;

/* NET, temporal 0.6, scene cut at 20 grey levels, iterations_first = 2 x
 * the stylize defaults' iterations; apply and stylize defaults. */
NST_API void nst_video_params_init(nst_video_params *p);
/* A stylizer for frames of w x h (even sizes not required). p and what it
 * points to (net, styles) must outlive v. Use v from the thread that opened
 * it only: the oneDNN primitives of its plan are bound to that thread's
 * OpenMP pool (painting from another thread crashed inside oneDNN). Several
 * nst_video on different threads are fine. */
NST_API int nst_video_open(const nst_video_params *p, int w, int h, nst_video **v, nst_error *err);
/* Paint the next frame of the clip into out (allocated by the call, freed
 * with nst_image_free); info (may be NULL) says what happened. */
NST_API int nst_video_frame(nst_video *v, const nst_image *in, nst_image *out, nst_video_frame_info *info,
                            nst_error *err);
NST_API void nst_video_close(nst_video *v);

/* ---- video files ----------------------------------------------------------
 * nst_video_file: decode a clip with FFmpeg's libraries (anything FFmpeg
 * reads: MP4, MKV, WebM, MOV, GIF, an image sequence such as
 * frames/%04d.png, a V4L2 camera /dev/videoN), paint every frame through
 * nst_video, and encode by the output's extension: .mp4 (H.264 yuv420p,
 * +faststart), .webm (VP9), .gif, or a PNG sequence pattern (frames/%04d.png).
 * Timestamps (variable frame rates too), display rotation and sample
 * aspect ratio are kept; the audio is copied when the container takes it,
 * else re-encoded. The output appears under its name only when complete. */

typedef struct {
    int frame, total;       /* frames done (1-based), expected (0: unknown) */
    double fps, elapsed, remaining; /* frames per second so far; seconds */
    const nst_video_frame_info *info; /* the last frame's */
} nst_video_progress;

typedef struct {
    double start, duration; /* the cut, in seconds (duration 0: to the end) */
    int size;               /* long side of the frames, 0: the input's (sides even) */
    int crf;                /* the encoder's constant rate factor, -1: its default */
    int audio;              /* carry the input's audio over (default 1) */
    /* resume: continue a run that stopped, from the last finished frame of
     * its work directory (OUT.nst-work, kept while an optimisation runs and
     * removed when the output is complete); ends with the frames an
     * uninterrupted run writes */
    int resume;
    /* A clip in parts (the ranks of an MPI job): with chunks > 1, paint
     * only part `chunk` (0-based) of `chunks` contiguous parts of the cut
     * into the work directory, starting `warmup` frames before the part
     * (-1: NST_VIDEO_WARMUP; at most the part before). A feed-forward
     * part drops them: the temporal history it hands on is then nearly an
     * unsplit run's. An optimisation's history does not fade, so its
     * warm-up frames are cross-faded into the end of the part before: the
     * seam is a dissolve. With resume, a finished part is skipped and a
     * stopped one goes on. nst_video_assemble then makes the output. */
    int chunk, chunks, warmup;
    nst_cancel_flag *cancel; /* nonzero: stop after the current frame, NST_ERR_CANCELLED */
    void (*progress)(const nst_video_progress *p, void *user); /* after each frame */
    void *user;
} nst_video_file_params;

/* What a run measured. Warping errors are means over the measured frames. */
typedef struct {
    int w, h, frames, cuts, measured;
    int resumed;            /* of the frames, those a stopped run had finished */
    double warp_error, warp_error_input;
    double seconds, fps;
    double t_decode, t_flow, t_paint, t_blend, t_encode; /* seconds in each stage */
} nst_video_report;

#define NST_VIDEO_WARMUP 8

/* What a clip holds, read from its headers (no frame is decoded). */
typedef struct {
    int w, h;           /* frame size as decoded (before display rotation) */
    double fps;         /* average frame rate (0: unknown) */
    double duration;    /* seconds (0: unknown, e.g. a camera) */
    long frames;        /* expected frame count (0: unknown) */
    int has_audio;
} nst_video_info;
/* Open `path` as a video; errors name the file (not a video, no video
 * stream, an unsupported codec, a truncated header). */
NST_API int nst_video_probe(const char *path, nst_video_info *info, nst_error *err);

/* no cut, the input's size, the encoder's quality, audio kept, one part. */
NST_API void nst_video_file_params_init(nst_video_file_params *p);
/* Paint the clip `in` into `out`; report (may be NULL) gets the figures. */
NST_API int nst_video_file(const char *in, const char *out, const nst_video_params *vp,
                           const nst_video_file_params *fp, nst_video_report *report, nst_error *err);
/* Encode the finished parts of a chunked run (the same vp and fp, any
 * chunk) into `out`, the clip one unsplit run would make up to the seams,
 * and remove the work directory. An error names a part missing or stopped. */
NST_API int nst_video_assemble(const char *in, const char *out, const nst_video_params *vp,
                               const nst_video_file_params *fp, nst_error *err);

#ifdef __cplusplus
}
#endif
#endif
