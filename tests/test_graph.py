from __future__ import annotations

import pytest

from rnn_builder.errors import (
    DuplicateEdgeError,
    DuplicateNodeError,
    InvalidParameterError,
    PortAlreadyConnectedError,
    PortKindMismatchError,
    SelfConnectionError,
    UnknownEdgeError,
    UnknownNodeError,
    UnknownNodeTypeError,
    UnknownPortError,
    WiringError,
    WrongDirectionError,
)
from rnn_builder.graph.model import Edge, Graph, Node

from .helpers import many_to_one, wire


def record(graph: Graph) -> list:
    log = []
    for name in (
        "node_added",
        "node_removed",
        "edge_added",
        "edge_removed",
        "param_changed",
        "position_changed",
        "name_changed",
    ):
        getattr(graph, name).subscribe(lambda *args, name=name: log.append((name, *args)))
    return log


def test_add_node_gives_stable_readable_ids_and_defaults(graph):
    a = graph.add_node("lstm")
    b = graph.add_node("lstm")
    assert (a.id, b.id) == ("lstm_1", "lstm_2")
    assert a.params == {
        "hidden_size": 32,
        "bidirectional": False,
        "init": "pytorch",
        "forget_bias": 1.0,
    }
    graph.remove_node("lstm_1")
    assert graph.add_node("lstm").id == "lstm_1"  # the first free id, never a memory address
    assert graph.node("lstm_2").name == "lstm_2"


def test_add_node_refuses_bad_input(graph):
    with pytest.raises(UnknownNodeTypeError):
        graph.add_node("transformer")
    with pytest.raises(InvalidParameterError, match="whole number"):
        graph.add_node("lstm", params={"hidden_size": "big"})
    with pytest.raises(InvalidParameterError, match="at least 1"):
        graph.add_node("lstm", params={"hidden_size": 0})
    with pytest.raises(InvalidParameterError, match="no parameter 'hidden'"):
        graph.add_node("lstm", params={"hidden": 3})
    with pytest.raises(InvalidParameterError, match="node id"):
        graph.add_node("lstm", node_id="has.dot")
    graph.add_node("lstm", node_id="cell")
    with pytest.raises(DuplicateNodeError):
        graph.add_node("gru", node_id="cell")
    with pytest.raises(InvalidParameterError, match="position"):
        graph.add_node("gru", position=("a", "b"))
    with pytest.raises(InvalidParameterError, match="name"):
        graph.add_node("gru", name="two\nlines")
    assert list(graph.nodes) == ["cell"]


def test_lenient_add_keeps_out_of_range_values_but_not_wrong_types(graph):
    node = graph.add_node("lstm", params={"hidden_size": 0}, strict=False)
    assert node.params["hidden_size"] == 0
    with pytest.raises(InvalidParameterError):
        graph.add_node("lstm", params={"hidden_size": True}, strict=False)


def test_whole_floats_are_accepted_for_integers(graph):
    assert graph.add_node("dense", params={"units": 8.0}).params["units"] == 8
    with pytest.raises(InvalidParameterError):
        graph.add_node("dense", params={"units": 8.5})


def test_events_follow_every_edit_in_order(graph):
    log = record(graph)
    graph.add_node("sequence_input", node_id="x")
    graph.add_node("rnn", node_id="cell")
    edge = graph.connect("x", "y", "cell", "x")
    graph.set_param("cell", "hidden_size", 7)
    graph.set_param("cell", "hidden_size", 7)  # unchanged: no event
    graph.set_position("cell", (10, 20))
    graph.rename("cell", "encoder")
    graph.remove_node("x")
    names = [entry[0] for entry in log]
    assert names == [
        "node_added",
        "node_added",
        "edge_added",
        "param_changed",
        "position_changed",
        "name_changed",
        "edge_removed",
        "node_removed",
    ]
    assert log[2] == ("edge_added", edge)
    assert log[3] == ("param_changed", "cell", "hidden_size", 32, 7)
    assert log[4] == ("position_changed", "cell", (0.0, 0.0), (10.0, 20.0))
    assert graph.edges == []


def test_refused_parameter_change_changes_nothing(graph):
    log = record(graph)
    graph.add_node("dense", node_id="d")
    with pytest.raises(InvalidParameterError, match="one of"):
        graph.set_param("d", "activation", "swish")
    assert graph.node("d").params["activation"] == "identity"
    assert [e[0] for e in log] == ["node_added"]


