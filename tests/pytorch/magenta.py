"""Magenta's arbitrary image stylisation (Ghiasi et al. 2017) as published for
TensorFlow Lite, re-implemented in PyTorch straight from the .tflite files
(../shared/models/magenta-arbitrary/*.tflite; see ../shared/models/README.md,
"magenta-arbitrary"). Independent of nst's C code: the flatbuffer is read with
the python `flatbuffers` package (Table access by vtable slot, field order of
tensorflow/lite/schema/schema.fbs) and the operator list is interpreted
generically, so the same code runs the predictor and both transfer files.

Files
  style_predict_quantized_256.tflite  painting [1,256,256,3] RGB 0..1 -> style [1,1,1,100]
  style_transfer_f16_384.tflite       photo [1,H,W,3] RGB 0..1 + style -> [1,H,W,3] 0..1
  style_transfer_quantized_384.tflite the same network, int8 weights + activations

Numerics (what this reference does)
  * Weights: int8 per-channel -> (q - zero_point) * scale[c] along the tensor's
    quantized_dimension (0 for CONV_2D, 3 for DEPTHWISE_CONV_2D; zero point 0);
    int32 biases -> q * their own (per-channel) scales; fp16 constants -> float
    (the DEQUANTIZE operators that feed them become constants).
  * Activations: QUANTIZE / DEQUANTIZE of activations are the identity; all
    arithmetic is float32 (or float64 with dtype=torch.float64). So the int8
    predictor run here is "the float network the int8 one approximates"; Arm NN's
    true int8 run differs by 1-2 int8 steps (see "Checked against Arm NN").
  * Layout: tensors are held NCHW internally (the file is NHWC; axes of MEAN,
    MIRROR_PAD paddings and 4-D constants are mapped, rank-1 constants broadcast
    per channel as in NHWC).
  * CONV_2D / DEPTHWISE_CONV_2D: filters OHWI / [1,KH,KW,C]; SAME padding as TF:
    total = max((out-1)*stride + k - in, 0), before = total // 2, after = rest;
    fused RELU / RELU6 applied.
  * MIRROR_PAD: mode 0 = REFLECT (edge not repeated), 1 = SYMMETRIC.
  * RESIZE_NEAREST_NEIGHBOR: the size tensor is recorded for a 384 input; the
    output size used is recorded_size * (actual input / recorded input shape) per
    axis, so 96->192 becomes 2x at any size. TF nearest with align_corners=False,
    half_pixel_centers=False: src = floor(dst * in / out) (= torch 'nearest').
  * MEAN (keep_dims), SQUARED_DIFFERENCE, RSQRT, ADD/SUB/MUL (fused act.), LOGISTIC.
  The transfer network's instance-norm epsilon is the file's fp16 constant
  (~1.0014e-5), used as stored.

Preprocessing (predict_style_image / preprocess_painting)
  painting uint8 HxWx3 RGB -> float /255 -> resize so the SHORT side is 256 with
  bilinear interpolation (torch F.interpolate, align_corners=False, i.e.
  half-pixel centres, no antialias; TF2's tf.image.resize 'bilinear') -> centre
  crop 256x256 (offset (size-256)//2 on the long axis) -> NHWC [1,256,256,3].
  A 256x256 painting is passed through unchanged (pixels /255 exactly).
  photo: uint8 RGB /255, NHWC, height and width multiples of 4 (no resize).
  output: sigmoid in 0..1; nst/fixtures use *255.

API
  m = TFLiteNet(path, dtype=torch.float32)   # any of the three files
  predict_style(painting_nhwc01) -> torch [100]          (predictor, 256x256)
  transfer(photo_nhwc01, style_vec, path=F16) -> NHWC 0..1 image
  preprocess_painting(uint8 HxWx3) -> NHWC [1,256,256,3] float 0..1
  read_png / write_png: minimal 8-bit RGB(A)/grey PNG codec (zlib)
  CLI: /usr/bin/python3 tests/pytorch/magenta.py --bench SIZE [--threads 2]
       prints the median of 5 runs of the fp16 transfer network at SIZE x SIZE.

Checked against Arm NN 20.08 (Debian python3-pyarmnn + libarmnn-cpuref-backend22,
CpuRef backend; reproduce with tests/pytorch/gen_magenta.py --check)
  * Predictor: the .tflite file run unchanged by Arm NN's TFLite parser (true
    int8 inference) vs this float32 reference, same preprocessed input; cosine
    of the 100-d style vectors (max |diff| in brackets; values span ~-1.9..2.9):
      la_muse.jpg       0.999914 (0.029)
      starry_night.jpg  0.999937 (0.024)
      the_scream.jpg    0.999913 (0.037)
      fixture painting.png (synthetic) 0.999904 (0.039)
    The differences are Arm NN's int8 rounding (1-2 steps of the int8 scales).
  * Transfer network (style_transfer_f16_384.tflite): the WHOLE network, all 285
    operators, rebuilt layer by layer with Arm NN's INetwork API
    (Convolution2d NHWC/OHWI with explicit pads, Addition/Subtraction/
    Multiplication with broadcast constants, Mean keep-dims, ElementwiseUnary
    Rsqrt, SQUARED_DIFFERENCE as Sub + Mul(x, x), MIRROR_PAD as single-row/column
    Slices + Concatenation, Resize NearestNeighbor, Activation Sigmoid/ReLu; the
    style vector is a network input, so the 26 1x1 style convolutions run in Arm
    NN too). Only the weight decoding (fp16 -> float32, shared with this file)
    and the tensor shapes are taken from here. Input: a crop of udnie.jpg, style
    = Arm NN's vector of la_muse.jpg. Output 0..1:
      64x64:  max |diff| 2.9e-6, mean |diff| 4.3e-7
      96x64 (WxH): max |diff| 2.9e-6, mean |diff| 3.9e-7
    float32 vs float64 (dtype=torch.float64) of this reference: max 4e-6.
  * Not checked against Arm NN: the int8 transfer file (its int8 activation
    semantics are not emulated here; run with dequantised weights + float
    activations it differs from the fp16 file by mean 1.6, max 15 grey levels on
    the fixture photo), and sizes other than the two above for the transfer net.

Timings of this reference (float32, torch.set_num_threads(2), median of 5 runs,
on the 2-core machine while others were building C code, so +-50% noise):
  predictor 256x256:        0.012 - 0.05 s
  transfer fp16 384x384:    0.08 - 0.12 s
  transfer fp16 512x512:    0.15 - 0.22 s
  transfer fp16 1024x768:   0.68 - 0.85 s
  (the network is slim: 8/16/32 channels, 3.7 GFLOP at 384x384)
"""
import os
import struct
import sys
import time
import zlib

