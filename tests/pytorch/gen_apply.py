"""Fixture for tests/test_apply.c: the 'scream' style network
(../shared/models/fast/scream, read by fast_style.py) on two small random
images, one of odd size (23x17: 'SAME' padding of odd maps, output cropped
from 24x20). Integer-valued inputs so that both sides see the same pixels."""
import os

import numpy as np
import torch

from fast_style import FastStyle
from fixture import write_bundle

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "../../../shared"))

net = FastStyle(os.path.join(SHARED, "models/fast/scream"), dtype=torch.float64)
rng = np.random.default_rng(7)
out = {}
for name, (w, h) in (("even", (32, 24)), ("odd", (23, 17))):
    x = rng.integers(0, 256, size=(1, 3, h, w)).astype(np.float64)
    out["x/" + name] = x
    out["y/" + name] = net(torch.tensor(x))
write_bundle(os.path.join(HERE, "../fixtures/apply.bin"), out)
