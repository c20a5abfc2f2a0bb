#!/usr/bin/env python3
"""Write the seed corpus of the fuzz harnesses: tests/fuzz/corpus/<name>/.

Every seed is a small valid input, synthesised here (images with PIL, a
torch.save zip with torch, clips with ffmpeg's testsrc, the rest by hand), so
the corpus stays small and nothing from ../shared is committed. Needs
python3-pil, python3-torch, python3-flatbuffers and ffmpeg.

    /usr/bin/python3 tests/fuzz/make_corpus.py [OUT_DIR]
"""
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

import flatbuffers
import torch
from PIL import Image

SEP = b"\n--nst-fuzz-file--\n"  # FUZZ_SEPARATOR of fuzz_util.h
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def ramp(n, scale=0.01):
    return [((i * 37) % 101 - 50) * scale for i in range(n)]


# ---- images: every format nst_image_decode takes, 16x16 (GIF 8x8) --------
def images():
    rgb = Image.new("RGB", (16, 16))
    rgb.putdata([(x * 16, y * 16, (x + y) * 8) for y in range(16) for x in range(16)])

    def save(name, im, fmt, **kw):
        b = io.BytesIO()
        im.save(b, fmt, **kw)
        put("image", name, b.getvalue())

    save("rgb.png", rgb, "PNG")
    rgba = rgb.copy()
    rgba.putalpha(Image.linear_gradient("L").resize((16, 16)))
    save("rgba.png", rgba, "PNG")
    save("gray.png", rgb.convert("L"), "PNG")
    save("palette.png", rgb.convert("P", palette=Image.ADAPTIVE, colors=8), "PNG")
    save("gray16.png", rgb.convert("L").convert("I").point(lambda v: v * 257).convert("I;16"), "PNG")
    save("baseline.jpg", rgb, "JPEG", quality=80)
    save("progressive.jpg", rgb, "JPEG", quality=80, progressive=True)
    save("gray.jpg", rgb.convert("L"), "JPEG", quality=80)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    save("exif_rotated.jpg", rgb.crop((0, 0, 16, 8)), "JPEG", quality=80, exif=exif.tobytes())
    save("rgb24.bmp", rgb, "BMP")
    save("palette8.bmp", rgb.convert("P", palette=Image.ADAPTIVE, colors=16), "BMP")
    save("rgb.tga", rgb, "TGA")
    save("rle.tga", rgb, "TGA", compression="tga_rle")
    save("first_frame.gif", rgb.resize((8, 8)).convert("P", palette=Image.ADAPTIVE, colors=8), "GIF")
    save("rgb.ppm", rgb, "PPM")
    save("gray.pgm", rgb.convert("L"), "PPM")


