"""Expected weights of the Magenta TensorFlow Lite networks for
tests/test_tflite.c, read independently of src/io/tflite.c: through the
`flatbuffers` package's generic Table (fields by vtable slot, as in
tensorflow/lite/schema/schema.fbs) and numpy (run with /usr/bin/python3).

  tests/fixtures/tflite.bin
    predict/conv0/weight, /bias    first CONV_2D, int8 per channel -> OIHW
    predict/dw0/weight, /bias      first DEPTHWISE_CONV_2D -> [C, 1, K, K]
    predict/last/weight2, /bias    the CONV_2D giving the style vector (rows 0, 1)
    f16/conv0/weight, /bias        first image CONV_2D (fp16 via DEQUANTIZE)
    f16/style0/weight, /bias       first 1x1 CONV_2D on the style vector
    f16/last/weight                last image CONV_2D (9x9, 8 -> 3)
    f16/eps                        the first instance norm's epsilon
    q8/conv0/weight, /bias         first image CONV_2D of the int8 network

Usage: gen_tflite.py [model_dir] (default ../../../shared/models/magenta-arbitrary)."""
import os
import sys

import flatbuffers
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from fixture import write_bundle  # noqa: E402

MODEL_DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    here, "../../../shared/models/magenta-arbitrary")
OUT = os.path.join(here, "..", "fixtures", "tflite.bin")

CONV_2D, DEPTHWISE_CONV_2D, DEQUANTIZE, ADD, RSQRT = 3, 4, 6, 0, 76
N = flatbuffers.number_types


class Tab:
    """A flatbuffer table; fields by slot number."""

    def __init__(self, buf, pos):
        self.t = flatbuffers.table.Table(buf, pos)

    def _off(self, slot):
        return self.t.Offset(4 + 2 * slot)

    def scalar(self, slot, flags, default=0):
        o = self._off(slot)
        return self.t.Get(flags, self.t.Pos + o) if o else default

    def table(self, slot):
        o = self._off(slot)
        return Tab(self.t.Bytes, self.t.Indirect(self.t.Pos + o)) if o else None

    def tables(self, slot):
        o = self._off(slot)
        if not o:
            return []
        v = self.t.Vector(o)
        return [Tab(self.t.Bytes, self.t.Indirect(v + 4 * i)) for i in range(self.t.VectorLen(o))]

    def array(self, slot, dtype):
        o = self._off(slot)
        if not o:
            return np.zeros(0, dtype)
        v, n = self.t.Vector(o), self.t.VectorLen(o)
        return np.frombuffer(bytes(self.t.Bytes[v:v + n * np.dtype(dtype).itemsize]), dtype)

    def string(self, slot):
        return self.array(slot, np.uint8).tobytes().decode()


class Model:
    def __init__(self, path):
        self.buf = bytearray(open(path, "rb").read())
        assert self.buf[4:8] == b"TFL3"
        root = Tab(self.buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, self.buf, 0))
        # OperatorCode: deprecated_builtin_code (slot 0, byte), builtin_code (slot 3)
        self.codes = [max(c.scalar(0, N.Int8Flags), c.scalar(3, N.Int32Flags))
                      for c in root.tables(1)]
        self.buffers = root.tables(4)
        sg = root.tables(2)[0]
        self.tensors = sg.tables(0)
        self.ops = sg.tables(3)
        self.producer = {}
        for i, op in enumerate(self.ops):
            for t in op.array(2, "<i4"):
                self.producer[int(t)] = i

    def code(self, op):
        return self.codes[op.scalar(0, N.Uint32Flags)]

    def inputs(self, op):
        return [int(t) for t in op.array(1, "<i4")]

    def ops_of(self, code):
        return [op for op in self.ops if self.code(op) == code]

    def value(self, t):
        """Float values of constant tensor t (following a DEQUANTIZE)."""
        if t in self.producer and self.code(self.ops[self.producer[t]]) == DEQUANTIZE:
            return self.value(self.inputs(self.ops[self.producer[t]])[0])
        tt = self.tensors[t]
        shape = tuple(int(d) for d in tt.array(0, "<i4"))
        ttype = tt.scalar(1, N.Int8Flags)
        raw = self.buffers[tt.scalar(2, N.Uint32Flags)].array(0, np.uint8).tobytes()
        dtype = {0: "<f4", 1: "<f2", 2: "<i4", 9: "i1"}[ttype]
        a = np.frombuffer(raw, dtype).reshape(shape)
        if ttype in (0, 1):
            return a.astype(np.float32)
        # QuantizationParameters: scale (slot 2), zero_point (3), quantized_dimension (6)
        q = tt.table(4)
        scale = q.array(2, "<f4")
        zp = q.array(3, "<i8")
        qdim = q.scalar(6, N.Int32Flags)
        bshape = [1] * len(shape)
        if scale.size > 1:
            bshape[qdim] = scale.size
        zp = zp if zp.size else np.zeros(scale.size, np.int64)
        return (scale.reshape(bshape) * (a.astype(np.int64) - zp.reshape(bshape)).astype(np.float32)
                ).astype(np.float32)

    def conv(self, op):
        """(OIHW weight, bias) of a CONV_2D ([O,KH,KW,I]) or a depthwise
        ([1,KH,KW,C] -> [C,1,KH,KW])."""
        ins = self.inputs(op)
        w = self.value(ins[1])
        w = w.transpose(3, 0, 1, 2) if self.code(op) == DEPTHWISE_CONV_2D else w.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(w), self.value(ins[2])


def main():
    out = {}
    p = Model(os.path.join(MODEL_DIR, "style_predict_quantized_256.tflite"))
    convs = p.ops_of(CONV_2D)
    out["predict/conv0/weight"], out["predict/conv0/bias"] = p.conv(convs[0])
    out["predict/dw0/weight"], out["predict/dw0/bias"] = p.conv(p.ops_of(DEPTHWISE_CONV_2D)[0])
    w, out["predict/last/bias"] = p.conv(convs[-1])
    out["predict/last/weight2"] = w[:2]  # two of its 100 output channels

    f = Model(os.path.join(MODEL_DIR, "style_transfer_f16_384.tflite"))
    convs = f.ops_of(CONV_2D)
    out["f16/conv0/weight"], out["f16/conv0/bias"] = f.conv(convs[0])
    style = [op for op in convs if f.inputs(op)[0] == 1]  # reading the style vector (tensor 1)
    out["f16/style0/weight"], out["f16/style0/bias"] = f.conv(style[0])
    out["f16/last/weight"] = f.conv(convs[-1])[0]
    # epsilon: the constant added before the first RSQRT
    eps_add = f.ops[f.producer[f.inputs(f.ops_of(RSQRT)[0])[0]]]
    assert f.code(eps_add) == ADD
    eps = [f.value(t) for t in f.inputs(eps_add)
           if t in f.producer and f.code(f.ops[f.producer[t]]) == DEQUANTIZE]
    out["f16/eps"] = eps[0].reshape(1)

    q = Model(os.path.join(MODEL_DIR, "style_transfer_quantized_384.tflite"))
    out["q8/conv0/weight"], out["q8/conv0/bias"] = q.conv(q.ops_of(CONV_2D)[0])

    for k, v in out.items():
        print("%-20s %-18s %.6g..%.6g" % (k, v.shape, v.min(), v.max()))
    write_bundle(OUT, out)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
