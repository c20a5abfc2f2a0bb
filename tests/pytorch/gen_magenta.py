"""Fixtures for nst's Magenta arbitrary-style code (tests/fixtures/magenta/),
made with the PyTorch reference magenta.py and Arm NN (pyarmnn, CpuRef).

  painting.png  256x256 RGB synthetic "painting" (seeded brush strokes / blobs)
  photo.png     128x96 (WxH) RGB synthetic photo-like scene
  predict.bin   style        [100] Arm NN int8 run of the predictor file on
                             painting.png pixels / 255 (NHWC RGB, no resize)
                style_float  [100] magenta.py float32 reference on the same input
  transfer.bin  style        [100] the vector used (= predict.bin's Arm NN style)
                style_photo  [100] predictor (float reference) on photo.png:
                             /255, bilinear short side -> 256, centre crop 256
                output       [3,96,128] fp16 transfer net (float32 math) on
                             photo.png/255 with "style": sigmoid * 255, NCHW
                strength     [1]  0.5
                output_strength [3,96,128] same with style
                             strength*style + (1-strength)*style_photo
  (output_q, the int8 transfer file with dequantised weights and float
  activations, is not stored, to keep the fixtures small: it differs from
  "output" by mean |d| 1.6, max 15 grey levels; gen_magenta.py prints it.)

usage: /usr/bin/python3 tests/pytorch/gen_magenta.py [--check] [--bench]
  --check  also compare with Arm NN on real paintings from ../shared/images/style
           and the whole transfer network built with Arm NN's layer API (64x64)
  --bench  time the reference (2 threads)
"""
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import magenta as M  # noqa: E402
from fixture import write_bundle  # noqa: E402

OUT = os.path.join(M.HERE, "../fixtures/magenta")
torch.set_num_threads(2)


# ------------------------------------------------------------ synthetic images

def _blur(img, sigma):
    r = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    out = img
    for ax in (0, 1):
        pad = [(0, 0)] * img.ndim
        pad[ax] = (r, r)
        p = np.pad(out, pad, mode="reflect")
        acc = np.zeros_like(out)
        for i, kv in enumerate(k):
            sl = [slice(None)] * img.ndim
            sl[ax] = slice(i, i + out.shape[ax])
            acc += kv * p[tuple(sl)]
        out = acc
    return out


def make_painting(size=256, seed=1234):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    img = np.zeros((size, size, 3))
    c0, c1 = rng.random(3), rng.random(3)
    t = (xx + yy) / (2 * size)
    img[:] = c0 * (1 - t[..., None]) + c1 * t[..., None]
    # blurred colour blobs
    blobs = np.zeros_like(img)
    for _ in range(12):
        cx, cy, r = rng.random() * size, rng.random() * size, 15 + rng.random() * 40
        m = ((xx - cx) ** 2 + (yy - cy) ** 2 < r * r).astype(np.float64)
        blobs += m[..., None] * (rng.random(3) - 0.5)
    img += _blur(blobs, 6.0)
    # brush strokes: elongated rotated ellipses with a soft edge and streaks
    for _ in range(140):
        cx, cy = rng.random() * size, rng.random() * size
        a, b = 6 + rng.random() * 22, 1.5 + rng.random() * 3.5
        th = rng.random() * np.pi if rng.random() < 0.5 else 0.6 + 0.3 * rng.standard_normal()
        u = (xx - cx) * np.cos(th) + (yy - cy) * np.sin(th)
        v = -(xx - cx) * np.sin(th) + (yy - cy) * np.cos(th)
        d = (u / a) ** 2 + (v / b) ** 2
        m = np.clip(1.5 * (1 - d), 0, 1) * (0.85 + 0.15 * np.sin(v * 3.0))
        col = np.clip(rng.random(3) * 1.2 - 0.1, 0, 1)
        img = img * (1 - m[..., None]) + col * m[..., None]
    # a few thin dark lines
    for _ in range(8):
        x0, y0, x1, y1 = rng.random(4) * size
        n = np.array([y1 - y0, x0 - x1])
        n /= np.linalg.norm(n) + 1e-9
        dist = np.abs((xx - x0) * n[0] + (yy - y0) * n[1])
        tt = ((xx - x0) * (x1 - x0) + (yy - y0) * (y1 - y0)) / ((x1 - x0) ** 2 + (y1 - y0) ** 2 + 1e-9)
        m = np.clip(1.2 - dist, 0, 1) * ((tt >= 0) & (tt <= 1))
        img = img * (1 - 0.8 * m[..., None])
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def make_photo(w=128, h=96, seed=99):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    hor = 0.55 * h
    sky = np.array([0.35, 0.55, 0.9]) * (1 - yy / h * 0.6)[..., None] + np.array([0.2, 0.15, 0.05]) * (yy / h)[..., None]
    ground = np.array([0.25, 0.45, 0.15]) + 0.1 * np.sin(xx / 7.0)[..., None] * np.array([0.3, 0.5, 0.2])
    img = np.where((yy < hor + 4 * np.sin(xx / 17.0))[..., None], sky, ground)
    # sun
    m = np.clip(9 - np.sqrt((xx - 100) ** 2 + (yy - 16) ** 2), 0, 1)
    img = img * (1 - m[..., None]) + np.array([1.0, 0.9, 0.5]) * m[..., None]
    # house: wall, roof, door, window
    wall = (xx > 22) & (xx < 58) & (yy > 40) & (yy < 72)
    img[wall] = [0.8, 0.75, 0.65]
    roof = (yy <= 40) & (yy > 22) & (np.abs(xx - 40) < (yy - 22) * 1.1)
    img[roof] = [0.6, 0.15, 0.1]
    img[(xx > 35) & (xx < 44) & (yy > 55) & (yy < 72)] = [0.35, 0.2, 0.1]
    img[(xx > 26) & (xx < 33) & (yy > 46) & (yy < 53)] = [0.6, 0.8, 0.95]
    # tree
    img[(xx > 83) & (xx < 88) & (yy > 50) & (yy < 78)] = [0.35, 0.25, 0.12]
    m = ((xx - 85.5) ** 2 / 150 + (yy - 44) ** 2 / 120 < 1)
    img[m] = [0.1, 0.4, 0.12]
    # soft shading and mild sensor noise
    img = _blur(img, 0.7) * (0.9 + 0.1 * (xx / w))[..., None]
    img += rng.normal(0, 0.015, img.shape)
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


