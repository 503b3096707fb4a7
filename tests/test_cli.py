"""python -m rnn_builder: output, exit codes (0 ok, 1 problems, 2 usage) and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rnn_builder.cli.main import main
from rnn_builder.files.serialization import save
from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.graph.model import Edge


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rnn-builder: error: ")
    return lines[0]


def test_templates_lists_every_template(capsys):
    code, out, _ = run(capsys, "templates")
    assert code == 0
    for name in TEMPLATES:
        assert name in out
    code, out, _ = run(capsys, "templates", "--json")
    assert [row["name"] for row in json.loads(out)] == list(TEMPLATES)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_new_then_validate_prints_the_layout(capsys, tmp_path, name):
    path = tmp_path / f"{name}.json"
    code, out, _ = run(capsys, "new", name, "-o", str(path))
    assert code == 0 and path.exists()
    code, out, _ = run(capsys, "validate", str(path))
    layout_titles = {
        "one_to_one": "One-to-one",
        "one_to_many": "One-to-many",
        "many_to_one": "Many-to-one",
        "many_to_many_equal": "Many-to-many (equal lengths)",
        "many_to_many_unequal": "Many-to-many (encoder-decoder)",
    }
    assert code == 0
    assert f"valid — {layout_titles[TEMPLATES[name].layout]}" in out


def test_new_refuses_to_overwrite_and_unknown_templates(capsys, tmp_path):
    path = tmp_path / "p.json"
    path.write_text("keep me")
    code, _, err = run(capsys, "new", "many_to_one", "-o", str(path))
    assert code == 2 and "--force" in one_line(err)
    assert path.read_text() == "keep me"
    code, _, err = run(capsys, "new", "nonsense", "-o", str(tmp_path / "q.json"))
    assert code == 2 and "no template 'nonsense'" in one_line(err)
    code, _, _ = run(capsys, "new", "many_to_one", "-o", str(path), "--force")
    assert code == 0


def test_validate_names_the_nodes_on_a_cycle_without_delay(capsys, tmp_path):
    project = new_project("many_to_many_equal")
    graph = project.graph
    graph.add_node("concat", node_id="mix")
    graph.disconnect(Edge("embed", "y", "tagger", "x"))
    graph.connect("embed", "y", "mix", "a")
    graph.connect("mix", "y", "tagger", "x")
    graph.connect("tag_scores", "y", "mix", "b")
    path = save(project, tmp_path / "cycle.json")
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 1
    line = next(line for line in out.splitlines() if "cycle_without_delay" in line)
    for node in ("mix", "tagger", "tag_scores"):
        assert node in line
    code, out, _ = run(capsys, "validate", str(path), "--json")
    data = json.loads(out)
    assert code == 1 and not data["valid"]
    cycle = next(p for p in data["problems"] if p["code"] == "cycle_without_delay")
    assert set(cycle["nodes"]) == {"mix", "tagger", "tag_scores"}


def test_validate_prints_one_line_per_problem(capsys, tmp_path):
    project = new_project("many_to_one")
    project.graph.remove_node("scores")
    project.graph.add_node("lstm", node_id="orphan")
    path = save(project, tmp_path / "broken.json")
    code, out, _ = run(capsys, "validate", str(path))
    lines = out.strip().splitlines()
    assert code == 1
    assert len(lines) == 2
    assert any("[missing_input]" in line and "(sentiment.x)" in line for line in lines)
    assert any("(orphan.x)" in line for line in lines)


def test_unroll_formats(capsys, tmp_path):
    path = save(new_project("encoder_decoder_feedback"), tmp_path / "p.json")
    code, out, _ = run(capsys, "unroll", str(path), "--steps", "5")
    assert code == 0
    assert "unrolled: 35 nodes, 38 edges (26 data, 8 state, 4 delay)" in out
    assert "  step loop · decoder → digit_scores ↻ previous_digit · 5 steps\n" in out
    code, out, _ = run(
        capsys, "unroll", str(path), "--steps", "words=3,previous_digit=2", "--format", "json"
    )
    data = json.loads(out)
    assert data["steps"] == {"words": 3, "previous_digit": 2}
    assert data["nodes"] == 3 * 3 + 4 * 2  # three nodes on the words axis, four on the decoder's
    loops = [segment for segment in data["plan"] if segment["kind"] == "step loop"]
    assert [(loop["axis"], loop["steps"]) for loop in loops] == [("previous_digit", 2)]
    code, out, _ = run(capsys, "unroll", str(path), "--steps", "2", "--format", "dot")
    assert code == 0 and out.startswith("digraph unrolled {")


def test_unroll_usage_errors_are_one_line(capsys, tmp_path):
    path = save(new_project("many_to_one"), tmp_path / "p.json")
    code, _, err = run(capsys, "unroll", str(path), "--steps", "lots")
    assert code == 2 and "not a whole number" in one_line(err)
    code, _, err = run(capsys, "unroll", str(path), "--steps", "decoder=3")
    assert code == 2 and "no time axis 'decoder'" in one_line(err)
    code, _, err = run(capsys, "unroll", str(path), "--steps", "0")
    assert code == 2 and "at least 1" in one_line(err)


def test_unroll_of_an_invalid_graph_exits_1(capsys, tmp_path):
    project = new_project("many_to_one")
    project.graph.remove_node("sentiment")
    path = save(project, tmp_path / "p.json")
    code, out, _ = run(capsys, "unroll", str(path), "--steps", "3")
    assert code == 1 and "no_output" in out


def test_info(capsys, tmp_path):
    path = save(new_project("bidirectional_tagger"), tmp_path / "p.json")
    code, out, _ = run(capsys, "info", str(path))
    assert code == 0
    assert "Bidirectional GRU tagger" in out and "Many-to-many (equal lengths)" in out
    code, out, _ = run(capsys, "info", str(path), "--json")
    data = json.loads(out)
    assert data["parameters"] == 10_435 and data["layout"] == "many_to_many_equal"
    assert data["time_axes"] == {"words": {"kind": "input", "steps": 8}}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "no file"),
        ("{not json", "not valid JSON"),
        (
            '{"format": "rnn-builder-project", "version": 1, "graph": {"nodes": 3, "edges": []}}',
            "graph → nodes: expected a list",
        ),
    ],
)
def test_unreadable_files_exit_2_with_one_line(capsys, tmp_path, content, words):
    path = tmp_path / "p.json"
    if content is not None:
        path.write_text(content)
    for command in ("validate", "info", "unroll"):
        code, _, err = run(capsys, command, str(path))
        assert code == 2 and words in one_line(err)


def test_bad_usage_exits_2_with_one_line(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "required" in one_line(err)
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "invalid choice" in one_line(err)
    code, _, err = run(capsys, "unroll", "p.json", "--format", "svg")
    assert code == 2 and one_line(err)


def test_module_entry_point_runs_as_a_program(tmp_path):
    # one run that succeeds and one that fails (each pays ~1 s of start-up); "new" itself is
    # tested in-process above
    path = save(new_project("many_to_one"), tmp_path / "p.json")
    result = subprocess.run(
        [sys.executable, "-m", "rnn_builder", "validate", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "Many-to-one" in result.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "rnn_builder", "info", str(tmp_path / "nope.json")],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.count("\n") == 1


def test_an_axis_given_twice_is_refused(capsys, tmp_path):
    path = save(new_project("many_to_one"), tmp_path / "p.json")
    code, _, err = run(capsys, "unroll", str(path), "--steps", "words=3,words=4")
    assert code == 2 and "given twice" in one_line(err)


def test_a_device_is_refused_not_read(capsys):
    code, _, err = run(capsys, "validate", "/dev/zero")
    assert code == 2 and "not a regular file" in one_line(err)
