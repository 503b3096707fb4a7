"""Speed of this checkout against an earlier commit, both in this process, alternating.

    python benchmarks/against_commit.py REV [--quick] [--repeat N]

Ratios against PyTorch move by ±20 % from run to run on a shared machine, more than most
changes to the executor do; two runs of ``train_step.py`` before and after cannot tell a 5 %
slowdown from noise. This benchmark takes ``rnn_builder/`` as it was at ``REV`` (``git
archive``), imports it under another name, and times the same training step (the graph and
sizes of ``train_step.py``) and live stepping with both versions, in alternating blocks, so
both see the same machine. Each row: the median time before and after, and after / before
(below 1: this checkout is faster).
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rnn_builder.engine.threads import SHORT_SPIN, SPIN_VARIABLE  # noqa: E402 (no NumPy)

# OpenBLAS's short spin, as the CLI and the training process run: set before NumPy loads it
os.environ.setdefault(SPIN_VARIABLE, SHORT_SPIN)

import numpy as np  # noqa: E402
from train_step import build as train_step_graph  # noqa: E402
from train_step import training_batch  # noqa: E402

BEFORE = "rnn_before"
# where each name lives, newest layout first (the core was flat before it had folders)
PLACES = {
    "Executor": ("engine.executor", "executor"),
    "Batch": ("engine.run", "engine.executor", "executor"),
    "Adam": ("engine.optim", "optim"),
    "Graph": ("graph.model", "graph"),
    "Stepper": ("engine.stepping", "stepping"),
}


def extract(rev: str, into: Path) -> None:
    """``rnn_builder/`` at ``rev`` as the package ``rnn_before`` in ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "rnn_builder"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    package = into / BEFORE
    (into / "rnn_builder").rename(package)
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"\brnn_builder\b", BEFORE, text), encoding="utf-8")


def names(package: str) -> dict:
    found = {}
    for name, places in PLACES.items():
        for place in places:
            try:
                module = importlib.import_module(f"{package}.{place}")
            except ImportError:
                continue
            if hasattr(module, name):
                found[name] = getattr(module, name)
                break
        else:
            raise SystemExit(f"{package} has no {name} in any of {places}")
    return found


def configure(package: str, loop_threads: int) -> None:
    try:
        process = importlib.import_module(f"{package}.engine.runtime").runtime()
    except ImportError:  # from before the runtime
        return
    try:
        process.configure(loop_threads=loop_threads)
    except TypeError:  # from before the setting: one thread
        process.configure()


def build(api: dict, cell: str, hidden: int):
    return train_step_graph(cell, hidden, api["Graph"])


def train_step(api: dict, cell: str, hidden: int, x: np.ndarray, y: np.ndarray):
    executor = api["Executor"](build(api, cell, hidden), dtype=np.float32)
    optimizer = api["Adam"](executor.store.flat, executor.store.grad_flat, lr=1e-3)
    batch = api["Batch"]({"x": x}, {"y": y})

    def step():
        executor.backward(executor.forward(batch))
        optimizer.step()

    return step


def live_step(api: dict, x: np.ndarray):
    executor = api["Executor"](build(api, "lstm", 128), dtype=np.float32)
    stepper = api["Stepper"](executor, api["Batch"]({"x": x}))

    def step():
        if stepper.done:
            stepper.reset()
        stepper.step()

    return step


def paired_ms(before, after, repeat: int, block: int) -> tuple[float, float]:
    """Medians of blocks of ``block`` calls, the two alternating, each block after one untimed
    call."""
    for _ in range(3):
        before()
        after()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for function, sink in ((before, times[0]), (after, times[1])):
            function()
            start = time.perf_counter()
            for _ in range(block):
                function()
            sink.append((time.perf_counter() - start) / block)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the commit to compare against (e.g. HEAD~3, a hash)")
    parser.add_argument("--quick", action="store_true", help="hidden 32 and 128 only")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--loop-threads",
        type=int,
        choices=(1, 2),
        default=2,
        help="as train_step.py: 2 as the CLI runs, 1 as the editor's own passes (a version "
        "without the setting runs as its CLI did)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        extract(args.rev, Path(folder))
        sys.path.insert(0, folder)
        before, after = names(BEFORE), names("rnn_builder")
        for package in (BEFORE, "rnn_builder"):  # as each version's CLI configures its process
            configure(package, args.loop_threads)
        x, y = training_batch()
        print(f"against {args.rev}: training step as in train_step.py; stepping: one step")
        print(f"{'cell':<15}{'hidden':>7}{'before ms':>11}{'after ms':>10}{'after/before':>14}")
        rows = [
            (cell, hidden)
            for cell in ("rnn", "lstm", "gru")
            for hidden in ((32, 128) if args.quick else (8, 32, 128, 256))
        ]
        for cell, hidden in rows:
            repeat = args.repeat if hidden < 256 else max(5, args.repeat // 2)
            old_ms, new_ms = paired_ms(
                train_step(before, cell, hidden, x, y),
                train_step(after, cell, hidden, x, y),
                repeat,
                block=2,
            )
            print(f"{cell:<15}{hidden:>7}{old_ms:>11.3f}{new_ms:>10.3f}{new_ms / old_ms:>14.2f}")
        one = x[:, :1]
        old_ms, new_ms = paired_ms(
            live_step(before, one), live_step(after, one), args.repeat * 3, block=100
        )
        print(
            f"{'lstm stepping':<15}{128:>7}{old_ms:>11.4f}{new_ms:>10.4f}{new_ms / old_ms:>14.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
