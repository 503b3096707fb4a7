"""The reversal task and the two attention templates: the data, its binding to the graph (and
the fit of a decoder's steps and start token), typed input and its words back, the explanation,
a few training steps, stepping equal to the whole pass on real examples, and the memory
estimate against a traced training step."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.stepping import Stepper
from rnn_builder.errors import DataError
from rnn_builder.files.templates import new_project
from rnn_builder.graph import footprint
from rnn_builder.graph.explain import LIMITS, explain_graph
from rnn_builder.graph.validation import validate
from rnn_builder.training.binding import apply_changes, bind, fit_changes
from rnn_builder.training.data import make_batch
from rnn_builder.training.predict import predict, read_input
from rnn_builder.training.tasks import TASKS, check_data, load_dataset
from rnn_builder.training.tasks.reversal import END, START
from rnn_builder.training.trainer import Trainer
from rnn_builder.training.workload import workload_of

from .test_footprint import FACTOR, traced_peak

TEMPLATES = ("translation_attention", "translation_bahdanau")


def test_the_task_reverses_five_to_forty_letters_and_marks_the_end():
    dataset = TASKS["reversal"].generate(0, {"train": 300, "validation": 50})
    lengths = [len(e["letters"]) for e in dataset.train.examples]
    assert min(lengths) >= 5 and max(lengths) <= 40 and len(set(lengths)) > 20
    for example in dataset.train.examples[:20]:
        letters, reversed_ = example["letters"], example["reversed"]
        assert list(reversed_[:-1]) == list(letters[::-1]) and reversed_[-1] == END
    spec = TASKS["reversal"].spec({})
    assert spec.targets["reversed"].steps == 41 and spec.targets["reversed"].start == START
    assert TASKS["reversal"].longest({"longest": 12}) == {"letters": 12, "reversed": 13}
    with pytest.raises(DataError, match="'shortest' is 9, more than the longest, 3"):
        TASKS["reversal"].generate(0, {"shortest": 9, "longest": 3})
    with pytest.raises(DataError, match="at most 5 million"):
        TASKS["reversal"].generate(0, {"train": 1_000_000})


@pytest.mark.parametrize("name", TEMPLATES)
def test_each_template_binds_to_the_task_and_says_its_bottleneck_is_gone(name):
    project = new_project(name)
    check = check_data(project)
    assert check.problems == [] and check.binding.as_dict() == {
        "letters": "letters",
        "reversed": "reversed",
    }
    titles = [title for title, _ in explain_graph(project.graph)]
    assert LIMITS["bottleneck_removed"][0] in titles and LIMITS["bottleneck"][0] not in titles


def test_fitting_sets_the_decoders_steps_and_start_token_to_the_data():
    project = new_project("translation_attention")
    graph = project.graph
    graph.set_param("previous", "steps", 7)
    graph.set_param("previous", "start_token", 3)
    spec = TASKS["reversal"].spec({"longest": 20})
    report = validate(graph)
    check = bind(spec, graph, report)
    changes = {(c.node, c.name): c.value for c in fit_changes(spec, graph, report, check.binding)}
    assert changes == {("previous", "steps"): 21, ("previous", "start_token"): START}
    apply_changes(graph, fit_changes(spec, graph, report, check.binding))
    assert fit_changes(spec, graph, validate(graph), check.binding) == []


@pytest.mark.parametrize("name", TEMPLATES)
def test_typed_letters_are_read_and_the_prediction_is_letters(name):
    project = new_project(name)
    executor = Executor(project.graph, seed=0)
    typed = read_input(project, "Atten tion")
    assert list(typed.example["letters"]) == [0, 19, 19, 4, 13, 19, 8, 14, 13]
    said = predict(executor, typed)
    assert said == "(nothing)" or set(said) <= set("abcdefghijklmnopqrstuvwxyz")
    with pytest.raises(DataError, match="a to z only"):
        read_input(project, "abc1")


@pytest.mark.parametrize("name", TEMPLATES)
def test_a_few_steps_lower_the_loss(name):
    project = new_project(name)
    project.dataset.options.update(train=400, validation=20)
    executor = Executor(project.graph, seed=0)
    losses = []
    Trainer(
        executor,
        load_dataset(project),
        project.training,
        lambda report: losses.extend(report.losses) if report.kind == "step" else None,
        report_every=0.0,
        max_steps=40,
    ).train()
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.1  # from log(28) = 3.33


@pytest.mark.parametrize("name", TEMPLATES)
def test_stepping_the_template_gives_the_whole_pass_and_its_alignment(name):
    project = new_project(name)
    project.dataset.options.update(train=20, validation=4)
    executor = Executor(project.graph, seed=1)
    examples = load_dataset(project).validation.examples[:3]
    batch = make_batch(examples, executor.report, executor.graph)
    whole = executor.forward(batch, train=False)
    stepper = Stepper(executor, batch)
    stepper.run_to_end()
    np.testing.assert_allclose(stepper.alignments["attend"], whole.alignments["attend"], atol=1e-6)
    np.testing.assert_allclose(
        stepper.value("reversed", "prediction"), whole.predictions["reversed"], atol=1e-6
    )
    lengths = [len(e["letters"]) for e in examples]
    for b, length in enumerate(lengths):  # each example's padding weighs nothing
        assert (whole.alignments["attend"][:, b, length:] == 0).all()


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_memory_estimate_holds_for_a_traced_training_step(name):
    project = new_project(name)
    project.dataset.options.update(train=64, validation=8)
    project.training.batch_size = 32
    dataset = load_dataset(project)
    workload = workload_of(project)
    report = validate(project.graph)
    estimate = footprint.estimate_workload(project.graph, workload, report)

    def train() -> None:
        executor = Executor(project.graph, seed=0, report=report)
        Trainer(executor, dataset, project.training, None, report_every=1e9, max_steps=2).train()

    actual = traced_peak(train)
    assert 1 / FACTOR < estimate.total / actual < FACTOR, (estimate.total, actual)