# ---- TF.js layers models: model.json SEP shard ... -------------------------
def tfjs():
    def layer(cls, name, config, inbound=None):
        l = {"class_name": cls, "name": name, "config": dict(config, name=name)}
        if inbound is not None:
            l["inbound_nodes"] = [[[inbound, 0, 0, {}]]] if inbound else []
        return l

    conv = {"filters": 2, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
            "data_format": "channels_last", "activation": "linear", "use_bias": False}
    bn = {"axis": -1, "epsilon": 0.001}
    weights = [("conv2d_1/kernel", [3, 3, 3, 2]), ("batch_normalization_1/gamma", [2]),
               ("batch_normalization_1/beta", [2]), ("batch_normalization_1/moving_mean", [2]),
               ("batch_normalization_1/moving_variance", [2])]
    data = b"".join(f32(ramp(n)) for n in [54, 2, 2, 2, 2])
    spec = [{"name": n, "shape": s, "dtype": "float32"} for n, s in weights]

    # a functional Model (the darknet-tiny layout): InputLayer and inbound_nodes
    layers = [layer("InputLayer", "input_1", {"batch_input_shape": [None, 16, 16, 3], "dtype": "float32"}, ""),
              layer("Conv2D", "conv2d_1", conv, "input_1"),
              layer("BatchNormalization", "batch_normalization_1", bn, "conv2d_1"),
              layer("LeakyReLU", "leaky_re_lu_1", {"alpha": 0.1}, "batch_normalization_1"),
              layer("MaxPooling2D", "max_pooling2d_1", {"pool_size": [2, 2], "strides": [2, 2],
                                                        "padding": "valid"}, "leaky_re_lu_1")]
    model = {"modelTopology": {"keras_version": "2.1.6", "backend": "tensorflow",
                               "model_config": {"class_name": "Model", "config": {"name": "m", "layers": layers}}},
             "weightsManifest": [{"paths": ["s1.bin"], "weights": spec}]}
    put("tfjs", "functional", json.dumps(model).encode() + SEP + data)

    # a Sequential model whose group spans two shards
    seq = [layer(l["class_name"], l["name"], l["config"]) for l in layers[1:]]
    model = {"modelTopology": {"model_config": {"class_name": "Sequential", "config": seq}},
             "weightsManifest": [{"paths": ["s1.bin", "s2.bin"], "weights": spec}]}
    put("tfjs", "sequential_two_shards", json.dumps(model).encode() + SEP + data[:100] + SEP + data[100:])


# ---- deeplearn.js checkpoints: manifest.json SEP f1 SEP f2 ... -----------
def dljs():
    manifest = {"Variable": {"filename": "f1", "shape": [3, 3, 3, 2]},
                "Variable_1": {"filename": "f2", "shape": [2]},
                "Variable_2": {"filename": "f3", "shape": []}}
    put("dljs", "three_variables", json.dumps(manifest, indent=2).encode() + SEP + f32(ramp(54)) + SEP +
        f32(ramp(2)) + SEP + f32([1.5]))


# ---- torch.save state_dicts ------------------------------------------------
def torch_files():
    torch.manual_seed(0)

    def save(name, obj):
        b = io.BytesIO()
        torch.save(obj, b)
        put("torch", name, b.getvalue())
        # the same unpacked for fuzz_torch.c to pack: data.pkl SEP data/0 SEP ...
        z = zipfile.ZipFile(b)
        prefix = next(n[:-len("data.pkl")] for n in z.namelist() if n.endswith("/data.pkl"))
        storages = sorted((n for n in z.namelist() if n.startswith(prefix + "data/")),
                          key=lambda n: int(n.rsplit("/", 1)[1]))
        assert [n.rsplit("/", 1)[1] for n in storages] == [str(k) for k in range(len(storages))]
        put("torch", name[:-len(".pth")] + ".unpacked",
            SEP.join([z.read(prefix + "data.pkl")] + [z.read(n) for n in storages]))

    w = torch.randn(2, 3, 3, 3)
    save("float32.pth", {"features.0.weight": w, "features.0.bias": torch.randn(2)})
    save("float16.pth", {"features.0.weight": w.half(), "features.0.bias": torch.randn(2).half()})
    save("bfloat16.pth", {"features.2.weight": w.bfloat16()})
    # views: a slice with an offset and a transpose sharing one storage
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    save("views.pth", {"a": base[1:3], "b": base.t(), "c": base[:, 2]})


# ---- safetensors -----------------------------------------------------------
def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + blob


def half(values):
    return struct.pack("<%de" % len(values), *values)


def bf16(values):
    return b"".join(struct.pack("<f", v)[2:] for v in values)


def safetensors_files():
    put("safetensors", "f32.safetensors",
        safetensors([("features.0.weight", "F32", [2, 3, 3, 3], f32(ramp(54))), ("features.0.bias", "F32", [2],
                                                                                 f32([0.5, -0.5]))]))
    put("safetensors", "f16_bf16_metadata.safetensors",
        safetensors([("h", "F16", [2, 2], half([1, -2, 0.5, 65504])), ("b", "BF16", [3], bf16([1, -3, 0.25]))],
                    {"format": "pt", "note": "tiny"}))
    put("safetensors", "scalar_and_empty.safetensors",
        safetensors([("s", "F32", [], f32([3.0])), ("e", "F32", [0, 4], b"")]))


