"""Reference values for tests/test_layers.c: every layer of src/layers, its
output and the gradient w.r.t. its input for a random upstream gradient
dout, by torch autograd in float64 from float32 inputs (so the reference is
exact for the stored inputs). Writes tests/fixtures/layers.bin with, per
case <name>: <name>.x, .dout, .y, .dx and for convolutions .w (and .b).

TensorFlow 'SAME' is built from explicit F.pad: zeros for convolution,
-inf for max pooling, and sum-pool / count-pool of ones for the average
(which excludes the padding from the count).

Run: /usr/bin/python3 tests/pytorch/gen_layers.py"""
import os

import torch
import torch.nn.functional as F

from fixture import write_bundle

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "layers.bin")


def f32(*shape, lo=-1.0, hi=1.0):
    """Random float32 values promoted to float64 (exactly representable)."""
    return (lo + (hi - lo) * torch.rand(*shape)).float().double()


def away_from_zero(*shape):
    """Values in +-[0.05, 1): finite differences stay clear of the kink."""
    sign = torch.randint(0, 2, shape).double() * 2 - 1
    return sign * f32(*shape, lo=0.05, hi=1.0)


def distinct(*shape):
    """A shuffled ramp in [-1, 1): no ties and gaps >= 2/numel, so max
    pooling's arg-max is stable under small perturbations."""
    n = 1
    for s in shape:
        n *= s
    return (torch.randperm(n).double() * (2.0 / n) - 1.0).float().double().reshape(shape)


def same(n, k, s):
    """TF 'SAME' along one axis: (before, after)."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def same_pad(x, k, s, value=0.0):
    t, b = same(x.shape[2], k, s)
    l, r = same(x.shape[3], k, s)
    return F.pad(x, (l, r, t, b), value=value)


cases = {}


def record(name, x, fn, **params):
    """Run fn(x) in float64, backprop a random dout, store float32 copies."""
    x = x.clone().requires_grad_(True)
    y = fn(x)
    dout = f32(*y.shape)
    y.backward(dout)
    cases[name + ".x"] = x
    for k, v in params.items():
        cases[name + "." + k] = v
    cases[name + ".dout"] = dout
    cases[name + ".y"] = y
    cases[name + ".dx"] = x.grad


def conv(name, shape, cout, k, stride=1, pad=0, bias=True, tf_same=False):
    cin = shape[1]
    w = f32(cout, cin, k, k, lo=-0.3, hi=0.3)
    b = f32(cout) if bias else None

    def fn(x):
        if tf_same:
            x = same_pad(x, k, stride)
        return F.conv2d(x, w, b, stride=stride, padding=pad)

    record(name, f32(*shape), fn, w=w, **({"b": b} if bias else {}))


conv("conv3x3_bias", (1, 3, 7, 6), 4, 3, pad=1)
conv("conv1x1_nobias", (1, 5, 4, 5), 3, 1, bias=False)
conv("conv9x9", (1, 3, 10, 11), 2, 9, pad=4)
conv("conv_batch2_odd", (2, 3, 5, 7), 4, 3, pad=1)
# stride 2 SAME: 8 -> pads (0, 1); 7 and 9 -> (1, 1); 6 -> (0, 1)
conv("conv_s2_same_even", (1, 3, 8, 8), 4, 3, stride=2, tf_same=True)
conv("conv_s2_same_odd", (1, 2, 7, 9), 3, 3, stride=2, tf_same=True)
conv("conv_s2_same_mixed", (2, 2, 6, 7), 3, 3, stride=2, tf_same=True)
# stride 1 SAME with an even kernel: pads (1, 2)
conv("conv_k4_same", (1, 2, 6, 5), 2, 4, bias=False, tf_same=True)

# reflect padding 1 then a 3x3 valid convolution
w = f32(4, 3, 3, 3, lo=-0.3, hi=0.3)
b = f32(4)
record("reflect_conv", f32(1, 3, 5, 6),
       lambda x: F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), w, b), w=w, b=b)

# reflect padding alone, t=1 l=2 b=3 r=0 (F.pad order: l, r, t, b)
record("reflect_pad", f32(2, 2, 5, 6), lambda x: F.pad(x, (2, 0, 1, 3), mode="reflect"))

record("leaky", away_from_zero(2, 3, 4, 5), lambda x: F.leaky_relu(x, 0.1))
record("relu", away_from_zero(2, 3, 4, 5), F.relu)

def maxpool(k, s):
    return lambda x: F.max_pool2d(same_pad(x, k, s, float("-inf")), k, s)


def avgpool(k, s):
    return lambda x: (F.avg_pool2d(same_pad(x, k, s), k, s)
                      / F.avg_pool2d(same_pad(torch.ones_like(x), k, s), k, s))


for kind, make in (("maxpool", maxpool), ("avgpool", avgpool)):
    record(kind + "_even", distinct(1, 3, 6, 8), make(2, 2))
    record(kind + "_odd", distinct(2, 2, 5, 7), make(2, 2))  # out 3x4, pad after
    record(kind + "_k2s1", distinct(1, 2, 5, 5), make(2, 1))  # darknet-tiny's last pool
    record(kind + "_k3s2", distinct(1, 2, 7, 8), make(3, 2))  # pads (1,1) and (0,1)

write_bundle(OUT, cases)
print("wrote %s: %d tensors, %d bytes" % (OUT, len(cases), os.path.getsize(OUT)))
