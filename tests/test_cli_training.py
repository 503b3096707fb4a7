"""The training commands: train (JSON lines, Ctrl-C), evaluate, predict, sample."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import sys

import numpy as np
import pytest

from rnn_builder.cli.main import main
from rnn_builder.files.serialization import save
from rnn_builder.files.templates import new_project


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The sentiment template trained for two epochs, with its weights: made once for the
    tests that only read them (~1.5 s of training)."""
    path = save(new_project("many_to_one"), tmp_path_factory.mktemp("trained") / "sentiment.json")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["train", str(path), "--epochs", "2", "--json"])
    assert code == 0 and "Traceback" not in out.getvalue() + err.getvalue()
    return path, [json.loads(line) for line in out.getvalue().strip().splitlines()]


def test_train_prints_json_lines_and_a_final_summary(trained):
    path, lines = trained
    final = lines[-1]
    assert final["final"] is True
    for key in ("steps", "seconds", "loss", "val_loss", "val_accuracy"):
        assert final[key] is not None
    assert final["steps"] == 2 * 150 and final["val_accuracy"] > 0.7
    assert {line["kind"] for line in lines[:-1]} <= {"step", "epoch"}
    assert sum(line["kind"] == "epoch" for line in lines[:-1]) == 2
    assert path.with_suffix(".npz").exists() and final["weights"].endswith("sentiment.npz")


def test_steps_seed_and_weights_options(tmp_path, capsys):
    path = save(new_project("one_to_one"), tmp_path / "p.json")
    outs = []
    for target in ("a.npz", "b.npz"):
        code, out, _ = run(
            capsys,
            "train",
            str(path),
            "--steps",
            "30",
            "--seed",
            "4",
            "--weights",
            str(tmp_path / target),
            "--json",
        )
        assert code == 0
        outs.append(json.loads(out.strip().splitlines()[-1]))
    assert outs[0]["steps"] == 30 and outs[0]["loss"] == outs[1]["loss"]
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a.files)


def test_evaluate_predict_and_bad_input(trained, capsys):
    path, lines = trained
    weights = str(path.with_suffix(".npz"))
    code, out, _ = run(capsys, "evaluate", str(path), "--weights", weights, "--json")
    data = json.loads(out)
    assert code == 0 and data["val_accuracy"] == pytest.approx(lines[-1]["val_accuracy"])
    code, out, _ = run(
        capsys, "predict", str(path), "--weights", weights, "--input", "the food was great"
    )
    assert code == 0 and out.split()[0] in ("positive", "negative")
    code, _, err = run(
        capsys, "predict", str(path), "--weights", weights, "--input", "the food was yummy"
    )
    assert code == 2 and "does not know the word 'yummy'" in err
    code, _, err = run(capsys, "sample", str(path), "--weights", weights)
    assert code == 2 and "does not generate" in err
    code, _, err = run(capsys, "evaluate", str(path), "--weights", str(path))
    assert code == 2 and "not a readable .npz" in err


def test_sample_music_and_text(tmp_path, capsys):
    path = save(new_project("one_to_many"), tmp_path / "music.json")
    # 300 steps make every arpeggio right (200 already do); the full 30 epochs are 1,350
    assert run(capsys, "train", str(path), "--steps", "300", "--json")[0] == 0
    weights = str(path.with_suffix(".npz"))
    code, out, _ = run(capsys, "predict", str(path), "--weights", weights, "--input", "C major")
    assert out.strip() == "C4 E4 G4 C5"
    code, out, _ = run(
        capsys,
        "sample",
        str(path),
        "--weights",
        weights,
        "--prime",
        "D minor",
        "--temperature",
        "0.2",
    )
    assert code == 0 and out.strip() == "D4 F4 A4 D5"
    # issue 24: the notes are drawn independently, and a length it cannot write is refused
    argv = ["sample", str(path), "--weights", weights, "--length", "12"]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert "writes 4 steps, not 12: leave out --length" in err and err.count("\n") == 1
    code, out, err = run(capsys, "sample", str(path), "--weights", weights, "--length", "4")
    assert code == 0 and len(out.split()) == 4
    assert "independently of the notes drawn before it" in err
    text = save(new_project("stacked_lstm"), tmp_path / "lm.json")
    assert run(capsys, "train", str(text), "--steps", "20", "--json")[0] == 0
    code, out, _ = run(
        capsys,
        "sample",
        str(text),
        "--weights",
        str(text.with_suffix(".npz")),
        "--prime",
        "this is ",
        "--length",
        "30",
    )
    assert code == 0 and out.startswith("this is ") and len(out.rstrip("\n")) == 38


