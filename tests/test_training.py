"""The trainer: determinism, control from another thread, the NaN guard, schedules, truncated
BPTT, early stopping."""

from __future__ import annotations

import gc
import math
import threading
import tracemalloc

import numpy as np
import pytest

from rnn_builder.engine.executor import Executor
from rnn_builder.errors import DataError
from rnn_builder.files.project import TrainingSettings
from rnn_builder.files.templates import new_project
from rnn_builder.training.data import Split
from rnn_builder.training.tasks import load_dataset
from rnn_builder.training.trainer import Trainer, learning_rate


def setup(template: str, **settings):
    project = new_project(template)
    for key, value in settings.items():
        setattr(project.training, key, value)
    dataset = load_dataset(project)
    executor = Executor(project.graph, seed=project.training.seed)
    return project, dataset, executor


def losses_callback(sink: list):
    return lambda report: sink.append(report.loss)


def test_same_seed_same_losses_and_weights():
    results = []
    for _ in range(2):
        project, dataset, executor = setup("many_to_many_equal", epochs=2)
        losses = []
        trainer = Trainer(
            executor,
            dataset,
            project.training,
            losses_callback(losses),
            report_every=0.0,
            max_steps=40,
        )
        trainer.train()
        results.append((losses, executor.get_parameters()))
    assert results[0][0] == results[1][0] and len(results[0][0]) >= 40
    for name, value in results[0][1].items():
        np.testing.assert_array_equal(value, results[1][1][name])
    project, dataset, executor = setup("many_to_many_equal", epochs=2, seed=1)
    other = []
    Trainer(
        executor,
        dataset,
        project.training,
        lambda r: other.append(r.loss),
        report_every=0.0,
        max_steps=40,
    ).train()
    assert other != results[0][0]


def test_training_lowers_the_loss_and_keeps_the_best_weights():
    project, dataset, executor = setup("one_to_one", epochs=20)
    result = Trainer(executor, dataset, project.training).train()
    assert result.stopped == "finished"
    assert result.val_metric > 0.9
    epoch_losses = [r.val_loss for r in result.history if r.kind == "epoch"]
    assert min(epoch_losses) == pytest.approx(result.val_loss, rel=1e-6)


def test_pause_resume_and_cancel_from_another_thread():
    project, dataset, executor = setup("many_to_one", epochs=50)
    reached = threading.Event()
    goal = [5]
    steps_seen = [0]

    def callback(report):
        steps_seen.append(report.step)
        if report.step >= goal[0]:
            reached.set()

    trainer = Trainer(executor, dataset, project.training, callback, report_every=0.0)
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(result=trainer.train()))
    worker.start()
    assert reached.wait(30)
    trainer.pause()
    assert trainer.waiting.wait(30)  # blocked between steps
    frozen = executor.get_parameters()
    paused_at = steps_seen[-1]
    assert trainer.paused and not outcome
    for name, value in executor.parameters.items():
        np.testing.assert_array_equal(value, frozen[name])  # nothing moves while paused
    reached.clear()
    goal[0] = paused_at + 3
    trainer.resume()
    assert reached.wait(30)  # it trains on after resuming
    trainer.cancel()
    worker.join(30)
    assert not worker.is_alive()
    result = outcome["result"]
    assert result.stopped == "cancelled"
    assert paused_at + 3 <= result.steps < 50 * trainer.steps_per_epoch()
    assert all(np.isfinite(v).all() for v in executor.parameters.values())


def test_cancel_wakes_a_paused_trainer():
    project, dataset, executor = setup("many_to_one", epochs=50)
    trainer = Trainer(executor, dataset, project.training)
    trainer.pause()
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.update(result=trainer.train()))
    worker.start()
    assert trainer.waiting.wait(30)
    trainer.cancel()
    worker.join(30)
    assert outcome["result"].stopped == "cancelled" and outcome["result"].steps == 0


