/* stylize.c: paint a photo in the style of a painting with libnst
 * (optimisation, Gatys et al.), on the default loss network darknet-tiny.
 *
 *   cc stylize.c $(pkg-config --cflags --libs nst) -o stylize
 *   ./stylize photo.jpg painting.jpg out.png [SIZE [ITERATIONS]] */
#include <nst.h>
#include <stdio.h>
#include <stdlib.h>

static void progress(const nst_progress *p, void *user) {
    (void)user;
    fprintf(stderr, "iteration %d/%d, loss %.4g\n", p->iteration, p->total, p->loss);
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s PHOTO PAINTING OUT [SIZE [ITERATIONS]]\n", argv[0]);
        return 2;
    }
    char model[4096];
    nst_error err;
    nst_net *net = NULL;
    nst_image photo = {0}, painting = {0}, out = {0};
    int rc = nst_models_resolve("darknet-tiny", model, sizeof model, &err);
    if (!rc) rc = nst_net_load(model, &net, &err);
    if (!rc) rc = nst_image_load(argv[1], &photo, &err);
    if (!rc) rc = nst_image_load(argv[2], &painting, &err);
    if (!rc) {
        nst_stylize_params p;
        nst_stylize_params_init(&p);
        nst_stylize_default_layers(&p, net);
        if (argc > 4) p.size = atoi(argv[4]);
        if (argc > 5) p.iterations = atoi(argv[5]);
        p.progress = progress;
        p.report_every = 50;
        rc = nst_stylize(net, &photo, &painting, 1, &p, &out, &err);
    }
    if (!rc) rc = nst_image_save(argv[3], &out, &err); /* written whole or not at all */
    if (rc) fprintf(stderr, "%s (%s)\n", err.msg, nst_error_name(rc));
    nst_image_free(&out);
    nst_image_free(&painting);
    nst_image_free(&photo);
    nst_net_free(net);
    return rc == NST_OK ? 0 : rc == NST_ERR_ARG ? 2 : 1;
}
