"""The feed-forward style network of fast-style-transfer (Johnson et al. 2016)
in PyTorch, read straight from a deeplearn.js checkpoint directory (ml5.js'
format: manifest.json + one raw little-endian float32 file per variable).
Independent of the C code; follows ../shared/models/README.md "fast/<style>".

usage as a module: net = FastStyle(dir); y = net(x)  # x: 1x3xHxW, 0..255
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F


def arch(upsample="deconv"):
    """(kind, cin, cout, k, stride, relu) per layer; layer i reads
    Variable_{3i} (kernel), _{3i+1} (instance-norm shift), _{3i+2} (scale);
    layers 3..12 pair up into the residual blocks x + layer(2b+4)(layer(2b+3)(x)).
    upsample "nearest" (nst's variant): layers 13, 14 are nearest x2
    upsampling then a 3x3 stride-1 'SAME' convolution ("upconv", HWIO kernel)."""
    up = [("deconv", 128, 64, 3, 2, True), ("deconv", 64, 32, 3, 2, True)]
    if upsample == "nearest":
        up = [("upconv", 128, 64, 3, 1, True), ("upconv", 64, 32, 3, 1, True)]
    return ([("conv", 3, 32, 9, 1, True), ("conv", 32, 64, 3, 2, True), ("conv", 64, 128, 3, 2, True)]
            + [("conv", 128, 128, 3, 1, r) for _ in range(5) for r in (True, False)]
            + up + [("conv", 32, 3, 9, 1, False)])


ARCH = arch("deconv")


def load_checkpoint(path):
    with open(os.path.join(path, "manifest.json")) as f:
        manifest = json.load(f)
    out = {}
    for name, v in manifest.items():
        a = np.fromfile(os.path.join(path, v["filename"]), dtype="<f4")
        out[name] = torch.tensor(a.reshape(v["shape"]))
    return out


def var(k):
    return "Variable" if k == 0 else "Variable_%d" % k


def same_pad(x, k, s):
    """TensorFlow 'SAME' zero padding: total = max((ceil(n/s)-1)*s + k - n, 0),
    half (rounded down) before."""
    h, w = x.shape[2:]
    ph = max((-(-h // s) - 1) * s + k - h, 0)
    pw = max((-(-w // s) - 1) * s + k - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


def conv(kind, x, w, s):
    """The convolution of a layer; w in PyTorch's layout (conv OIHW, deconv
    ConvTranspose2d's [in, out, kh, kw])."""
    if kind == "upconv":
        x, kind = F.interpolate(x, scale_factor=2, mode="nearest"), "conv"
    if kind == "conv":
        return F.conv2d(same_pad(x, w.shape[2], s), w, stride=s)
    # TF conv2d_transpose 'SAME': ConvTranspose2d(padding 0), first 2n rows/cols
    h, wd = x.shape[2:]
    return F.conv_transpose2d(x, w, stride=s)[:, :, : h * s, : wd * s]


def instance_norm(x, shift, scale, eps=1e-3):
    mean = x.mean(dim=(2, 3), keepdim=True)
    var_ = x.var(dim=(2, 3), keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var_ + eps) * scale[None, :, None, None] + shift[None, :, None, None]


class FastStyle:
    def __init__(self, path, dtype=torch.float32):
        v = load_checkpoint(path)
        self.layers = []
        for i, (kind, cin, cout, k, s, relu) in enumerate(ARCH):
            # conv: HWIO -> OIHW; deconv: [kh, kw, out, in] -> ConvTranspose2d's [in, out, kh, kw]
            w = v[var(3 * i)].to(dtype).permute(3, 2, 0, 1).contiguous()
            want = (cin, cout) if kind == "deconv" else (cout, cin)
            assert tuple(w.shape) == want + (k, k), (i, tuple(w.shape))
            self.layers.append((kind, w, s, relu, v[var(3 * i + 1)].to(dtype), v[var(3 * i + 2)].to(dtype)))

    def layer(self, i, x):
        kind, w, s, relu, shift, scale = self.layers[i]
        y = instance_norm(conv(kind, x, w, s), shift, scale)
        return torch.relu(y) if relu else y

    @torch.no_grad()
    def __call__(self, x):
        h, w = x.shape[2:]
        for i in range(3):
            x = self.layer(i, x)
        for b in range(5):
            x = x + self.layer(4 + 2 * b, self.layer(3 + 2 * b, x))
        for i in range(13, 16):
            x = self.layer(i, x)
        y = torch.clamp(torch.tanh(x) * 150 + 127.5, 0, 255)
        return y[:, :, :h, :w]
