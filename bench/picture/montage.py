"""Lay pictures out in a captioned grid (PIL): column labels on top, a label
strip above each row, an optional caption under each tile.

usage: /usr/bin/python3 bench/picture/montage.py --cols 3 [--col-labels a,b,c] [--label TEXT...] IMG... -o m.jpg
       /usr/bin/python3 bench/picture/montage.py --from-json /tmp/panel/default/panel.json -o m.jpg
"""
import argparse
import json
import os
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
PAD = 4


def _font(size):
    return ImageFont.truetype(FONT, size) if os.path.isfile(FONT) else ImageFont.load_default()


def _open(img, tile):
    """Path or PIL image, shrunk to fit a tile x tile box (aspect kept)."""
    if isinstance(img, str):
        if not os.path.isfile(img):
            sys.exit("montage.py: no such image: %s" % img)
        img = Image.open(img)
    img = img.convert("RGB")
    img.thumbnail((tile, tile), Image.LANCZOS)
    return img


def montage(rows, tile=256, col_labels=None, row_labels=None, captions=None, font_size=12):
    """rows: lists of images (path, PIL image or None for a blank); captions: the
    same shape, strings (may hold newlines) or None. Each row is as tall as its
    tallest tile; tiles are centred in their cell."""
    font = _font(font_size)
    line = font_size + 4
    ncol = max(len(r) for r in rows)
    tiles = [[_open(x, tile) if x is not None else None for x in r] for r in rows]
    caps = captions or [[None] * len(r) for r in rows]
    cap_h = [line * max([c.count("\n") + 1 for c in cr if c] or [0]) for cr in caps]
    row_h = [max([t.height for t in tr if t] or [tile]) for tr in tiles]
    lab_h = line if row_labels else 0
    head = line + PAD if col_labels else 0
    W = ncol * (tile + PAD) + PAD
    H = head + sum(lab_h + h + c + PAD for h, c in zip(row_h, cap_h)) + PAD
    out = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(out)
    for j, lab in enumerate(col_labels or []):
        d.text((PAD + j * (tile + PAD) + tile // 2, PAD), lab, fill="black", font=font, anchor="ma")
    y = head
    for i, tr in enumerate(tiles):
        if row_labels:
            d.text((PAD, y + 2), row_labels[i], fill="black", font=font)
            y += lab_h
        for j, t in enumerate(tr):
            x0 = PAD + j * (tile + PAD)
            if t:
                out.paste(t, (x0 + (tile - t.width) // 2, y + (row_h[i] - t.height) // 2))
            if caps[i][j]:
                d.multiline_text((x0 + tile // 2, y + row_h[i] + 1), caps[i][j], fill="black",
                                 font=font, anchor="ma", align="center", spacing=4)
        y += row_h[i] + cap_h[i] + PAD
    return out


def caption(s):
    return "SWD %.1f  style %.3f  Gram %.2f\nSSIM %.3f  edges %.2f" % (
        s["colour_swd"], s["style_cos"], s["gram"], s["ssim"], s["edges"])


def panel_montage(variants, tile=256):
    """variants: panel result dicts (panel.py's JSON) with the same pairs;
    a row per pair: photo | painting | each variant's output with its scores."""
    rows, caps, labels = [], [], []
    for k, p in enumerate(variants[0]["pairs"]):
        outs = [v["pairs"][k] for v in variants]
        rows.append([p["content"], p["style"]] + [o["output"] for o in outs])
        caps.append([None, None] + ["%s  %.0f s" % (caption(o["scores"]), o["time_s"]) for o in outs])
        labels.append(" × ".join(os.path.splitext(os.path.basename(p[k]))[0] for k in ("content", "style")))
    return montage(rows, tile, ["photo", "painting"] + [v["name"] for v in variants], labels, caps)


def save(img, path):
    if path.lower().endswith((".jpg", ".jpeg")):
        img.save(path, quality=85, optimize=True)
    else:
        img.save(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("images", nargs="*", metavar="IMG", help="pictures, row by row")
    ap.add_argument("-o", "--output", required=True, help="montage file (.jpg: quality 85, else PNG)")
    ap.add_argument("--cols", type=int, default=3, help="tiles per row (default %(default)s)")
    ap.add_argument("--tile", type=int, default=256, help="largest tile side in px (default %(default)s)")
    ap.add_argument("--label", action="append", help="caption under the next image; repeat, in order")
    ap.add_argument("--col-labels", help="comma-separated column titles")
    ap.add_argument("--row-labels", help="comma-separated row titles")
    ap.add_argument("--from-json", metavar="PANEL_JSON", action="append",
                    help="a panel.py results JSON (repeat to put variants side by side)")
    a = ap.parse_args()
    if a.from_json:
        variants = []
        for path in a.from_json:
            if not os.path.isfile(path):
                sys.exit("montage.py: no such panel JSON: %s" % path)
            variants.append(json.load(open(path)))
        img = panel_montage(variants, a.tile)
    elif a.images:
        n = a.cols
        rows = [a.images[i:i + n] for i in range(0, len(a.images), n)]
        labs = (a.label or []) + [None] * len(a.images)
        caps = [labs[i:i + n] for i in range(0, len(a.images), n)] if a.label else None
        img = montage(rows, a.tile, a.col_labels and a.col_labels.split(","),
                      a.row_labels and a.row_labels.split(","), caps)
    else:
        ap.error("give images or --from-json")
    save(img, a.output)
    print("%s: %dx%d, %d KB" % (a.output, img.width, img.height, os.path.getsize(a.output) // 1024))


if __name__ == "__main__":
    main()
