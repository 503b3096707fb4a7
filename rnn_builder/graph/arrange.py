"""Arrange: a graph laid out left to right, as a reader follows it.

Inputs on the left, outputs on the right, every node in the column after the last of the nodes
that feed it, and the nodes of a column stacked with a gap so that no card covers another. A
wire back through a Delay (feedback) is left out of the columns' order: the Delay sits after
the node it delays and its wire runs back to the left (the canvas draws such a wire below the
nodes it passes).

networkx's ``topological_generations`` gives the columns (the longest path from an input);
here the order within a column is chosen (each node by the mean place of the nodes that feed
it, so that wires cross little), and each column is stacked with each node's own height and
centred. No Qt: the command line and the templates arrange graphs too, and the app's
*Arrange* is this, as one undo step.
"""

from __future__ import annotations

import math

import networkx as nx

from rnn_builder.graph.card import NODE_WIDTH, card_size
from rnn_builder.graph.model import Edge, Graph, Position

COLUMN_GAP = 24.0  # between two columns' cards: a wire's bend (wider, a 5-column graph fit 65 %)
ROW_GAP = 40.0  # between two cards of one column
GRID = 20.0  # the canvas's grid: arranged corners sit on it, as dragged ones snap to it


def feedback_edges(graph: Graph) -> list[Edge]:
    """The wires that run back: out of a Delay into the loop it closes, or (a cycle with no
    Delay, which validation reports) the wire that closes each cycle last. Without them the
    graph is acyclic."""
    edges = graph.edges
    wires = nx.MultiDiGraph()
    wires.add_nodes_from(graph.nodes)
    for edge in edges:
        wires.add_edge(edge.src_node, edge.dst_node, key=edge)
    part_of = {
        node_id: index
        for index, part in enumerate(nx.strongly_connected_components(wires))
        for node_id in part
    }
    back = [
        edge
        for edge in edges
        if part_of[edge.src_node] == part_of[edge.dst_node]
        and graph.node_type(edge.src_node).shifts_time
    ]
    for edge in back:
        wires.remove_edge(edge.src_node, edge.dst_node, key=edge)
    order = {node_id: i for i, node_id in enumerate(graph.nodes)}
    while True:
        try:
            cycle = nx.find_cycle(wires)
        except nx.NetworkXNoCycle:
            return back
        # the wire into the node that comes first in the graph's order closes the cycle
        source, target, key = min(cycle, key=lambda e: order[e[1]])
        back.append(key)
        wires.remove_edge(source, target, key=key)


def columns(graph: Graph) -> list[list[str]]:
    """The node ids column by column, left to right, each column top to bottom."""
    back = set(feedback_edges(graph))
    forward = nx.DiGraph()
    forward.add_nodes_from(graph.nodes)
    forward.add_edges_from((e.src_node, e.dst_node) for e in graph.edges if e not in back)
    generations = [list(g) for g in nx.topological_generations(forward)]
    column_of = {n: i for i, generation in enumerate(generations) for n in generation}
    last = len(generations) - 1
    for node in graph:  # outputs on the right, whatever the length of their path
        if graph.node_type(node.id).is_output and forward.out_degree(node.id) == 0:
            column_of[node.id] = last
    order = {node_id: i for i, node_id in enumerate(graph.nodes)}
    placed: list[list[str]] = [[] for _ in range(last + 1)]
    for node_id in graph.nodes:  # each column in the graph's order, sorted below
        placed[column_of[node_id]].append(node_id)
    rank: dict[str, float] = {}

    def key(node_id: str) -> tuple[float, int]:
        feeding = [rank[p] for p in forward.predecessors(node_id) if p in rank]
        middle = sum(feeding) / len(feeding) if feeding else float(order[node_id])
        return (middle, order[node_id])

    for members in placed:
        members.sort(key=key)
        centre = (len(members) - 1) / 2
        for place, node_id in enumerate(members):
            rank[node_id] = place - centre
    return [column for column in placed if column]


def arrange(graph: Graph, origin: Position = (0.0, 0.0)) -> dict[str, Position]:
    """Canvas positions (top-left corners) for every node of ``graph``: columns left to right,
    no card (:func:`~rnn_builder.graph.card.card_size`) over another. The first column starts
    at ``origin``'s x and the columns are centred on its y."""
    positions: dict[str, Position] = {}
    for index, column in enumerate(columns(graph)):
        x = origin[0] + index * (NODE_WIDTH + COLUMN_GAP)
        heights = [card_size(graph.node_type(n))[1] for n in column]
        y = _on_grid(origin[1] - (sum(heights) + ROW_GAP * (len(column) - 1)) / 2)
        for node_id, height in zip(column, heights, strict=True):
            positions[node_id] = (float(_on_grid(x)), float(y))
            y = _on_grid(y + height + ROW_GAP, up=True)
    return positions


def _on_grid(value: float, up: bool = False) -> float:
    steps = value / GRID
    return (math.ceil(steps - 1e-9) if up else round(steps)) * GRID


def apply_arrangement(graph: Graph) -> None:
    """Move every node of ``graph`` to where :func:`arrange` puts it."""
    for node_id, position in arrange(graph).items():
        graph.set_position(node_id, position)
