"""Stepping back costs less than a step, however far along the walk is.

Walks one example through an LSTM and a GRU of hidden 128 over 50 and 500 steps, then steps back
from the end to the start, and prints, per cell and length, the median time of a step, of a
step back, and of what a step back cost before it undid the step (a replay from the start to
the step before), with their ratios to a step. Run: ``python benchmarks/stepping_back.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.run import Batch
from rnn_builder.engine.runtime import runtime
from rnn_builder.engine.stepping import Stepper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_step import FEATURES, build


def measure(cell: str, steps: int, rounds: int = 5) -> dict:
    executor = Executor(build(cell, 128), dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((steps, 1, FEATURES)).astype(np.float32)
    stepper = Stepper(executor, Batch({"x": x}))
    forward, back, replay = [], [], []
    for _ in range(rounds):
        stepper.reset()
        start = time.perf_counter()
        stepper.run_to_end()
        forward.append((time.perf_counter() - start) / len(stepper.steps))
        start = time.perf_counter()
        while stepper.position:
            stepper.back()
        back.append((time.perf_counter() - start) / len(stepper.steps))
        stepper.run_to_end()
        start = time.perf_counter()
        stepper.reset()
        for _ in range(len(stepper.steps) - 1):
            stepper.step()
        replay.append(time.perf_counter() - start)
    step_ms = statistics.median(forward) * 1e3
    back_ms = statistics.median(back) * 1e3
    replay_ms = statistics.median(replay) * 1e3
    return {
        "cell": cell,
        "steps": steps,
        "step_ms": step_ms,
        "back_ms": back_ms,
        "back_over_step": back_ms / step_ms,
        "replay_ms": replay_ms,
        "replay_over_step": replay_ms / step_ms,
    }


def main() -> None:
    runtime().configure()  # as the app and the CLI do
    print(
        f"{'cell':6} {'T':>5} {'step ms':>9} {'back ms':>9} {'back/step':>10} {'replay/step':>12}"
    )
    for cell in ("lstm", "gru"):
        for steps in (50, 500):
            r = measure(cell, steps)
            print(
                f"{r['cell']:6} {r['steps']:>5} {r['step_ms']:>9.4f} {r['back_ms']:>9.4f} "
                f"{r['back_over_step']:>10.2f} {r['replay_over_step']:>12.0f}"
            )


if __name__ == "__main__":
    main()
