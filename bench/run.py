"""Benchmark nst against PyTorch doing the same work, side by side.

usage: /usr/bin/python3 bench/run.py [--quick] [--build build-bench] [--reps 5] ...

Every measurement runs in its own process, nst and PyTorch alternating
(nst first on even repetitions, PyTorch first on odd ones), so that both see
the same machine state and each process's peak RSS is its own. Prints a
markdown table of medians and writes it to bench/results.md (--quick: to
<build>/bench-cache/results-quick.md). See bench/README.md for the columns.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TORCH_SIDE = os.path.join(HERE, "torch_gatys.py")

# nst's default layers (nst_stylize_default_layers), passed to both sides
LAYERS = {
    "vgg19": ("relu4_2", "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1"),
    "darknet": ("leaky_re_lu_10",
                "leaky_re_lu_1,leaky_re_lu_2,leaky_re_lu_4,leaky_re_lu_8,leaky_re_lu_12"),
}
STEPS = {"vgg19": 3, "darknet": 10}  # timed steps per process, after one warm-up
LOSS_TOLERANCE = 1e-3  # relative; above it the two sides do not do the same work


def run(cmd, env):
    """Run cmd in its own process; returns (stdout, stderr, wall seconds,
    peak RSS in kB of that process alone, from wait4)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if p.returncode != 0:
        raise SystemExit(f"run.py: {' '.join(cmd)} failed ({p.returncode}):\n{stderr[-2000:]}")
    return stdout, stderr, wall, ru.ru_maxrss


def last_json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


class Bench:
    def __init__(self, a):
        self.a = a
        self.cache = os.path.join(a.build, "bench-cache")
        self.env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
        self.exe = {n: os.path.join(a.build, p) for n, p in
                    (("gatys", "bench/bench_gatys"), ("peak", "bench/bench_peak"), ("nst", "nst"))}
        for path in self.exe.values():
            if not os.path.exists(path):
                raise SystemExit(f"run.py: missing {path}; build first:\n  cmake -S {ROOT} -B {a.build} "
                                 f"-DCMAKE_BUILD_TYPE=Release && cmake --build {a.build} -j2")
        self.models = {"vgg19": os.path.join(self.cache, "vgg19.pth"), "darknet": a.darknet}

    def images(self, n):
        return [os.path.join(self.cache, f"{k}_{n}.png") for k in ("content", "style", "x")]

    def prepare(self, sizes, vgg):
        cmd = [sys.executable, TORCH_SIDE, "prepare", "--dir", self.cache,
               "--sizes", ",".join(map(str, sorted(sizes))),
               "--content", self.a.content, "--style", self.a.style] + (["--vgg"] if vgg else [])
        run(cmd, self.env)

    def peak(self):
        return last_json(run([self.exe["peak"]], self.env)[0])

    def step_cmds(self, net, n):
        content, style, x = self.images(n)
        cl, sl = LAYERS[net]
        common = ["--model", self.models[net], "--content", content, "--style", style, "--x", x,
                  "--content-layers", cl, "--style-layers", sl, "--threads", str(self.a.threads),
                  "--warmup", "1", "--steps", str(self.a.steps or STEPS[net])]
        return ([self.exe["gatys"]] + common,
                [sys.executable, TORCH_SIDE, "step", "--net", net] + common)

    def step(self, net, n):
        """Alternating repetitions of one Gatys step; returns the row data."""
        cmds = self.step_cmds(net, n)
        times, rss, first = ([], []), ([], []), None
        for rep in range(self.a.reps):
            order = (0, 1) if rep % 2 == 0 else (1, 0)
            res = [None, None]
            for side in order:
                out, _, _, maxrss = run(cmds[side], self.env)
                res[side] = last_json(out)
                times[side].extend(res[side]["times"])
                rss[side].append(maxrss)
            if first is None:
                first = res
                check_loss(f"{net} {n}", res[0]["loss"], res[1]["loss"])
        r = first[0]
        flops = r["flops_conv"] + r["flops_gram"]
        return dict(name=f"Gatys step, {NAMES[net]}", image=f"{r['w']}x{r['h']}", flops=flops,
                    gram_share=r["flops_gram"] / flops, count=(1, 1), times=times, rss=rss,
                    loss=(first[0]["loss"], first[1]["loss"]))

    def stylize(self, n, iterations):
        """Full `nst stylize` vs compare_stylize.py's PyTorch loop."""
        content, style, _ = self.images(n)
        cl, sl = LAYERS["darknet"]
        model = self.models["darknet"]
        # FLOPs per evaluation: those of one step at this size (one short run)
        step = last_json(run(self.step_cmds("darknet", n)[0][:-1] + ["1"], self.env)[0])
        flops = step["flops_conv"] + step["flops_gram"]
        with tempfile.TemporaryDirectory() as tmp:
            nst_cmd = [self.exe["nst"], "stylize", "-c", content, "-s", style, "-o",
                       os.path.join(tmp, "out.png"), "--size", str(n), "--model", model,
                       "--iterations", str(iterations), "--threads", str(self.a.threads),
                       "--content-layers", cl, "--style-layers", sl, "--print-every", "1"]
            torch_cmd = [sys.executable, TORCH_SIDE, "stylize", "--model", model,
                         "--content", content, "--style", style, "--iterations", str(iterations),
                         "--content-layers", cl, "--style-layers", sl,
                         "--threads", str(self.a.threads)]
            times, rss, first = ([], []), ([], []), [None, None]
            for rep in range(self.a.stylize_reps):
                for side in ((0, 1) if rep % 2 == 0 else (1, 0)):
                    if side == 0:
                        _, err, wall, maxrss = run(nst_cmd, self.env)
                        ls = [float(v) for v in re.findall(r"iter +\d+/\d+ +loss (\S+)", err)]
                        res = dict(time=wall, evaluations=len(ls), first_loss=ls[0], final_loss=ls[-1])
                    else:
                        out, _, _, maxrss = run(torch_cmd, self.env)
                        res = last_json(out)
                    times[side].append(res["time"])
                    rss[side].append(maxrss)
                    first[side] = first[side] or res
        loss = tuple(first[s]["first_loss"] for s in (0, 1))
        check_loss(f"stylize {n} (first evaluation)", *loss)
        return dict(name=f"`nst stylize`, darknet-tiny, L-BFGS {iterations} it.",
                    image=f"{step['w']}x{step['h']}", flops=flops, gram_share=step["flops_gram"] / flops,
                    count=tuple(first[s]["evaluations"] for s in (0, 1)), times=times, rss=rss,
                    loss=loss, final=tuple(first[s]["final_loss"] for s in (0, 1)))