# ------------------------------------------------------------ Arm NN

def _ann():
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        import pyarmnn as ann
    return ann


def _run(ann, network, inputs, outputs):
    """inputs: list of (binding id, TensorInfo, array); outputs: list of
    (binding id, TensorInfo)."""
    runtime = ann.IRuntime(ann.CreationOptions())
    opt, msgs = ann.Optimize(network, [ann.BackendId("CpuRef")], runtime.GetDeviceSpec(), ann.OptimizerOptions())
    net_id, _ = runtime.LoadNetwork(opt)
    it = ann.make_input_tensors([(b, i) for b, i, _ in inputs], [a for _, _, a in inputs])
    ot = ann.make_output_tensors(list(outputs))
    runtime.EnqueueWorkload(net_id, it, ot)
    return ann.workload_tensors_to_ndarray(ot)


_PARSER = {}


def armnn_predict(painting_nhwc01):
    """Arm NN (CpuRef) runs style_predict_quantized_256.tflite unchanged."""
    ann = _ann()
    parser = ann.ITfLiteParser()
    network = parser.CreateNetworkFromBinaryFile(M.PREDICT)
    iname = parser.GetSubgraphInputTensorNames(0)[0]
    oname = parser.GetSubgraphOutputTensorNames(0)[0]
    ib = parser.GetNetworkInputBindingInfo(0, iname)
    ob = parser.GetNetworkOutputBindingInfo(0, oname)
    x = np.ascontiguousarray(np.asarray(painting_nhwc01, dtype=np.float32))
    out = _run(ann, network, [(ib[0], ib[1], x)], [ob])
    return out[0].reshape(-1).astype(np.float64)


