/* net.c: loading a loss network from whichever format the file is in, and
 * looking its layers (the nodes of its graph) up by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/net.h"

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int nst_net_load(const char *path, nst_net **out, nst_error *err) {
    struct stat st;
    *out = NULL;
    if (stat(path, &st) != 0)
        return nst_fail(err, NST_ERR_IO, "%s: no such file or directory", path);
    nst_net *net = calloc(1, sizeof *net);
    if (!net) return nst_fail(err, NST_ERR_NOMEM, "out of memory loading %s", path);
    int rc;
    if (S_ISDIR(st.st_mode) || ends_with(path, ".json")) {
        tfjs_model m = {0};
        rc = tfjs_load(path, &m, err);
        if (!rc) rc = net_from_keras(&m, net, err);
        tfjs_free(&m);
    } else if (ends_with(path, ".pth") || ends_with(path, ".pt") ||
               ends_with(path, ".safetensors")) {
        tensor_dict d = {0};
        rc = ends_with(path, ".safetensors") ? safetensors_load(path, &d, err)
                                             : torch_load(path, &d, err);
        if (!rc) rc = net_from_vgg(&d, net, err);
        dict_free(&d);
    } else {
        rc = nst_fail(err, NST_ERR_ARG,
                      "%s: unknown loss network format (expected a TensorFlow.js model directory "
                      "or model.json, a .pth state_dict or a .safetensors file)", path);
    }
    if (!rc) {
        snprintf(net->path, sizeof net->path, "%s", path);
        rc = graph_check(net, err);
    }
    if (rc) {
        nst_net_free(net);
        return rc;
    }
    *out = net;
    return NST_OK;
}

void nst_net_free(nst_net *net) {
    if (!net) return;
    graph_free(net);
    free(net);
}

int nst_net_find_layer(const nst_net *net, const char *name) { return graph_find(net, name); }
int nst_net_layer_count(const nst_net *net) { return net->n_nodes; }
const char *nst_net_layer_name(const nst_net *net, int i) { return net->nodes[i].name; }
int nst_net_layer_channels(const nst_net *net, int i) { return net->nodes[i].cout; }
const char *nst_net_name(const nst_net *net) { return net->name; }