@pytest.fixture
def wired() -> Graph:
    g = Graph()
    g.add_node("sequence_input", node_id="x")
    g.add_node("lstm", node_id="cell", name="encoder")
    g.add_node("last_step", node_id="last")
    g.add_node("dense", node_id="dense")
    g.add_node("vector_input", node_id="v")
    g.connect("x", "y", "cell", "x")
    return g


def test_connect_refuses_with_named_errors(wired):
    cases = [
        (("cell", "x", "last", "x"), WrongDirectionError, "'x' is an input of LSTM 'encoder'"),
        (("x", "y", "cell", "y"), WrongDirectionError, "is an output"),
        (("cell", "z", "last", "x"), UnknownPortError, "has no port 'z'"),
        (("ghost", "y", "last", "x"), UnknownNodeError, "no node 'ghost'"),
        (("v", "y", "cell", "x"), PortAlreadyConnectedError, "already receives 'x'"),
        (("v", "y", "last", "x"), PortKindMismatchError, "gives a vector"),
        (("cell", "y", "cell", "h_0"), SelfConnectionError, "Delay"),
        (("x", "y", "cell", "x"), DuplicateEdgeError, "already exists"),
    ]
    for args, error, words in cases:
        with pytest.raises(error, match=words):
            wired.connect(*args)
        assert issubclass(error, WiringError) or error is UnknownNodeError
    assert wired.edges == [Edge("x", "y", "cell", "x")]


def test_connect_checks_kinds_through_inference(wired):
    # A Dense gives whatever kind it is fed: fed a vector, it cannot feed a sequence port.
    wired.connect("v", "y", "dense", "x")
    wired.add_node("gru", node_id="other")
    with pytest.raises(PortKindMismatchError, match="Repeat"):
        wired.connect("dense", "y", "other", "x")
    wired.connect("dense", "y", "other", "h_0")  # a vector into a vector port is fine
    # the kinds are worked out again after an edit (they are kept until one)
    wired.disconnect(Edge("dense", "y", "other", "h_0"))
    wired.disconnect(Edge("v", "y", "dense", "x"))
    wired.connect("x", "y", "dense", "x")
    wired.connect("dense", "y", "other", "x")


def test_add_edge_keeps_what_connect_would_refuse_but_checks_names(wired):
    wired.add_edge(Edge("v", "y", "cell", "x"))  # a second wire into x: validation reports it
    assert len(wired.edges_into("cell", "x")) == 2
    with pytest.raises(UnknownPortError, match="no input port 'q'"):
        wired.add_edge(Edge("v", "y", "cell", "q"))
    with pytest.raises(UnknownEdgeError):
        wired.disconnect(Edge("v", "y", "last", "x"))


def test_insert_node_restores_a_removed_node_with_its_edges():
    g = many_to_one()
    log = record(g)
    node = g.node("cell")
    removed = g.remove_node("cell")
    restored = g.insert_node(node)
    for edge in removed:
        g.add_edge(edge)
    assert restored == node and restored is not node
    assert sorted(g.edges) == sorted(many_to_one().edges)
    assert [e[0] for e in log].count("edge_added") == 2


def test_copy_is_independent():
    g = many_to_one()
    other = g.copy()
    other.set_param("cell", "hidden_size", 9)
    other.remove_node("out")
    assert g.node("cell").params["hidden_size"] == 4 and "out" in g
    assert len(other.node_added) == 0


def test_helpers_and_describe(graph):
    graph.add_node("gru", node_id="g", name="decoder")
    graph.add_node("sequence_input", node_id="s")
    wire(graph, "s.y", "g.x")
    assert graph.describe("g") == "GRU 'decoder'"
    assert graph.edges_out_of("s") == graph.edges_into("g") == graph.edges_touching("s")


def test_hostile_values_through_the_api_are_refused(graph):
    graph.add_node("lstm", node_id="c")
    with pytest.raises(InvalidParameterError):
        graph.set_param("c", "forget_bias", 10**400)
    with pytest.raises(InvalidParameterError):
        graph.set_param("c", "hidden_size", 10**30)
    with pytest.raises(InvalidParameterError):
        graph.set_position("c", (10**400, 0))
    with pytest.raises(InvalidParameterError, match="cannot be saved"):
        graph.rename("c", "r\ud83d")
    with pytest.raises(InvalidParameterError, match="node id"):
        graph.add_node("gru", node_id="a\n")
    assert graph.node("c").params["forget_bias"] == 1.0 and graph.node("c").name == "c"


