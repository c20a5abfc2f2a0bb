/* region_args.c: --mask, --region-style LABEL=VALUE and --mask-feather, as
 * nst stylize and nst apply take them (cli.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

int region_arg_add(region_args *r, const char *opt, const char *spec, nst_error *err) {
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return nst_fail(err, NST_ERR_ARG, "%s: '%s' is not LABEL=VALUE (e.g. white=starry_night.jpg, "
                        "'#ff0000'=none)", opt, spec);
    if (r->n == NST_MAX_REGIONS) return nst_fail(err, NST_ERR_ARG, "%s: at most %d regions", opt, NST_MAX_REGIONS);
    if ((size_t)(eq - spec) >= sizeof r->label[0])
        return nst_fail(err, NST_ERR_ARG, "%s: label '%.*s' is too long", opt, (int)(eq - spec), spec);
    snprintf(r->label[r->n], sizeof r->label[0], "%.*s", (int)(eq - spec), spec);
    int rc = nst_mask_label(r->label[r->n], r->rgb[r->n], err);
    if (rc) return rc;
    r->value[r->n++] = eq + 1;
    return NST_OK;
}

int region_args_check(const region_args *r, nst_error *err) {
    if (r->n && !r->mask) return nst_fail(err, NST_ERR_ARG, "--region-style needs --mask PATH");
    if (r->mask && !r->n)
        return nst_fail(err, NST_ERR_ARG, "--mask needs a painting (or none) per region: --region-style LABEL=VALUE");
    return NST_OK;
}

int region_value_is_painting(const char *value) {
    nst_error probe;
    const char *dot = strrchr(value, '.');
    return net_is_image(value, &probe) || (dot && !strcasecmp(dot, ".json"));
}

int region_args_load(const region_args *r, const char *what, int w, int h, int size, int quiet, nst_regions *out,
                     nst_error *err) {
    nst_image mask = {0};
    int rc = read_image_arg(r->mask, quiet, &mask, err);
    if (rc) return rc;
    /* a mask of another shape would put the regions in the wrong places */
    double am = (double)mask.w / mask.h, ap = (double)w / h;
    if (fabs(am / ap - 1) > 0.02)
        rc = nst_fail(err, NST_ERR_ARG, "%s: the mask is %dx%d, but the %s is %dx%d (another shape)", r->mask,
                      mask.w, mask.h, what, w, h);
    /* the feather radius is in pixels of the result; the mask may be larger or smaller */
    int side = size > 0 ? size : (w > h ? w : h);
    int feather = (int)lround(r->feather * (double)(mask.w > mask.h ? mask.w : mask.h) / side);
    if (!rc && (rc = nst_regions_from_mask(&mask, (const float(*)[3])r->rgb, r->n, feather, out, err))) {
        nst_error e = *err; /* name the mask */
        nst_fail(err, rc, "%s: %s", r->mask, e.msg);
    }
    nst_image_free(&mask);
    return rc;
}
