"""What a newcomer meets at the command line (issue 15): a graph with problems is refused by the
training commands with the problems ``validate`` names, not with a puzzle about the data."""

from __future__ import annotations

import json

import pytest

from rnn_builder.cli.main import main
from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project


def _without_the_output_wire(tmp_path):
    """The sentiment template with the wire into its Output removed."""
    project = new_project("many_to_one")
    graph = project.graph
    graph.disconnect(next(e for e in graph.edges if e.dst_node == "sentiment"))
    return save(project, tmp_path / "broken.json")


def _run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "sample"])
def test_a_graph_with_a_missing_wire_is_refused_with_validates_problems(tmp_path, capsys, command):
    path = str(_without_the_output_wire(tmp_path))
    validate_code, problems, _ = _run(capsys, "validate", path)
    assert validate_code == 1
    assert "error (sentiment.x): Output 'sentiment' has no input" in problems
    extra = {
        "train": ["--epochs", "1"],
        "evaluate": ["--weights", "w.npz"],
        "predict": ["--weights", "w.npz", "--input", "the food was great"],
        "sample": ["--weights", "w.npz"],
    }[command]
    code, out, err = _run(capsys, command, path, *extra)
    assert code == 1, (out, err)
    assert out == problems  # the very lines validate prints
    assert "Dense layer" not in out + err  # no advice about the data for a graph that cannot run
    assert not (tmp_path / "broken.npz").exists()  # nothing trained, nothing written


def test_train_json_reports_the_problems_as_json(tmp_path, capsys):
    path = str(_without_the_output_wire(tmp_path))
    code, out, _ = _run(capsys, "train", path, "--json")
    assert code == 1
    final = json.loads(out)
    assert final["final"] is True and final["valid"] is False
    assert [p["code"] for p in final["problems"]] == ["missing_input"]
    assert final["problems"][0]["node"] == "sentiment"
