/* params.c: the text fields of POST /api/jobs, named like nst stylize's and
 * nst apply's flags with underscores, checked against their ranges and kept
 * as a JSON object in the job's row; the workers turn that object back into
 * library parameters. A field outside this table is refused, so nothing a
 * client sends reaches the file system or the library unchecked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"

typedef struct {
    const char *name;
    double lo, hi;       /* range; hi < 0: the server's limit (max_size, max_iterations) */
    int integer;
    const char *choices; /* a string field: the values allowed, "|"-separated ("": its
                          * own syntax, checked by its parser) */
    int kinds;           /* PARAMS_* bits: the job kinds that use it */
} field;

enum { LIMIT_SIZE = -1, LIMIT_ITERATIONS = -2 };
enum { OPT = PARAMS_OPTIMISATION, NET = PARAMS_NET, FAST = PARAMS_FAST, VIDEO = PARAMS_VIDEO,
       ALL = OPT | NET | FAST | VIDEO };

static const field fields[] = {
    {"size", 16, LIMIT_SIZE, 1, NULL, ALL},
    {"iterations", 1, LIMIT_ITERATIONS, 1, NULL, OPT},
    {"style_weight", 0, 1e9, 0, NULL, OPT},
    {"content_weight", 0, 1e9, 0, NULL, OPT},
    {"tv_weight", 0, 1e6, 0, NULL, OPT},
    {"seed", 0, 2147483647, 1, NULL, OPT},
    {"learning_rate", 0, 1e4, 0, NULL, OPT},
    {"lbfgs_history", 1, 100, 1, NULL, OPT},
    {"style_scale", 0.1, 4, 0, NULL, OPT},
    {"scales", 1, 4, 1, NULL, OPT},
    {"original_colors", 0, 1, 1, NULL, ALL},
    {"strength", 0, 1, 0, NULL, NET | FAST | VIDEO},
    {"temporal", 0, 1, 0, NULL, VIDEO},
    {"fast", 0, 1, 1, NULL, OPT | FAST}, /* with style images: one pass of the arbitrary-style pair */
    {"optimizer", 0, 0, 0, "lbfgs|adam", OPT},
    {"init", 0, 0, 0, "content|noise", OPT},
    {"color_transfer", 0, 0, 0, "none|luminance|histogram", ALL}, /* original_colors=1: luminance */
    {"regions", 0, 0, 0, "", OPT | FAST}, /* LABEL=K,... with a 'mask' image: parse_regions */
};


static const field *find(const char *key) {
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (!strcmp(fields[i].name, key)) return &fields[i];
    return NULL;
}

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

/* "LABEL=K,LABEL=K,...": labels as nst_mask_label reads them, each colour
 * once; K a style image's number 1..NST_MAX_STYLES or "none". */
static int parse_regions(const char *v, params_region_list *r, char *msg, size_t n) {
    char labels[NST_MAX_REGIONS][32], k[16];
    r->n = 0;
    for (const char *e = v;; e++) {
        if (r->n == NST_MAX_REGIONS) return snprintf(msg, n, "regions: more than %d regions", NST_MAX_REGIONS), 400;
        size_t len = strcspn(e, ","), llen = strcspn(e, "=");
        char *label = labels[r->n];
        if (llen == 0 || llen + 1 >= len || llen >= sizeof labels[0] || len - llen - 1 >= sizeof k)
            return snprintf(msg, n, "regions: '%.*s' is not LABEL=K (K: a style image's number 1..%d, or none)",
                            (int)(len < 64 ? len : 64), e, NST_MAX_STYLES), 400;
        snprintf(label, sizeof labels[0], "%.*s", (int)llen, e);
        snprintf(k, sizeof k, "%.*s", (int)(len - llen - 1), e + llen + 1);
        nst_error err;
        if (nst_mask_label(label, r->rgb[r->n], &err)) return snprintf(msg, n, "regions: %s", err.msg), 400;
        for (int i = 0; i < r->n; i++)
            if (!memcmp(r->rgb[i], r->rgb[r->n], sizeof r->rgb[i]))
                return (strcmp(labels[i], label)
                            ? snprintf(msg, n, "regions: labels '%s' and '%s' are the same colour", labels[i], label)
                            : snprintf(msg, n, "regions: label '%s' given twice", label)), 400;
        char *end;
        long s = strtol(k, &end, 10);
        if (!strcmp(k, "none")) r->style[r->n] = -1;
        else if (*k >= '0' && *k <= '9' && !*end && s >= 1 && s <= NST_MAX_STYLES) r->style[r->n] = (int)s - 1;
        else
            return snprintf(msg, n, "regions: '%s=%s': K must be a style image's number 1..%d or none", label, k,
                            NST_MAX_STYLES), 400;
        r->n++;
        e += len;
        if (!*e) return 0;
    }
}

