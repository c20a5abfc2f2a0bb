"""Run `nst stylize` and a PyTorch implementation of the same transfer side by
side and compare their final total losses and their speed.

Same network (darknet-tiny, from the same TF.js files, tests/pytorch/darknet.py),
same weights, layers, loss normalisations (docs/losses.md), optimiser
(torch.optim.LBFGS without line search, or Adam), iterations and start image.
Both read the same pre-resized PNGs, so resampling plays no part.

usage: /usr/bin/python3 tests/pytorch/compare_stylize.py [--nst build/nst]
       [--content IMG] [--style IMG] [--size 384] [--iterations 300] ...
Prints both final losses, their ratio, seconds per iteration and the speed-up,
and exits 1 when the losses differ by more than --tolerance (default 10 %).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from darknet import DarknetTiny  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "../../../shared"))


def fit(w, h, side):
    if w >= h:
        return side, max(1, round(h * side / w))
    return max(1, round(w * side / h)), side


def load_resized(path, side, out_png):
    im = Image.open(path).convert("RGB")
    im = im.resize(fit(im.width, im.height, side), Image.LANCZOS)
    im.save(out_png)
    a = np.asarray(im, dtype=np.float32).transpose(2, 0, 1).copy()
    return torch.tensor(a)[None]


def gram(f):
    c = f.shape[1]
    f = f.reshape(c, -1)
    return f @ f.t() / f.numel()


def pytorch_stylize(a, content, style):
    """The loss of docs/losses.md, optimised as nst does; returns the losses."""
    net = DarknetTiny(a.model, a.padding, a.pooling, dtype=torch.float32)
    cl, sl = a.content_layers.split(","), a.style_layers.split(",")
    last = max((net_index(net, n) for n in cl + sl))
    upto = net.layers[last]["config"]["name"]
    with torch.no_grad():
        fc = net(content, upto)
        fs = net(style, upto)
        P = {n: fc[n] for n in cl}
        A = {n: gram(fs[n]) for n in sl}
    x = content.clone().requires_grad_(True)
    losses = []

    def closure():
        if x.grad is not None:
            x.grad.zero_()
        f = net(x, upto)
        lc = sum(((f[n] - P[n]) ** 2).sum() / (P[n] ** 2).sum() for n in cl) / len(cl)
        ls = sum(((gram(f[n]) - A[n]) ** 2).sum() / (A[n] ** 2).sum() for n in sl) / len(sl)
        dh = ((x[:, :, 1:, :] - x[:, :, :-1, :]) ** 2).sum()
        dw = ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum()
        tv = (dh + dw) / x.numel()
        loss = a.content_weight * lc + a.style_weight * ls + a.tv_weight * tv
        loss.backward()
        losses.append(loss.item())
        return loss

    if a.optimizer == "lbfgs":
        opt = torch.optim.LBFGS([x], lr=a.learning_rate or 1, max_iter=a.iterations,
                                history_size=a.history, tolerance_grad=1e-7,
                                tolerance_change=1e-9)
        opt.step(closure)
    else:
        opt = torch.optim.Adam([x], lr=a.learning_rate or 10)
        for _ in range(a.iterations):
            opt.zero_grad()
            closure()
            opt.step()
    return losses


def net_index(net, name):
    for i, layer in enumerate(net.layers):
        if layer["config"]["name"] == name or layer["config"]["name"] == name.replace("conv2d", "batch_normalization"):
            return i
    raise SystemExit(f"unknown layer {name}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nst", default=os.path.join(HERE, "../../build/nst"))
    p.add_argument("--model", default=os.path.join(SHARED, "models/darknet-tiny"))
    p.add_argument("--content", default=os.path.join(SHARED, "images/content/tubingen.jpg"))
    p.add_argument("--style", default=os.path.join(SHARED, "images/style/starry_night.jpg"))
    p.add_argument("--size", type=int, default=384)
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--optimizer", default="lbfgs", choices=["lbfgs", "adam"])
    p.add_argument("--learning-rate", type=float, default=0)
    p.add_argument("--history", type=int, default=100)
    p.add_argument("--content-weight", type=float, default=1)
    p.add_argument("--style-weight", type=float, default=200)
    p.add_argument("--tv-weight", type=float, default=1e-4)
    p.add_argument("--content-layers", default="leaky_re_lu_10")
    p.add_argument("--style-layers", default="leaky_re_lu_1,leaky_re_lu_2,leaky_re_lu_4,leaky_re_lu_8,leaky_re_lu_12")
    p.add_argument("--padding", default="reflect", choices=["reflect", "zero"])
    p.add_argument("--pooling", default="max", choices=["max", "avg"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tolerance", type=float, default=0.10)
    a = p.parse_args()
    for f in (a.content, a.style, a.model, a.nst):
        if not os.path.exists(f):
            raise SystemExit(f"compare_stylize: missing {f}")
    torch.set_num_threads(a.threads)

    with tempfile.TemporaryDirectory() as tmp:
        cpng, spng, out = (os.path.join(tmp, n) for n in ("content.png", "style.png", "out.png"))
        content = load_resized(a.content, a.size, cpng)
        style = load_resized(a.style, a.size, spng)
        cmd = [a.nst, "stylize", "-c", cpng, "-s", spng, "-o", out, "--size", str(a.size),
               "--model", a.model, "--iterations", str(a.iterations), "--optimizer", a.optimizer,
               "--lbfgs-history", str(a.history), "--content-weight", str(a.content_weight),
               "--style-weight", str(a.style_weight), "--tv-weight", str(a.tv_weight),
               "--content-layers", a.content_layers, "--style-layers", a.style_layers,
               "--padding", a.padding, "--pooling", a.pooling, "--threads", str(a.threads),
               "--print-every", "1"]
        if a.learning_rate:
            cmd += ["--learning-rate", str(a.learning_rate)]
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        t_nst = time.time() - t0
        if r.returncode != 0:
            raise SystemExit(f"nst failed ({r.returncode}): {r.stderr}")
        nst_losses = [float(m) for m in re.findall(r"iter +\d+/\d+ +loss (\S+)", r.stderr)]
        t0 = time.time()
        torch_losses = pytorch_stylize(a, content, style)
        t_torch = time.time() - t0

    ln, lt = nst_losses[-1], torch_losses[-1]
    diff = abs(ln - lt) / lt
    print(f"settings: {os.path.basename(a.content)} + {os.path.basename(a.style)}, {a.size} px, "
          f"{a.optimizer}, {a.iterations} iterations, content {a.content_weight}, "
          f"style {a.style_weight}, tv {a.tv_weight}, {a.padding} padding, {a.threads} threads")
    for k in sorted({0, 9, 49, 99, a.iterations - 1}):
        if k < len(nst_losses) and k < len(torch_losses):
            print(f"  iteration {k + 1:5d}: nst {nst_losses[k]:.5g}  pytorch {torch_losses[k]:.5g}")
    print(f"final loss: nst {ln:.6g} ({len(nst_losses)} evaluations), pytorch {lt:.6g} "
          f"({len(torch_losses)} evaluations), difference {100 * diff:.2f} %")
    print(f"time: nst {t_nst:.1f} s ({t_nst / len(nst_losses):.3f} s/iteration, with loading), "
          f"pytorch {t_torch:.1f} s ({t_torch / len(torch_losses):.3f} s/iteration); "
          f"nst is {t_torch / t_nst:.2f}x as fast")
    sys.exit(0 if diff <= a.tolerance else 1)


if __name__ == "__main__":
    main()
