/* test_loaders.c: .pth / safetensors / TF.js readers and the VGG and Keras
 * builders, against fixtures written by PyTorch (tests/pytorch/gen_loaders.py)
 * and the shared darknet-tiny model; malformed inputs must fail cleanly. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "io/io.h"
#include "models/net.h"
#include "testutil.h"

static const char *tmpdir; /* the temporary directory */

static void net_release(struct nst_net *n) {
    graph_free(n);
    memset(n, 0, sizeof *n);
}

static const char *fixture(const char *name) {
    static char path[4][1024];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, 1024, "%s/%s", NST_FIXTURES, name);
    return p;
}

/* Copy the first `len` bytes of src (all when len is (size_t)-1). */
static void copy_prefix(const char *src, const char *dst, size_t len) {
    size_t n;
    unsigned char *b = tu_read_file(src, &n);
    CHECK(b != NULL, "cannot read %s", src);
    if (!b) return;
    tu_write_file(dst, b, len < n ? len : n);
    free(b);
}

/* A zip with members names[i] = data[i]; stored uncompressed like torch.save. */
static void write_zip(const char *path, int n, const char *const *names,
                      const unsigned char *const *data, const size_t *len) {
    int zerr;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    CHECK(z != NULL, "cannot create %s", path);
    if (!z) return;
    for (int i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(z, data[i], len[i], 0);
        CHECK(s && zip_file_add(z, names[i], s, ZIP_FL_OVERWRITE) >= 0, "zip add %s", names[i]);
    }
    CHECK(zip_close(z) == 0, "zip close %s", path);
}

/* Expect failure with a message naming `path` and containing `what`. */
static void expect_error(int rc, const nst_error *err, const char *path, const char *what,
                         const char *ctx) {
    CHECK(rc != 0, "%s: loaded, expected an error", ctx);
    if (!rc) return;
    CHECK(strstr(err->msg, path) != NULL, "%s: message does not name %s: %s", ctx, path, err->msg);
    CHECK(!what || strstr(err->msg, what) != NULL, "%s: message lacks '%s': %s", ctx, what, err->msg);
}

static void check_same(const tensor *t, const tensor *want, const char *what) {
    /* fixture.py stores a 0-d tensor as [1] (np.ascontiguousarray is >= 1-d) */
    int scalar = t && t->ndim == 0 && want->ndim == 1 && want->numel == 1;
    int ok = t && (t->ndim == want->ndim || scalar) && t->numel == want->numel;
    for (int k = 0; ok && !scalar && k < t->ndim; k++) ok = t->shape[k] == want->shape[k];
    CHECK(ok, "%s: missing or wrong shape", what);
    if (ok) tu_close(what, t->data, want->data, t->numel, 1e-30f, 0);
}

/* Every "<prefix>/<key>" of the fixture must be in d, equal; and nothing else. */
static void check_against(const tensor_dict *d, const tensor_dict *fx, const char *prefix) {
    int n = 0;
    size_t pl = strlen(prefix);
    for (int i = 0; i < fx->count; i++) {
        if (strncmp(fx->t[i].name, prefix, pl) || fx->t[i].name[pl] != '/') continue;
        check_same(dict_get(d, fx->t[i].name + pl + 1), &fx->t[i], fx->t[i].name);
        n++;
    }
    CHECK(d->count == n, "%s: %d tensors, fixture has %d", prefix, d->count, n);
}

