"""Where an LSTM training step's time goes, part by part, on one and on two BLAS threads,
against PyTorch's whole step in this process.

    python benchmarks/lstm_parts.py [--hidden 32,128,256] [--repeat N]

The sizes of ``train_step.py`` (batch 32, 50 steps, 16 features, float32). Parts:

* **forward loop** / **backward loop**: the calls the cell's time loops make per step
  (``LSTMCell.forward``'s and ``backward``'s loops, written out here the same), timed with
  their products alone, their element-wise calls alone, and both as the cell runs them. Both
  cost more than the two parts' sum on two threads: each step's product reads what the main
  thread's element-wise calls just wrote, and the second thread's core must fetch it.
* **weight gradient**: the product over all steps alone, on arrays laid out for it already
  (as the floor of ``train_step.py --floor`` times it), and ``overlap.gate_products`` as the
  backward pass makes it, its operands first copied into that layout by this thread. On two
  threads the copy costs far more than on one: the second thread's core fetches what this
  one just wrote.
* **cell**: ``LSTMCell.forward`` + ``backward`` (the helper thread beside the loop on one
  BLAS thread, as ``two_cores`` runs them).
* **whole step**: the executor's forward, backward and Adam with the loop held to the thread
  count (``two_cores`` measures both and takes the faster).

Each row: milliseconds, and the fraction of PyTorch's whole step (``train_step.py``'s).
Run it with the machine's own BLAS kernel (``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_builder.engine.threads import SHORT_SPIN, SPIN_VARIABLE  # (imports no NumPy)

# OpenBLAS's short spin, as the CLI and the training process run: set before NumPy loads it
os.environ.setdefault(SPIN_VARIABLE, SHORT_SPIN)

import numpy as np
import train_step as bench

from rnn_builder.engine import two_cores
from rnn_builder.engine.cells.base import CellWeights
from rnn_builder.engine.cells.lstm import LSTMCell
from rnn_builder.engine.overlap import gate_products, loops_ended
from rnn_builder.engine.runtime import runtime
from rnn_builder.engine.threads import blas_threads

STEPS, BATCH, FEATURES = bench.STEPS, bench.BATCH, bench.FEATURES
F32 = np.float32


def loops(hidden: int):
    """The forward and backward time loops' calls, with the products and the element-wise
    calls each optional: ``forward(products, elementwise)``, ``backward(…)``."""
    rng = np.random.default_rng(0)
    h, h2, h3, rows = hidden, 2 * hidden, 3 * hidden, FEATURES + 1 + hidden
    w_all = rng.uniform(-0.1, 0.1, (4 * h, rows)).astype(F32)
    z = rng.standard_normal((STEPS + 1, rows, BATCH)).astype(F32)
    state = np.zeros((STEPS + 1, 5 * h, BATCH), F32)
    tanh_cs = np.empty((STEPS, h, BATCH), F32)
    fc_ig = np.empty((h2, BATCH), F32)
    half = np.array(0.5, F32)
    w_hh_t = rng.uniform(-0.1, 0.1, (h, 4 * h)).astype(F32)
    factors = rng.uniform(-0.5, 0.5, (STEPS, 6 * h, BATCH)).astype(F32)
    dhs = rng.uniform(-0.5, 0.5, (STEPS + 1, h, BATCH)).astype(F32)
    grads = np.zeros((STEPS + 1, 6 * h, BATCH), F32)
    scratch = np.empty((h, BATCH), F32)

    def forward(products: bool, elementwise: bool) -> None:
        now, cs, hs = state[:STEPS], state[:, :h], z[:, FEATURES + 1 :]
        fc, ig = fc_ig[:h], fc_ig[h:]
        blocks = (z[:STEPS], now[:, h:], now[:, h2:], now[:, h3:], now[:, :h2], now[:, h2:h3])
        for z_t, a, sig, f_i, c_g, o, c, tanh_c, h_t in zip(
            *blocks, cs[1:], tanh_cs, hs[1:], strict=True
        ):
            if products:
                np.dot(w_all, z_t, out=a)
            if elementwise:
                np.tanh(a, out=a)
                sig *= half
                sig += half
                np.multiply(f_i, c_g, out=fc_ig)
                np.add(fc, ig, out=c)
                np.tanh(c, out=tanh_c)
                np.multiply(o, tanh_c, out=h_t)

    def backward(products: bool, elementwise: bool) -> None:
        blocks = factors.reshape(STEPS, 6, h, BATCH)
        into = grads.reshape(STEPS + 1, 6, h, BATCH)
        da = grads[:STEPS, h : 5 * h]

        def at(values):
            return values[:STEPS][::-1]

        def after(values):
            return values[STEPS:0:-1]

        for dh, target, dc, dc_later, da_o, by_dc, per_dh, dh_o, dc_by, da_t in zip(
            after(dhs),
            at(dhs),
            at(into[:, 0]),
            after(into[:, 5]),
            at(into[:, 1]),
            at(into[:, 2:]),
            at(blocks[:, 0]),
            at(blocks[:, 1]),
            at(blocks[:, 2:]),
            at(da),
            strict=True,
        ):
            if elementwise:
                np.multiply(per_dh, dh, out=dc)
                np.multiply(dh_o, dh, out=da_o)
                dc += dc_later
                np.multiply(dc_by, dc, out=by_dc)
            if products:
                np.dot(w_hh_t, da_t, out=scratch)
            if elementwise:
                target += scratch

    return forward, backward


def parts(hidden: int, threads: int, repeat: int) -> dict[str, float]:
    """Each part's median milliseconds on ``threads`` BLAS threads."""
    forward, backward = loops(hidden)
    rng = np.random.default_rng(1)
    grad = rng.standard_normal((STEPS, 4 * hidden, BATCH)).astype(F32)
    z = rng.standard_normal((STEPS + 1, FEATURES + 1 + hidden, BATCH)).astype(F32)
    cell = LSTMCell()
    shapes = [(4 * hidden, FEATURES), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,)]
    weights = CellWeights(*(rng.uniform(-0.2, 0.2, s).astype(F32) for s in shapes))
    x = rng.standard_normal((STEPS, BATCH, FEATURES)).astype(F32)
    initial = (np.zeros((BATCH, hidden), F32), np.zeros((BATCH, hidden), F32))
    dy = rng.standard_normal((STEPS, BATCH, hidden)).astype(F32)

    by_gate = np.ascontiguousarray(grad.transpose(1, 0, 2)).reshape(4 * hidden, -1)
    by_row = np.ascontiguousarray(z[:STEPS].transpose(1, 0, 2)).reshape(z.shape[1], -1)

    def whole_cell():
        _, _, cache = cell.forward(weights, x, initial)
        cell.backward(weights, cache, dy, (None, None), need_dx=False)

    timed = {
        "forward loop: products": lambda: forward(True, False),
        "forward loop: element-wise": lambda: forward(False, True),
        "forward loop: both": lambda: forward(True, True),
        "backward loop: products": lambda: backward(True, False),
        "backward loop: element-wise": lambda: backward(False, True),
        "backward loop: both": lambda: backward(True, True),
        "weight gradient: product alone": lambda: by_gate @ by_row.T,
        "weight gradient: copies + product": lambda: gate_products(grad, z),
        "cell forward + backward": whole_cell,
    }
    found = {}
    with blas_threads(threads), loops_ended(helper=threads == 1):
        for name, function in timed.items():
            found[name] = bench.median_ms(function, repeat)
    return found


