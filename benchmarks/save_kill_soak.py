"""Kill -9 the app's save, again and again, and count what reopening finds.

    python benchmarks/save_kill_soak.py [--trials 100] [--megabytes 8] [--seed 0]

A child process opens a project of Sentence sentiment whose LSTM has about ``--megabytes`` of
weights, and saves it over and over as ``GraphDocument.save`` does (the project, its ``.npz``
and its ``.runs.json``), each save a new generation: the title, every weight and the run's label
all say which. The parent kills it with SIGKILL at a random moment of a save, then opens the
set as the app does and sorts what it finds:

* consistent — the project, its weights and its runs are of one generation;
* left out, said — a companion of another generation was not loaded, with a note;
* MIXED, SILENT — weights or runs of another generation loaded as the project's (the bug);
* unreadable — the project file itself could not be read.

It also counts the temporaries that killed saves left beside the project, and, at the end,
whether a save once they are stale removes them (their times are set back past
``files.companions.STALE_SECONDS``; waiting ten minutes would say the same). A soak, not a
test: it takes a few minutes and its figures depend on where the kills land.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

from rnn_builder.files.serialization import load
from rnn_builder.files.templates import new_project
from rnn_builder.training.curve import LossCurve
from rnn_builder.training.runs import RunRecord
from ui.editor.document import GraphDocument
from ui.editor.project_files import parameter_shapes

NAME = "soak.json"


def hidden_size(megabytes: float) -> int:
    """An LSTM reading 16-wide embeddings with about ``megabytes`` of float32 weights."""
    hidden = 8
    while 4 * 4 * hidden * (16 + hidden + 2) < megabytes * 1e6:
        hidden += 8
    return hidden


def child(folder: Path, megabytes: float) -> None:
    """Save generation after generation, saying each one done on stdout."""
    path = folder / NAME
    if path.exists():
        document = GraphDocument(load(path), path)
    else:
        document = GraphDocument(new_project("many_to_one"))
        document.set_param("reader", "hidden_size", hidden_size(megabytes))
    generation = int(document.project.title.split()[-1]) if path.exists() else 0
    shapes = parameter_shapes(document.graph)
    while True:
        generation += 1
        document.set_project_text("title", f"generation {generation}")
        document.set_weights(
            {name: np.full(shape, generation, np.float32) for name, shape in shapes.items()}
        )
        curve = LossCurve.from_points([1], [0.5])
        document.runs = [RunRecord(generation, f"run {generation}", {}, curve)]
        start = time.perf_counter()
        document.save(path)
        print(f"saved {generation} {time.perf_counter() - start:.4f}", flush=True)


def classify(folder: Path) -> str:
    path = folder / NAME
    try:
        document = GraphDocument(load(path), path)
    except Exception as error:  # what the app would refuse to open
        return f"unreadable ({type(error).__name__})"
    generation = int(document.project.title.split()[-1])
    notes = " ".join(document.load_problems)
    found = []
    if document.weights:
        found.append(int(next(iter(document.weights.values())).flat[0]))
    if document.runs:
        found.append(int(document.runs[-1].label.split()[-1]))
    if any(other != generation for other in found):
        return "MIXED, SILENT"
    if "not the ones this project was saved with" in notes or "missing" in notes:
        return "left out, said"
    if document.weights and document.runs:
        return "consistent"
    return f"other ({notes or 'nothing beside it'})"


def temporaries(folder: Path) -> list[Path]:
    return sorted(folder.glob(".soak.*.tmp"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--megabytes", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args.megabytes)
        return
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="save_kill_soak_"))
    outcomes: collections.Counter[str] = collections.Counter()
    most_temporaries, most_bytes = 0, 0
    durations: list[float] = []
    command = [sys.executable, __file__, "--child", str(folder), "--megabytes", str(args.megabytes)]
    for trial in range(args.trials):
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        line = process.stdout.readline()  # one whole save first: then kill within the next
        if not line.startswith("saved"):
            process.kill()
            raise SystemExit(f"the saving process did not start: {line!r}")
        duration = float(line.split()[2])
        durations.append(duration)
        time.sleep(rng.uniform(0.0, 1.2 * duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        outcomes[classify(folder)] += 1
        left = temporaries(folder)
        most_temporaries = max(most_temporaries, len(left))
        most_bytes = max(most_bytes, sum(p.stat().st_size for p in left))
        print(f"trial {trial + 1}: {dict(outcomes)}", end="\r", flush=True)
    print()
    left = temporaries(folder)
    past = time.time() - 3600
    for stale in left:
        os.utime(stale, (past, past))
    path = folder / NAME
    GraphDocument(load(path), path).save(path)  # a save once they are stale
    print(f"{args.trials} kills during saves of {args.megabytes:g} MB of weights ")
    print(f"(a save took {np.median(durations) * 1e3:.0f} ms, median) in {folder}:")
    for outcome, count in outcomes.most_common():
        print(f"  {outcome:40s} {count}")
    print(
        f"temporaries beside the project: at most {most_temporaries} "
        f"({most_bytes / 1e6:.1f} MB) during the soak, {len(left)} at its end, "
        f"{len(temporaries(folder))} after a save once they were stale"
    )


if __name__ == "__main__":
    main()