NAMES = {"vgg19": "VGG19 to relu5_1 (random weights)", "darknet": "darknet-tiny"}


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-30)


def check_loss(what, nst, torch):
    d = rel(nst, torch)
    flag = "" if d <= LOSS_TOLERANCE else "  <-- NOT LIKE FOR LIKE"
    print(f"loss check {what}: nst {nst:.7g}  pytorch {torch:.7g}  relative difference {d:.1e}{flag}",
          flush=True)


def fmt_time(ts):
    med = statistics.median(ts)
    if len(ts) == 1:
        return f"{med:.3g} s"
    return f"{med:.3g} s ({min(ts):.3g}–{max(ts):.3g})"


def table(rows, peak):
    head = ["benchmark", "image", "GFLOP counted", "loss rel. diff", "nst time", "PyTorch time",
            "PyTorch / nst", "nst GFLOP/s (% peak)", "PyTorch GFLOP/s (% peak)",
            "nst peak RSS", "PyTorch peak RSS"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        med = [statistics.median(t) for t in r["times"]]
        rate = [r["flops"] * r["count"][s] / med[s] / 1e9 for s in (0, 1)]
        d = rel(*r["loss"])
        cells = [r["name"], r["image"],
                 f"{r['flops'] * r['count'][0] / 1e9:.4g}" + (f" ({r['count'][0]} eval.)" if r["count"][0] > 1 else ""),
                 f"{d:.1e}" + ("" if d <= LOSS_TOLERANCE else " (!)"),
                 fmt_time(r["times"][0]), fmt_time(r["times"][1]), f"{med[1] / med[0]:.2f}",
                 f"{rate[0]:.0f} ({100 * rate[0] / peak:.0f} %)",
                 f"{rate[1]:.0f} ({100 * rate[1] / peak:.0f} %)",
                 f"{max(r['rss'][0]) / 1024:.0f} MB", f"{max(r['rss'][1]) / 1024:.0f} MB"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = re.search(r"Model name:\s*(.+)", out).group(1).strip()
    except (OSError, AttributeError):
        model = platform.processor() or "unknown CPU"
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="256 px only, fewer repetitions (< 2 min)")
    p.add_argument("--build", default=os.path.join(ROOT, "build-bench"),
                   help="build directory holding nst, bench/bench_gatys, bench/bench_peak")
    p.add_argument("--reps", type=int, help="process pairs per Gatys-step benchmark (default 5, quick 2)")
    p.add_argument("--steps", type=int, help="timed steps per process, after 1 warm-up "
                   "(default 3 for VGG19, 10 for darknet-tiny)")
    p.add_argument("--stylize-reps", type=int, default=1)
    p.add_argument("--iterations", type=int, help="of the full stylize (default 300, quick 30)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--darknet", default=os.path.join(ROOT, "../shared/models/darknet-tiny"))
    p.add_argument("--content", default=os.path.join(ROOT, "../shared/images/content/tubingen.jpg"))
    p.add_argument("--style", default=os.path.join(ROOT, "../shared/images/style/starry_night.jpg"))
    p.add_argument("--out", help="markdown output (default bench/results.md; quick: in the cache)")
    p.add_argument("--note", default="", help="a line added under the table (e.g. machine busy)")
    a = p.parse_args()
    a.build = os.path.abspath(a.build)
    a.reps = a.reps or (2 if a.quick else 5)
    a.iterations = a.iterations or (30 if a.quick else 300)
    b = Bench(a)
    a.out = a.out or (os.path.join(b.cache, "results-quick.md") if a.quick else os.path.join(HERE, "results.md"))

    benches = [("vgg19", 256), ("darknet", 256)] if a.quick else \
        [("vgg19", 256), ("vgg19", 512), ("vgg19", 1024), ("darknet", 512), ("darknet", 1024)]
    stylize_size = 256 if a.quick else 512
    load_before = os.getloadavg()
    t0 = time.time()
    b.prepare({n for _, n in benches} | {stylize_size}, vgg=any(net == "vgg19" for net, _ in benches))
    peak = b.peak()
    print(f"fp32 FMA peak: {peak['gflops']} GFLOP/s ({peak['isa']}, {peak['threads']} threads)", flush=True)
    rows = []
    for net, n in benches:
        rows.append(b.step(net, n))
        print(table(rows[-1:], peak["gflops"]).splitlines()[-1], flush=True)
    rows.append(b.stylize(stylize_size, a.iterations))
    load_after = os.getloadavg()

    tab = table(rows, peak["gflops"])
    final = rows[-1]["final"]
    cmd = shlex.join(["/usr/bin/python3", "bench/run.py"] + sys.argv[1:])
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    torch_version = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                                   capture_output=True, text=True).stdout.strip()
    md = f"""# nst vs PyTorch

{datetime.date.today().isoformat()}, {machine()}; nst {commit}, PyTorch {torch_version}; {a.threads} threads each, float32.
Command: `{cmd}` ({(time.time() - t0) / 60:.1f} min). Load average before the run
{load_before[0]:.2f}, after {load_after[0]:.2f}.
Measured fp32 FMA peak (bench_peak, {peak['isa']}, {peak['threads']} threads): {peak['gflops']:.0f} GFLOP/s.

{tab}

Times: median over {a.reps} process pairs x {a.steps or "3 (VGG19) or 10 (darknet-tiny)"} timed steps per
Gatys-step row (min–max in brackets), {a.stylize_reps} run(s) per side for the full stylize. Images are tubingen fitted to the long
side (4:3); reflect padding; content + style + TV loss with nst's default weights and layers.
Full stylize: `nst stylize` process wall time (load, targets, {rows[-1]['count'][0]} evaluations, save) vs
the PyTorch loop of tests/pytorch/compare_stylize.py ({rows[-1]['count'][1]} evaluations); final losses
nst {final[0]:.5g}, PyTorch {final[1]:.5g} (the L-BFGS paths drift apart, as in compare_stylize.py).
Columns are explained in [README.md](README.md).
"""
    if a.note:
        md += f"\n{a.note}\n"
    print()
    print(md)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(md)
    print(f"written to {a.out}")


if __name__ == "__main__":
    main()
