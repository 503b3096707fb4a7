"""Small graph builders used across the tests."""

from __future__ import annotations

from rnn_builder.graph.model import Graph


def wire(graph: Graph, *specs: str) -> None:
    """Connect ``"a.y" -> "b.x"`` for each consecutive pair of ``node.port`` specs."""
    for source, target in zip(specs[::2], specs[1::2], strict=True):
        src, src_port = source.split(".")
        dst, dst_port = target.split(".")
        graph.connect(src, src_port, dst, dst_port)


def many_to_one(cell: str = "lstm", **cell_params) -> Graph:
    """words → cell → h_n → dense → output: the graph of the hand count in the issue."""
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node(cell, node_id="cell", params={"hidden_size": 4, **cell_params})
    g.add_node("dense", node_id="dense", params={"units": 2})
    g.add_node("output", node_id="out")
    wire(g, "x.y", "cell.x", "cell.h_n", "dense.x", "dense.y", "out.x")
    return g


def tagger(**cell_params) -> Graph:
    """x → rnn → y → dense (per step) → output (per step)."""
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node("rnn", node_id="cell", params={"hidden_size": 4, **cell_params})
    g.add_node("dense", node_id="dense", params={"units": 3})
    g.add_node("output", node_id="out")
    wire(g, "x.y", "cell.x", "cell.y", "dense.x", "dense.y", "out.x")
    return g
