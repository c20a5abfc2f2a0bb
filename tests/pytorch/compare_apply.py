"""Run `nst apply` and the PyTorch implementation of the same network
(tests/pytorch/fast_style.py, read straight from the checkpoint files) side by
side on every style network, and compare the images and the run times.

Both read the same pre-resized PNG, so resampling plays no part; nst runs the
whole image in one pass (no tiles), as PyTorch does.

usage: /usr/bin/python3 tests/pytorch/compare_apply.py [--nst build/nst]
       [--content IMG] [--size 512] [--styles scream,wave] [--tolerance 1]
Prints per style the mean and max absolute difference in grey levels (0..255)
and both times (nst: the whole command, with loading; PyTorch: the forward
pass), and exits 1 when a mean difference reaches --tolerance.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from fast_style import FastStyle  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "../../../shared"))
STYLES = "la_muse,mathura,matilde_perez,matta,rain_princess,scream,udnie,wave,wreck"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nst", default=os.path.join(HERE, "../../build/nst"))
    ap.add_argument("--content", default=os.path.join(SHARED, "images/content/tubingen.jpg"))
    ap.add_argument("--models", default=os.path.join(SHARED, "models/fast"))
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--styles", default=STYLES)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--tolerance", type=float, default=1.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    tmp = tempfile.mkdtemp(prefix="nst_compare_apply_")
    im = Image.open(a.content).convert("RGB")
    scale = a.size / max(im.width, im.height)
    im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))), Image.LANCZOS)
    src = os.path.join(tmp, "content.png")
    im.save(src)
    x = torch.tensor(np.asarray(im, dtype=np.float32).transpose(2, 0, 1).copy())[None]
    print("content: %s at %dx%d, %d threads" % (os.path.basename(a.content), im.width, im.height, a.threads))
    print("%-14s %9s %9s %10s %12s" % ("style", "mean|d|", "max|d|", "nst s", "pytorch s"))
    failed = 0
    for style in a.styles.split(","):
        path = os.path.join(a.models, style)
        out = os.path.join(tmp, style + ".png")
        t0 = time.time()
        subprocess.run([a.nst, "apply", "--net", path, src, "-o", out, "-q", "--tile", str(a.size),
                        "--threads", str(a.threads)], check=True)
        t_nst = time.time() - t0
        net = FastStyle(path)
        t0 = time.time()
        y = net(x)
        t_py = time.time() - t0
        ref = y[0].permute(1, 2, 0).round().numpy()
        got = np.asarray(Image.open(out), dtype=np.float32)
        d = np.abs(got - ref)
        bad = not d.mean() < a.tolerance
        failed += bad
        print("%-14s %9.4f %9.0f %10.2f %12.2f%s" % (style, d.mean(), d.max(), t_nst, t_py,
                                                      "  FAIL" if bad else ""))
    shutil.rmtree(tmp)
    print("%d of %d styles within %g grey levels" % (len(a.styles.split(",")) - failed,
                                                     len(a.styles.split(",")), a.tolerance))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
