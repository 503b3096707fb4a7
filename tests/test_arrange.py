"""Arrange in the core (no Qt), on graphs larger than the templates: a long chain, many loops
through Delays side by side, and a cycle with no Delay."""

from __future__ import annotations

import itertools

from rnn_builder.graph.arrange import ROW_GAP, arrange, columns, feedback_edges
from rnn_builder.graph.card import card_size
from rnn_builder.graph.model import Edge, Graph

from .helpers import wire

STEPS = ("words", "embed", "encoder", "decoder", "scores")


def _chain(length: int) -> Graph:
    graph = Graph()
    graph.add_node("sequence_input", node_id="n0", params={"features": 4})
    for i in range(1, length):
        graph.add_node("dense", node_id=f"n{i}", params={"units": 4})
        wire(graph, f"n{i - 1}.y", f"n{i}.x")
    return graph


def _translators(copies: int) -> Graph:
    """``copies`` translators, each feeding its digits back to its decoder through a Delay."""
    graph = Graph()
    for k in range(copies):
        graph.add_node("sequence_input", node_id=f"words{k}", params={"vocabulary": 32})
        graph.add_node("embedding", node_id=f"embed{k}", params={"vocabulary": 32})
        graph.add_node("gru", node_id=f"encoder{k}", params={"hidden_size": 8})
        graph.add_node("gru", node_id=f"decoder{k}", params={"hidden_size": 8})
        graph.add_node("dense", node_id=f"scores{k}", params={"units": 12})
        graph.add_node("output", node_id=f"digits{k}", params={"target": "digits"})
        graph.add_node("delay", node_id=f"previous{k}", params={"initial": "start_token"})
        wire(graph, f"words{k}.y", f"embed{k}.tokens", f"embed{k}.y", f"encoder{k}.x")
        wire(graph, f"encoder{k}.h_n", f"decoder{k}.h_0", f"decoder{k}.y", f"scores{k}.x")
        wire(graph, f"scores{k}.y", f"digits{k}.x", f"scores{k}.y", f"previous{k}.x")
        wire(graph, f"previous{k}.y", f"decoder{k}.x")
    return graph


def test_a_long_chain_is_one_row_a_column_a_node():
    positions = arrange(_chain(300))
    # a card 176 wide and a 24-px gap: a column every 200 px; every card's middle on y = 0
    assert [positions[f"n{i}"] for i in range(300)] == [(200.0 * i, -40.0) for i in range(300)]


def test_many_loops_through_delays_lie_copy_under_copy():
    copies = 40
    graph = _translators(copies)
    assert set(feedback_edges(graph)) == {
        Edge(f"previous{k}", "y", f"decoder{k}", "x") for k in range(copies)
    }
    laid = columns(graph)
    assert laid[: len(STEPS)] == [[f"{step}{k}" for k in range(copies)] for step in STEPS]
    # the output on the right, its Delay under it, each copy under the one before
    assert laid[len(STEPS) :] == [
        [f"{n}{k}" for k in range(copies) for n in ("digits", "previous")]
    ]
    positions, one = arrange(graph), arrange(_translators(1))
    for column in laid:
        assert {positions[n][0] for n in column} == {one[column[0]][0]}  # copy 0 heads each column
        for upper, lower in itertools.pairwise(column):
            bottom = positions[upper][1] + card_size(graph.node_type(upper))[1]
            assert positions[lower][1] >= bottom + ROW_GAP, (upper, lower)


def test_a_cycle_with_no_delay_is_cut_at_the_wire_into_the_first_node():
    graph = Graph()
    for node_id in ("a", "b", "c"):
        graph.add_node("dense", node_id=node_id, params={"units": 4})
    wire(graph, "a.y", "b.x", "b.y", "c.x", "c.y", "a.x")
    assert feedback_edges(graph) == [Edge("c", "y", "a", "x")]
    assert columns(graph) == [["a"], ["b"], ["c"]]
