#!/usr/bin/env python3
"""cluster.py: nst under mpirun on one machine, measured side by side.

throughput: each workload as one rank x all threads and as N ranks x one
  thread (N = the cores), in one run: nst stylize --batch, nst apply over
  many photos, nst train (the same global batch) and nst video (a clip in
  N parts). Prints a markdown table with the ratio.
seams: a clip painted by one process (one thread, as each rank) and in 2 and 3 parts (mpirun) with
  several warm-up lengths, for --method net and --method optimize: how far
  each frame is from the single process's (mean absolute difference in
  grey levels, all frames and the first frame after a seam), and the jump
  at a seam: the chunked clip's change from one frame to the next, minus
  the single clip's change there, at the seam and over the dissolve
  before it (the largest). --strip PNG saves
  the optimisation's frames around the seam of 2 parts (one process / no
  warm-up / 8 warm-up frames) to look at.

usage: cluster.py [--nst build-bench/nst] [--shared ../shared] [--only throughput,seams]
                  [--strip docs/images/video_seams.jpg]
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

MPI = ["mpirun", "--oversubscribe", "--allow-run-as-root", "--mca", "btl", "self,tcp",
       "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"]


def run(cmd, cwd):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return time.perf_counter() - t0


def ranked(np_, cmd):
    return MPI + ["-np", str(np_)] + cmd if np_ > 1 else cmd


def throughput(nst, shared, tmp, cores):
    photos = sorted(glob.glob(f"{shared}/images/photos/*.jpg"))
    style = f"{shared}/images/style"
    clip = f"{tmp}/clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", "20", "-i", f"{shared}/videos/big_buck_bunny_360p.mp4",
                    "-t", "8", "-c:v", "libx264", "-an", "-pix_fmt", "yuv420p", clip], check=True)
    with open(f"{tmp}/jobs.csv", "w") as f:
        f.write("content,style,output,options\n")
        for i, p in enumerate(photos[:8]):
            f.write(f"{p},{style}/starry_night.jpg,out/{i}.png,\n")
    work = [
        ("stylize --batch: 8 jobs, 256 px, 100 iterations", "jobs",
         lambda o, t, b: [nst, "stylize", "--batch", "jobs.csv", "--size", "256", "--iterations", "100", "-q",
                          "--threads", str(t)], 8),
        ("apply --net wave: 40 photos, 512 px", "photos",
         lambda o, t, b: [nst, "apply", "--net", "wave", "--size", "512", "-q", "--threads", str(t)]
         + photos[:40] + ["-o", f"{o}/"], 40),
        ("train: 24 iterations, global batch 4, 256 px crops", "images",
         lambda o, t, b: [nst, "train", "--style", f"{style}/wave.jpg", "--content-dir", f"{shared}/images/photos",
                          "--crop", "256", "--iterations", "24", "--batch-size", str(b), "--checkpoint-every", "0",
                          "-q", "--threads", str(t), "-o", f"{o}/net.nst"], 96),
        ("video --net wave: 192 frames, 360p", "frames",
         lambda o, t, b: [nst, "video", "--net", "wave", "-q", "--threads", str(t), clip, f"{o}/clip.mp4"], 192),
    ]
    print(f"| workload | 1 rank x {cores} threads | {cores} ranks x 1 thread | ratio |")
    print("|---|---|---|---|")
    for name, unit, cmd, count in work:
        times = []
        for ranks, threads in ((1, cores), (cores, 1)):
            out = tempfile.mkdtemp(dir=tmp)
            os.makedirs(f"{tmp}/out", exist_ok=True)
            for f in glob.glob(f"{tmp}/out/*"):
                os.remove(f)
            times.append(run(ranked(ranks, cmd(out, threads, 4 // ranks)), tmp))
        print(f"| {name} | {times[0]:.1f} s ({count / times[0]:.2f} {unit}/s) | {times[1]:.1f} s "
              f"({count / times[1]:.2f} {unit}/s) | {times[0] / times[1]:.2f}x |", flush=True)


def frames(d):
    return [np.asarray(Image.open(f), dtype=np.float32) for f in sorted(glob.glob(f"{d}/*.png"))]


def seams(nst, shared, tmp, strip):
    clip = f"{tmp}/seams.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", "20", "-i", f"{shared}/videos/big_buck_bunny_360p.mp4",
                    "-t", "4", "-c:v", "libx264", "-an", "-pix_fmt", "yuv420p", clip], check=True)
    methods = [
        ("net wave, 320 px", [nst, "video", "--net", "wave", "--size", "320", "-q"], (0, 2, 8)),
        ("optimize starry_night, 160 px, 60 iterations",
         [nst, "video", "--method", "optimize", "-s", f"{shared}/images/style/starry_night.jpg", "--size", "160",
          "--iterations", "60", "-q"], (0, 2, 8)),
    ]
    print("| method | parts | warm-up | frames | mean difference (all frames) | after a seam (max) | "
          "jump at a seam (max) |")
    print("|---|---|---|---|---|---|---|")
    shown = {}
    for name, cmd, warmups in methods:
        single = f"{tmp}/single"
        os.makedirs(single, exist_ok=True)
        for f in glob.glob(f"{single}/*"):
            os.remove(f)
        run(cmd + ["--threads", "1", clip, f"{single}/%04d.png"], tmp)
        A = frames(single)
        n = len(A)
        for parts in (2, 3):
            cuts = [n * k // parts for k in range(1, parts)]
            for w in warmups:
                d = f"{tmp}/p{parts}w{w}"
                os.makedirs(d, exist_ok=True)
                run(ranked(parts, cmd + ["--warmup", str(w), clip, f"{d}/%04d.png"]), tmp)
                B = frames(d)
                assert len(B) == n, f"{d}: {len(B)} frames, the single run has {n}"
                diff = [float(np.abs(a - b).mean()) for a, b in zip(A, B)]
                # over the seam and the dissolve before it
                jump = [abs(float(np.abs(B[i] - B[i - 1]).mean()) - float(np.abs(A[i] - A[i - 1]).mean()))
                        for s in cuts for i in range(max(s - w, 1), s + 1)]
                print(f"| {name} | {parts} | {w} | {n} | {np.mean(diff):.3f} | {max(diff[s] for s in cuts):.3f} | "
                      f"{max(jump):.3f} |", flush=True)
                if parts == 2 and "optimize" in name and w in (0, 8):
                    shown[w] = (B, cuts[0])
        if "optimize" in name:
            shown["single"] = A
    if strip and shown:
        A, (B0, s), (Bw, _) = shown["single"], shown[0], shown[8]
        picks = list(range(s - 9, s + 2, 2))
        h, w = A[0].shape[:2]
        img = np.full((3 * h + 4, len(picks) * (w + 2) - 2, 3), 255, np.uint8)
        for r, row in enumerate((A, B0, Bw)):
            for c, i in enumerate(picks):
                img[r * (h + 2):r * (h + 2) + h, c * (w + 2):c * (w + 2) + w] = row[i].astype(np.uint8)
        Image.fromarray(img).save(strip, quality=85)
        print(f"\n{strip}: frames {', '.join(str(i + 1) for i in picks)} (part 2 keeps frames from {s + 1}); "
              f"rows: one process, 2 parts without warm-up, 2 parts with 8 warm-up frames faded in")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nst", default="build-bench/nst")
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--only", default="throughput,seams")
    ap.add_argument("--strip")
    a = ap.parse_args()
    nst, shared = os.path.abspath(a.nst), os.path.abspath(a.shared)
    strip = os.path.abspath(a.strip) if a.strip else None
    cores = os.cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        if "throughput" in a.only:
            throughput(nst, shared, tmp, cores)
            print()
        if "seams" in a.only:
            seams(nst, shared, tmp, strip)


if __name__ == "__main__":
    main()
