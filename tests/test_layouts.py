from __future__ import annotations

import pytest

from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.graph.model import Graph
from rnn_builder.graph.validation import classify

from .helpers import many_to_one, tagger, wire


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_every_template_has_the_layout_it_demonstrates(name):
    layout = classify(new_project(name).graph)
    assert layout is not None and layout.key == TEMPLATES[name].layout


@pytest.mark.parametrize(
    ("name", "title", "example"),
    [
        ("one_to_one", "One-to-one", "image classification"),
        ("one_to_many", "One-to-many", "music generation and image captioning"),
        (
            "many_to_one",
            "Many-to-one",
            "sentiment analysis, summing up a signal, forecasting from a window of a series",
        ),
        (
            "many_to_many_equal",
            "Many-to-many (equal lengths)",
            "tagging every word (named-entity recognition), language modelling",
        ),
        ("many_to_many_unequal", "Many-to-many (encoder-decoder)", "machine translation"),
    ],
)
def test_layout_names_its_classic_example(name, title, example):
    layout = classify(new_project(name).graph)
    assert layout.title == title
    assert layout.summary == f"{title} — e.g. {example}"
    assert example in layout.explanation


def test_invalid_graph_has_no_layout():
    g = many_to_one()
    g.remove_node("dense")
    assert classify(g) is None


def test_one_to_many_through_an_initial_state():
    g = Graph()
    g.add_node("vector_input", node_id="image", params={"features": 10})
    g.add_node("dense", node_id="to_state", params={"units": 8, "activation": "tanh"})
    g.add_node("gru", node_id="writer", params={"hidden_size": 8})
    g.add_node("dense", node_id="scores", params={"units": 20})
    g.add_node("delay", node_id="previous", params={"steps": 6})
    g.add_node("output", node_id="caption")
    wire(
        g,
        "image.y",
        "to_state.x",
        "to_state.y",
        "writer.h_0",
        "writer.y",
        "scores.x",
        "scores.y",
        "caption.x",
        "scores.y",
        "previous.x",
        "previous.y",
        "writer.x",
    )
    layout = classify(g)
    assert layout.key == "one_to_many"
    assert layout.outputs[0].inputs == ("image",)


def test_two_outputs_of_different_layouts_are_mixed_and_each_is_named():
    g = tagger()
    g.add_node("dense", node_id="summary", params={"units": 2})
    g.add_node("output", node_id="sentiment", params={"target": "sentiment"})
    wire(g, "cell.h_n", "summary.x", "summary.y", "sentiment.x")
    layout = classify(g)
    assert layout.kind is None and layout.key == "mixed"
    assert {o.kind.key for o in layout.outputs} == {"many_to_many_equal", "many_to_one"}
    assert "'out'" in layout.title and "'sentiment'" in layout.title
    assert "many-to-one" in layout.explanation


def test_two_outputs_of_one_layout_agree():
    g = many_to_one()
    g.add_node("output", node_id="also", params={"target": "other"})
    wire(g, "dense.y", "also.x")
    layout = classify(g)
    assert layout.key == "many_to_one"
    assert "all 2 outputs" in layout.explanation


def test_a_sequence_and_a_vector_input_joined_are_many_to_one_with_both_inputs():
    g = many_to_one()
    g.add_node("vector_input", node_id="speaker", params={"features": 3})
    g.add_node("concat", node_id="cat")
    g.remove_node("dense")
    g.add_node("dense", node_id="dense", params={"units": 2})
    wire(g, "cell.h_n", "cat.a", "speaker.y", "cat.b", "cat.y", "dense.x", "dense.y", "out.x")
    layout = classify(g)
    assert layout.key == "many_to_one"
    assert set(layout.outputs[0].inputs) == {"x", "speaker"}


def test_one_to_one_with_time_inside_says_so():
    g = Graph()
    g.add_node("vector_input", node_id="v", params={"features": 3})
    g.add_node("repeat", node_id="rep", params={"steps": 3})
    g.add_node("gru", node_id="cell", params={"hidden_size": 4})
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(g, "v.y", "rep.x", "rep.y", "cell.x", "cell.h_n", "out.x")
    layout = classify(g)
    assert layout.key == "one_to_one"
    assert "time runs only inside the network" in layout.explanation
    assert "no time axis" not in layout.explanation


@pytest.mark.parametrize("template", ["adding_problem", "forecast", "stacked_lstm"])
def test_the_classic_examples_are_true_of_every_template_of_the_layout(template):
    """Issue 24: the adding problem and the forecast were 'e.g. sentiment analysis', the
    language model 'e.g. named-entity recognition' and nothing else."""
    layout = classify(new_project(template).graph)
    fits = {"adding_problem": "summing up a signal", "forecast": "forecasting"}
    assert fits.get(template, "language modelling") in layout.summary
