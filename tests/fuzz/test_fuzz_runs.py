"""Damaged runs files (``NAME.runs.json``) read as the app reads them: each is refused with
:class:`RunsError` in one line, or read into runs that the plots can draw (every list of the
length it says, every number a number)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rnn_builder.training.runs import RunRecord, RunsError, runs_from_json
from tests.fuzz.harness import batches, case, one_line, seeds
from tests.fuzz.mutations import Mutator

BATCHES = batches(small=300, full=2_000, per_batch=500)


def _runs() -> list[dict]:
    first = RunRecord(1, "run 1: adam, lr 0.01", {"optimizer": "adam", "learning_rate": 0.01})
    first.curve.extend(40, [1.0 / (s + 1) for s in range(40)])
    first.val_steps, first.val_loss, first.val_metric = [20, 40], [0.5, 0.3], [0.7, 0.9]
    first.stopped = "finished"
    second = RunRecord(2, "run 2", {"epochs": 3}, metric="mse")
    for step in range(1, 30_000, 7):  # past the curve's limit: kept as bands
        second.curve.add(step, math.sin(step) + 2)
    second.val_steps, second.val_loss, second.val_metric = [10], [1.5], [float("nan")]
    old = {"number": 3, "label": "old", "settings": {}, "steps": [1, 2, 3], "loss": [3, 2, 1]}
    return [first.to_json(), second.to_json(), old]


def _drawn(run: RunRecord) -> None:
    """What the loss plots do with a run, and what saving it again does."""
    steps = np.asarray(run.curve.steps, dtype=np.float64)
    mean = np.asarray(run.curve.mean, dtype=np.float64)
    assert steps.shape == mean.shape
    if not run.curve.exact:
        assert len(run.curve.low) == len(run.curve.high) == len(steps)
    assert len(run.val_steps) == len(run.val_loss) == len(run.val_metric)
    assert np.asarray(run.val_loss, dtype=np.float64).shape == (len(run.val_steps),)
    assert isinstance(run.label, str) and isinstance(run.stopped, str)
    assert all(isinstance(k, str) for k in run.settings)
    saved = json.dumps([run.to_json()])
    assert json.dumps([r.to_json() for r in runs_from_json(json.loads(saved))]) == saved


@pytest.mark.parametrize(("batch", "count"), BATCHES, ids=[f"batch{b}" for b, _ in BATCHES])
def test_damaged_runs_files(batch, count):
    base = _runs()
    for seed in seeds("runs", batch, count):
        mutator = Mutator(seed)
        text = mutator.json_text(base)
        with case("runs", f"seed {seed}") as figures:
            try:
                data = json.loads(text.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                figures.refused += 1  # the document refuses it before it is read as runs
                continue
            try:
                runs = runs_from_json(data)
            except RunsError as error:
                one_line(str(error), f"seed {seed}")
                figures.refused += 1
                continue
            for run in runs:
                _drawn(run)
            figures.deep += 1
