"""The registry of node types: an explicit object that refuses duplicates.

``default_registry()`` holds the built-in palette. A plug-in (or a test) can build its own
registry and pass it to :class:`~rnn_builder.graph.model.Graph`.
"""

from __future__ import annotations

from collections.abc import Iterator

from rnn_builder.errors import NodeRegistrationError, UnknownNodeTypeError
from rnn_builder.graph.nodes import BUILTIN_NODE_TYPES, CATEGORIES, NodeInfo, NodeType


class NodeRegistry:
    """Node types by name, in registration order."""

    def __init__(self) -> None:
        self._types: dict[str, NodeType] = {}

    def register(self, node_type: NodeType | type[NodeType]) -> NodeType:
        instance = node_type() if isinstance(node_type, type) else node_type
        name = getattr(instance, "type_name", None)
        if not isinstance(name, str) or not name.isidentifier():
            raise NodeRegistrationError(
                f"node type {type(instance).__name__} needs a type_name that is an identifier"
            )
        if name in self._types:
            raise NodeRegistrationError(f"a node type named '{name}' is already registered")
        if instance.category not in CATEGORIES:
            raise NodeRegistrationError(
                f"node type '{name}' has category {instance.category!r}; expected one of "
                + ", ".join(CATEGORIES)
            )
        names = [p.name for p in (*instance.inputs, *instance.outputs)]
        if len(set(names)) != len(names):
            raise NodeRegistrationError(f"node type '{name}' has two ports with one name")
        missing = _missing_capabilities(instance)
        if missing:
            raise NodeRegistrationError(f"node type '{name}' {missing}")
        self._types[name] = instance
        return instance

    def get(self, name: str) -> NodeType:
        try:
            return self._types[name]
        except (KeyError, TypeError):
            known = ", ".join(self._types)
            raise UnknownNodeTypeError(
                f"there is no node type '{name}' (known types: {known})"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[NodeType]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        return list(self._types)

    def by_category(self) -> dict[str, list[NodeType]]:
        groups: dict[str, list[NodeType]] = {c: [] for c in CATEGORIES}
        for node_type in self:
            groups[node_type.category].append(node_type)
        return groups


def _missing_capabilities(node_type: NodeType) -> str | None:
    """What a type lacks that the rest of the app reads from it, in words (None: nothing)."""
    probe = NodeInfo("probe", "probe", node_type.default_params())
    if not node_type.op_name and node_type.operation() is None:
        return "has no operation (op_name, or an operation method): nothing could run it"
    cell = node_type.cell
    if cell is not None:
        if not node_type.recurrent:
            return "has a cell spec but is not recurrent"
        if not cell.gates or not cell.states or cell.states[0] != "h":
            return "needs a cell spec with its gates and its states, h first"
        if not node_type.equations(probe.params):
            return "is a cell without equations (the inspector and explain show them)"
        own_kernel = getattr(node_type, "kernel", lambda params: None)
        runs_a_kernel = node_type.operation() is None and node_type.op_name == "CellOp"
        if (
            runs_a_kernel
            and not getattr(node_type, "kernel_name", "")
            and (own_kernel(probe.params) is None)
        ):
            return "is a cell without a kernel (kernel_name, or a kernel method)"
        ports = {p.name for p in (*node_type.inputs, *node_type.outputs)}
        wanted = {f"{s}_{end}" for s in cell.states for end in ("0", "n")} | {"x", "y"}
        if not wanted <= ports:
            return "needs the ports " + ", ".join(sorted(wanted - ports)) + " of its states"
    if node_type.is_input and node_type.input_spec(probe) is None:
        return "is an input without an input_spec (what data it takes)"
    if node_type.is_output and node_type.target(probe) is None:
        return "is an output without a target (what it is compared with)"
    return None


_DEFAULT: NodeRegistry | None = None


def default_registry() -> NodeRegistry:
    """The registry of built-in node types (built once, shared)."""
    global _DEFAULT
    if _DEFAULT is None:
        registry = NodeRegistry()
        for node_type in BUILTIN_NODE_TYPES:
            registry.register(node_type)
        _DEFAULT = registry
    return _DEFAULT
