#!/usr/bin/env python3
"""pixels.py: pictures for the regions tests (Pillow and NumPy, as Debian
ships them: python3-pil, python3-numpy).

  pixels.py mask W H OUT.ppm [LEFT RIGHT]  a mask: the left half LEFT, the
                                           right half RIGHT (#rrggbb; default
                                           black and red)
  pixels.py diff A.png B.png X0 X1         the largest and the mean absolute
                                           difference of A and B (images of
                                           one size, RGB) over columns X0..X1-1
"""
import sys

import numpy as np
from PIL import Image


def main():
    if sys.argv[1] == "mask":
        w, h, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        left, right = (tuple(bytes.fromhex(c.lstrip("#"))) for c in (sys.argv[5:7] or ["#000000", "#ff0000"]))
        m = np.zeros((h, w, 3), np.uint8)
        m[:, : w // 2], m[:, w // 2:] = left, right
        Image.fromarray(m).save(out, format="PPM")
    elif sys.argv[1] == "diff":
        a, b = (np.asarray(Image.open(p).convert("RGB"), np.int16) for p in sys.argv[2:4])
        if a.shape != b.shape:
            sys.exit("%dx%d and %dx%d" % (a.shape[1], a.shape[0], b.shape[1], b.shape[0]))
        x0, x1 = int(sys.argv[4]), int(sys.argv[5])
        d = np.abs(a[:, x0:x1] - b[:, x0:x1])
        print(int(d.max()), round(float(d.mean()), 2))
    else:
        sys.exit(__doc__)


main()