def whole_step(hidden: int, threads: int, repeat: int) -> float:
    """The executor's training step with the LSTM's loops held to ``threads`` BLAS threads."""
    chosen = two_cores.Choice.next
    two_cores.Choice.next = lambda self: threads
    try:
        x, y = bench.training_batch()
        return bench.median_ms(bench.ours_train_step("lstm", hidden, x, y), repeat, warmup=5)
    finally:
        two_cores.Choice.next = chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", default="32,128,256", help="comma-separated sizes")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    print(bench.kernels(2))
    runtime().configure(loop_threads=2)
    for hidden in (int(h) for h in args.hidden.split(",")):
        rows = {threads: parts(hidden, threads, args.repeat) for threads in (1, 2)}
        for threads in (1, 2):
            rows[threads]["whole training step"] = whole_step(hidden, threads, args.repeat)
        theirs = None
        if bench.torch is not None:
            step = bench.torch_train_step("lstm", hidden, *bench.training_batch())
            theirs = bench.median_ms(step, args.repeat, warmup=20)
        print(f"\nLSTM hidden {hidden}: PyTorch's whole step {theirs or float('nan'):.3f} ms")
        print(f"{'part':<32}{'1t ms':>8}{'of torch':>9}{'2t ms':>8}{'of torch':>9}")
        for name in rows[1]:
            cells = ""
            for threads in (1, 2):
                ms = rows[threads][name]
                share = f"{ms / theirs:.2f}" if theirs else "-"
                cells += f"{ms:>8.3f}{share:>9}"
            print(f"{name:<32}{cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
