"""What may be wired to what, and why not, in words: the refusals of
:meth:`~rnn_builder.graph.model.Graph.connect` (each a named
:class:`~rnn_builder.errors.WiringError`). What depends on the rest of the graph beyond a wire's
two ends is :func:`rnn_builder.graph.validation.validate`'s."""

from __future__ import annotations

from typing import NamedTuple, Protocol

from rnn_builder.errors import (
    DuplicateEdgeError,
    PortAlreadyConnectedError,
    PortKindMismatchError,
    SelfConnectionError,
    UnknownPortError,
    WrongDirectionError,
)
from rnn_builder.graph.nodes import SEQ, VEC, NodeType, PortSpec


class Wires(Protocol):
    """What the check reads of the graph (:class:`rnn_builder.graph.model.Graph` is one; named
    here, not imported: the graph's ``connect`` calls this module)."""

    def node_type(self, node_id: str) -> NodeType: ...
    def describe(self, node_id: str) -> str: ...
    def has_edge(self, edge: NamedTuple) -> bool: ...
    def edges_into(self, node_id: str, port: str | None = None) -> list: ...
    def output_kind(self, node_id: str, port: str, spec: PortSpec) -> str | None: ...


KIND_WORDS = {SEQ: "sequence", VEC: "vector"}


def check_wire(graph: Wires, edge: NamedTuple) -> None:
    """Raise the named reason why ``edge`` (an :class:`~rnn_builder.graph.model.Edge`) cannot
    be made in ``graph`` as it is; nothing when it can."""
    src_node, src_port, dst_node, dst_port = edge
    src_type = graph.node_type(src_node)
    dst_type = graph.node_type(dst_node)
    src_spec = src_type.output_port(src_port)
    dst_spec = dst_type.input_port(dst_port)
    if src_spec is None and src_type.input_port(src_port) is not None:
        raise WrongDirectionError(
            f"'{src_port}' is an input of {graph.describe(src_node)}: a wire starts at an "
            "output port and ends at an input port"
        )
    if dst_spec is None and dst_type.output_port(dst_port) is not None:
        raise WrongDirectionError(
            f"'{dst_port}' is an output of {graph.describe(dst_node)}: a wire ends at an input port"
        )
    if src_spec is None:
        raise UnknownPortError(unknown_port(graph.describe(src_node), src_port, src_type))
    if dst_spec is None:
        raise UnknownPortError(unknown_port(graph.describe(dst_node), dst_port, dst_type))
    if graph.has_edge(edge):
        raise DuplicateEdgeError(f"that wire already exists ({edge})")
    if src_node == dst_node:
        if src_type.shifts_time:
            raise SelfConnectionError(
                f"{graph.describe(src_node)} fed by itself would only ever repeat its first "
                "value; feed it from the layer whose output you want one step later"
            )
        raise SelfConnectionError(
            f"{graph.describe(src_node)} cannot feed itself directly; a feedback loop "
            "needs a Delay between the output and the input"
        )
    fed = graph.edges_into(dst_node, dst_port)
    if fed:
        raise PortAlreadyConnectedError(
            f"{graph.describe(dst_node)} already receives '{dst_port}' from "
            f"{graph.describe(fed[0].src_node)}: an input takes one wire, so remove that "
            "one first"
        )
    kind = graph.output_kind(src_node, src_port, src_spec)
    if kind is not None and kind not in dst_spec.kinds:
        raise PortKindMismatchError(
            f"{graph.describe(src_node)} gives a {KIND_WORDS[kind]} at '{src_port}', but "
            f"'{dst_port}' of {graph.describe(dst_node)} takes a "
            f"{' or '.join(KIND_WORDS[k] for k in sorted(dst_spec.kinds))}"
            f"{kind_hint(kind)}"
        )


def kind_hint(kind: str) -> str:
    if kind == SEQ:
        return " (use Last step or Mean over time to turn a sequence into a vector)"
    return " (use Repeat to turn a vector into a sequence)"


def unknown_port(who: str, port: str, node_type: NodeType, direction: str = "") -> str:
    ports = node_type.outputs if direction == "output" else node_type.inputs
    if not direction:
        ports = (*node_type.inputs, *node_type.outputs)
    names = ", ".join(p.name for p in ports) or "none"
    what = f"{direction} port" if direction else "port"
    return f"{who} has no {what} '{port}' (it has: {names})"
