"""python -m rnn_builder edit: what the editor does to a project, from a script. Operations run
in order; the file is saved only when every one was done; the graph is checked afterwards."""

from __future__ import annotations

import pytest

from rnn_builder.files.serialization import load, save
from rnn_builder.files.templates import new_project
from rnn_builder.graph.validation import classify, validate

from .test_cli import one_line, run

# The many-to-one template's LSTM reader swapped for a GRU: added, the old one removed, rewired.
GRU_FOR_LSTM = (
    "--add", "gru", "reader2",
    "--remove", "reader",
    "--connect", "embed", "reader2.x",  # the embedding has one output: no port needed
    "--connect", "reader2.h_n", "scores",
)  # fmt: skip


@pytest.fixture
def project_file(tmp_path):
    path = tmp_path / "reviews.rnnproj"
    save(new_project("many_to_one"), path)
    return path


def test_a_cell_is_swapped_and_the_network_rewired_in_one_command(capsys, project_file):
    """The LSTM reader becomes a GRU: add, rewire, remove, name, resize, settings, title."""
    code, out, err = run(
        capsys,
        "edit",
        str(project_file),
        *GRU_FOR_LSTM,
        "--rename", "reader2", "GRU reader",
        "--set", "reader2", "hidden_size", "48",
        "--move", "reader2", "420", "60.5",
        "--setting", "epochs", "7",
        "--setting", "learning_rate", "0.02",
        "--setting", "optimizer", "rmsprop",
        "--title", "Reviews, GRU",
        "--description", "The sentiment task with a GRU.",
    )  # fmt: skip
    assert code == 0, err
    assert "saved" in out and "valid — Many-to-one" in out
    project = load(project_file)
    graph = project.graph
    assert "reader" not in graph and graph.node("reader2").type_name == "gru"
    node = graph.node("reader2")
    assert node.name == "GRU reader" and node.params["hidden_size"] == 48
    assert node.position == (420.0, 60.5)
    assert {(e.src_node, e.dst_node) for e in graph.edges} >= {
        ("embed", "reader2"),
        ("reader2", "scores"),
    }
    training = project.training
    assert (training.epochs, training.learning_rate, training.optimizer) == (7, 0.02, "rmsprop")
    assert type(training.learning_rate) is float
    assert project.title == "Reviews, GRU"
    assert project.description == "The sentiment task with a GRU."
    report = validate(graph)
    assert report.ok and classify(graph, report).kind.key == "many_to_one"


@pytest.mark.parametrize(
    "operations, words",
    [
        (["--add", "lstmm"], "no node type 'lstmm'"),
        (["--remove", "nobody"], "no node 'nobody'"),
        (["--connect", "embed.y", "scores.x"], "already receives"),
        (["--connect", "reader", "scores"], "3 output ports (y, h_n, c_n)"),
        (["--connect", "reader.q", "scores"], "no output port 'q'"),
        (["--disconnect", "words", "reader.x"], "no wire from words.y to reader.x"),
        (["--set", "reader", "hidden_size", "0"], "hidden"),
        (["--set", "reader", "hidden_size", "many"], "expected a number"),
        (["--set", "reader", "depth", "2"], "no parameter 'depth'"),
        (["--setting", "epochs", "-3"], "epochs must be between"),
        (["--setting", "speed", "3"], "no training setting 'speed'"),
        (["--data", "no_such_task"], "no built-in task 'no_such_task'"),
        (["--title", ""], "cannot be empty"),
        (["--move", "reader", "left", "0"], "X"),
        (["--set", "reader", "hidden_size", "__import__('os')"], "expected a number"),
        (["--add", "output", "loss"], "an Output cannot have the id 'loss'"),
        (["--rename", "reader", "embed"], "another node (the Embedding) is already called 'embed'"),
        (["--add", "dense", "caf\u00e9"], "'café' cannot be a node id: use 1 to 64 ASCII"),
        (["--move", "reader", "9" * 400, "0"], "two finite numbers of sensible size"),
        (["--move", "reader", "0", "-" + "9" * 400], "two finite numbers of sensible size"),
        (["--setting", "learning_rate", "9" * 400], "learning_rate must be a finite number"),
        (["--setting", "clip_norm", "9" * 400], "clip_norm must be a finite number"),
        (["--setting", "epochs", "9" * 400], "epochs must be between 1 and 1000000, not 999"),
        (["--setting", "learning_rate", "9" * 5000], "expected a number or true/false"),
    ],
)
def test_an_operation_that_cannot_be_done_saves_nothing(capsys, project_file, operations, words):
    before = project_file.read_bytes()
    code, out, err = run(
        capsys, "edit", str(project_file), "--set", "reader", "hidden_size", "40", *operations
    )
    assert code == 2
    line = one_line(err)
    assert words in line and "nothing was saved" in line and "operation 2" in line
    assert len(line) < 400, line  # what was given is quoted cut short, not echoed whole
    assert project_file.read_bytes() == before  # not even the first, good, operation
    assert out == ""  # nothing claimed done


