/* checkpoint.h: the state of an interrupted nst_stylize run, so that a
 * resumed run ends exactly as the uninterrupted one would: the image, the
 * optimiser's state (Adam m, v, t; L-BFGS (s, y, rho) pairs oldest first,
 * the last step d, g_prev, prev_loss, t) and where the run stood. Stored as
 * safetensors (tensors "image", "adam.m", "adam.v", "lbfgs.s", "lbfgs.y",
 * "lbfgs.d", "lbfgs.g_prev"; scalars as __metadata__ strings, doubles in
 * %.17g so they round-trip exactly). */
#ifndef NST_CHECKPOINT_H
#define NST_CHECKPOINT_H

#include "io/io.h"
#include "optim/optim.h"

typedef struct {
    int scale;         /* 1-based scale the run was in */
    int iteration;     /* iterations of that scale completed */
    double done_work;  /* pixels x iterations done, for the time estimate */
    double elapsed;    /* seconds spent before the checkpoint */
} ckpt_position;

/* Write x and the state of the optimiser in use (NST_OPT_*) atomically. */
int ckpt_save(const char *path, const ckpt_position *pos, const nst_image *x, int optimizer,
              const adam_state *adam, const lbfgs_state *lbfgs, nst_error *err);
/* Read a checkpoint written for `optimizer`: its position, and its tensors
 * and metadata in d (free with dict_free). */
int ckpt_load(const char *path, int optimizer, ckpt_position *pos, tensor_dict *d,
              nst_error *err);
/* Fill x (already allocated at the scale's size) and the initialised
 * optimiser from a loaded checkpoint; a size or history mismatch is an error. */
int ckpt_restore(const tensor_dict *d, nst_image *x, int optimizer, adam_state *adam,
                 lbfgs_state *lbfgs, nst_error *err);

#endif
