"""Unrolling gives the DAG a person would draw by hand."""

from __future__ import annotations

import importlib

import networkx as nx
import pytest

from rnn_builder.errors import GraphInvalidError, UnrollError
from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.graph.unroll import UnrolledKey, unroll

from .helpers import many_to_one

# Drawn by hand for 5 steps on every axis: (nodes, data edges, state edges, delay edges).
HAND_COUNTS = {
    # 5 vector nodes in a chain.
    "one_to_one": (5, 4, 0, 0),
    # chord once; repeat, gru, dense, output at 5 steps each; chord->repeat at every step.
    "one_to_many": (1 + 4 * 5, 5 + 5 + 5 + 5, 4, 0),
    # words, embed, lstm at 5 steps; dense and output once; h_n from the last step only.
    "many_to_one": (3 * 5 + 2, 5 + 5 + 1 + 1, 4, 0),
    # five nodes at 5 steps each, joined step by step.
    "many_to_many_equal": (5 * 5, 4 * 5, 4, 0),
    # encoder side 3x5, repeat/decoder/dense/output 4x5; h_n to every repeat step.
    "many_to_many_unequal": (7 * 5, 5 + 5 + 5 + 5 + 5 + 5, 8, 0),
    # six nodes at 5 steps; two LSTM chains.
    "stacked_lstm": (6 * 5, 5 * 5, 8, 0),
    # the GRU has a forward and a reverse copy per step; both read x and feed the dense.
    "bidirectional_tagger": (4 * 5 + 2 * 5, 5 + 10 + 10 + 5, 8, 0),
    # seven nodes at 5 steps; encoder h_n into decoder step 0; dense(t-1) -> delay(t).
    "encoder_decoder_feedback": (7 * 5, 5 + 5 + 1 + 5 + 5 + 5, 8, 4),
    # ten nodes at 5 steps, the bidirectional encoder twice; each attention copy reads all 5
    # encoder steps in both directions (5 x 5 x 2 = 50 edges); both final states to decoder@0.
    "translation_attention": (11 * 5, 5 + 10 + 2 + 5 + 5 + 50 + 5 + 5 + 5 + 5 + 5, 12, 4),
    # the same, attention inside the loop: the decoder's state through a Delay is the query.
    "translation_bahdanau": (11 * 5, 5 + 10 + 2 + 5 + 50 + 5 + 5 + 5 + 5 + 5, 12, 8),
    # input and LSTM at 5 steps, the readout and the output once.
    "adding_problem": (2 * 5 + 2, 5 + 1 + 1, 4, 0),
    "forecast": (2 * 5 + 2, 5 + 1 + 1, 4, 0),
}


def test_every_template_has_a_hand_count():
    assert set(HAND_COUNTS) == set(TEMPLATES)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_unrolled_sizes_match_the_hand_count(name):
    unrolled = unroll(new_project(name).graph, steps=5)
    nodes, data, state, delay = HAND_COUNTS[name]
    assert unrolled.node_count == nodes
    assert unrolled.edge_counts() == {"data": data, "state": state, "delay": delay}
    assert unrolled.edge_count == data + state + delay


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_schedule_is_a_topological_order_of_every_copy(name):
    unrolled = unroll(new_project(name).graph, steps=4)
    position = {key: i for i, key in enumerate(unrolled.schedule)}
    assert len(position) == unrolled.node_count
    assert nx.is_directed_acyclic_graph(unrolled.dag)
    for u, v in unrolled.dag.edges():
        assert position[u] < position[v]


def test_five_step_many_to_one_by_hand():
    unrolled = unroll(many_to_one(), steps=5)
    dag = unrolled.dag
    assert unrolled.node_count == 5 + 5 + 1 + 1
    assert unrolled.edge_count == 5 + 4 + 1 + 1
    assert dag.has_edge(UnrolledKey("cell", 4), UnrolledKey("dense", None))
    assert not dag.has_edge(UnrolledKey("cell", 3), UnrolledKey("dense", None))
    for t in range(1, 5):
        data = dag.get_edge_data(UnrolledKey("cell", t - 1), UnrolledKey("cell", t))
        assert [d["kind"] for d in data.values()] == ["state"]
    # the schedule is the plan: each node's copies run together, a vector node once
    assert unrolled.schedule == [
        *(UnrolledKey("x", t) for t in range(5)),
        *(UnrolledKey("cell", t) for t in range(5)),
        UnrolledKey("dense", None),
        UnrolledKey("out", None),
    ]


