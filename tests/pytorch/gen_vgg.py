"""Fixture for tests/test_vgg.c: the tiny VGG19 (tests/fixtures/vgg19_tiny.pth)
end to end in PyTorch: features at a few layers and the gradient of
sum_l <F_l, R_l> with respect to the 0..255 image, computed in float64.

torchvision is not installed, so `features` is built here with its layout:
conv3x3 (padding 1) + ReLU, MaxPool2d(2, 2) after each block. The image is
24 x 20, so pool3 (w 5) and pool4 (h 3, w 3) see odd sizes: nst pools with
TensorFlow 'SAME' geometry (out = ceil(n / 2)), which for a 2x2 window and
stride 2 is ceil_mode=True; checked below against explicit SAME padding.

usage: /usr/bin/python3 tests/pytorch/gen_vgg.py"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_bundle  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(here, "..", "fixtures")
CONVS19 = [2, 2, 4, 4, 4]  # convs per block
# torchvision indices into vgg19().features
TAPS = {"conv1_1": 0, "relu1_1": 1, "pool1": 4, "relu2_1": 6, "relu3_1": 11,
        "conv4_2": 21, "relu4_2": 22, "relu5_1": 29}
MEAN = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(1, 3, 1, 1)


def vgg19_features(sd, ceil_mode):
    """torchvision's vgg19().features, channel counts taken from sd."""
    layers, cin, i = [], 3, 0
    for n in CONVS19:
        for _ in range(n):
            w, b = sd["features.%d.weight" % i], sd["features.%d.bias" % i]
            conv = torch.nn.Conv2d(cin, w.shape[0], 3, padding=1)
            conv.weight.data, conv.bias.data = w.double(), b.double()
            layers += [conv, torch.nn.ReLU()]
            cin, i = w.shape[0], i + 2
        layers.append(torch.nn.MaxPool2d(2, 2, ceil_mode=ceil_mode))
        i += 1
    return torch.nn.Sequential(*layers).double()


def run(features, x, upto):
    out = {}
    h = x
    for i, layer in enumerate(features):
        h = layer(h)
        out[i] = h
        if i == upto:
            break
    return out


def main():
    sd = torch.load(os.path.join(FIXTURES, "vgg19_tiny.pth"))
    features = vgg19_features(sd, ceil_mode=True)
    names = {v: k for k, v in TAPS.items()}
    for i, layer in enumerate(features):  # the indices above name the right layers
        kind = {"conv": torch.nn.Conv2d, "relu": torch.nn.ReLU, "pool": torch.nn.MaxPool2d}
        if i in names:
            assert isinstance(layer, kind[names[i][:4]]), (i, layer)

    torch.manual_seed(0)
    # float32-representable values, so the C side reads the same numbers
    x = (torch.rand(1, 3, 24, 20, dtype=torch.float64) * 255).float().double()
    xi = x.clone().requires_grad_(True)
    feats = run(features, (xi / 255 - MEAN) / STD, max(TAPS.values()))

    # SAME pooling by hand: pad right/bottom with -inf up to an even size
    with torch.no_grad():
        h = (x / 255 - MEAN) / STD
        for i, layer in enumerate(features[:max(TAPS.values()) + 1]):
            if isinstance(layer, torch.nn.MaxPool2d):
                h = F.max_pool2d(F.pad(h, (0, h.shape[3] % 2, 0, h.shape[2] % 2),
                                       value=float("-inf")), 2, 2)
            else:
                h = layer(h)
            assert h.shape == feats[i].shape and torch.equal(h, feats[i]), i
        floor = run(vgg19_features(sd, ceil_mode=False), (x / 255 - MEAN) / STD, 29)
        print("relu5_1: ceil_mode", tuple(feats[29].shape[2:]), "floor",
              tuple(floor[29].shape[2:]))

    out = {"image": x[0]}
    loss = 0
    for name, i in TAPS.items():
        r = torch.randn_like(feats[i]).float().double()
        out["R/" + name] = r[0]
        out["F/" + name] = feats[i][0]
        loss = loss + (feats[i] * r).sum()
    loss.backward()
    out["dimage"] = xi.grad[0]
    out["loss"] = loss.detach().reshape(1)
    write_bundle(os.path.join(FIXTURES, "vgg_forward.bin"), out)
    for name, i in TAPS.items():
        print("%-8s %s" % (name, tuple(feats[i].shape[1:])))
    print("loss %.10g; wrote tests/fixtures/vgg_forward.bin" % loss.item())


if __name__ == "__main__":
    main()
