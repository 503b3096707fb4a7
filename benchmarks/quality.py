"""What each template reaches on its built-in task with its default settings, and how fast.

    python benchmarks/quality.py [--json] [TEMPLATE ...]

Runs ``python -m rnn_builder train`` on a fresh project of each template (a separate process,
as a user would) and prints the validation metric, the time it took and whether the target of
issue 4 is met. Every target must be reached within 60 seconds on this machine.
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

# template -> (what is measured, the target, how to compare)
TARGETS = {
    "one_to_one": ("validation accuracy", 0.97, ">="),
    "one_to_many": ("arpeggios exactly right", 0.95, ">="),
    "many_to_one": ("validation accuracy", 0.95, ">="),
    "many_to_many_equal": ("token accuracy", 0.97, ">="),
    "bidirectional_tagger": ("token accuracy", 0.97, ">="),
    "many_to_many_unequal": ("held-out numbers exactly right", 0.90, ">="),
    "encoder_decoder_feedback": ("held-out numbers exactly right", 0.90, ">="),
    "translation_attention": ("held-out reversals exactly right (5-40 letters)", 0.90, ">="),
    "translation_bahdanau": ("held-out reversals exactly right (5-40 letters)", None, ""),
    "adding_problem": ("validation MSE (50 steps)", 0.01, "<"),
    "stacked_lstm": ("next-character accuracy", None, ""),
    "forecast": ("validation MSE (relative change)", None, ""),
}


def measure(template: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{template}.json"
        python = [sys.executable, "-m", "rnn_builder"]
        subprocess.run(
            [*python, "new", template, "-o", str(path)], check=True, capture_output=True, cwd=ROOT
        )
        start = time.perf_counter()
        done = subprocess.run(
            [*python, "train", str(path), "--json"],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        seconds = time.perf_counter() - start
    final = json.loads(done.stdout.strip().splitlines()[-1])
    what, target, compare = TARGETS[template]
    value = final["val_loss"] if "MSE" in what else final.get("val_accuracy")
    met = None
    if target is not None:
        met = value >= target if compare == ">=" else value < target
        met = met and seconds <= 60
    return {
        "template": template,
        "measure": what,
        "value": value,
        "target": target,
        "compare": compare,
        "seconds": round(seconds, 1),
        "steps": final["steps"],
        "met": met,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("templates", nargs="*", default=list(TARGETS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [measure(t) for t in args.templates]
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'template':<26}{'measure':<34}{'reached':>10}{'target':>10}{'seconds':>9}  met")
    for row in rows:
        value = row["value"]
        shown = f"{value:.4f}" if "MSE" in row["measure"] else f"{value:.1%}"
        target = (
            "-"
            if row["target"] is None
            else (
                f"{row['compare']}{row['target']}"
                if "MSE" in row["measure"]
                else f"{row['compare']}{row['target']:.0%}"
            )
        )
        met = {True: "yes", False: "NO", None: "-"}[row["met"]]
        print(
            f"{row['template']:<26}{row['measure']:<34}{shown:>10}{target:>10}"
            f"{row['seconds']:>9.1f}  {met}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
