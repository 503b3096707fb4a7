"""Each exercise as set, and with a change that meets it, trained by the command line as a student
would (``exercises NAME -o``, ``edit``, ``train``, ``evaluate``): the goal not met at the start,
met after the change, and the time each took.

    python benchmarks/exercises.py [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = [sys.executable, "-m", "rnn_builder"]

# exercise -> the change (edit's arguments) that meets it, in words and as arguments
SOLUTIONS = {
    "vanishing": (
        "an LSTM in place of the tanh RNN",
        ["--remove", "memory", "--add", "lstm", "memory", "--connect", "values", "memory.x",
         "--connect", "memory.h_n", "readout"],
    ),
    "future": ("a bidirectional cell", ["--set", "tagger", "bidirectional", "true"]),
    "exploding": (
        "gradient clipping at 1 and Adam at 0.01",
        ["--setting", "clip_norm", "1", "--setting", "optimizer", "adam",
         "--setting", "learning_rate", "0.01"],
    ),
}  # fmt: skip


def cli(*argv) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PYTHON, *map(str, argv)], capture_output=True, text=True, cwd=ROOT, check=False
    )


def attempt(path: Path) -> dict:
    start = time.perf_counter()
    trained = cli("train", path, "--json")
    seconds = time.perf_counter() - start
    final = json.loads(trained.stdout.strip().splitlines()[-1])
    scored = cli("evaluate", path, "--weights", path.with_suffix(".npz"), "--json")
    goal = json.loads(scored.stdout) if scored.returncode == 0 else {}
    return {
        "stopped": final.get("stopped"),
        "goal_value": goal.get("goal_value"),
        "goal_met": goal.get("goal_met", False),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, (words, change) in SOLUTIONS.items():
            path = Path(folder) / f"{name}.json"
            cli("exercises", name, "-o", path)
            before = attempt(path)
            edited = cli("edit", path, *change)
            assert edited.returncode == 0, edited.stdout + edited.stderr
            after = attempt(path)
            rows.append({"exercise": name, "change": words, "before": before, "after": after})
    if args.json:
        print(json.dumps(rows))
        return
    print("| exercise | as set | with the change | change |")
    print("|---|---|---|---|")
    for row in rows:
        cells = []
        for key in ("before", "after"):
            result = row[key]
            value = result["goal_value"]
            shown = "–" if value is None else f"{value:.4g}"
            verdict = "met" if result["goal_met"] else "not met"
            cells.append(f"{shown} ({result['stopped']}, {result['seconds']} s): {verdict}")
        print(f"| {row['exercise']} | {cells[0]} | {cells[1]} | {row['change']} |")


if __name__ == "__main__":
    main()