def test_every_copy_shares_its_node_weights():
    unrolled = unroll(many_to_one(), steps=5)
    cell = unrolled.sharing["cell"]
    assert cell.copies == 5 and cell.directions == 1
    assert cell.parameters == 4 * 4 * (3 + 4) + 8 * 4
    assert unrolled.sharing["dense"].copies == 1
    assert unrolled.shared_parameter_count == cell.parameters
    assert unrolled.unshared_parameter_count == 5 * cell.parameters + 10


def test_reverse_direction_runs_backwards_and_starts_from_the_last_step():
    unrolled = unroll(new_project("bidirectional_tagger").graph, steps=3)
    dag = unrolled.dag
    assert dag.has_edge(UnrolledKey("tagger", 2, "reverse"), UnrolledKey("tagger", 1, "reverse"))
    assert dag.has_edge(UnrolledKey("tagger", 0, "forward"), UnrolledKey("tagger", 1, "forward"))
    order = unrolled.schedule
    assert order.index(UnrolledKey("tagger", 2, "reverse")) < order.index(
        UnrolledKey("tagger", 0, "reverse")
    )


def test_axes_unroll_to_their_own_lengths():
    graph = new_project("encoder_decoder_feedback").graph
    unrolled = unroll(graph, steps={"words": 6, "previous_digit": 3})
    assert len(unrolled.copies_of("encoder")) == 6
    assert len(unrolled.copies_of("decoder")) == 3
    # the encoder's last copy starts the decoder; the decoder's output feeds the next step back
    assert unrolled.dag.has_edge(UnrolledKey("encoder", 5), UnrolledKey("decoder", 0))
    assert unrolled.dag.has_edge(UnrolledKey("digit_scores", 1), UnrolledKey("previous_digit", 2))
    assert len(unrolled.steps_of(0, axis="previous_digit")) == 4
    defaults = unroll(graph)
    assert defaults.steps == {"words": 6, "previous_digit": 4}


def test_mean_over_time_reads_every_step_and_repeat_feeds_every_step():
    graph = many_to_one()
    graph.add_node("mean_over_time", node_id="mean")
    graph.add_node("repeat", node_id="rep", params={"steps": 3})
    graph.add_node("rnn", node_id="again", params={"hidden_size": 2})
    graph.add_node("output", node_id="out2", params={"loss": "mse", "target": "b"})
    for args in (
        ("cell", "y", "mean", "x"),
        ("mean", "y", "rep", "x"),
        ("rep", "y", "again", "x"),
        ("again", "y", "out2", "x"),
    ):
        graph.connect(*args)
    unrolled = unroll(graph, steps={"x": 4, "rep": 3})
    assert unrolled.dag.in_degree(UnrolledKey("mean", None)) == 4
    assert unrolled.dag.out_degree(UnrolledKey("mean", None)) == 3


def test_unroll_refuses_invalid_graphs_and_bad_lengths():
    graph = many_to_one()
    graph.remove_node("out")
    with pytest.raises(GraphInvalidError, match="no Output") as caught:
        unroll(graph)
    assert caught.value.problems
    with pytest.raises(UnrollError, match="no time axis 'y'"):
        unroll(many_to_one(), steps={"y": 3})
    with pytest.raises(UnrollError, match="between 1"):
        unroll(many_to_one(), steps=0)


def test_unroll_refuses_a_graph_too_large_to_hold(monkeypatch):
    # rnn_builder.graph.unroll is also the name of the function the package exports.
    unroll_module = importlib.import_module("rnn_builder.graph.unroll")
    monkeypatch.setattr(unroll_module, "MAX_UNROLLED_NODES", 100)
    with pytest.raises(UnrollError, match="fewer steps"):
        unroll(new_project("stacked_lstm").graph, steps=20)  # 6 nodes x 20 steps


def test_json_and_dot_exports_list_every_copy():
    unrolled = unroll(new_project("bidirectional_tagger").graph, steps=2)
    data = unrolled.to_json()
    assert data["nodes"] == unrolled.node_count == len(data["unrolled_nodes"])
    assert len(data["unrolled_edges"]) == unrolled.edge_count
    assert "tagger@1:reverse" in data["schedule"]
    dot = unrolled.to_dot()
    assert dot.startswith("digraph") and dot.count("->") == unrolled.edge_count
    assert '"tagger@1:reverse" -> "tagger@0:reverse" [style=dashed];' in dot