static void test_pth_and_safetensors(const tensor_dict *fx) {
    nst_error err;
    tensor_dict pth = {0}, st = {0}, v16 = {0};
    CHECK(torch_load(fixture("vgg19_tiny.pth"), &pth, &err) == 0, "pth: %s", err.msg);
    CHECK(safetensors_load(fixture("vgg19_tiny.safetensors"), &st, &err) == 0, "st: %s", err.msg);
    CHECK(torch_load(fixture("vgg16_tiny.pth"), &v16, &err) == 0, "vgg16: %s", err.msg);
    CHECK(pth.count == 32 && st.count == 32 && v16.count == 26, "counts %d %d %d", pth.count,
          st.count, v16.count);
    CHECK(strcmp(pth.path, fixture("vgg19_tiny.pth")) == 0, "dict path %s", pth.path);
    check_against(&pth, fx, "vgg19");
    check_against(&st, fx, "vgg19");
    check_against(&v16, fx, "vgg16");
    const tensor *w = dict_get(&pth, "features.34.weight");
    CHECK(w && w->ndim == 4 && w->shape[0] == 8 && w->shape[1] == 8 && w->shape[2] == 3,
          "features.34.weight shape");
    dict_free(&pth);
    dict_free(&st);
    dict_free(&v16);
}

static void test_views(const tensor_dict *fx) {
    nst_error err;
    tensor_dict d = {0};
    CHECK(torch_load(fixture("views.pth"), &d, &err) == 0, "views: %s", err.msg);
    check_against(&d, fx, "views");
    const tensor *t = dict_get(&d, "transposed"), *s = dict_get(&d, "slice");
    const tensor *sc = dict_get(&d, "scalar");
    /* base = arange(12).reshape(3, 4) * 0.5 - 1: transposed[i][j] = base[j][i] */
    CHECK(t && t->shape[0] == 4 && t->shape[1] == 3 && t->data[1] == 1.0f && t->data[3] == -0.5f,
          "transposed view");
    /* slice = base[1:, 1:3]: offset 5, rows of stride 4 */
    CHECK(s && s->shape[0] == 2 && s->shape[1] == 2 && s->data[0] == 1.5f && s->data[3] == 4.0f,
          "offset slice");
    CHECK(sc && sc->ndim == 0 && sc->numel == 1 && sc->data[0] == 3.25f, "0-d tensor");
    dict_free(&d);
}

