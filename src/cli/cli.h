/* cli.h: the nst command's subcommands and their shared argument parsing. */
#ifndef NST_CLI_H
#define NST_CLI_H

#include "nst.h"

int cmd_stylize(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_video(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Strict number parsing for option values: the whole string must be a
 * number within [lo, hi]; otherwise a usage error naming the option. */
int parse_int(const char *opt, const char *s, long lo, long hi, int *out, nst_error *err);
int parse_float(const char *opt, const char *s, double lo, double hi, float *out, nst_error *err);
/* --color-transfer none|luminance|histogram -> NST_COLOR_* */
int parse_color(const char *opt, const char *s, int *out, nst_error *err);
/* Split a comma-separated list into at most max items of 64 chars. */
int parse_list(const char *opt, const char *s, char items[][64], int max, int *n, nst_error *err);
/* An output path nst can write: a .png/.jpg/.jpeg/.bmp/.tga extension
 * (writable_ext, case-insensitive) in a writable directory; else a usage error. */
int check_output_path(const char *path, nst_error *err);
/* The directory of `path` exists and is writable; else a usage error. */
int check_output_dir(const char *path, nst_error *err);
/* "42s", "3m05s", "1h02m" */
void format_duration(double s, char *buf, size_t n);
int writable_ext(const char *ext);
/* Progress may be drawn in place (carriage returns, erase-line): standard
 * error is a terminal and TERM is not "dumb". Otherwise plain lines. */
int progress_in_place(void);
/* Print "nst: MESSAGE" to stderr and return the exit status for the code
 * (under MPI: a usage error by rank 0 only, others as "rank R: MESSAGE"). */
int report(const nst_error *err);
struct option;
/* An image argument: a file, or "-" for standard input (read whole); a
 * note on stderr (unless quiet) when its transparency was flattened. */
int read_image_arg(const char *path, int quiet, nst_image *img, nst_error *err);
/* Write to a file (format by extension, atomically) or, for "-", to
 * standard output in `format` (NULL: png). */
int write_image_arg(const char *path, const char *format, const nst_image *img, nst_error *err);
/* --format goes with -o - only, and names an encoder. */
int check_format(const char *output, const char *format, nst_error *err);
/* Warnings on stderr when --size (the long side) will enlarge image `path`
 * (w x h) 4x or more, or leave its short side under 64 px. */
void warn_size(const char *path, int w, int h, int size);
/* A usage error when --net names an image (a painting meant for --style). */
int net_is_image(const char *net, nst_error *err);
/* The usage error for an unknown option of `nst cmd`, with the closest long
 * option of opts (within two edits) as a suggestion. */
int unknown_option(const char *opt, const struct option *opts, const char *cmd, nst_error *err);
/* How messages name an image argument: "standard input/output" for "-". */
const char *arg_name(const char *path, int output);

/* Regions (region_args.c): --mask PATH, --region-style LABEL=VALUE
 * (repeatable; VALUE a painting, a network or "none") and --mask-feather N
 * (pixels of the result). */
typedef struct {
    const char *mask;
    int n, feather;
    char label[NST_MAX_REGIONS][64];
    float rgb[NST_MAX_REGIONS][3];
    const char *value[NST_MAX_REGIONS];
} region_args;
#define REGION_FEATHER 4 /* default --mask-feather */
/* One LABEL=VALUE; a usage error naming opt when malformed. */
int region_arg_add(region_args *r, const char *opt, const char *spec, nst_error *err);
/* --mask and --region-style go together. */
int region_args_check(const region_args *r, nst_error *err);
/* The mask's regions for `what` ("photo", "clip") of w x h (the mask's
 * shape checked against it), feathered for a result of long side size (0:
 * the photo's). */
int region_args_load(const region_args *r, const char *what, int w, int h, int size, int quiet, nst_regions *out,
                     nst_error *err);
/* A region's VALUE names a painting or a saved style vector (an image or
 * .json file), not a style network. */
int region_value_is_painting(const char *value);

/* The jobs of a batch file (batch_file.c): a CSV file whose header names
 * the columns content, style (several: separated by ';'), output and,
 * optionally, options (more command-line options, separated by spaces). */
enum { BATCH_CONTENT, BATCH_STYLE, BATCH_OUTPUT, BATCH_OPTIONS, BATCH_COLUMNS, BATCH_FIELD = 1024 };
typedef struct {
    char field[BATCH_COLUMNS][BATCH_FIELD];
    int line; /* in the file, for messages */
} batch_job;
typedef struct {
    batch_job *jobs;
    int n, cap;
} batch_file;
/* A usage error naming the file and line for a malformed file. */
int batch_file_read(const char *path, batch_file *b, nst_error *err);
void batch_file_free(batch_file *b);

#endif
