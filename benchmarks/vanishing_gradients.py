"""Vanishing gradients, shown: a tanh RNN and an LSTM on the adding problem at 100 steps.

    python benchmarks/vanishing_gradients.py [--steps 100] [--epochs 6] [--json]

Both graphs are sequence input → cell (32 units) → h_n → Dense(1) → MSE, trained alike. For
each, the final validation MSE (predicting the mean scores about 0.167) and the ratio of the
loss gradient's norm at the hidden state of the first step to that at the last step, averaged
over the last tenth of training: the plain RNN's gradient fades by orders of magnitude on its
way back through time, so the early marked number never teaches it anything; the LSTM's does
not.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.runtime import runtime
from rnn_builder.files.project import TrainingSettings
from rnn_builder.graph.model import Graph
from rnn_builder.training.tasks import TASKS
from rnn_builder.training.trainer import Trainer


def build(cell: str) -> Graph:
    graph = Graph()
    graph.add_node("sequence_input", node_id="values", params={"features": 2})
    graph.add_node(cell, node_id="memory", params={"hidden_size": 32})
    graph.add_node("dense", node_id="readout", params={"units": 1})
    graph.add_node("output", node_id="total", params={"loss": "mse", "target": "sum"})
    graph.connect("values", "y", "memory", "x")
    graph.connect("memory", "h_n", "readout", "x")
    graph.connect("readout", "y", "total", "x")
    return graph


def run(cell: str, steps: int, epochs: int) -> dict:
    dataset = TASKS["adding"].generate(0, {"steps": steps})
    settings = TrainingSettings(epochs=epochs, batch_size=64, learning_rate=0.01)
    executor = Executor(build(cell))
    ratios = []

    def record(report):
        norms = report.state_grad_norms.get("memory", {}).get("forward")
        if norms:
            ratios.append(norms[0] / max(norms[-1], 1e-30))

    result = Trainer(executor, dataset, settings, record, report_every=0.0).train()
    tail = np.array(ratios[-max(1, len(ratios) // 10) :])
    # geometric mean; a gradient that underflowed to zero in float32 stays zero
    ratio = 0.0 if (tail == 0).any() else float(np.exp(np.mean(np.log(tail))))
    return {
        "cell": cell,
        "steps": steps,
        "val_mse": result.val_loss,
        "first_to_last_gradient": ratio,
        "seconds": round(result.seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runtime().configure()  # as the app and the CLI do
    rows = [run(cell, args.steps, args.epochs) for cell in ("rnn", "lstm")]
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"adding problem, {args.steps} steps (predicting the mean: MSE about 0.167)")
    print(f"{'cell':<6}{'val MSE':>10}{'|dL/dh_1| / |dL/dh_T|':>24}{'seconds':>9}")
    for row in rows:
        ratio = row["first_to_last_gradient"]
        shown = f"{ratio:.2e}" if ratio > 0 else "0 (vanished)"
        print(f"{row['cell']:<6}{row['val_mse']:>10.4f}{shown:>24}{row['seconds']:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
