"""Values carry their layout as a tag (``cell_layout.FeatureMajor``), not as strides to be read.

The tag must tell the truth: every tagged value is a ``(T, B, n)`` view of ``(T, n, B)`` data,
every cell output computed over a whole sequence is tagged, and nothing computed *from* a tagged
value inherits the tag (NumPy would otherwise carry the subclass into copies and products whose
layout is different)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from rnn_builder.engine.cell_layout import FeatureMajor, feature_major, is_feature_major
from rnn_builder.engine.executor import Executor
from rnn_builder.engine.ops import CellOp
from rnn_builder.files.templates import TEMPLATES, new_project

from .numerics import random_batch


def truly_feature_major(value: np.ndarray) -> bool:
    """The batch axis is the innermost in memory: a view of ``(T, n, B)`` data."""
    return value.ndim == 3 and value.strides[1] == value.itemsize


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_tags_tell_the_truth_on_every_template(name):
    executor = Executor(new_project(name).graph, dtype=np.float64)
    run = executor.forward(random_batch(executor, batch=3, steps=5), train=True)
    executor.backward(run)
    tagged = [key for key, value in run.values.items() if isinstance(value, FeatureMajor)]
    for key in tagged:
        assert truly_feature_major(run.values[key]), key
    in_loops = {n for segment in loops_of(executor) for n in segment}
    for node_id, op in executor.ops.items():
        if isinstance(op, CellOp) and len(op.suffixes) == 1 and node_id not in in_loops:
            assert (node_id, "y") in tagged, f"{name}: {node_id}'s output is not tagged"


def loops_of(executor: Executor) -> list[set[str]]:
    """The nodes on a feedback loop, which run step by step (their outputs are gathered into
    plain time-major buffers, so they carry no tag)."""
    folded = nx.DiGraph((e.src_node, e.dst_node) for e in executor.graph.edges)
    return [c for c in nx.strongly_connected_components(folded) if len(c) > 1]


def test_nothing_computed_from_a_tagged_value_is_tagged():
    data = np.arange(2 * 4 * 3, dtype=np.float64).reshape(2, 4, 3)  # (T, n, B)
    view = feature_major(data)
    assert is_feature_major(view) and truly_feature_major(view)
    assert view.shape == (2, 3, 4) and np.shares_memory(view, data)
    assert is_feature_major(view[0:1])  # a slice of the view is still the view
    products = [
        view + 1.0,
        np.matmul(view, np.ones((4, 2))),
        np.concatenate([view, view], axis=-1),
        np.tanh(view),
        view.sum(axis=0, keepdims=True),
    ]
    for result in products:
        assert type(result) is np.ndarray
    np.testing.assert_array_equal(view + 1.0, data.transpose(0, 2, 1) + 1.0)
    out = np.empty((2, 3, 4))
    np.multiply(view, 2.0, out=out)
    np.testing.assert_array_equal(out, 2.0 * data.transpose(0, 2, 1))
    assert not is_feature_major(view[0])  # one step: a matrix, not a sequence


def test_a_time_major_array_is_never_taken_for_a_cell_output():
    # batch 1: the old stride test could not tell the two layouts apart
    data = np.ones((5, 1, 8))
    assert not is_feature_major(data)
    assert not is_feature_major(data.transpose(0, 2, 1).transpose(0, 2, 1))