import flatbuffers
import numpy as np
import torch
import torch.nn.functional as F
from flatbuffers.table import Table

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "../../../shared"))
MODELS = os.path.join(SHARED, "models/magenta-arbitrary")
PREDICT = os.path.join(MODELS, "style_predict_quantized_256.tflite")
F16 = os.path.join(MODELS, "style_transfer_f16_384.tflite")
QUANT = os.path.join(MODELS, "style_transfer_quantized_384.tflite")

# ---------------------------------------------------------------- flatbuffer

N = flatbuffers.number_types


def _field(tab, i):
    """vtable offset of field i (0-based, schema.fbs order) or 0 if absent."""
    return tab.Offset(4 + 2 * i)


def _scalar(tab, i, flags, default=0):
    o = _field(tab, i)
    return tab.Get(flags, o + tab.Pos) if o else default


def _table(tab, i):
    o = _field(tab, i)
    return Table(tab.Bytes, tab.Indirect(o + tab.Pos)) if o else None


def _tables(tab, i):
    o = _field(tab, i)
    if not o:
        return []
    v = tab.Vector(o)
    return [Table(tab.Bytes, tab.Indirect(v + 4 * j)) for j in range(tab.VectorLen(o))]


def _vec(tab, i, flags):
    o = _field(tab, i)
    if not o:
        return None
    return tab.GetVectorAsNumpy(flags, o)


def _string(tab, i):
    o = _field(tab, i)
    return tab.String(o + tab.Pos).decode() if o else ""


def _union(tab, i):
    o = _field(tab, i)
    if not o:
        return None
    t = Table(bytearray(), 0)
    tab.Union(t, o)
    return t


# TensorType
FLOAT32, FLOAT16, INT32, UINT8, INT64, INT8 = 0, 1, 2, 3, 4, 9
NPTYPE = {FLOAT32: "<f4", FLOAT16: "<f2", INT32: "<i4", UINT8: "u1", INT64: "<i8", INT8: "i1"}
# BuiltinOperator (the ones used here)
OPS = {0: "ADD", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D", 6: "DEQUANTIZE", 14: "LOGISTIC",
       18: "MUL", 22: "RESHAPE", 40: "MEAN", 41: "SUB", 76: "RSQRT",
       97: "RESIZE_NEAREST_NEIGHBOR", 99: "SQUARED_DIFFERENCE", 100: "MIRROR_PAD",
       114: "QUANTIZE"}