# ---- nst's network format: safetensors + nst-generator metadata ------------
def generator_files():
    # the 48 variables of the architecture, each too small: a valid file that
    # nst_generator_load reads and then refuses variable by variable
    tiny = [("Variable" if k == 0 else "Variable_%d" % k, "F32", [1], f32([0.1])) for k in range(48)]
    for up in ["deconv", "nearest"]:
        arch = json.dumps({"type": "johnson2016", "upsample": up, "instance_norm_eps": 0.001})
        put("generator", up + ".safetensors", safetensors(tiny, {"format": "nst-generator", "architecture": arch}))


# ---- TensorFlow Lite flatbuffers (schema v3) --------------------------------
CONV_2D, DEPTHWISE_CONV_2D, LOGISTIC, ADD, MIRROR_PAD, RESIZE_NEAREST, DEQUANTIZE, MEAN = 3, 4, 14, 0, 100, 97, 6, 40
FLOAT32, FLOAT16, INT32 = 0, 1, 2
OPTIONS = {CONV_2D: 1, DEPTHWISE_CONV_2D: 2, ADD: 11, MIRROR_PAD: 77, RESIZE_NEAREST: 74, MEAN: 27}


def tflite(tensors, ops, inputs, outputs):
    """tensors: (name, shape, type, raw bytes or None); ops: (code, [in], [out], option fields)."""
    b = flatbuffers.Builder(1024)
    b.ForceDefaults(True)  # every field given is written, even a default value

    def ivec(values):
        b.StartVector(4, len(values), 4)
        for v in reversed(values):
            b.PrependInt32(v)
        return b.EndVector()

    def tvec(offsets):
        b.StartVector(4, len(offsets), 4)
        for o in reversed(offsets):
            b.PrependUOffsetTRelative(o)
        return b.EndVector()

    codes = sorted({op[0] for op in ops})
    buffers = []
    b.StartObject(1)  # buffer 0: empty, by convention
    buffers.append(b.EndObject())
    tensor_tabs = []
    for name, shape, ttype, raw in tensors:
        buf = 0
        if raw is not None:
            data = b.CreateByteVector(raw)
            b.StartObject(1)
            b.PrependUOffsetTRelativeSlot(0, data, 0)
            buffers.append(b.EndObject())
            buf = len(buffers) - 1
        n, s = b.CreateString(name), ivec(shape)
        b.StartObject(4)
        b.PrependUOffsetTRelativeSlot(0, s, 0)
        b.PrependInt8Slot(1, ttype, -1)
        b.PrependUint32Slot(2, buf, 0xFFFFFFFF)
        b.PrependUOffsetTRelativeSlot(3, n, 0)
        tensor_tabs.append(b.EndObject())
    op_tabs = []
    for code, ins, outs, fields in ops:
        opt = None
        if code in OPTIONS:
            b.StartObject(max([k for k, _, _ in fields], default=0) + 1)
            for slot, kind, value in fields:
                getattr(b, "Prepend%sSlot" % kind)(slot, value, 0)
            opt = b.EndObject()
        i, o = ivec(ins), ivec(outs)
        b.StartObject(5)
        b.PrependUint32Slot(0, codes.index(code), 0xFFFFFFFF)
        b.PrependUOffsetTRelativeSlot(1, i, 0)
        b.PrependUOffsetTRelativeSlot(2, o, 0)
        if opt is not None:
            b.PrependUint8Slot(3, OPTIONS[code], 0xFF)
            b.PrependUOffsetTRelativeSlot(4, opt, 0)
        op_tabs.append(b.EndObject())
    code_tabs = []
    for code in codes:
        b.StartObject(4)
        b.PrependInt8Slot(0, min(code, 127), -1)
        b.PrependInt32Slot(2, 1, 0)
        b.PrependInt32Slot(3, code, -1)
        code_tabs.append(b.EndObject())
    tv, ov, iv, outv = tvec(tensor_tabs), tvec(op_tabs), ivec(inputs), ivec(outputs)
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, tv, 0)
    b.PrependUOffsetTRelativeSlot(1, iv, 0)
    b.PrependUOffsetTRelativeSlot(2, outv, 0)
    b.PrependUOffsetTRelativeSlot(3, ov, 0)
    sg = b.EndObject()
    cv, sv, bv = tvec(code_tabs), tvec([sg]), tvec(buffers)
    b.StartObject(5)
    b.PrependUint32Slot(0, 3, 0xFFFFFFFF)
    b.PrependUOffsetTRelativeSlot(1, cv, 0)
    b.PrependUOffsetTRelativeSlot(2, sv, 0)
    b.PrependUOffsetTRelativeSlot(4, bv, 0)
    b.Finish(b.EndObject(), file_identifier=b"TFL3")
    return bytes(b.Output())


