"""Exercises a teacher can set and the app can check (issue 24 §2): a goal on a fixed
evaluation set, met or not, said by evaluate and kept in the project file."""

from __future__ import annotations

import json

import pytest

from rnn_builder.cli.main import main
from rnn_builder.errors import MalformedProjectError
from rnn_builder.files.exercises import EXERCISES, new_exercise
from rnn_builder.files.project import Goal
from rnn_builder.files.serialization import dumps, load, loads
from rnn_builder.graph.validation import validate
from rnn_builder.training.tasks import check_data


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", list(EXERCISES))
def test_every_exercise_is_a_valid_project_whose_data_fits_and_whose_goal_is_kept(name):
    project = new_exercise(name)
    assert validate(project.graph).ok and check_data(project).problems == []
    assert project.goal is not None and project.goal.text in project.description
    again = loads(dumps(project))
    assert again.goal == project.goal


def test_a_damaged_goal_is_refused_with_its_place():
    text = dumps(new_exercise("future"))
    for old, new in (
        ('"metric": "token_accuracy"', '"metric": "speed"'),
        ('"threshold": 0.99', '"threshold": "high"'),
        ('"seed": 1234', '"seed": -1'),
    ):
        with pytest.raises(MalformedProjectError, match=r"^goal: "):
            loads(text.replace(old, new))


def test_goals_are_met_above_a_threshold_or_for_a_loss_below_it():
    assert Goal("accuracy", 0.9).met(0.95) and not Goal("accuracy", 0.9).met(0.85)
    assert Goal("mse", 0.01).met(0.001) and not Goal("mse", 0.01).met(0.2)
    assert not Goal("mse", 0.01).met(float("nan")) and not Goal("accuracy", 0.9).met(None)


def test_the_tagger_exercise_is_met_by_reading_both_ways_and_evaluate_says_so(tmp_path, capsys):
    """Scored on the sentences whose clue comes late, on an evaluation set the goal fixes:
    forwards only stays short of it; a bidirectional cell meets it (3 epochs each)."""
    path = tmp_path / "future.json"
    assert run(capsys, "exercises", "future", "-o", path)[0] == 0
    assert run(capsys, "train", path, "--epochs", "3")[0] == 0
    code, out, _ = run(capsys, "evaluate", path, "--weights", path.with_suffix(".npz"), "--json")
    forwards = json.loads(out)
    assert code == 0 and forwards["goal_met"] is False and forwards["goal_examples"] > 50
    assert forwards["goal_value"] < forwards["goal_overall"]  # the late clues are the hard ones
    run(capsys, "edit", path, "--set", "tagger", "bidirectional", "true")
    assert run(capsys, "train", path, "--epochs", "3")[0] == 0
    code, out, _ = run(capsys, "evaluate", path, "--weights", path.with_suffix(".npz"))
    assert code == 0 and out.splitlines()[-1].endswith("— met"), out
    assert load(path).goal.seed == 1234  # the evaluation set the goal fixed, not the training seed


def test_the_exercises_command_lists_them_and_refuses_a_name_it_does_not_know(capsys):
    code, out, _ = run(capsys, "exercises")
    assert code == 0 and all(f"{name}: " in out for name in EXERCISES)
    code, _, err = run(capsys, "exercises", "nope", "-o", "x.json")
    assert code == 2 and "no exercise 'nope'" in err
