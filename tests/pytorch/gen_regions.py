"""Fixture for tests/test_regions.c: the style transfer loss with regions
(guided Gram matrices, Gatys et al. 2017) through darknet-tiny and its
gradient with respect to the image, by torch autograd in float64.

Three soft regions over a 32 x 48 image: region 0 painted in style 0,
region 1 in style 1, region 2 kept as the photo (no style term). Each style
layer's guidance channel is the region's weights area-averaged to the
layer (the layers are the image halved k times, so that is avg_pool2d of
2^k), its Gram matrix G_r = F diag(m_r) F^T / (C sum m_r), matched to its
painting's plain Gram matrix A; each region's loss is weighted by its share
sum(m_r) / (h w) of the layer. Content, TV and the weights as nst stylize's
defaults (docs/losses.md), average pooling and reflect padding.

usage: /usr/bin/python3 tests/pytorch/gen_regions.py [MODEL_DIR]"""
import os
import sys

import torch
import torch.nn.functional as Fn

sys.path.insert(0, os.path.dirname(__file__))
from darknet import DarknetTiny  # noqa: E402
from fixture import write_bundle  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../shared/models/darknet-tiny")
STYLE = ["leaky_re_lu_1", "leaky_re_lu_2", "leaky_re_lu_4", "leaky_re_lu_8", "leaky_re_lu_12"]
CONTENT = "leaky_re_lu_10"
CONTENT_W, STYLE_W, TV_W = 1.0, 200.0, 1e-4
H, W = 32, 48
REGION_STYLE = [0, 1, -1]

torch.manual_seed(0)


def f32(t):
    return t.float().double()  # float32 values, exact in float64


def image():
    return f32(torch.rand(1, 3, H, W, dtype=torch.float64) * 255)


# soft regions: a horizontal ramp between 0 and 1, a vertical ramp between
# (0 or 1) and 2, so every pixel of the middle is shared
yy, xx = torch.meshgrid(torch.linspace(0, 1, H, dtype=torch.float64),
                        torch.linspace(0, 1, W, dtype=torch.float64), indexing="ij")
lower = f32(torch.clamp((yy - 0.55) / 0.2, 0, 1))  # region 2 at the bottom
left = f32(torch.clamp((0.65 - xx) / 0.3, 0, 1))
m = torch.stack([(1 - lower) * left, (1 - lower) * (1 - left), lower])
m = f32(m / m.sum(0, keepdim=True))

content, x = image(), image()
styles = [image(), image()]
net = DarknetTiny(model_dir, "reflect", "avg")


def gram(f):
    c = f.shape[1]
    f = f.reshape(c, -1)
    return f @ f.t() / f.numel()


with torch.no_grad():
    P = net(content, CONTENT)[CONTENT]
    A = [{n: gram(fs[n]) for n in STYLE} for fs in (net(s, STYLE[-1]) for s in styles)]

xg = x.clone().requires_grad_(True)
f = net(xg, STYLE[-1])
content_loss = CONTENT_W * ((f[CONTENT] - P) ** 2).sum() / (P ** 2).sum()
style_loss = 0
for n in STYLE:
    F = f[n][0]
    c, h, w = F.shape
    k = H // h
    guides = Fn.avg_pool2d(m[None], k)[0] if k > 1 else m
    for r, s in enumerate(REGION_STYLE):
        if s < 0:
            continue
        mr = guides[r].reshape(-1)
        Fm = F.reshape(c, -1)
        G = (Fm * mr) @ Fm.t() / (c * mr.sum())
        share = mr.sum() / (h * w)
        style_loss = style_loss + STYLE_W / len(STYLE) * share * ((G - A[s][n]) ** 2).sum() / (A[s][n] ** 2).sum()
dh = ((xg[:, :, 1:, :] - xg[:, :, :-1, :]) ** 2).sum()
dw = ((xg[:, :, :, 1:] - xg[:, :, :, :-1]) ** 2).sum()
tv_loss = TV_W * (dh + dw) / xg.numel()
loss = content_loss + style_loss + tv_loss
loss.backward()

out = {"x": x[0], "content": content[0], "style0": styles[0][0], "style1": styles[1][0], "regions": m,
       "loss": loss.detach().reshape(1), "style_loss": style_loss.detach().reshape(1),
       "grad": xg.grad[0]}
write_bundle(os.path.join(here, "../fixtures/regions.bin"), out)
print("wrote tests/fixtures/regions.bin: loss %.6g (content %.4g, style %.4g, tv %.3g)"
      % (loss.item(), content_loss.item(), style_loss.item(), tv_loss.item()))
