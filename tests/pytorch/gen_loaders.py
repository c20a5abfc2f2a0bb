"""Write the weight-loader fixtures into tests/fixtures (run from anywhere
with /usr/bin/python3; needs torch and numpy):

  vgg19_tiny.pth / .safetensors  torchvision VGG19 key layout (features.N),
                                 few channels per block (4/6/8/8/8)
  vgg16_tiny.pth                 the same for VGG16
  views.pth                      float16, bfloat16, a 0-d tensor and views
                                 (transposed, offset slice) of one storage
  loaders.bin                    expected float32 values of all of the above:
                                 "vgg19/<key>", "vgg16/<key>", "views/<key>"

The .pth files are written by torch.save itself; safetensors is written by
hand (the package is not installed) following its spec: u64 LE header size,
JSON header {name: {dtype, shape, data_offsets}}, raw little-endian data."""
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_bundle  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")

# torchvision conv indices in `features`; a gap of 3 marks a max pool
VGG19 = [[0, 2], [5, 7], [10, 12, 14, 16], [19, 21, 23, 25], [28, 30, 32, 34]]
VGG16 = [[0, 2], [5, 7], [10, 12, 14], [17, 19, 21], [24, 26, 28]]
CHANNELS = [4, 6, 8, 8, 8]


def vgg_state_dict(blocks, gen):
    sd = {}
    cin = 3
    for block, cout in zip(blocks, CHANNELS):
        for i in block:
            sd["features.%d.weight" % i] = torch.randn(cout, cin, 3, 3, generator=gen) * 0.2
            sd["features.%d.bias" % i] = torch.randn(cout, generator=gen) * 0.1
            cin = cout
    return sd


def write_safetensors(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 8)  # the reference writer pads to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)


def main():
    gen = torch.Generator().manual_seed(1234)
    vgg19 = vgg_state_dict(VGG19, gen)
    vgg16 = vgg_state_dict(VGG16, gen)
    torch.save(vgg19, os.path.join(OUT, "vgg19_tiny.pth"))
    write_safetensors(os.path.join(OUT, "vgg19_tiny.safetensors"), vgg19)
    torch.save(vgg16, os.path.join(OUT, "vgg16_tiny.pth"))

    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 1
    views = {
        "base": base,
        "transposed": base.t(),    # strides (1, 4), same storage as base
        "slice": base[1:, 1:3],    # storage offset 5, strides (4, 1)
        "half": (torch.randn(2, 3, generator=gen) * 10).half(),
        "bf16": torch.randn(5, generator=gen).bfloat16(),
        "scalar": torch.tensor(3.25),
    }
    torch.save(views, os.path.join(OUT, "views.pth"))

    expected = {}
    for prefix, sd in (("vgg19", vgg19), ("vgg16", vgg16), ("views", views)):
        for k, v in sd.items():
            expected["%s/%s" % (prefix, k)] = v.float()
    write_bundle(os.path.join(OUT, "loaders.bin"), expected)


if __name__ == "__main__":
    main()
