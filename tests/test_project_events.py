"""A project changes through methods that check the value and announce the change: one event
per real change, none for a value set again, and a refused value changes nothing."""

from __future__ import annotations

import math

import pytest

from rnn_builder.errors import InvalidSettingError
from rnn_builder.files.project import DatasetReference, Project, TrainingSettings
from rnn_builder.files.serialization import dumps, loads
from rnn_builder.files.templates import new_project

SETTINGS_EVENTS = ("training_changed", "dataset_changed", "title_changed", "description_changed")
NOTE_EVENTS = ("note_added", "note_removed", "note_changed", "note_moved")


def _recorder(project: Project, events: tuple[str, ...] = SETTINGS_EVENTS) -> list[tuple]:
    """Every announcement of the project's ``events``, as (the event's name, its arguments)."""
    seen: list[tuple] = []
    for event in (getattr(project, name) for name in events):
        event.subscribe(lambda *args, name=event.name: seen.append((name, *args)))
    return seen


def test_a_training_setting_announces_its_change_once():
    project = Project()
    seen = _recorder(project)
    assert project.set_training("epochs", 7) is True
    assert project.training.epochs == 7
    assert seen == [("training_changed", "epochs", 20, 7)]
    assert project.set_training("epochs", 7) is False  # the same value: no event
    assert project.set_training("optimizer", "sgd") is True
    assert seen[-1] == ("training_changed", "optimizer", "adam", "sgd")
    assert len(seen) == 2


def test_a_whole_number_for_a_float_setting_is_kept_as_a_float():
    project = Project()
    seen = _recorder(project)
    assert project.set_training("clip_norm", 1) is False  # 1 == 1.0: nothing changes
    assert seen == []
    assert project.set_training("clip_norm", 2) is True
    assert project.training.clip_norm == 2.0 and type(project.training.clip_norm) is float


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("epochs", 0, "epochs must be between 1 and"),
        ("epochs", 2.5, "epochs must be a whole number"),
        ("batch_size", True, "batch_size must be a whole number"),
        ("learning_rate", 0.0, "learning_rate must be above 0"),
        ("learning_rate", math.nan, "learning_rate must be a finite number"),
        ("learning_rate", "fast", "learning_rate must be a number"),
        ("optimizer", "adamw", "optimizer must be one of sgd, momentum"),
        ("optimizer", 3, "optimizer must be text"),
        ("seed", -1, "seed must be between 0 and"),
        ("momentum", 0.9, "there is no training setting 'momentum'"),
    ],
)
def test_a_value_a_setting_cannot_take_is_refused_and_changes_nothing(name, value, words):
    project = Project()
    seen = _recorder(project)
    before = TrainingSettings(**project.training.to_json())
    with pytest.raises(InvalidSettingError, match=words):
        project.set_training(name, value)
    assert project.training == before
    assert seen == []


def test_choosing_other_data_announces_copies_and_keeps_its_own():
    project = Project()
    seen = _recorder(project)
    reference = DatasetReference("builtin", "adding", {"steps": 10})
    assert project.set_dataset(reference) is True
    reference.options["steps"] = 99  # the caller's object is not the project's
    assert project.dataset == DatasetReference("builtin", "adding", {"steps": 10})
    assert seen == [("dataset_changed", None, DatasetReference("builtin", "adding", {"steps": 10}))]
    assert project.set_dataset(DatasetReference("builtin", "adding", {"steps": 10})) is False
    assert project.set_dataset(None) is True
    assert project.dataset is None
    assert len(seen) == 2


@pytest.mark.parametrize(
    ("reference", "words"),
    [
        (DatasetReference("sql", "x"), "the data kind must be one of builtin, csv, text"),
        (DatasetReference("csv", 3), "the data's name must be text"),
        (DatasetReference("csv", "a\udc80.csv"), "saved as UTF-8"),
        (DatasetReference("csv", "x" * 5000), "at most 4096 characters"),
        (DatasetReference("csv", "a.csv", {"f": object()}), "the data options must be"),
        ("a.csv", "expected a data set reference"),
    ],
)
def test_a_data_source_that_cannot_be_is_refused(reference, words):
    project = new_project("adding_problem")
    before = project.dataset.copy()
    seen = _recorder(project)
    with pytest.raises(InvalidSettingError, match=words):
        project.set_dataset(reference)
    assert project.dataset == before
    assert seen == []


