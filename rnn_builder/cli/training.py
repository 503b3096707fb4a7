"""The training commands of the CLI: ``train``, ``evaluate``, ``predict`` and ``sample``.

``train`` uses the same :class:`~rnn_builder.training.trainer.Trainer` and callbacks as the GUI.
With
``--json`` it prints one JSON object a line per report and a last line ``{"final": true, ...}``;
on a terminal it draws a progress bar. Ctrl-C stops cleanly and keeps the best weights.

A graph with problems is refused by every one of them before the data is made: its problems
printed as ``validate`` prints them (with ``--json``, as one JSON object), exit status 1.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import numpy as np

from rnn_builder.cli.data import add_allow_outside_data, project_folder
from rnn_builder.cli.problems import EXIT_PROBLEMS, problem_lines
from rnn_builder.engine.executor import Executor
from rnn_builder.errors import DataError
from rnn_builder.export.weights_import import load_weights
from rnn_builder.files.companions import runs_path, save_with_companions, weights_path
from rnn_builder.files.serialization import load
from rnn_builder.files.weights_file import save_weights
from rnn_builder.graph.validation import ValidationReport
from rnn_builder.training.goals import evaluate_goal
from rnn_builder.training.predict import predict, read_input
from rnn_builder.training.runs import follow_report, new_run, read_runs_file, runs_bytes
from rnn_builder.training.tasks import load_dataset, task_of
from rnn_builder.training.trainer import Report, Trainer, evaluate
from rnn_builder.training.workload import Purpose, validate_for

WEIGHTS_HELP = "trained weights: .npz, or the PyTorch export's .safetensors or checkpoint"
WEIGHTS_DEFAULT = " (default: the project's own, NAME.npz beside it or in its bundle)"


def add_commands(commands) -> None:
    p = commands.add_parser("train", help="train a project on its data")
    p.add_argument("file", metavar="FILE")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=_positive, metavar="E", help="epochs to train")
    budget.add_argument("--steps", type=_positive, metavar="N", help="training steps to run")
    p.add_argument("--seed", type=int, help="seed for the weights and the batch order")
    p.add_argument(
        "--weights",
        metavar="OUT.npz",
        help="where to save the trained weights (default: beside the project, FILE.npz)",
    )
    p.add_argument("--max-seconds", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--json", action="store_true", help="print one JSON object per report")
    add_allow_outside_data(p)

    p = commands.add_parser("evaluate", help="loss and accuracy of trained weights")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--weights", metavar="W", help=WEIGHTS_HELP + WEIGHTS_DEFAULT)
    p.add_argument("--json", action="store_true")
    add_allow_outside_data(p)

    p = commands.add_parser(
        "predict",
        help="run trained weights on new input",
        description="Run trained weights on new input. A class's p is the network's "
        "probability (its softmax output), not a calibrated confidence.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--weights", metavar="W", help=WEIGHTS_HELP + WEIGHTS_DEFAULT)
    p.add_argument(
        "--input",
        required=True,
        metavar="TEXT_OR_CSV",
        help="what to predict from: words, a chord, a point, or a CSV file",
    )
    add_allow_outside_data(p)

    p = commands.add_parser("sample", help="generate with trained weights (text, music)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--weights", metavar="W", help=WEIGHTS_HELP + WEIGHTS_DEFAULT)
    p.add_argument(
        "--length",
        type=_positive,
        default=None,
        metavar="N",
        help="steps to write (default 200; a task that writes a fixed number refuses another)",
    )
    p.add_argument("--temperature", type=float, default=0.8, metavar="T")
    p.add_argument(
        "--prime",
        default=None,
        metavar="TEXT",
        help="what to start from: text for a language model (default 'the '), a chord such "
        "as 'A minor' for music (default 'C major')",
    )
    p.add_argument("--seed", type=int, default=0)
    add_allow_outside_data(p)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class _GraphHasProblems(Exception):
    """The graph cannot run: its problems are printed, as ``validate`` prints them, and the
    command exits with status 1 (not 2: the file was read; the graph needs fixing)."""


def _setup(
    args: argparse.Namespace,
    out: TextIO,
    weights: str | None,
    purpose: Purpose,
    seed: int | None = None,
):
    project = load(args.file)
    # The graph is checked before anything else: a graph with a missing wire would otherwise
    # reach the data check, which blamed the data ("the output gives 0: set the last Dense
    # layer to 2 units") for what is a wire to draw. So is the memory the command needs, before
    # any of it is taken (a network too large for the machine raised MemoryError).
    report = validate_for(project, Path(args.file).resolve().parent, purpose)
    if not report.ok:
        _print_problems(args, report, out)
        raise _GraphHasProblems
    executor = Executor(
        project.graph, seed=project.training.seed if seed is None else seed, report=report
    )
    if weights is not None:  # before the data, which takes longer to read than to refuse
        load_weights(executor, weights)
    dataset = load_dataset(project, seed, project_folder(args))
    return project, dataset, executor


def _print_problems(args: argparse.Namespace, report: ValidationReport, out: TextIO) -> None:
    if getattr(args, "json", False):  # still one JSON object a line, and a last one
        data = {"valid": False, "problems": [p.to_json() for p in report.problems]}
        if args.command == "train":
            data = {"final": True, **data}
        print(json.dumps(data, ensure_ascii=False), file=out, flush=True)
        return
    for line in problem_lines(args.file, report.problems):
        print(line, file=out)


def _refusing_graphs_with_problems(command):
    """A training command that exits with status 1 once it has printed the graph's problems."""

    @functools.wraps(command)
    def run(args: argparse.Namespace, out: TextIO) -> int:
        try:
            return command(args, out)
        except _GraphHasProblems:
            return EXIT_PROBLEMS

    return run


