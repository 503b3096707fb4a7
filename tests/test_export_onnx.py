"""ONNX export: every template and more graphs export, pass ONNX's checker, and predict in ONNX
Runtime what our executor predicts (two lengths and batch sizes, padding included)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from rnn_builder.cli.main import main  # noqa: E402
from rnn_builder.engine.executor import Executor  # noqa: E402
from rnn_builder.engine.run import Batch  # noqa: E402
from rnn_builder.errors import ExportError  # noqa: E402
from rnn_builder.export import onnx_forms  # noqa: E402
from rnn_builder.export.onnx import export_onnx  # noqa: E402
from rnn_builder.export.onnx_check import (  # noqa: E402
    TOLERANCE,
    OnnxCheckError,
    check_onnx,
    compare,
)
from rnn_builder.export.onnx_nodes import OnnxCell  # noqa: E402
from rnn_builder.files.serialization import save  # noqa: E402
from rnn_builder.files.templates import TEMPLATES, new_project  # noqa: E402
from rnn_builder.files.weights_file import save_weights  # noqa: E402
from rnn_builder.graph.model import Graph  # noqa: E402

from .helpers import wire  # noqa: E402


def examples_for(graph: Graph, count: int = 12, seed: int = 0) -> list[dict]:
    """Random examples of random lengths (3 to 9 steps) for every input of ``graph``."""
    rng = np.random.default_rng(seed)
    examples = []
    for _ in range(count):
        steps = int(rng.integers(3, 10))
        example = {}
        for node in graph:
            if node.type_name == "vector_input":
                example[node.id] = rng.standard_normal(node.params["features"])
            elif node.type_name == "sequence_input" and node.params["vocabulary"]:
                example[node.id] = rng.integers(0, node.params["vocabulary"], steps)
            elif node.type_name == "sequence_input":
                example[node.id] = rng.standard_normal((steps, node.params["features"]))
        examples.append(example)
    return examples


def exported(graph: Graph, opset: int = 17):
    executor = Executor(graph, seed=3)
    model = export_onnx(executor, opset)
    onnx.checker.check_model(model, full_check=True)
    return executor, model


def assert_agrees(graph: Graph, opset: int = 17) -> None:
    executor, model = exported(graph, opset)
    result = compare(model, executor, examples_for(graph))
    assert result.ok, result.summary()
    assert len(result.batches) == 2
    (first, size_1), (second, size_2) = result.batches
    assert size_1 != size_2
    sequences = [n.id for n in graph if n.type_name == "sequence_input"]
    assert all(first[k] != second[k] for k in sequences)


# --- graphs beyond the templates ---------------------------------------------------------------


def relu_rnn() -> Graph:
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node("rnn", node_id="cell", params={"hidden_size": 5, "nonlinearity": "relu"})
    g.add_node("dense", node_id="dense", params={"units": 2, "activation": "tanh"})
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(g, "x.y", "cell.x", "cell.y", "dense.x", "dense.y", "out.x")
    return g


def three_layer_stack() -> Graph:
    """Token ids straight into a cell (one-hot), three cells chained, the last step read."""
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"vocabulary": 7})
    g.add_node("gru", node_id="one", params={"hidden_size": 5})
    g.add_node("lstm", node_id="two", params={"hidden_size": 4})
    g.add_node("rnn", node_id="three", params={"hidden_size": 6})
    g.add_node("last_step", node_id="last")
    g.add_node("dense", node_id="dense", params={"units": 3})
    g.add_node("output", node_id="out")
    wire(g, "x.y", "one.x", "one.y", "two.x", "two.y", "three.x", "three.y", "last.x")
    wire(g, "last.y", "dense.x", "dense.y", "out.x")
    return g


def bidirectional_lstm_with_h0() -> Graph:
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node("vector_input", node_id="start", params={"features": 8})
    g.add_node("lstm", node_id="cell", params={"hidden_size": 4, "bidirectional": True})
    g.add_node("dense", node_id="tags", params={"units": 2, "activation": "sigmoid"})
    g.add_node("output", node_id="per_step", params={"loss": "binary_cross_entropy"})
    g.add_node("mean_over_time", node_id="mean")
    g.add_node("concat", node_id="summary")
    g.add_node("output", node_id="whole", params={"loss": "mse", "target": "whole"})
    wire(g, "x.y", "cell.x", "start.y", "cell.h_0", "start.y", "cell.c_0")
    wire(g, "cell.y", "tags.x", "tags.y", "per_step.x")
    wire(g, "cell.y", "mean.x", "mean.y", "summary.a", "cell.c_n", "summary.b")
    wire(g, "summary.y", "whole.x")
    return g


def concat_of_two_cells() -> Graph:
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"vocabulary": 9})
    g.add_node("embedding", node_id="embed", params={"vocabulary": 9, "dimension": 4})
    g.add_node("gru", node_id="left", params={"hidden_size": 3, "bidirectional": True})
    g.add_node("rnn", node_id="right", params={"hidden_size": 4})
    g.add_node("concat", node_id="both")
    g.add_node("dense", node_id="dense", params={"units": 3, "activation": "softmax"})
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(g, "x.y", "embed.tokens", "embed.y", "left.x", "embed.y", "right.x")
    wire(g, "left.y", "both.a", "right.y", "both.b", "both.y", "dense.x", "dense.y", "out.x")
    return g


def repeat_and_delay() -> Graph:
    """A vector repeated over its own axis, read by an LSTM, plus a Delay outside any loop."""
    g = Graph()
    g.add_node("vector_input", node_id="v", params={"features": 3})
    g.add_node("repeat", node_id="again", params={"steps": 3})
    g.add_node("delay", node_id="before", params={"initial": "start_token", "start_token": 1})
    g.add_node("lstm", node_id="cell", params={"hidden_size": 4})
    g.add_node("dense", node_id="dense", params={"units": 2, "activation": "relu"})
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(g, "v.y", "again.x", "again.y", "before.x", "before.y", "cell.x")
    wire(g, "cell.y", "dense.x", "dense.y", "out.x")
    return g


def delayed_tokens() -> Graph:
    """Token ids shifted one step (a start token first), then looked up."""
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"vocabulary": 6})
    g.add_node("delay", node_id="before", params={"initial": "start_token", "start_token": 5})
    g.add_node("embedding", node_id="embed", params={"vocabulary": 6, "dimension": 3})
    g.add_node("gru", node_id="cell", params={"hidden_size": 4})
    g.add_node("output", node_id="out")
    wire(g, "x.y", "before.x", "before.y", "embed.tokens", "embed.y", "cell.x", "cell.y", "out.x")
    return g


def feedback_on_an_input_axis(loss: str = "cross_entropy") -> Graph:
    """A loop through a Delay on a padded input axis: the Loop keeps states through padding;
    what is fed back depends on the loss (a class one-hot, 0/1, or the value)."""
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 2})
    g.add_node("delay", node_id="previous")
    g.add_node("concat", node_id="both")
    g.add_node("gru", node_id="cell", params={"hidden_size": 4})
    g.add_node("dense", node_id="scores", params={"units": 3})
    g.add_node("output", node_id="out", params={"loss": loss})
    g.add_node("dense", node_id="summary", params={"units": 2})
    g.add_node("output", node_id="final", params={"loss": "mse", "target": "final"})
    wire(g, "x.y", "both.a", "previous.y", "both.b", "both.y", "cell.x", "cell.y", "scores.x")
    wire(g, "scores.y", "out.x", "scores.y", "previous.x")
    wire(g, "cell.h_n", "summary.x", "summary.y", "final.x")
    return g


GRAPHS = {
    "relu_rnn": relu_rnn,
    "three_layer_stack": three_layer_stack,
    "bidirectional_lstm_with_h0": bidirectional_lstm_with_h0,
    "concat_of_two_cells": concat_of_two_cells,
    "repeat_and_delay": repeat_and_delay,
    "delayed_tokens": delayed_tokens,
    "feedback_on_an_input_axis": feedback_on_an_input_axis,
    "feedback_of_yes_no": lambda: feedback_on_an_input_axis("binary_cross_entropy"),
    "feedback_of_values": lambda: feedback_on_an_input_axis("mse"),
}


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_every_template_exports_and_agrees_with_the_executor(name):
    project = new_project(name)
    executor, model = exported(project.graph)
    result = check_onnx(project, model, executor)
    assert result.ok, result.summary()
    assert result.runtime == "ONNX Runtime" and not result.note
    assert {o.name for o in model.graph.output} == {
        n.id for n in project.graph if n.type_name == "output"
    }


@pytest.mark.parametrize("name", list(GRAPHS))
def test_graphs_beyond_the_templates_agree(name):
    assert_agrees(GRAPHS[name]())


@pytest.mark.parametrize("opset", [14, 22])
@pytest.mark.parametrize("name", ["bidirectional_lstm_with_h0", "feedback_on_an_input_axis"])
def test_opsets_14_and_22(name, opset):
    assert_agrees(GRAPHS[name](), opset)


def test_the_generating_loop_runs_for_the_steps_asked():
    import onnxruntime

    _, model = exported(new_project("encoder_decoder_feedback").graph)
    session = onnxruntime.InferenceSession(model.SerializeToString())
    tokens = np.array([[1, 2, 3], [4, 5, -1]], np.int64).T  # (T, B), the second padded
    for steps in (1, 6):
        (digits,) = session.run(
            None,
            {
                "words": tokens,
                "words_lengths": np.array([3, 2], np.int32),
                "previous_digit_steps": np.array(steps, np.int64),
            },
        )
        assert digits.shape == (steps, 2, 12)
        np.testing.assert_allclose(digits.sum(axis=-1), 1.0, atol=1e-6)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_onnx_runtime_lists_every_input_the_model_reads(name):
    """Issue 20: feeds built from ``session.get_inputs()``, the usual way, leave nothing out.
    An optional input with an initializer's default was not listed there (``_lengths`` was
    one), so padded batches ran as if every sequence were full length, with no warning."""
    import onnxruntime

    _, model = exported(new_project(name).graph)
    session = onnxruntime.InferenceSession(model.SerializeToString())
    declared = [i.name for i in model.graph.input]
    assert [i.name for i in session.get_inputs()] == declared
    assert not set(declared) & {t.name for t in model.graph.initializer}
    assert [i.name for i in session.get_overridable_initializers()] == []
    assert {f"{n.id}_lengths" for n in new_project(name).graph.sequence_inputs()} <= set(declared)


def test_sequence_lengths_are_required_and_read():
    import onnxruntime

    _, model = exported(new_project("bidirectional_tagger").graph)
    session = onnxruntime.InferenceSession(model.SerializeToString())
    tokens = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.int64).T
    with pytest.raises(Exception, match="words_lengths"):  # ORT's own exception types
        session.run(None, {"words": tokens})
    (full,) = session.run(None, {"words": tokens, "words_lengths": np.array([4, 4], np.int32)})
    (cut,) = session.run(None, {"words": tokens, "words_lengths": np.array([4, 2], np.int32)})
    np.testing.assert_array_equal(cut[:, 0], full[:, 0])
    assert np.abs(cut[:2, 1] - full[:2, 1]).max() > 1e-4  # the reverse direction starts earlier


def test_the_check_fails_a_model_with_an_input_onnx_runtime_does_not_list():
    """The check feeds what ONNX Runtime lists, as a user would: a lengths input made optional
    again (an initializer of that name, the old export's way) fails it."""
    project = new_project("many_to_many_equal")
    executor, model = exported(project.graph)
    empty = onnx.numpy_helper.from_array(np.zeros(0, np.int32), "words_lengths")
    model.graph.initializer.append(empty)
    with pytest.raises(OnnxCheckError, match="lists the exported model's inputs as words, but"):
        check_onnx(project, model, executor)


def readme_onnx_snippet() -> str:
    """The Python example of the README's ONNX section, as a reader copies it."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Leave with it: ONNX\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the README's ONNX section should hold one Python example"
    return blocks[0]


def test_the_readmes_onnx_example_runs_a_padded_batch_right(tmp_path, monkeypatch, capsys):
    """The README's example, run as written on an export made as the README makes it, gives
    for each padded sentence what our executor gives for it alone."""
    path = save(new_project("many_to_one"), tmp_path / "sentiment.json")
    monkeypatch.chdir(tmp_path)
    code, _out, err = run(capsys, "export", path, "--to", "onnx", "-o", "sentiment.onnx")
    assert code == 0, err
    snippet, names = readme_onnx_snippet(), {}
    exec(compile(snippet, "README.md", "exec"), names)
    listed = capsys.readouterr().out.splitlines()[0]
    assert f"# {listed}\n" in snippet  # the inputs it says ONNX Runtime lists, as listed
    assert "words_lengths" in listed
    words, lengths, probabilities = names["words"], names["lengths"], names["probabilities"]
    assert (lengths < words.shape[0]).any()  # the example pads
    assert (words[lengths.min() :] == -1).any()
    executor = Executor(new_project("many_to_one").graph, seed=0)  # the export's fresh weights
    for b, length in enumerate(lengths):
        alone = Batch({"words": words[:length, b : b + 1]})
        expected = executor.forward(alone, train=False).predictions["sentiment"][0]
        np.testing.assert_allclose(probabilities[b], expected, atol=1e-5)


def test_inputs_outputs_and_the_doc_string_name_the_nodes():
    _, model = exported(new_project("many_to_one").graph)
    inputs = {i.name: i for i in model.graph.input}
    assert list(inputs) == ["words", "words_lengths"]
    words = [d.dim_param or d.dim_value for d in inputs["words"].type.tensor_type.shape.dim]
    assert words == ["T_words", "B"]
    assert [o.name for o in model.graph.output] == ["sentiment"]
    for text in ("input words:", "words_lengths", "output sentiment:", "probabilities"):
        assert text in model.doc_string
    assert "optional" not in model.doc_string  # every input is required (issue 20)
    cells = [n for n in model.graph.node if n.op_type == "LSTM"]
    assert len(cells) == 1
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in cells[0].attribute}
    assert attributes["layout"] == 0 and attributes["direction"] == b"forward"


def test_a_wrong_gate_order_is_caught_by_the_check(monkeypatch):
    """The check is what keeps the export honest: an export with PyTorch's gate order left
    as it is must fail it."""
    monkeypatch.setattr(onnx_forms, "LSTM", onnx_forms.cell_form(OnnxCell("LSTM", (0, 1, 2, 3))))
    project = new_project("many_to_one")
    executor, model = exported(project.graph)
    result = check_onnx(project, model, executor)
    assert not result.ok and result.max_difference > 1e-3
    assert "OVER" in result.summary()


def test_without_onnxruntime_the_reference_evaluator_checks_and_says_what_it_cannot(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    project = new_project("many_to_many_equal")
    executor, model = exported(project.graph)
    result = check_onnx(project, model, executor)
    assert result.ok and result.runtime == "onnx reference evaluator"
    assert "padding not checked" in result.summary()
    project = new_project("encoder_decoder_feedback")  # onnx 1.23's Loop stacks scans wrongly
    executor, model = exported(project.graph)
    with pytest.raises(OnnxCheckError, match="reference evaluator gives output 'digits'"):
        check_onnx(project, model, executor)


def test_refusals_are_one_line_naming_the_reason():
    with pytest.raises(ExportError, match="opset 13 is not supported"):
        export_onnx(Executor(new_project("many_to_one").graph), opset=13)
    graph = relu_rnn()
    graph.add_node("vector_input", node_id="x_lengths", params={"features": 3})
    graph.add_node("output", node_id="other", params={"loss": "mse", "target": "other"})
    wire(graph, "x_lengths.y", "other.x")
    with pytest.raises(ExportError, match="'x_lengths' would be named twice") as error:
        export_onnx(Executor(graph))
    assert "\n" not in str(error.value)


# --- the command line ----------------------------------------------------------------------------


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rnn-builder: error: ")
    return lines[0]


@pytest.fixture
def project_file(tmp_path):
    path = tmp_path / "project.json"
    save(new_project("bidirectional_tagger"), path)
    return path


def test_cli_check_prints_the_largest_difference_and_writes(capfd, tmp_path, project_file):
    executor = Executor(new_project("bidirectional_tagger").graph, seed=11)
    weights = save_weights(executor, tmp_path / "w.npz")
    target = tmp_path / "model.onnx"
    code, out, err = run(
        capfd, "export", project_file, "--to", "onnx", "-o", target, "--weights", weights,
        "--opset", "22", "--check",
    )  # fmt: skip
    assert code == 0 and err == ""  # capfd: ONNX Runtime writes to the descriptor
    assert "largest difference" in out and "within 1e-05" in out
    model = onnx.load(str(target))
    assert model.opset_import[0].version == 22
    table = onnx.numpy_helper.to_array(
        next(t for t in model.graph.initializer if t.name == "embed.weight")
    )
    np.testing.assert_array_equal(table[:-1], executor.parameters["embed.weight"])


def test_cli_invalid_graph_exits_1_with_its_problems(capsys, tmp_path):
    project = new_project("many_to_one")
    project.graph.disconnect(project.graph.edges_into("scores", "x")[0])
    path = tmp_path / "broken.json"
    save(project, path)
    target = tmp_path / "model.onnx"
    code, out, _ = run(capsys, "export", path, "--to", "onnx", "-o", target)
    assert code == 1 and "error" in out and "[" in out
    assert not target.exists()


@pytest.mark.parametrize("where", ["missing_folder", "a_folder"])
def test_cli_unwritable_output_is_one_line_and_leaves_nothing(
    capsys, tmp_path, project_file, where
):
    target = tmp_path / "nowhere" / "model.onnx" if where == "missing_folder" else tmp_path
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run(capsys, "export", project_file, "--to", "onnx", "-o", target)
    assert code == 2 and "Could not save" in one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_cli_a_failed_check_writes_nothing(capsys, tmp_path, project_file, monkeypatch):
    wrong = onnx_forms.cell_form(
        OnnxCell("GRU", (0, 1, 2), lambda node: {"linear_before_reset": 1})
    )
    monkeypatch.setattr(onnx_forms, "GRU", wrong)
    target = tmp_path / "model.onnx"
    code, out, err = run(capsys, "export", project_file, "--to", "onnx", "-o", target, "--check")
    assert code == 1 and "OVER" in out and "nothing was written" in one_line(err)
    assert not target.exists()


def test_cli_bad_opsets_are_usage(capsys, tmp_path, project_file):
    code, _, err = run(
        capsys, "export", project_file, "--to", "onnx", "-o", tmp_path / "m", "--opset", "9"
    )
    assert code == 2 and "choose 14 to 22" in one_line(err)
    assert TOLERANCE == 1e-5
