/* params.c: the text fields of POST /api/jobs, named like nst stylize's and
 * nst apply's flags with underscores, checked against their ranges and kept
 * as a JSON object in the job's row; the workers turn that object back into
 * library parameters. A field outside this table is refused, so nothing a
 * client sends reaches the file system or the library unchecked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"

typedef struct {
    const char *name;
    double lo, hi;       /* range; hi < 0: the server's limit (max_size, max_iterations) */
    int integer;
    const char *choices; /* a string field: the values allowed, "|"-separated */
} field;

enum { LIMIT_SIZE = -1, LIMIT_ITERATIONS = -2 };

static const field fields[] = {
    {"size", 16, LIMIT_SIZE, 1, NULL},
    {"iterations", 1, LIMIT_ITERATIONS, 1, NULL},
    {"style_weight", 0, 1e9, 0, NULL},
    {"content_weight", 0, 1e9, 0, NULL},
    {"tv_weight", 0, 1e6, 0, NULL},
    {"seed", 0, 2147483647, 1, NULL},
    {"learning_rate", 0, 1e4, 0, NULL},
    {"lbfgs_history", 1, 100, 1, NULL},
    {"style_scale", 0.1, 4, 0, NULL},
    {"scales", 1, 4, 1, NULL},
    {"original_colors", 0, 1, 1, NULL},
    {"strength", 0, 1, 0, NULL},
    {"temporal", 0, 1, 0, NULL},
    {"fast", 0, 1, 1, NULL}, /* with style images: one pass of the arbitrary-style pair */
    {"optimizer", 0, 0, 0, "lbfgs|adam"},
    {"init", 0, 0, 0, "content|noise"},
};

static int one_of(const char *v, const char *choices) {
    size_t n = strlen(v);
    for (const char *c = choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && !strncmp(c, v, n)) return 1;
        c += len + (bar != NULL);
    }
    return 0;
}

int params_add(cJSON *params, const char *key, const char *value, const serve_config *cfg,
               char *msg, size_t n) {
    const field *f = NULL;
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (!strcmp(fields[i].name, key)) f = &fields[i];
    if (!f) return snprintf(msg, n, "unknown field '%.64s'", key), 400;
    if (cJSON_GetObjectItemCaseSensitive(params, key))
        return snprintf(msg, n, "field '%s' given twice", key), 400;
    if (f->choices) {
        if (!one_of(value, f->choices))
            return snprintf(msg, n, "%s: '%.64s' is not one of %s", key, value, f->choices), 400;
        cJSON_AddStringToObject(params, key, value);
        return 0;
    }
    double hi = f->hi == LIMIT_SIZE ? cfg->max_size : f->hi == LIMIT_ITERATIONS ? cfg->max_iterations : f->hi;
    char *end;
    double v = strtod(value, &end);
    if (end == value || *end || (f->integer && v != (double)(long)v))
        return snprintf(msg, n, "%s: '%.64s' is not %s", key, value, f->integer ? "an integer" : "a number"), 400;
    if (!(v >= f->lo && v <= hi))
        return snprintf(msg, n, "%s: %.64s is out of range %g..%g", key, value, f->lo, hi), 400;
    cJSON_AddNumberToObject(params, key, v);
    return 0;
}

static double num(const cJSON *params, const char *key, double def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static const char *str(const cJSON *params, const char *key, const char *def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, key);
    return cJSON_IsString(v) ? v->valuestring : def;
}

/* The studio's defaults: a result in a minute or two on a laptop, and an
 * L-BFGS memory of 20 pairs so that checkpoints stay small (40 floats per
 * parameter, against 200 for nst stylize's 100). */
int params_size(const cJSON *params) { return (int)num(params, "size", 384); }

void params_stylize(const cJSON *params, nst_stylize_params *p) {
    p->size = params_size(params);
    p->iterations = (int)num(params, "iterations", 300);
    p->style_weight = (float)num(params, "style_weight", p->style_weight);
    p->content_weight = (float)num(params, "content_weight", p->content_weight);
    p->tv_weight = (float)num(params, "tv_weight", p->tv_weight);
    p->seed = (uint64_t)num(params, "seed", 0);
    p->learning_rate = (float)num(params, "learning_rate", 0);
    p->lbfgs_history = (int)num(params, "lbfgs_history", 20);
    p->style_scale = (float)num(params, "style_scale", 1);
    p->scales = (int)num(params, "scales", 1);
    p->original_colors = (int)num(params, "original_colors", 0);
    p->optimizer = !strcmp(str(params, "optimizer", "lbfgs"), "adam") ? NST_OPT_ADAM : NST_OPT_LBFGS;
    p->init = !strcmp(str(params, "init", "content"), "noise") ? NST_INIT_NOISE : NST_INIT_CONTENT;
}

void params_apply(const cJSON *params, nst_apply_params *p) {
    p->size = params_size(params);
    p->strength = (float)num(params, "strength", 1);
    p->original_colors = (int)num(params, "original_colors", 0);
}

/* Video frames at 384 px by default, like the studio's pictures; the long
 * side is capped by max_size through params_add. */
void params_video(const cJSON *params, nst_video_params *vp, nst_video_file_params *fp) {
    params_apply(params, &vp->apply);
    vp->temporal = (float)num(params, "temporal", vp->temporal);
    fp->size = params_size(params);
    fp->audio = 1;
}

int params_fast(const cJSON *params) { return num(params, "fast", 0) == 1; }

/* The fields only an optimisation uses: refused in a fast job, where they
 * would silently mean nothing. NULL when there is none. */
const char *params_optimisation_only(const cJSON *params) {
    static const char *const names[] = {"iterations", "style_weight", "content_weight", "tv_weight",
                                        "seed", "learning_rate", "lbfgs_history", "style_scale",
                                        "scales", "optimizer", "init"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (cJSON_GetObjectItemCaseSensitive(params, names[i])) return names[i];
    return NULL;
}

int params_style_net(const char *name) {
    const nst_model_info *list;
    int n = nst_models_known(&list);
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i].name, name) && !strcmp(list[i].kind, "style network")) return 1;
    return 0;
}
