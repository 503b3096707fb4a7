"""Is the sentiment network's p a confidence? Reliability on validation sentences, and p on
inputs unlike them.

    python benchmarks/calibration.py [--seed S]

Trains a fresh ``many_to_one`` project with ``python -m rnn_builder train`` (its defaults, as a
user would), then on the validation split of the training seed and of another seed prints the
accuracy, the mean p of the chosen class, the expected calibration error (10 equal bins of p
from 0.5 to 1, weighted by their share of examples) and how many predictions round to p = 1.00;
then p for a few inputs unlike the training sentences (one word, a word repeated), where the
right answer is "either" or the opposite of what a word alone would say.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rnn_builder.engine.executor import Executor  # noqa: E402
from rnn_builder.engine.runtime import runtime  # noqa: E402
from rnn_builder.files.serialization import load  # noqa: E402
from rnn_builder.files.weights_file import read_weights  # noqa: E402
from rnn_builder.training.data import make_batch  # noqa: E402
from rnn_builder.training.tasks import TASKS, load_dataset  # noqa: E402

UNLIKE_TRAINING = ["good", "bad", "the", "not", "the film was", "good bad good bad"]


def probabilities(executor: Executor, examples: list[dict]) -> np.ndarray:
    chunks = []
    for start in range(0, len(examples), 256):
        batch = make_batch(examples[start : start + 256], executor.report, executor.graph)
        chunks.append(np.asarray(executor.forward(batch, train=False).predictions["sentiment"]))
    return np.concatenate(chunks)


def reliability(p: np.ndarray, labels: np.ndarray) -> dict:
    chosen, confidence = p.argmax(1), p.max(1)
    right = chosen == labels
    bins = np.clip(np.digitize(confidence, np.linspace(0.5, 1.0, 11)) - 1, 0, 9)
    ece = sum(
        abs(right[bins == b].mean() - confidence[bins == b].mean()) * (bins == b).mean()
        for b in range(10)
        if (bins == b).any()
    )
    return {
        "examples": len(labels),
        "accuracy": float(right.mean()),
        "mean p": float(confidence.mean()),
        "ECE": float(ece),
        "shown as p = 1.00": float((confidence >= 0.995).mean()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=12345, help="a second validation split")
    args = parser.parse_args()
    runtime().configure()  # as the app and the CLI do
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sentiment.json"
        python = [sys.executable, "-m", "rnn_builder"]
        subprocess.run([*python, "new", "many_to_one", "-o", str(path)], check=True, cwd=ROOT)
        subprocess.run([*python, "train", str(path)], check=True, cwd=ROOT)
        project = load(path)
        weights = read_weights(path.with_suffix(".npz"))
    executor = Executor(project.graph, dtype=np.float32, seed=project.training.seed)
    executor.set_parameters({k: np.asarray(v, np.float32) for k, v in weights.items()})
    for seed in (project.training.seed, args.seed):
        examples = list(load_dataset(project, seed=seed).validation.examples)
        labels = np.array([int(e["sentiment"]) for e in examples])
        measured = reliability(probabilities(executor, examples), labels)
        print(f"validation, seed {seed}: " + ", ".join(f"{k} {v:.6g}" for k, v in measured.items()))
    task = TASKS["sentiment"]
    for text in UNLIKE_TRAINING:
        p = probabilities(executor, [dict(task.encode(text, {}), sentiment=0)])[0]
        print(f"{text!r}: {task.decode(p, {}, {})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
