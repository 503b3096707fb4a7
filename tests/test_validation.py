"""Every validation code, provoked by a graph a learner could make, with the right node."""

from __future__ import annotations

import os

import pytest

from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.graph.budget import BUDGET_VARIABLE
from rnn_builder.graph.model import Edge, Graph
from rnn_builder.graph.nodes import Shape
from rnn_builder.graph.validation import CODES, validate

from .helpers import many_to_one, tagger, wire


@pytest.fixture(autouse=True)
def memory_budget(monkeypatch):
    """The same memory budget whatever the machine: 1 GB (a case may set it otherwise)."""
    monkeypatch.setenv(BUDGET_VARIABLE, "1GB")


def _empty() -> Graph:
    return Graph()


def _no_input() -> Graph:
    g = Graph()
    g.add_node("output", node_id="out")
    return g


def _no_output() -> Graph:
    g = Graph()
    g.add_node("sequence_input", node_id="x")
    g.add_node("rnn", node_id="cell")
    wire(g, "x.y", "cell.x")
    return g


def _param_out_of_range() -> Graph:
    g = many_to_one()
    g.node("cell").params["hidden_size"] = 0  # as a hand-edited file could have it
    return g


def _missing_input() -> Graph:
    g = many_to_one()
    g.disconnect(Edge("x", "y", "cell", "x"))
    return g


def _multiple_inputs() -> Graph:
    g = many_to_one()
    g.add_node("sequence_input", node_id="x2", params={"features": 3})
    g.add_edge(Edge("x2", "y", "cell", "x"))
    return g


def _kind_mismatch() -> Graph:
    g = many_to_one()
    g.add_node("vector_input", node_id="v", params={"features": 3})
    g.disconnect(Edge("x", "y", "cell", "x"))
    g.add_edge(Edge("v", "y", "cell", "x"))  # connect() refuses this; a file may hold it
    return g


def _concat_kinds() -> Graph:
    g = Graph()
    g.add_node("sequence_input", node_id="x")
    g.add_node("vector_input", node_id="v")
    g.add_node("concat", node_id="cat")
    g.add_node("dense", node_id="d")
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(g, "x.y", "cat.a", "v.y", "cat.b", "cat.y", "d.x", "d.y", "out.x")
    return g


def _width_mismatch() -> Graph:
    g = many_to_one()
    g.add_node("vector_input", node_id="start", params={"features": 5})
    wire(g, "start.y", "cell.h_0")
    return g


def _tokens_required() -> Graph:
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node("embedding", node_id="embed")
    g.add_node("rnn", node_id="cell")
    g.add_node("dense", node_id="d", params={"units": 2})
    g.add_node("output", node_id="out")
    wire(g, "x.y", "embed.tokens", "embed.y", "cell.x", "cell.h_n", "d.x", "d.y", "out.x")
    return g


def _vocabulary_mismatch() -> Graph:
    g = new_project("many_to_one").graph
    g.set_param("embed", "vocabulary", 50)
    return g


def _start_token() -> Graph:
    g = new_project("encoder_decoder_feedback").graph
    g.set_param("previous_digit", "start_token", 12)
    return g


def _loss_width() -> Graph:
    g = many_to_one()
    g.set_param("dense", "units", 1)
    return g


def _cycle_without_delay() -> Graph:
    g = tagger()
    g.add_node("concat", node_id="cat")
    g.disconnect(Edge("x", "y", "cell", "x"))
    wire(g, "x.y", "cat.a", "cat.y", "cell.x", "dense.y", "cat.b")
    return g


def _feedback_through_vector() -> Graph:
    # y -> last step -> repeat -> delay -> back into the cell: the loop leaves time.
    g = Graph()
    g.add_node("vector_input", node_id="v", params={"features": 4})
    g.add_node("concat", node_id="cat")
    g.add_node("repeat", node_id="rep")
    g.add_node("delay", node_id="d")
    g.add_node("rnn", node_id="cell", params={"hidden_size": 4})
    g.add_node("last_step", node_id="last")
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(
        g,
        "v.y",
        "cat.a",
        "last.y",
        "cat.b",
        "cat.y",
        "rep.x",
        "rep.y",
        "d.x",
        "d.y",
        "cell.x",
        "cell.y",
        "last.x",
        "cell.h_n",
        "out.x",
    )
    return g


def _feedback_through_bidirectional() -> Graph:
    g = new_project("encoder_decoder_feedback").graph
    g.set_param("decoder", "bidirectional", True)
    g.set_param("encoder", "hidden_size", 128)  # keeps the h_0 width right
    return g


def _axis_mismatch() -> Graph:
    g = Graph()
    g.add_node("sequence_input", node_id="a", params={"features": 2})
    g.add_node("sequence_input", node_id="b", params={"features": 2})
    g.add_node("concat", node_id="cat")
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(g, "a.y", "cat.a", "b.y", "cat.b", "cat.y", "out.x")
    return g


