"""Explanations: a cell's equations with this graph's shapes, the layout of the network and
the limits worth knowing, from the core and from ``python -m rnn_builder explain``."""

from __future__ import annotations

import pytest

from rnn_builder.cli.main import main
from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project
from rnn_builder.graph.explain import (
    LIMITS,
    cell_equations,
    cell_shapes,
    explain_graph,
    explain_node,
)
from rnn_builder.graph.validation import validate


@pytest.mark.parametrize(
    ("cell", "count", "last"),
    [("rnn", 1, "h_t = tanh("), ("lstm", 6, "h_t = o_t ⊙ tanh(c_t)"), ("gru", 4, "(1 − z_t)")],
)
def test_each_cell_has_its_equations(cell, count, last):
    equations = cell_equations(cell, {"nonlinearity": "tanh"})
    assert len(equations) == count
    assert last in equations[-1].formula
    assert all(e.meaning for e in equations)


def test_a_relu_rnn_says_relu():
    assert "relu(" in cell_equations("rnn", {"nonlinearity": "relu"})[0].formula


def test_other_nodes_have_no_cell_equations():
    with pytest.raises(ValueError, match="not a recurrent cell"):
        cell_equations("dense", {})
    project = new_project("many_to_one")
    assert explain_node(project.graph, validate(project.graph), "scores") == []


def test_shapes_follow_the_graph():
    project = new_project("bidirectional_tagger")
    graph = project.graph
    report = validate(graph)
    cell = next(n for n in graph if n.type_name == "gru")
    width = report.shapes.inputs[(cell.id, "x")].width
    hidden = cell.params["hidden_size"]
    text = cell_shapes(graph, report, cell.id)
    assert f"x_t ∈ ℝ^{width}" in text and f"h_t ∈ ℝ^{hidden}" in text
    assert f"weight_ih ({3 * hidden}×{width})" in text
    assert f"y_t ∈ ℝ^{2 * hidden}" in text  # both directions
    rows = explain_node(graph, report, cell.id)
    assert rows[-1] == ("shapes", text)


def test_the_graph_explanation_names_the_layout_and_the_limits_that_apply():
    tagger = new_project("many_to_many_equal").graph  # a forward tanh RNN tagger
    titles = [title for title, _ in explain_graph(tagger)]
    assert titles[0].startswith("Many-to-many")
    assert LIMITS["vanishing"][0] in titles and LIMITS["look_ahead"][0] in titles
    both_ways = [title for title, _ in explain_graph(new_project("bidirectional_tagger").graph)]
    assert LIMITS["look_ahead"][0] not in both_ways  # it reads backwards too
    assert LIMITS["vanishing"][0] not in both_ways  # a GRU, not a plain RNN
    spirals = [title for title, _ in explain_graph(new_project("one_to_one").graph)]
    assert spirals == ["One-to-one"]  # no cell: no recurrent limits


def test_a_graph_with_problems_says_to_fix_them_first():
    project = new_project("many_to_one")
    project.graph.remove_node("scores")
    ((title, _),) = explain_graph(project.graph)
    assert title == "Not yet a network"


def test_cli_explain(capsys, tmp_path):
    path = save(new_project("many_to_one"), tmp_path / "p.json")
    assert main(["explain", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Many-to-one") and "Sequential compute" in out
    assert main(["explain", str(path), "--node", "reader"]) == 0
    out = capsys.readouterr().out
    assert "c_t = f_t ⊙ c_(t−1) + i_t ⊙ g_t" in out and "x_t ∈ ℝ^16" in out
    assert main(["explain", str(path), "--node", "scores"]) == 0
    assert "Dense" in capsys.readouterr().out
    assert main(["explain", str(path), "--node", "nope"]) == 2
    assert "no node 'nope'" in capsys.readouterr().err


def test_no_read_ahead_advice_for_next_step_prediction_and_a_warning_where_it_reads_ahead():
    """Issue 24: explain told the language model a bidirectional cell 'also reads the sequence
    backwards'; following it let the model read the answer (38 % → 96.5 %) and validate was
    silent. Advice depends on the task: tagging yes, next-step prediction never."""
    from rnn_builder.training.tasks import check_data

    language_model = new_project("stacked_lstm")
    titles = [title for title, _ in explain_graph(language_model.graph, next_step=True)]
    assert "No look-ahead" not in titles and "No look-ahead, and none wanted" in titles
    text = " ".join(body for _, body in explain_graph(language_model.graph, next_step=True))
    assert "backwards" not in text and "would read the answer" in text
    assert check_data(language_model).problems == []
    language_model.graph.set_param("layer_2", "bidirectional", True)
    (warning,) = check_data(language_model).problems
    assert warning.code == "data_reads_ahead" and warning.node == "layer_2"
    assert warning.severity == "warning" and "Switch bidirectional off" in warning.message
    tagger = new_project("bidirectional_tagger")  # reading ahead is what a tagger wants
    assert check_data(tagger).problems == []


def test_gated_cells_are_not_said_to_be_free_of_vanishing():
    paragraphs = dict(explain_graph(new_project("adding_problem").graph))
    assert (
        "mitigates the vanishing gradient; it does not remove it"
        in paragraphs["Long spans still fade"]
    )
    plain = dict(explain_graph(new_project("many_to_many_equal").graph))
    limits = plain["Vanishing and exploding gradients"]
    assert "exploding by gradient clipping" in limits and "Truncated BPTT treats neither" in limits
