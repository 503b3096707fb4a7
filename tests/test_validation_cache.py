"""A graph is validated once per meaning: the report is kept until an edit that changes what
the graph means, copies share it, and the report is a value nobody can change."""

from __future__ import annotations

import dataclasses

import pytest

import rnn_builder.graph.validation as validation
from rnn_builder.engine.executor import Executor
from rnn_builder.files.templates import new_project
from rnn_builder.graph.validation import validate


@pytest.fixture
def count(monkeypatch):
    """How many times the validator really ran."""
    runs = []
    real = validation.Validator.run

    def counted(self):
        runs.append(self.graph)
        return real(self)

    monkeypatch.setattr(validation.Validator, "run", counted)
    return runs


def test_asking_again_costs_nothing_until_an_edit(count):
    graph = new_project("many_to_one").graph
    first = validate(graph)
    assert validate(graph) is first and len(count) == 1
    graph.set_position("reader", (10.0, 10.0))  # a move changes nothing it means
    assert validate(graph) is first and len(count) == 1


@pytest.mark.parametrize(
    "edit",
    [
        lambda g: g.set_param("reader", "hidden_size", 7),
        lambda g: g.rename("reader", "other"),
        lambda g: g.disconnect(g.edges_into("sentiment")[0]),
        lambda g: g.remove_node("sentiment"),
        lambda g: g.add_node("dense"),
    ],
    ids=["param", "rename", "disconnect", "remove", "add"],
)
def test_every_edit_that_changes_the_meaning_validates_again(count, edit):
    graph = new_project("many_to_one").graph
    before = validate(graph)
    edit(graph)
    after = validate(graph)
    assert after is not before and len(count) == 2
    assert after == validation.Validator(graph).run()  # it describes the edited graph


def test_a_hidden_size_edit_is_seen_by_the_next_executor(count):
    graph = new_project("many_to_one").graph
    Executor(graph)
    graph.set_param("reader", "hidden_size", 7)
    assert Executor(graph).parameters["reader.weight_hh"].shape == (28, 7)


def test_copies_share_the_report_and_then_go_their_own_way(count):
    project = new_project("many_to_one")
    report = validate(project.graph)
    copy = project.copy()
    assert validate(copy.graph) is report and len(count) == 1
    copy.graph.set_param("reader", "hidden_size", 5)
    assert validate(copy.graph) is not report
    assert validate(project.graph) is report  # the original is unchanged
    assert project.graph.node("reader").params["hidden_size"] != 5
    copy.training.epochs += 1
    assert copy.training.epochs != project.training.epochs


def test_the_report_cannot_be_replaced_in_place():
    report = validate(new_project("many_to_one").graph)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.shapes = None


def test_the_command_line_trains_with_one_validation(count, tmp_path, capsys):
    from rnn_builder.cli.main import main
    from rnn_builder.files.serialization import save

    path = tmp_path / "p.json"
    save(new_project("one_to_one"), path)
    assert main(["train", str(path), "--steps", "2", "--weights", str(tmp_path / "w.npz")]) == 0
    assert len(count) == 1


def test_one_resolver_and_one_limit_for_time_axes():
    """The input's steps parameter, the unroller and a pass over data share the one limit."""
    import numpy as np

    from rnn_builder.engine.run import Batch
    from rnn_builder.errors import DataError, UnrollError
    from rnn_builder.graph.nodes import MAX_STEPS
    from rnn_builder.graph.unroll import axis_lengths

    graph = new_project("many_to_one").graph
    report = validate(graph)
    (axis,) = report.axes
    (steps,) = [p for p in graph.node_type(axis).params if p.name == "steps"]
    assert steps.maximum == MAX_STEPS
    assert axis_lengths(report, MAX_STEPS) == {axis: MAX_STEPS}
    with pytest.raises(UnrollError, match=f"between 1 and {MAX_STEPS}"):
        axis_lengths(report, MAX_STEPS + 1)
    empty = Batch(inputs={axis: np.zeros((0, 2), dtype=np.int64)}, targets={})
    with pytest.raises(DataError, match=f"between 1 and {MAX_STEPS}, not 0"):
        Executor(graph).forward(empty, train=False)
