from __future__ import annotations

import pytest

from rnn_builder.errors import NodeRegistrationError, UnknownNodeTypeError
from rnn_builder.graph.events import Event
from rnn_builder.graph.nodes import BUILTIN_NODE_TYPES, CATEGORIES, Dense
from rnn_builder.graph.registry import NodeRegistry, default_registry


def test_event_calls_subscribers_in_order_and_unsubscribes():
    seen = []
    event = Event("x")
    first = lambda value: seen.append(("first", value))  # noqa: E731
    event.subscribe(first)
    event.subscribe(lambda value: seen.append(("second", value)))
    event.emit(1)
    event.unsubscribe(first)
    event.emit(2)
    assert seen == [("first", 1), ("second", 1), ("second", 2)]


def test_a_subscriber_may_unsubscribe_itself_while_called():
    event = Event()
    calls = []

    def once(value):
        calls.append(value)
        event.unsubscribe(once)

    event.subscribe(once)
    event.emit("a")
    event.emit("b")
    assert calls == ["a"]


def test_default_registry_holds_every_node_type_of_the_design():
    names = set(default_registry().names())
    assert names == {
        "sequence_input",
        "vector_input",
        "embedding",
        "rnn",
        "lstm",
        "gru",
        "dense",
        "last_step",
        "mean_over_time",
        "repeat",
        "concat",
        "delay",
        "attention",
        "output",
    }
    assert len(default_registry()) == len(BUILTIN_NODE_TYPES)


def test_registry_refuses_duplicates():
    registry = NodeRegistry()
    registry.register(Dense)
    with pytest.raises(NodeRegistrationError, match="already registered"):
        registry.register(Dense)


def test_registry_refuses_a_type_without_a_usable_name_or_category():
    class Nameless(Dense):
        type_name = "not an identifier"

    class Uncategorised(Dense):
        type_name = "odd"
        category = "Misc"

    registry = NodeRegistry()
    with pytest.raises(NodeRegistrationError, match="identifier"):
        registry.register(Nameless)
    with pytest.raises(NodeRegistrationError, match="category"):
        registry.register(Uncategorised)


def test_unknown_type_names_the_known_ones():
    with pytest.raises(UnknownNodeTypeError, match="lstm"):
        default_registry().get("lstmm")


def test_every_category_is_filled_and_every_type_is_described():
    groups = default_registry().by_category()
    assert list(groups) == list(CATEGORIES)
    assert all(groups[c] for c in CATEGORIES)
    for node_type in default_registry():
        assert node_type.title and node_type.description.endswith(".")
        for param in node_type.params:
            assert param.description and param.range_problem(param.default) is None
