/* apply.c: paint a photo with a trained style network in one pass (Johnson
 * et al.): a pretrained style by name ("wave", "udnie", ...), a directory
 * of ml5.js' format or a file written by nst train.
 *
 *   cc apply.c $(pkg-config --cflags --libs nst) -o apply
 *   ./apply wave photo.jpg out.png [SIZE] */
#include <nst.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s NETWORK PHOTO OUT [SIZE]\n", argv[0]);
        return 2;
    }
    char path[4096];
    nst_error err;
    nst_generator *gen = NULL;
    nst_image photo = {0}, out = {0};
    int rc = nst_models_resolve(argv[1], path, sizeof path, &err);
    if (!rc) rc = nst_generator_load(path, &gen, &err);
    if (!rc) rc = nst_image_load(argv[2], &photo, &err);
    if (!rc) {
        nst_apply_params p;
        nst_apply_params_init(&p);
        if (argc > 4) p.size = atoi(argv[4]);
        rc = nst_apply(gen, &photo, &p, &out, &err);
    }
    if (!rc) rc = nst_image_save(argv[3], &out, &err);
    if (rc) fprintf(stderr, "%s (%s)\n", err.msg, nst_error_name(rc));
    printf("%s: %dx%d, libnst %s\n", rc ? "failed" : argv[3], out.w, out.h, nst_version());
    nst_image_free(&out);
    nst_image_free(&photo);
    nst_generator_free(gen);
    return rc == NST_OK ? 0 : rc == NST_ERR_ARG ? 2 : 1;
}
