"""Reference values for tests/test_losses.c: each loss of src/losses and its
gradient by torch autograd in float64, from float32 inputs (so the reference
is exact for the stored inputs). Writes tests/fixtures/losses.bin.

Run: /usr/bin/python3 tests/pytorch/gen_losses.py"""
import os

import torch

from fixture import write_bundle

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "losses.bin")


def f32(*shape, lo=0.0, hi=1.0):
    """Random float32 values promoted to float64 (exactly representable)."""
    return (lo + (hi - lo) * torch.rand(*shape)).float().double()


def gram(F):
    C, HW = F.shape
    return F @ F.T / (C * HW)


def content(w, F, P):
    return w * ((F - P) ** 2).sum() / (P ** 2).sum()


def style(w, F, A):
    return w * ((gram(F) - A) ** 2).sum() / (A ** 2).sum()


def tv(w, x):
    c, h, wd = x.shape
    dh = x[:, :, 1:] - x[:, :, :-1]
    dv = x[:, 1:, :] - x[:, :-1, :]
    return w * ((dh ** 2).sum() + (dv ** 2).sum()) / (c * h * wd)


def with_grad(fn, w, x, *rest):
    x = x.clone().requires_grad_(True)
    loss = fn(w, x, *rest)
    loss.backward()
    return loss.detach().reshape(1), x.grad


out = {}
# content: C=4 x HW=15 (a 3x5 map), ReLU-like features
F, P = f32(4, 15, hi=2.0), f32(4, 15, hi=2.0)
out["content.w"] = torch.tensor([0.7])
out["content.F"], out["content.P"] = F, P
out["content.loss"], out["content.grad"] = with_grad(content, 0.7, F, P)

# style: C < HW and C > HW; target A = Gram of another feature map
for tag, C, HW, w in (("style1", 6, 35, 2.5), ("style2", 8, 3, 0.4)):
    F, T = f32(C, HW, hi=3.0), f32(C, HW, hi=3.0)
    A = gram(T).float().double()
    out[tag + ".w"] = torch.tensor([w])
    out[tag + ".F"], out[tag + ".A"] = F, A
    out[tag + ".G"] = gram(F)
    out[tag + ".loss"], out[tag + ".grad"] = with_grad(style, w, F, A)

# tv: a non-square 3 x 5 x 7 image with pixel values 0..255
x = f32(3, 5, 7, hi=255.0)
out["tv.w"] = torch.tensor([0.3])
out["tv.x"] = x
out["tv.loss"], out["tv.grad"] = with_grad(tv, 0.3, x)

write_bundle(OUT, out)
print("wrote", OUT, os.path.getsize(OUT), "bytes")
