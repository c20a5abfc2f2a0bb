/* registry.c: the models nst knows how to install, where they come from,
 * and where installed models are looked for. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "io/io.h"
#include "nst.h"

typedef struct {
    const char *file, *sha256; /* sha256: full hex, or a prefix where the origin publishes only that */
} model_file;

typedef struct {
    nst_model_info info;
    const char *origin; /* base URL; file names are appended */
    int n_files;
    const model_file *files;
} model_entry;

/* darknet-tiny as converted by ml5.js (MIT), TensorFlow.js layers format. */
static const model_file darknet_tiny_files[] = {
    {"model.json", "5a5ee1ddb33ac7948b303197f4c63f72a80fc00a7d2870d30843004ddd5b4b51"},
    {"group1-shard1of1", "1a95595a3f6c497f27747d40276649a10988d0808a121ddfb3f6b368133f44c5"},
    {"group2-shard1of1", "8226135041fbafc7c3a838d0673badb8d3e4211a4d550781951d15a09445ea47"},
    {"group3-shard1of1", "3a465f4bbcbcd7721caa77b704829cfe20eadab670a8d91a352e76e4cfca1a02"},
    {"group4-shard1of1", "3e661974c4740795f3ca9b882ae80dc3521951dac2b262ac054329f17aaefb10"},
    {"group5-shard1of1", "5f1fa7779fe01d2b06ea3804f84e5cf6a25688dc458617a9f35a1018356abcbf"},
    {"group6-shard1of1", "e054b14e9e866da448ab351f04d3920ae216032b3df680396163a77b8925a009"},
    {"group7-shard1of1", "2aed907302664d64b85669a293c8f5a492521b4d025b9b3a19943f951a7e32df"},
    {"group8-shard1of1", "99e0418ac61cd6093df0bb4a5a67750ec0b0fbb8edb2125c0cfda67e3cb3f1a4"},
    {"group9-shard1of1", "4fb47f3aa4f19f7fabd7d4271cf81e8af7735fcfc89bf4b9174f379bb60b129d"},
    {"group10-shard1of1", "2afc82f4d423cb8272e4089b69c5dba2755eea8499935b4f0020e27b5d559557"},
    {"group11-shard1of1", "8957dc1caa88193522d8071f6ac3171634818bb50223b1e98ace21f010b414cc"},
    {"group12-shard1of1", "bced27a16699c0eca4ee4d15c4e5fac46532a6f2850b53445818c0e2e69af7b1"},
    {"group13-shard1of1", "5e6172c6d71505fce1a9388e733aaddf21f6ab14f9ccaf10d2986a94b8f19b42"},
    {"group14-shard1of1", "adfb4ad19dea5c1ba0c9b7e7d90f6265aac136a7d98e0f0eed4362d62e5e51f8"},
    {"group15-shard1of1", "79131184270263a2c585240efbfdd3ed13fc005c67b761ced984c70265209511"},
    {"group16-shard1of1", "d70b0b9f3db3d51bd5613246885f4723998aef2e56845c7dec75743221f1ef5e"},
    {"group17-shard1of1", "3dad37a465ab881c2d2006072cd60d83144d04a5c5448f49e15308472bbb145a"},
    {"group18-shard1of1", "c7a7f19a7a9e3a780bd1aedfe30a7e594821ea8d57d6e72d148c033b0f24f5fa"},
    {"group19-shard1of1", "4f16fe423091d9b32d59bff14cd19f1a6a233bc98adade4a1e0ef0d2972752b5"},
    {"group20-shard1of1", "1efd0b489da0d04808a02175c2803528313f7e9abadb18a5dc3ae0b5bd5c0331"},
    {"group21-shard1of1", "9d024d14a803a3b078df0e9829bcc13a8901c3a6043456632ce5697be5734155"},
    {"group22-shard1of1", "0c18a3238859e649bac990e90dc4738861ffd07e9bee725139bec9ef3b8545ef"},
    {"group23-shard1of1", "2116862cb9cd43b21a3bfa3ea41e43dbe33284a97a8a22c5afe8d768f5a767af"},
    {"group24-shard1of1", "35c4204cee6796300f50addf2a2202a137eaa8a42999a79168f9226f60c8a62b"},
    {"group25-shard1of1", "9a37816bda07b3be24b88103a11dcc5d3eea15749a15594492b03ba3177a6a5e"},
    {"group26-shard1of1", "697677a6c94bd84fb0b558421629b5424101c4ea16601be53096275f43891f6c"},
    {"group27-shard1of1", "ef48b33bcf06fed0a9cc8b41017bccbf4f32fceeae946c00e0fd130fc467f9e4"},
    {"group28-shard1of1", "2831d9d4368b4cad678f9a3df4c9575bc35e1c2a7ef6ebed887c02c06a4f6dab"},
    {"group29-shard1of1", "720e58d7e54901e8db21d698fc094ffcb65a5991397895fef827ce53094b2a15"},
    {"group30-shard1of1", "a68c7913477828b28c2fe1924b191139877f7825e5f1a2e1c1b0e0e92accc669"},
    {"group31-shard1of1", "7985bd42bc5c0333e563998ad6d4616b0afaf1765f2b8c4c6df3944cf8f13992"},
};

