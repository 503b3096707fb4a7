"""Attention in the graph: the one sanctioned crossing of time axes (a port that reads a
sequence whole), allowed exactly there and refused everywhere else; its copies read every step
of the memory when unrolled; the plan runs it whole or inside the decoder's loop; its equations
and the bottleneck it removes are explained."""

from __future__ import annotations

import networkx as nx
import pytest

from rnn_builder.graph.explain import LIMITS, explain_graph, explain_node
from rnn_builder.graph.plan import plan_for
from rnn_builder.graph.unroll import UnrolledKey, unroll
from rnn_builder.graph.validation import validate

from .attention_graphs import SCORES, bahdanau, luong, repeated
from .helpers import wire


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("build", [luong, bahdanau, repeated])
def test_both_placements_validate_with_the_context_on_the_decoders_axis(build, score):
    report = validate(build(score))
    assert report.problems == [], [p.message for p in report.problems]
    decoder_axis = report.node_axes["dec"]
    assert report.node_axes["att"] == decoder_axis != report.node_axes["enc"] == "src"
    assert report.shapes.outputs[("att", "context")].width == 4  # the memory's (values') width


def test_a_decoder_that_attends_to_its_encoder_still_generates_its_own_axis():
    for build in (luong, bahdanau):
        report = validate(build())
        assert report.axes["prev"].kind == "generator"  # the memory does not feed the loop


def test_weights_are_named_as_the_pytorch_module_names_them():
    shapes = {score: validate(luong(score)).parameter_shapes["att"] for score in SCORES}
    assert shapes["additive"] == {
        "query.weight": (5, 4),
        "key.weight": (5, 4),
        "energy.weight": (1, 5),
    }
    assert shapes["general"] == {"key.weight": (4, 4)}
    assert shapes["dot"] == {}


def test_dot_scores_need_equal_widths_and_say_so():
    graph = repeated("dot")
    graph.set_param("enc", "hidden_size", 6)  # the memory 6 wide, the query (decoder) 4
    (problem,) = validate(graph).errors
    assert (problem.code, problem.node, problem.port) == ("width_mismatch", "att", "memory")
    assert "4 wide" in problem.message and "memory 6" in problem.message
    assert "\n" not in problem.message
    for score in ("general", "additive"):  # a learned map takes any widths
        graph = repeated(score)
        graph.set_param("enc", "hidden_size", 6)
        report = validate(graph)
        assert report.ok and report.shapes.outputs[("att", "context")].width == 6


# --- every other crossing is still refused --------------------------------------------------------


def test_the_query_is_read_step_by_step_so_a_query_on_another_axis_is_no_crossing():
    graph = repeated("general")
    graph.disconnect(graph.edges_into("att", "query")[0])
    graph.connect("enc", "y", "att", "query")  # query and memory both on the encoder's axis
    report = validate(graph)
    assert report.ok and report.node_axes["att"] == "src"  # self-attention: allowed


def test_sequences_of_two_axes_still_do_not_meet_anywhere_else():
    graph = repeated("general")
    graph.add_node("concat", node_id="mix")
    wire(graph, "enc.y", "mix.a", "dec.y", "mix.b")  # the encoder's y beside the decoder's
    graph.disconnect(graph.edges_into("head", "x")[0])
    graph.connect("mix", "y", "head", "x")
    (problem,) = [p for p in validate(graph).errors if p.code == "axis_mismatch"]
    assert problem.node == "mix" and "Attention" in problem.message


def test_feeding_the_encoders_y_into_the_loop_puts_the_decoder_on_its_axis():
    """Not a crossing: a loop fed a sequence from outside runs along that sequence's axis."""
    graph = luong("general")
    graph.disconnect(graph.edges_into("joined", "b")[0])
    graph.connect("enc", "y", "joined", "b")
    report = validate(graph)
    assert report.ok and "prev" not in report.axes and report.node_axes["dec"] == "src"


def test_the_query_port_does_not_cross_axes():
    graph = repeated("general")
    graph.disconnect(graph.edges_into("att", "memory")[0])
    graph.connect("dec", "y", "att", "memory")  # memory on the decoder's axis
    graph.disconnect(graph.edges_into("att", "query")[0])
    graph.connect("enc", "y", "att", "query")  # the query from the encoder's
    report = validate(graph)
    # the context now lives on the encoder's axis, and meets nothing of the decoder's: valid,
    # but an Output on the decoder's axis fed from it would be the refused crossing
    assert report.node_axes["att"] == "src"
    graph.add_node("concat", node_id="mix")
    wire(graph, "att.context", "mix.a", "dec.y", "mix.b")
    assert any(p.code == "axis_mismatch" and p.node == "mix" for p in validate(graph).errors)