def armnn_transfer(photo_nhwc01, style, path=M.F16):
    """The transfer network rebuilt op by op with Arm NN's INetwork layer API
    (NHWC, float32, weights dequantised by magenta.parse_tflite/dequantise).
    MIRROR_PAD -> Slice + Concatenation; SQUARED_DIFFERENCE -> Sub + Mul;
    RSQRT -> ElementwiseUnary; fused activations -> Activation layers.
    Tensor shapes are taken from a PyTorch run of the same input."""
    ann = _ann()
    ref = M.net(path)
    g = ref.g
    tens = g["tensors"]
    photo = np.ascontiguousarray(np.asarray(photo_nhwc01, dtype=np.float32))
    style = np.ascontiguousarray(np.asarray(style, dtype=np.float32).reshape(1, 1, 1, -1))
    rec = {}
    pin = [style if tens[i]["shape"][-1] == 100 else photo for i in g["inputs"]]
    with torch.no_grad():
        ref(*[torch.tensor(a) for a in pin], record=rec)
    shape = {i: tuple(v.shape) for i, v in rec.items()}
    for i, a in zip(g["inputs"], pin):
        shape[i] = a.shape

    F32 = ann.DataType_Float32

    def info(s):
        return ann.TensorInfo(ann.TensorShape(tuple(int(d) for d in s)), F32)

    def ctensor(a):
        a = np.ascontiguousarray(a, dtype=np.float32)
        return ann.ConstTensor(info(a.shape), a)

    net = ann.INetwork()
    slot = {}  # tensor index -> output slot
    keep = []  # keep python objects alive

    def setout(layer, s, i=None):
        layer.GetOutputSlot(0).SetTensorInfo(info(s))
        if i is not None:
            slot[i] = layer.GetOutputSlot(0)
        return layer

    def connect(src, layer, k):
        src.Connect(layer.GetInputSlot(k))

    # constants
    const = {}
    for i, t in enumerate(tens):
        if t["data"] is not None and not (t["type"] in (M.INT32, M.INT64) and t["scale"] is None):
            const[i] = M.dequantise(t).astype(np.float32)
    for op in g["ops"]:  # fold DEQUANTIZE of constants
        if op["name"] == "DEQUANTIZE" and op["inputs"][0] in const:
            const[op["outputs"][0]] = const[op["inputs"][0]]

    def operand(i):
        if i in slot:
            return slot[i]
        a = const[i]
        a4 = a.reshape((1,) * (4 - a.ndim) + a.shape) if a.ndim < 4 else a
        ct = ctensor(a4)
        keep.append((a4, ct))
        layer = net.AddConstantLayer(ct, "const%d" % i)
        return setout(layer, a4.shape, i).GetOutputSlot(0)

    def activation(layer_slot, act, s, name):
        if act == 0:
            return layer_slot
        d = ann.ActivationDescriptor()
        if act == 1:
            d.m_Function = ann.ActivationFunction_ReLu
        else:
            d.m_Function = ann.ActivationFunction_BoundedReLu
            d.m_A, d.m_B = 6.0, 0.0
        a = net.AddActivationLayer(d, name)
        layer_slot.Connect(a.GetInputSlot(0))
        setout(a, s)
        return a.GetOutputSlot(0)

    bind = []
    for k, i in enumerate(g["inputs"]):
        layer = net.AddInputLayer(k, "in%d" % k)
        setout(layer, shape[i], i)
        bind.append((k, info(shape[i]), pin[k]))

    def slice_(src, begin, size, name):
        d = ann.SliceDescriptor(list(begin), list(size))
        layer = net.AddSliceLayer(d, name)
        src.Connect(layer.GetInputSlot(0))
        setout(layer, size)
        return layer.GetOutputSlot(0)

    def concat(srcs, shapes, axis, out_shape, name):
        d = ann.CreateDescriptorForConcatenation([ann.TensorShape(tuple(s)) for s in shapes], axis)
        layer = net.AddConcatLayer(d, name)
        for k, s in enumerate(srcs):
            s.Connect(layer.GetInputSlot(k))
        setout(layer, out_shape)
        return layer.GetOutputSlot(0)

    for n, op in enumerate(g["ops"]):
        nm, ins, o, opt = op["name"], op["inputs"], op["outputs"][0], op["opt"]
        name = "%s_%d" % (nm, n)
        if nm in ("QUANTIZE", "DEQUANTIZE"):
            if o in const:
                continue
            slot[o] = operand(ins[0])
            continue
        s_out = shape[o]
        if nm in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            x = operand(ins[0])
            w = const[ins[1]]
            b = const[ins[2]] if len(ins) > 2 and ins[2] >= 0 else None
            sin = shape[ins[0]]
            kh, kw = w.shape[1], w.shape[2]
            if nm == "CONV_2D":
                d = ann.Convolution2dDescriptor()
            else:
                d = ann.DepthwiseConvolution2dDescriptor()
                w = np.ascontiguousarray(w.transpose(0, 3, 1, 2))  # [1,KH,KW,C] -> Arm NN 20.08 [M,C,KH,KW]
            d.m_StrideX, d.m_StrideY = opt["sw"], opt["sh"]
            d.m_DilationX, d.m_DilationY = opt["dw"], opt["dh"]
            d.m_DataLayout = ann.DataLayout_NHWC
            if opt["padding"] == 0:
                d.m_PadTop, d.m_PadBottom = M._same_pad(sin[1], kh, opt["sh"])
                d.m_PadLeft, d.m_PadRight = M._same_pad(sin[2], kw, opt["sw"])
            d.m_BiasEnabled = b is not None
            wt = ctensor(w)
            bt = ctensor(b) if b is not None else None
            keep.append((w, b, wt, bt))
            if nm == "CONV_2D":
                layer = net.AddConvolution2dLayer(d, wt, bt, name)
            else:
                layer = net.AddDepthwiseConvolution2dLayer(d, wt, bt, name)
            x.Connect(layer.GetInputSlot(0))
            setout(layer, s_out)
            slot[o] = activation(layer.GetOutputSlot(0), opt["act"], s_out, name + "_act")
        elif nm in ("ADD", "SUB", "MUL", "SQUARED_DIFFERENCE"):
            a, b = operand(ins[0]), operand(ins[1])
            layer = {"ADD": net.AddAdditionLayer, "MUL": net.AddMultiplicationLayer}.get(
                nm, net.AddSubtractionLayer)(name)
            connect(a, layer, 0)
            connect(b, layer, 1)
            setout(layer, s_out)
            y = layer.GetOutputSlot(0)
            if nm == "SQUARED_DIFFERENCE":
                sq = net.AddMultiplicationLayer(name + "_sq")
                y.Connect(sq.GetInputSlot(0))
                y.Connect(sq.GetInputSlot(1))
                setout(sq, s_out)
                y = sq.GetOutputSlot(0)
            slot[o] = activation(y, opt.get("act", 0), s_out, name + "_act")
        elif nm == "MEAN":
            axes = [int(a) % 4 for a in np.atleast_1d(ref.ints[ins[1]])]
            d = ann.MeanDescriptor(axes, opt["keep"])
            layer = net.AddMeanLayer(d, name)
            operand(ins[0]).Connect(layer.GetInputSlot(0))
            setout(layer, s_out, o)
        elif nm in ("RSQRT", "LOGISTIC"):
            if nm == "RSQRT":
                layer = net.AddElementwiseUnaryLayer(ann.ElementwiseUnaryDescriptor(ann.UnaryOperation_Rsqrt), name)
            else:
                d = ann.ActivationDescriptor()
                d.m_Function = ann.ActivationFunction_Sigmoid
                layer = net.AddActivationLayer(d, name)
            operand(ins[0]).Connect(layer.GetInputSlot(0))
            setout(layer, s_out, o)
        elif nm == "MIRROR_PAD":
            p = ref.ints[ins[1]]
            assert opt["mode"] == 0
            y = operand(ins[0])
            cur = list(shape[ins[0]])
            for ax in (1, 2):
                lo, hi = int(p[ax, 0]), int(p[ax, 1])
                if lo == 0 and hi == 0:
                    continue
                n_ = cur[ax]
                idx = list(range(lo, 0, -1)) + [None] + list(range(n_ - 2, n_ - 2 - hi, -1))
                pieces, shapes = [], []
                for j, r in enumerate(idx):
                    if r is None:
                        pieces.append(y)
                        shapes.append(list(cur))
                        continue
                    begin, size = [0, 0, 0, 0], list(cur)
                    begin[ax], size[ax] = r, 1
                    pieces.append(slice_(y, begin, size, "%s_ax%d_%d" % (name, ax, j)))
                    shapes.append(size)
                new = list(cur)
                new[ax] = n_ + lo + hi
                y = concat(pieces, shapes, ax, new, "%s_cat%d" % (name, ax))
                cur = new
            slot[o] = y
        elif nm == "RESIZE_NEAREST_NEIGHBOR":
            d = ann.ResizeDescriptor()
            d.m_Method = ann.ResizeMethod_NearestNeighbor
            d.m_DataLayout = ann.DataLayout_NHWC
            d.m_TargetHeight, d.m_TargetWidth = s_out[1], s_out[2]
            d.m_AlignCorners = opt["align"]
            d.m_HalfPixelCenters = opt["half"]
            layer = net.AddResizeLayer(d, name)
            operand(ins[0]).Connect(layer.GetInputSlot(0))
            setout(layer, s_out, o)
        else:
            raise NotImplementedError(nm)
    outs = []
    for k, i in enumerate(g["outputs"]):
        layer = net.AddOutputLayer(k, "out%d" % k)
        slot[i].Connect(layer.GetInputSlot(0))
        outs.append((k, info(shape[i])))
    res = _run(ann, net, bind, outs)
    return res[0].reshape(shape[g["outputs"][0]]), rec[g["outputs"][0]].numpy()