static void test_vgg_builder(void) {
    nst_error err;
    tensor_dict d = {0};
    struct nst_net net;
    CHECK(torch_load(fixture("vgg19_tiny.pth"), &d, &err) == 0, "%s", err.msg);
    CHECK(net_from_vgg(&d, &net, &err) == 0, "vgg19: %s", err.msg);
    CHECK(strcmp(net.name, "vgg19") == 0, "name %s", net.name);
    CHECK(net.n_nodes == 16 * 2 + 5, "vgg19 has %d layers", net.n_nodes);
    static const char *names19[] = {
        "conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1", "conv2_1", "relu2_1", "conv2_2",
        "relu2_2", "pool2", "conv3_1", "relu3_1", "conv3_2", "relu3_2", "conv3_3", "relu3_3",
        "conv3_4", "relu3_4", "pool3", "conv4_1", "relu4_1", "conv4_2", "relu4_2", "conv4_3",
        "relu4_3", "conv4_4", "relu4_4", "pool4", "conv5_1", "relu5_1", "conv5_2", "relu5_2",
        "conv5_3", "relu5_3", "conv5_4", "relu5_4", "pool5"};
    static const int idx19[] = {0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34};
    int conv = 0, cin = 3;
    size_t params = 0;
    for (int i = 0; i < net.n_nodes && i < 37; i++) {
        node *l = &net.nodes[i];
        CHECK(strcmp(l->name, names19[i]) == 0, "layer %d is %s, expected %s", i, l->name, names19[i]);
        if (names19[i][0] == 'c') {
            int block = names19[i][4] - '0', cout = (int[]){4, 6, 8, 8, 8}[block - 1];
            CHECK(l->op == OP_CONV && l->cin == cin && l->cout == cout && l->k == 3 &&
                      l->stride == 1 && l->bias,
                  "%s: conv %d->%d k%d", l->name, l->cin, l->cout, l->k);
            char key[64];
            snprintf(key, sizeof key, "features.%d.weight", idx19[conv]);
            const tensor *w = dict_get(&d, key);
            snprintf(key, sizeof key, "features.%d.bias", idx19[conv]);
            const tensor *b = dict_get(&d, key);
            CHECK(w && b && w->numel == (size_t)cout * cin * 9, "%s weights", l->name);
            if (w && b && l->op == OP_CONV) {
                tu_close(l->name, l->weight, w->data, w->numel, 1e-30f, 0);
                tu_close(key, l->bias, b->data, b->numel, 1e-30f, 0);
                params += w->numel + b->numel;
            }
            cin = cout;
            conv++;
        } else if (names19[i][0] == 'r') {
            CHECK(l->op == OP_ACT && l->alpha == 0.0f && l->cin == cin && l->cout == cin,
                  "%s: relu", l->name);
        } else {
            CHECK(l->op == OP_POOL && l->k == 2 && l->stride == 2 && l->cout == cin,
                  "%s: pool", l->name);
        }
    }
    CHECK(net.n_params == params, "n_params %zu, expected %zu", net.n_params, params);
    /* pixel 255 * 0.485 of channel 0 maps to 0; 255 maps to (1 - mean) / std */
    CHECK(fabsf(255 * 0.485f * net.in_scale[0] + net.in_shift[0]) < 1e-5f &&
              fabsf(255 * net.in_scale[2] + net.in_shift[2] - (1 - 0.406f) / 0.225f) < 1e-5f,
          "ImageNet normalisation");
    net_release(&net);
    dict_free(&d);

    CHECK(torch_load(fixture("vgg16_tiny.pth"), &d, &err) == 0, "%s", err.msg);
    CHECK(net_from_vgg(&d, &net, &err) == 0, "vgg16: %s", err.msg);
    CHECK(strcmp(net.name, "vgg16") == 0 && net.n_nodes == 13 * 2 + 5, "vgg16 %s %d", net.name,
          net.n_nodes);
    static const char *tail16[] = {"conv3_3", "relu3_3", "pool3", "conv4_1"};
    for (int i = 0; i < 4 && net.n_nodes == 31; i++)
        CHECK(strcmp(net.nodes[14 + i].name, tail16[i]) == 0, "vgg16 layer %d is %s", 14 + i,
              net.nodes[14 + i].name);
    CHECK(net.n_nodes == 31 && strcmp(net.nodes[30].name, "pool5") == 0, "vgg16 ends in pool5");
    net_release(&net);

    /* a missing bias and a conv whose input channels do not chain */
    tensor_dict bad = {0};
    snprintf(bad.path, sizeof bad.path, "%s", d.path);
    for (int i = 0; i < d.count; i++) {
        const tensor *t = &d.t[i];
        if (strcmp(t->name, "features.7.bias") == 0) continue;
        float *copy = malloc(t->numel * sizeof(float) + 1);
        memcpy(copy, t->data, t->numel * sizeof(float));
        dict_add(&bad, t->name, t->ndim, t->shape, copy, &err);
    }
    expect_error(net_from_vgg(&bad, &net, &err), &err, d.path, "features.7.bias", "missing bias");
    int64_t shape[4] = {6, 5, 3, 3};
    dict_add(&bad, "features.7.bias", 1, shape, calloc(6, sizeof(float)), &err);
    tensor *w5 = (tensor *)dict_get(&bad, "features.5.weight");
    free(w5->data);
    w5->data = calloc(6 * 5 * 9, sizeof(float));
    w5->shape[1] = 5;
    w5->numel = 6 * 5 * 9;
    expect_error(net_from_vgg(&bad, &net, &err), &err, d.path, "features.5.weight", "wrong shape");
    CHECK(strstr(err.msg, "[6, 5, 3, 3]") != NULL, "shape in message: %s", err.msg);
    dict_free(&bad);
    dict_free(&d);
}

/* ---- malformed .pth files --------------------------------------------- */