def test_memory_and_values_on_two_axes_are_refused():
    graph = repeated("general", values=True)
    graph.disconnect(graph.edges_into("val", "x")[0])
    graph.connect("dec", "y", "val", "x")  # values on the decoder's axis, memory the encoder's
    problems = [p for p in validate(graph).errors if p.code == "axis_mismatch"]
    assert [p.node for p in problems] == ["att"]
    assert "memory and values" in problems[0].message


def test_a_memory_read_from_inside_its_own_loop_is_refused():
    graph = bahdanau("general")
    graph.disconnect(graph.edges_into("att", "memory")[0])
    graph.connect("dec", "y", "att", "memory")  # every step of the decoder, at each of its steps
    problems = [p for p in validate(graph).errors if p.code == "feedback_not_causal"]
    assert problems and problems[0].node == "att" and problems[0].port == "memory"
    assert "later steps have not been produced" in problems[0].message


# --- unroll and plan ------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [luong, bahdanau])
def test_each_copy_reads_every_step_of_the_memory(build):
    unrolled = unroll(build(), steps={"src": 5, "prev": 3})
    memory = {UnrolledKey("enc", s) for s in range(5)}
    for t in range(3):
        copy = UnrolledKey("att", t)
        sources = {
            u
            for u, _, data in unrolled.dag.in_edges(copy, data=True)
            if data["dst_port"] == "memory"
        }
        assert sources == memory
        queries = [
            u
            for u, _, data in unrolled.dag.in_edges(copy, data=True)
            if data["dst_port"] == "query"
        ]
        assert len(queries) == 1 and queries[0].t in (t,)  # its own step only
    assert nx.is_directed_acyclic_graph(unrolled.dag)
    order = {key: i for i, key in enumerate(unrolled.schedule)}
    assert max(order[k] for k in memory) < order[UnrolledKey("att", 0)]


def test_a_bidirectional_memory_gives_both_directions_of_every_step():
    graph = repeated("general")
    graph.set_param("enc", "bidirectional", True)
    graph.set_param("dec", "hidden_size", 8)
    unrolled = unroll(graph, steps={"src": 4, "rep": 2})
    sources = {u for u, _ in unrolled.dag.in_edges(UnrolledKey("att", 1)) if u.node == "enc"}
    assert sources == {UnrolledKey("enc", s, d) for s in range(4) for d in ("forward", "reverse")}


def test_the_plan_runs_luong_whole_while_training_and_in_the_loop_when_free():
    graph = luong()
    report = validate(graph)
    free = plan_for(graph, report)
    (loop,) = [s for s in free if s.is_loop]
    assert "att" in loop.nodes and loop.axis == "prev"
    forced = plan_for(graph, report, frozenset({"prev"}))
    assert not any(s.is_loop for s in forced)  # teacher forcing: all whole sequences


def test_the_plan_keeps_bahdanau_a_step_loop_even_when_forced():
    graph = bahdanau()
    forced = plan_for(graph, validate(graph), frozenset({"prev"}))
    (loop,) = [s for s in forced if s.is_loop]
    assert loop.nodes == ("state", "att", "joined", "dec") and loop.delays == ("state",)


# --- explain -------------------------------------------------------------------------------------


@pytest.mark.parametrize("score", SCORES)
def test_the_score_equations_come_with_this_graphs_shapes(score):
    graph = luong(score)
    rows = explain_node(graph, validate(graph), "att")
    formulas = [formula for formula, _ in rows]
    assert formulas[0].startswith("e_ts =") and formulas[1] == "a_t = softmax_s(e_t)"
    assert formulas[2] == "c_t = Σ_s a_ts v_s" and formulas[-1] == "shapes"
    shapes = rows[-1][1]
    assert "q_t ∈ ℝ^4" in shapes and "k_s ∈ ℝ^4" in shapes
    assert ("W_q is 5×4" in shapes) == (score == "additive")
    assert ("W is 4×4" in shapes) == (score == "general")


def test_the_layout_explanation_names_the_bottleneck_and_its_removal():
    with_attention = dict(explain_graph(luong()))
    assert LIMITS["bottleneck_removed"][0] in with_attention
    assert LIMITS["bottleneck"][0] not in with_attention
    graph = luong()
    graph.remove_node("att")
    graph.remove_node("joined")
    graph.connect("dec", "y", "combine", "x")
    without = dict(explain_graph(graph))
    assert "one vector of fixed width" in without[LIMITS["bottleneck"][0]]
    assert "Attention removes" in without[LIMITS["bottleneck"][0]]
