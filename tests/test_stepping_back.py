"""Stepping back undoes the last step from what it changed: walking back to a position leaves
what walking forward to it leaves, on every template, with padding and both directions, and
costs about one step however far along the walk is."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.stepping import Stepper
from rnn_builder.files.templates import TEMPLATES, new_project

from .numerics import random_batch


def _same(walked: Stepper, fresh: Stepper) -> None:
    assert walked.position == fresh.position
    assert set(walked.details) == set(fresh.details)
    for key, detail in fresh.details.items():
        assert set(walked.details[key]) == set(detail), key
        for name, value in detail.items():
            np.testing.assert_array_equal(walked.details[key][name], value, err_msg=str(key))
    assert set(walked.values) == set(fresh.values)
    for where, value in fresh.values.items():
        np.testing.assert_array_equal(walked.values[where], value, err_msg=str(where))
    assert set(walked.states) == set(fresh.states)
    for where, state in fresh.states.items():
        for a, b in zip(walked.states[where], state, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=str(where))
    assert set(walked.run.predictions) == set(fresh.run.predictions)


@pytest.mark.parametrize("teacher", [False, True])
@pytest.mark.parametrize("name", list(TEMPLATES))
def test_back_to_any_position_equals_forward_to_it(name, teacher):
    executor = Executor(new_project(name).graph, dtype=np.float64, seed=5)
    batch = random_batch(executor, batch=3, steps=5, lengths=[5, 3, 2])
    walked = Stepper(executor, batch, teacher=teacher)
    walked.run_to_end()
    total = len(walked.steps)
    fresh = Stepper(executor, batch, teacher=teacher)
    positions = sorted({0, 1, total // 2, total - 1, total})
    for target in reversed(positions):
        while walked.position > target:
            walked.back()
        fresh.reset()
        for _ in range(target):
            fresh.step()
        _same(walked, fresh)
    # and forward again from the start gives the same end
    walked.run_to_end()
    fresh.run_to_end()
    _same(walked, fresh)


def test_back_then_forward_zig_zag_ends_where_a_straight_walk_ends():
    executor = Executor(new_project("bidirectional_tagger").graph, dtype=np.float64, seed=1)
    batch = random_batch(executor, batch=3, steps=5, lengths=[5, 3, 2])
    walked, fresh = Stepper(executor, batch), Stepper(executor, batch)
    while not walked.done:
        walked.step()
        if walked.position % 3 == 0:
            walked.back()
            walked.step()
            walked.step() if not walked.done else None
            walked.back()
            walked.step()
    fresh.run_to_end()
    _same(walked, fresh)


def test_back_at_the_start_is_refused():
    executor = Executor(new_project("many_to_one").graph)
    stepper = Stepper(executor, random_batch(executor))
    with pytest.raises(IndexError):
        stepper.back()


def test_an_output_reading_an_input_directly_keeps_the_input_when_stepping_back():
    """An MSE output's prediction is its input's own array: stepping back must not zero the
    input sequence through it."""
    from rnn_builder.graph.model import Graph

    graph = Graph()
    graph.add_node("sequence_input", node_id="x", params={"features": 3})
    graph.add_node("output", node_id="out", params={"loss": "mse", "target": "y"})
    graph.connect("x", "y", "out", "x")
    executor = Executor(graph, dtype=np.float64)
    batch = random_batch(executor, batch=2, steps=4)
    given = batch.inputs["x"].copy()
    walked = Stepper(executor, batch)
    walked.run_to_end()
    walked.back()
    np.testing.assert_array_equal(batch.inputs["x"], given)  # the caller's data untouched
    np.testing.assert_array_equal(walked.value("x", "y"), given)