/* {'w': tensor(storage('0', type, numel), offset, size (3,), stride (1,))} */
static size_t tiny_pickle(unsigned char *p, int offset, int numel, const char *type) {
    size_t n = 0;
#define PUT(s) (memcpy(p + n, s, sizeof s - 1), n += sizeof s - 1)
    PUT("\x80\x02}q\x00(X\x01\x00\x00\x00w");
    PUT("ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\n");
    memcpy(p + n, type, strlen(type));
    n += strlen(type);
    PUT("\nX\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK");
    p[n++] = (unsigned char)numel;
    PUT("tQK");
    p[n++] = (unsigned char)offset;
    PUT("K\x03\x85K\x01\x85\x89}tRu.");
#undef PUT
    return n;
}

static void test_bad_pth(void) {
    nst_error err;
    tensor_dict d = {0};
    const char *path = tu_tmp_path("bad.pth");
    /* truncated archive: the central directory is gone */
    size_t full;
    unsigned char *orig = tu_read_file(fixture("vgg19_tiny.pth"), &full);
    tu_write_file(path, orig, full / 2);
    expect_error(torch_load(path, &d, &err), &err, path, "truncated", "truncated zip");
    /* corrupted storage bytes: the member's CRC no longer matches */
    unsigned char *cor = malloc(full);
    memcpy(cor, orig, full);
    for (size_t i = full / 2; i < full / 2 + 64; i++) cor[i] ^= 0x5a;
    tu_write_file(path, cor, full);
    expect_error(torch_load(path, &d, &err), &err, path, "CRC", "corrupted zip");
    free(cor);
    free(orig);
    /* garbage, a missing file, a bare pickle */
    unsigned char junk[256];
    for (int i = 0; i < 256; i++) junk[i] = (unsigned char)(i * 37 + 11);
    tu_write_file(path, junk, sizeof junk);
    expect_error(torch_load(path, &d, &err), &err, path, "not a torch.save", "garbage");
    expect_error(torch_load(tu_tmp_path("none.pth"), &d, &err), &err, tu_tmp_path("none.pth"),
                 NULL, "missing");
    tu_write_file(path, "\x80\x02}q\x00.", 6);
    expect_error(torch_load(path, &d, &err), &err, path, "legacy", "pre-1.6 format");

    /* hand-made pickles in valid archives */
    static const float four[4] = {10, 11, 12, 13};
    unsigned char pkl[512];
    const char *names[2] = {"t/data.pkl", "t/data/0"};
    const unsigned char *data[2] = {pkl, (const unsigned char *)four};
    size_t len[2] = {0, sizeof four};
    len[0] = tiny_pickle(pkl, 1, 4, "FloatStorage");
    write_zip(path, 2, names, data, len);
    CHECK(torch_load(path, &d, &err) == 0, "hand-made pickle: %s", err.msg);
    const tensor *w = dict_get(&d, "w");
    CHECK(w && w->numel == 3 && w->data[0] == 11 && w->data[2] == 13, "offset 1 of the storage");
    dict_free(&d);
    len[0] = tiny_pickle(pkl, 2, 4, "FloatStorage");
    write_zip(path, 2, names, data, len);
    expect_error(torch_load(path, &d, &err), &err, path, "past the end", "out-of-bounds view");
    len[0] = tiny_pickle(pkl, 0, 5, "FloatStorage");
    write_zip(path, 2, names, data, len);
    expect_error(torch_load(path, &d, &err), &err, path, "expected 5 elements", "short storage");
    len[0] = tiny_pickle(pkl, 0, 2, "LongStorage");
    write_zip(path, 2, names, data, len);
    expect_error(torch_load(path, &d, &err), &err, path, "torch.LongStorage", "int64 tensor");
    static const unsigned char evil[] = "\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00id\x85R.";
    data[0] = evil;
    len[0] = sizeof evil - 1;
    write_zip(path, 2, names, data, len);
    expect_error(torch_load(path, &d, &err), &err, path, "os.system", "code-running global");
    write_zip(path, 1, (const char *[]){"t/data/0"}, data + 1, len + 1);
    expect_error(torch_load(path, &d, &err), &err, path, "data.pkl", "no data.pkl");

    /* every truncation and many single-byte mutations of a real data.pkl:
     * never a crash; truncations always fail */
    int zerr;
    zip_t *z = zip_open(fixture("views.pth"), ZIP_RDONLY, &zerr);
    CHECK(z != NULL, "open views.pth");
    if (!z) return;
    const char *mnames[8];
    unsigned char *mdata[8];
    size_t mlen[8];
    int nm = (int)zip_get_num_entries(z, 0);
    CHECK(nm <= 8, "views.pth has %d members", nm);
    int pkl_i = -1;
    for (int i = 0; i < nm && i < 8; i++) {
        zip_stat_t st;
        zip_stat_index(z, (zip_uint64_t)i, 0, &st);
        mnames[i] = strdup(st.name);
        mlen[i] = st.size;
        mdata[i] = malloc(st.size + 1);
        zip_file_t *f = zip_fopen_index(z, (zip_uint64_t)i, 0);
        zip_fread(f, mdata[i], st.size);
        zip_fclose(f);
        if (strstr(st.name, "data.pkl")) pkl_i = i;
    }
    zip_close(z);
    CHECK(pkl_i >= 0, "views.pth has data.pkl");
    size_t plen = mlen[pkl_i];
    unsigned char *pk = mdata[pkl_i];
    int truncated_ok = 0, mutated = 0;
    for (size_t cut = 0; cut < plen; cut++) {
        mlen[pkl_i] = cut;
        write_zip(path, nm, mnames, (const unsigned char *const *)mdata, mlen);
        if (torch_load(path, &d, &err) == 0) {
            truncated_ok++;
            dict_free(&d);
        }
    }
    CHECK(truncated_ok == 0, "%d truncated pickles loaded", truncated_ok);
    mlen[pkl_i] = plen;
    static const unsigned char subst[] = {0x00, 0xff, 'K', 't', 0x80, '('};
    for (size_t i = 0; i < plen; i++) {
        unsigned char keep = pk[i];
        for (size_t s = 0; s < sizeof subst; s++) {
            if (subst[s] == keep) continue;
            pk[i] = subst[s];
            write_zip(path, nm, mnames, (const unsigned char *const *)mdata, mlen);
            if (torch_load(path, &d, &err) == 0) dict_free(&d);
            else CHECK(strstr(err.msg, path) != NULL, "mutation message names the file: %s", err.msg);
            mutated++;
        }
        pk[i] = keep;
    }
    printf("  %zu truncations and %d mutations of data.pkl handled\n", plen, mutated);
    for (int i = 0; i < nm && i < 8; i++) {
        free((char *)mnames[i]);
        free(mdata[i]);
    }
}

