"""Training runs as the app keeps them to compare: what a run was, and its curves.

A project's runs are saved beside it (``NAME.runs.json``), a list of :meth:`RunRecord.to_json`
objects. That file is read as untrusted as the project is: :func:`runs_from_json` checks every
field's type, range and length and raises :class:`RunsError` naming the run and the field, so
a damaged file is left out with a note instead of raising later, in a plot.

Files written before every step's loss was kept hold the report points as ``steps`` and
``loss``; they are read into the same :class:`~rnn_builder.training.curve.LossCurve`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rnn_builder.training.curve import CurveError, LossCurve, is_loss
from rnn_builder.values import MAX_TEXT, is_number, is_plain_value, short

MAX_RUNS = 1_000  # runs in one file
MAX_EPOCHS_KEPT = 1_000_000  # validation points of one run (one an epoch)


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
        return RunRecord(
            number, label, settings, curve, val_steps, val_loss, val_metric, metric, stopped
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