/* torchvision's VGG weights; torchvision publishes the first 8 hex digits of
 * each file's sha256 in its name and checks only those. */
static const model_file vgg19_files[] = {{"vgg19-dcbb9e9d.pth", "dcbb9e9d"}};
static const model_file vgg16_files[] = {{"vgg16-397923af.pth", "397923af"}};

#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))
static const model_entry registry[] = {
    {{"darknet-tiny", "loss network",
      "Tiny Darknet ImageNet classifier (ml5.js, TensorFlow.js layers), 4.2 MB; the default"},
     "https://raw.githubusercontent.com/ml5js/ml5-data-and-models/HEAD/models/darknetclassifier/darknettiny/",
     COUNT(darknet_tiny_files), darknet_tiny_files},
    {{"vgg19", "loss network", "torchvision VGG19 (ImageNet), 548 MB; the network of Gatys et al."},
     "https://download.pytorch.org/models/", COUNT(vgg19_files), vgg19_files},
    {{"vgg16", "loss network", "torchvision VGG16 (ImageNet), 528 MB"},
     "https://download.pytorch.org/models/", COUNT(vgg16_files), vgg16_files},
};

int nst_models_known(const nst_model_info **list) {
    static nst_model_info infos[COUNT(registry)];
    for (int i = 0; i < COUNT(registry); i++) infos[i] = registry[i].info;
    *list = infos;
    return COUNT(registry);
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

void nst_models_dir(char *out, size_t outsz) {
    const char *v;
    if ((v = getenv("NST_HOME")) && *v) nst_pathf(out, outsz, "%s/models", v);
    else if ((v = getenv("XDG_DATA_HOME")) && *v) nst_pathf(out, outsz, "%s/nst/models", v);
    else nst_pathf(out, outsz, "%s/.local/share/nst/models", (v = getenv("HOME")) && *v ? v : ".");
}

/* Append an existing directory unless it is already listed (by real path). */
static void add_dir(char dirs[][NST_PATH_MAX], int *n, int max, const char *path) {
    char real[PATH_MAX];
    if (*n >= max || !realpath(path, real) || !is_dir(real)) return;
    for (int i = 0; i < *n; i++)
        if (!strcmp(dirs[i], real)) return;
    nst_pathf(dirs[(*n)++], NST_PATH_MAX, "%s", real);
}

/* Local mirrors: $NST_MIRROR, ../shared/models from the working directory
 * and from the binary (build/nst sits two levels under the project). */
static int mirrors(char dirs[][NST_PATH_MAX], int n, int max) {
    const char *v = getenv("NST_MIRROR");
    if (v && *v) add_dir(dirs, &n, max, v);
    add_dir(dirs, &n, max, "../shared/models");
    char exe[PATH_MAX], cand[NST_PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        if (!nst_pathf(cand, sizeof cand, "%s/../../shared/models", exe)) add_dir(dirs, &n, max, cand);
    }
    return n;
}

int nst_models_search_path(char dirs[][NST_PATH_MAX], int max) {
    int n = 0;
    const char *v = getenv("NST_MODELS");
    if (v && *v) {
        char *copy = strdup(v), *save = NULL;
        for (char *tok = copy ? strtok_r(copy, ":", &save) : NULL; tok && n < max;
             tok = strtok_r(NULL, ":", &save))
            nst_pathf(dirs[n++], NST_PATH_MAX, "%s", tok);
        free(copy);
    }
    if (n < max) nst_models_dir(dirs[n++], NST_PATH_MAX); /* may not exist yet */
    return mirrors(dirs, n, max);
}

static const model_entry *find_entry(const char *name) {
    for (int i = 0; i < COUNT(registry); i++)
        if (!strcmp(registry[i].info.name, name)) return &registry[i];
    return NULL;
}

/* A model directory holds model.json (TF.js) or one weights file. */
static int model_in_dir(const char *dir, const char *name, char *out, size_t outsz) {
    char p[NST_PATH_MAX];
    nst_pathf(p, sizeof p, "%s/%s/model.json", dir, name);
    if (exists(p)) {
        nst_pathf(out, outsz, "%s/%s", dir, name);
        return 1;
    }
    const model_entry *e = find_entry(name);
    for (int i = 0; e && i < e->n_files; i++) {
        nst_pathf(p, sizeof p, "%s/%s/%s", dir, name, e->files[i].file);
        if (exists(p)) {
            nst_pathf(out, outsz, "%s", p);
            return 1;
        }
    }
    return 0;
}

int nst_models_resolve(const char *name_or_path, char *out, size_t outsz, nst_error *err) {
    if (strchr(name_or_path, '/') || exists(name_or_path)) {
        if (!exists(name_or_path))
            return nst_fail(err, NST_ERR_RUNTIME, "%s: no such file or directory", name_or_path);
        nst_pathf(out, outsz, "%s", name_or_path);
        return NST_OK;
    }
    char dirs[16][NST_PATH_MAX];
    int n = nst_models_search_path(dirs, 16);
    for (int i = 0; i < n; i++)
        if (model_in_dir(dirs[i], name_or_path, out, outsz)) return NST_OK;
    return nst_fail(err, NST_ERR_RUNTIME,
                    "model '%s' is not installed (looked in %s%s); install it with: nst models "
                    "install %s",
                    name_or_path, dirs[0], n > 1 ? " and the other directories of nst models" : "",
                    name_or_path);
}

static int mkdirs(const char *path, nst_error *err) {
    char p[NST_PATH_MAX];
    nst_pathf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) && errno != EEXIST) goto fail;
            *s = '/';
        }
    if (mkdir(p, 0755) && errno != EEXIST) goto fail;
    return NST_OK;