int params_add(cJSON *params, const char *key, const char *value, const serve_config *cfg,
               char *msg, size_t n) {
    const field *f = find(key);
    if (!f) return snprintf(msg, n, "unknown field '%.64s'", key), 400;
    if (cJSON_GetObjectItemCaseSensitive(params, key))
        return snprintf(msg, n, "field '%s' given twice", key), 400;
    if (f->choices) {
        params_region_list r;
        int st = !strcmp(key, "regions") ? parse_regions(value, &r, msg, n) : 0;
        if (st) return st;
        if (*f->choices && !one_of(value, f->choices))
            return snprintf(msg, n, "%s: '%.64s' is not one of %s", key, value, f->choices), 400;
        cJSON_AddStringToObject(params, key, value);
        return 0;
    }
    double hi = f->hi == LIMIT_SIZE ? cfg->max_size : f->hi == LIMIT_ITERATIONS ? cfg->max_iterations : f->hi;
    char *end;
    double v = strtod(value, &end);
    /* (long)v only within long's range: a larger v is refused by the range check below */
    if (end == value || *end || (f->integer && fabs(v) < 0x1p62 && v != (double)(long)v))
        return snprintf(msg, n, "%s: '%.64s' is not %s", key, value, f->integer ? "an integer" : "a number"), 400;
    if (!(v >= f->lo && v <= hi))
        return snprintf(msg, n, "%s: %.64s is out of range %g..%g", key, value, f->lo, hi), 400;
    cJSON_AddNumberToObject(params, key, v);
    return 0;
}

int params_regions(const cJSON *params, params_region_list *r, char *msg, size_t n) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, "regions");
    r->n = 0;
    if (!cJSON_IsString(v)) return 0;
    return parse_regions(v->valuestring, r, msg, n) ? -1 : r->n;
}

static double num(const cJSON *params, const char *key, double def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static const char *str(const cJSON *params, const char *key, const char *def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, key);
    return cJSON_IsString(v) ? v->valuestring : def;
}

/* color_transfer, or original_colors=1 as luminance */
static int color_of(const cJSON *params) {
    const char *v = str(params, "color_transfer", "none");
    return !strcmp(v, "histogram") ? NST_COLOR_HISTOGRAM
           : !strcmp(v, "luminance") || num(params, "original_colors", 0) ? NST_COLOR_LUMINANCE
                                                                          : NST_COLOR_NONE;
}

/* The studio's defaults: a result in a minute or two on a laptop, and an
 * L-BFGS memory of 20 pairs so that checkpoints stay small (40 floats per
 * parameter, against 200 for nst stylize's 100). */
int params_size(const cJSON *params) { return (int)num(params, "size", 384); }

void params_stylize(const cJSON *params, const nst_net *net, nst_stylize_params *p) {
    nst_stylize_params_init(p);
    nst_stylize_default_layers(p, net);
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
    p->color_transfer = color_of(params);
    p->optimizer = !strcmp(str(params, "optimizer", "lbfgs"), "adam") ? NST_OPT_ADAM : NST_OPT_LBFGS;
    p->init = !strcmp(str(params, "init", "content"), "noise") ? NST_INIT_NOISE : NST_INIT_CONTENT;
}

void params_apply(const cJSON *params, nst_apply_params *p) {
    p->size = params_size(params);
    p->strength = (float)num(params, "strength", 1);
    p->color_transfer = color_of(params);
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

static const char *const kind_names[] = {"optimisations", "pretrained-style jobs", "fast (instant) jobs",
                                          "video jobs"};

int params_check_kind(const cJSON *params, int kind, char *msg, size_t n) {
    const cJSON *item;
    cJSON_ArrayForEach(item, params) {
        const field *f = find(item->string);
        if (!f || (f->kinds & kind)) continue;
        /* "field 'strength' is for pretrained-style jobs, fast (instant) jobs and video jobs, not for optimisations" */
        size_t at = (size_t)snprintf(msg, n, "field '%s' is for ", f->name);
        int left = __builtin_popcount((unsigned)f->kinds);
        for (int k = 0; k < 4 && at < n; k++)
            if (f->kinds & (1 << k))
                at += (size_t)snprintf(msg + at, n - at, "%s%s", kind_names[k], --left > 1 ? ", " : left ? " and " : "");
        int self = 0;
        while (!(kind & (1 << self))) self++;
        if (at < n) snprintf(msg + at, n - at, ", not for %s", kind_names[self]);
        return 400;
    }
    return 0;
}

int params_style_net(const char *name) {
    const nst_model_info *list;
    int n = nst_models_known(&list);
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i].name, name) && !strcmp(list[i].kind, "style network")) return 1;
    return 0;
}
