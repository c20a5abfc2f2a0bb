"""Benchmark nst against PyTorch (and, for the style network's forward pass,
ONNX Runtime) doing the same work, side by side.

usage: /usr/bin/python3 bench/run.py [--quick] [--only apply,train] [--build build-bench] ...

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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TORCH_SIDE = os.path.join(HERE, "torch_gatys.py")
TORCH_FF = os.path.join(HERE, "torch_feedforward.py")
TORCH_ARB = os.path.join(HERE, "torch_arbitrary.py")
ONNX_DIR = os.path.join(HERE, "onnx")  # package.json of onnxruntime-node, and onnx_apply.js
PEERS = {"pytorch": "PyTorch", "onnxruntime": "ONNX Runtime"}

# nst's default layers (nst_stylize_default_layers), passed to both sides
LAYERS = {
    "vgg19": ("relu4_2", "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1"),
    "darknet": ("leaky_re_lu_10",
                "leaky_re_lu_1,leaky_re_lu_2,leaky_re_lu_4,leaky_re_lu_8,leaky_re_lu_12"),
}
STEPS = {"vgg19": 3, "darknet": 10, "apply": 5, "train": 3, "arbitrary": 3}  # timed per process, after one warm-up
LOSS_TOLERANCE = 1e-3  # relative; above it the two sides do not do the same work
# bf16 rows: each side rounds differently (nst: bf16 activations, float32
# losses; PyTorch autocast: bf16 convolutions and Gram matrices)
LOSS_TOLERANCE_BF16 = 3e-2
GREY_TOLERANCE = 1.0   # mean |nst - PyTorch| of the generator's outputs, grey levels 0..255
TRAIN_BATCH = 4


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
                    (("gatys", "bench/bench_gatys"), ("ff", "bench/bench_feedforward"),
                     ("peak", "bench/bench_peak"), ("nst", "nst"))}
        for path in self.exe.values():
            if not os.path.exists(path):
                raise SystemExit(f"run.py: missing {path}; build first:\n  cmake -S {ROOT} -B {a.build} "
                                 f"-DCMAKE_BUILD_TYPE=Release && cmake --build {a.build} -j2")
        self.models = {"vgg19": os.path.join(self.cache, "vgg19.pth"), "darknet": a.darknet,
                       "scream": a.style_net}

    def images(self, n):
        return [os.path.join(self.cache, f"{k}_{n}.png") for k in ("content", "style", "x")]

    def prepare(self, sizes, vgg):
        cmd = [sys.executable, TORCH_SIDE, "prepare", "--dir", self.cache,
               "--sizes", ",".join(map(str, sorted(sizes))),
               "--content", self.a.content, "--style", self.a.style] + (["--vgg"] if vgg else [])
        run(cmd, self.env)

    def prepare_crops(self, crop):
        """The training batch: TRAIN_BATCH crops of the first photos, in their own directory."""
        d = os.path.join(self.cache, f"crops_{crop}")
        run([sys.executable, TORCH_FF, "crops", "--photos", self.a.photos, "--dir", d,
             "--batch", str(TRAIN_BATCH), "--crop", str(crop)], self.env)
        return ",".join(os.path.join(d, f"crop_{i}.png") for i in range(TRAIN_BATCH))

    def peak(self):
        return last_json(run([self.exe["peak"]], self.env)[0])

    def step_cmds(self, net, n, precision="fp32"):
        content, style, x = self.images(n)
        cl, sl = LAYERS[net]
        common = ["--model", self.models[net], "--content", content, "--style", style, "--x", x,
                  "--content-layers", cl, "--style-layers", sl, "--threads", str(self.a.threads),
                  "--precision", precision, "--warmup", "1", "--steps", str(self.a.steps or STEPS[net])]
        return ([self.exe["gatys"]] + common,
                [sys.executable, TORCH_SIDE, "step", "--net", net] + common)

    def pairs(self, cmds, check):
        """Alternating repetitions of the nst and PyTorch commands; check(results)
        runs on the first pair, before any other. Returns (first results, times, rss)."""
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
                check(res)
        return first, times, rss

    def step(self, net, n, precision="fp32"):
        """Alternating repetitions of one Gatys step; returns the row data."""
        tol = LOSS_TOLERANCE_BF16 if precision == "bf16" else LOSS_TOLERANCE
        first, times, rss = self.pairs(self.step_cmds(net, n, precision), lambda res: check_loss(
            f"{net} {n} {precision}", res[0]["loss"], res[1]["loss"], tol))
        r = first[0]
        flops = r["flops_conv"] + r["flops_gram"]
        name = f"Gatys step, {NAMES[net]}" + (", bf16 (PyTorch: autocast)" if precision == "bf16" else "")
        return dict(name=name, image=f"{r['w']}x{r['h']}", flops=flops,
                    count=(1, 1), times=times, rss=rss,
                    check=loss_cell(first[0]["loss"], first[1]["loss"], tol))

    def apply(self, n, peer="pytorch"):
        """One forward pass of the style network ('scream') on content_N.png, nst
        vs fast_style.py in PyTorch or (peer "onnxruntime") vs fast_style.py's
        network exported to ONNX at this size, in bench/onnx/onnx_apply.js."""
        content = self.images(n)[0]
        net = ["--net", self.models["scream"], "--image", content]
        timing = ["--threads", str(self.a.threads), "--warmup", "1", "--steps", str(self.a.steps or STEPS["apply"])]
        outs = [os.path.join(self.cache, f"apply_{side}_{n}.{ext}")
                for side, ext in (("nst", "png"), (peer, "png" if peer == "pytorch" else "ppm"))]
        if peer == "pytorch":
            peer_cmd = [sys.executable, TORCH_FF, "apply"] + net
        else:
            model, ppm = (os.path.join(self.cache, f"scream_{n}.{ext}") for ext in ("onnx", "ppm"))
            run([sys.executable, TORCH_FF, "onnx"] + net + ["--out", model, "--ppm", ppm], self.env)
            peer_cmd = ["node", os.path.join(ONNX_DIR, "onnx_apply.js"), "--model", model, "--image", ppm]
        cmds = ([self.exe["ff"], "apply"] + net + timing + ["--out", outs[0]], peer_cmd + timing + ["--out", outs[1]])
        diff = []
        first, times, rss = self.pairs(cmds, lambda res: diff.append(check_images(f"apply {n}", *outs, peer)))
        r = first[0]
        return dict(name="`nst apply`: generator forward ('scream')", image=f"{r['w']}x{r['h']}",
                    flops=r["flops_conv"], count=(1, 1), times=times, rss=rss, peer=PEERS[peer],
                    peer_version=first[1].get("version"), check=(f"{diff[0]:.2g} grey lv.", diff[0] < GREY_TOLERANCE))

    def apply_onnx(self, n):
        return self.apply(n, "onnxruntime")

    def arbitrary(self, n):
        """One forward pass of Magenta's transfer network on content_N.png with
        the style vector of the painting; nst computes the vector (not timed)
        and saves it, PyTorch reads it, so the check compares the transfer
        networks alone (nst runs first on repetition 0, so the file is there)."""
        content = self.images(n)[0]
        outs = [os.path.join(self.cache, f"arbitrary_{side}_{n}.png") for side in ("nst", "pytorch")]
        vec = os.path.join(self.cache, f"arbitrary_style_{n}.json")
        common = ["--pair", self.a.pair, "--image", content, "--threads", str(self.a.threads),
                  "--warmup", "1", "--steps", str(self.a.steps or STEPS["arbitrary"])]
        cmds = ([self.exe["ff"], "arbitrary"] + common + ["--style", self.a.arb_style, "--save-style", vec,
                                                         "--out", outs[0]],
                [sys.executable, TORCH_ARB] + common + ["--style-vector", vec, "--style", self.a.arb_style,
                                                        "--out", outs[1]])
        diff = []

        def check(res):
            print(f"style vector {n}: cosine of PyTorch's own (magenta.py preprocessing) with nst's "
                  f"{res[1]['style_cosine']:.4f} (the timed pass uses nst's on both sides)", flush=True)
            diff.append(check_images(f"arbitrary {n}", *outs))
        first, times, rss = self.pairs(cmds, check)
        r = first[0]
        return dict(name="arbitrary style: Magenta transfer forward", image=f"{r['w']}x{r['h']}",
                    flops=r["flops_conv"], count=(1, 1), times=times, rss=rss,
                    check=(f"{diff[0]:.2g} grey lv.", diff[0] < GREY_TOLERANCE))

    def train(self, crop):
        """One nst train step: batch TRAIN_BATCH, crop x crop, darknet-tiny loss."""
        cl, sl = LAYERS["darknet"]
        common = ["--net", self.models["scream"], "--model", self.models["darknet"],
                  "--style", self.images(crop)[1], "--batch", self.prepare_crops(crop),
                  "--content-layers", cl, "--style-layers", sl, "--threads", str(self.a.threads),
                  "--warmup", "1", "--steps", str(self.a.steps or STEPS["train"])]
        cmds = ([self.exe["ff"], "train"] + common, [sys.executable, TORCH_FF, "train"] + common)
        first, times, rss = self.pairs(cmds, lambda res: check_loss(
            f"train {crop} (first step)", res[0]["loss"], res[1]["loss"]))
        r = first[0]
        return dict(name=f"`nst train` step, batch {r['batch']}, darknet-tiny loss",
                    image=f"{r['batch']}x{r['w']}x{r['h']}", flops=r["flops_conv"] + r["flops_gram"],
                    count=(1, 1), times=times, rss=rss,
                    check=loss_cell(first[0]["loss"], first[1]["loss"]))

    def stylize(self, n, iterations, precision="fp32"):
        """Full `nst stylize` vs compare_stylize.py's PyTorch loop (float32 on
        the PyTorch side also for nst's bf16: the row shows how far bf16 ends
        from a float32 run)."""
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
                       "--content-layers", cl, "--style-layers", sl, "--print-every", "1",
                       "--precision", precision]
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
        tol = LOSS_TOLERANCE_BF16 if precision == "bf16" else LOSS_TOLERANCE
        check_loss(f"stylize {n} {precision} (first evaluation)", *loss, tol)
        name = f"`nst stylize`, darknet-tiny, L-BFGS {iterations} it." + \
            (", bf16 (PyTorch: fp32)" if precision == "bf16" else "")
        return dict(name=name, image=f"{step['w']}x{step['h']}", flops=flops,
                    count=tuple(first[s]["evaluations"] for s in (0, 1)), times=times, rss=rss,
                    check=loss_cell(*loss, tol), final=tuple(first[s]["final_loss"] for s in (0, 1)),
                    precision=precision)


NAMES = {"vgg19": "VGG19 to relu5_1 (random weights)", "darknet": "darknet-tiny"}

CONV_SHAPE = re.compile(r"mb(\d+)_ic(\d+)oc(\d+)_ih\d+oh(\d+)kh(\d+)\D.*?_iw\d+ow(\d+)kw(\d+)")


def profile_step(b, net, n, precision):
    """One Gatys step of nst under ONEDNN_VERBOSE=1: the time of each kind of
    oneDNN primitive (convolutions split into the network's forward and
    backward-data, where forward convolutions run after the backward pass
    began are reflect_grad's input gradients, and the 1x1 ones of the Gram
    matrices), the rest (nst's own
    loops: preprocessing, reflect padding, losses, TV) as the difference to the
    step's wall time, and the network convolutions' GFLOP/s (direct FLOPs,
    also where Winograd runs)."""
    cmd = b.step_cmds(net, n, precision)[0]
    cmd[cmd.index("--steps") + 1] = "1"
    out, _, _, _ = run(cmd, dict(b.env, ONEDNN_VERBOSE="1"))
    lines = out.splitlines()
    step_time = last_json(out)["times"][0]
    start = lines.index("bench_gatys: timed steps")
    kinds, conv_flops, conv_time, backward = {}, 0.0, 0.0, False
    for line in lines[start + 1:]:
        f = line.split(",")
        if not line.startswith("onednn_verbose,exec,") or len(f) < 6:
            continue
        kind, prop, ms = f[3], f[5], float(f[-1])
        if kind == "convolution":
            m = CONV_SHAPE.search(line)
            mb, ic, oc, oh, kh, ow, kw = map(int, m.groups())
            if kh == 1 and ic == oc and (prop == "backward_weights" or "post-ops:sum" in line):
                kind = "Gram matrices and their gradients (1x1 conv)"
            elif backward and prop.startswith("forward"):
                # reflect_grad: an input gradient computed as a forward convolution
                kind = "network convolutions, backward-data"
            else:
                kind = f"network convolutions, {prop.replace('_training', '').replace('_', '-')}"
                conv_flops += 2.0 * mb * ic * oc * kh * kw * oh * ow
                conv_time += ms / 1e3
        backward |= prop.startswith("backward") and not kind.startswith("Gram")
        kinds[kind] = kinds.get(kind, 0.0) + ms / 1e3
    kinds["nst's own loops (padding, losses, TV, preprocessing)"] = step_time - sum(kinds.values())
    return dict(net=net, n=n, precision=precision, step=step_time, kinds=kinds,
                conv_gflops=conv_flops / conv_time / 1e9 if conv_time else 0.0)


def profile_table(p, peak):
    lines = [f"**{NAMES[p['net']]}, {p['n']} px, {p['precision']}**: step {p['step'] * 1e3:.0f} ms; "
             f"network convolutions {p['conv_gflops']:.0f} GFLOP/s = {100 * p['conv_gflops'] / peak:.0f} % "
             "of the fp32 peak (direct FLOPs)", "",
             "| part | ms | share |", "|---|---|---|"]
    for k, t in sorted(p["kinds"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {k} | {t * 1e3:.1f} | {100 * t / p['step']:.0f} % |")
    return "\n".join(lines)


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-30)


def check_loss(what, nst, torch, tol=LOSS_TOLERANCE):
    d = rel(nst, torch)
    flag = "" if d <= tol else "  <-- NOT LIKE FOR LIKE"
    print(f"loss check {what}: nst {nst:.7g}  pytorch {torch:.7g}  relative difference {d:.1e}{flag}",
          flush=True)


def loss_cell(nst, torch, tol=LOSS_TOLERANCE):
    """The check column of a row that compares losses: (text, within tolerance)."""
    d = rel(nst, torch)
    return f"{d:.1e}", d <= tol


def check_images(what, nst_png, peer_png, peer="pytorch"):
    """Mean |nst - peer| of two 8-bit images in grey levels; prints it."""
    import numpy as np
    from PIL import Image
    a, b = (np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) for p in (nst_png, peer_png))
    d = np.abs(a - b)
    flag = "" if d.mean() < GREY_TOLERANCE else "  <-- NOT LIKE FOR LIKE"
    print(f"output check {what}: mean |nst - {peer}| {d.mean():.3g} grey levels, max {d.max():.0f}{flag}",
          flush=True)
    return float(d.mean())


def fmt_time(ts):
    med = statistics.median(ts)
    if len(ts) == 1:
        return f"{med:.3g} s"
    return f"{med:.3g} s ({min(ts):.3g}–{max(ts):.3g})"


def table(rows, peak):
    """Rows against one peer (the columns are named after it)."""
    peer = rows[0].get("peer", PEERS["pytorch"])
    head = ["benchmark", "image", "GFLOP counted", "check", "nst time", f"{peer} time",
            f"{peer} / nst", "nst GFLOP/s (% peak)", f"{peer} GFLOP/s (% peak)",
            "nst peak RSS", f"{peer} peak RSS"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        med = [statistics.median(t) for t in r["times"]]
        rate = [r["flops"] * r["count"][s] / med[s] / 1e9 for s in (0, 1)]
        check, ok = r["check"]
        cells = [r["name"], r["image"],
                 f"{r['flops'] * r['count'][0] / 1e9:.4g}" + (f" ({r['count'][0]} eval.)" if r["count"][0] > 1 else ""),
                 check + ("" if ok else " (!)"),
                 fmt_time(r["times"][0]), fmt_time(r["times"][1]), f"{med[1] / med[0]:.2f}",
                 f"{rate[0]:.0f} ({100 * rate[0] / peak:.0f} %)",
                 f"{rate[1]:.0f} ({100 * rate[1] / peak:.0f} %)",
                 f"{max(r['rss'][0]) / 1024:.0f} MB", f"{max(r['rss'][1]) / 1024:.0f} MB"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def tables(rows, peak):
    """One table per peer (rows without "peer" are PyTorch's), in the order the rows ran."""
    peer = [r.get("peer", PEERS["pytorch"]) for r in rows]
    return "\n\n".join(table([r for r, q in zip(rows, peer) if q == p], peak) for p in dict.fromkeys(peer))


def onnx_missing():
    """None if the ONNX Runtime rows can run, else what to run first."""
    if shutil.which("node") and os.path.isdir(os.path.join(ONNX_DIR, "node_modules", "onnxruntime-node")):
        return None
    return ("the apply-onnx rows need Node.js and onnxruntime-node (bench/README.md); install them with\n"
            f"  apt-get install nodejs npm   # if `node` is missing\n  npm ci --ignore-scripts --prefix {ONNX_DIR}")


def machine():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = re.search(r"Model name:\s*(.+)", out).group(1).strip()
    except (OSError, AttributeError):
        model = platform.processor() or "unknown CPU"
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def plan(a):
    """The benchmarks to run, as (key, method name, argument); --only keeps the
    keys that start with one of its comma-separated prefixes."""
    if a.quick:
        benches = [("gatys-vgg19-256", "step", ("vgg19", 256)), ("gatys-vgg19-256-bf16", "step", ("vgg19", 256, "bf16")),
                   ("gatys-darknet-256", "step", ("darknet", 256)),
                   ("stylize-256", "stylize", (256, a.iterations)), ("apply-256", "apply", (256,)),
                   ("apply-onnx-256", "apply_onnx", (256,)),
                   ("arbitrary-256", "arbitrary", (256,)),
                   ("train-128", "train", (128,))]
    else:
        # VGG19 at 256..1024 in both precisions; darknet-tiny 256..2048 shows
        # how time and memory grow with the pixel count
        benches = [(f"gatys-vgg19-{n}{'-bf16' if p == 'bf16' else ''}", "step", ("vgg19", n, p))
                   for n in (256, 512, 1024) for p in ("fp32", "bf16")]
        benches += [(f"gatys-darknet-{n}", "step", ("darknet", n)) for n in (256, 512, 1024, 2048)]
        benches += [("gatys-darknet-2048-bf16", "step", ("darknet", 2048, "bf16"))]
        benches += [("stylize-512", "stylize", (512, a.iterations)),
                    ("stylize-512-bf16", "stylize", (512, a.iterations, "bf16")), ("apply-512", "apply", (512,)),
                    ("apply-1024", "apply", (1024,)), ("apply-onnx-512", "apply_onnx", (512,)),
                    ("apply-onnx-1024", "apply_onnx", (1024,)), ("arbitrary-512", "arbitrary", (512,)),
                    ("arbitrary-1024", "arbitrary", (1024,)), ("train-256", "train", (256,))]
    if a.only:
        prefixes = a.only.split(",")
        benches = [b for b in benches if any(b[0].startswith(p) for p in prefixes)]
        if not benches:
            raise SystemExit(f"run.py: --only {a.only} matches none of the benchmarks")
    missing = onnx_missing() if any(kind == "apply_onnx" for _, kind, _ in benches) else None
    if missing:  # an optional peer: the other rows still run
        benches = [b for b in benches if b[1] != "apply_onnx"]
        if not benches:
            raise SystemExit(f"run.py: {missing}")
        print(f"run.py: skipping {missing}", flush=True)
    return benches


def notes(a, rows, kinds):
    """The lines under the table, for the kinds of rows that ran."""
    out = []
    if "step" in kinds:
        out.append(f"Gatys-step rows: median over {a.reps} process pairs x "
                   f"{a.steps or '3 (VGG19) or 10 (darknet-tiny)'} timed steps (min–max in brackets). "
                   "Images are tubingen fitted to the long side (4:3); reflect padding; content + style "
                   "+ TV loss with nst's default weights and layers.")
    if "stylize" in kinds:
        finals = "; ".join(f"{r['precision']}: nst {r['final'][0]:.5g}, PyTorch (fp32) {r['final'][1]:.5g} "
                           f"({100 * (r['final'][0] / r['final'][1] - 1):+.1f} %)"
                           for r in rows if "final" in r)
        r = next(r for r in rows if "final" in r)
        out.append(f"Full stylize ({a.stylize_reps} run(s) per side): `nst stylize` process wall time "
                   f"(load, targets, {r['count'][0]} evaluations, save) vs the PyTorch loop of "
                   f"tests/pytorch/compare_stylize.py ({r['count'][1]} evaluations); final losses {finals} "
                   "(the L-BFGS paths drift apart, as in compare_stylize.py).")
    if "apply" in kinds:
        out.append(f"`nst apply` rows: one forward pass of the 'scream' style network over tubingen "
                   f"(batch 1, no tiles) through nst's generator plan vs tests/pytorch/fast_style.py "
                   f"under torch.no_grad(); median over {a.reps} process pairs x {a.steps or STEPS['apply']} "
                   "timed passes; check: mean absolute difference of the two outputs in grey levels.")
    if "apply_onnx" in kinds:
        out.append("ONNX Runtime rows: the same pass as the `nst apply` rows, nst vs tests/pytorch/fast_style.py's "
                   "network exported with torch.onnx.export (opset 17, at the image's size) run by ONNX Runtime's "
                   f"CPU provider (onnxruntime-node, bench/onnx/onnx_apply.js: intraOpNumThreads {a.threads}, "
                   "interOpNumThreads 1, graph optimisations 'all'); median over "
                   f"{a.reps} process pairs x {a.steps or STEPS['apply']} timed passes; check: mean absolute "
                   "difference of the two outputs in grey levels; ONNX Runtime's peak RSS includes Node.js.")
    if "arbitrary" in kinds:
        out.append(f"Arbitrary-style rows: one forward pass of Magenta's transfer network "
                   f"(style_transfer_f16_384.tflite, float32 arithmetic) over tubingen (batch 1, no tiles) "
                   f"with the style vector of {os.path.basename(a.arb_style)}, through nst's plan (as "
                   "`nst_arbitrary_apply` runs a picture that needs no tiles) vs tests/pytorch/magenta.py's "
                   "`transfer` under torch.no_grad(); the style vector is computed once by nst before "
                   "timing (not timed) and fed to both; median over "
                   f"{a.reps} process pairs x {a.steps or STEPS['arbitrary']} timed passes; check: mean "
                   "absolute difference of the two outputs in grey levels.")
    if "train" in kinds:
        out.append(f"`nst train` row: one training step (train_step of src/feedforward/train.c: content "
                   f"targets, generator forward, darknet-tiny forward and backward, generator backward, "
                   f"Adam) on {TRAIN_BATCH} crops of ../shared/images/photos, starting from 'scream', "
                   "nst train's default loss (style weight 50, starry_night at the crop size) vs the same "
                   "in PyTorch (fast_style.py + darknet.py + compare_stylize.py's loss, torch.optim.Adam); "
                   f"median over {a.reps} process pairs x {a.steps or STEPS['train']} timed steps; check: "
                   "the first step's loss.")
    out.append("Columns are explained in [README.md](README.md).")
    return "\n\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="256 px only, fewer repetitions (< 2 min)")
    p.add_argument("--only", help="comma-separated prefixes of the benchmarks to run: gatys, gatys-vgg19, "
                   "gatys-darknet-512, stylize, apply (also apply-onnx), apply-1024, apply-onnx, arbitrary, train, ...")
    p.add_argument("--build", default=os.path.join(ROOT, "build-bench"),
                   help="build directory holding nst, bench/bench_gatys, bench/bench_feedforward, bench/bench_peak")
    p.add_argument("--reps", type=int, help="process pairs per benchmark (default 5, quick 2)")
    p.add_argument("--steps", type=int, help="timed steps per process, after 1 warm-up "
                   "(default 3 for VGG19, 10 for darknet-tiny, 5 for apply, 3 for arbitrary and train)")
    p.add_argument("--stylize-reps", type=int, default=1)
    p.add_argument("--iterations", type=int, help="of the full stylize (default 300, quick 30)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--darknet", default=os.path.join(ROOT, "../shared/models/darknet-tiny"))
    p.add_argument("--style-net", default=os.path.join(ROOT, "../shared/models/fast/scream"),
                   help="the style network of the apply and train rows")
    p.add_argument("--pair", default=os.path.join(ROOT, "../shared/models/magenta-arbitrary"),
                   help="Magenta's arbitrary-style .tflite pair (the arbitrary rows)")
    p.add_argument("--arb-style", default=os.path.join(ROOT, "../shared/images/style/starry_night.jpg"),
                   help="the painting of the arbitrary rows")
    p.add_argument("--photos", default=os.path.join(ROOT, "../shared/images/photos"),
                   help="where the train row's crops come from")
    p.add_argument("--content", default=os.path.join(ROOT, "../shared/images/content/tubingen.jpg"))
    p.add_argument("--style", default=os.path.join(ROOT, "../shared/images/style/starry_night.jpg"))
    p.add_argument("--out", help="markdown output (default bench/results.md; quick, or --only "
                   "without --append: in the cache)")
    p.add_argument("--append", action="store_true", help="add the table as a section at the end of "
                   "--out instead of replacing the file")
    p.add_argument("--note", default="", help="a line added under the table (e.g. machine busy)")
    a = p.parse_args()
    a.build = os.path.abspath(a.build)
    a.reps = a.reps or (2 if a.quick else 5)
    a.iterations = a.iterations or (30 if a.quick else 300)
    b = Bench(a)
    if not a.out:
        own = a.quick or (a.only and not a.append)
        a.out = os.path.join(b.cache, "results-quick.md" if a.quick else "results-only.md") if own \
            else os.path.join(HERE, "results.md")

    benches = plan(a)
    kinds = {kind for _, kind, _ in benches}
    sizes = {arg[0] if kind != "step" else arg[1] for _, kind, arg in benches}
    load_before = os.getloadavg()
    t0 = time.time()
    b.prepare(sizes, vgg=any(kind == "step" and arg[0] == "vgg19" for _, kind, arg in benches))
    peak = b.peak()
    print(f"fp32 FMA peak: {peak['gflops']} GFLOP/s ({peak['isa']}, {peak['threads']} threads)", flush=True)
    rows = []
    for _, kind, arg in benches:
        rows.append(getattr(b, kind)(*arg))
        print(table(rows[-1:], peak["gflops"]).splitlines()[-1], flush=True)
    # where the time of the largest VGG19 step that ran goes, in both precisions
    vgg = sorted(arg[1] for _, kind, arg in benches if kind == "step" and arg[0] == "vgg19")
    profiles = [profile_step(b, "vgg19", min(vgg[-1], 512), p) for p in ("fp32", "bf16")] if vgg else []
    load_after = os.getloadavg()

    cmd = shlex.join(["/usr/bin/python3", "bench/run.py"] + sys.argv[1:])
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    torch_version = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                                   capture_output=True, text=True).stdout.strip()
    peers = f"PyTorch {torch_version}" + "".join(
        f", ONNX Runtime {v}" for v in dict.fromkeys(r["peer_version"] for r in rows if r.get("peer_version")))
    code = f"`` {cmd} ``" if "`" in cmd else f"`{cmd}`"  # markdown inline code around the command
    title = f"## {a.only} rows" if a.append else "# nst vs PyTorch"
    md = f"""{title}

{datetime.date.today().isoformat()}, {machine()}; nst {commit}, {peers}; {a.threads} threads each, float32 unless a row says bf16.
Command: {code} ({(time.time() - t0) / 60:.1f} min). Load average before the run
{load_before[0]:.2f}, after {load_after[0]:.2f}.
Measured fp32 FMA peak (bench_peak, {peak['isa']}, {peak['threads']} threads): {peak['gflops']:.0f} GFLOP/s.

{tables(rows, peak["gflops"])}

{notes(a, rows, kinds)}
"""
    if profiles:
        md += ("\n### Where a step's time goes\n\nOne step of bench_gatys under ONEDNN_VERBOSE=1 (each oneDNN "
               "primitive's own time; the rest is nst's own code).\n\n" +
               "\n\n".join(profile_table(p, peak["gflops"]) for p in profiles) + "\n")
    if a.note:
        md += f"\n{a.note}\n"
    print()
    print(md)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "a" if a.append else "w") as f:
        f.write("\n" + md if a.append else md)
    print(f"{'appended' if a.append else 'written'} to {a.out}")


if __name__ == "__main__":
    main()
