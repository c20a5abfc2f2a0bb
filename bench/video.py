"""Flicker, style and speed of nst video on a real clip.

usage: /usr/bin/python3 bench/video.py [--build build-bench] [--start 30 --duration 10] ...

For a pretrained network ('wave' by default) painted per frame (--temporal 0)
and with temporal consistency (the default), and for --method optimize on a
shorter, smaller cut, runs `nst video --report` on ../shared/videos/
big_buck_bunny_360p.mp4 and collects:
  - the warping error (Lai et al. 2018) of the result and of the input clip
    itself (the floor): mean squared difference, values 0..1, between each
    frame and the previous one warped by the input's optical flow, over the
    pixels where the flow passes the forward-backward check;
  - frames per second of the whole run (decode, flow, network, blend, encode)
    and the time of each stage per frame;
  - the style loss of still frames (every 24th frame), nst's Gram loss with
    darknet-tiny against the style image, as `nst stylize` reports it at its
    first iteration when started from the frame itself: temporal consistency
    must not wash the style out.
Writes a markdown table to bench/video_results.md (or --out).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared")

REPORT = re.compile(r"report: (\d+) frames of (\d+)x(\d+), ([\d.]+) fps, (\d+) scene cuts; warping error "
                    r"([\d.]+) \(input ([\d.]+), (\d+) frame pairs\)")
STAGES = re.compile(r"per frame: decode ([\d.]+) ms, flow ([\d.]+) ms, paint ([\d.]+) ms, blend ([\d.]+) ms, "
                    r"encode ([\d.]+) ms")


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"video.py: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return p.stderr


def nst_video(a, args, out):
    t0 = time.time()
    err = run([a.nst, "video", "--report", "--threads", str(a.threads)] + args + [a.clip, out])
    wall = time.time() - t0
    m, s = REPORT.search(err), STAGES.search(err)
    if not m or not s:
        sys.exit(f"video.py: no report in:\n{err[-2000:]}")
    return {"frames": int(m[1]), "size": f"{m[2]}x{m[3]}", "fps": float(m[4]), "cuts": int(m[5]),
            "werr": float(m[6]), "werr_in": float(m[7]), "pairs": int(m[8]),
            "stages": [float(x) for x in s.groups()], "wall": wall}


def style_losses(a, video, style, size, frames, tmp):
    """Style term of frames 0, 24, 48, ... of `video` (PNG via ffmpeg)."""
    out = []
    for f in range(0, frames, 24):
        png = os.path.join(tmp, "frame.png")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", video, "-vf", f"select=eq(n\\,{f})", "-frames:v",
                        "1", png], check=True)
        err = run([a.nst, "stylize", "-c", png, "-s", style, "--init", png, "--iterations", "1",
                   "--print-every", "1", "--size", str(size), "-o", os.path.join(tmp, "unused.png"),
                   "--threads", str(a.threads)])
        m = re.search(r"iter\s+1/1 .*? style ([\d.e+-]+)", err)
        if not m:
            sys.exit(f"video.py: no style loss in:\n{err[-1000:]}")
        out.append(float(m[1]))
    return sum(out) / len(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    p.add_argument("--clip", default=os.path.join(SHARED, "videos", "big_buck_bunny_360p.mp4"))
    p.add_argument("--start", default="30")
    p.add_argument("--duration", default="10")
    p.add_argument("--net", default="wave")
    p.add_argument("--style", help="the network's painting (default images/style/NET.jpg)")
    p.add_argument("--temporal", default="0.6")
    p.add_argument("--opt-duration", default="2", help="cut of the optimisation rows (seconds)")
    p.add_argument("--opt-size", default="320")
    p.add_argument("--opt-iterations", default="100")
    p.add_argument("--skip-optimize", action="store_true")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default=os.path.join(HERE, "video_results.md"))
    a = p.parse_args()
    a.nst = os.path.join(os.path.abspath(a.build), "nst")
    a.style = a.style or os.path.join(SHARED, "images", "style", a.net + ".jpg")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cut = ["--start", a.start, "--duration", a.duration]
        for name, extra in [(f"{a.net}, per frame", ["--temporal", "0"]),
                            (f"{a.net}, temporal {a.temporal}", ["--temporal", a.temporal])]:
            out = os.path.join(tmp, "out.mp4")
            r = nst_video(a, ["--net", a.net] + cut + extra, out)
            r["style"] = style_losses(a, out, a.style, 640, r["frames"], tmp)
            rows.append((name, r))
            print(name, r, flush=True)
        if not a.skip_optimize:
            cut = ["--start", a.start, "--duration", a.opt_duration, "--size", a.opt_size]
            opt = ["--method", "optimize", "-s", a.style, "--iterations", a.opt_iterations]
            for name, extra in [("optimize, per frame", ["--temporal", "0"]),
                                (f"optimize, temporal {a.temporal}", ["--temporal", a.temporal])]:
                out = os.path.join(tmp, "out.mp4")
                r = nst_video(a, opt + cut + extra, out)
                r["style"] = style_losses(a, out, a.style, int(a.opt_size), r["frames"], tmp)
                rows.append((name, r))
                print(name, r, flush=True)
    lines = [f"# nst video on big_buck_bunny_360p.mp4 (from {a.start} s)", "",
             f"`/usr/bin/python3 bench/video.py` ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
             f"--threads {a.threads}). Warping error: Lai et al. 2018, values 0..1, mean over frame pairs "
             "(the flow's reliable pixels; pairs across a scene cut are not counted). Style loss: nst's "
             "Gram loss (darknet-tiny, weight 200) of every 24th frame against the painting.", "",
             "| run | frames | size | warping error | input's own | ratio to input | style loss | fps | "
             "decode / flow / paint / blend / encode, ms per frame |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows:
        st = " / ".join(f"{x:.1f}" for x in r["stages"])
        lines.append(f"| {name} | {r['frames']} | {r['size']} | {r['werr']:.5f} | {r['werr_in']:.5f} | "
                     f"{r['werr'] / r['werr_in']:.2f} | {r['style']:.3f} | {r['fps']:.2f} | {st} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(a.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
