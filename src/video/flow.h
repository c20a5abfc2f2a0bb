/* flow.h: dense optical flow between two frames, OpenCV's DIS (Kroeger et
 * al. 2016, "Fast Optical Flow using Dense Inverse Search") behind a C
 * interface (flow.cpp, the one C++ file). */
#ifndef NST_FLOW_H
#define NST_FLOW_H

#include <stdint.h>

#include "nst.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Speed against accuracy, OpenCV's presets. */
typedef enum { FLOW_ULTRAFAST = 0, FLOW_FAST = 1, FLOW_MEDIUM = 2 } flow_preset;

typedef struct flow_estimator flow_estimator;

int flow_create(flow_preset preset, flow_estimator **f, nst_error *err);
/* The flow from a to b, w x h 8-bit grey frames: uv[2 (y w + x) + 0/1] is the
 * displacement (u, v) such that a(x, y) ~ b(x + u, y + v). Each call depends
 * on a and b alone; an estimator is not shared between threads. */
int flow_compute(flow_estimator *f, const uint8_t *a, const uint8_t *b, int w, int h, float *uv,
                 nst_error *err);
void flow_free(flow_estimator *f);
/* OpenCV's own thread pool (nst_set_threads). */
void flow_set_threads(int n);

#ifdef __cplusplus
}
#endif
#endif