def test_what_the_data_worked_out_is_kept_without_its_path():
    project = Project(dataset=DatasetReference("text", "a.txt", {"window": 20}))
    seen = _recorder(project)
    assert project.keep_dataset_options({"alphabet": "ab", "path": "/tmp/a.txt"}) is True
    assert project.dataset.options == {"window": 20, "alphabet": "ab"}
    assert seen[0][0] == "dataset_changed" and seen[0][2].options["alphabet"] == "ab"
    assert project.keep_dataset_options({"alphabet": "ab"}) is False
    assert len(seen) == 1
    assert Project().keep_dataset_options({"alphabet": "ab"}) is False  # no data chosen


def test_title_and_description_announce_their_changes():
    project = Project()
    seen = _recorder(project)
    assert project.set_title("Adder") is True
    assert project.set_title("Adder") is False
    assert project.set_description("adds") is True
    assert seen == [("title_changed", "Untitled", "Adder"), ("description_changed", "", "adds")]
    with pytest.raises(InvalidSettingError, match="the title must be text"):
        project.set_title(None)
    assert project.title == "Adder"


@pytest.mark.parametrize(
    "name, text, words",
    [
        ("title", "", "cannot be empty"),
        ("title", "   ", "cannot be empty"),
        ("description", "x" * 10_001, "at most 10,000"),
        ("title", "caf\udce9", "UTF-8"),
        ("description", 3, "must be text"),
    ],
)
def test_text_a_project_file_could_not_hold_is_refused(name, text, words):
    """What set_title and set_description take, a saved project reads back."""
    project = Project()
    seen = _recorder(project)
    setter = getattr(project, f"set_{name}")
    with pytest.raises(InvalidSettingError, match=words):
        setter(text)
    assert seen == [] and project.title == "Untitled" and project.description == ""
    setter("y" * 10_000)  # the longest a file holds, which it reads back
    assert getattr(loads(dumps(project)), name) == "y" * 10_000


def test_copies_and_loaded_projects_have_their_own_events():
    project = new_project("adding_problem")
    seen = _recorder(project)
    copy = project.copy()
    again = loads(dumps(project))
    assert dumps(copy) == dumps(again) == dumps(project)
    copy.set_training("epochs", 3)
    again.set_dataset(None)
    assert seen == []
    assert len(copy.training_changed) == 0


def test_notes_announce_each_change_once_and_refuse_what_they_cannot_hold():
    from rnn_builder.files.project import MAX_NOTE_TEXT, Note

    project = Project()
    seen = _recorder(project, NOTE_EVENTS)
    project.add_note(Note(project.new_note_id(), "first", (0, 0)))
    assert project.set_note_text("note_1", "first") is False  # the same text: no event
    assert project.set_note_text("note_1", "First!") is True
    assert project.move_note("note_1", (20, 40)) is True
    assert project.note("note_1").position == (20.0, 40.0)
    with pytest.raises(InvalidSettingError, match="at most"):
        project.set_note_text("note_1", "x" * (MAX_NOTE_TEXT + 1))
    with pytest.raises(InvalidSettingError, match="already"):
        project.add_note(Note("note_1", "again"))
    assert project.remove_note("note_1")[0] == 0 and project.notes == []
    assert [name for name, *_ in seen] == [
        "note_added",
        "note_changed",
        "note_moved",
        "note_removed",
    ]


def test_a_note_is_about_the_node_whose_card_middle_is_nearest_its_own():
    """One measure for Arrange (which moves a note with its node) and the unrolled view (which
    draws it beside its node's row): the note's middle (its first line's) to each card's
    middle. Arrange measured corner to corner and picked the node left of a note that reaches
    over the card to its right."""
    from rnn_builder.files.project import NOTE_MIDDLE, Note
    from rnn_builder.graph.card import card_size
    from rnn_builder.graph.model import Graph

    graph = Graph()
    assert Note("note_1", "", (0.0, 0.0)).nearest_node(graph) is None
    graph.add_node("dense", node_id="left", position=(0.0, 0.0))
    graph.add_node("dense", node_id="right", position=(400.0, 0.0))
    note = Note("note_1", "about the right one", (190.0, 0.0))  # its corner nearer 'left'
    middles = [
        card_size(graph.node_type(n))[0] / 2 + graph.node(n).position[0] for n in graph.nodes
    ]
    assert middles == [88.0, 488.0] and 190.0 + NOTE_MIDDLE[0] == 300.0  # nearer 'right'
    assert note.nearest_node(graph) == "right"
    assert note.nearest_node(graph, among=["left"]) == "left"
