"""A text's data: the peak memory and time to make it, against the file's size.

    python benchmarks/text_memory.py [--megabytes 19.9] [--single-line-megabytes 15]

Writes two texts just under the 20 MB cap on text files (lines of words, and one line with no
break), then, in a fresh process each (so that the peak is this work's alone): makes the data
of a project that trains a language model on the file (``training.tasks.load_dataset``: read,
alphabet, ids, windows) and the batch of its first training step. Prints seconds, the peak
resident memory over the process's start (``ru_maxrss`` after the imports) and that peak as a
multiple of the file's size. Target (issue 22, item 8): ≤ 10× the file; it was 150×
(2.96 GB and 25 s for 19.9 MB).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = (
    "the a this my our hen cat dog cow sheep king queen jack jill hill water well pail crown "
    "fell down came tumbling after up went to fetch of and sat on wall had great fall all "
    "horses men could not put together again little boy blue come blow your horn"
).split()


def write_text(path: Path, megabytes: float, single_line: bool, seed: int = 0) -> None:
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as stream:
        while written < target:
            words = rng.choices(WORDS, k=rng.randrange(5, 12))
            line = " ".join(words) + (" " if single_line else ",\n")
            line = line[: target - written]
            stream.write(line)
            written += len(line)


def measure(path: str) -> dict:
    """In this process: the project's data for one training step; time and peak memory."""
    import resource
    import time

    import numpy as np

    from rnn_builder.files.project import DatasetReference
    from rnn_builder.files.templates import new_project
    from rnn_builder.graph.validation import validate
    from rnn_builder.training.tasks import load_dataset

    project = new_project("stacked_lstm")
    project.set_dataset(DatasetReference("text", path, {}))
    report = validate(project.graph)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    dataset = load_dataset(project)
    made = time.perf_counter() - start
    rng = np.random.default_rng(project.training.seed)
    batch = next(dataset.train.batches(project.training.batch_size, rng, report, project.graph))
    total = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "windows": len(dataset.train) + len(dataset.validation),
        "data_seconds": round(made, 2),
        "first_batch_seconds": round(total, 2),
        "peak_bytes_over_start": peak - before,
        "batch_shape": list(next(iter(batch.inputs.values())).shape),
    }


def run(path: Path) -> dict:
    child = subprocess.run(
        [sys.executable, __file__, "--measure", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(child.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=19.9)
    parser.add_argument("--single-line-megabytes", type=float, default=15.0)
    parser.add_argument("--measure", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    with tempfile.TemporaryDirectory() as folder:
        for name, megabytes, single in (
            ("lines.txt", args.megabytes, False),
            ("one_line.txt", args.single_line_megabytes, True),
        ):
            path = Path(folder) / name
            write_text(path, megabytes, single)
            size = path.stat().st_size
            result = run(path)
            peak = result["peak_bytes_over_start"]
            print(
                f"{name:<12} {size / 1e6:5.1f} MB, {result['windows']:,} windows: data in "
                f"{result['data_seconds']:.2f} s, first batch at "
                f"{result['first_batch_seconds']:.2f} s, peak {peak / 1e6:,.0f} MB over start = "
                f"{peak / size:.1f}× the file (target ≤ 10×)"
            )


if __name__ == "__main__":
    main()