def conv_fields(stride=1, act=0, padding=0):
    return [(0, "Int8", padding), (1, "Int32", stride), (2, "Int32", stride), (3, "Int8", act)]


def tflite_files():
    img = ("image", [1, 16, 16, 3], FLOAT32, None)
    # conv 3x3 -> logistic: the smallest image network
    t = [img, ("w", [4, 3, 3, 3], FLOAT32, f32(ramp(108))), ("b", [4], FLOAT32, f32(ramp(4))),
         ("c1", [1, 16, 16, 4], FLOAT32, None), ("w2", [3, 1, 1, 4], FLOAT32, f32(ramp(12))),
         ("b2", [3], FLOAT32, f32(ramp(3))), ("c2", [1, 16, 16, 3], FLOAT32, None),
         ("out", [1, 16, 16, 3], FLOAT32, None)]
    ops = [(CONV_2D, [0, 1, 2], [3], conv_fields(act=1)), (CONV_2D, [3, 4, 5], [6], conv_fields()),
           (LOGISTIC, [6], [7], [])]
    put("tflite", "conv_logistic.tflite", tflite(t, ops, [0], [7]))
    # mirror pad -> strided conv (fp16 weights through DEQUANTIZE) -> depthwise
    # -> nearest x2 -> add of the image
    t = [img, ("pads", [4, 2], INT32, struct.pack("<8i", 0, 0, 1, 1, 1, 1, 0, 0)),
         ("padded", [1, 18, 18, 3], FLOAT32, None), ("w16", [3, 3, 3, 3], FLOAT16, half(ramp(81))),
         ("w", [3, 3, 3, 3], FLOAT32, None), ("b", [3], FLOAT32, f32(ramp(3))),
         ("c", [1, 8, 8, 3], FLOAT32, None), ("dw", [1, 3, 3, 3], FLOAT32, f32(ramp(27))),
         ("db", [3], FLOAT32, f32(ramp(3))), ("d", [1, 8, 8, 3], FLOAT32, None),
         ("size", [2], INT32, struct.pack("<2i", 16, 16)), ("up", [1, 16, 16, 3], FLOAT32, None),
         ("out", [1, 16, 16, 3], FLOAT32, None)]
    ops = [(MIRROR_PAD, [0, 1], [2], [(0, "Int8", 0)]), (DEQUANTIZE, [3], [4], []),
           (CONV_2D, [2, 4, 5], [6], conv_fields(stride=2, padding=1)),
           (DEPTHWISE_CONV_2D, [6, 7, 8], [9], [(0, "Int8", 0), (1, "Int32", 1), (2, "Int32", 1),
                                                (3, "Int32", 1)]),  # depth_multiplier 1
           (RESIZE_NEAREST, [9, 10], [11], []), (ADD, [11, 0], [12], [])]
    put("tflite", "pad_fp16_depthwise_resize_add.tflite", tflite(t, ops, [0], [12]))
    # a predictor's shape: conv -> mean over H and W -> a [1, 1, 1, C] vector
    t = [img, ("w", [4, 3, 3, 3], FLOAT32, f32(ramp(108))), ("b", [4], FLOAT32, f32(ramp(4))),
         ("c", [1, 8, 8, 4], FLOAT32, None), ("axes", [2], INT32, struct.pack("<2i", 1, 2)),
         ("out", [1, 1, 1, 4], FLOAT32, None)]
    ops = [(CONV_2D, [0, 1, 2], [3], conv_fields(stride=2)), (MEAN, [3, 4], [5], [(0, "Uint8", 1)])]
    put("tflite", "conv_mean.tflite", tflite(t, ops, [0], [5]))


