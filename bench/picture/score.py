"""Score stylised pictures with measures that owe nothing to nst's loss network
(darknet-tiny), so that a change which only games that network shows up.

  colour_swd  sliced Wasserstein distance between the Lab colours of the output
              and of the painting (Lab units, ~ΔE; 0 = same palette)
  style_cos   1 - cosine between the 100-d style vectors of Magenta's style
              predictor (a MobileNetV2, run in Arm NN) for output and painting
  style_l2    L2 distance between the same vectors
  gram        relative Gram distance ‖G - Gs‖ / ‖Gs‖ of the predictor's layer
              GRAM_TENSOR (mid-level, 1/8 resolution, 192 channels)
  ssim        SSIM of the luma of output and photo at LONG px (1 = same structure)
  edges       correlation of Sobel gradient magnitudes at LONG/2 px (do the
              photo's outlines survive, brush strokes averaged out)

usage: /usr/bin/python3 bench/picture/score.py --content C --style S OUT [OUT...] [--json]
       /usr/bin/python3 bench/picture/score.py --selftest
"""
import argparse
import contextlib
import io
import json
import os
import struct
import sys
import tempfile

import flatbuffers
import numpy as np
from flatbuffers.table import Table
from PIL import Image, ImageFilter

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "../../../shared"))
PREDICTOR = os.path.join(SHARED, "models/magenta-arbitrary/style_predict_quantized_256.tflite")
BACKENDS = "/usr/lib/x86_64-linux-gnu/armnn22"  # Debian libarmnn-cpuref-backend22
GRAM_TENSOR = "MobilenetV2/expanded_conv_4/expand/Relu6"
LONG = 256


def load(path):
    if not os.path.isfile(path):
        sys.exit("score.py: no such image: %s" % path)
    return Image.open(path).convert("RGB")


def fit(img, long=LONG):
    """Box (area) resize to `long` px on the long side, as float RGB 0..1."""
    w, h = img.size
    s = long / max(w, h)
    return np.asarray(img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BOX), np.float64) / 255