ACT = {0: None, 1: "RELU", 3: "RELU6"}


def parse_tflite(path):
    """-> dict(tensors=[...], ops=[...], inputs, outputs). tensor: name, shape,
    type, data (numpy in file type or None), scale, zero_point, qdim.
    op: name, inputs, outputs, opt (dict of the options used here)."""
    buf = bytearray(open(path, "rb").read())
    assert buf[4:8] == b"TFL3", "not a TFLite flatbuffer"
    model = Table(buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))
    # Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4
    codes = []
    for oc in _tables(model, 1):
        # OperatorCode: deprecated_builtin_code 0 (int8), custom_code 1, version 2,
        # builtin_code 3 (int32)
        c = max(_scalar(oc, 0, N.Int8Flags), _scalar(oc, 3, N.Int32Flags))
        codes.append(c)
    buffers = []
    for b in _tables(model, 4):  # Buffer: data 0 ([ubyte])
        d = _vec(b, 0, N.Uint8Flags)
        buffers.append(None if d is None or len(d) == 0 else bytes(d))
    sg = _tables(model, 2)[0]  # SubGraph: tensors 0, inputs 1, outputs 2, operators 3
    tensors = []
    for t in _tables(sg, 0):
        # Tensor: shape 0, type 1, buffer 2, name 3, quantization 4
        shape = _vec(t, 0, N.Int32Flags)
        ty = _scalar(t, 1, N.Int8Flags)
        bi = _scalar(t, 2, N.Uint32Flags)
        q = _table(t, 4)
        scale = zp = None
        qdim = 0
        if q is not None:
            # QuantizationParameters: min 0, max 1, scale 2, zero_point 3,
            # details_type 4, details 5, quantized_dimension 6
            scale = _vec(q, 2, N.Float32Flags)
            zp = _vec(q, 3, N.Int64Flags)
            qdim = _scalar(q, 6, N.Int32Flags)
            if scale is not None and len(scale) == 0:
                scale = None
        data = None
        if bi < len(buffers) and buffers[bi] is not None:
            data = np.frombuffer(buffers[bi], dtype=NPTYPE[ty]).reshape(
                [int(s) for s in shape] if shape is not None else [])
        tensors.append(dict(name=_string(t, 3), shape=[] if shape is None else [int(s) for s in shape],
                            type=ty, data=data, scale=scale, zero_point=zp, qdim=qdim))
    ops = []
    for o in _tables(sg, 3):
        # Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3,
        # builtin_options 4
        name = OPS.get(codes[_scalar(o, 0, N.Uint32Flags)], "OP%d" % codes[_scalar(o, 0, N.Uint32Flags)])
        opt = _union(o, 4)
        d = {}
        if name == "CONV_2D":
            # Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused_act 3,
            # dilation_w 4, dilation_h 5
            d = dict(padding=_scalar(opt, 0, N.Int8Flags), sw=_scalar(opt, 1, N.Int32Flags),
                     sh=_scalar(opt, 2, N.Int32Flags), act=_scalar(opt, 3, N.Int8Flags),
                     dw=_scalar(opt, 4, N.Int32Flags, 1), dh=_scalar(opt, 5, N.Int32Flags, 1))
        elif name == "DEPTHWISE_CONV_2D":
            # DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2,
            # depth_multiplier 3, fused_act 4, dilation_w 5, dilation_h 6
            d = dict(padding=_scalar(opt, 0, N.Int8Flags), sw=_scalar(opt, 1, N.Int32Flags),
                     sh=_scalar(opt, 2, N.Int32Flags), mult=_scalar(opt, 3, N.Int32Flags),
                     act=_scalar(opt, 4, N.Int8Flags),
                     dw=_scalar(opt, 5, N.Int32Flags, 1), dh=_scalar(opt, 6, N.Int32Flags, 1))
        elif name in ("ADD", "SUB", "MUL"):  # *Options: fused_activation_function 0
            d = dict(act=_scalar(opt, 0, N.Int8Flags) if opt else 0)
        elif name == "MEAN":  # ReducerOptions: keep_dims 0
            d = dict(keep=bool(_scalar(opt, 0, N.BoolFlags)) if opt else False)
        elif name == "MIRROR_PAD":  # MirrorPadOptions: mode 0 (REFLECT 0, SYMMETRIC 1)
            d = dict(mode=_scalar(opt, 0, N.Int8Flags) if opt else 0)
        elif name == "RESIZE_NEAREST_NEIGHBOR":
            # ResizeNearestNeighborOptions: align_corners 0, half_pixel_centers 1
            d = dict(align=bool(_scalar(opt, 0, N.BoolFlags)) if opt else False,
                     half=bool(_scalar(opt, 1, N.BoolFlags)) if opt else False)
        ops.append(dict(name=name, inputs=[int(i) for i in _vec(o, 1, N.Int32Flags)],
                        outputs=[int(i) for i in _vec(o, 2, N.Int32Flags)], opt=d))
    return dict(tensors=tensors, ops=ops, inputs=[int(i) for i in _vec(sg, 1, N.Int32Flags)],
                outputs=[int(i) for i in _vec(sg, 2, N.Int32Flags)])


