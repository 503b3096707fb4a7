"""What the generated ``forward`` is written with: :class:`Source` (its lines and where the value
of every port is kept) and a Delay's teacher (the target it is forced to in training); each node
type's own lines come from its form (:mod:`.pytorch_forms`).

Node values never become Python variables of their own: every port's value is an entry of one
dict, ``values["<node id>"]`` for a node's output ``y`` and ``values["<node id>.<port>"]`` for
its others (ids hold no ``.``), and inside a feedback loop the step's values are
``current["<node id>"]``. So no id can shadow what the generated code names itself (``next``,
``range``, ``torch``, ``self``, a cell's ``h_new``), whatever the user calls a node. Node ids
are written into double-quoted literals as they are (they are ``[A-Za-z0-9_-]``,
``graph.NODE_ID_PATTERN``); any other text of the user's (a target's name) goes through
:func:`python_text`.
"""

from __future__ import annotations

import re

from rnn_builder.engine.executor import Executor
from rnn_builder.graph.nodes import SEQ


def python_text(text: str) -> str:
    """``text`` as a Python string literal: double-quoted when it can be as it is, else
    escaped (quotes, backslashes, line breaks), so that no text can end the literal."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return repr(text)


def docstring_text(text: str) -> str:
    """``text`` as it may stand inside a triple-quoted docstring (not right before its
    closing quotes): on one line, reading as written; backslashes, characters that do not
    print, and a quote followed by another are escaped, so that it can never close it."""
    text = "".join(
        c if c.isprintable() else repr(c)[1:-1]
        for c in " ".join(text.split()).replace("\\", "\\\\")
    )
    return re.sub(r'"(?=")', r'\\"', text)


class Source:
    """Lines of ``forward`` and the expression holding every port computed so far."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.graph = executor.graph
        self.report = executor.report
        self.lines: list[str] = []
        self.names: dict[tuple[str, str], str] = {}
        self.step_refs: dict[tuple[str, str], str] = {}  # inside a loop: one step's value
        self.in_loop = False

    def emit(self, line: str, indent: int = 2) -> None:
        self.lines.append("    " * indent + line if line else "")

    def name(self, node_id: str, port: str) -> str:
        """Where the value of ``node_id``'s ``port`` is kept: an entry of ``values``."""
        key = node_id if port == "y" else f"{node_id}.{port}"
        self.names[(node_id, port)] = f'values["{key}"]'
        return self.names[(node_id, port)]

    def current(self, node_id: str) -> str:
        """Inside a feedback loop: where this step's value of ``node_id``'s ``y`` is kept."""
        return f'current["{node_id}"]'

    def shape(self, key: tuple[str, str]):
        return self.report.shapes.outputs[key]

    def tokens(self, key: tuple[str, str]) -> bool:
        return self.shape(key).vocabulary is not None

    def source(self, node_id: str, port: str) -> tuple[str, str] | None:
        edges = self.graph.edges_into(node_id, port)
        return (edges[0].src_node, edges[0].src_port) if edges else None

    def ref(self, key: tuple[str, str], whole: bool = False) -> str:
        """The value of a port here: a step's value inside a loop, else (or when read
        ``whole``, as a ``PortSpec.whole_axis`` input reads it) the whole value."""
        if whole:
            return self.names[key]
        if key in self.step_refs:
            return self.step_refs[key]
        if self.in_loop and self.shape(key).kind == SEQ:
            return f"{self.names[key]}[t]"
        return self.names[key]

    def floats(self, key: tuple[str, str], whole: bool = False) -> str:
        """A port's value as float vectors (token ids one-hot, as our ``ops.dense``)."""
        value = self.ref(key, whole)
        return f"one_hot({value}, {self.shape(key).width}, dtype)" if self.tokens(key) else value

    def shape_text(self, key: tuple[str, str], in_loop: bool = False) -> str:
        shape = self.shape(key)
        if shape.kind == SEQ and not in_loop:
            return "(T, B)  token ids" if self.tokens(key) else f"(T, B, {shape.width})"
        return "(B,)  token ids" if self.tokens(key) else f"(B, {shape.width})"


def teacher(src: Source, node) -> tuple[str, str] | None:
    """For a Delay tied to an Output: the line deciding teacher forcing, and the target as fed
    back (one-hot classes, or values), as ``Executor._teacher``."""
    output_id = src.executor.feedback_outputs.get(node.id)
    if output_id is None:
        return None
    output = src.graph.node(output_id)
    target = python_text(output.params["target"])
    width = src.report.shapes.inputs[(output_id, "x")].width
    if output.params["loss"] == "cross_entropy":
        fed = f"one_hot(targets[{target}], {width}, dtype)"
    else:
        fed = f"targets[{target}].to(dtype)"
    return f"forced = self.training and {target} in targets", fed
