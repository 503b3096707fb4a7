"""Speed of a training step and of live stepping, against PyTorch on the CPU in this process.

    python benchmarks/train_step.py [--quick] [--json] [--repeat N] [--floor] [--apart ROUNDS]

The graph, built with the project's own API: sequence input (16 features) → cell → Dense (16
units, per step) → MSE output. A training step is forward, backward and an Adam update, batch
32, 50 steps, float32, for RNN, LSTM and GRU at hidden 8, 32, 128 and 256 (``--quick``: 32 and
128). PyTorch runs the same shapes: ``nn.RNN``/``nn.LSTM``/``nn.GRU`` + ``nn.Linear`` +
``MSELoss`` + ``torch.optim.Adam``. Live stepping: one time step of one sequence through the
LSTM graph at hidden 128 (``Stepper.step``) against ``nn.LSTMCell`` + ``nn.Linear``.
Each row: our median time, PyTorch's, and the ratio ours / PyTorch (below 1: we are faster).

By default both sides run in this process, alternating. Each engine's idle threads spin for a
while after its work (PyTorch's OpenMP threads 7–10 ms, OpenBLAS's second thread after our
two-thread loops up to ~0.1 s) and slow whatever runs next; ``--apart ROUNDS`` times each side
alone in a process of its own instead, ours then PyTorch's, ROUNDS times, and gives each row's
ratio as the median and range of the rounds.

``--floor`` adds, for each cell and size, the time of the matrix products alone that any
backpropagation through time of this layout makes — each step's product forward
(gates × [x; 1; h]) and backward (W_hhᵀ × gate gradients), and the weight gradient over all
steps — with no element-wise work, no head, no optimizer, on one BLAS thread ("1t") and on two
("2t"): a lower bound for a NumPy executor whose time loop makes its products on that many
threads, against PyTorch's whole step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_builder.engine.threads import SHORT_SPIN, SPIN_VARIABLE  # (imports no NumPy)

# OpenBLAS's short spin, as the CLI and the training process run: set before NumPy loads it
os.environ.setdefault(SPIN_VARIABLE, SHORT_SPIN)

import numpy as np

from rnn_builder.engine.executor import Batch, Executor
from rnn_builder.engine.optim import Adam
from rnn_builder.engine.runtime import runtime
from rnn_builder.engine.stepping import Stepper
from rnn_builder.engine.threads import blas_threads
from rnn_builder.graph.model import Graph

FEATURES, BATCH, STEPS, OUT = 16, 32, 50, 16

try:
    import torch
except ImportError:  # the table then shows our times only
    torch = None


def build(cell: str, hidden: int, graph_class: type = Graph) -> Graph:
    """The benchmark's graph (``graph_class``: another version's Graph, see against_commit)."""
    graph = graph_class()
    graph.add_node("sequence_input", node_id="x", params={"features": FEATURES})
    graph.add_node(cell, node_id="cell", params={"hidden_size": hidden})
    graph.add_node("dense", node_id="head", params={"units": OUT})
    graph.add_node("output", node_id="out", params={"loss": "mse", "target": "y"})
    graph.connect("x", "y", "cell", "x")
    graph.connect("cell", "y", "head", "x")
    graph.connect("head", "y", "out", "x")
    return graph


def median_ms(function, repeat: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def paired_ms(
    ours, theirs, repeat: int, warmup: int = 3, block: int = 1, settle: int = 0
) -> tuple[float, float]:
    """Medians of the two, timed in alternating blocks of ``block`` calls, so that both see the
    same machine (on a shared virtual machine the speed drifts by tens of percent within
    seconds). Calls shorter than a millisecond are timed in blocks: alternating every single
    call would measure each one with the other's data in the caches. Each block first makes
    ``settle`` calls untimed, the same for both sides: right after a PyTorch step its OpenMP
    threads keep spinning on the second core for a while (measured: our LSTM 128 step 7-47 %
    slower right after one of theirs), which is the other engine's leftover, not either's speed."""
    for _ in range(warmup):
        ours()
        theirs()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(max(1, repeat // block)):
        for function, sink in ((ours, times[0]), (theirs, times[1])):
            for _ in range(settle):
                function()
            for _ in range(block):
                start = time.perf_counter()
                function()
                sink.append(time.perf_counter() - start)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def ours_train_step(cell: str, hidden: int, x: np.ndarray, y: np.ndarray):
    executor = Executor(build(cell, hidden), dtype=np.float32)
    optimizer = Adam(executor.store.flat, executor.store.grad_flat, lr=1e-3)
    batch = Batch({"x": x}, {"y": y})

    def step():
        executor.backward(executor.forward(batch))
        optimizer.step()

    return step


def torch_train_step(cell: str, hidden: int, x: np.ndarray, y: np.ndarray):
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    recurrent, head = module(FEATURES, hidden), torch.nn.Linear(hidden, OUT)
    optimizer = torch.optim.Adam([*recurrent.parameters(), *head.parameters()], lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    loss_function = torch.nn.MSELoss()

    def step():
        optimizer.zero_grad()
        states, _ = recurrent(xt)
        loss_function(head(states), yt).backward()
        optimizer.step()

    return step


def products_only(cell: str, hidden: int, threads: int = 1):
    """The unavoidable matrix products of one training step of ``build(cell, hidden)``, on
    ``threads`` BLAS threads."""
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    rows = FEATURES + 1 + hidden
    rng = np.random.default_rng(1)
    w = rng.standard_normal((gates * hidden, rows)).astype(np.float32)
    w_hh_t = rng.standard_normal((hidden, gates * hidden)).astype(np.float32)
    z = rng.standard_normal((STEPS + 1, rows, BATCH)).astype(np.float32)
    grads = np.empty((STEPS, gates * hidden, BATCH), np.float32)
    dh = np.empty((hidden, BATCH), np.float32)
    by_gate = rng.standard_normal((gates * hidden, STEPS * BATCH)).astype(np.float32)
    by_row = rng.standard_normal((STEPS * BATCH, rows)).astype(np.float32)

    def step():
        with blas_threads(threads):
            for t in range(STEPS):
                np.matmul(w, z[t], out=grads[t])
            for t in range(STEPS - 1, -1, -1):
                np.matmul(w_hh_t, grads[t], out=dh)
            by_gate @ by_row

    return step


def stepping_rows(repeat: int, side: str | None = None) -> list[dict]:
    """Live stepping, both sides alternating (``side`` None) or one side alone."""
    hidden = 128
    x = np.random.default_rng(0).standard_normal((STEPS, 1, FEATURES)).astype(np.float32)
    row = {"cell": "lstm stepping", "hidden": hidden}
    if side != "torch":
        executor = Executor(build("lstm", hidden), dtype=np.float32)
        stepper = Stepper(executor, Batch({"x": x}))

        def ours():
            if stepper.done:
                stepper.reset()
            stepper.step()

    if torch is not None and side != "ours":
        cell, head = torch.nn.LSTMCell(FEATURES, hidden), torch.nn.Linear(hidden, OUT)
        xt = torch.from_numpy(x)
        state = [torch.zeros(1, hidden), torch.zeros(1, hidden)]
        position = [0]

        def theirs():
            with torch.no_grad():
                h, c = cell(xt[position[0] % STEPS], (state[0], state[1]))
                head(h)
                state[0], state[1] = h, c
                position[0] += 1

    if side == "ours" or torch is None:
        row["ours_ms"] = median_ms(ours, repeat * 200)
    elif side == "torch":
        row["torch_ms"] = median_ms(theirs, repeat * 200)
    else:
        row["ours_ms"], row["torch_ms"] = paired_ms(ours, theirs, repeat * 200, block=100, settle=1)
    return [row]


def training_batch() -> tuple[np.ndarray, np.ndarray]:
    """The inputs and targets every training step is timed on: seeded, so that both sides, and
    each process of ``--apart``, time the same numbers."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((STEPS, BATCH, FEATURES)).astype(np.float32)
    y = rng.standard_normal((STEPS, BATCH, OUT)).astype(np.float32)
    return x, y