static void test_bad_safetensors(void) {
    nst_error err;
    tensor_dict d = {0};
    const char *path = tu_tmp_path("bad.safetensors");
    size_t full;
    unsigned char *orig = tu_read_file(fixture("vgg19_tiny.safetensors"), &full);
    tu_write_file(path, orig, full - 100);
    expect_error(safetensors_load(path, &d, &err), &err, path, "data_offsets", "truncated");
    tu_write_file(path, orig, 7);
    expect_error(safetensors_load(path, &d, &err), &err, path, NULL, "7 bytes");
    unsigned char *cor = malloc(full);
    memcpy(cor, orig, full);
    cor[5] = 0x7f; /* header length beyond the file */
    tu_write_file(path, cor, full);
    expect_error(safetensors_load(path, &d, &err), &err, path, "header length", "huge header");
    memcpy(cor, orig, full);
    unsigned char *dt = NULL;
    for (size_t i = 8; i + 5 <= full && !dt; i++)
        if (memcmp(cor + i, "\"F32\"", 5) == 0) dt = cor + i;
    CHECK(dt != NULL, "F32 in the header");
    if (dt) memcpy(dt, "\"I32\"", 5);
    tu_write_file(path, cor, full);
    expect_error(safetensors_load(path, &d, &err), &err, path, "I32", "int dtype");
    memcpy(cor, orig, full);
    cor[8] = '[';
    tu_write_file(path, cor, full);
    expect_error(safetensors_load(path, &d, &err), &err, path, NULL, "bad JSON");
    free(cor);
    free(orig);
}

