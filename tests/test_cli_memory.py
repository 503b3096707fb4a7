"""The command line and the memory a project needs: a network too large for the machine is
refused by every command with the figure, in one line per problem (exit 1), before any of it is
allocated; each command checks what it will hold (training its batches, predicting one
example); a machine out of memory all the same is one line, not a traceback."""

from __future__ import annotations

import json

import pytest

import rnn_builder.cli.training
from rnn_builder.engine.executor import Executor
from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project
from rnn_builder.files.weights_file import save_weights
from rnn_builder.graph.budget import BUDGET_VARIABLE
from rnn_builder.graph.footprint import estimate_workload
from rnn_builder.graph.validation import validate
from rnn_builder.training.workload import workload_of
from tests.bombs import measured

from .test_cli import run


@pytest.fixture
def huge(tmp_path):
    """Sentence sentiment with a vocabulary of 1,000,000 embedded in 100,000 dimensions: every
    parameter within its limits, 100,012,804,418 weights (issue 22)."""
    project = new_project("many_to_one")
    for node in ("words", "embed"):
        project.graph.set_param(node, "vocabulary", 1_000_000)
    project.graph.set_param("embed", "dimension", 100_000)
    return save(project, tmp_path / "huge.json")


COMMANDS = {
    "validate": [],
    "train": [],
    "evaluate": ["--weights", "none.npz"],
    "predict": ["--weights", "none.npz", "--input", "good"],
    "sample": ["--weights", "none.npz"],
    "export": ["--to", "onnx", "-o", "huge.onnx"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_refuses_a_network_too_large_before_allocating_it(capsys, huge, command):
    with measured() as cost:
        code, out, err = run(capsys, command, str(huge), *COMMANDS[command])
    assert code == 1 and err == "", (out, err)
    assert cost.traced_peak < 20e6, cost  # 400 GB of weights never asked for
    (line,) = [line for line in out.splitlines() if "[memory_exceeded]" in line]
    assert line.startswith(f"{huge}: error (embed): ")
    assert "100,012,804,418 weights" in line and "make Embedding 'embed' smaller" in line
    assert not (huge.parent / "huge.onnx").exists()


def budget_between(monkeypatch, project, low: str, high: str) -> None:
    """A budget that ``low`` fits in and ``high`` does not (purposes of ``workload_of``)."""
    report = validate(project.graph)
    small = estimate_workload(project.graph, workload_of(project, purpose=low), report).total
    large = estimate_workload(project.graph, workload_of(project, purpose=high), report).total
    assert small < large
    monkeypatch.setenv(BUDGET_VARIABLE, str((2 * small + large) // 3 * 2))  # small < half


def test_each_command_checks_the_memory_it_will_need(capsys, tmp_path, monkeypatch):
    project = new_project("stacked_lstm")
    project.training.batch_size = 4096
    path = save(project, tmp_path / "rhymes.json")
    weights = save_weights(Executor(project.graph), tmp_path / "rhymes.npz")
    budget_between(monkeypatch, project, "predict", "train")

    code, out, _ = run(capsys, "validate", str(path))
    assert code == 1 and "[memory_exceeded]" in out
    assert "Training (batches of 4,096, 'text' 24 steps) needs about" in out
    saved = weights.read_bytes()
    code, out, _ = run(capsys, "train", str(path), "--steps", "1")
    assert code == 1 and "[memory_exceeded]" in out
    assert weights.read_bytes() == saved  # refused before training: nothing written
    code, out, _ = run(capsys, "sample", str(path), "--weights", str(weights), "--length", "3")
    assert code == 0 and out.strip()  # one example at a time fits
    code, out, _ = run(capsys, "info", str(path), "--json")
    memory = json.loads(out)["memory"]
    assert memory["training_bytes"] > memory["budget_bytes"]


def test_info_says_what_training_holds(capsys, tmp_path):
    path = save(new_project("many_to_one"), tmp_path / "s.json")
    code, out, _ = run(capsys, "info", str(path))
    assert code == 0
    (line,) = [line for line in out.splitlines() if line.startswith("memory: ")]
    assert "training holds about" in line and "MB at once (budget" in line


def test_a_machine_out_of_memory_all_the_same_is_one_line(capsys, tmp_path, monkeypatch):
    path = save(new_project("many_to_one"), tmp_path / "s.json")

    def exhausted(*_args, **_kwargs):
        raise MemoryError

    monkeypatch.setattr(rnn_builder.cli.training, "Executor", exhausted)
    code, out, err = run(capsys, "train", str(path))
    assert code == 2 and out == ""
    assert err.startswith("rnn-builder: error: The machine ran out of memory")
    assert len(err.strip().splitlines()) == 1 and BUDGET_VARIABLE in err
