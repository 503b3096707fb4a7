"""The folded graph: nodes with stable string ids, typed ports, and wires between them.

This is the model every view and command works on. It owns no Qt and no numerics: editing
methods change the model and announce the change through plain-Python events
(``node_added``, ``node_removed``, ``edge_added``, ``edge_removed``, ``param_changed``,
``position_changed``, ``name_changed``), which a canvas subscribes to.

Semantics. A wire is a value, :class:`Edge`, from an output port to an input port. An input
port takes one wire; an output port feeds any number. :meth:`Graph.connect` refuses what can
never be right (wrong direction, a sequence into a vector port, a fed port, unknown names) with
a named :class:`~rnn_builder.errors.WiringError`; everything that depends on the rest of the
graph (shapes, time axes, cycles) is reported by :func:`rnn_builder.graph.validation.validate`
instead, so a graph can pass through invalid states while the user edits it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from rnn_builder.errors import (
    DuplicateEdgeError,
    DuplicateNodeError,
    InvalidParameterError,
    UnknownEdgeError,
    UnknownNodeError,
    UnknownPortError,
)
from rnn_builder.graph.events import Event
from rnn_builder.graph.nodes import NodeInfo, NodeType, PortSpec
from rnn_builder.graph.registry import NodeRegistry, default_registry
from rnn_builder.graph.shapes import ShapeMap, infer_shapes
from rnn_builder.graph.wiring import check_wire, unknown_port
from rnn_builder.values import is_number, is_savable_text, short

NODE_ID_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,63}")
NODE_ID_RULE = "1 to 64 ASCII letters, digits, '_' or '-', starting with a letter or '_'"
# What a model returns holds each Output's scores under the Output's id, and the summed loss
# under "loss" (the PyTorch export's forward): an Output of that id would hide the other.
OUTPUT_RESERVED_IDS = frozenset({"loss"})
MAX_NAME_LENGTH = 100


class Edge(NamedTuple):
    """A wire from ``src_node.src_port`` (an output) to ``dst_node.dst_port`` (an input)."""

    src_node: str
    src_port: str
    dst_node: str
    dst_port: str

    def __str__(self) -> str:
        return f"{self.src_node}.{self.src_port} -> {self.dst_node}.{self.dst_port}"


Position = tuple[float, float]


@dataclass
class Node:
    """A node of the graph. Change it through :class:`Graph` so that views hear of it."""

    id: str
    type_name: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    position: Position = (0.0, 0.0)

    def info(self) -> NodeInfo:
        return NodeInfo(self.id, self.name, self.params)


def valid_node_id(node_id: object) -> bool:
    return isinstance(node_id, str) and NODE_ID_PATTERN.fullmatch(node_id) is not None


def node_id_problem(node_id: object, node_type: NodeType) -> str | None:
    """Why ``node_id`` cannot name a node of ``node_type``, in words; None when it can.

    Any id of :data:`NODE_ID_PATTERN` may, whatever word it is (``class``, ``next``,
    ``forward``): the exports keep node values and submodules apart from their own names
    (``export/pytorch_source.py``, ``export/torch_names.py``). The one exception is an Output
    called ``loss`` (:data:`OUTPUT_RESERVED_IDS`)."""
    if not valid_node_id(node_id):
        return f"{short(node_id)} cannot be a node id: use {NODE_ID_RULE}"
    if node_type.is_output and node_id in OUTPUT_RESERVED_IDS:
        return (
            f"an {node_type.title} cannot have the id '{node_id}': an exported model returns "
            f"the summed loss under '{node_id}' beside each {node_type.title}'s scores"
        )
    return None


class Graph:
    """A recurrent network as a graph of typed nodes, before unrolling."""

    def __init__(self, registry: NodeRegistry | None = None) -> None:
        self.registry = registry or default_registry()
        self._nodes: dict[str, Node] = {}
        self._edges: dict[Edge, None] = {}  # an ordered set: saves are stable
        self.node_added = Event("node_added")  # (node)
        self.node_removed = Event("node_removed")  # (node)
        self.edge_added = Event("edge_added")  # (edge)
        self.edge_removed = Event("edge_removed")  # (edge)
        self.param_changed = Event("param_changed")  # (node_id, name, old, new)
        self.position_changed = Event("position_changed")  # (node_id, old, new)
        self.name_changed = Event("name_changed")  # (node_id, old, new)
        # Counts the edits that change what the graph means (all but moves), so that what is
        # worked out from it (its validation) is kept until the next such edit.
        self.revision = 0
        self.checked: tuple[int, Any] | None = None  # (revision, ValidationReport): validate's
        self._shapes: tuple[int, ShapeMap] | None = None  # (revision, shapes): check_connect's

    # --- reading ----------------------------------------------------------------------------

    @property
    def nodes(self) -> Mapping[str, Node]:
        return self._nodes

    @property
    def edges(self) -> list[Edge]:
        return list(self._edges)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except (KeyError, TypeError):
            raise UnknownNodeError(f"there is no node '{node_id}' in the graph") from None

    def node_type(self, node_id: str) -> NodeType:
        return self.registry.get(self.node(node_id).type_name)

    def inputs(self) -> list[Node]:
        """The nodes where data enters (their types' ``is_input``), in the graph's order."""
        return [n for n in self._nodes.values() if self.registry.get(n.type_name).is_input]

    def outputs(self) -> list[Node]:
        """The nodes compared with targets (their types' ``is_output``)."""
        return [n for n in self._nodes.values() if self.registry.get(n.type_name).is_output]

    def cells(self) -> list[Node]:
        """The recurrent cells (their types carry a ``cell`` spec)."""
        return [n for n in self._nodes.values() if self.registry.get(n.type_name).cell is not None]

    def sequence_inputs(self) -> list[Node]:
        """The inputs that take sequences (each starts a time axis)."""
        return [n for n in self.inputs() if self.registry.get(n.type_name).starts_axis]

    def output_for(self, target: str) -> Node | None:
        """The output compared with ``target``, if any."""
        return next(
            (n for n in self.outputs() if self.registry.get(n.type_name).target(n) == target), None
        )

    def describe(self, node_id: str) -> str:
        """``LSTM cell 'encoder'``: how messages name a node."""
        node = self._nodes.get(node_id)
        if node is None:
            return f"'{node_id}'"
        title = (
            self.registry.get(node.type_name).title if node.type_name in self.registry else "node"
        )
        return f"{title} '{node.name}'"

    def has_edge(self, edge: Edge) -> bool:
        return edge in self._edges

    def edges_into(self, node_id: str, port: str | None = None) -> list[Edge]:
        return [
            e for e in self._edges if e.dst_node == node_id and (port is None or e.dst_port == port)
        ]

    def edges_out_of(self, node_id: str, port: str | None = None) -> list[Edge]:
        return [
            e for e in self._edges if e.src_node == node_id and (port is None or e.src_port == port)
        ]

    def edges_touching(self, node_id: str) -> list[Edge]:
        return [e for e in self._edges if node_id in (e.src_node, e.dst_node)]

    def new_node_id(self, base: str, taken: Iterable[str] = ()) -> str:
        """The first id of the form ``base_1``, ``base_2``, ... that no node has as its id or
        its name (a new node is named after its id, and names are unique: see
        :meth:`check_rename`), nor is one of ``taken``."""
        stem = re.sub(r"[^A-Za-z0-9_\-]", "_", base)[:56] or "node"
        if not stem[0].isalpha() and stem[0] != "_":
            stem = "n_" + stem
        taken = {*taken, *(node.name for node in self._nodes.values())}
        n = 1
        while f"{stem}_{n}" in self._nodes or f"{stem}_{n}" in taken:
            n += 1
        return f"{stem}_{n}"

    def name_owner(self, name: str, besides: str | None = None) -> Node | None:
        """The node (other than ``besides``) called ``name``, if any."""
        return next((n for n in self._nodes.values() if n.name == name and n.id != besides), None)

    # --- editing nodes ----------------------------------------------------------------------

    def add_node(
        self,
        type_name: str,
        *,
        node_id: str | None = None,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        position: Iterable[float] = (0.0, 0.0),
        strict: bool = True,
    ) -> Node:
        """Add a node of a registered type and return it.

        Parameters not given take their defaults. Values of the wrong type are refused with
        :class:`InvalidParameterError`; values out of range, and a name another node has, are
        refused too when ``strict``, and kept (for validation to report) otherwise: a loaded
        file loses nothing.
        """
        node_type = self.registry.get(type_name)
        if node_id is None:
            node_id = self.new_node_id(type_name)
        elif (problem := node_id_problem(node_id, node_type)) is not None:
            raise InvalidParameterError(problem)
        if node_id in self._nodes:
            raise DuplicateNodeError(f"there is already a node with id '{node_id}'")
        if strict:
            self._check_unique_name(name if name is not None else node_id, node_id)
        values = node_type.default_params()
        for key, value in (params or {}).items():
            values[key] = self._checked_param(node_type, node_id, key, value, strict)
        node = Node(
            node_id,
            type_name,
            self.checked_name(name if name is not None else node_id),
            values,
            _checked_position(position),
        )
        self._nodes[node_id] = node
        self.revision += 1
        self.node_added.emit(node)
        return node

    def insert_node(self, node: Node, index: int | None = None) -> Node:
        """Put back a node as it was (undo of a removal), with the checks of a lenient
        :meth:`add_node`, at ``index`` in the node order (so that a file saved after undo is
        the file saved before); its wires are re-added apart."""
        if index is not None and node.id not in self._nodes:
            restored = self.checked_node(node)
            self._nodes = _inserted(self._nodes, node.id, restored, index)
            self.revision += 1
            self.node_added.emit(restored)
            return restored
        return self.add_node(
            node.type_name,
            node_id=node.id,
            name=node.name,
            params=node.params,
            position=node.position,
            strict=False,
        )

    def checked_node(self, node: Node) -> Node:
        """``node`` as :meth:`insert_node` would add it (its type's defaults filled in), or
        the error it would raise: a caller that must not fail halfway (an undo command adding
        several nodes) asks first. Its id is not compared with the graph's."""
        node_type = self.registry.get(node.type_name)
        problem = node_id_problem(node.id, node_type)
        if problem is not None:
            raise InvalidParameterError(problem)
        checked = Node(node.id, node.type_name, self.checked_name(node.name))
        checked.params = node_type.default_params()
        for key, value in node.params.items():
            checked.params[key] = self._checked_param(node_type, node.id, key, value, False)
        checked.position = _checked_position(node.position)
        return checked

    def remove_node(self, node_id: str) -> list[Edge]:
        """Remove a node and its wires; returns the wires removed (for undo)."""
        node = self.node(node_id)
        removed = self.edges_touching(node_id)
        for edge in removed:
            self.disconnect(edge)
        del self._nodes[node_id]
        self.revision += 1
        self.node_removed.emit(node)
        return removed

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        node = self.node(node_id)
        node_type = self.registry.get(node.type_name)
        value = self._checked_param(node_type, node.name, name, value, strict=True)
        old = node.params.get(name)
        if old == value and type(old) is type(value):
            return
        node.params[name] = value
        self.revision += 1
        self.param_changed.emit(node_id, name, old, value)

    def restore_param(self, node_id: str, name: str, value: Any) -> None:
        """Put a parameter back as it was, unchecked (an undo: a value read from a file may be
        out of range, and is shown as a problem rather than refused); an edit like any other
        (its validation is worked out again)."""
        node = self.node(node_id)
        old = node.params.get(name)
        node.params[name] = value
        self.revision += 1
        self.param_changed.emit(node_id, name, old, value)

    def set_position(self, node_id: str, position: Iterable[float]) -> None:
        node = self.node(node_id)
        new = _checked_position(position)
        old = node.position
        if new == old:
            return
        node.position = new
        self.position_changed.emit(node_id, old, new)

    def check_rename(self, node_id: str, name: Any) -> str:
        """``name`` as :meth:`rename` would give it to ``node_id``, or the named reason it
        cannot (:class:`InvalidParameterError`): text a node cannot carry, or a name another
        node has — the canvas, the inspector and every message tell nodes apart by their names.
        A node keeps the name it has, even one a file gave two nodes (such a file loads)."""
        node = self.node(node_id)
        name = self.checked_name(name)
        if name != node.name:
            self._check_unique_name(name, node_id)
        return name

    def rename(self, node_id: str, name: str) -> None:
        """Call a node by another name (refused as :meth:`check_rename` says)."""
        self._set_name(node_id, self.check_rename(node_id, name))

    def restore_name(self, node_id: str, name: str) -> None:
        """Put a name back as it was (an undo), even one another node has too: a file read
        with two nodes of one name keeps both, and undoing a rename there must not fail."""
        self._set_name(node_id, self.checked_name(name))

    def _set_name(self, node_id: str, name: str) -> None:
        node = self.node(node_id)
        old = node.name
        if old == name:
            return
        node.name = name
        self.revision += 1
        self.name_changed.emit(node_id, old, name)

    # --- editing wires ----------------------------------------------------------------------

    def check_connect(self, src_node: str, src_port: str, dst_node: str, dst_port: str) -> Edge:
        """Return the edge if the wire can be made, else raise the named reason
        (:func:`rnn_builder.graph.wiring.check_wire`)."""
        edge = Edge(src_node, src_port, dst_node, dst_port)
        check_wire(self, edge)
        return edge

    def connect(self, src_node: str, src_port: str, dst_node: str, dst_port: str) -> Edge:
        """Wire an output to an input, refusing impossible wires (see :meth:`check_connect`)."""
        edge = self.check_connect(src_node, src_port, dst_node, dst_port)
        self._edges[edge] = None
        self.revision += 1
        self.edge_added.emit(edge)
        return edge

    def add_edge(self, edge: Edge, index: int | None = None) -> Edge:
        """Add a wire whose ends exist, without the semantic checks of :meth:`connect`, at
        ``index`` in the wire order if given (undo puts wires back where they were).

        Used to load files and to undo: a file with two wires into one port loads, and
        validation reports the problem, rather than losing a wire.
        """
        edge = Edge(*edge)
        src_type = self.node_type(edge.src_node)
        dst_type = self.node_type(edge.dst_node)
        if src_type.output_port(edge.src_port) is None:
            raise UnknownPortError(
                unknown_port(self.describe(edge.src_node), edge.src_port, src_type, "output")
            )
        if dst_type.input_port(edge.dst_port) is None:
            raise UnknownPortError(
                unknown_port(self.describe(edge.dst_node), edge.dst_port, dst_type, "input")
            )
        if edge in self._edges:
            raise DuplicateEdgeError(f"that wire already exists ({edge})")
        if index is None:
            self._edges[edge] = None
        else:
            self._edges = _inserted(self._edges, edge, None, index)
        self.revision += 1
        self.edge_added.emit(edge)
        return edge

    def disconnect(self, edge: Edge) -> None:
        edge = Edge(*edge)
        if edge not in self._edges:
            raise UnknownEdgeError(f"there is no wire {edge}")
        del self._edges[edge]
        self.revision += 1
        self.edge_removed.emit(edge)

    # --- whole graph ------------------------------------------------------------------------

    def clear(self) -> None:
        for node_id in list(self._nodes):
            self.remove_node(node_id)

    def copy(self) -> Graph:
        """A deep copy with the same registry and no subscribers."""
        other = Graph(self.registry)
        other._nodes = copy.deepcopy(self._nodes)
        other._edges = dict(self._edges)
        other.revision, other.checked = self.revision, self.checked  # the same meaning
        return other

    def port_spec(self, node_id: str, port: str) -> PortSpec | None:
        node_type = self.node_type(node_id)
        return node_type.input_port(port) or node_type.output_port(port)

    # --- helpers ----------------------------------------------------------------------------

    def output_kind(self, node_id: str, port: str, spec: PortSpec) -> str | None:
        """The kind (``seq`` / ``vec``) output ``port`` gives, as far as the graph so far
        says (None where it cannot say)."""
        if len(spec.kinds) == 1:
            return next(iter(spec.kinds))
        # Kept until the next edit: checking many wires into one graph (the quick-add box's
        # choices, a wire from a Dense tried on every type) inferred the whole graph each time
        if self._shapes is None or self._shapes[0] != self.revision:
            self._shapes = (self.revision, infer_shapes(self))
        shape = self._shapes[1].outputs.get((node_id, port))
        return None if shape is None else shape.kind

    def _checked_param(
        self, node_type: NodeType, node_label: str, key: str, value: Any, strict: bool
    ) -> Any:
        spec = node_type.param_spec(key)
        if spec is None:
            known = ", ".join(p.name for p in node_type.params) or "none"
            raise InvalidParameterError(
                f"{node_type.title} has no parameter '{key}' (its parameters: {known})"
            )
        try:
            value = spec.coerce(value)
        except ValueError as error:
            raise InvalidParameterError(f"{spec.label} of '{node_label}': {error}") from None
        if strict:
            problem = spec.range_problem(value)
            if problem is not None:
                raise InvalidParameterError(f"{problem} ('{node_label}')")
        return value

    def _check_unique_name(self, name: str, node_id: str) -> None:
        other = self.name_owner(name, besides=node_id)
        if other is None:
            return
        title = (
            self.registry.get(other.type_name).title if other.type_name in self.registry else "node"
        )
        which = f"the {title}" if other.id == name else f"the {title} '{other.id}'"
        raise InvalidParameterError(
            f"another node ({which}) is already called '{name}': names tell nodes apart on the "
            "canvas and in messages, so choose another"
        )

    @staticmethod
    def checked_name(name: Any) -> str:
        """``name`` as a node may carry it; raises :class:`InvalidParameterError` otherwise."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameterError("a node name must be non-empty text")
        if len(name) > MAX_NAME_LENGTH:
            raise InvalidParameterError(f"a node name has at most {MAX_NAME_LENGTH} characters")
        if any(ord(c) < 32 for c in name):
            raise InvalidParameterError("a node name cannot contain line breaks or tabs")
        if not is_savable_text(name):
            raise InvalidParameterError("the node name has characters that cannot be saved")
        return name


def _inserted(mapping: dict, key, value, index: int) -> dict:
    """A copy of an ordered dict with ``key`` inserted at position ``index``."""
    items = list(mapping.items())
    items.insert(max(0, min(index, len(items))), (key, value))
    return dict(items)


def _checked_position(position: Iterable[float]) -> Position:
    try:
        x, y = position
    except (TypeError, ValueError):
        raise InvalidParameterError("a position is two numbers (x, y)") from None
    if not (is_number(x) and is_number(y)):
        raise InvalidParameterError("a position is two finite numbers of sensible size (x, y)")
    return (float(x), float(y))