def dequantise(t):
    """Float64 numpy value of a constant tensor (None if not constant)."""
    d = t["data"]
    if d is None:
        return None
    if t["type"] in (INT8, UINT8) or (t["type"] == INT32 and t["scale"] is not None):
        if t["scale"] is None:
            return d.astype(np.float64)
        s = t["scale"].astype(np.float64)
        z = t["zero_point"] if t["zero_point"] is not None and len(t["zero_point"]) else np.zeros(1, np.int64)
        if len(s) > 1:  # per channel along quantized_dimension
            shp = [1] * d.ndim
            shp[t["qdim"]] = len(s)
            s = s.reshape(shp)
            z = np.broadcast_to(z, (len(t["scale"]),)).reshape(shp)
        return (d.astype(np.float64) - z) * s
    return d.astype(np.float64)


# ---------------------------------------------------------------- network

NHWC2NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def _act(x, a):
    a = ACT[a]
    if a == "RELU":
        return F.relu(x)
    if a == "RELU6":
        return x.clamp(0.0, 6.0)
    return x


def _same_pad(n, k, s, d=1):
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


class TFLiteNet(torch.nn.Module):
    """Interprets the operator list of a .tflite file in PyTorch (NCHW inside)."""

    def __init__(self, path, dtype=torch.float32):
        super().__init__()
        self.g = parse_tflite(path)
        self.dtype = dtype
        self.const = {}  # tensor index -> torch tensor (already laid out for use)
        self.ints = {}   # tensor index -> numpy int array (axes, paddings, sizes)
        tens = self.g["tensors"]
        for i, t in enumerate(tens):
            if t["data"] is None:
                continue
            if t["type"] in (INT32, INT64) and t["scale"] is None:
                self.ints[i] = t["data"].astype(np.int64)
            else:
                self.const[i] = torch.tensor(dequantise(t), dtype=dtype)
        # fold DEQUANTIZE of constants (fp16 weights) into constants
        self.ops = []
        for op in self.g["ops"]:
            if op["name"] == "DEQUANTIZE" and op["inputs"][0] in self.const:
                self.const[op["outputs"][0]] = self.const[op["inputs"][0]]
                continue
            self.ops.append(op)
        # lay out weights
        for op in self.ops:
            if op["name"] == "CONV_2D":
                w = op["inputs"][1]
                self.const[w] = self.const[w].permute(0, 3, 1, 2).contiguous()  # OHWI->OIHW
            elif op["name"] == "DEPTHWISE_CONV_2D":
                w = op["inputs"][1]
                self.const[w] = self.const[w].permute(3, 0, 1, 2).contiguous()  # 1HWC->C1HW
        for i, c in list(self.const.items()):
            if c.dim() == 4 and not any(i == op["inputs"][1] for op in self.ops
                                        if op["name"] in ("CONV_2D", "DEPTHWISE_CONV_2D")):
                self.const[i] = c.permute(0, 3, 1, 2).contiguous()
        self.conv_w = {op["inputs"][1] for op in self.ops if op["name"] in ("CONV_2D", "DEPTHWISE_CONV_2D")}

    def _val(self, env, i):
        if i in env:
            return env[i]
        c = self.const[i]
        if c.dim() == 1 and c.numel() > 1:  # NHWC last-axis broadcast -> channel
            return c.view(1, -1, 1, 1)
        return c

    def forward(self, *inputs, record=None):
        """inputs: NHWC tensors in the file's input order; returns NHWC outputs
        (4-D) as a list. record: optional dict filled with tensor index ->
        NHWC value of every computed tensor (for layer-by-layer checks)."""
        g = self.g
        env = {}
        for i, x in zip(g["inputs"], inputs):
            x = torch.as_tensor(x, dtype=self.dtype)
            env[i] = x.permute(0, 3, 1, 2) if x.dim() == 4 else x
        tens = g["tensors"]
        for op in self.ops:
            nm, ins, o, opt = op["name"], op["inputs"], op["outputs"][0], op["opt"]
            if nm in ("QUANTIZE", "DEQUANTIZE"):
                y = env[ins[0]]
            elif nm in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                x = env[ins[0]]
                w = self.const[ins[1]]
                b = self.const[ins[2]] if len(ins) > 2 and ins[2] >= 0 else None
                kh, kw = w.shape[2], w.shape[3]
                if opt["padding"] == 0:  # SAME
                    pt, pb = _same_pad(x.shape[2], kh, opt["sh"], opt["dh"])
                    pl, pr = _same_pad(x.shape[3], kw, opt["sw"], opt["dw"])
                    if pt or pb or pl or pr:
                        x = F.pad(x, (pl, pr, pt, pb))
                groups = x.shape[1] if nm == "DEPTHWISE_CONV_2D" else 1
                if nm == "DEPTHWISE_CONV_2D":
                    assert opt["mult"] in (0, 1)
                y = F.conv2d(x, w, b, stride=(opt["sh"], opt["sw"]),
                             dilation=(opt["dh"], opt["dw"]), groups=groups)
                y = _act(y, opt["act"])
            elif nm in ("ADD", "SUB", "MUL", "SQUARED_DIFFERENCE"):
                a, b = self._val(env, ins[0]), self._val(env, ins[1])
                if nm == "ADD":
                    y = a + b
                elif nm == "SUB":
                    y = a - b
                elif nm == "MUL":
                    y = a * b
                else:
                    y = (a - b) ** 2
                y = _act(y, opt.get("act", 0))
            elif nm == "MEAN":
                axes = [NHWC2NCHW_AXIS[int(a) % 4] for a in np.atleast_1d(self.ints[ins[1]])]
                y = env[ins[0]].mean(dim=axes, keepdim=opt["keep"])
                assert opt["keep"], "MEAN without keep_dims not needed here"
            elif nm == "RSQRT":
                y = torch.rsqrt(env[ins[0]])
            elif nm == "LOGISTIC":
                y = torch.sigmoid(env[ins[0]])
            elif nm == "MIRROR_PAD":
                p = self.ints[ins[1]]  # [4,2] NHWC
                assert p[0].sum() == 0 and p[3].sum() == 0
                x = env[ins[0]]
                if opt["mode"] == 0:
                    y = F.pad(x, (int(p[2, 0]), int(p[2, 1]), int(p[1, 0]), int(p[1, 1])), mode="reflect")
                else:  # SYMMETRIC: edge repeated
                    y = x
                    for ax, (lo, hi) in ((2, p[1]), (3, p[2])):
                        n = y.shape[ax]
                        idx = list(range(int(lo) - 1, -1, -1)) + list(range(n)) + \
                            list(range(n - 1, n - 1 - int(hi), -1))
                        y = y.index_select(ax, torch.tensor(idx))
            elif nm == "RESIZE_NEAREST_NEIGHBOR":
                x = env[ins[0]]
                size = self.ints[ins[1]]  # recorded [h, w] for the recorded input
                rec = tens[ins[0]]["shape"]  # NHWC recorded input shape
                h = int(round(size[0] * x.shape[2] / rec[1]))
                w = int(round(size[1] * x.shape[3] / rec[2]))
                assert not opt["align"] and not opt["half"]
                if (h, w) == tuple(x.shape[2:]):
                    y = x
                else:
                    iy = (torch.arange(h) * x.shape[2]) // h
                    ix = (torch.arange(w) * x.shape[3]) // w
                    y = x.index_select(2, iy).index_select(3, ix)
            else:
                raise NotImplementedError(nm)
            env[o] = y
            if record is not None:
                record[o] = y.permute(0, 2, 3, 1) if y.dim() == 4 else y
        outs = []
        for i in g["outputs"]:
            y = env[i]
            outs.append(y.permute(0, 2, 3, 1) if y.dim() == 4 else y)
        return outs


