"""Reference values for tests/test_gen_layers.c: the layers of the
feed-forward style networks (convolution parameter gradients, TensorFlow
'SAME' transposed convolution, instance norm, nearest upsampling, scaled
tanh), by torch autograd in float64 from float32 inputs. Writes
tests/fixtures/gen_layers.bin with, per case <name>: .x, .dout, .y, .dx,
each parameter P with its gradient .dP (convolutions: w, b; instance norm:
scale, shift, plus .mean, .rstd), and for the convolutions .w2 / .y2, the
output after the weights are replaced by w2.

Run: /usr/bin/python3 tests/pytorch/gen_gen_layers.py"""
import os

import torch
import torch.nn.functional as F

from fixture import write_bundle

torch.manual_seed(1)
OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "gen_layers.bin")
EPS = 1e-5  # instance norm; test_gen_layers.c uses the same
TANH_A, TANH_B = 150.0, 127.5


def f32(*shape, lo=-1.0, hi=1.0):
    """Random float32 values promoted to float64 (exactly representable)."""
    return (lo + (hi - lo) * torch.rand(*shape)).float().double()


def same(n, k, s):
    """TF 'SAME' along one axis for input n: (before, after)."""
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


cases = {}


def record(name, x, fn, **params):
    """y = fn(x, **params) in float64; backprop a random dout; store float32."""
    x = x.clone().requires_grad_(True)
    params = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    y = fn(x, **params)
    dout = f32(*y.shape)
    y.backward(dout)
    cases[name + ".x"] = x
    cases[name + ".dout"] = dout
    cases[name + ".y"] = y
    cases[name + ".dx"] = x.grad
    for k, v in params.items():
        cases[name + "." + k] = v
        cases[name + ".d" + k] = v.grad


def conv_same(x, w, b, s):
    """Convolution with TF 'SAME' zero padding."""
    t, bo = same(x.shape[2], w.shape[2], s)
    l, r = same(x.shape[3], w.shape[3], s)
    return F.conv2d(F.pad(x, (l, r, t, bo)), w, b, stride=s)


def deconv_same(x, w, b, s):
    """TF conv2d_transpose 'SAME': the full transposed convolution cropped to
    h*s x w*s, starting at the 'SAME' padding before of the adjoint conv."""
    k, oh, ow = w.shape[2], x.shape[2] * s, x.shape[3] * s
    t, l = same(oh, k, s)[0], same(ow, k, s)[0]
    return F.conv_transpose2d(x, w, b, stride=s)[:, :, t:t + oh, l:l + ow]


def conv(name, shape, cout, k, stride=1, pad=0, tf_same=False, bias=True):
    w = f32(cout, shape[1], k, k, lo=-0.3, hi=0.3)
    params = {"w": w, "b": f32(cout)} if bias else {"w": w}

    def fn(x, w, b=None):
        if tf_same:
            return conv_same(x, w, b, stride)
        return F.conv2d(x, w, b, stride=stride, padding=pad)

    record(name, f32(*shape), fn, **params)
    w2 = f32(*w.shape, lo=-0.3, hi=0.3)
    cases[name + ".w2"] = w2
    cases[name + ".y2"] = fn(cases[name + ".x"], w2, params.get("b"))


def deconv(name, shape, cout, k, stride, bias=True):
    w = f32(shape[1], cout, k, k, lo=-0.3, hi=0.3)
    params = {"w": w, "b": f32(cout)} if bias else {"w": w}
    x = f32(*shape)
    record(name, x, lambda x, w, b=None: deconv_same(x, w, b, stride), **params)
    w2 = f32(*w.shape, lo=-0.3, hi=0.3)
    cases[name + ".w2"] = w2
    cases[name + ".y2"] = deconv_same(x, w2, params.get("b"), stride)
    # it is the adjoint of the 'SAME' convolution: <T x, z> = <x, C z>
    z = f32(shape[0], cout, shape[2] * stride, shape[3] * stride)
    lhs = (deconv_same(x, w, None, stride) * z).sum()
    rhs = (x * conv_same(z, w, None, stride)).sum()
    assert abs(lhs - rhs) < 1e-10 * (1 + abs(lhs)), (name, lhs, rhs)


conv("conv3x3", (2, 3, 6, 5), 4, 3, pad=1)
conv("conv9x9", (1, 3, 10, 11), 2, 9, pad=4)
# stride 2 SAME on 7 x 8: pads (1, 1) rows, (0, 1) columns
conv("conv_s2_same", (1, 3, 7, 8), 4, 3, stride=2, tf_same=True)
conv("conv_nobias", (1, 4, 5, 4), 3, 3, pad=1, bias=False)

deconv("deconv_even", (2, 4, 4, 4), 3, 3, 2)   # pads (0, 1): first 8 x 8
deconv("deconv_odd", (1, 3, 3, 5), 2, 3, 2)    # 6 x 10
deconv("deconv_k4", (1, 2, 3, 4), 3, 4, 2, bias=False)  # pads (1, 1)


def instnorm(x, scale, shift):
    return F.instance_norm(x, weight=scale, bias=shift, eps=EPS)


x = f32(2, 3, 5, 6) * 2 + f32(2, 3, 1, 1) * 3  # per-channel offsets
record("instnorm", x, instnorm, scale=f32(3, lo=0.5, hi=1.5), shift=f32(3))
var, mean = torch.var_mean(x, dim=(2, 3), unbiased=False)
cases["instnorm.mean"] = mean
cases["instnorm.rstd"] = 1 / torch.sqrt(var + EPS)

record("upsample2", f32(2, 3, 3, 4), lambda x: F.interpolate(x, scale_factor=2, mode="nearest"))
record("upsample3", f32(1, 2, 2, 3), lambda x: F.interpolate(x, scale_factor=3, mode="nearest"))

record("tanh", f32(2, 3, 4, 5, lo=-3, hi=3), lambda x: TANH_A * torch.tanh(x) + TANH_B)

write_bundle(OUT, cases)
print("wrote %s: %d tensors, %d bytes" % (OUT, len(cases), os.path.getsize(OUT)))
