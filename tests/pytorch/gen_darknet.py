"""Fixture for tests/test_darknet.c: darknet-tiny features and the gradient
of sum_l <F_l, R_l> with respect to the image, from the PyTorch reference
(tests/pytorch/darknet.py), for each padding / pooling mode.

usage: /usr/bin/python3 tests/pytorch/gen_darknet.py [MODEL_DIR]"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from darknet import DarknetTiny  # noqa: E402
from fixture import write_bundle  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../../shared/models/darknet-tiny")
TAPS = ["conv2d_1", "leaky_re_lu_1", "leaky_re_lu_2", "max_pooling2d_2", "leaky_re_lu_4",
        "leaky_re_lu_8", "leaky_re_lu_10", "leaky_re_lu_12"]
torch.manual_seed(0)
x = (torch.rand(1, 3, 17, 21, dtype=torch.float64) * 255).float().double()
out = {"image": x[0]}
R = {}
for padding, pooling in [("zero", "max"), ("reflect", "max"), ("zero", "avg")]:
    net = DarknetTiny(model_dir, padding, pooling)
    xi = x.clone().requires_grad_(True)
    feats = net(xi, upto=TAPS[-1])
    loss = 0
    for t in TAPS:
        if t not in R:  # the same upstream gradients for every mode
            R[t] = torch.randn_like(feats[t]).float().double()
            out[f"R/{t}"] = R[t][0]
        # every feature for the first mode; the deepest one for the others
        if padding == "zero" and pooling == "max" or t == TAPS[-1]:
            out[f"{padding}_{pooling}/{t}"] = feats[t][0]
        loss = loss + (feats[t] * R[t]).sum()
    loss.backward()
    out[f"{padding}_{pooling}/dimage"] = xi.grad[0]
write_bundle(os.path.join(here, "../fixtures/darknet.bin"), out)
print("wrote tests/fixtures/darknet.bin")