def srgb_to_lab(rgb):
    """sRGB 0..1 -> CIE L*a*b* (D65): linearise c/12.92 or ((c+0.055)/1.055)^2.4,
    XYZ = M·rgb, f(t) = t^(1/3) above (6/29)^3 else t/(3·(6/29)^2) + 4/29,
    L = 116 f(Y/Yn) - 16, a = 500 (f(X/Xn) - f(Y/Yn)), b = 200 (f(Y/Yn) - f(Z/Zn))."""
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    d = 6 / 29
    f = np.where(xyz > d ** 3, np.cbrt(xyz), xyz / (3 * d * d) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def colour_swd(a, b, n_dir=128, n_q=256, seed=0):
    """Sliced W1 of the Lab pixel colours (pixels of the ≤LONG px box resize):
    SW1 = mean over n_dir random unit directions θ (fixed seed) of
    (1/n_q) Σ_k |Qa_θ(q_k) - Qb_θ(q_k)|, Q the quantile function of the pixels
    projected on θ, q_k = (k + 1/2) / n_q: the 1-D W1 by quantile matching."""
    dirs = np.random.default_rng(seed).standard_normal((n_dir, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    q = (np.arange(n_q) + 0.5) / n_q
    qa, qb = (np.quantile(srgb_to_lab(fit(x)).reshape(-1, 3) @ dirs.T, q, axis=0) for x in (a, b))
    return float(np.abs(qa - qb).mean())


def luma(img, size):
    """BT.601 luma Y' = 0.299 R' + 0.587 G' + 0.114 B' (0..1) at size (w, h)."""
    return np.asarray(img.resize(size, Image.BOX).convert("RGB"), np.float64) @ [0.299, 0.587, 0.114] / 255


def _gauss(x, sigma=1.5, r=5):
    """Separable Gaussian filter, window 2r+1 = 11, 'valid' borders (as Wang et al.)."""
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    x = sum(k[i] * x[i:x.shape[0] - 2 * r + i] for i in range(2 * r + 1))
    return sum(k[i] * x[:, i:x.shape[1] - 2 * r + i] for i in range(2 * r + 1))


def ssim(out, photo, long=LONG):
    """Mean SSIM of the luma, both at the photo's aspect and `long` px:
    (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),
    C1 = 0.01², C2 = 0.03² (range 1), local moments by the Gaussian window."""
    w, h = photo.size
    size = (round(w * long / max(w, h)), round(h * long / max(w, h)))
    x, y = luma(out, size), luma(photo, size)
    mx, my = _gauss(x), _gauss(y)
    sxx, syy, sxy = _gauss(x * x) - mx * mx, _gauss(y * y) - my * my, _gauss(x * y) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    return float(np.mean((2 * mx * my + c1) * (2 * sxy + c2) / ((mx * mx + my * my + c1) * (sxx + syy + c2))))


def edges(out, photo, long=LONG // 2):
    """Pearson correlation of the Sobel gradient magnitudes of the luma at `long` px."""
    w, h = photo.size
    size = (round(w * long / max(w, h)), round(h * long / max(w, h)))

    def grad(y):
        sx = (y[:-2, 2:] + 2 * y[1:-1, 2:] + y[2:, 2:]) - (y[:-2, :-2] + 2 * y[1:-1, :-2] + y[2:, :-2])
        sy = (y[2:, :-2] + 2 * y[2:, 1:-1] + y[2:, 2:]) - (y[:-2, :-2] + 2 * y[:-2, 1:-1] + y[:-2, 2:])
        return np.hypot(sx, sy).ravel()
    return float(np.corrcoef(grad(luma(out, size)), grad(luma(photo, size)))[0, 1])


def _bilinear(x, nh, nw):
    """Bilinear resize, align_corners=False, no antialiasing (the predictor's
    convention, as torch.nn.functional.interpolate): src = max((i + 1/2) n_in / n_out - 1/2, 0)."""
    def axis(n_out, n_in):
        s = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0)
        i0 = np.minimum(s.astype(int), n_in - 1)
        return i0, np.minimum(i0 + 1, n_in - 1), s - i0
    y0, y1, wy = axis(nh, x.shape[0])
    x0, x1, wx = axis(nw, x.shape[1])
    r = x[y0] * (1 - wy)[:, None, None] + x[y1] * wy[:, None, None]
    return r[:, x0] * (1 - wx)[None, :, None] + r[:, x1] * wx[None, :, None]


def _output_slot(model):
    """Byte offset of the first output index of the first subgraph, and the
    tensor names (schema.fbs: Model.subgraphs = field 2; SubGraph.tensors = 0,
    outputs = 2; Tensor.name = 3; a field's vtable slot is 4 + 2 * index)."""
    m = Table(model, flatbuffers.encode.Get(flatbuffers.packer.uoffset, model, 0))
    sub = Table(model, m.Indirect(m.Vector(m.Offset(8))))
    tv = sub.Vector(sub.Offset(4))
    names = []
    for i in range(sub.VectorLen(sub.Offset(4))):
        t = Table(model, sub.Indirect(tv + 4 * i))
        names.append(t.String(t.Offset(10) + t.Pos).decode())
    return sub.Vector(sub.Offset(8)), names


class StyleNet:
    """Magenta's int8 style predictor run unchanged by Arm NN (CpuRef), plus a
    copy of the file whose graph output is patched to GRAM_TENSOR (same length,
    so the flatbuffer stays valid) to read that intermediate layer."""

    def __init__(self, model=PREDICTOR, backends=BACKENDS):
        if not os.path.isfile(model):
            sys.exit("score.py: no style predictor model: %s" % model)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import pyarmnn as ann
        self.ann = ann
        opts = ann.CreationOptions()
        opts.m_DynamicBackendsPath = backends
        self.runtime = ann.IRuntime(opts)
        if "CpuRef" not in str(self.runtime.GetDeviceSpec()):
            sys.exit("score.py: Arm NN finds no CpuRef backend in %s (apt-get install "
                     "libarmnn-cpuref-backend22, or --armnn-backends DIR holding Arm_CpuRef_backend.so)" % backends)
        data = bytearray(open(model, "rb").read())
        pos, names = _output_slot(data)
        self.vec = self._load(model)
        struct.pack_into("<i", data, pos, names.index(GRAM_TENSOR))
        with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
            f.write(data)
            f.flush()
            self.mid = self._load(f.name)

    def _load(self, path):
        ann = self.ann
        parser = ann.ITfLiteParser()
        net = parser.CreateNetworkFromBinaryFile(path)
        ib = parser.GetNetworkInputBindingInfo(0, parser.GetSubgraphInputTensorNames(0)[0])
        ob = parser.GetNetworkOutputBindingInfo(0, parser.GetSubgraphOutputTensorNames(0)[0])
        opt, _ = ann.Optimize(net, [ann.BackendId("CpuRef")], self.runtime.GetDeviceSpec(), ann.OptimizerOptions())
        return self.runtime.LoadNetwork(opt)[0], ib, ob

    def _run(self, handle, x):
        net_id, ib, ob = handle
        out = self.ann.make_output_tensors([ob])
        self.runtime.EnqueueWorkload(net_id, self.ann.make_input_tensors([ib], [x]), out)
        y = self.ann.workload_tensors_to_ndarray(out)[0].astype(np.float64)
        info = ob[1]
        return y if info.GetDataType() == self.ann.DataType_Float32 else \
            (y - info.GetQuantizationOffset()) * info.GetQuantizationScale()

    def features(self, img):
        """(style vector [100], Gram [192, 192]) of RGB 0..1, short side
        bilinear to 256, centre crop 256x256 (../shared/models/README.md)."""
        x = np.asarray(img, np.float64) / 255
        h, w = x.shape[:2]
        s = 256 / min(h, w)
        x = _bilinear(x, max(256, round(h * s)), max(256, round(w * s)))
        t, l = (x.shape[0] - 256) // 2, (x.shape[1] - 256) // 2
        x = np.ascontiguousarray(x[None, t:t + 256, l:l + 256], np.float32)
        f = self._run(self.mid, x).reshape(-1, 192)
        return self._run(self.vec, x).ravel(), f.T @ f / f.size


def style_dist(fa, fb):
    (va, ga), (vb, gb) = fa, fb
    return {"style_cos": float(1 - va @ vb / np.linalg.norm(va) / np.linalg.norm(vb)),
            "style_l2": float(np.linalg.norm(va - vb)),
            "gram": float(np.linalg.norm(ga - gb) / np.linalg.norm(gb))}


def score(net, out, photo, painting, painting_features=None):
    """All measures of PIL image `out` against `photo` and `painting`."""
    r = {"colour_swd": colour_swd(out, painting)}
    r.update(style_dist(net.features(out), painting_features or net.features(painting)))
    r.update(ssim=ssim(out, photo), edges=edges(out, photo))
    return r


def selftest(net, photo, painting):
    """Identities and orderings every measure must satisfy; returns the failures."""
    blur1, blur3 = (photo.filter(ImageFilter.GaussianBlur(r * max(photo.size) / LONG)) for r in (1, 3))
    mirror = painting.transpose(Image.FLIP_LEFT_RIGHT)
    recol = Image.merge("RGB", painting.split()[::-1])  # RGB -> BGR: same strokes, other palette
    grey = painting.convert("L").convert("RGB")
    fp = net.features(painting)
    sd = {k: style_dist(net.features(x), fp) for k, x in
          (("self", painting), ("mirror", mirror), ("recol", recol), ("grey", grey), ("photo", photo))}
    c = {k: colour_swd(x, painting) for k, x in
         (("self", painting), ("mirror", mirror), ("recol", recol), ("photo", photo))}
    s = {k: ssim(x, photo) for k, x in (("self", photo), ("blur1", blur1), ("blur3", blur3), ("painting", painting))}
    e = {k: edges(x, photo) for k, x in (("self", photo), ("blur1", blur1), ("painting", painting))}
    checks = [
        ("colour_swd(painting, painting) == 0", c["self"] < 1e-9),
        ("colour_swd(painting, mirrored) < 0.5", c["mirror"] < 0.5),
        ("colour_swd: BGR painting > 5 and > mirrored", c["recol"] > 5 and c["recol"] > c["mirror"]),
        ("colour_swd: photo > mirrored painting", c["photo"] > c["mirror"]),
        ("ssim(photo, photo) == 1", abs(s["self"] - 1) < 1e-9),
        ("ssim: photo > blur 1 px > blur 3 px > painting",
         s["self"] > s["blur1"] > s["blur3"] > s["painting"]),
        ("edges(photo, photo) == 1", abs(e["self"] - 1) < 1e-9),
        ("edges: blur 1 px > painting", e["blur1"] > e["painting"]),
    ]
    for m in ("style_cos", "style_l2", "gram"):
        d = {k: v[m] for k, v in sd.items()}
        checks += [("%s(painting, painting) == 0" % m, d["self"] < 1e-9),
                   ("%s: mirrored < BGR, grey, photo" % m, d["mirror"] < min(d["recol"], d["grey"], d["photo"]))]
    print("colour_swd  " + "  ".join("%s %.3f" % kv for kv in c.items()))
    print("ssim        " + "  ".join("%s %.4f" % kv for kv in s.items()))
    print("edges       " + "  ".join("%s %.4f" % kv for kv in e.items()))
    for m in ("style_cos", "style_l2", "gram"):
        print("%-11s " % m + "  ".join("%s %.4f" % (k, v[m]) for k, v in sd.items()))
    for name, ok in checks:
        print("%s  %s" % ("ok  " if ok else "FAIL", name))
    return [name for name, ok in checks if not ok]


def fmt(r):
    return "  ".join("%s %.4g" % kv for kv in r.items())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outputs", nargs="*", metavar="OUT", help="stylised pictures to score")
    ap.add_argument("--content", help="the photo (default for --selftest: tubingen.jpg)")
    ap.add_argument("--style", help="the painting (default for --selftest: starry_night.jpg)")
    ap.add_argument("--json", action="store_true", help="one JSON object per output")
    ap.add_argument("--selftest", action="store_true", help="check the measures' identities and orderings")
    ap.add_argument("--predictor", default=PREDICTOR, help="Magenta style predictor .tflite (default %(default)s)")
    ap.add_argument("--armnn-backends", default=BACKENDS, help="Arm NN dynamic backends directory (default %(default)s)")
    a = ap.parse_args()
    if a.selftest:
        photo = load(a.content or os.path.join(SHARED, "images/content/tubingen.jpg"))
        painting = load(a.style or os.path.join(SHARED, "images/style/starry_night.jpg"))
        failed = selftest(StyleNet(a.predictor, a.armnn_backends), photo, painting)
        print("selftest: %s" % ("%d failed" % len(failed) if failed else "all passed"))
        sys.exit(1 if failed else 0)
    if not (a.content and a.style and a.outputs):
        ap.error("needs --content, --style and at least one OUT (or --selftest)")
    photo, painting = load(a.content), load(a.style)
    net = StyleNet(a.predictor, a.armnn_backends)
    fp = net.features(painting)
    for path in a.outputs:
        r = score(net, load(path), photo, painting, fp)
        print(json.dumps(dict(output=path, **r)) if a.json else "%s  %s" % (path, fmt(r)), flush=True)


if __name__ == "__main__":
    main()
