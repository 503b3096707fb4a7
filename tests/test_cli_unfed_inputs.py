"""An input the project's data does not feed (issue 20): every command that reads the data
refuses the project with the one line ``train`` gives, before writing anything; none of them
reaches an internal error (exit 3)."""

from __future__ import annotations

import pytest

from rnn_builder.cli.main import main
from rnn_builder.engine.executor import Executor
from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project
from rnn_builder.files.weights_file import save_weights

from .helpers import wire


def vector_into_concat():
    """Sentence sentiment with a Vector input 'v' joined to the LSTM's h_n before the scores."""
    project = new_project("many_to_one")
    graph = project.graph
    graph.disconnect(graph.edges_into("scores", "x")[0])
    graph.add_node("vector_input", node_id="v", params={"features": 3})
    graph.add_node("concat", node_id="cat")
    wire(graph, "reader.h_n", "cat.a", "v.y", "cat.b", "cat.y", "scores.x")
    return project


def unused_sequence():
    """The entity tagger with a second Sequence input that nothing reads (a warning only)."""
    project = new_project("many_to_many_equal")
    project.graph.add_node("sequence_input", node_id="extra", params={"features": 3})
    return project


@pytest.fixture(params=[vector_into_concat, unused_sequence], ids=lambda f: f.__name__)
def unfed(request, tmp_path):
    project = request.param()
    path = save(project, tmp_path / "project.json")
    weights = tmp_path / "weights.npz"
    save_weights(Executor(project.graph, seed=0), weights)
    missing = "v" if request.param is vector_into_concat else "extra"
    return path, weights, missing


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_command_refuses_with_trains_line_and_writes_nothing(unfed, tmp_path, capsys):
    path, weights, missing = unfed
    code, out, err = run(capsys, "validate", path)
    # the graph itself is fine: its data does not fit it, a problem on the input it concerns
    assert code == 1 and f"error ({missing}): No field of" in out and "[data_unfed_input]" in out
    code, out, err = run(capsys, "train", path, "--epochs", "1")
    assert code == 2 and out == ""
    [line] = err.strip().splitlines()
    assert line.startswith("rnn-builder: error: ") and f"'{missing}'" in line
    assert "internal error" not in line
    commands = {
        "onnx --check": ["export", path, "--to", "onnx", "-o", tmp_path / "m.onnx", "--check"],
        "pytorch --check": ["export", path, "--to", "pytorch", "-o", tmp_path / "a", "--check"],
        "pytorch": ["export", path, "--to", "pytorch", "-o", tmp_path / "b"],
        "evaluate": ["evaluate", path, "--weights", weights],
        "predict": ["predict", path, "--weights", weights, "--input", "a b c"],
        "train --json": ["train", path, "--json", "--weights", tmp_path / "t.npz"],
    }
    for name, command in commands.items():
        code, out, err = run(capsys, *command)
        assert (code, out, err.strip()) == (2, "", line), name
    for written in ("m.onnx", "a", "b", "t.npz"):
        assert not (tmp_path / written).exists(), written
    assert not path.with_suffix(".npz").exists()


def test_onnx_without_check_reads_no_data_and_asks_for_the_input(unfed, tmp_path, capsys):
    """An ONNX model holds no data: written without --check, it takes the input as any other
    (the caller feeds it), so there is nothing to refuse."""
    onnx = pytest.importorskip("onnx")
    path, _weights, missing = unfed
    code, _out, err = run(capsys, "export", path, "--to", "onnx", "-o", tmp_path / "m.onnx")
    assert code == 0, err
    model = onnx.load(str(tmp_path / "m.onnx"))
    assert missing in [i.name for i in model.graph.input]