def test_ctrl_c_stops_cleanly_and_keeps_the_weights(tmp_path):
    path = save(new_project("adding_problem"), tmp_path / "adding.json")
    process = subprocess.Popen(
        [sys.executable, "-m", "rnn_builder", "train", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = process.stdout.readline()  # training is under way once a report arrives
    assert json.loads(first)["kind"] in ("step", "epoch")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    final = json.loads(out.strip().splitlines()[-1])
    assert final["final"] is True and final["stopped"] == "cancelled"
    assert path.with_suffix(".npz").exists()


def test_the_final_line_says_which_figures_are_the_best_epochs(tmp_path, capsys):
    """The last epoch's training loss and the best epoch's validation figures were printed side
    by side as if they were one epoch's."""
    from rnn_builder.cli.training import _final_line
    from rnn_builder.training.trainer import TrainingResult

    result = TrainingResult(
        steps=90,
        epochs=3,
        seconds=1.25,
        loss=0.5,
        val_loss=0.25,
        val_metric=0.9,
        metric="accuracy",
        stopped="finished",
    )
    line = _final_line(result, tmp_path / "w.npz")
    assert line.startswith("finished: 90 steps in 1.2s, last training loss 0.5; ")
    assert "kept the best epoch: val loss 0.25, 90.0% accuracy" in line
    no_validation = TrainingResult(
        steps=9,
        epochs=1,
        seconds=0.5,
        loss=0.5,
        val_loss=None,
        val_metric=None,
        metric="accuracy",
        stopped="finished",
    )
    assert "best" not in _final_line(no_validation, tmp_path / "w.npz")


def test_train_with_truncated_bptt_on_an_axis_that_starts_at_a_repeat(tmp_path, capsys):
    """The one-to-many template's axis is a Repeat's: its length is the Repeat's steps (it
    was looked up among the inputs: KeyError, exit 3)."""
    path = str(tmp_path / "arpeggio.json")
    assert run(capsys, "new", "one_to_many", "-o", path)[0] == 0
    assert run(capsys, "edit", path, "--setting", "truncated_bptt", "3")[0] == 0
    code, out, err = run(capsys, "train", path, "--steps", "20", "--json")
    assert code == 0, err
    final = json.loads(out.strip().splitlines()[-1])
    assert final["final"] and final["steps"] == 20


def test_train_and_predict_read_a_csv_with_old_mac_line_endings_and_refuse_an_overlong_field(
    tmp_path, capsys
):
    from rnn_builder.files.project import DatasetReference

    rows = ["Month,Passengers"] + [f"m{i},{100 + i * 7 % 23}" for i in range(40)]
    series = tmp_path / "series.csv"
    series.write_text("\r".join(rows) + "\r", encoding="utf-8", newline="")
    project = new_project("forecast")
    project.dataset = DatasetReference("csv", str(series), {})
    path = str(save(project, tmp_path / "forecast.json"))
    code, _, err = run(capsys, "train", path, "--steps", "5", "--json")
    assert code == 0, err
    window = tmp_path / "window.csv"
    window.write_text("\r\n".join(rows[:14]) + "\r", encoding="utf-8", newline="")
    weights = str(tmp_path / "forecast.npz")
    code, out, err = run(capsys, "predict", path, "--weights", weights, "--input", str(window))
    assert code == 0 and "Passengers, 1 step(s) ahead:" in out, err

    overlong = "\n".join([*rows[:5], 'm99,"' + "9" * 200_000 + '"', *rows[5:]])
    expected = "line 6: a field is longer than 131,072 characters"
    window.write_text(overlong, encoding="utf-8")
    code, _, err = run(capsys, "predict", path, "--weights", weights, "--input", str(window))
    assert code == 2 and err.strip() == f"rnn-builder: error: the CSV file '{window}', {expected}"
    series.write_text(overlong, encoding="utf-8")
    code, _, err = run(capsys, "train", path, "--steps", "5")
    assert code == 2 and err.strip() == f"rnn-builder: error: the CSV file '{series}', {expected}"
