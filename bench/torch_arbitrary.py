"""The PyTorch side of the arbitrary-style benchmark (bench/run.py runs it; see
bench/README.md), the counterpart of `bench_feedforward arbitrary`.

  torch_arbitrary.py --pair DIR --image PNG --style-vector JSON [--style PNG]
      [--out PNG] [--warmup 1] [--steps 3] [--threads 2]

Times one forward pass of Magenta's float16 transfer network as
tests/pytorch/magenta.py re-implements it (`transfer`, float32 arithmetic,
torch.no_grad()) over the image (RGB 0..1, NHWC, sides multiples of 4) with
the style vector nst computed and saved (nst_style_vector_save's JSON), so
that the check compares the transfer networks alone. With --style, the
painting's vector is also computed here (magenta.py's preprocess_painting +
predict_style, not timed) and its cosine with nst's printed, for
information. --out gets the first pass's output * 255, rounded. Prints one
JSON line like bench_feedforward.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../tests/pytorch"))
import magenta  # noqa: E402
from torch_feedforward import timed  # noqa: E402
from torch_gatys import maxrss_kb  # noqa: E402


def transfer_file(pair):
    """The float16 transfer file in the directory (as nst_arbitrary_load prefers it)."""
    if not os.path.isdir(pair):
        return pair
    names = sorted(f for f in os.listdir(pair) if f.startswith("style_transfer") and f.endswith(".tflite"))
    if not names:
        raise SystemExit(f"{pair}: no style_transfer*.tflite")
    return os.path.join(pair, next((f for f in names if "f16" in f), names[0]))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pair", required=True, help="directory of Magenta's .tflite pair, or the transfer file")
    p.add_argument("--image", required=True)
    p.add_argument("--style-vector", required=True, help="nst's style vector (nst_style_vector_save JSON)")
    p.add_argument("--style", help="the painting: also compute its vector here, report the cosine")
    p.add_argument("--out")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    base = maxrss_kb()
    with open(a.style_vector) as f:
        v = torch.tensor(json.load(f)["vector"], dtype=torch.float32)
    extra = {}
    if a.style:
        own = magenta.predict_style(magenta.preprocess_painting(Image.open(a.style).convert("RGB")))
        extra["style_cosine"] = float(torch.nn.functional.cosine_similarity(own, v, dim=0))
    photo = torch.tensor(np.asarray(Image.open(a.image).convert("RGB"), dtype=np.float32) / 255.0)[None]
    if photo.shape[1] % 4 or photo.shape[2] % 4:
        raise SystemExit(f"{a.image}: sides must be multiples of 4")
    path = transfer_file(a.pair)
    magenta.net(path)  # load the network before timing
    y, times = timed(lambda: magenta.transfer(photo, v, path), a.warmup, a.steps)
    if a.out:
        Image.fromarray((y[0] * 255).round().clamp(0, 255).to(torch.uint8).numpy()).save(a.out)
    print(json.dumps({"side": "pytorch", "bench": "arbitrary", "w": photo.shape[2], "h": photo.shape[1],
                      "threads": a.threads, **extra, "maxrss_kb": maxrss_kb(), "baseline_kb": base,
                      "times": times}))


if __name__ == "__main__":
    main()