_NETS = {}


def net(path, dtype=torch.float32):
    key = (path, dtype)
    if key not in _NETS:
        _NETS[key] = TFLiteNet(path, dtype).eval()
    return _NETS[key]


def predict_style(painting, dtype=torch.float32):
    """painting: NHWC [1,256,256,3] RGB 0..1 (see preprocess_painting) -> [100]."""
    with torch.no_grad():
        return net(PREDICT, dtype)(painting)[0].reshape(-1)


def transfer(photo, style, path=F16, dtype=torch.float32):
    """photo: NHWC [1,H,W,3] RGB 0..1 (H, W multiples of 4); style [100]
    -> NHWC [1,H,W,3] 0..1. Input order is taken from the file's names."""
    m = net(path, dtype)
    g = m.g
    photo = torch.as_tensor(photo, dtype=dtype)
    style = torch.as_tensor(style, dtype=dtype).reshape(1, 1, 1, -1)
    args = []
    for i in g["inputs"]:
        args.append(style if g["tensors"][i]["shape"][-1] == 100 else photo)
    with torch.no_grad():
        return m(*args)[0]


def preprocess_painting(img_u8, size=256):
    """uint8 HxWx3 RGB -> NHWC [1,size,size,3] float32 0..1: /255, bilinear
    resize of the short side to size (align_corners=False), centre crop."""
    x = torch.tensor(np.asarray(img_u8, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    h, w = x.shape[2], x.shape[3]
    if min(h, w) != size:
        if h < w:
            nh, nw = size, int(round(w * size / h))
        else:
            nh, nw = int(round(h * size / w)), size
        x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False)
        h, w = nh, nw
    t, l = (h - size) // 2, (w - size) // 2
    x = x[:, :, t:t + size, l:l + size]
    return x.permute(0, 2, 3, 1).contiguous()


# ---------------------------------------------------------------- PNG

def write_png(path, img):
    """img: uint8 HxWx3 RGB."""
    img = np.ascontiguousarray(img, dtype=np.uint8)
    h, w, c = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff)
    color = {1: 0, 3: 2, 4: 6}[c]
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def read_png(path):
    """8-bit non-interlaced grey/RGB/RGBA PNG -> uint8 HxWx3."""
    d = open(path, "rb").read()
    assert d[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(d):
        n, tag = struct.unpack(">I4s", d[pos:pos + 8])
        body = d[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            w, h, depth, color, _, _, inter = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and inter == 0
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    c = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, w * c + 1)
    out = np.zeros((h, w * c), np.int32)
    prev = np.zeros(w * c, np.int32)
    for y in range(h):
        ft, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if ft == 0:
            cur = line
        elif ft == 2:
            cur = (line + prev) & 255
        else:
            cur = np.zeros_like(line)
            for x in range(w * c):
                a = cur[x - c] if x >= c else 0
                b = prev[x]
                cc = prev[x - c] if x >= c else 0
                if ft == 1:
                    pr = a
                elif ft == 3:
                    pr = (a + b) // 2
                else:
                    p = a + b - cc
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - cc)
                    pr = a if pa <= pb and pa <= pc else (b if pb <= pc else cc)
                cur[x] = (line[x] + pr) & 255
        out[y] = cur
        prev = cur
    img = out.reshape(h, w, c).astype(np.uint8)
    if c == 1:
        img = np.repeat(img, 3, axis=2)
    return img[:, :, :3]


