"""Reference gradients for tests/test_train.c: the feed-forward style network
(fast_style.py's, the 'scream' weights from ../shared/models/fast/scream) in
float64, L = sum(output * R) for a 2 x 3 x 18 x 22 batch (not a multiple of
4: the output is cropped), gradients with respect to the input and to every
variable in its deeplearn.js (TF) layout. The output clip is passed straight
through, as gen_plan_backward does: y = t + (clip(t) - t).detach(),
t = 150 tanh + 127.5.

Two architectures: 'deconv' (scream as it is) and 'nearest' (layers 13 and
14 nearest x2 upsampling + 3x3 stride-1 conv), whose kernels 13 and 14 are
scream's transposed-convolution kernels with their last two axes swapped
([k][k][cout][cin] -> HWIO [k][k][cin][cout]), as test_train.c builds it.

Writes tests/fixtures/gen_train.bin (deconv) and gen_train_nearest.bin: x,
R, y, dx = dL/dx; the full gradient of the kernels of layers 0, 14, 15
(d/Variable, d/Variable_42, d/Variable_45) and of every instance-norm shift
and scale; for every kernel k its norm (norm/Variable_k) and its projection
on P_j = (j * 7919 mod 1000) / 500 - 1 (proj/Variable_k), j the flat TF index.

Run: /usr/bin/python3 tests/pytorch/gen_train.py"""
import os

import torch

from fast_style import arch, conv, instance_norm, load_checkpoint, var
from fixture import write_bundle

HERE = os.path.dirname(__file__)
NET = os.path.join(HERE, "..", "..", "..", "shared", "models", "fast", "scream")
FULL = {0, 14, 15}  # kernels compared in full


def make(upsample, out):
    torch.manual_seed(3)
    v = {k: t.double() for k, t in load_checkpoint(NET).items()}
    layers = arch(upsample)
    if upsample == "nearest":
        for i in (13, 14):
            v[var(3 * i)] = v[var(3 * i)].transpose(2, 3).contiguous()
    for t in v.values():
        t.requires_grad_(True)

    def layer(i, x):
        kind, cin, cout, k, s, relu = layers[i]
        w = v[var(3 * i)].permute(3, 2, 0, 1)  # HWIO -> OIHW; deconv HW(out)(in) -> (in)(out)HW
        y = instance_norm(conv(kind, x, w, s), v[var(3 * i + 1)], v[var(3 * i + 2)])
        return torch.relu(y) if relu else y

    def net(x):
        h, w = x.shape[2:]
        for i in range(3):
            x = layer(i, x)
        for b in range(5):
            x = x + layer(4 + 2 * b, layer(3 + 2 * b, x))
        for i in range(13, 16):
            x = layer(i, x)
        t = 150 * torch.tanh(x) + 127.5
        y = t + (torch.clamp(t, 0, 255) - t).detach()
        return y[:, :, :h, :w]

    x = (255 * torch.rand(2, 3, 18, 22)).float().double().requires_grad_(True)
    R = (2 * torch.rand(2, 3, 18, 22) - 1).float().double()
    y = net(x)
    (y * R).sum().backward()
    cases = {"x": x, "R": R, "y": y, "dx": x.grad}
    for i in range(16):
        g = v[var(3 * i)].grad
        j = torch.arange(g.numel(), dtype=torch.int64)
        P = ((j * 7919) % 1000).double() / 500 - 1
        cases["norm/" + var(3 * i)] = g.norm().reshape(1)
        cases["proj/" + var(3 * i)] = (g.reshape(-1) * P).sum().reshape(1)
        if i in FULL:
            cases["d/" + var(3 * i)] = g
        cases["d/" + var(3 * i + 1)] = v[var(3 * i + 1)].grad
        cases["d/" + var(3 * i + 2)] = v[var(3 * i + 2)].grad
    write_bundle(out, cases)
    print("wrote %s: %d tensors, %d bytes" % (out, len(cases), os.path.getsize(out)))


make("deconv", os.path.join(HERE, "..", "fixtures", "gen_train.bin"))
make("nearest", os.path.join(HERE, "..", "fixtures", "gen_train_nearest.bin"))