/* ---- TensorFlow.js: darknet-tiny and hand-made models ------------------ */

static void test_darknet(void) {
    const char *dir = tu_shared("models/darknet-tiny");
    if (!dir) return;
    nst_error err;
    tfjs_model m = {0};
    struct nst_net net;
    CHECK(tfjs_load(dir, &m, &err) == 0, "darknet-tiny: %s", err.msg);
    CHECK(m.n_layers == 52 && m.weights.count == 77, "%d layers, %d weights", m.n_layers,
          m.weights.count);
    CHECK(net_from_keras(&m, &net, &err) == 0, "net_from_keras: %s", err.msg);
    CHECK(strcmp(net.name, "darknet-tiny") == 0, "name %s", net.name);
    CHECK(net.in_scale[1] == 1.0f / 255 && net.in_shift[1] == 0, "input RGB/255");
    /* conv2d_k (filters, kernel); LeakyReLU after all but the last; pools
     * after leaky_re_lu_1, 2, 6 and 10 */
    static const int filters[16] = {16, 32, 16, 128, 16, 128, 32, 256, 32, 256, 64, 512, 64, 512, 128, 1000};
    static const int kernel[16] = {3, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 3, 1, 1};
    CHECK(net.n_nodes == 16 + 15 + 4, "%d net layers", net.n_nodes);
    int L = 0, cin = 3, pools = 0;
    for (int k = 1; k <= 16 && L + 1 < net.n_nodes; k++) {
        node *c = &net.nodes[L++];
        char name[64];
        snprintf(name, sizeof name, "conv2d_%d", k);
        CHECK(strcmp(c->name, name) == 0 && c->op == OP_CONV && c->cin == cin &&
                  c->cout == filters[k - 1] && c->k == kernel[k - 1] && c->stride == 1 && c->bias,
              "layer %d: %s %d->%d k%d, expected %s", L - 1, c->name, c->cin, c->cout, c->k, name);
        cin = filters[k - 1];
        if (k == 16) break;
        node *a = &net.nodes[L++];
        snprintf(name, sizeof name, "leaky_re_lu_%d", k);
        CHECK(strcmp(a->name, name) == 0 && a->op == OP_ACT && fabsf(a->alpha - 0.1f) < 1e-7f &&
                  a->cout == cin,
              "layer %d: %s, expected %s", L - 1, a->name, name);
        if (k == 1 || k == 2 || k == 6 || k == 10) {
            node *p = &net.nodes[L++];
            snprintf(name, sizeof name, "max_pooling2d_%d", ++pools);
            CHECK(strcmp(p->name, name) == 0 && p->op == OP_POOL && p->k == 2 &&
                      p->stride == 2 && p->cout == cin,
                  "layer %d: %s, expected %s", L - 1, p->name, name);
        }
    }
    CHECK(strcmp(net.nodes[net.n_nodes - 1].name, "conv2d_16") == 0, "last layer is conv2d_16");

    /* BatchNorm folding, recomputed from the dict: conv2d_4 (3x3, 16 -> 128) */
    const tensor *K = dict_get(&m.weights, "conv2d_4/kernel");
    const tensor *g = dict_get(&m.weights, "batch_normalization_4/gamma");
    const tensor *b = dict_get(&m.weights, "batch_normalization_4/beta");
    const tensor *mu = dict_get(&m.weights, "batch_normalization_4/moving_mean");
    const tensor *var = dict_get(&m.weights, "batch_normalization_4/moving_variance");
    node *c4 = &net.nodes[8]; /* conv1 lrelu pool conv2 lrelu pool conv3 lrelu conv4 */
    CHECK(K && g && b && mu && var && strcmp(c4->name, "conv2d_4") == 0, "conv2d_4 tensors");
    if (K && g && b && mu && var && c4->op == OP_CONV) {
        double worst = 0;
        for (int o = 0; o < 128; o++) {
            double s = g->data[o] / sqrt(var->data[o] + 0.001);
            worst = fmax(worst, fabs(c4->bias[o] - (b->data[o] - mu->data[o] * s)));
            for (int i = 0; i < 16; i++)
                for (int y = 0; y < 3; y++)
                    for (int x = 0; x < 3; x++) {
                        double want = K->data[((y * 3 + x) * 16 + i) * 128 + o] * s;
                        double got = c4->weight[((o * 16 + i) * 3 + y) * 3 + x];
                        worst = fmax(worst, fabs(got - want) / (1e-6 + fabs(want)));
                    }
        }
        CHECK(worst < 1e-5, "BN folding of conv2d_4: worst error %.3g", worst);
        /* one element by hand: W'[5][3][2][1] = K[2][1][3][5] * s[5] */
        double s5 = g->data[5] / sqrt(var->data[5] + 0.001);
        CHECK(fabs(c4->weight[((5 * 16 + 3) * 3 + 2) * 3 + 1] - K->data[((2 * 3 + 1) * 16 + 3) * 128 + 5] * s5) < 1e-6,
              "folded weight [5][3][2][1]");
    }
    /* conv2d_16 has its own bias and no BatchNorm */
    const tensor *b16 = dict_get(&m.weights, "conv2d_16/bias");
    node *c16 = &net.nodes[net.n_nodes - 1];
    CHECK(b16 && c16->bias && c16->cin == 128, "conv2d_16 bias");
    if (b16 && c16->bias) tu_close("conv2d_16 bias", c16->bias, b16->data, 1000, 1e-30f, 0);
    net_release(&net);
    tfjs_free(&m);

    /* a copy with a truncated shard, then with a missing one */
    char src[2048], dst[2048];
    snprintf(src, sizeof src, "%s/model.json", dir);
    copy_prefix(src, tu_tmp_path("model.json"), (size_t)-1);
    for (int gi = 1; gi <= 31; gi++) {
        snprintf(src, sizeof src, "%s/group%d-shard1of1", dir, gi);
        snprintf(dst, sizeof dst, "%s/group%d-shard1of1", tmpdir, gi);
        copy_prefix(src, dst, gi == 19 ? 589824 : (size_t)-1);
    }
    snprintf(dst, sizeof dst, "%s/group19-shard1of1: truncated: expected 1179648 bytes, found 589824",
             tmpdir);
    int rc = tfjs_load(tmpdir, &m, &err);
    CHECK(rc != 0 && strcmp(err.msg, dst) == 0, "truncated shard: %s", err.msg);
    snprintf(dst, sizeof dst, "%s/group19-shard1of1", tmpdir);
    unlink(dst);
    rc = tfjs_load(tu_tmp_path("model.json"), &m, &err);
    expect_error(rc, &err, dst, "missing weight shard", "missing shard");
    for (int gi = 1; gi <= 31; gi++) {
        snprintf(dst, sizeof dst, "%s/group%d-shard1of1", tmpdir, gi);
        unlink(dst);
    }
    unlink(tu_tmp_path("model.json"));
}

