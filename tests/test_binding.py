"""Binding data to a graph (training.binding): a graph built from scratch trains on any task that
fits its shape, every mismatch is a problem on the node it concerns, and fitting mends what a
parameter can."""

from __future__ import annotations

import pytest

from rnn_builder.engine.executor import Executor
from rnn_builder.errors import DataError
from rnn_builder.files.project import DatasetReference, Project
from rnn_builder.files.templates import new_project
from rnn_builder.graph.model import Graph
from rnn_builder.graph.validation import validate
from rnn_builder.training.binding import DATA_CODES, apply_changes, bind, fit_changes
from rnn_builder.training.data import DataSpec, InputSpec, TargetSpec
from rnn_builder.training.tasks import check_data, fit_data, load_dataset, with_binding
from rnn_builder.training.trainer import Trainer


def _from_scratch() -> Graph:
    """Vector input → Repeat → LSTM → Dense → Output, with the ids the palette gives."""
    graph = Graph()
    for type_name in ("vector_input", "repeat", "lstm", "dense", "output"):
        graph.add_node(type_name)
    graph.connect("vector_input_1", "y", "repeat_1", "x")
    graph.connect("repeat_1", "y", "lstm_1", "x")
    graph.connect("lstm_1", "y", "dense_1", "x")
    graph.connect("dense_1", "y", "output_1", "x")
    return graph


def test_a_graph_built_from_scratch_binds_fits_and_trains_on_a_built_in_task():
    project = Project(graph=_from_scratch(), dataset=DatasetReference("builtin", "arpeggio"))
    check = check_data(project)
    assert check.binding.inputs == {"chord": "vector_input_1"}
    assert check.binding.targets == {"notes": "output_1"}
    codes = {p.code: p for p in check.problems}
    assert set(codes) == {"data_width", "data_classes"}  # 15 features, 24 notes
    assert codes["data_width"].node == "vector_input_1" and codes["data_width"].fix == "fit"
    changes = fit_changes(check.spec, project.graph, validate(project.graph), check.binding)
    assert {(c.node, c.name, c.value) for c in changes} == {
        ("vector_input_1", "features", 15),
        ("dense_1", "units", 24),
        ("repeat_1", "steps", 4),  # an arpeggio is four notes
    }
    apply_changes(project.graph, changes)
    assert check_data(project).problems == []
    project.training.epochs = 2
    dataset = load_dataset(project)
    assert set(dataset.train.examples[0]) >= {"vector_input_1", "target"}
    result = Trainer(Executor(project.graph, seed=0), dataset, project.training).train()
    assert result.steps > 0 and result.val_metric is not None


def test_an_explicit_binding_wins_and_a_node_it_names_that_is_gone_is_a_problem():
    project = new_project("many_to_one")
    project.graph.add_node("sequence_input", node_id="other", params={"vocabulary": 40})
    project.dataset.binding = {"words": "other"}
    check = check_data(project)
    assert check.binding.inputs == {"words": "other"}
    unfed = [p for p in check.problems if p.code == "data_unfed_input"]
    assert [p.node for p in unfed] == ["words"]  # the input no field feeds now
    project.dataset.binding = {"words": "gone"}
    problem = next(p for p in check_data(project).problems if p.code == "data_unknown_node")
    assert "'words' is bound to 'gone'" in problem.message


def test_one_fit_binds_afresh_a_field_whose_node_was_replaced():
    """The data was bound to the template's input; the input is deleted and a new one wired in
    its place: one fit binds the field to the new input and fits its width (it said "the graph
    fits the data already" and needed a second fit)."""
    project = new_project("one_to_many")
    project.set_dataset(with_binding(project, project.dataset))
    assert project.dataset.binding == {"chord": "chord", "notes": "notes"}
    graph = project.graph
    graph.remove_node("chord")
    graph.add_node("vector_input", node_id="chord_2", params={"features": 3})
    graph.connect("chord_2", "y", "over_time", "x")
    gone = next(p for p in check_data(project).problems if p.code == "data_unknown_node")
    assert gone.fix == "fit"
    fitted, changes = fit_data(project)
    assert fitted.binding == {"chord": "chord_2", "notes": "notes"}
    assert [(c.node, c.name, c.value) for c in changes] == [("chord_2", "features", 15)]
    apply_changes(graph, changes)
    project.set_dataset(fitted)
    assert check_data(project).problems == []


def test_fitting_without_data_or_with_a_broken_graph_is_refused_in_words():
    project = new_project("many_to_one")
    project.set_dataset(None)
    with pytest.raises(DataError, match="no data chosen"):
        fit_data(project)
    project = new_project("many_to_one")
    project.graph.disconnect(project.graph.edges[0])
    with pytest.raises(DataError, match="problems of its own"):
        fit_data(project)


SEQ_TOKENS = InputSpec("seq", 40, tokens=True)