# ---- style vectors -----------------------------------------------------------
def style_vectors():
    v = [round(x, 4) for x in ramp(100)]
    put("style_vector", "vector.json", json.dumps({"format": "nst-style-vector", "size": 100, "vector": v},
                                                  indent=2).encode() + b"\n")
    put("style_vector", "compact.json", json.dumps({"format": "nst-style-vector", "vector": [0] * 100}).encode())


# ---- video clips: testsrc, 16x16, 3 frames -----------------------------------
def videos():
    ff = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=16x16:rate=3", "-frames:v", "3"]
    exact = ["-fflags", "+bitexact", "-flags", "+bitexact", "-map_metadata", "-1"]  # the same bytes every run
    with tempfile.TemporaryDirectory() as tmp:
        clips = {"h264.mp4": ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast"],
                 "vp9.webm": ["-c:v", "libvpx-vp9", "-deadline", "realtime"],
                 "mpeg4.mkv": ["-c:v", "mpeg4"],
                 "mjpeg.mov": ["-c:v", "mjpeg", "-pix_fmt", "yuvj420p"],
                 "clip.gif": []}
        for name, args in clips.items():
            path = os.path.join(tmp, name)
            subprocess.run(ff + args + exact + [path], check=True)
            with open(path, "rb") as f:
                put("video", name, f.read())
        # with a sound track (a clip the writer would carry audio over from)
        path = os.path.join(tmp, "audio.mp4")
        subprocess.run(ff[:8] + ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=1",
                                 "-frames:v", "3", "-shortest", "-c:v", "libx264", "-preset", "ultrafast",
                                 "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "8k"] + exact + [path], check=True)
        with open(path, "rb") as f:
            put("video", "h264_aac.mp4", f.read())


# ---- nst serve's form fields, one "key=value" per line -----------------------
def params():
    forms = {
        "optimisation": "size=384\niterations=300\nstyle_weight=1e4\ncontent_weight=1\ntv_weight=0.001\n"
                        "seed=7\nlearning_rate=2\nlbfgs_history=20\nstyle_scale=1.5\nscales=2\n"
                        "original_colors=1\noptimizer=adam\ninit=noise",
        "net": "net=udnie\nsize=512\nstrength=0.8\noriginal_colors=0",
        "fast": "fast=1\nsize=256\nstrength=0.5",
        "video": "net=wave\nsize=320\ntemporal=0.5\nstrength=1",
        "refused": "size=1e9\niterations=2.5\nunknown=1\noptimizer=sgd\nsize=64\nsize=65",
    }
    for name, text in forms.items():
        put("params", name, text.encode())


if __name__ == "__main__":
    shutil.rmtree(OUT, ignore_errors=True)
    for make in [images, tfjs, dljs, torch_files, safetensors_files, generator_files, tflite_files,
                 style_vectors, videos, params]:
        make()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print("%s: %d bytes" % (OUT, total))
