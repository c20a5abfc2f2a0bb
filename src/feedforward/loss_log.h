/* loss_log.h: the loss curve of a training run: one row per iteration,
 * written as CSV and drawn as a PNG plot (log-scale losses). */
#ifndef NST_LOSS_LOG_H
#define NST_LOSS_LOG_H

#include "nst.h"

enum { LOG_ITER, LOG_TOTAL, LOG_CONTENT, LOG_STYLE, LOG_TV, LOG_SECONDS, LOG_COLS };

typedef struct {
    int n, cap;
    double (*row)[LOG_COLS];
} loss_log;

int loss_log_add(loss_log *l, const double row[LOG_COLS], nst_error *err);
/* The rows of an earlier run's CSV with iteration <= upto (resume); a
 * missing file gives none. */
int loss_log_read_csv(loss_log *l, const char *path, int upto, nst_error *err);
/* Header "iteration,total,content,style,tv,seconds", then the rows; atomic. */
int loss_log_write_csv(const loss_log *l, const char *path, nst_error *err);
/* Iteration on x, log10 of the losses on y (total black, content blue,
 * style red, tv green), grey lines at the powers of 10. */
int loss_log_plot(const loss_log *l, const char *path, nst_error *err);
void loss_log_free(loss_log *l);

#endif
