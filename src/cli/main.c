/* main.c: the nst command: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cluster/cluster.h"

static const char usage[] =
    "usage: nst COMMAND [OPTIONS]\n"
    "\n"
    "Neural style transfer on the CPU.\n"
    "\n"
    "commands:\n"
    "  stylize   paint a photo in the style of one or more paintings (Gatys et al.)\n"
    "  apply     paint photos with a pretrained style network, in one pass\n"
    "  train     train a style network for a painting, for nst apply (Johnson et al.)\n"
    "  video     paint a clip frame by frame, without flicker\n"
    "  models    list, install and inspect loss and style networks\n"
    "  serve     the web studio: a page and a JSON API on a local HTTP server\n"
    "\n"
    "nst COMMAND --help describes each command; nst --version prints the version.\n";

int main(int argc, char **argv) {
    if (cluster_init(&argc, &argv)) {
        fputs("nst: MPI could not start (this process was started by an MPI launcher)\n", stderr);
        return 1;
    }
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("nst %s (libnst %s)\n", NST_VERSION_STRING, nst_version());
        return 0;
    }
    if (!strcmp(argv[1], "stylize")) return cmd_stylize(argc - 1, argv + 1);
    if (!strcmp(argv[1], "apply")) return cmd_apply(argc - 1, argv + 1);
    if (!strcmp(argv[1], "train")) return cmd_train(argc - 1, argv + 1);
    if (!strcmp(argv[1], "video")) return cmd_video(argc - 1, argv + 1);
    if (!strcmp(argv[1], "models")) return cmd_models(argc - 1, argv + 1);
    if (!strcmp(argv[1], "serve")) return cmd_serve(argc - 1, argv + 1);
    fprintf(stderr, "nst: unknown command '%s' (nst --help lists them)\n", argv[1]);
    return 2;
}
