"""The PyTorch side of the feed-forward benchmarks (bench/run.py runs it; see
bench/README.md), the counterpart of bench_feedforward.

  torch_feedforward.py crops --photos DIR --dir D [--batch 4] [--crop 256]
      write D/crop_0.png ...: the first `batch` photos of DIR (by name), each
      cropped to crop x crop at a seeded random place.
  torch_feedforward.py apply --net DIR --image PNG [--out PNG] ...
      time one forward pass of tests/pytorch/fast_style.py's network
      (torch.no_grad); --out gets the first pass's output, rounded.
  torch_feedforward.py onnx --net DIR --image PNG --out ONNX --ppm PPM
      the inputs of bench/onnx/onnx_apply.js (ONNX Runtime's side of apply):
      fast_style.py's network exported with torch.onnx.export at the image's
      size, and the image as a binary PPM (Node has no PNG reader).
  torch_feedforward.py train --net DIR --model DIR --style PNG --batch PNG,PNG,... ...
      time one nst-train step: the generator (fast_style.py's, with gradients)
      on the batch, darknet-tiny (tests/pytorch/darknet.py) content targets of
      the batch, the loss of compare_stylize.py per image averaged over the
      batch (as src/stylize/loss_engine.h), backward, Adam (lr 1e-3).

apply and train print one JSON line like bench_feedforward. Float32, 2 threads.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from PIL import Image

from torch_gatys import gatys_loss, maxrss_kb, read_png  # also puts tests/pytorch on the path
from compare_stylize import gram, net_index  # noqa: E402
from darknet import DarknetTiny  # noqa: E402
from fast_style import FastStyle  # noqa: E402

TRAIN_STYLE_WEIGHT = 50.0  # nst_train_params_init; content and TV weights as nst stylize
LEARNING_RATE = 1e-3


def crops(a):
    os.makedirs(a.dir, exist_ok=True)
    rng = np.random.default_rng(0)
    photos = sorted(f for f in os.listdir(a.photos) if not f.startswith("."))[: a.batch]
    for i, name in enumerate(photos):
        im = Image.open(os.path.join(a.photos, name)).convert("RGB")
        if min(im.size) < a.crop:
            raise SystemExit(f"{name}: smaller than the crop {a.crop}")
        x0, y0 = (int(rng.integers(0, s - a.crop + 1)) for s in im.size)
        im.crop((x0, y0, x0 + a.crop, y0 + a.crop)).save(os.path.join(a.dir, f"crop_{i}.png"))


def timed(fn, warmup, steps):
    """fn() once (its value is returned), warmup - 1 more times, then `steps` timed calls."""
    first = fn()
    for _ in range(warmup - 1):
        fn()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return first, times


def apply(a):
    base = maxrss_kb()
    net = FastStyle(a.net)
    x = read_png(a.image)
    y, times = timed(lambda: net(x), a.warmup, a.steps)
    if a.out:
        Image.fromarray(y[0].permute(1, 2, 0).round().to(torch.uint8).numpy()).save(a.out)
    print(json.dumps({"side": "pytorch", "bench": "apply", "w": x.shape[3], "h": x.shape[2],
                      "threads": a.threads, "maxrss_kb": maxrss_kb(), "baseline_kb": base,
                      "times": times}))


def onnx(a):
    class Generator(torch.nn.Module):  # torch.onnx.export traces modules, FastStyle is not one
        def forward(self, x):
            return net(x)

    net = FastStyle(a.net)
    x = read_png(a.image)
    # traced at this size: same_pad and the output crop compute with Python ints
    torch.onnx.export(Generator(), x, a.out, input_names=["image"], output_names=["stylized"],
                      opset_version=17)
    Image.open(a.image).convert("RGB").save(a.ppm)


def train(a):
    base = maxrss_kb()
    cl, sl = a.content_layers.split(","), a.style_layers.split(",")
    gen = FastStyle(a.net)
    params = [t for (_, w, _, _, shift, scale) in gen.layers for t in (w, shift, scale)]
    for t in params:
        t.requires_grad_(True)
    # FastStyle.__call__ without its torch.no_grad(); its clamp passes no
    # gradient where the output saturates, nst's clip passes it straight through
    generate = FastStyle.__call__.__wrapped__
    net = DarknetTiny(a.model, "reflect", "max", dtype=torch.float32)
    upto = net.layers[max(net_index(net, n) for n in cl + sl)]["config"]["name"]
    x = torch.cat([read_png(p) for p in a.batch.split(",")])
    with torch.no_grad():
        fs = net(read_png(a.style), upto)
        A = {n: gram(fs[n]) for n in sl}
    opt = torch.optim.Adam(params, lr=LEARNING_RATE)

    def train_step():
        with torch.no_grad():
            fc = net(x, upto)
        y = generate(gen, x)
        f = net(y, upto)
        loss = sum(gatys_loss({n: f[n][b:b + 1] for n in cl + sl}, y[b:b + 1],
                              {n: fc[n][b:b + 1] for n in cl}, A, cl, sl, TRAIN_STYLE_WEIGHT)
                   for b in range(len(x))) / len(x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    loss, times = timed(train_step, a.warmup, a.steps)
    print(json.dumps({"side": "pytorch", "bench": "train", "w": x.shape[3], "h": x.shape[2],
                      "batch": len(x), "threads": a.threads, "loss": loss,
                      "maxrss_kb": maxrss_kb(), "baseline_kb": base, "times": times}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    pc = sub.add_parser("crops")
    pc.add_argument("--photos", required=True)
    pc.add_argument("--dir", required=True)
    pc.add_argument("--batch", type=int, default=4)
    pc.add_argument("--crop", type=int, default=256)
    for name in ("apply", "train"):
        sp = sub.add_parser(name)
        sp.add_argument("--net", required=True, help="style network (deeplearn.js checkpoint)")
        sp.add_argument("--warmup", type=int, default=1)
        sp.add_argument("--steps", type=int, default=3)
        sp.add_argument("--threads", type=int, default=2)
    pa = sub.choices["apply"]
    pa.add_argument("--image", required=True)
    pa.add_argument("--out")
    po = sub.add_parser("onnx")
    for name in ("--net", "--image", "--out", "--ppm"):
        po.add_argument(name, required=True)
    pt = sub.choices["train"]
    pt.add_argument("--model", required=True, help="darknet-tiny directory")
    pt.add_argument("--style", required=True)
    pt.add_argument("--batch", required=True, help="comma-separated crops")
    pt.add_argument("--content-layers", required=True)
    pt.add_argument("--style-layers", required=True)
    a = p.parse_args()
    if a.cmd in ("apply", "train"):
        torch.set_num_threads(a.threads)
    {"crops": crops, "apply": apply, "onnx": onnx, "train": train}[a.cmd](a)


if __name__ == "__main__":
    main()
