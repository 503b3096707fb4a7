"""Which classic RNN layout a graph is: one-to-one, one-to-many, many-to-one, many-to-many.

Each Output is classified by where its value lives and what reaches it:

* a vector output that no sequence input reaches: **one-to-one** (a plain network);
* a vector output that a sequence input reaches: **many-to-one** (read, then sum up);
* a sequence output on the axis of a sequence input that reaches it, and no sequence input on
  another axis: **many-to-many, equal lengths** (one output per input step);
* a sequence output that a sequence input on *another* axis reaches: **many-to-many, unequal
  lengths** (an encoder-decoder);
* a sequence output that only vectors reach (through Repeat or a cell's ``h_0``):
  **one-to-many** (unfold one input over time).

A graph whose outputs all agree has that layout; otherwise it is *mixed* and each output keeps
its own answer. Only a valid graph is classified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

from rnn_builder.graph.model import Graph


@dataclass(frozen=True)
class LayoutKind:
    key: str
    title: str
    explanation: str
    examples: str

    @property
    def summary(self) -> str:
        """One line for a status bar: ``Many-to-one — e.g. sentiment analysis``."""
        return f"{self.title} — e.g. {self.examples}"


ONE_TO_ONE = LayoutKind(
    "one_to_one",
    "One-to-one",
    "One vector in, one vector out, with no time axis: a plain feed-forward network.",
    "image classification",
)
ONE_TO_ONE_UNROLLED = LayoutKind(
    "one_to_one",
    "One-to-one",
    "One vector in, one vector out; time runs only inside the network, which unrolls over "
    "steps of its own between the input and the answer.",
    "image classification",
)
ONE_TO_MANY = LayoutKind(
    "one_to_many",
    "One-to-many",
    "One vector in, a sequence out: the network unfolds a single input over time.",
    "music generation and image captioning",
)
MANY_TO_ONE = LayoutKind(
    "many_to_one",
    "Many-to-one",
    "A sequence in, one vector out: the network reads the whole sequence, then sums it up.",
    "sentiment analysis, summing up a signal, forecasting from a window of a series",
)
MANY_TO_MANY_EQUAL = LayoutKind(
    "many_to_many_equal",
    "Many-to-many (equal lengths)",
    "A sequence in and a sequence out on the same time axis: one output for every input step.",
    "tagging every word (named-entity recognition), language modelling",
)
MANY_TO_MANY_UNEQUAL = LayoutKind(
    "many_to_many_unequal",
    "Many-to-many (encoder-decoder)",
    "A sequence in and a sequence of another length out: an encoder reads the input, and a "
    "decoder writes the output on a time axis of its own.",
    "machine translation",
)
LAYOUT_KINDS = {
    k.key: k
    for k in (ONE_TO_ONE, ONE_TO_MANY, MANY_TO_ONE, MANY_TO_MANY_EQUAL, MANY_TO_MANY_UNEQUAL)
}


@dataclass(frozen=True)
class OutputLayout:
    output: str
    kind: LayoutKind
    inputs: tuple[str, ...]  # the input nodes that reach this output


@dataclass(frozen=True)
class Layout:
    """The layout of a whole graph: one kind, or mixed with each output's own."""

    kind: LayoutKind | None  # None when outputs disagree
    outputs: tuple[OutputLayout, ...]
    output_names: tuple[str, ...]

    @property
    def key(self) -> str:
        return self.kind.key if self.kind else "mixed"

    @property
    def title(self) -> str:
        if self.kind is not None:
            return self.kind.title
        parts = [f"{o.kind.title.lower()} ('{name}')" for o, name in self._named()]
        return "Mixed: " + ", ".join(parts)

    @property
    def summary(self) -> str:
        return self.kind.summary if self.kind is not None else self.title

    @property
    def explanation(self) -> str:
        if self.kind is not None:
            many = f" (all {len(self.outputs)} outputs)" if len(self.outputs) > 1 else ""
            return f"{self.kind.explanation}{many} Classic example: {self.kind.examples}."
        lines = [
            f"Output '{name}' is {o.kind.title.lower()}: {o.kind.explanation}"
            for o, name in self._named()
        ]
        return " ".join(lines)

    def _named(self):
        return zip(self.outputs, self.output_names, strict=True)

    def to_json(self) -> dict:
        return {
            "layout": self.key,
            "title": self.title,
            "summary": self.summary,
            "explanation": self.explanation,
            "outputs": [
                {"output": o.output, "layout": o.kind.key, "inputs": list(o.inputs)}
                for o in self.outputs
            ],
        }


def layout_of(graph: Graph, node_axes: Mapping[str, str]) -> Layout:
    """The layout of a valid graph, from the time axis of each per-step node (validation's
    ``node_axes``). Validation calls it: ask a report for its ``layout``, or
    :func:`~rnn_builder.graph.validation.classify`."""
    folded = nx.DiGraph()
    folded.add_nodes_from(graph.nodes)
    folded.add_edges_from((e.src_node, e.dst_node) for e in graph.edges)
    per_output = []
    inputs_of_graph = {n.id for n in graph.inputs()}
    for node in graph.outputs():
        ancestors = nx.ancestors(folded, node.id)
        inputs = tuple(n for n in graph.nodes if n in ancestors and n in inputs_of_graph)
        sequence_axes = {node_axes.get(n) for n in inputs if graph.node_type(n).starts_axis}
        output_axis = node_axes.get(node.id)
        if output_axis is None and sequence_axes:
            kind = MANY_TO_ONE
        elif output_axis is None:
            inner_time = any(n in node_axes for n in ancestors)
            kind = ONE_TO_ONE_UNROLLED if inner_time else ONE_TO_ONE
        elif sequence_axes - {output_axis}:
            kind = MANY_TO_MANY_UNEQUAL
        elif output_axis in sequence_axes:
            kind = MANY_TO_MANY_EQUAL
        else:
            kind = ONE_TO_MANY
        per_output.append(OutputLayout(node.id, kind, inputs))
    keys = {o.kind.key for o in per_output}
    names = tuple(graph.node(o.output).name for o in per_output)
    kind = per_output[0].kind if len(keys) == 1 else None
    return Layout(kind, tuple(per_output), names)