def test_a_nan_stops_training_and_puts_the_last_good_weights_back():
    project, dataset, executor = setup(
        "forecast", optimizer="sgd", learning_rate=1e4, clip_norm=0.0, epochs=50
    )
    before_each_step = []

    class Watching(Trainer):
        def _step(self, batch):
            before_each_step.append(executor.store.flat.copy())
            return super()._step(batch)

    result = Watching(executor, dataset, project.training).train()
    assert result.stopped == "not finite" and result.epochs == 1  # before any validation
    assert "the last good weights are back" in result.message
    assert "learning rate" in result.message
    np.testing.assert_array_equal(executor.store.flat, before_each_step[-1])


def test_after_a_nan_the_best_validated_weights_are_kept():
    project, dataset, executor = setup(
        "forecast", optimizer="sgd", learning_rate=10.0, clip_norm=0.0, epochs=50
    )
    checkpoints = []

    def callback(report):
        if report.kind == "epoch":
            checkpoints.append((report.val_loss, executor.store.flat.copy()))

    result = Trainer(executor, dataset, project.training, callback).train()
    assert result.stopped == "not finite" and checkpoints
    assert "best validation loss so far" in result.message
    best = min(checkpoints, key=lambda c: c[0])[1]
    np.testing.assert_array_equal(executor.store.flat, best)


def test_learning_rate_schedules():
    settings = TrainingSettings(learning_rate=0.1)
    assert learning_rate(settings, 90, 100) == 0.1
    settings.schedule = "step"
    assert [learning_rate(settings, s, 90) for s in (0, 31, 61)] == [0.1, 0.05, 0.025]
    settings.schedule = "cosine"
    assert learning_rate(settings, 0, 100) == pytest.approx(0.1)
    assert learning_rate(settings, 50, 100) == pytest.approx(0.05)
    assert learning_rate(settings, 100, 100) == pytest.approx(0.0, abs=1e-12)


def test_early_stopping_stops_when_validation_stops_improving():
    # the forecast stalls after a few epochs of four batches (0.05 s; the language model
    # it replaced took 2 s to stall)
    project, dataset, executor = setup("forecast", epochs=200, patience=2)
    val_losses = []

    def callback(report):
        if report.kind == "epoch":
            val_losses.append(report.val_loss)

    result = Trainer(executor, dataset, project.training, callback).train()
    assert result.stopped == "early stopping"
    assert result.epochs == len(val_losses) < 200
    best = int(np.argmin(val_losses))
    assert best == len(val_losses) - 3 > 0  # it improved, then stalled for two epochs


def test_truncated_bptt_trains_a_language_model_and_is_refused_where_it_cannot_apply():
    project, dataset, executor = setup("stacked_lstm", epochs=2, truncated_bptt=8)
    result = Trainer(executor, dataset, project.training, max_steps=30).train()
    assert math.isfinite(result.loss) and result.steps == 30
    project, dataset, executor = setup("many_to_one", truncated_bptt=4)
    with pytest.raises(DataError, match="truncated backpropagation"):
        Trainer(executor, dataset, project.training)


def test_reports_carry_what_the_gui_draws():
    project, dataset, executor = setup("many_to_many_equal", epochs=1)
    reports = []
    Trainer(
        executor, dataset, project.training, reports.append, report_every=0.0, max_steps=10
    ).train()
    step = next(r for r in reports if r.kind == "step")
    assert step.grad_norm > 0 and step.examples_per_second > 0
    assert len(step.state_grad_norms["tagger"]["forward"]) >= 4  # one per time step
    assert reports[-1].kind == "final" and reports[-2].kind == "epoch"
    assert reports[-2].val_metric is not None and reports[-2].metric == "token_accuracy"


def test_a_step_does_not_hold_the_step_before_it():
    """The trainer kept the previous step's whole run (every value and cache of the pass)
    through the next step, which doubled the peak memory: three steps must peak as one."""
    project, dataset, _executor = setup("stacked_lstm", batch_size=64)
    dataset.train = Split(dataset.train.examples[: 3 * 64])

    def peak(steps: int) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            executor = Executor(project.graph, seed=0)
            Trainer(executor, dataset, project.training, max_steps=steps).train()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    one, three = peak(1), peak(3)
    assert three < 1.1 * one, (one, three)