@pytest.mark.parametrize(
    ("code", "template", "spec", "change"),
    [
        ("data_unfed_input", "many_to_one", DataSpec({}, {}), None),
        ("data_no_target", "many_to_one", DataSpec({"words": SEQ_TOKENS}, {}), None),
        (
            "data_unbound_field",
            "many_to_one",
            DataSpec(
                {"words": SEQ_TOKENS, "extra": SEQ_TOKENS},
                {"sentiment": TargetSpec("cross_entropy", 2, False)},
            ),
            None,
        ),
        (
            "data_kind",
            "one_to_one",
            DataSpec({"point": SEQ_TOKENS}, {"spiral": TargetSpec("cross_entropy", 2, False)}),
            None,
        ),
        (
            "data_tokens",
            "adding_problem",
            DataSpec({"values": SEQ_TOKENS}, {"sum": TargetSpec("mse", 1, False)}),
            None,
        ),
        (
            "data_width",
            "many_to_one",
            DataSpec(
                {"words": InputSpec("seq", 50, tokens=True)},
                {"sentiment": TargetSpec("cross_entropy", 2, False)},
            ),
            None,
        ),
        (
            "data_loss",
            "many_to_one",
            DataSpec({"words": SEQ_TOKENS}, {"sentiment": TargetSpec("mse", 2, False)}),
            None,
        ),
        (
            "data_per_step",
            "many_to_one",
            DataSpec({"words": SEQ_TOKENS}, {"sentiment": TargetSpec("cross_entropy", 2, True)}),
            None,
        ),
        (
            "data_classes",
            "many_to_one",
            DataSpec({"words": SEQ_TOKENS}, {"sentiment": TargetSpec("cross_entropy", 5, False)}),
            None,
        ),
    ],
)
def test_every_data_code_is_reported_on_the_node_it_concerns(code, template, spec, change):
    graph = new_project(template).graph
    check = bind(spec, graph, validate(graph))
    found = [p for p in check.problems if p.code == code]
    assert found, [p.code for p in check.problems]
    assert "\n" not in found[0].message


def test_every_data_code_is_provoked_somewhere():
    provoked = {
        "data_unfed_input",
        "data_no_target",
        "data_unbound_field",
        "data_kind",
        "data_tokens",
        "data_width",
        "data_loss",
        "data_per_step",
        "data_classes",
        "data_not_read",  # test_a_file_not_read_yet_is_a_warning
        "data_unknown_node",  # test_an_explicit_binding_wins_...
        "data_reads_ahead",  # tests/test_explain.py
        "data_steps",  # test_a_task_setting_changes_the_data_and_fit_follows
    }
    assert provoked == set(DATA_CODES)


def test_a_file_not_read_yet_is_a_warning_and_a_damaged_option_a_problem(tmp_path):
    project = new_project("many_to_one")
    project.dataset = DatasetReference("labelled", str(tmp_path / "r.csv"))
    (problem,) = check_data(project).problems
    assert problem.code == "data_not_read" and problem.severity == "warning"
    for damaged in ({"vocabulary": "abc"}, {"vocabulary": ["a", "b"]}, {"classes": ["x", "x"]}):
        project.dataset = DatasetReference("labelled", "r.csv", {"vocabulary": ["<unk>"]} | damaged)
        (problem,) = check_data(project).problems
        assert problem.code == "data_not_read" and "read the file afresh" in problem.message


def test_fitting_never_takes_an_embedding_out_and_says_what_would():
    graph = new_project("many_to_one").graph
    spec = DataSpec(
        {"words": InputSpec("seq", 1)}, {"sentiment": TargetSpec("cross_entropy", 4, False)}
    )
    report = validate(graph)
    check = bind(spec, graph, report)
    problem = next(p for p in check.problems if p.code == "data_tokens")
    assert problem.fix is None and "take Embedding 'embed' out" in problem.message
    changes = fit_changes(spec, graph, report, check.binding)
    apply_changes(graph, changes)
    assert validate(graph).ok  # whatever fitting did, it broke nothing


def test_every_template_fits_its_own_task_with_nothing_to_fit():
    from rnn_builder.files.templates import template_names

    for name in template_names():
        project = new_project(name)
        check = check_data(project)
        assert check.problems == [], (name, check.problems)
        changes = fit_changes(check.spec, project.graph, validate(project.graph), check.binding)
        assert changes == [], (name, changes)


def test_a_task_setting_changes_the_data_and_fit_follows(tmp_path, capsys):
    """Issue 24: a teacher sets the adding problem's length with edit --data-option; the
    Sequence input's steps must then mean what the data does (info said 100 while training ran
    50): a warning on the input until fit makes it so."""
    from rnn_builder.cli.main import main
    from rnn_builder.files.serialization import load

    path = tmp_path / "adding.json"
    main(["new", "adding_problem", "-o", str(path)])
    assert main(["edit", str(path), "--data-option", "steps=100"]) == 0
    out = capsys.readouterr().out
    assert "warning (values)" in out and "100 steps long" in out and "[data_steps]" in out
    project = load(path)
    assert project.dataset.options == {"steps": 100}
    assert len(load_dataset(project).train.examples[0]["values"]) == 100
    assert main(["edit", str(path), "--fit"]) == 0
    assert "fit: values.steps = 100" in capsys.readouterr().out
    assert load(path).graph.node("values").params["steps"] == 100
    assert check_data(load(path)).problems == []