def test_insert_node_checks_like_add_node(graph):
    from rnn_builder.graph.model import Node

    with pytest.raises(InvalidParameterError, match="node id"):
        graph.insert_node(Node("bad id!", "lstm", "L", {}))
    with pytest.raises(InvalidParameterError, match="whole number"):
        graph.insert_node(Node("x", "lstm", "L", {"hidden_size": "big"}))
    node = graph.insert_node(Node("x", "lstm", "L", {"hidden_size": 0}))  # kept for validation
    assert node.params["hidden_size"] == 0 and node.params["init"] == "pytorch"


def test_a_delay_fed_by_itself_gets_its_own_explanation(graph):
    graph.add_node("delay", node_id="d")
    with pytest.raises(SelfConnectionError, match="repeat its first value"):
        graph.connect("d", "y", "d", "x")


def test_nodes_and_wires_go_back_where_they_stood():
    g = many_to_one()
    order, wires = list(g.nodes), g.edges
    node = g.node("cell")
    removed = g.remove_node("cell")
    g.insert_node(node, order.index("cell"))
    for edge in removed:
        g.add_edge(edge, wires.index(edge))
    assert list(g.nodes) == order and g.edges == wires


@pytest.mark.parametrize("node_id", ["class", "next", "forward", "self", "torch", "h_new", "a-b"])
def test_any_word_can_be_an_id(graph, node_id):
    """The exports keep node values apart from their own names, so no word is refused..."""
    graph.add_node("dense", node_id=node_id)
    graph.add_node("output", node_id=f"{node_id}_out")
    assert node_id in graph


def test_an_output_cannot_be_called_loss_nor_any_id_hold_other_letters(graph):
    """...but an Output called 'loss', whose scores the summed loss would hide, and letters
    outside ASCII (ids name things in code and files) are refused in words."""
    with pytest.raises(InvalidParameterError, match="an Output cannot have the id 'loss'"):
        graph.add_node("output", node_id="loss")
    with pytest.raises(InvalidParameterError, match="an Output cannot have the id 'loss'"):
        graph.insert_node(Node("loss", "output", "L", {}), 0)
    with pytest.raises(InvalidParameterError, match="use 1 to 64 ASCII letters"):
        graph.add_node("dense", node_id="caf\u00e9")
    assert "loss" not in graph and graph.add_node("dense", node_id="loss").id == "loss"


def test_a_name_another_node_has_is_refused_in_words_naming_that_node(graph):
    """Names are unique (the canvas and every message tell nodes apart by them): the core
    refuses a duplicate, whoever asks — the inspector, ``edit --rename``, a script."""
    graph.add_node("lstm", node_id="memory")
    graph.add_node("dense", node_id="readout")
    log = record(graph)
    with pytest.raises(
        InvalidParameterError, match=r"another node \(the Dense\) is already called 'readout'"
    ):
        graph.rename("memory", "readout")
    graph.rename("memory", "encoder")
    with pytest.raises(
        InvalidParameterError, match=r"\(the LSTM 'memory'\) is already called 'encoder'"
    ):
        graph.check_rename("readout", "encoder")
    with pytest.raises(InvalidParameterError, match="already called 'encoder'"):
        graph.add_node("gru", name="encoder")
    with pytest.raises(InvalidParameterError, match="already called 'encoder'"):
        graph.add_node("gru", node_id="encoder")  # named after its id
    assert [n.name for n in graph] == ["encoder", "readout"]
    assert log == [("name_changed", "memory", "memory", "encoder")]
    assert graph.check_rename("memory", "encoder") == "encoder"  # keeping its own name


def test_a_new_node_is_never_named_as_another_node_is(graph):
    """A new node is named after its id, so the id skips the names taken: 'memory' renamed
    'lstm_1' and an LSTM added made two nodes called 'lstm_1'."""
    graph.add_node("lstm", node_id="memory")
    graph.rename("memory", "lstm_1")
    node = graph.add_node("lstm")
    assert node.id == node.name == "lstm_2"
    assert graph.new_node_id("lstm") == "lstm_3"
    assert graph.new_node_id("lstm", taken={"lstm_3"}) == "lstm_4"


def test_two_nodes_of_one_name_from_a_file_are_kept_and_undo_may_restore_one(graph):
    """What a file holds loads (leniently), duplicate names too; only a new duplicate is
    refused, and an undo puts a name back as it was."""
    graph.add_node("lstm", node_id="a", name="twin", strict=False)
    graph.add_node("gru", node_id="b", name="twin", strict=False)
    graph.rename("a", "twin")  # keeping its name is no new duplicate
    graph.rename("a", "single")
    with pytest.raises(InvalidParameterError, match="already called 'twin'"):
        graph.rename("a", "twin")
    graph.restore_name("a", "twin")
    assert [n.name for n in graph] == ["twin", "twin"]
