"""Run nst stylize on a fixed panel of photo x painting pairs, time each run,
score each picture with score.py (measures independent of nst's loss network)
and write <out-dir>/panel.json, <out-dir>/table.md and a montage.

usage: nice -n 10 /usr/bin/python3 bench/picture/panel.py --name default
       nice -n 10 /usr/bin/python3 bench/picture/panel.py --name scale2 --extra "--style-scale 2"
       /usr/bin/python3 bench/picture/panel.py --compare default,scale2
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import montage as M  # noqa: E402
import score as S  # noqa: E402

REPO = os.path.normpath(os.path.join(S.HERE, "../.."))
IMAGES = os.path.join(S.SHARED, "images")
# Landscapes, a building and portraits; the two Picasso portraits also as styles
# of non-portraits, where ghost faces would show.
PAIRS = [("tubingen", "starry_night"), ("tubingen", "shipwreck"), ("tubingen", "wave"),
         ("tubingen", "picasso_selfport1907"), ("brad_pitt", "picasso_selfport1907"),
         ("brad_pitt", "starry_night"), ("stata", "the_scream"), ("stata", "udnie"),
         ("stata", "seated-nude"), ("diana", "seated-nude"), ("diana", "la_muse"), ("face", "the_scream")]
MEASURES = [("time_s", "time s", "%.1f"), ("colour_swd", "colour SWD ↓", "%.2f"),
            ("style_cos", "style 1−cos ↓", "%.4f"), ("style_l2", "style L2 ↓", "%.3f"),
            ("gram", "Gram ↓", "%.3f"), ("ssim", "SSIM ↑", "%.3f"), ("edges", "edges ↑", "%.3f")]


def flat(p):
    return dict(p["scores"], time_s=p["time_s"])


def pair_name(p):
    return "%s × %s" % (os.path.splitext(os.path.basename(p["content"]))[0],
                        os.path.splitext(os.path.basename(p["style"]))[0])


def table(res):
    """Markdown: a row per pair and the mean."""
    lines = ["| pair | " + " | ".join(h for _, h, _ in MEASURES) + " |", "|---" * (len(MEASURES) + 1) + "|"]
    for name, v in [(pair_name(p), flat(p)) for p in res["pairs"]] + [("**mean**", res["mean"])]:
        lines.append("| %s | " % name + " | ".join(f % v[k] for k, _, f in MEASURES) + " |")
    return "\n".join(lines) + "\n"


def run_panel(a):
    out_dir = a.out_dir or os.path.join("/tmp/panel", a.name)
    os.makedirs(out_dir, exist_ok=True)
    jpath = os.path.join(out_dir, "panel.json")
    old = json.load(open(jpath)) if a.rescore and os.path.isfile(jpath) else None
    if a.rescore and not old:
        sys.exit("panel.py: --rescore needs a previous %s" % jpath)
    if not a.rescore and not os.access(a.nst, os.X_OK):
        sys.exit("panel.py: no nst binary at %s (--nst PATH)" % a.nst)
    net = S.StyleNet(a.predictor, a.armnn_backends)
    feats, pairs = {}, []
    for k, (c, s) in enumerate(PAIRS):
        content = os.path.join(IMAGES, "content", c + ".jpg")
        style = os.path.join(IMAGES, "style", s + ".jpg")
        out = os.path.join(out_dir, "%s_%s.png" % (c, s))
        if old:
            dt = old["pairs"][k]["time_s"]
        else:
            cmd = [a.nst, "stylize", "-c", content, "-s", style, "-o", out, "--size", str(a.size)] + shlex.split(a.extra)
            log = os.path.join(out_dir, "%s_%s.log" % (c, s))
            t0 = time.perf_counter()
            with open(log, "w") as f:
                rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
            dt = time.perf_counter() - t0
            if rc:
                sys.exit("panel.py: %s failed (exit %d), see %s" % (shlex.join(cmd), rc, log))
        photo, painting = S.load(content), S.load(style)
        if style not in feats:
            feats[style] = net.features(painting)
        r = S.score(net, S.load(out), photo, painting, feats[style])
        pairs.append({"content": content, "style": style, "output": out, "time_s": dt, "scores": r})
        print("%-36s %5.1f s  %s" % (pair_name(pairs[-1]), dt, S.fmt(r)), flush=True)
    keys = [k for k, _, _ in MEASURES]
    res = {"name": a.name, "nst": a.nst, "size": a.size, "extra": a.extra, "pairs": pairs,
           "mean": {k: sum(flat(p)[k] for p in pairs) / len(pairs) for k in keys}}
    json.dump(res, open(jpath, "w"), indent=1)
    open(os.path.join(out_dir, "table.md"), "w").write(table(res))
    mpath = a.montage or os.path.join(out_dir, "montage.jpg")
    M.save(M.panel_montage([res], a.tile), mpath)
    print(table(res) + "\nwrote %s, %s/table.md, %s" % (jpath, out_dir, mpath))


def compare(a):
    names = a.compare.split(",")
    if len(names) != 2:
        sys.exit("panel.py: --compare wants two variant names, e.g. default,other")
    res = []
    for n in names:
        path = os.path.join(a.root, n, "panel.json")
        if not os.path.isfile(path):
            sys.exit("panel.py: no results for variant %s: %s (run panel.py --name %s)" % (n, path, n))
        res.append(json.load(open(path)))
    pa = [(p["content"], p["style"]) for p in res[0]["pairs"]]
    if pa != [(p["content"], p["style"]) for p in res[1]["pairs"]]:
        sys.exit("panel.py: %s and %s were run on different pairs" % tuple(names))
    print("%s − %s, per pair and mean\n" % (names[1], names[0]))
    print("| pair | " + " | ".join("Δ " + h for _, h, _ in MEASURES) + " |\n" + "|---" * (len(MEASURES) + 1) + "|")
    for p0, p1 in zip(res[0]["pairs"], res[1]["pairs"]):
        print("| %s | " % pair_name(p0) + " | ".join(
            ("%+" + f[1:]) % (flat(p1)[k] - flat(p0)[k]) for k, _, f in MEASURES) + " |")
    print("| **mean** | " + " | ".join(("%+" + f[1:]) % (res[1]["mean"][k] - res[0]["mean"][k])
                                      for k, _, f in MEASURES) + " |")
    mpath = a.montage or os.path.join(a.root, "compare_%s_%s.jpg" % tuple(names))
    M.save(M.panel_montage(res, a.tile), mpath)
    print("\nwrote %s" % mpath)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nst", default=os.path.join(REPO, "build-bench/nst"), help="nst binary (default %(default)s)")
    ap.add_argument("--name", default="default", help="variant name (default %(default)s)")
    ap.add_argument("--extra", default="", help='more nst stylize options, e.g. "--style-scale 2"')
    ap.add_argument("--size", type=int, default=512, help="long side of the results (default %(default)s)")
    ap.add_argument("--out-dir", help="outputs and results (default /tmp/panel/NAME)")
    ap.add_argument("--rescore", action="store_true",
                    help="score the outputs of a previous run again (its times kept), no nst runs")
    ap.add_argument("--montage", help="montage path (default OUT_DIR/montage.jpg, or ROOT/compare_A_B.jpg)")
    ap.add_argument("--tile", type=int, default=256, help="largest montage tile side in px (default %(default)s)")
    ap.add_argument("--compare", metavar="A,B", help="compare two variants already run: table of B − A, montage")
    ap.add_argument("--root", default="/tmp/panel", help="where --compare finds NAME/panel.json (default %(default)s)")
    ap.add_argument("--predictor", default=S.PREDICTOR, help="Magenta style predictor .tflite (default %(default)s)")
    ap.add_argument("--armnn-backends", default=S.BACKENDS, help="Arm NN dynamic backends directory (default %(default)s)")
    a = ap.parse_args()
    compare(a) if a.compare else run_panel(a)


if __name__ == "__main__":
    main()