def repeats(hidden: int, repeat: int) -> int:
    """How many times a training step of this size is timed: half as many (at least 5) from
    hidden 256, whose steps take longest."""
    return repeat if hidden < 256 else max(5, repeat // 2)


def one_side(side: str, hiddens, repeat: int, floor: bool) -> list[dict]:
    """Every row timed for one side alone, this process running nothing of the other's."""
    x, y = training_batch()
    rows = []
    for cell in ("rnn", "lstm", "gru"):
        for hidden in hiddens:
            times = repeats(hidden, repeat)
            if side == "torch":
                ms = median_ms(torch_train_step(cell, hidden, x, y), times)
                rows.append({"cell": cell, "hidden": hidden, "torch_ms": ms})
                for threads in (1, 2) if floor else ():  # against the same whole step
                    rows.append(
                        {"cell": f"{cell} products {threads}t", "hidden": hidden, "torch_ms": ms}
                    )
                continue
            # warm-up: every large loop has tried both thread counts (two_cores) before timing
            ms = median_ms(ours_train_step(cell, hidden, x, y), times, warmup=12)
            rows.append({"cell": cell, "hidden": hidden, "ours_ms": ms})
            for threads in (1, 2) if floor else ():
                products = median_ms(products_only(cell, hidden, threads), times)
                rows.append(
                    {"cell": f"{cell} products {threads}t", "hidden": hidden, "ours_ms": products}
                )
    return rows + stepping_rows(repeat, side)


def apart(args, rounds: int) -> list[dict]:
    """``rounds`` times: this script's rows for our side alone in a process of its own, then
    PyTorch's alone in another; each row's ratio in each round, and their range."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--json",
        "--repeat",
        str(args.repeat),
    ]
    command += ["--loop-threads", str(args.loop_threads)]
    command += ["--quick"] * args.quick + ["--floor"] * args.floor
    by_row: dict[tuple, dict] = {}
    for _ in range(rounds):
        found = {}
        for side in ("ours", "torch"):
            out = subprocess.run([*command, "--side", side], capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(out.stderr)
            for row in json.loads(out.stdout):
                found.setdefault((row["cell"], row["hidden"]), {}).update(row)
        for key, row in found.items():
            entry = by_row.setdefault(key, {"cell": key[0], "hidden": key[1], "rounds": []})
            entry["rounds"].append((row["ours_ms"], row.get("torch_ms")))
    rows = []
    for entry in by_row.values():
        ours_ms = statistics.median(o for o, _ in entry["rounds"])
        ratios = [o / t for o, t in entry["rounds"] if t]
        theirs = [t for _, t in entry["rounds"] if t]
        rows.append(
            {
                "cell": entry["cell"],
                "hidden": entry["hidden"],
                "ours_ms": ours_ms,
                "torch_ms": statistics.median(theirs) if theirs else None,
                "ratio_range": (round(min(ratios), 2), round(max(ratios), 2)) if ratios else None,
                "ratio": statistics.median(ratios) if ratios else None,
            }
        )
    return rows


def kernels(loop_threads: int) -> str:
    """Which BLAS and threads each side uses, as threadpoolctl reports them."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl is not installed: BLAS kernel unknown"
    found = [
        f"{info['internal_api']} {info.get('version')} {info.get('architecture', '')} "
        f"({info['num_threads']} threads)"
        for info in threadpool_info()
        if info["user_api"] == "blas"
    ]
    torch_side = "" if torch is None else f"; PyTorch {torch.get_num_threads()} threads"
    return (
        f"NumPy's BLAS: {', '.join(found) or 'none found'}; ours: {loop_threads} BLAS "
        f"thread(s) in large cells' loops where they pay, 1 elsewhere{torch_side}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="hidden 32 and 128 only")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON list")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--floor", action="store_true", help="also time the matrix products alone (a lower bound)"
    )
    parser.add_argument(
        "--loop-threads",
        type=int,
        choices=(1, 2),
        default=2,
        help="2: as the CLI and the training process run (both cores where they pay); "
        "1: as the editor's own passes run",
    )
    parser.add_argument(
        "--apart",
        type=int,
        metavar="ROUNDS",
        help="time each side alone in a process of its own, alternating, ROUNDS times",
    )
    parser.add_argument("--side", choices=("ours", "torch"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.json:
        print(kernels(args.loop_threads))  # before configure() sets the process's BLAS to one
    try:
        runtime().configure(loop_threads=args.loop_threads)
    except TypeError:  # an earlier version (PYTHONPATH): one thread, as its CLI ran
        runtime().configure()
    hiddens = (32, 128) if args.quick else (8, 32, 128, 256)
    if args.side:
        print(json.dumps(one_side(args.side, hiddens, args.repeat, args.floor)))
        return 0
    if args.apart:
        rows = apart(args, args.apart)
        if args.json:  # each row with its rounds' median ratio and their range
            print(json.dumps(rows))
            return 0
        print(
            f"each side alone in its own process, {args.apart} rounds; ratio: median "
            "[lowest-highest] of the rounds"
        )
        print(f"{'cell':<18}{'hidden':>7}{'ours ms':>10}{'torch ms':>10}{'ratio':>8}  range")
        for row in rows:
            torch_ms = "-" if row["torch_ms"] is None else f"{row['torch_ms']:.3f}"
            ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
            low, high = row["ratio_range"] or (None, None)
            low_high = "" if low is None else f"{low:.2f}-{high:.2f}"
            print(
                f"{row['cell']:<18}{row['hidden']:>7}{row['ours_ms']:>10.3f}{torch_ms:>10}"
                f"{ratio:>8}  {low_high}"
            )
        return 0
    x, y = training_batch()
    rows = []
    for cell in ("rnn", "lstm", "gru"):
        for hidden in hiddens:
            repeat = repeats(hidden, args.repeat)
            ours = ours_train_step(cell, hidden, x, y)
            row = {"cell": cell, "hidden": hidden}
            if torch is None:
                row["ours_ms"] = median_ms(ours, repeat)
            else:
                theirs = torch_train_step(cell, hidden, x, y)
                row["ours_ms"], row["torch_ms"] = paired_ms(ours, theirs, repeat, block=2, settle=1)
            rows.append(row)
            for threads in (1, 2) if args.floor else ():
                floor = {"cell": f"{cell} products {threads}t", "hidden": hidden}
                products = products_only(cell, hidden, threads)
                if torch is None:
                    floor["ours_ms"] = median_ms(products, repeat)
                else:
                    floor["ours_ms"], floor["torch_ms"] = paired_ms(
                        products, theirs, repeat, block=2, settle=1
                    )
                rows.append(floor)
    rows += stepping_rows(args.repeat)
    for row in rows:
        torch_ms = row.get("torch_ms")
        row["torch_ms"] = None if torch_ms is None else round(torch_ms, 3)
        row["ratio"] = None if torch_ms is None else round(row["ours_ms"] / torch_ms, 2)
        row["ours_ms"] = round(row["ours_ms"], 3)
    if args.json:
        print(json.dumps(rows))
        return 0
    if torch is None:
        print("PyTorch is not installed: our times only (pip install torch==2.13.0 to compare).")
    print(
        f"training step: batch {BATCH}, {STEPS} steps, input {FEATURES}, float32; "
        f"stepping: one sequence, one step"
    )
    print(f"{'cell':<18}{'hidden':>7}{'ours ms':>10}{'torch ms':>10}{'ratio':>8}")
    for row in rows:
        torch_ms = "-" if row["torch_ms"] is None else f"{row['torch_ms']:.3f}"
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
        print(f"{row['cell']:<18}{row['hidden']:>7}{row['ours_ms']:>10.3f}{torch_ms:>10}{ratio:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
