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


def test_a_truncated_step_reports_its_batchs_loss_not_a_mean_of_chunk_means():
    """Issue 20: one loss, the mean over every real token. With the weights held still (a
    learning rate of 1e-30 moves none by more than that), chunks of 4 steps that carry their
    states compute what the whole batch does, so the step's loss is the whole batch's; the
    tagger's sentences (4 to 6 words) leave the second chunk mostly padding, which an average
    of the chunks' means overweighted."""
    project, dataset, executor = setup("many_to_many_equal", truncated_bptt=4, learning_rate=1e-30)
    rng = np.random.default_rng(project.training.seed)  # the trainer's order of batches
    first = next(
        dataset.train.batches(project.training.batch_size, rng, executor.report, executor.graph)
    )
    whole = executor.forward(first, train=True).loss
    result = Trainer(executor, dataset, project.training, report_every=0.0, max_steps=1).train()
    assert result.steps == 1
    assert result.loss == pytest.approx(whole, rel=1e-6)


def test_evaluation_takes_each_outputs_mean_over_the_split_and_sums_them():
    """Issue 20, several outputs: each Output's mean over all its real targets in the split,
    summed over the Outputs (as a batch's loss sums them), whatever the batch size."""
    from rnn_builder.graph.model import Graph
    from rnn_builder.training.data import Dataset, DataSpec, InputSpec, Split, TargetSpec
    from rnn_builder.training.trainer import evaluate

    from .helpers import wire

    graph = Graph()
    graph.add_node("sequence_input", node_id="x", params={"features": 2})
    graph.add_node("gru", node_id="cell", params={"hidden_size": 5})
    graph.add_node("dense", node_id="tag_scores", params={"units": 3})
    graph.add_node("dense", node_id="value", params={"units": 2})
    graph.add_node("output", node_id="tags", params={"target": "tags"})
    graph.add_node("output", node_id="total", params={"target": "total", "loss": "mse"})
    wire(graph, "x.y", "cell.x", "cell.y", "tag_scores.x", "tag_scores.y", "tags.x")
    wire(graph, "cell.h_n", "value.x", "value.y", "total.x")
    rng = np.random.default_rng(3)
    examples = []
    for length in rng.integers(1, 9, size=23):
        tags = rng.integers(-1, 3, size=length)  # -1: a token that does not count
        examples.append(
            {"x": rng.normal(size=(length, 2)), "tags": tags, "total": rng.normal(size=2)}
        )
    spec = DataSpec(
        {"x": InputSpec("seq", 2)},
        {"tags": TargetSpec("cross_entropy", 3, True), "total": TargetSpec("mse", 2, False)},
    )
    dataset = Dataset("two outputs", spec, Split([]), Split(examples), "token_accuracy", "tags")
    executor = Executor(graph, seed=2)

    token_losses, squared_errors = [], []
    for example in examples:  # one at a time: no padding, nothing to weigh
        batch = next(Split([example]).batches(1, None, executor.report, graph))
        run = executor.forward(batch, train=False)
        probabilities = run.predictions["tags"][:, 0].astype(np.float64)
        real = example["tags"] >= 0
        token_losses += list(-np.log(probabilities[real, example["tags"][real]]))
        squared_errors += list((run.predictions["total"][0] - example["total"]) ** 2)
    expected = float(np.mean(token_losses) + np.mean(squared_errors))

    for size in (1, 4, 23):
        assert evaluate(executor, dataset, None, size).loss == pytest.approx(expected, rel=1e-6)


def first_step_loss(project, dataset) -> float:
    """The loss of the first training step (its weights as initialised by the seed)."""
    executor = Executor(project.graph, seed=project.training.seed)
    reports = []
    Trainer(executor, dataset, project.training, reports.append, 0.0, max_steps=1).train()
    return next(r for r in reports if r.kind == "step").loss


def chord_to_arpeggio(truncated_bptt: int, wired_h_0: bool = False):
    """The one-to-many template (its time axis starts at a Repeat of 4 steps), trained by
    plain SGD with a learning rate too small to change a float32 weight: so the mean of the
    chunks' losses of a truncated step is the loss of the whole sequence exactly when each
    chunk starts from the state the one before it ended in."""
    project = new_project("one_to_many")
    if wired_h_0:  # the chord also sets the GRU's first state
        graph = project.graph
        graph.add_node("dense", node_id="start", params={"units": 32, "activation": "tanh"})
        graph.connect("chord", "y", "start", "x")
        graph.connect("start", "y", "composer", "h_0")
    settings = project.training
    settings.optimizer, settings.learning_rate, settings.truncated_bptt = (
        "sgd",
        1e-30,
        truncated_bptt,
    )
    return project, load_dataset(project)


@pytest.mark.parametrize("wired_h_0", [False, True])
def test_truncated_bptt_on_a_repeated_axis_runs_chunks_of_the_repeat_steps(wired_h_0):
    project, dataset = chord_to_arpeggio(0, wired_h_0)
    whole = first_step_loss(project, dataset)
    for length in (1, 2, 4, 5):  # equal chunks (a step's loss is their mean); 4, 5: whole
        project, dataset = chord_to_arpeggio(length, wired_h_0)
        assert first_step_loss(project, dataset) == pytest.approx(whole, rel=1e-6), length
    project, dataset = chord_to_arpeggio(3, wired_h_0)  # chunks of 3 steps and 1
    assert math.isfinite(first_step_loss(project, dataset))
    project, dataset = chord_to_arpeggio(2, wired_h_0)
    project.training.learning_rate = 0.01
    executor = Executor(project.graph, seed=project.training.seed)
    result = Trainer(executor, dataset, project.training, max_steps=40).train()
    assert result.steps == 40 and result.loss < first_step_loss(project, dataset)


def test_truncated_bptt_is_refused_where_a_delay_would_restart_at_every_chunk():
    """A Delay's value is not carried from chunk to chunk as a cell's state is: a generating
    decoder (its axis starts at its own fed-back output) would see its start token again at
    every chunk."""
    project = new_project("one_to_many")
    graph = project.graph
    graph.remove_node("over_time")
    graph.add_node(
        "delay",
        node_id="previous_note",
        params={"initial": "start_token", "start_token": 0, "steps": 4},
    )
    graph.add_node("dense", node_id="start", params={"units": 32, "activation": "tanh"})
    graph.connect("chord", "y", "start", "x")
    graph.connect("start", "y", "composer", "h_0")
    graph.connect("note_scores", "y", "previous_note", "x")
    graph.connect("previous_note", "y", "composer", "x")
    project.training.truncated_bptt = 2
    executor = Executor(project.graph, seed=1)
    assert [axis.kind for axis in executor.report.axes.values()] == ["generator"]
    with pytest.raises(DataError) as refused:
        Trainer(executor, load_dataset(project), project.training)
    assert str(refused.value) == (
        "truncated backpropagation through time cannot carry the value of the Delay "
        "'previous_note' from one chunk to the next; set truncated BPTT to 0 for this graph"
    )


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
