"""Typed input read once for the CLI and the app (rnn_builder.training.predict), and a series' typed
numbers: what they read as, and the reasons given when they cannot be read."""

from __future__ import annotations

import io

import numpy as np
import pytest

from rnn_builder.cli.main import main as cli_main
from rnn_builder.engine.executor import Executor
from rnn_builder.errors import DataError
from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project
from rnn_builder.files.weights_file import save_weights
from rnn_builder.training.predict import predict, read_input, reads_typed_input
from rnn_builder.training.tasks import TASKS, load_dataset
from rnn_builder.training.tasks.series import typed_numbers


def test_typed_numbers_name_the_first_bad_value_and_its_place():
    assert typed_numbers(" 112, 118;132  129 ").tolist() == [112, 118, 132, 129]
    with pytest.raises(DataError, match=r"'x' \(value 2 of 3\) is not a number"):
        typed_numbers("1, x, 3")
    with pytest.raises(DataError, match="is not finite"):
        typed_numbers("1 nan")
    with pytest.raises(DataError, match="latest values"):
        typed_numbers(" , ")


def test_a_series_reads_typed_numbers_as_its_csv_window_reads_the_same_numbers(tmp_path):
    project = new_project("forecast")
    load_dataset(project)  # the options the data works out: inputs, normalisation
    typed = read_input(project, "100, 110, 121")
    assert typed.example["history"].shape == (3, 1)
    np.testing.assert_allclose(typed.example["history"][:, 0], [100 / 121 - 1, 110 / 121 - 1, 0])
    csv = tmp_path / "three.csv"
    csv.write_text("Month,Passengers\n" + "".join(f"m{k},{v}\n" for k, v in enumerate(range(14))))
    window = read_input(project, str(csv)).example["history"]
    assert window.shape == (12, 1)  # a file: its last window, as before
    many = read_input(project, ", ".join(str(v) for v in range(1, 15))).example["history"]
    np.testing.assert_allclose(
        many, read_input(project, " ".join(map(str, range(3, 15)))).example["history"]
    )


def test_read_input_refuses_empty_input_and_tasks_without_typed_input():
    project = new_project("many_to_one")
    with pytest.raises(DataError, match="like 'the plot was not bad at all'"):
        read_input(project, "   ")
    assert not reads_typed_input(TASKS["adding"])
    with pytest.raises(DataError, match="does not read typed input"):
        read_input(new_project("adding_problem"), "1 2 3")


def test_the_cli_prints_what_predict_returns(tmp_path):
    project = new_project("many_to_one")
    path = save(project, tmp_path / "s.json")
    executor = Executor(project.graph, seed=project.training.seed)
    save_weights(executor, tmp_path / "s.npz")
    out = io.StringIO()
    text = "the food was not good"
    assert (
        cli_main(["predict", str(path), "--weights", str(tmp_path / "s.npz"), "--input", text], out)
        == 0
    )
    assert out.getvalue().strip() == predict(executor, read_input(project, text))
