"""Write fixture bundles that tests/testutil.c reads.

Format: b"NSTF", u32 count, then per tensor: u32 name_len, name (utf-8),
u32 ndim, u32 dims[ndim], float32 data, all little-endian, row-major."""
import struct

import numpy as np


def write_bundle(path, tensors):
    """tensors: dict name -> array-like (torch tensors are detached)."""
    with open(path, "wb") as f:
        f.write(b"NSTF")
        f.write(struct.pack("<I", len(tensors)))
        for name, t in tensors.items():
            if hasattr(t, "detach"):
                t = t.detach().cpu().numpy()
            a = np.ascontiguousarray(np.asarray(t, dtype="<f4"))
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)))
            f.write(nb)
            f.write(struct.pack("<I", a.ndim))
            f.write(struct.pack("<%dI" % a.ndim, *a.shape))
            f.write(a.tobytes())