# ---------------------------------------------------------------- bench

def bench(size_hw, runs=5, threads=2, path=F16):
    torch.set_num_threads(threads)
    h, w = size_hw
    rng = np.random.default_rng(0)
    photo = torch.tensor(rng.random((1, h, w, 3)), dtype=torch.float32)
    style = torch.tensor(rng.standard_normal(100) * 0.5, dtype=torch.float32)
    transfer(photo, style, path)  # warm-up / load
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        transfer(photo, style, path)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def bench_predict(runs=5, threads=2):
    torch.set_num_threads(threads)
    x = torch.rand(1, 256, 256, 3)
    predict_style(x)
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        predict_style(x)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", metavar="SIZE", help="SIZE or WxH: median of 5 runs of the fp16 transfer net")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--predict", action="store_true", help="also time the predictor at 256")
    a = ap.parse_args()
    if a.bench:
        s = a.bench.lower().split("x")
        w, h = (int(s[0]), int(s[0])) if len(s) == 1 else (int(s[0]), int(s[1]))
        print("transfer %dx%d: %.4f s (median of 5, %d threads)" % (w, h, bench((h, w), threads=a.threads), a.threads))
    if a.predict:
        print("predict 256x256: %.4f s (median of 5, %d threads)" % (bench_predict(threads=a.threads), a.threads))
    if not a.bench and not a.predict:
        ap.print_help()
