"""The memory estimate (``rnn_builder.graph.footprint``) against what training really holds.

    python benchmarks/memory_estimate.py [--quick]

For templates with bigger cells and for graphs built here, runs two real training steps (or, for
the forward-only rows, an evaluation) under ``tracemalloc`` and prints the traced peak beside
the estimate validation makes before anything runs, and their ratio. NumPy reports its arrays
to tracemalloc, so the traced peak is what the arrays held at once; Python's own objects are in
it too (they dominate only the smallest rows). ``tests/test_footprint.py`` holds a few of these
rows within a factor; this prints them all.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_builder.engine.executor import Executor
from rnn_builder.files.project import TrainingSettings
from rnn_builder.files.templates import new_project
from rnn_builder.graph.budget import size_text
from rnn_builder.graph.footprint import Workload, estimate_workload
from rnn_builder.graph.model import Edge, Graph
from rnn_builder.graph.validation import validate
from rnn_builder.training.data import Dataset, Split
from rnn_builder.training.tasks import load_dataset
from rnn_builder.training.trainer import Trainer, evaluate
from rnn_builder.training.workload import workload_of


def traced_peak(work) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        work()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def template(name: str, batch: int, params=None, options=None):
    project = new_project(name)
    for node, values in (params or {}).items():
        for key, value in values.items():
            project.graph.set_param(node, key, value)
    project.training.batch_size = batch
    project.dataset.options.update(options or {})
    data = load_dataset(project)
    small = Dataset(
        data.name,
        data.spec,
        Split(data.train.examples[: 2 * batch]),
        Split(data.validation.examples[:batch]),
        data.metric,
        data.target,
        data.info,
    )
    return project.graph, small, project.training, workload_of(project)


def built(cell: str, hidden: int, steps: int, batch: int, units: int = 512, **options):
    """x → cell → Dense(units, tanh) → Dense(4) → MSE, at every step or from h_n."""
    per_step = options.get("per_step", True)
    graph = Graph()
    graph.add_node("sequence_input", node_id="x", params={"features": 8, "steps": steps})
    graph.add_node(
        cell,
        node_id="cell",
        params={"hidden_size": hidden, "bidirectional": options.get("bidirectional", False)},
    )
    graph.add_node("dense", node_id="wide", params={"units": units, "activation": "tanh"})
    graph.add_node("dense", node_id="out", params={"units": 4})
    graph.add_node("output", node_id="y", params={"loss": "mse", "target": "y"})
    read = "y" if per_step else "h_n"
    for edge in (
        ("x", "y", "cell", "x"),
        ("cell", read, "wide", "x"),
        ("wide", "y", "out", "x"),
        ("out", "y", "y", "x"),
    ):
        graph.add_edge(Edge(*edge))
    rng = np.random.default_rng(0)
    shape = (steps, 4) if per_step else (4,)
    examples = [
        {"x": rng.standard_normal((steps, 8)), "y": rng.standard_normal(shape)}
        for _ in range(2 * batch)
    ]
    data = Dataset("built", None, Split(examples), Split(examples[:batch]), "mse", "y", {})
    optimizer = options.get("optimizer", "adam")
    settings = TrainingSettings(optimizer=optimizer, batch_size=batch)
    training = options.get("train", True)
    workload = Workload(batch, {"x": steps}, optimizer if training else None)
    return graph, data, settings, workload


ROWS = [
    ("sentiment (template)", lambda: template("many_to_one", 32)),
    (
        "sentiment, LSTM 256, batch 256",
        lambda: template(
            "many_to_one", 256, {"reader": {"hidden_size": 256}, "embed": {"dimension": 128}}
        ),
    ),
    (
        "tagger, RNN 256, batch 256",
        lambda: template("many_to_many_equal", 256, {"tagger": {"hidden_size": 256}}),
    ),
    (
        "bidirectional GRU 256, batch 256",
        lambda: template("bidirectional_tagger", 256, {"tagger": {"hidden_size": 256}}),
    ),
    ("stacked LSTM (template)", lambda: template("stacked_lstm", 32)),
    (
        "stacked LSTM 256, batch 64",
        lambda: template(
            "stacked_lstm", 64, {"layer_1": {"hidden_size": 256}, "layer_2": {"hidden_size": 256}}
        ),
    ),
    (
        "adding problem, LSTM 256, 200 steps, batch 128",
        lambda: template("adding_problem", 128, {"memory": {"hidden_size": 256}}, {"steps": 200}),
    ),
    (
        "encoder-decoder feedback, GRU 256, batch 256",
        lambda: template(
            "encoder_decoder_feedback",
            256,
            {"encoder": {"hidden_size": 256}, "decoder": {"hidden_size": 256}},
        ),
    ),
    ("LSTM 256 → Dense 512, 100 steps, batch 64", lambda: built("lstm", 256, 100, 64)),
    ("GRU 256 → Dense 512, 400 steps, batch 32", lambda: built("gru", 256, 400, 32)),
    ("RNN 256 → Dense 512, 100 steps, batch 64", lambda: built("rnn", 256, 100, 64)),
    (
        "bidirectional LSTM 256, 100 steps, batch 64",
        lambda: built("lstm", 256, 100, 64, bidirectional=True),
    ),
    (
        "LSTM 512 → Dense 1024, 50 steps, batch 16",
        lambda: built("lstm", 512, 50, 16, units=1024),
    ),
    ("LSTM 1024, 20 steps, batch 8 (weights)", lambda: built("lstm", 1024, 20, 8, units=64)),
    ("LSTM 256, SGD", lambda: built("lstm", 256, 100, 64, optimizer="sgd")),
    ("LSTM 256, h_n read, 300 steps", lambda: built("lstm", 256, 300, 64, per_step=False)),
    ("evaluating: LSTM 256, 100 steps, batch 64", lambda: built("lstm", 256, 100, 64, train=False)),
    (
        "evaluating: GRU 256, 400 steps, batch 128",
        lambda: built("gru", 256, 400, 128, train=False),
    ),
]
QUICK = {0, 1, 3, 8, 16}


def measure(make) -> tuple[int, int]:
    graph, data, settings, workload = make()
    report = validate(graph)
    estimate = estimate_workload(graph, workload, report).total

    def work() -> None:
        executor = Executor(graph, seed=0, report=report)
        if workload.optimizer is None:
            evaluate(executor, data, data.validation, workload.batch_size)
        else:
            Trainer(executor, data, settings, None, report_every=1e9, max_steps=2).train()

    return estimate, traced_peak(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="five rows only")
    args = parser.parse_args()
    print(f"{'what':48s} {'estimate':>10s} {'traced':>10s}  ratio")
    ratios = []
    for number, (name, make) in enumerate(ROWS):
        if args.quick and number not in QUICK:
            continue
        estimate, actual = measure(make)
        ratios.append(estimate / actual)
        print(
            f"{name:48s} {size_text(estimate):>10s} {size_text(actual):>10s}  "
            f"{estimate / actual:.2f}",
            flush=True,
        )
    print(f"estimate / traced: {min(ratios):.2f} to {max(ratios):.2f}")


if __name__ == "__main__":
    main()
