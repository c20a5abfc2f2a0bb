"""Reference trajectories for tests/test_optim.c: torch.optim.Adam and
torch.optim.LBFGS (fixed step, history 5 so the ring buffer wraps) on
  f(x) = 0.5 (x - b)^T Q (x - b) + 0.25 c sum(x^4),  x in R^20,
Q symmetric positive definite with eigenvalues 0.1 .. 10 (condition 100).
Parameters are float32 as in torch; f and its gradient are evaluated in
float64 from the float32 values and the gradient rounded to float32, which
is what the C test does, so the two runs see the same gradients.
Writes tests/fixtures/optim.bin.

Run: /usr/bin/python3 tests/pytorch/gen_optim.py"""
import os

import numpy as np
import torch

from fixture import write_bundle

N, ITERS, HISTORY, QUARTIC = 20, 30, 5, 0.05
ADAM_LR, LBFGS_LR = 0.1, 1.0
OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "optim.bin")

rng = np.random.default_rng(0)
R, _ = np.linalg.qr(rng.standard_normal((N, N)))
Q = ((R * np.logspace(-1, 1, N)) @ R.T).astype(np.float32)
Q = ((Q + Q.T) / 2).astype(np.float32)
b = rng.uniform(-2, 2, N).astype(np.float32)
x0 = rng.uniform(-1, 1, N).astype(np.float32)
Qd, bd = Q.astype(np.float64), b.astype(np.float64)


def objective(x):
    """f and df/dx in float64 at float32 x."""
    x = x.astype(np.float64)
    r = x - bd
    f = 0.5 * r @ Qd @ r + 0.25 * QUARTIC * np.sum(x ** 4)
    return f, Qd @ r + QUARTIC * x ** 3


def run(make_opt, steps):
    """Run the optimiser; returns losses and x at every closure evaluation,
    plus the final x."""
    x = torch.tensor(x0, requires_grad=True)
    opt = make_opt([x])
    xs, losses = [], []

    def closure():
        xv = x.detach().numpy().copy()
        f, g = objective(xv)
        xs.append(xv)
        losses.append(f)
        x.grad = torch.tensor(g, dtype=torch.float32)
        return f

    for _ in range(steps):
        opt.step(closure)
    xs.append(x.detach().numpy().copy())
    return np.array(losses), np.array(xs)


adam_loss, adam_x = run(lambda p: torch.optim.Adam(p, lr=ADAM_LR), ITERS)
# One step(closure) of max_iter iterations: the closure runs once per
# iteration (not after the last update), ITERS evaluations in all.
lbfgs_loss, lbfgs_x = run(lambda p: torch.optim.LBFGS(
    p, lr=LBFGS_LR, max_iter=ITERS, history_size=HISTORY, line_search_fn=None,
    tolerance_grad=1e-7, tolerance_change=1e-9), 1)
assert len(lbfgs_loss) == ITERS, "L-BFGS stopped early: %d evaluations" % len(lbfgs_loss)
print("adam  loss %.6g -> %.6g" % (adam_loss[0], adam_loss[-1]))
print("lbfgs loss %.6g -> %.6g" % (lbfgs_loss[0], lbfgs_loss[-1]))
print("lbfgs losses", np.array2string(lbfgs_loss, precision=4))

write_bundle(OUT, {
    "Q": Q, "b": b, "x0": x0,
    "params": np.array([QUARTIC, ADAM_LR, LBFGS_LR, HISTORY]),
    "adam.loss": adam_loss, "adam.x": adam_x,
    "lbfgs.loss": lbfgs_loss, "lbfgs.x": lbfgs_x,
})
print("wrote", OUT, os.path.getsize(OUT), "bytes")
