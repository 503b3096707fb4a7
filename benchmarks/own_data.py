"""What a person's own data reaches: each example file of docs/examples/ bound to the template
that fits it, fitted and trained by the command line as a user would (``edit --data-file ...
--fit``, then ``train``), with a bag-of-words control on the reviews (their labels follow
negation, which a bag of words cannot read); and training throughput on own data against the
built-in task of the same shape (sentiment), alternating, in steps a second.

    python benchmarks/own_data.py [--json] [--repeats 2]
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
EXAMPLES = ROOT / "docs" / "examples"
PYTHON = [sys.executable, "-m", "rnn_builder"]

# (template, kind, file, metric, target within 60 s)
CASES = [
    ("many_to_one", "labelled", "reviews.csv", "accuracy", 0.90),
    ("bidirectional_tagger", "tagged", "pos_tags.conll", "token_accuracy", 0.95),
    ("encoder_decoder_feedback", "pairs", "english_spanish.tsv", "sequence_accuracy", 0.90),
    ("adding_problem", "sequences", "shapes.csv", "accuracy", 0.90),
]
# a bag of words: Embedding → Mean over time → Dense (no order read)
BAG_OF_WORDS = [
    "--remove", "reader", "--add", "mean_over_time", "bag",
    "--connect", "embed", "bag", "--connect", "bag", "scores",
]  # fmt: skip


def cli(*argv, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PYTHON, *map(str, argv)], check=True, capture_output=True, text=True, cwd=cwd
    )


def train(path: Path) -> tuple[dict, float]:
    start = time.perf_counter()
    done = cli("train", path, "--json")
    seconds = time.perf_counter() - start
    return json.loads(done.stdout.strip().splitlines()[-1]), seconds


def quality(folder: Path) -> list[dict]:
    rows = []
    for template, kind, name, metric, target in CASES:
        path = folder / f"{template}-{kind}.json"
        cli("new", template, "-o", path)
        cli("edit", path, "--data-file", kind, EXAMPLES / name, "--fit")
        final, seconds = train(path)
        value = final.get(f"val_{metric}")
        rows.append(
            {
                "file": name,
                "template": template,
                "metric": metric,
                "reached": value,
                "target": target,
                "seconds": round(seconds, 1),
                "met": value is not None and value >= target and seconds <= 60,
            }
        )
    bag = folder / "bag.json"
    cli("new", "many_to_one", "-o", bag)
    cli("edit", bag, *BAG_OF_WORDS)
    cli("edit", bag, "--data-file", "labelled", EXAMPLES / "reviews.csv", "--fit")
    final, seconds = train(bag)
    rows.append(
        {
            "file": "reviews.csv",
            "template": "bag of words (control)",
            "metric": "accuracy",
            "reached": final.get("val_accuracy"),
            "target": None,
            "seconds": round(seconds, 1),
            "met": None,
        }
    )
    return rows


def write_builtin_sentences(path: Path) -> None:
    """The built-in sentiment task's own sentences and labels, as a person's CSV file: the same
    examples both ways, so that only the path the data takes differs."""
    import csv

    sys.path.insert(0, str(ROOT))
    from rnn_builder.training.tasks import TASKS
    from rnn_builder.training.tasks.sentiment import LABELS, VOCABULARY

    dataset = TASKS["sentiment"].generate(0, {})
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["text", "label"])
        for split in (dataset.train, dataset.validation):
            for example in split.examples:
                words = " ".join(VOCABULARY[i] for i in example["words"])
                writer.writerow([words, LABELS[int(example["sentiment"])]])


def throughput(folder: Path, repeats: int) -> dict:
    """Steps a second on the built-in sentences read from a CSV file against the built-in task
    itself: same examples, same graph and settings, alternating."""
    own, built_in, data = folder / "own.json", folder / "builtin.json", folder / "sentences.csv"
    write_builtin_sentences(data)
    for path in (own, built_in):
        cli("new", "many_to_one", "-o", path)
        cli("edit", path, "--setting", "epochs", "5")
    cli("edit", own, "--data-file", "labelled", data, "--fit")
    rates: dict[str, list[float]] = {"own": [], "builtin": []}
    for _ in range(repeats):
        for name, path in (("own", own), ("builtin", built_in)):
            final, _seconds = train(path)
            rates[name].append(final["steps"] / final["seconds"])
    ratios = [a / b for a, b in zip(rates["own"], rates["builtin"], strict=True)]
    return {"own_steps_per_second": rates["own"], "builtin_steps_per_second": rates["builtin"],
            "own_over_builtin": sorted(ratios)[len(ratios) // 2]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = quality(Path(folder))
        speed = throughput(Path(folder), args.repeats)
    if args.json:
        print(json.dumps({"quality": rows, "throughput": speed}))
        return
    print("| file | template | metric | reached | target | seconds |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        target = f"≥ {row['target']:.0%}" if row["target"] else "–"
        print(
            f"| `{row['file']}` | {row['template']} | {row['metric']} | {row['reached']:.1%} | "
            f"{target} | {row['seconds']} |"
        )
    print(
        f"\ntraining throughput, the built-in sentences from a CSV file / the built-in task "
        "(same examples, graph and settings): "
        f"{speed['own_over_builtin']:.2f} (median of {args.repeats}; "
        f"own {', '.join(f'{r:.0f}' for r in speed['own_steps_per_second'])} steps/s, "
        f"built-in {', '.join(f'{r:.0f}' for r in speed['builtin_steps_per_second'])})"
    )


if __name__ == "__main__":
    main()
