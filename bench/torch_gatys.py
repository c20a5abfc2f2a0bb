"""The PyTorch side of the benchmark (bench/run.py runs it; see bench/README.md).

  torch_gatys.py prepare --dir D --sizes 256,512 [--vgg]
      write the inputs: content_N.png, style_N.png, x_N.png (tubingen and
      starry_night fitted to long side N, x = content + fixed noise) and, with
      --vgg, vgg19.pth: a torchvision-layout VGG19 `features` state_dict with
      random (He-initialised, seed 0) weights.
  torch_gatys.py step --net vgg19|darknet --model PATH --content PNG --style PNG --x PNG ...
      time one Gatys step (forward, content + style + TV loss, backward to
      the image) like bench_gatys; prints the same JSON.
  torch_gatys.py stylize --model DIR --content PNG --style PNG --iterations N
      the L-BFGS loop of tests/pytorch/compare_stylize.py; prints JSON.

Float32 (step --precision bf16: the forward pass and the loss under
torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's mixed precision),
2 threads; the network weights take no gradient.
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../tests/pytorch"))
from compare_stylize import gram, load_resized, net_index, pytorch_stylize  # noqa: E402
from darknet import DarknetTiny  # noqa: E402

# torchvision's VGG19 configuration "E"
VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
             512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
CONTENT_WEIGHT, STYLE_WEIGHT, TV_WEIGHT = 1.0, 200.0, 1e-4  # nst's defaults


def maxrss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class VGG19(torch.nn.Module):
    """torchvision's vgg19().features (keys features.N.*), named as nst names
    the layers (conv1_1, relu1_1, pool1, ...); forward(x255, upto) returns
    {name: output} like DarknetTiny."""

    def __init__(self, padding="reflect"):
        super().__init__()
        layers, self.names, cin, block, conv = [], [], 3, 1, 1
        for v in VGG19_CFG:
            if v == "M":
                layers.append(torch.nn.MaxPool2d(2, 2))
                self.names.append(f"pool{block}")
                block, conv = block + 1, 1
                continue
            mode = "reflect" if padding == "reflect" else "zeros"
            layers += [torch.nn.Conv2d(cin, v, 3, padding=1, padding_mode=mode),
                       torch.nn.ReLU(inplace=True)]
            self.names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            cin, conv = v, conv + 1
        self.features = torch.nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(MEAN)[:, None, None])
        self.register_buffer("std", torch.tensor(STD)[:, None, None])

    def forward(self, x255, upto=None):
        x = (x255 / 255.0 - self.mean) / self.std
        out = {}
        for name, layer in zip(self.names, self.features):
            x = out[name] = layer(x)
            if name == upto:
                break
        return out


def random_vgg19(path):
    torch.manual_seed(0)
    net = VGG19()
    for m in net.features:
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.normal_(m.bias, std=0.01)
    sd = {k: v for k, v in net.state_dict().items() if k.startswith("features.")}
    torch.save(sd, path + ".tmp")
    os.replace(path + ".tmp", path)


def prepare(a):
    os.makedirs(a.dir, exist_ok=True)
    if a.vgg and not os.path.exists(os.path.join(a.dir, "vgg19.pth")):
        random_vgg19(os.path.join(a.dir, "vgg19.pth"))
    for n in map(int, a.sizes.split(",")):
        content = load_resized(a.content, n, os.path.join(a.dir, f"content_{n}.png"))
        load_resized(a.style, n, os.path.join(a.dir, f"style_{n}.png"))
        noise = np.random.default_rng(0).uniform(-40, 40, content.shape[1:]).astype(np.float32)
        x = np.clip(content[0].numpy() + noise, 0, 255).round().astype(np.uint8)
        Image.fromarray(x.transpose(1, 2, 0)).save(os.path.join(a.dir, f"x_{n}.png"))


def read_png(path):
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32).transpose(2, 0, 1)
    return torch.tensor(a.copy())[None]


def load_net(a):
    if a.net == "vgg19":
        net = VGG19(a.padding)
        net.load_state_dict(torch.load(a.model), strict=False)  # mean/std are not in the file
        net.requires_grad_(False)
        upto = max((net.names.index(n) for n in a.cl + a.sl))
        return net, net.names[upto]
    net = DarknetTiny(a.model, a.padding, "max", dtype=torch.float32)
    return net, net.layers[max(net_index(net, n) for n in a.cl + a.sl)]["config"]["name"]


def gatys_loss(f, x, P, A, cl, sl, style_weight=STYLE_WEIGHT):
    """The loss of docs/losses.md, as in compare_stylize.py, of one image x
    (1 x 3 x H x W) whose features are f: content targets P, Gram targets A."""
    lc = sum(((f[n] - P[n]) ** 2).sum() / (P[n] ** 2).sum() for n in cl) / len(cl)
    ls = sum(((gram(f[n]) - A[n]) ** 2).sum() / (A[n] ** 2).sum() for n in sl) / len(sl)
    dh = ((x[:, :, 1:, :] - x[:, :, :-1, :]) ** 2).sum()
    dw = ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum()
    return CONTENT_WEIGHT * lc + style_weight * ls + TV_WEIGHT * (dh + dw) / x.numel()


def step(a):
    base = maxrss_kb()
    torch.set_num_threads(a.threads)
    a.cl, a.sl = a.content_layers.split(","), a.style_layers.split(",")
    net, upto = load_net(a)
    content, style, x0 = (read_png(p) for p in (a.content, a.style, a.x))
    with torch.no_grad():
        fc, fs = net(content, upto), net(style, upto)
        P = {n: fc[n] for n in a.cl}
        A = {n: gram(fs[n]) for n in a.sl}
    x = x0.clone().requires_grad_(True)

    def gatys_step():
        x.grad = None
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "bf16"):
            loss = gatys_loss(net(x, upto), x, P, A, a.cl, a.sl)
        loss.backward()
        return loss.item()

    loss = gatys_step()
    for _ in range(a.warmup - 1):
        gatys_step()
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        gatys_step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"side": "pytorch", "net": a.net, "w": x.shape[3], "h": x.shape[2],
                      "threads": a.threads, "loss": loss, "maxrss_kb": maxrss_kb(),
                      "baseline_kb": base, "times": times}))


def stylize(a):
    base = maxrss_kb()
    torch.set_num_threads(a.threads)
    content, style = read_png(a.content), read_png(a.style)
    args = argparse.Namespace(
        model=a.model, padding="reflect", pooling="max", optimizer="lbfgs", learning_rate=0,
        iterations=a.iterations, history=100, content_weight=CONTENT_WEIGHT,
        style_weight=STYLE_WEIGHT, tv_weight=TV_WEIGHT, content_layers=a.content_layers,
        style_layers=a.style_layers)
    t0 = time.perf_counter()
    losses = pytorch_stylize(args, content, style)
    t = time.perf_counter() - t0
    print(json.dumps({"side": "pytorch", "time": t, "evaluations": len(losses),
                      "first_loss": losses[0], "final_loss": losses[-1],
                      "maxrss_kb": maxrss_kb(), "baseline_kb": base}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare")
    pp.add_argument("--dir", required=True)
    pp.add_argument("--sizes", required=True)
    pp.add_argument("--vgg", action="store_true")
    pp.add_argument("--content", required=True)
    pp.add_argument("--style", required=True)
    for name in ("step", "stylize"):
        sp = sub.add_parser(name)
        sp.add_argument("--model", required=True)
        sp.add_argument("--content", required=True)
        sp.add_argument("--style", required=True)
        sp.add_argument("--content-layers", required=True)
        sp.add_argument("--style-layers", required=True)
        sp.add_argument("--threads", type=int, default=2)
    ps = sub.choices["step"]
    ps.add_argument("--net", choices=["vgg19", "darknet"], required=True)
    ps.add_argument("--x", required=True)
    ps.add_argument("--padding", default="reflect", choices=["reflect", "zero"])
    ps.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ps.add_argument("--warmup", type=int, default=1)
    ps.add_argument("--steps", type=int, default=3)
    sub.choices["stylize"].add_argument("--iterations", type=int, default=300)
    a = p.parse_args()
    {"prepare": prepare, "step": step, "stylize": stylize}[a.cmd](a)


if __name__ == "__main__":
    main()
