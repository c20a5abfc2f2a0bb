#!/usr/bin/env python3
"""scaling_model.py: how a data-parallel nst train step scales to many nodes.

A step on N nodes = the compute of a node's share of the batch, then one
allreduce of the gradient buffer (nst sums the gradients after the whole
backward pass, so the two do not overlap). The allreduce is modelled as
Open MPI's large-message algorithm (Rabenseifner: a reduce-scatter and an
allgather, as a ring moves the same bytes):
    t_allreduce = 2 log2(N) alpha + 2 (N - 1) / N * S / B
with S the buffer's bytes, B the link bandwidth and alpha the per-message
latency. Efficiency = t_compute / (t_compute + t_allreduce).

usage: scaling_model.py SECONDS_PER_IMAGE PARAM_BYTES
  SECONDS_PER_IMAGE: measured on one node (nst train's img/s, inverted)
  PARAM_BYTES: the generator's float32 parameters (+16 bytes of loss terms)
"""
import math
import sys

per_image, S = float(sys.argv[1]), float(sys.argv[2]) + 16
alpha = 20e-6  # TCP over Ethernet; InfiniBand is nearer 2 us
print(f"measured: {per_image:.3f} s per 256 px image on one node; allreduce buffer {S / 1e6:.2f} MB; "
      f"latency {alpha * 1e6:.0f} us per message\n")
print("| scaling | nodes | per-node batch | global batch | compute | allreduce 10 Gbit/s | efficiency | "
      "allreduce 100 Gbit/s | efficiency |")
print("|---|---|---|---|---|---|---|---|---|")
for label, per_node in (("batch 4 per node", lambda n: 4), ("global batch 64", lambda n: 64 / n)):
    for n in (8, 64, 512):
        b = per_node(n)
        if b < 1:
            print(f"| {label} | {n} | {b:.3g} | {n * b:.0f} | fewer than one image per node: it stops "
                  f"scaling | | | | |")
            continue
        tc = b * per_image
        row = [label, f"{n}", f"{b:.0f}", f"{n * b:.0f}", f"{tc * 1e3:.0f} ms"]
        for gbit in (10, 100):
            B = gbit * 1e9 / 8
            ta = 2 * math.log2(n) * alpha + 2 * (n - 1) / n * S / B
            row += [f"{ta * 1e3:.1f} ms", f"{tc / (tc + ta):.1%}"]
        print("| " + " | ".join(row) + " |")