fail:
    return nst_fail(err, NST_ERR_RUNTIME, "%s: cannot create directory: %s", p, strerror(errno));
}

static void remove_tree(const char *dir, const model_entry *e) {
    char p[NST_PATH_MAX];
    for (int i = 0; i < e->n_files; i++) {
        nst_pathf(p, sizeof p, "%s/%s", dir, e->files[i].file);
        unlink(p);
    }
    rmdir(dir);
}

/* Fetch one file into the staging directory, from a mirror when one has it. */
static int fetch_one(const model_entry *e, const model_file *f, const char *stage,
                     char mir[][NST_PATH_MAX], int n_mir, void (*log)(const char *), nst_error *err) {
    char dst[NST_PATH_MAX], src[NST_PATH_MAX], line[NST_PATH_MAX + 64], hex[65];
    nst_pathf(dst, sizeof dst, "%s/%s", stage, f->file);
    int rc = -1;
    for (int m = 0; m < n_mir && rc; m++) {
        nst_pathf(src, sizeof src, "%s/%s/%s", mir[m], e->info.name, f->file);
        if (!exists(src)) continue;
        rc = nst_copy_file(src, dst, err);
        if (!rc && log) {
            nst_pathf(line, sizeof line, "  %s  (from %s)", f->file, src);
            log(line);
        }
    }
    if (rc) { /* no mirror has it: the public origin */
        nst_pathf(src, sizeof src, "%s%s", e->origin, f->file);
        if (log) {
            nst_pathf(line, sizeof line, "  %s  (downloading %s)", f->file, src);
            log(line);
        }
        rc = nst_download(src, dst, err);
        if (rc) return rc;
    }
    rc = nst_sha256_file(dst, hex, err);
    if (rc) return rc;
    if (strncmp(hex, f->sha256, strlen(f->sha256)) != 0)
        return nst_fail(err, NST_ERR_RUNTIME, "%s: sha256 mismatch: got %s, expected %s",
                        src, hex, f->sha256);
    return NST_OK;
}

int nst_models_install(const char *name, const char *dest, const char *mirror,
                       void (*log)(const char *line), nst_error *err) {
    const model_entry *e = find_entry(name);
    if (!e) return nst_fail(err, NST_ERR_USAGE, "unknown model '%s' (nst models lists them)", name);
    char def[NST_PATH_MAX], mir[8][NST_PATH_MAX];
    if (!dest) {
        nst_models_dir(def, sizeof def);
        dest = def;
    }
    int n_mir = 0;
    if (mirror) {
        if (!is_dir(mirror))
            return nst_fail(err, NST_ERR_USAGE, "%s: mirror is not a directory", mirror);
        nst_pathf(mir[n_mir++], NST_PATH_MAX, "%s", mirror);
    } else {
        n_mir = mirrors(mir, 0, 8);
    }
    int rc = mkdirs(dest, err);
    if (rc) return rc;
    char stage[NST_PATH_MAX], final[NST_PATH_MAX];
    nst_pathf(stage, sizeof stage, "%s/.%s.partial", dest, name);
    nst_pathf(final, sizeof final, "%s/%s", dest, name);
    remove_tree(stage, e);
    if (mkdir(stage, 0755))
        return nst_fail(err, NST_ERR_RUNTIME, "%s: cannot create directory: %s", stage,
                        strerror(errno));
    for (int i = 0; i < e->n_files && !rc; i++) rc = fetch_one(e, &e->files[i], stage, mir, n_mir, log, err);
    if (!rc) {
        remove_tree(final, e);
        if (rename(stage, final))
            rc = nst_fail(err, NST_ERR_RUNTIME, "%s: cannot rename to %s: %s", stage, final,
                          strerror(errno));
    }
    if (rc) remove_tree(stage, e);
    return rc;
}