/* A Sequential model: conv (relu, bias), 'same' max pool, then Flatten. */
static const char seq_json[] =
    "{\"modelTopology\": {\"model_config\": {\"class_name\": \"Sequential\", \"config\": ["
    "{\"class_name\": \"Conv2D\", \"config\": {\"name\": \"c\", \"filters\": 2, \"kernel_size\": [1, 1],"
    " \"strides\": [1, 1], \"padding\": \"same\", \"activation\": \"relu\", \"use_bias\": true}},"
    "{\"class_name\": \"MaxPooling2D\", \"config\": {\"name\": \"p\", \"pool_size\": [2, 2], \"padding\": \"same\"}},"
    "{\"class_name\": \"Flatten\", \"config\": {\"name\": \"f\"}}]}},"
    "\"weightsManifest\": [{\"paths\": [\"w.bin\"], \"weights\": ["
    "{\"name\": \"c/kernel\", \"shape\": [1, 1, 3, 2], \"dtype\": \"%s\"},"
    "{\"name\": \"c/bias\", \"shape\": [2], \"dtype\": \"float32\"}]}]}";

/* A functional model whose second conv reads the input, not the first conv. */
static const char branch_json[] =
    "{\"modelTopology\": {\"model_config\": {\"class_name\": \"Model\", \"config\": {\"layers\": ["
    "{\"name\": \"in\", \"class_name\": \"InputLayer\", \"config\": {}, \"inbound_nodes\": []},"
    "{\"name\": \"a\", \"class_name\": \"Conv2D\", \"config\": {}, \"inbound_nodes\": [[[\"in\", 0, 0, {}]]]},"
    "{\"name\": \"b\", \"class_name\": \"Conv2D\", \"config\": {}, \"inbound_nodes\": [[[\"in\", 0, 0, {}]]]}"
    "]}}}, \"weightsManifest\": []}";

