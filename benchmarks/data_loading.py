"""Reading a person's data: a large labelled CSV read, tokenised and batched, its time and peak
memory, and the file's bytes read (the first training step must not need a second pass).

    python benchmarks/data_loading.py [--rows 1000000] [--keep FILE]

Writes a labelled CSV of short reviews (about 100 bytes a row: a million rows is ~100 MB), then,
in a fresh process each (so that the peak is this work's alone): reads it as ``labelled`` data
(``training.summary.read_data``: the reader, the tokeniser, the vocabulary, the split) and
makes the first training batch. Prints seconds, peak resident memory over the process's start,
and the bytes the reader asked the file for against its size. Targets (issue 21): ≤ 20 s,
≤ 1.5 GB, one pass.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = (
    "the a this my our film book soup hotel staff music room plot ending service was is "
    "very really quite not never good great bad awful dull fine lovely poor but and i think "
    "did it at all so"
).split()


def write_file(path: Path, rows: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as stream:
        stream.write("review,sentiment\n")
        for _ in range(rows):
            words = rng.choices(WORDS, k=rng.randrange(12, 24))
            label = "positive" if rng.random() < 0.5 else "negative"
            stream.write(f"{' '.join(words)},{label}\n")


def measure(path: str) -> dict:
    """In this process: read, tokenise, split, batch once; time, memory, bytes read."""
    import resource

    from rnn_builder.files import data_readers

    requested = [0]
    real_open = open

    class Counting:
        def __init__(self, stream) -> None:
            self.stream = stream

        def read(self, size=-1):
            block = self.stream.read(size)
            requested[0] += len(block)
            return block

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

    data_readers.open = lambda file, mode="r", *a, **k: Counting(real_open(file, mode, *a, **k))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    from rnn_builder.training.data import make_batch
    from rnn_builder.training.summary import read_data

    _task, dataset = read_data("labelled", path, {})
    read = time.perf_counter() - start
    batch = make_batch(dataset.train.examples[:32])
    total = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "rows": len(dataset.train) + len(dataset.validation),
        "vocabulary": len(dataset.info["options"]["vocabulary"]),
        "read_seconds": round(read, 2),
        "first_batch_seconds": round(total, 2),
        "peak_bytes_over_start": peak - before,
        "bytes_read": requested[0],
        "batch_shape": list(batch.inputs["text"].shape),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", metavar="FILE", help="write the CSV here and keep it")
    parser.add_argument("--measure", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    folder = tempfile.TemporaryDirectory()
    path = Path(args.keep) if args.keep else Path(folder.name) / "reviews.csv"
    if not path.exists():
        write_file(path, args.rows)
    size = path.stat().st_size
    child = subprocess.run(
        [sys.executable, __file__, "--measure", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(child.stdout)
    print(f"file: {size / 1e6:.1f} MB, {result['rows']:,} rows, vocabulary {result['vocabulary']}")
    print(f"read, tokenised, split:   {result['read_seconds']:.2f} s   (target ≤ 20 s)")
    print(f"and the first batch:      {result['first_batch_seconds']:.2f} s")
    peak = result["peak_bytes_over_start"]
    print(f"peak memory over start:   {peak / 1e9:.2f} GB   (target ≤ 1.5 GB)")
    print(
        f"bytes read from the file: {result['bytes_read'] / size:.2f} × its size   (one pass: 1.00)"
    )


if __name__ == "__main__":
    main()
