#!/usr/bin/env python3
"""pixels.py: pictures for the regions tests, without any image library.

  pixels.py mask W H OUT.ppm [LEFT RIGHT]  a mask: the left half LEFT, the
                                           right half RIGHT (#rrggbb; default
                                           black and red)
  pixels.py diff A.png B.png X0 X1         the largest and the mean absolute
                                           difference of A and B (8-bit PNGs
                                           of one size, RGB) over columns
                                           X0..X1-1 of every row
"""
import struct
import sys
import zlib


def read_png(path):
    d = open(path, "rb").read()
    if d[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(path + ": not a PNG")
    i, idat = 8, b""
    while i < len(d):
        n, kind = struct.unpack(">I4s", d[i:i + 8])
        chunk = d[i + 8:i + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        i += 12 + n
    if depth != 8 or interlace or colour not in (0, 2, 4, 6):
        sys.exit(path + ": not an 8-bit non-interlaced PNG")
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        at = y * (stride + 1)
        f, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            p = a + b - c
            paeth = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c
            line[x] = (line[x] + (0, a, b, (a + b) // 2, paeth)[f]) & 255
        rows.append(line)
        prev = line
    grey = colour in (0, 4)
    return w, h, [[line[x * bpp + (0 if grey else c)] for x in range(w) for c in range(3)] for line in rows]


def main():
    if sys.argv[1] == "mask":
        w, h, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        left, right = (bytes.fromhex(c.lstrip("#")) for c in (sys.argv[5:7] or ["#000000", "#ff0000"]))
        row = left * (w // 2) + right * (w - w // 2)
        open(out, "wb").write(b"P6\n%d %d\n255\n" % (w, h) + row * h)
    elif sys.argv[1] == "diff":
        wa, ha, a = read_png(sys.argv[2])
        wb, hb, b = read_png(sys.argv[3])
        if (wa, ha) != (wb, hb):
            sys.exit("%dx%d and %dx%d" % (wa, ha, wb, hb))
        x0, x1 = int(sys.argv[4]), int(sys.argv[5])
        d = [abs(ra[i] - rb[i]) for ra, rb in zip(a, b) for i in range(3 * x0, 3 * x1)]
        print(max(d), round(sum(d) / len(d), 2))
    else:
        sys.exit(__doc__)


main()