# ------------------------------------------------------------ helpers

def load_image(path):
    """uint8 HxWx3 RGB: PNG by magenta.read_png, others decoded by ffmpeg."""
    if path.endswith(".png"):
        return M.read_png(path)
    wh = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", path],
                        capture_output=True, check=True).stdout.decode().strip().split(",")
    w, h = int(wh[0]), int(wh[1])
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3)


def cos(a, b):
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def nchw255(y):
    return (y[0].permute(2, 0, 1) * 255.0).contiguous()


def check():
    print("== predictor: Arm NN int8 (file unchanged) vs float reference, real paintings")
    for name in ("la_muse.jpg", "starry_night.jpg", "the_scream.jpg"):
        img = load_image(os.path.join(M.SHARED, "images/style", name))
        x = M.preprocess_painting(img)
        va = armnn_predict(x.numpy())
        vt = M.predict_style(x).double().numpy()
        print("  %-18s cos %.6f  max|d| %.4f  mean|d| %.4f  range %.2f..%.2f" % (
            name, cos(va, vt), np.abs(va - vt).max(), np.abs(va - vt).mean(), va.min(), va.max()))
    print("== transfer (fp16 file): whole network in Arm NN layer API vs reference, 64x64")
    img = load_image(os.path.join(M.SHARED, "images/style", "la_muse.jpg"))
    style = armnn_predict(M.preprocess_painting(img).numpy())
    photo = load_image(os.path.join(M.SHARED, "images/style", "udnie.jpg"))
    for h, w in ((64, 64), (64, 96)):
        ph = M.preprocess_painting(photo, 96)[:, :h, :w].contiguous().numpy()
        t0 = time.time()
        ya, yt = armnn_transfer(ph, style)
        d = np.abs(ya - yt)
        print("  %dx%d (WxH) photo=udnie crop, style=la_muse (Arm NN vector): max|d| %.3g  mean|d| %.3g"
              "  (out %.3f..%.3f, %.1f s)" % (w, h, d.max(), d.mean(), yt.min(), yt.max(), time.time() - t0))


