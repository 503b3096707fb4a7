"""How long ONNX export takes per template, and ONNX Runtime's inference against our executor.

    python benchmarks/export.py [--repeat N] [--batch B] [--threads N] [--json]

For every template: the median time of ``export_onnx`` (building and checking the model with
``onnx.checker.check_model(full_check=True)``; target < 1 s each), then one batch of ``--batch``
validation examples (padded to the longest) through our executor's ``forward(train=False)`` and
through an ONNX Runtime session of the export, both on ``--threads`` threads (default 1: the
executor runs its BLAS on one). The ratio is ONNX Runtime's time over ours (below 1: ONNX
Runtime is faster). The largest difference of the predictions is printed beside it.

Then the PyTorch export: the median time of ``export_pytorch`` writing the whole folder (model.py,
weights.safetensors, data.npz with the task's data made afresh, train.py, README.md) into a
temporary folder, and of generating ``model.py``'s source alone. No torch is needed for either.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import onnxruntime

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.runtime import runtime
from rnn_builder.export.onnx import export_onnx
from rnn_builder.export.pytorch import export_pytorch
from rnn_builder.export.pytorch_model import model_source
from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.training.data import make_batch
from rnn_builder.training.tasks import make_dataset


def median_ms(function, repeat: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def measure(name: str, repeat: int, batch_size: int, threads: int) -> dict:
    project = new_project(name)
    executor = Executor(project.graph, seed=0)
    export_ms = median_ms(lambda: export_onnx(executor), repeat, warmup=1)
    model = export_onnx(executor)
    graph, report = executor.graph, executor.report
    examples = make_dataset(project).validation.examples
    inputs = [n.id for n in graph if n.type_name in ("sequence_input", "vector_input")]
    chosen = [
        {k: np.asarray(examples[i % len(examples)][k]) for k in inputs} for i in range(batch_size)
    ]
    batch = make_batch(chosen, report, graph)
    batch.steps = {a.id: a.default_steps for a in report.axes.values() if a.kind != "input"}
    feeds = {}
    for key, value in batch.inputs.items():
        value = np.asarray(value)
        feeds[key] = value.astype(np.int64 if value.dtype.kind in "iu" else np.float32)
    for node in graph:
        if node.type_name == "sequence_input":
            feeds[f"{node.id}_lengths"] = np.array([len(e[node.id]) for e in chosen], np.int32)
    for axis, steps in batch.steps.items():
        feeds[f"{axis}_steps"] = np.array(steps, np.int64)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # errors only: ONNX Runtime warns that the optional <input>_lengths (an initializer that is
    # also an input) is not constant-folded, which is the point of it
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    ours_ms = median_ms(lambda: executor.forward(batch, train=False), repeat)
    ort_ms = median_ms(lambda: session.run(None, feeds), repeat)
    expected = executor.forward(batch, train=False).predictions
    names = [o.name for o in model.graph.output]
    got = dict(zip(names, session.run(names, feeds), strict=True))
    difference = max(float(np.abs(got[k] - v).max()) for k, v in expected.items())
    pytorch_ms = median_ms(lambda: _export_folder(project, executor), min(repeat, 3), warmup=0)
    source_ms = median_ms(lambda: model_source(executor, project.title, ""), repeat)
    return {
        "template": name,
        "export_ms": export_ms,
        "executor_ms": ours_ms,
        "onnxruntime_ms": ort_ms,
        "ratio": ort_ms / ours_ms,
        "max_difference": difference,
        "pytorch_ms": pytorch_ms,
        "pytorch_source_ms": source_ms,
    }


def _export_folder(project, executor) -> None:
    parent = Path(tempfile.mkdtemp(prefix="rnn-builder-bench-"))
    try:
        export_pytorch(project, executor, parent / "torch")
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON list")
    args = parser.parse_args()
    runtime().configure()  # as the app and the CLI do
    rows = [measure(name, args.repeat, args.batch, args.threads) for name in TEMPLATES]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{'template':<26} {'export ms':>9} {'ours ms':>8} {'ORT ms':>8} {'ORT/ours':>8} "
        f"{'max diff':>9} {'torch ms':>9} {'model.py ms':>11}"
    )
    for row in rows:
        print(
            f"{row['template']:<26} {row['export_ms']:9.1f} {row['executor_ms']:8.2f} "
            f"{row['onnxruntime_ms']:8.2f} {row['ratio']:8.2f} {row['max_difference']:9.2g} "
            f"{row['pytorch_ms']:9.1f} {row['pytorch_source_ms']:11.2f}"
        )
    slow = [r["template"] for r in rows if r["export_ms"] >= 1000]
    print("export under 1 s for every template" if not slow else f"over 1 s: {', '.join(slow)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
