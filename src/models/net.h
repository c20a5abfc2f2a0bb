/* net.h: loss networks. A loss network is a graph (graph/graph.h) built by
 * one reader per source format, run by the plan (graph/plan.h):
 *   keras_net.c  TensorFlow.js layers model -> graph (BatchNorm folded into conv)
 *   vgg.c        torchvision VGG16/VGG19 state_dict (.pth or safetensors) -> graph
 * Their nodes form a chain, so node i is "layer i" of the public API. */
#ifndef NST_NET_H
#define NST_NET_H

#include "graph/graph.h"
#include "graph/plan.h"
#include "io/io.h"

/* keras_net.c: build from a loaded TensorFlow.js model: a linear chain of
 * InputLayer, Conv2D, BatchNormalization (folded into the conv before it),
 * LeakyReLU / ReLU / Activation('relu'), MaxPooling2D; anything after the
 * last of those (GlobalAveragePooling2D, Dense, Softmax...) is dropped since a
 * loss network needs only feature maps. Input scale: RGB / 255. */
int net_from_keras(const tfjs_model *m, graph *net, nst_error *err);
/* vgg.c: build from a torchvision VGG16/19 state_dict (keys features.N.weight
 * / features.N.bias). Layers are named conv1_1, relu1_1, ..., pool1, ...;
 * the input is normalised with ImageNet mean/std as torchvision expects. */
int net_from_vgg(const tensor_dict *d, graph *net, nst_error *err);

#endif