def _weights(args: argparse.Namespace) -> str:
    """The weights a command runs with: --weights, else the project's own beside it."""
    if args.weights:
        return args.weights
    own = Path(args.file).with_suffix(".npz")
    if not own.exists():
        raise DataError(
            f"no trained weights: '{own.name}' is not beside the project (train it, or give "
            "--weights)"
        )
    return str(own)


@_refusing_graphs_with_problems
def cmd_train(args: argparse.Namespace, out: TextIO) -> int:
    project, dataset, executor = _setup(args, out, None, "train", args.seed)
    settings = project.training
    if args.seed is not None:
        settings.seed = args.seed
    if args.epochs is not None:
        settings.epochs = args.epochs
    max_steps = args.steps
    if max_steps is not None:  # enough epochs to run the steps asked for
        per_epoch = max(1, math.ceil(len(dataset.train) / settings.batch_size))
        settings.epochs = max(settings.epochs, math.ceil(max_steps / per_epoch))
    bar = _ProgressBar(sys.stderr) if not args.json and sys.stderr.isatty() else None
    target = Path(args.weights) if args.weights else Path(args.file).with_suffix(".npz")
    own = target.resolve() == weights_path(Path(args.file)).resolve()  # the project's set
    earlier = read_runs_file(runs_path(Path(args.file))) if own else None
    run = new_run(project, len(earlier or []) + 1, continued=False)

    def callback(report: Report) -> None:
        follow_report(run, report)
        if args.json:
            if report.kind != "final":
                print(json.dumps(_plain(report.to_json())), file=out, flush=True)
        elif bar is not None:
            bar.show(report)
        elif report.kind == "epoch":
            print(_epoch_line(report), file=out, flush=True)

    trainer = Trainer(
        executor,
        dataset,
        settings,
        callback,
        report_every=0.5 if bar else 1.0,
        max_steps=max_steps,
        max_seconds=args.max_seconds,
    )
    with _ctrl_c_cancels(trainer):
        result = trainer.train()
    if bar is not None:
        bar.finish()
    run.stopped = result.stopped
    if own:  # weights and run join the project's set: saved as one, as the app saves it
        _save_set(args.file, dataset, executor, None if earlier is None else [*earlier, run])
    else:
        save_weights(executor, target)
    final = result.to_json()
    final["weights"] = str(target)
    if args.json:
        print(json.dumps(_plain(final)), file=out, flush=True)
    else:
        print(_final_line(result, target), file=out)
        if result.message:
            print(result.message, file=out)
    return 0


def _save_set(file: str, dataset, executor: Executor, runs: list | None) -> None:
    """The project file (as it is on disk, with what reading the data worked out), the trained
    weights and the runs with this one (None: a runs file that cannot be read stays as it is)
    as one set (``files.companions``): an app-saved project trained here opens with its new
    weights, which it otherwise refused as not the ones it was saved with."""
    saved = load(file)
    saved.keep_dataset_options(dataset.info["options"])
    save_with_companions(
        saved,
        file,
        executor.get_parameters(),
        None if runs is None else runs_bytes(runs),
        claims=saved.companions,
    )