def _shape_undetermined() -> Graph:
    # The Delay's width is the Concat's, which includes the Delay's: no fixed width on the loop.
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 2})
    g.add_node("concat", node_id="cat")
    g.add_node("delay", node_id="d")
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(g, "x.y", "cat.a", "d.y", "cat.b", "cat.y", "d.x", "cat.y", "out.x")
    return g


def _unreachable_output() -> Graph:
    # The output hangs off a loop that no input enters.
    g = Graph()
    g.add_node("sequence_input", node_id="x")
    g.add_node("rnn", node_id="other")
    g.add_node("dense", node_id="d", params={"units": 2})
    g.add_node("delay", node_id="loop")
    g.add_node("output", node_id="out")
    wire(g, "other.y", "d.x", "d.y", "loop.x", "loop.y", "other.x", "d.y", "out.x")
    return g


def _unused_node() -> Graph:
    g = many_to_one()
    g.add_node("dense", node_id="spare")
    wire(g, "cell.y", "spare.x")
    return g


def _double_softmax() -> Graph:
    g = many_to_one()
    g.set_param("dense", "activation", "softmax")
    return g


def _bidirectional_last_step() -> Graph:
    g = many_to_one("gru", bidirectional=True)
    g.add_node("last_step", node_id="last")
    g.disconnect(Edge("cell", "h_n", "dense", "x"))
    wire(g, "cell.y", "last.x", "last.y", "dense.x")
    return g


def _duplicate_target() -> Graph:
    g = many_to_one()
    g.add_node("output", node_id="out2")
    wire(g, "dense.y", "out2.x")
    return g


def _embedding(vocabulary: int, dimension: int) -> Graph:
    g = new_project("many_to_one").graph
    g.set_param("words", "vocabulary", vocabulary)
    g.set_param("embed", "vocabulary", vocabulary)
    g.set_param("embed", "dimension", dimension)
    return g


def _memory_exceeded() -> Graph:
    return _embedding(1_000_000, 100_000)  # within every limit: 10¹¹ weights, 400 GB


def _memory_large() -> Graph:
    return _embedding(1_000_000, 50)  # 200 MB of weights, drawn in float64 at first: 800 MB


def _memory_budget_unreadable() -> Graph:
    os.environ[BUDGET_VARIABLE] = "lots"  # (put back by the fixture)
    return many_to_one()


CASES = {
    "empty_graph": (_empty, None, None),
    "no_input": (_no_input, None, None),
    "no_output": (_no_output, None, None),
    "param_out_of_range": (_param_out_of_range, "cell", None),
    "missing_input": (_missing_input, "cell", "x"),
    "multiple_inputs": (_multiple_inputs, "cell", "x"),
    "kind_mismatch": (_kind_mismatch, "cell", "x"),
    "width_mismatch": (_width_mismatch, "cell", "h_0"),
    "tokens_required": (_tokens_required, "embed", "tokens"),
    "vocabulary_mismatch": (_vocabulary_mismatch, "embed", "tokens"),
    "start_token_out_of_range": (_start_token, "previous_digit", None),
    "loss_width": (_loss_width, "out", "x"),
    "cycle_without_delay": (_cycle_without_delay, None, None),
    "feedback_not_causal": (_feedback_through_vector, None, None),
    "axis_mismatch": (_axis_mismatch, "cat", None),
    "shape_undetermined": (_shape_undetermined, None, None),
    "unreachable_output": (_unreachable_output, "out", None),
    "unused_node": (_unused_node, "spare", None),
    "double_softmax": (_double_softmax, "dense", None),
    "bidirectional_last_step": (_bidirectional_last_step, "last", None),
    "duplicate_target": (_duplicate_target, "out2", None),
    "memory_exceeded": (_memory_exceeded, "embed", None),
    "memory_large": (_memory_large, "embed", None),
    "memory_budget_unreadable": (_memory_budget_unreadable, None, None),
}


