"""Training runs as the app keeps them to compare: what a run was, and its curves.

A project's runs are saved beside it (``NAME.runs.json``), a list of :meth:`RunRecord.to_json`
objects. That file is read as untrusted as the project is: :func:`runs_from_json` checks every
field's type, range and length and raises :class:`RunsError` naming the run and the field, so
a damaged file is left out with a note instead of raising later, in a plot.

Files written before every step's loss was kept hold the report points as ``steps`` and
``loss``; they are read into the same :class:`~rnn_builder.training.curve.LossCurve`.

A run records what it was (issue 24: a student's hand-in must show how a result was reached):
the graph it trained (its digest, and the graph itself as the project file holds it), the data
(kind, name and options), the seed, and whether it started from trained weights. The app
records each run it trains, and so does ``rnn-builder train`` (:func:`new_run`,
:func:`follow_report`). A run that went on from trained weights says which run's
(``continued_from``, when known) and after how many steps of training they came
(``start_step``): its curves are drawn from there, after the run it continued, so that two
runs compared side by side do not both seem to start from nothing (issue 23).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

from rnn_builder.training.curve import CurveError, LossCurve, is_loss
from rnn_builder.values import MAX_TEXT, is_number, is_plain_value, short

MAX_RUNS = 1_000  # runs in one file
MAX_EPOCHS_KEPT = 1_000_000  # validation points of one run (one an epoch)
MAX_GRAPH_TEXT = 4_000_000  # the graph a run trained, as JSON text
MAX_STEP = 10**12  # steps of training before a run: more than any machine will take


class RunsError(ValueError):
    """A runs file, or a run in it, that is not one :meth:`RunRecord.to_json` writes."""


@dataclass
class RunRecord:
    """One training run: what it was, and its curves (for comparing runs)."""

    number: int
    label: str
    settings: dict
    curve: LossCurve = field(default_factory=LossCurve)
    val_steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)  # NaN where the task has none
    metric: str = "accuracy"
    stopped: str = ""
    # what the run was: the graph it trained (a digest, and the project file's "graph" as JSON
    # text), its data (kind, name, options), its seed, and whether it went on from weights
    graph_digest: str = ""
    graph: str = ""
    data: dict = field(default_factory=dict)
    seed: int | None = None
    continued: bool = False
    # a continued run: the steps its starting weights had been trained (its curves are drawn
    # from there), and the run they came from (None: not known, weights from a file)
    start_step: int = 0
    continued_from: int | None = None

    def to_json(self) -> dict:
        return {
            "number": self.number,
            "label": self.label,
            "settings": self.settings,
            "loss_curve": self.curve.to_json(),
            "val_steps": list(self.val_steps),
            "val_loss": list(self.val_loss),
            "val_metric": list(self.val_metric),
            "metric": self.metric,
            "stopped": self.stopped,
            "graph_digest": self.graph_digest,
            "graph": self.graph,
            "data": self.data,
            "seed": self.seed,
            "continued": self.continued,
            "start_step": self.start_step,
            "continued_from": self.continued_from,
        }

    @staticmethod
    def from_json(data: Any) -> RunRecord:
        """The run :meth:`to_json` wrote (or an older file's); :class:`RunsError` otherwise."""
        if not isinstance(data, dict):
            raise RunsError(f"a run is {short(data)}, not an object")
        number = data.get("number")
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 10**9:
            raise RunsError(f"a run's number is {short(number)}, not a whole number ≥ 1")
        where = f"run {number}"
        label = _text(data, "label", where)
        metric = _text(data, "metric", where, "accuracy")
        stopped = _text(data, "stopped", where, "")
        settings = data.get("settings", {})
        if not isinstance(settings, dict) or not is_plain_value(settings):
            raise RunsError(f"{where}'s settings are {short(settings)}, not an object of values")
        try:
            if "loss_curve" in data:
                curve = LossCurve.from_json(data["loss_curve"])
            else:  # saved before every step was kept: the reports' points
                steps = _list(data, "steps", where, whole=True)
                loss = _list(data, "loss", where)
                if len(steps) != len(loss):
                    raise RunsError(f"{where} has {len(steps)} steps but {len(loss)} losses")
                curve = LossCurve.from_points(steps, loss)
        except RunsError:
            raise
        except CurveError as error:
            raise RunsError(f"{where}: {error}") from None
        except ValueError as error:  # steps out of order
            raise RunsError(f"{where}'s loss curve: {error}") from None
        val_steps = _list(data, "val_steps", where, whole=True)
        val_loss = _list(data, "val_loss", where, finite=False)
        val_metric = _list(data, "val_metric", where, finite=False)
        if not len(val_steps) == len(val_loss) == len(val_metric):
            raise RunsError(f"{where}'s validation lists are not all of one length")
        graph_digest = _text(data, "graph_digest", where, "")
        graph = data.get("graph", "")
        if not isinstance(graph, str) or len(graph) > MAX_GRAPH_TEXT:
            raise RunsError(f"{where}'s graph is {short(graph)}, not the graph's JSON text")
        run_data = data.get("data", {})
        if not isinstance(run_data, dict) or not is_plain_value(run_data):
            raise RunsError(f"{where}'s data is {short(run_data)}, not an object of values")
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise RunsError(f"{where}'s seed is {short(seed)}, not a whole number")
        continued = data.get("continued", False)
        if not isinstance(continued, bool):
            raise RunsError(f"{where}'s continued is {short(continued)}, not true or false")
        start_step = data.get("start_step", 0)
        if isinstance(start_step, bool) or not isinstance(start_step, int):
            raise RunsError(f"{where}'s start_step is {short(start_step)}, not a whole number")
        if not 0 <= start_step <= MAX_STEP:
            raise RunsError(f"{where}'s start_step is {short(start_step)}, out of range")
        earlier = data.get("continued_from")
        if earlier is not None and (
            isinstance(earlier, bool) or not isinstance(earlier, int) or not 1 <= earlier < number
        ):
            raise RunsError(
                f"{where}'s continued_from is {short(earlier)}, not an earlier run's number"
            )
        return RunRecord(
            number,
            label,
            settings,
            curve,
            val_steps,
            val_loss,
            val_metric,
            metric,
            stopped,
            graph_digest,
            graph,
            run_data,
            seed,
            continued,
            start_step,
            earlier,
        )


def runs_from_json(data: Any) -> list[RunRecord]:
    """A runs file's runs; :class:`RunsError` for anything else."""
    if not isinstance(data, list):
        raise RunsError("it is not a list of runs")
    if len(data) > MAX_RUNS:
        raise RunsError(f"it holds {len(data)} runs, more than {MAX_RUNS}")
    return [RunRecord.from_json(run) for run in data]


def _text(data: dict, key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise RunsError(f"{where}'s {key} is {short(value)}, not a text")
    return value


def _list(data: dict, key: str, where: str, whole: bool = False, finite: bool = True) -> list:
    values = data.get(key, [])
    if not isinstance(values, list) or len(values) > MAX_EPOCHS_KEPT:
        raise RunsError(f"{where}'s {key} is {short(values)}, not a list")
    for value in values:
        number = is_number(value) and isinstance(value, int) if whole else is_loss(value, finite)
        if not number:
            kind = "whole numbers" if whole else "numbers"
            raise RunsError(f"{where}'s {key} holds {short(value)}, not only {kind}")
    return values


# --- a run as it happens ---------------------------------------------------------------------


def graph_json(project) -> dict:
    """The project file's ``graph``: what a run records of the network it trained."""
    from rnn_builder.files.serialization import project_to_dict

    return project_to_dict(project)["graph"]


def graph_digest(graph: dict) -> str:
    """A digest of what a graph computes: its nodes (id, type, parameters) and wires, not where
    they sit on the canvas nor the names they are shown by."""
    nodes = sorted((n["id"], n["type"], n["params"]) for n in graph.get("nodes", []))
    edges = sorted(tuple(e) for e in graph.get("edges", []))
    text = json.dumps([nodes, edges], sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def describe_run(project) -> str:
    """A short label: the cells and the settings that differ between typical runs."""
    graph = project.graph
    cells = [
        f"{n.type_name.upper()}{'²' if n.params.get('bidirectional') else ''} "
        f"{n.params['hidden_size']}"
        for n in graph.cells()
    ]
    settings = project.training
    clip = f"clip {settings.clip_norm:g}" if settings.clip_norm else "no clip"
    optimizer = f"{settings.optimizer} {settings.learning_rate:g}"
    return f"{', '.join(cells) or 'no cell'} · {optimizer} · {clip}"


def new_run(
    project,
    number: int,
    continued: bool,
    start_step: int = 0,
    continued_from: int | None = None,
) -> RunRecord:
    """The record of a run about to train ``project`` (``continued``: from trained weights,
    trained ``start_step`` steps before, in run ``continued_from`` when that is known)."""
    graph = graph_json(project)
    reference = project.dataset
    data = (
        {"kind": reference.kind, "name": reference.name, "options": _kept(reference.options)}
        if reference is not None
        else {}
    )
    went_on = ""
    if continued:
        went_on = (
            f" · continued from run {continued_from} at step {start_step:,}"
            if continued_from is not None
            else " · continued"
        )
    label = f"run {number}: {describe_run(project)}{went_on}"
    return RunRecord(
        number,
        label,
        project.training.to_json(),
        graph_digest=graph_digest(graph),
        graph=json.dumps(graph, allow_nan=True, separators=(",", ":")),
        data=data,
        seed=project.training.seed,
        continued=continued,
        start_step=start_step if continued else 0,
        continued_from=continued_from if continued else None,
    )


def follow_report(run: RunRecord, report) -> None:
    """Take what a trainer's report adds to the run's curves (every step's loss; each epoch's
    validation figures)."""
    if report.losses:
        run.curve.extend(report.step, report.losses)
    if report.kind in ("step", "epoch"):
        run.metric = report.metric
    if report.kind == "epoch" and report.val_loss is not None:
        run.val_steps.append(report.step)
        run.val_loss.append(float(report.val_loss))
        metric = report.val_metric
        run.val_metric.append(float(metric) if metric is not None else math.nan)


def _kept(options: dict) -> dict:
    """The data options a run records: all but the vocabulary-sized lists reading works out
    (they are the project's and the weights'; a run says which file and settings)."""
    return {
        k: v
        for k, v in options.items()
        if not k.startswith("_") and k not in ("vocabulary", "target_vocabulary", "alphabet")
    }


MAX_RUNS_BYTES = 64_000_000  # a runs file (the app's, and train's)


def read_runs_file(path) -> list[RunRecord] | None:
    """The runs saved at ``path``: [] when there is none, None when the file is there but
    cannot be read as runs (then it is left as it is, never overwritten)."""
    from pathlib import Path

    from rnn_builder.errors import DataError
    from rnn_builder.training.tasks.files import read_text

    path = Path(path)
    if not path.is_file():
        return []
    try:
        return runs_from_json(json.loads(read_text(path, "the runs file", MAX_RUNS_BYTES)))
    except (DataError, ValueError, RecursionError):
        return None


def runs_bytes(runs: list[RunRecord]) -> bytes:
    """A runs file's bytes."""
    return json.dumps([run.to_json() for run in runs], allow_nan=True).encode("utf-8")