def bench():
    print("predictor 256x256: %.3f s" % M.bench_predict())
    for w, h in ((384, 384), (512, 512), (1024, 768)):
        print("transfer fp16 %dx%d: %.3f s" % (w, h, M.bench((h, w))))


def main():
    os.makedirs(OUT, exist_ok=True)
    M.write_png(os.path.join(OUT, "painting.png"), make_painting())
    M.write_png(os.path.join(OUT, "photo.png"), make_photo())
    painting = M.read_png(os.path.join(OUT, "painting.png"))
    photo = M.read_png(os.path.join(OUT, "photo.png"))
    assert painting.shape == (256, 256, 3) and photo.shape == (96, 128, 3)
    x = torch.tensor(painting.astype(np.float32) / 255.0)[None]  # 256x256: no resize
    v_arm = armnn_predict(x.numpy()).astype(np.float32)
    v_ref = M.predict_style(x).numpy()
    print("painting.png style: Arm NN int8 vs float reference cos %.6f max|d| %.4f" % (
        cos(v_arm, v_ref), np.abs(v_arm - v_ref).max()))
    write_bundle(os.path.join(OUT, "predict.bin"), {"style": v_arm, "style_float": v_ref})

    v_photo = M.predict_style(M.preprocess_painting(photo)).numpy()
    ph = torch.tensor(photo.astype(np.float32) / 255.0)[None]
    s = 0.5
    out = nchw255(M.transfer(ph, v_arm))
    out_s = nchw255(M.transfer(ph, s * v_arm + (1 - s) * v_photo))
    out_q = nchw255(M.transfer(ph, v_arm, M.QUANT))
    print("output range %.1f..%.1f; output_q vs output mean|d| %.3f max %.2f; strength 0.5 vs 1 mean|d| %.2f" % (
        out.min(), out.max(), (out_q - out).abs().mean(), (out_q - out).abs().max(), (out_s - out).abs().mean()))
    print("cos(style, style_photo) %.4f" % cos(v_arm, v_photo))
    write_bundle(os.path.join(OUT, "transfer.bin"), {
        "style": v_arm, "style_photo": v_photo, "output": out,
        "strength": np.array([s], np.float32), "output_strength": out_s})
    tot = 0
    for f in sorted(os.listdir(OUT)):
        n = os.path.getsize(os.path.join(OUT, f))
        tot += n
        print("  %-14s %7d bytes" % (f, n))
    print("  total %d bytes" % tot)


if __name__ == "__main__":
    if "--check" in sys.argv:
        check()
    if "--bench" in sys.argv:
        bench()
    if "--check" not in sys.argv and "--bench" not in sys.argv or "--fixtures" in sys.argv:
        main()