def test_every_code_has_a_provoking_case():
    assert set(CASES) == set(CODES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_code_is_reported_on_the_right_node(code):
    build, node, port = CASES[code]
    report = validate(build())
    found = [p for p in report.problems if p.code == code]
    assert found, f"{code} not reported; got {[p.code for p in report.problems]}"
    problem = found[0]
    if node is not None:
        assert problem.node == node
    if port is not None:
        assert problem.port == port
    assert problem.message.endswith(".") and len(problem.message) > 30
    expect_warning = CODES[code].endswith("(warning)")
    assert problem.severity == ("warning" if expect_warning else "error")
    assert report.ok == all(p.severity == "warning" for p in report.problems)


def test_missing_input_message_speaks_to_learners():
    g = Graph()
    g.add_node("lstm", node_id="encoder")
    problem = next(p for p in validate(g).problems if p.code == "missing_input")
    assert problem.message == ("LSTM 'encoder' has no input: connect a sequence to its x port.")


def test_cycle_problem_names_every_node_on_the_cycle():
    problem = next(
        p for p in validate(_cycle_without_delay()).problems if p.code == "cycle_without_delay"
    )
    assert set(problem.nodes) == {"cat", "cell", "dense"}
    for name in ("cat", "cell", "dense"):
        assert name in problem.message


def test_bidirectional_cell_on_a_feedback_loop_is_refused():
    report = validate(_feedback_through_bidirectional())
    assert any(p.code == "feedback_not_causal" and p.node == "decoder" for p in report.problems)


def test_concat_of_a_sequence_and_a_vector_is_a_kind_mismatch():
    report = validate(_concat_kinds())
    assert any(p.code == "kind_mismatch" and p.node == "cat" for p in report.problems)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_every_template_is_valid_without_warnings(name):
    report = validate(new_project(name).graph)
    assert report.problems == []
    assert report.parameter_count > 0


def test_shapes_flow_through_the_graph_and_around_a_feedback_loop():
    graph = new_project("encoder_decoder_feedback").graph
    report = validate(graph)
    out = report.shapes.outputs
    assert out[("words", "y")] == Shape("seq", 32, 32)
    assert out[("embed", "y")] == Shape("seq", 16)
    assert out[("encoder", "h_n")] == Shape("vec", 64)
    assert out[("previous_digit", "y")] == Shape("seq", 12)
    assert report.shapes.inputs[("decoder", "x")] == Shape("seq", 12)
    assert report.port_axes[("decoder", "y")] == "previous_digit"
    assert report.axes["previous_digit"].kind == "generator"
    assert report.axes["words"].kind == "input"
    assert report.parameter_shapes["decoder"]["weight_ih"] == (192, 12)


def test_bidirectional_cells_double_their_state_width():
    report = validate(new_project("bidirectional_tagger").graph)
    assert report.shapes.outputs[("tagger", "y")] == Shape("seq", 64)
    shapes = report.parameter_shapes["tagger"]
    assert shapes["weight_hh_reverse"] == (96, 32) and shapes["bias_ih"] == (96,)


def test_parameter_count_matches_pytorch_formula():
    report = validate(many_to_one("lstm"))
    # LSTM: 4H(d+H) + 8H with d=3, H=4; dense 4->2: 8+2
    assert report.parameter_count == 4 * 4 * (3 + 4) + 8 * 4 + (4 * 2 + 2)


def test_problems_do_not_cascade_into_noise():
    # One missing wire should give one error, not a stream of consequences.
    report = validate(_missing_input())
    assert [p.code for p in report.errors] == ["missing_input"]


def _two_loops(first_delay: str) -> Graph:
    """Loop 1 generates from a vector; loop 2 is fed by loop 1's sequence, so it shares loop 1's
    axis. Added in either order, the answer must be the same."""
    g = Graph()
    g.add_node("vector_input", node_id="v", params={"features": 3})
    g.add_node("dense", node_id="init", params={"units": 4})
    delays = ["d1", "d2"] if first_delay == "d1" else ["d2", "d1"]
    for delay in delays:
        g.add_node("delay", node_id=delay)
    g.add_node("gru", node_id="gru1", params={"hidden_size": 4})
    g.add_node("concat", node_id="c")
    g.add_node("gru", node_id="gru2", params={"hidden_size": 4})
    g.add_node("output", node_id="o", params={"loss": "mse"})
    wire(
        g,
        "v.y",
        "init.x",
        "init.y",
        "gru1.h_0",
        "d1.y",
        "gru1.x",
        "gru1.y",
        "d1.x",
        "gru1.y",
        "c.a",
        "d2.y",
        "c.b",
        "c.y",
        "gru2.x",
        "gru2.y",
        "d2.x",
        "gru2.y",
        "o.x",
    )
    return g


@pytest.mark.parametrize("first", ["d1", "d2"])
def test_axes_do_not_depend_on_the_order_nodes_were_added(first):
    report = validate(_two_loops(first))
    assert report.problems == []
    assert list(report.axes) == ["d1"]
    assert report.node_axes["gru2"] == report.node_axes["d2"] == "d1"


def test_a_sequence_in_a_state_port_is_one_problem_not_two():
    g = many_to_one()
    g.add_edge(Edge("x", "y", "cell", "h_0"))
    codes = [p.code for p in validate(g).errors]
    assert codes == ["kind_mismatch"]


def test_a_loop_through_two_vectors_is_reported_once():
    g = _feedback_through_vector()
    codes = [p.code for p in validate(g).problems]
    assert codes.count("feedback_not_causal") == 1
