/* fuzz_params.c: what nst serve itself parses of POST /api/jobs once
 * libmicrohttpd has split the multipart form into fields: each input line
 * "key=value" is a text field (key cut at 63 bytes, value at 255, as
 * upload.c keeps them), checked by params_add ("net" by params_style_net),
 * then the job parameters are checked for every job kind and read back
 * from their stored JSON as the workers do (the regions field too). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "graph/graph.h"
#include "serve/serve.h"

static void read_back(const cJSON *params) {
    static const nst_net no_layers; /* the defaults of a net without VGG's names */
    nst_stylize_params sp;
    params_stylize(params, &no_layers, &sp);
    nst_apply_params ap;
    nst_apply_params_init(&ap);
    params_apply(params, &ap);
    nst_video_params vp;
    nst_video_file_params fp;
    nst_video_params_init(&vp);
    nst_video_file_params_init(&fp);
    params_video(params, &vp, &fp);
    (void)params_fast(params);
    (void)params_size(params);
    params_region_list r;
    char msg[256];
    (void)params_regions(params, &r, msg, sizeof msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const serve_config cfg = {.max_size = 1024, .max_iterations = 1000, .max_pixels = 1L << 24};
    cJSON *params = cJSON_CreateObject();
    if (!params) return 0;
    char msg[256];
    for (size_t at = 0; at < size;) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size;
        const uint8_t *eq = memchr(data + at, '=', end - at);
        char key[64] = "", value[256] = "";
        size_t klen = (eq ? (size_t)(eq - data) : end) - at, vlen = eq ? end - (size_t)(eq - data) - 1 : 0;
        memcpy(key, data + at, klen < 63 ? klen : 63);
        if (eq) memcpy(value, eq + 1, vlen < 255 ? vlen : 255);
        at = end + 1;
        if (!strcmp(key, "net")) {
            (void)params_style_net(value);
            continue;
        }
        /* a refusal is a 4xx with a message */
        int st = params_add(params, key, value, &cfg, msg, sizeof msg);
        if (st && (st < 400 || st > 499 || !*msg)) abort();
    }
    for (int kind = PARAMS_OPTIMISATION; kind <= PARAMS_VIDEO; kind <<= 1)
        if (params_check_kind(params, kind, msg, sizeof msg) && !*msg) abort();
    char *json = cJSON_PrintUnformatted(params);
    cJSON *stored = json ? cJSON_Parse(json) : NULL;
    read_back(params);
    if (stored) read_back(stored);
    cJSON_Delete(stored);
    free(json);
    cJSON_Delete(params);
    return 0;
}
