"""The training loss at every step (training.curve), the runs that keep it (training.runs), and
the trainer's reports that carry it: the curve must not depend on how often reports come."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_builder.engine.executor import Executor
from rnn_builder.files.templates import new_project
from rnn_builder.training.curve import CurveError, LossCurve
from rnn_builder.training.runs import RunRecord, RunsError, runs_from_json
from rnn_builder.training.tasks import load_dataset
from rnn_builder.training.trainer import Trainer


def _buckets(losses: list[float], width: int) -> tuple[list, list, list, list]:
    """The envelope worked out directly from every loss, by fixed spans of ``width`` steps."""
    steps, low, mean, high = [], [], [], []
    for begin in range(0, len(losses), width):
        part = losses[begin : begin + width]
        steps.append(begin + 1)
        low.append(min(part))
        mean.append(sum(part) / len(part))
        high.append(max(part))
    return steps, low, mean, high


def test_a_short_run_keeps_every_step_exactly():
    curve = LossCurve()
    curve.extend(3, [0.9, 0.8, 0.85])
    curve.extend(5, [0.7, 0.6])
    assert curve.exact and curve.width == 1
    assert curve.steps == [1, 2, 3, 4, 5]
    assert curve.mean == [0.9, 0.8, 0.85, 0.7, 0.6]
    assert curve.last == 0.6


def test_past_its_limit_the_curve_keeps_min_mean_and_max_per_bucket():
    rng = np.random.default_rng(0)
    losses = list(rng.random(1000))
    curve = LossCurve(limit=100)
    curve.extend(len(losses), losses)
    assert curve.width == 16 and 50 <= len(curve) <= 100  # 1000 steps in 16-step buckets
    steps, low, mean, high = _buckets(losses, curve.width)
    assert curve.steps == steps and curve.low == low and curve.high == high
    np.testing.assert_allclose(curve.mean, mean, rtol=1e-12)
    assert not curve.exact


@settings(max_examples=60, deadline=None)
@given(
    losses=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=400),
    cuts=st.lists(st.integers(0, 400), max_size=30),
)
def test_the_curve_is_the_same_however_the_reports_split_the_steps(losses, cuts):
    """What a fast machine and a slow one report differ only in where the reports fall."""
    whole = LossCurve(limit=37)
    whole.extend(len(losses), losses)
    reported = LossCurve(limit=37)
    bounds = sorted({0, len(losses), *(c for c in cuts if c <= len(losses))})
    for begin, end in itertools.pairwise(bounds):
        reported.extend(end, losses[begin:end])
    assert reported.to_json() == whole.to_json()
    assert len(whole) <= 37 and whole.last_step == len(losses)


def test_a_loss_that_is_not_finite_is_no_point_and_steps_only_go_forward():
    curve = LossCurve()
    curve.extend(3, [0.5, float("nan"), 0.4])
    assert curve.steps == [1, 3]
    with pytest.raises(ValueError, match="comes after step 3"):
        curve.add(2, 0.1)


def test_a_curve_and_a_run_come_back_from_json_as_they_were():
    curve = LossCurve(limit=10)
    curve.extend(95, list(np.linspace(1.0, 0.1, 95)))
    run = RunRecord(3, "run 3: LSTM 32", {"epochs": 2}, curve, [50, 95], [0.4, 0.2], [0.8, 0.9])
    text = json.dumps([run.to_json()])
    (back,) = runs_from_json(json.loads(text))
    assert back.to_json() == run.to_json()
    assert back.curve.last_step == 96  # the last bucket spans to its end: later steps go after


def test_runs_saved_before_every_step_was_kept_are_read_as_their_points():
    old = {"number": 1, "label": "run 1", "settings": {}, "steps": [12, 25], "loss": [0.7, 0.5]}
    (run,) = runs_from_json([old])
    assert run.curve.steps == [12, 25] and run.curve.mean == [0.7, 0.5]


GOOD = {
    "number": 1,
    "label": "run 1",
    "settings": {"epochs": 3},
    "loss_curve": {"width": 1, "steps": [1, 2], "mean": [0.7, 0.5]},
    "val_steps": [2],
    "val_loss": [0.6],
    "val_metric": [float("nan")],
    "metric": "accuracy",
    "stopped": "finished",
}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"settings": "epochs 3"}, "settings"),
        ({"settings": {"epochs": object}}, "settings"),
        ({"loss": "low", "loss_curve": None}, "run 1's loss is 'low', not a list"),
        ({"loss_curve": []}, "loss curve is not an object"),
        ({"number": True}, "number"),
        ({"number": 0}, "number"),
        ({"label": None}, "label"),
        ({"stopped": ["finished"]}, "stopped"),
        ({"metric": 3}, "metric"),
        ({"val_steps": [1, 2]}, "not all of one length"),
        ({"val_loss": "0.6"}, "val_loss"),
        ({"val_loss": [None]}, "val_loss"),
        ({"val_steps": [1.5]}, "val_steps"),
        ({"loss_curve": {"steps": [1, 2], "mean": [0.7]}}, "one length"),
        ({"loss_curve": {"steps": [2, 1], "mean": [0.7, 0.5]}}, "do not increase"),
        ({"loss_curve": {"steps": [1], "mean": [float("nan")]}}, "finite"),
        ({"loss_curve": {"steps": [1], "mean": [10**400]}}, "finite"),
        ({"loss_curve": {"steps": [1], "mean": [0.5], "width": "2"}}, "width"),
        ({"loss_curve": {"steps": [1], "mean": [0.5], "counts": [3]}}, "more than its 1"),
        ({"loss_curve": {"steps": [1], "mean": [0.5], "low": [0.6]}}, "outside"),
        ({"loss_curve": {"steps": None, "mean": []}}, "not a list"),
    ],
)
def test_a_damaged_run_is_refused_with_what_is_wrong(change, words):
    data = {**GOOD, **change}
    if data.get("loss_curve") is None:
        del data["loss_curve"]
    with pytest.raises(RunsError, match=words):
        runs_from_json([data])


def test_a_runs_file_that_is_not_a_list_of_runs_is_refused():
    for data in ({"runs": []}, "runs", [GOOD] * 1001, [None]):
        with pytest.raises(RunsError):
            runs_from_json(data)
    assert issubclass(CurveError, ValueError) and issubclass(RunsError, ValueError)


def _train(report_every: float) -> list:
    project = new_project("many_to_many_equal")
    project.training.epochs = 2
    dataset = load_dataset(project)
    executor = Executor(project.graph, seed=project.training.seed)
    reports = []
    result = Trainer(executor, dataset, project.training, reports.append, report_every).train()
    return reports, result


def test_the_reports_carry_every_steps_loss_however_often_they_come():
    every_step, result = _train(report_every=0.0)
    seldom, _ = _train(report_every=3600.0)  # only the epochs' ends and the final report
    assert len(every_step) > len(seldom) >= 3
    for reports in (every_step, seldom):
        curve = LossCurve()
        for report in reports:
            curve.extend(report.step, report.losses)
        assert curve.steps == list(range(1, result.steps + 1))
    one = [loss for r in every_step for loss in r.losses]
    other = [loss for r in seldom for loss in r.losses]
    assert one == other  # seeded: the same steps, the same losses
    # a report's loss is still the mean of the steps it carries
    for report in seldom:
        if report.losses:
            assert report.loss == pytest.approx(np.mean(report.losses))


def test_train_records_what_its_run_was_and_saves_it_with_the_weights(tmp_path, capsys):
    """Issue 24: a run records the graph it trained, its data, its seed and whether it went on
    from weights; `train` on the command line records its run too, saved with the weights as
    one set, so the app opens the project with both (issue 22's record matches)."""
    from rnn_builder.cli.main import main
    from rnn_builder.files.companions import weights_problem
    from rnn_builder.files.serialization import load
    from rnn_builder.files.weights_file import read_weights
    from rnn_builder.training.runs import graph_digest, graph_json, read_runs_file

    path = tmp_path / "tagger.json"
    main(["new", "many_to_many_equal", "-o", str(path)])
    for _ in range(2):
        assert main(["train", str(path), "--steps", "5"]) == 0
    capsys.readouterr()
    runs = read_runs_file(path.with_suffix(".runs.json"))
    assert [r.number for r in runs] == [1, 2] and runs[1].label.startswith("run 2: RNN 32")
    project = load(path)
    assert runs[1].graph_digest == graph_digest(graph_json(project))
    assert json.loads(runs[1].graph)["nodes"][0]["id"] == "words"
    assert runs[1].data == {"kind": "builtin", "name": "entities", "options": {}}
    assert runs[1].seed == 0 and runs[1].continued is False and runs[1].stopped == "steps"
    assert runs[1].curve.steps == [1, 2, 3, 4, 5]
    weights = read_weights(path.with_suffix(".npz"))
    assert weights_problem(project, path.with_suffix(".npz"), weights) is None
    # --weights elsewhere: the project's set is left alone
    assert main(["train", str(path), "--steps", "2", "--weights", str(tmp_path / "x.npz")]) == 0
    assert len(read_runs_file(path.with_suffix(".runs.json"))) == 2


def test_a_runs_files_record_of_what_a_run_was_is_checked():
    base = {**GOOD}
    for change, words in (
        ({"graph": 5}, "graph"),
        ({"data": "x"}, "data"),
        ({"seed": "0"}, "seed"),
        ({"continued": 1}, "continued"),
        ({"graph_digest": []}, "graph_digest"),
    ):
        with pytest.raises(RunsError, match=words):
            runs_from_json([{**base, **change}])
    (run,) = runs_from_json([{**base, "seed": 7, "continued": True}])
    assert run.seed == 7 and run.continued