@contextmanager
def _ctrl_c_cancels(trainer: Trainer) -> Iterator[None]:
    """Ctrl-C cancels between two steps (a report is never cut in half); a second Ctrl-C
    interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def cancel(_signum, _frame) -> None:
        trainer.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, cancel)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@_refusing_graphs_with_problems
def cmd_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    project, dataset, executor = _setup(args, out, _weights(args), "evaluate")
    result = evaluate(executor, dataset)
    if result is None:
        raise DataError("this data set has no validation examples to evaluate on")
    data = {"val_loss": result.loss, "metric": dataset.metric, "examples": result.examples}
    if result.metric is not None:
        data[f"val_{dataset.metric}"] = result.metric
    goal = (
        evaluate_goal(project, executor, Path(args.file).resolve().parent)
        if project.goal is not None
        else None
    )
    if goal is not None:
        data.update(goal.to_json())
    if args.json:
        print(json.dumps(data), file=out)
    else:
        shown = (
            f", {_metric_text(dataset.metric, result.metric)}" if result.metric is not None else ""
        )
        print(f"validation: loss {result.loss:.4g}{shown} on {result.examples} examples", file=out)
        if goal is not None:
            print(goal.describe(), file=out)
    return 0


@_refusing_graphs_with_problems
def cmd_predict(args: argparse.Namespace, out: TextIO) -> int:
    project, _dataset, executor = _setup(args, out, _weights(args), "predict")
    typed = read_input(project, args.input, project_folder(args))
    print(predict(executor, typed), file=out)
    return 0


@_refusing_graphs_with_problems
def cmd_sample(args: argparse.Namespace, out: TextIO) -> int:
    project, _dataset, executor = _setup(args, out, _weights(args), "predict")
    task, options = task_of(project, project_folder(args))
    options.update(project.dataset.options)
    if not task.generative:
        raise DataError(f"the {task.title} task does not generate; use 'predict' instead")
    if args.temperature <= 0:
        raise DataError("the temperature must be above 0")
    if task.sample_steps is not None and args.length not in (None, task.sample_steps):
        raise DataError(
            f"the {task.title} network writes {task.sample_steps} steps, not {args.length}: "
            "leave out --length"
        )
    length = args.length or task.sample_steps or 200
    rng = np.random.default_rng(args.seed)
    print(task.sample(executor, args.prime, length, args.temperature, rng, options), file=out)
    if task.sample_note:
        print(task.sample_note, file=sys.stderr)
    return 0


def _metric_text(metric: str, value: float | None) -> str:
    if value is None:
        return ""
    names = {
        "accuracy": "accuracy",
        "token_accuracy": "token accuracy",
        "sequence_accuracy": "exactly right",
    }
    return f"{value:.1%} {names.get(metric, metric)}"


def _epoch_line(report: Report) -> str:
    parts = [f"epoch {report.epoch}/{report.epochs}", f"loss {report.loss:.4g}"]
    if report.val_loss is not None:
        parts.append(f"val loss {report.val_loss:.4g}")
    if report.val_metric is not None:
        parts.append(_metric_text(report.metric, report.val_metric))
    parts.append(f"{report.elapsed:.1f}s")
    return ", ".join(parts)


def _final_line(result, weights: Path) -> str:
    """The last line: the last training loss, then the validation figures of the weights kept,
    which are the best epoch's (said so: they are not the last epoch's)."""
    metric = _metric_text(result.metric, result.val_metric)
    kept = ""
    if result.val_loss is not None:
        kept = f"; kept the best epoch: val loss {result.val_loss:.4g}"
        kept += f", {metric}" if metric else ""
    return (
        f"{result.stopped}: {result.steps} steps in {result.seconds:.1f}s, last training loss "
        f"{result.loss:.4g}{kept}; weights in {weights}"
    )


def _plain(data):
    """JSON without NaN (printed as null)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


class _ProgressBar:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def show(self, report: Report) -> None:
        done = report.step / max(report.total_steps, 1)
        filled = int(30 * done)
        left = f", {report.remaining:.0f}s left" if report.remaining is not None else ""
        metric = _metric_text(report.metric, report.val_metric)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] epoch {report.epoch}/{report.epochs} "
            f"loss {report.loss:.4g}{', ' + metric if metric else ''}{left}   "
        )
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
