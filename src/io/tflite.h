/* tflite.h: TensorFlow Lite flatbuffers (Magenta's arbitrary-style pair) as
 * graphs. The reader knows the operators those networks use: CONV_2D,
 * DEPTHWISE_CONV_2D, ADD, MEAN, MIRROR_PAD, RESIZE_NEAREST_NEIGHBOR,
 * LOGISTIC, QUANTIZE / DEQUANTIZE (identities on activations; on constants,
 * fp16 and int8 weights are dequantised to float at load) and the
 * MEAN / SQUARED_DIFFERENCE / RSQRT / MUL / SUB / ADD pattern of an instance
 * norm, which becomes one OP_INSTNORM (conditional when its scale and shift
 * come from 1x1 convolutions of the style vector). Graph input 0 is the RGB
 * image in 0..1; a transfer network's input 1 is the style vector
 * (a c x 1 x 1 map). */
#ifndef NST_TFLITE_H
#define NST_TFLITE_H

#include <stddef.h>

#include "graph/graph.h"
#include "nst.h"

/* Read the .tflite file at path into g. On failure g is left empty. */
int tflite_load(const char *path, graph *g, nst_error *err);
/* The same from len bytes in memory; `name` stands for the file in messages
 * and g->path. */
int tflite_load_memory(const unsigned char *buf, size_t len, const char *name, graph *g,
                       nst_error *err);

#endif
