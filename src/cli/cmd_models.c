/* cmd_models.c: nst models: list, install and inspect loss and style networks. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char help[] =
    "usage: nst models [list]\n"
    "       nst models install NAME [--mirror DIR] [--dir DIR]\n"
    "       nst models layers NAME|PATH\n"
    "\n"
    "list      the models nst knows (loss networks for nst stylize, style networks\n"
    "          for nst apply), whether and where each is installed, and the\n"
    "          directories searched (NST_MODELS, the install directory, local mirrors)\n"
    "install   fetch a model from a local mirror directory (DIR/NAME/FILE, style\n"
    "          networks DIR/fast/NAME/FILE; by default\n"
    "          $NST_MIRROR and ../shared/models) or else from its public origin, check\n"
    "          every file's sha256 and install it into --dir (default: the install\n"
    "          directory, $NST_HOME/models or ~/.local/share/nst/models)\n"
    "layers    the layer names of a loss network and their output channels, for\n"
    "          --content-layers and --style-layers\n"
    "\n"
    "examples:\n"
    "  nst models install darknet-tiny\n"
    "  nst models layers darknet-tiny\n";

static void print_dir(const char *dir, void *user) {
    (void)user;
    printf("  %s\n", dir);
}

static int list(void) {
    const nst_model_info *m;
    int n = nst_models_known(&m);
    printf("%-14s %-13s %-10s %s\n", "NAME", "KIND", "STATUS", "DESCRIPTION / PATH");
    for (int i = 0; i < n; i++) {
        char path[1024];
        nst_error err;
        int found = nst_models_resolve(m[i].name, path, sizeof path, &err) == NST_OK;
        printf("%-14s %-13s %-10s %s\n", m[i].name, m[i].kind, found ? "installed" : "-",
               m[i].description);
        if (found) printf("%-39s %s\n", "", path);
    }
    printf("\nsearch path:\n");
    nst_models_search_path(print_dir, NULL);
    return 0;
}

static void log_line(const char *line) { fprintf(stderr, "%s\n", line); }

static int install(int argc, char **argv) {
    const char *name = NULL, *mirror = NULL, *dir = NULL;
    nst_error err = {0};
    for (int i = 0; i < argc; i++) {
        if ((!strcmp(argv[i], "--mirror") || !strcmp(argv[i], "--dir")) && i + 1 >= argc)
            return nst_fail(&err, NST_ERR_ARG, "%s needs a value", argv[i]), report(&err);
        if (!strcmp(argv[i], "--mirror")) mirror = argv[++i];
        else if (!strcmp(argv[i], "--dir")) dir = argv[++i];
        else if (argv[i][0] == '-') {
            nst_fail(&err, NST_ERR_ARG, "unknown option %s (nst models --help)", argv[i]);
            return report(&err);
        } else if (!name) name = argv[i];
        else {
            nst_fail(&err, NST_ERR_ARG, "unexpected argument '%s'", argv[i]);
            return report(&err);
        }
    }
    if (!name) {
        nst_fail(&err, NST_ERR_ARG, "which model? nst models install NAME (nst models lists them)");
        return report(&err);
    }
    fprintf(stderr, "nst: installing %s\n", name);
    if (nst_models_install(name, dir, mirror, log_line, &err)) return report(&err);
    char path[1024];
    if (dir) snprintf(path, sizeof path, "%s/%s", dir, name);
    else if (nst_models_resolve(name, path, sizeof path, &err)) return report(&err);
    fprintf(stderr, "nst: installed %s in %s\n", name, path);
    return 0;
}

static int layers(const char *name) {
    nst_error err = {0};
    char path[1024];
    nst_net *net = NULL;
    if (nst_models_resolve(name, path, sizeof path, &err) || nst_net_load(path, &net, &err))
        return report(&err);
    printf("%s (%s): %d layers\n", nst_net_name(net), path, nst_net_layer_count(net));
    for (int i = 0; i < nst_net_layer_count(net); i++)
        printf("  %-20s %5d channels\n", nst_net_layer_name(net, i), nst_net_layer_channels(net, i));
    nst_net_free(net);
    return 0;
}

int cmd_models(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "list")) return list();
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(help, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "install")) return install(argc - 2, argv + 2);
    if (!strcmp(argv[1], "layers")) {
        if (argc != 3) {
            fputs(help, stderr);
            return 2;
        }
        return layers(argv[2]);
    }
    fprintf(stderr, "nst: unknown models command '%s' (nst models --help)\n", argv[1]);
    return 2;
}