def test_a_graph_left_incomplete_is_saved_and_its_problems_listed(capsys, project_file):
    code, out, _ = run(capsys, "edit", str(project_file), "--add", "dense", "extra")
    assert code == 1  # the graph has problems, as 'validate' says
    assert "saved" in out and "1 error and 1 warning" in out
    assert "extra.x" in out and "[missing_input]" in out
    assert "extra" in load(project_file).graph


def test_dry_run_and_output_leave_the_file_as_it_was(capsys, project_file, tmp_path):
    before = project_file.read_bytes()
    code, out, _ = run(capsys, "edit", str(project_file), "--setting", "epochs", "9", "--dry-run")
    assert code == 0 and "checked, not written" in out
    assert project_file.read_bytes() == before
    other = tmp_path / "other.rnnproj"
    code, out, _ = run(
        capsys, "edit", str(project_file), "--setting", "epochs", "9", "-o", str(other)
    )
    assert code == 0 and project_file.read_bytes() == before
    assert load(other).training.epochs == 9


@pytest.mark.parametrize(
    "arguments, words",
    [
        ([], "nothing to do"),
        (["--add", "lstm", "a", "b"], "--add takes TYPE [ID]"),
        (["--connect", "embed"], "expected 2 arguments"),
    ],
)
def test_usage_errors_are_one_line(capsys, project_file, arguments, words):
    code, _, err = run(capsys, "edit", str(project_file), *arguments)
    assert code == 2 and words in one_line(err)


@pytest.mark.parametrize(
    "operations, shown",
    [
        (["--remove", "a\nb"], "--remove 'a\\nb'"),
        (["--connect", "a\nb", "reader"], "--connect 'a\\nb' reader"),
        (["--rename", "reader", "two\nlines"], "--rename reader 'two\\nlines'"),
        (["--setting", "learning_rate", "1\r\n2"], "--setting learning_rate '1\\r\\n2'"),
        (["--data-file", "cs\u2028v", "a.csv"], "--data-file 'cs\\u2028v' a.csv"),
    ],
)
def test_an_argument_with_line_breaks_is_quoted_on_the_error_line(
    capsys, project_file, operations, shown
):
    before = project_file.read_bytes()
    code, out, err = run(capsys, "edit", str(project_file), *operations)
    line = one_line(err)
    assert code == 2 and line.startswith(f"rnn-builder: error: {shown} (operation 1): "), line
    assert project_file.read_bytes() == before and out == ""


def test_nodes_added_to_an_arranged_graph_are_laid_out_with_it(capsys, project_file):
    """Issue 23: a graph made with ``edit`` opens as readable as a template: the new GRU in
    the old reader's column, not stacked to the right of the output."""
    from rnn_builder.graph.arrange import arrange

    code, out, err = run(capsys, "edit", str(project_file), *GRU_FOR_LSTM)
    assert code == 0, err
    assert "arranged" in out
    graph = load(project_file).graph
    assert {n.id: n.position for n in graph} == arrange(graph)
    assert graph.node("embed").position[0] < graph.node("reader2").position[0]
    assert graph.node("reader2").position[0] < graph.node("scores").position[0]


def test_a_graph_placed_by_hand_keeps_its_places(capsys, project_file):
    project = load(project_file)
    project.graph.set_position("scores", (700.0, 333.0))  # placed by a person
    save(project, project_file)
    code, _out, err = run(capsys, "edit", str(project_file), "--add", "dense", "extra")
    assert code == 1, err  # an unwired node: a problem, saved all the same
    graph = load(project_file).graph
    assert graph.node("scores").position == (700.0, 333.0)
    code, _out, err = run(capsys, "edit", str(project_file), "--arrange")
    graph = load(project_file).graph
    assert graph.node("scores").position != (700.0, 333.0)
