/* io.h: reading weights from the formats users have: TensorFlow.js layers
 * models, torch.save state_dicts (.pth) and safetensors. Each reader returns
 * a dictionary of named float32 tensors; the readers know file formats, not
 * networks (src/models/ turns a dictionary into a network). */
#ifndef NST_IO_H
#define NST_IO_H

#include <stddef.h>
#include <stdint.h>

#include "nst.h"

#define NST_MAX_DIMS 8

typedef struct {
    char *name;
    int ndim;
    int64_t shape[NST_MAX_DIMS];
    size_t numel;
    float *data; /* owned, row-major, numel floats */
} tensor;

typedef struct {
    int count, cap;
    tensor *t;
    char path[1024]; /* file the readers filled it from (for messages), or "" */
    char *metadata;  /* safetensors: the __metadata__ object as JSON text, or NULL */
} tensor_dict;

/* tensor_dict.c */
const tensor *dict_get(const tensor_dict *d, const char *name);
/* Append a tensor (copies name and shape, takes ownership of data). */
int dict_add(tensor_dict *d, const char *name, int ndim,
                 const int64_t *shape, float *data, nst_error *err);
void dict_free(tensor_dict *d);

/* torch_loader.c: a state_dict written by torch.save (zip archive with
 * archive/data.pkl and archive/data/N storages). float32, float16 and
 * bfloat16 storages are converted to float32; views (offset, strides) are
 * honoured. The pickle is read by a small interpreter (pickle.c) that
 * understands only what state_dicts contain and rejects anything else. */
int torch_load(const char *path, tensor_dict *out, nst_error *err);

/* safetensors.c: u64 header length, JSON header, raw little-endian data.
 * F32, F16 and BF16 are converted to float32. */
int safetensors_load(const char *path, tensor_dict *out, nst_error *err);
/* safetensors_save.c: write d as F32 with __metadata__ pairs meta[0..2n-1]
 * (key, value, ...; strings) to a temporary file beside path, renamed into
 * place, so a failed save never leaves a partial file. */
int safetensors_save(const char *path, const tensor_dict *d, const char *const *meta,
                         int n_meta, nst_error *err);

/* tfjs_loader.c: a TensorFlow.js layers model: model.json (Keras topology +
 * weightsManifest) and its weight shards. Weights are read by name from the
 * manifest groups (shards of a group concatenated in order). */
typedef struct {
    char class_name[64]; /* Keras class: Conv2D, BatchNormalization, ... */
    char name[64];
    char inbound[64];    /* name of the single inbound layer, "" if none */
    /* the config fields that matter to us; absent ones take Keras' defaults
     * (use_bias 1, strides 1 or the pool size, alpha 0.3, epsilon 1e-3) */
    int filters, kernel_h, kernel_w, stride_h, stride_w;
    int pool_h, pool_w;
    int same_padding;    /* padding == "same" */
    int use_bias;
    char activation[32]; /* Conv2D activation, e.g. "linear", "relu" */
    float alpha;         /* LeakyReLU */
    float epsilon;       /* BatchNormalization */
    int channels_last;   /* data_format == "channels_last" */
} keras_layer;

typedef struct {
    int n_layers;
    keras_layer *layers; /* in topological (file) order */
    tensor_dict weights; /* "conv2d_1/kernel", "batch_normalization_1/gamma", ... */
    char path[1024];         /* the model.json read */
} tfjs_model;

/* `path` is a directory holding model.json or the model.json file itself. */
int tfjs_load(const char *path, tfjs_model *out, nst_error *err);
void tfjs_free(tfjs_model *m);

/* dljs_loader.c: a deeplearn.js checkpoint directory (ml5.js' style
 * networks): manifest.json maps each variable name to {filename, shape};
 * each file is raw little-endian float32, row-major in that shape. File
 * names must be plain names inside `dir`. out->path is the manifest. */
int dljs_load(const char *dir, tensor_dict *out, nst_error *err);

/* fetch.c: files from their public origin or a local mirror. */
/* sha256 of a file as 64 lowercase hex digits. */
int sha256_file(const char *path, char hex[65], nst_error *err);
/* Download url to path (temporary file + rename). */
int download_file(const char *url, const char *path, nst_error *err);
/* Copy a file (temporary file + rename). */
int copy_file(const char *src, const char *dst, nst_error *err);

#endif