static void test_small_tfjs(void) {
    nst_error err;
    tfjs_model m = {0};
    struct nst_net net;
    char json[2048];
    const char *mj = tu_tmp_path("model.json"), *wb = tu_tmp_path("w.bin");
    /* kernel [1][1][3][2] = HWIO, then bias [2] */
    static const float w[8] = {1, 2, 3, 4, 5, 6, -1, -2};
    tu_write_file(wb, w, sizeof w);
    snprintf(json, sizeof json, seq_json, "float32");
    tu_write_file(mj, json, strlen(json));
    CHECK(tfjs_load(mj, &m, &err) == 0, "sequential: %s", err.msg);
    CHECK(net_from_keras(&m, &net, &err) == 0, "sequential net: %s", err.msg);
    CHECK(net.n_nodes == 3 && strcmp(net.nodes[0].name, "c") == 0 &&
              strcmp(net.nodes[1].name, "c_relu") == 0 && net.nodes[1].op == OP_ACT &&
              net.nodes[1].alpha == 0 && strcmp(net.nodes[2].name, "p") == 0 &&
              net.nodes[2].k == 2 && net.nodes[2].stride == 2 && net.nodes[2].cout == 2,
          "sequential layers");
    /* OIHW: out 0 takes in 0..2 = 1, 3, 5; out 1 takes 2, 4, 6 */
    static const float oihw[6] = {1, 3, 5, 2, 4, 6}, bias[2] = {-1, -2};
    if (net.n_nodes == 3) {
        tu_close("HWIO -> OIHW", net.nodes[0].weight, oihw, 6, 1e-30f, 0);
        tu_close("conv bias", net.nodes[0].bias, bias, 2, 1e-30f, 0);
    }
    net_release(&net);
    tfjs_free(&m);

    tu_write_file(wb, w, sizeof w - 4);
    expect_error(tfjs_load(mj, &m, &err), &err, wb, "truncated: expected 32 bytes, found 28",
                 "short shard");
    tu_write_file(wb, w, sizeof w);
    snprintf(json, sizeof json, seq_json, "int32");
    tu_write_file(mj, json, strlen(json));
    expect_error(tfjs_load(mj, &m, &err), &err, mj, "int32", "int32 weight");
    tu_write_file(mj, branch_json, strlen(branch_json));
    expect_error(tfjs_load(mj, &m, &err), &err, mj, "linear chains", "branching model");
    tu_write_file(mj, "{\"modelTopology\": [1, 2", 23);
    expect_error(tfjs_load(mj, &m, &err), &err, mj, "JSON", "bad JSON");
    unlink(mj);
    unlink(wb);
}

int main(void) {
    tmpdir = tu_tmpdir_create("test_loaders");
    tensor_dict fx;
    tu_load_fixture("loaders.bin", &fx);
    test_pth_and_safetensors(&fx);
    test_views(&fx);
    test_vgg_builder();
    test_bad_pth();
    test_bad_safetensors();
    test_darknet();
    test_small_tfjs();
    dict_free(&fx);
    tu_tmpdir_remove();
    return tu_finish();
}
