"""The registry of node types: an explicit object that refuses duplicates.

``default_registry()`` holds the built-in palette. A plug-in (or a test) can build its own
registry and pass it to :class:`~rnn_builder.graph.Graph`.
"""

from __future__ import annotations

from collections.abc import Iterator

from .errors import NodeRegistrationError, UnknownNodeTypeError
from .nodes import BUILTIN_NODE_TYPES, CATEGORIES, NodeType


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
