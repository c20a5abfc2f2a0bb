"""darknet-tiny in PyTorch, read straight from the TensorFlow.js layers files.

The independent reference that nst's C engine is compared with: it parses
model.json itself, folds nothing (BatchNorm runs as its own op in eval form),
and implements TensorFlow 'SAME' padding and pooling with explicit F.pad.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F


def load_weights(model_dir):
    """name -> float32 numpy array, from the manifest groups (by name)."""
    with open(os.path.join(model_dir, "model.json")) as f:
        model = json.load(f)
    weights = {}
    for group in model["weightsManifest"]:
        blob = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            weights[w["name"]] = np.frombuffer(blob, "<f4", n, off).reshape(w["shape"]).copy()
            off += 4 * n
    cfg = model["modelTopology"]["model_config"]["config"]
    layers = cfg["layers"] if isinstance(cfg, dict) else cfg
    return layers, weights


def same_pad(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class DarknetTiny(torch.nn.Module):
    """Runs the Keras layer list; forward returns {layer name: output}."""

    def __init__(self, model_dir, padding="zero", pooling="max", dtype=torch.float64):
        super().__init__()
        self.layers, w = load_weights(model_dir)
        self.w = {k: torch.tensor(v, dtype=dtype) for k, v in w.items()}
        self.padding, self.pooling = padding, pooling

    def forward(self, x255, upto=None):
        """x255: 1 x 3 x H x W RGB in 0..255 (NCHW)."""
        x = x255 / 255.0
        out = {}
        for layer in self.layers:
            cls, name, cfg = layer["class_name"], layer["config"]["name"], layer["config"]
            if cls == "InputLayer":
                continue
            if cls == "Conv2D":
                k = cfg["kernel_size"][0]
                kernel = self.w[name + "/kernel"].permute(3, 2, 0, 1)  # HWIO -> OIHW
                t, b = same_pad(x.shape[2], k, 1)
                l, r = same_pad(x.shape[3], k, 1)
                mode = "reflect" if self.padding == "reflect" else "constant"
                if k > 1:
                    x = F.pad(x, (l, r, t, b), mode=mode)
                bias = self.w.get(name + "/bias")
                x = F.conv2d(x, kernel, bias)
            elif cls == "BatchNormalization":
                g, bt = self.w[name + "/gamma"], self.w[name + "/beta"]
                m, v = self.w[name + "/moving_mean"], self.w[name + "/moving_variance"]
                x = (x - m[:, None, None]) / torch.sqrt(v[:, None, None] + cfg["epsilon"]) * g[:, None, None] + bt[:, None, None]
                # nst names a folded conv+BN output after the conv
                out[name.replace("batch_normalization", "conv2d")] = x
            elif cls == "LeakyReLU":
                x = F.leaky_relu(x, cfg["alpha"])
            elif cls == "MaxPooling2D":
                t, b = same_pad(x.shape[2], 2, 2)
                l, r = same_pad(x.shape[3], 2, 2)
                if self.pooling == "avg":
                    ones = torch.ones_like(x[:, :1])
                    s = F.avg_pool2d(F.pad(x, (l, r, t, b)), 2, 2, divisor_override=1)
                    c = F.avg_pool2d(F.pad(ones, (l, r, t, b)), 2, 2, divisor_override=1)
                    x = s / c
                else:
                    x = F.max_pool2d(F.pad(x, (l, r, t, b), value=float("-inf")), 2, 2)
            else:
                break  # GlobalAveragePooling2D and after: not features
            out[name] = x
            if upto is not None and name == upto:
                break
        return out
