"""The app saves a project, its trained weights and its runs as one set: a save killed at any
point between the renames reopens as a set that belongs together, or with a one-line note
that what does not belong was left out (it showed older weights without a word)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from rnn_builder.engine.executor import Executor
from rnn_builder.files.serialization import load
from rnn_builder.files.templates import new_project
from rnn_builder.training.curve import LossCurve
from rnn_builder.training.runs import RunRecord
from ui.editor.document import GraphDocument


class Killed(BaseException):
    """The process dying at this point of a save."""


def die_after(monkeypatch, renames: int) -> None:
    real, done = os.replace, []

    def replace(source, target):
        if len(done) == renames:
            raise Killed
        done.append(target)
        return real(source, target)

    monkeypatch.setattr(os, "replace", replace)


def trained(document: GraphDocument, generation: int) -> dict[str, np.ndarray]:
    """The project as the ``generation``-th save has it: its title, weights and runs."""
    document.set_project_text("title", f"generation {generation}")
    weights = Executor(document.graph, seed=generation).get_parameters()
    document.set_weights(weights)
    document.runs.append(
        RunRecord(generation, f"run {generation}", {}, LossCurve.from_points([1], [0.5]))
    )
    return weights


def generation_of(document: GraphDocument) -> int:
    return int(document.project.title.split()[-1])


@pytest.mark.parametrize("renames", [0, 1, 2, 3])
def test_a_save_killed_between_the_renames_reopens_consistent_or_says_so(
    qapp, tmp_path, monkeypatch, renames
):
    path = tmp_path / "sentiment.json"
    document = GraphDocument(new_project("many_to_one"))
    saved = {1: trained(document, 1)}
    document.save(path)
    saved[2] = trained(document, 2)
    die_after(monkeypatch, renames)
    try:
        document.save(path)
    except Killed:
        assert renames < 3
    monkeypatch.undo()

    reopened = GraphDocument(load(path), path)
    generation = generation_of(reopened)
    assert generation == (1 if renames == 0 else 2)
    notes = " ".join(reopened.load_problems)
    if reopened.weights is None:
        assert "weights in 'sentiment.npz' were not loaded: they are not the ones" in notes
    else:  # the weights it was saved with, and no others
        assert set(reopened.weights) == set(saved[generation])
        for name, value in saved[generation].items():
            np.testing.assert_array_equal(reopened.weights[name], value)
    if reopened.runs:
        assert [run.label for run in reopened.runs][-1] == f"run {generation}"
    else:
        assert "runs in 'sentiment.runs.json' were not loaded" in notes
    left_out = {0: (), 1: ("weights", "runs"), 2: ("runs",), 3: ()}[renames]
    assert (reopened.weights is None) == ("weights" in left_out)
    assert (reopened.runs == []) == ("runs" in left_out)
    assert len(reopened.load_problems) == len(left_out)


def test_weights_left_out_stay_out_after_the_next_save(qapp, tmp_path, monkeypatch):
    path = tmp_path / "sentiment.json"
    document = GraphDocument(new_project("many_to_one"))
    trained(document, 1)
    document.save(path)
    trained(document, 2)
    die_after(monkeypatch, 1)  # the project renamed, its weights not
    with pytest.raises(Killed):
        document.save(path)
    monkeypatch.undo()
    reopened = GraphDocument(load(path), path)
    assert reopened.weights is None
    reopened.set_project_text("description", "edited after the crash")
    reopened.save(path)  # no weights to write: the claim stays
    again = GraphDocument(load(path), path)
    assert again.weights is None and "not the ones" in again.load_problems[0]
    # saved elsewhere, the project claims nothing of that folder's files
    other = tmp_path / "elsewhere" / "sentiment.json"
    other.parent.mkdir()
    again.save(other)
    assert load(other).companions.get("weights") is None


def test_a_window_says_what_it_left_out_in_one_line(make_window, tmp_path, monkeypatch):
    path = tmp_path / "sentiment.json"
    window = make_window("many_to_one")
    trained(window.document, 1)
    window.document.save(path)
    trained(window.document, 2)
    die_after(monkeypatch, 2)  # the project and its weights renamed, the runs not
    with pytest.raises(Killed):
        window.document.save(path)
    monkeypatch.undo()
    assert window.open_project(path)
    note = window.statusBar().currentMessage()
    assert note.startswith("The training runs in 'sentiment.runs.json' were not loaded")
    assert "\n" not in note and window.document.weights is not None
