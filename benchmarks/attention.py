"""Attention against the encoder-decoder's bottleneck, measured on reversing 5–40 letters.

    python benchmarks/attention.py [--json] [--quick] [--per-length N] [--repeat N]

Trains, with the template's own settings (the same budget: the same examples, batches and
epochs), the *Translation with attention* template (Luong: attention after the decoder), the
Bahdanau variant (attention inside the decoder's loop; left out with ``--quick``) and, for each,
the same graph without its attention (the plain encoder-decoder: the decoder sees the input only
through the encoder's final state). Then, on fresh examples (``--per-length`` of each length
band, another seed), free running as ``predict`` does:

* exact-match (every letter and the end mark right) against the input's length;
* when the attention template first reached its target (90 % of the held-out reversals
  exactly right, measured at each epoch's end) and how long its whole training took;
* where the trained attention looks: for each query step t < L of an input L letters long,
  whether the alignment's largest weight falls on step L−1−t (the anti-diagonal) or next to it;
* a training step with attention against the same step without it (forward, backward and an
  Adam update, batch 32, the task's batches), alternating in one process, ``--repeat`` pairs:
  the median of the paired ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.optim import make_optimizer
from rnn_builder.engine.runtime import runtime
from rnn_builder.files.project import Project
from rnn_builder.files.templates import new_project
from rnn_builder.training.data import Split, make_batch
from rnn_builder.training.tasks import load_dataset
from rnn_builder.training.tasks.reversal import LETTERS, Reversal
from rnn_builder.training.trainer import Trainer, evaluate

BANDS = [(5, 9), (10, 14), (15, 19), (20, 24), (25, 29), (30, 34), (35, 40)]
TARGET = 0.90
SHOWN = "attentionisallyouread"  # an input whose alignment is printed, letter by letter


def without_attention(project: Project) -> Project:
    """The same project with its attention taken out: the decoder's own state (Luong) or the
    previous letter alone (Bahdanau) where the context joined it."""
    graph = project.graph.copy()
    joined_into = graph.edges_out_of("joined", "y")[0]
    graph.remove_node("attend")
    if "state" in graph:  # Bahdanau: the previous letter straight into the decoder
        graph.remove_node("state")
    source = graph.edges_into("joined", "b") or graph.edges_into("joined", "a")
    graph.remove_node("joined")
    graph.connect(source[0].src_node, source[0].src_port, joined_into.dst_node, "x")
    return Project(
        graph=graph,
        title=f"{project.title}, without attention",
        training=project.training,
        dataset=project.dataset,
        template=project.template,
    )


def band_examples(per_band: int, seed: int = 12345) -> dict[tuple[int, int], list[dict]]:
    rng = np.random.default_rng(seed)
    return {
        (low, high): [
            Reversal.example(rng.integers(0, len(LETTERS), int(n)))
            for n in rng.integers(low, high + 1, per_band)
        ]
        for low, high in BANDS
    }


def train(project: Project) -> tuple[Executor, dict]:
    dataset = load_dataset(project)
    executor = Executor(project.graph, seed=project.training.seed)
    epochs = []

    def record(report) -> None:
        if report.kind == "epoch":
            epochs.append((report.epoch, report.elapsed, report.val_metric))

    start = time.perf_counter()
    result = Trainer(executor, dataset, project.training, record, report_every=1.0).train()
    seconds = time.perf_counter() - start
    reached = next(((e, s) for e, s, metric in epochs if metric and metric >= TARGET), None)
    return executor, {
        "seconds": round(seconds, 1),
        "steps": result.steps,
        "validation": epochs[-1][2] if epochs else None,
        "target_at_epoch": reached[0] if reached else None,
        "target_at_seconds": round(reached[1], 1) if reached else None,
        "dataset": dataset,
    }


def by_length(executor: Executor, dataset, bands) -> dict[str, float]:
    return {
        f"{low}–{high}": evaluate(executor, dataset, Split(examples), 256).metric
        for (low, high), examples in bands.items()
    }


def alignment_diagonal(executor: Executor, examples: list[dict]) -> dict[str, float]:
    """How often the largest weight of a query step's alignment falls on the letter it writes
    (step L−1−t of an input L long), or within one step of it, and on which side; and the mean
    weight there."""
    hits = near = total = 0
    weight = 0.0
    offsets = {-1: 0, 1: 0}
    for start in range(0, len(examples), 256):
        chunk = examples[start : start + 256]
        batch = make_batch(chunk, executor.report, executor.graph)
        run = executor.forward(batch, train=False)
        alignment = run.alignments["attend"]  # (T_query, B, T_memory)
        for b, example in enumerate(chunk):
            length = len(example["letters"])
            for t in range(length):
                row = alignment[t, b, :length]
                aim = length - 1 - t
                hits += int(row.argmax() == aim)
                near += int(abs(int(row.argmax()) - aim) <= 1)
                if int(row.argmax()) - aim in offsets:
                    offsets[int(row.argmax()) - aim] += 1
                weight += float(row[aim])
                total += 1
    return {
        "on": hits / total,
        "within_one": near / total,
        "one_before": offsets[-1] / total,
        "one_after": offsets[1] / total,
        "mean_weight": weight / total,
    }


def shown_alignment(executor: Executor, letters: str) -> tuple[str, list[list[float]]]:
    """One typed input's alignment, a row per letter written (and the end mark), a column per
    letter read; and what was written."""
    example = Reversal().encode(letters, {})
    run = executor.forward(make_batch([example], executor.report, executor.graph), train=False)
    written = Reversal().decode(run.predictions["reversed"][:, 0], example, {})
    alignment = run.alignments["attend"][: len(written) + 1, 0]
    return written, np.round(alignment, 4).tolist()


def alignment_text(letters: str, written: str, alignment: list[list[float]]) -> list[str]:
    """The alignment as text: written (down) × read (across), darker for more weight."""
    shades = " ·░▒▓█"
    lines = ["    " + " ".join(letters)]
    for letter, row in zip([*written, "$"], alignment, strict=False):  # $: the end mark
        cells = [shades[min(int(w * len(shades)), len(shades) - 1)] for w in row]
        lines.append(f"  {letter} " + " ".join(cells))
    return lines


def step_ratio(project: Project, plain: Project, repeat: int) -> float:
    """A training step with attention over the same step without it, alternating (median of
    the paired ratios)."""
    dataset = load_dataset(project)
    sides = []
    for side in (project, plain):
        executor = Executor(side.graph, seed=0)
        optimizer = make_optimizer(
            "adam", executor.store.flat, executor.store.grad_flat, 0.001, 0.0
        )
        sides.append((executor, optimizer))
    batches = list(
        dataset.train.batches(32, np.random.default_rng(0), sides[0][0].report, project.graph)
    )[:20]

    def step(executor: Executor, optimizer, batch) -> float:
        begin = time.perf_counter()
        executor.backward(executor.forward(batch))
        optimizer.step()
        return time.perf_counter() - begin

    for executor, optimizer in sides:  # warm
        step(executor, optimizer, batches[0])
    ratios = []
    for k in range(repeat):
        batch = batches[k % len(batches)]
        with_attention = step(*sides[0], batch)
        without = step(*sides[1], batch)
        ratios.append(with_attention / without)
    return statistics.median(ratios)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true", help="the Luong template only")
    parser.add_argument("--per-length", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--pictures", type=Path, help="draw the table and the alignments here")
    args = parser.parse_args()
    runtime().configure()  # as the app and the CLI do
    bands = band_examples(args.per_length)
    templates = ["translation_attention"] + ([] if args.quick else ["translation_bahdanau"])
    rows = []
    for name in templates:
        project = new_project(name)
        plain = without_attention(project)
        for label, side in (("attention", project), ("plain", plain)):
            executor, row = train(side)
            dataset = row.pop("dataset")
            row.update(template=name, graph=label, by_length=by_length(executor, dataset, bands))
            if label == "attention":
                everything = [e for examples in bands.values() for e in examples]
                row["alignment"] = alignment_diagonal(executor, everything)
                row["shown"] = shown_alignment(executor, SHOWN)
            rows.append(row)
            if not args.json:
                print(json.dumps(row), flush=True)
        ratio = step_ratio(project, plain, args.repeat)
        rows.append({"template": name, "step_ratio": round(ratio, 2)})
        if not args.json:
            print(f"{name}: a training step with attention / without: {ratio:.2f}", flush=True)
    if args.json:
        print(json.dumps(rows))
    else:
        _table(rows)
    if args.pictures:
        from attention_pictures import draw  # Qt, only for the pictures

        for path in draw(rows, SHOWN, args.pictures):
            print(f"drew {path}")
    return 0


def _table(rows: list[dict]) -> None:
    trained = [r for r in rows if "by_length" in r]
    print()
    print("| input length | " + " | ".join(f"{r['template']} {r['graph']}" for r in trained) + " |")
    print("|---" * (len(trained) + 1) + "|")
    for band in trained[0]["by_length"]:
        cells = " | ".join(f"{100 * r['by_length'][band]:.1f} %" for r in trained)
        print(f"| {band} | {cells} |")
    for r in trained:
        line = f"{r['template']} {r['graph']}: {r['steps']} steps in {r['seconds']} s"
        if r["target_at_seconds"] is not None:
            line += f", ≥ {TARGET:.0%} at epoch {r['target_at_epoch']} ({r['target_at_seconds']} s)"
        if "alignment" in r:
            a = r["alignment"]
            line += (
                f"; alignment's largest weight on the anti-diagonal {a['on']:.1%} (one step "
                f"before it {a['one_before']:.1%}, after it {a['one_after']:.1%}; mean weight on "
                f"it {a['mean_weight']:.2f})"
            )
        print(line)
        if "shown" in r:
            written, alignment = r["shown"]
            print(
                f"  '{SHOWN}' → '{written}': the alignment, written (down, $ the end mark) × read"
            )
            print("\n".join(alignment_text(SHOWN, written, alignment)))


if __name__ == "__main__":
    raise SystemExit(main())
