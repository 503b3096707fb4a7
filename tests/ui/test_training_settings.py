"""Training settings and the data source are undoable edits of the project, made in the
training panel with the keyboard and the mouse: Ctrl+Z and Ctrl+Shift+Z / Ctrl+Y take them
back and forth, the widgets show what the project holds, the title's modified marker follows,
and a saved setting is there when the project opens again."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox

from rnn_builder.errors import InvalidSettingError
from rnn_builder.files.project import DatasetReference, TrainingSettings
from rnn_builder.files.templates import new_project
from rnn_builder.training.tasks import TASKS

from .conftest import type_into

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = CTRL | Qt.KeyboardModifier.ShiftModifier


def _active(window, qtbot):
    with qtbot.waitActive(window):
        window.activateWindow()
    return window.live.panel


def _marked(window) -> bool:
    return window.isWindowModified() and "[*]" in window.windowTitle()


def test_a_typed_setting_is_undone_and_redone_with_the_keys(window, qtbot):
    panel = _active(window, qtbot)
    project = window.document.project
    spin = panel.editors["learning_rate"]
    assert project.training.learning_rate == 0.01 and not _marked(window)
    type_into(spin, "0.25")
    assert project.training.learning_rate == 0.25
    assert _marked(window)
    assert window.undo_action.text() == "&Undo Set learning rate"
    # the focus is still in the spin box: the keys still undo the project's edit
    assert spin.hasFocus()
    QTest.keyClick(spin, Qt.Key.Key_Z, CTRL)
    assert project.training.learning_rate == 0.01
    assert spin.value() == 0.01
    assert not _marked(window)
    QTest.keyClick(spin, Qt.Key.Key_Z, CTRL_SHIFT)
    assert project.training.learning_rate == 0.25 and spin.value() == 0.25
    assert _marked(window)
    QTest.keyClick(spin, Qt.Key.Key_Z, CTRL)
    QTest.keyClick(spin, Qt.Key.Key_Y, CTRL)
    assert project.training.learning_rate == 0.25 and spin.value() == 0.25


def test_stepping_a_number_is_one_undo_step_and_stepping_back_is_none(window, qtbot):
    panel = _active(window, qtbot)
    stack = window.document.undo_stack
    spin = panel.editors["epochs"]
    training = window.document.project.training
    start = training.epochs
    spin.setFocus()
    for _ in range(3):
        QTest.keyClick(spin, Qt.Key.Key_Up)
    assert training.epochs == start + 3
    assert stack.count() == 1
    QTest.keyClick(spin, Qt.Key.Key_Z, CTRL)
    assert training.epochs == start and spin.value() == start
    QTest.keyClick(spin, Qt.Key.Key_Z, CTRL_SHIFT)
    assert spin.value() == start + 3
    QTest.keyClick(spin, Qt.Key.Key_Z, CTRL)
    # up and down again in a row: back where it began, no step at all, nothing unsaved
    QTest.keyClick(spin, Qt.Key.Key_Up)
    assert training.epochs == start + 1 and _marked(window)
    QTest.keyClick(spin, Qt.Key.Key_Down)
    assert training.epochs == start
    assert stack.count() == 0
    assert not _marked(window)


def test_two_settings_are_two_steps_and_choices_do_not_merge(window, qtbot):
    panel = _active(window, qtbot)
    project = window.document.project
    type_into(panel.editors["batch_size"], 8)
    optimizer: QComboBox = panel.editors["optimizer"]
    optimizer.setFocus()
    QTest.keyClick(optimizer, Qt.Key.Key_Up)  # adam is last: up chooses the one above
    first = project.training.optimizer
    QTest.keyClick(optimizer, Qt.Key.Key_Up)
    second = project.training.optimizer
    assert "adam" != first != second
    QTest.keyClick(optimizer, Qt.Key.Key_Z, CTRL)
    assert project.training.optimizer == first and optimizer.currentText() == first
    QTest.keyClick(optimizer, Qt.Key.Key_Z, CTRL)
    assert project.training.optimizer == "adam" and optimizer.currentText() == "adam"
    assert project.training.batch_size == 8
    QTest.keyClick(optimizer, Qt.Key.Key_Z, CTRL)
    assert project.training.batch_size == 32 and panel.editors["batch_size"].value() == 32


def test_choosing_the_data_is_undoable(window, qtbot):
    panel = _active(window, qtbot)
    project = window.document.project
    before = project.dataset.copy()
    index = next(
        i
        for i in range(panel.source.count())
        if panel.source.itemData(i) == ("builtin", "two_spirals")
    )
    panel.source.showPopup()
    view = panel.source.view()
    qtbot.waitUntil(view.isVisible)
    rect = view.visualRect(view.model().index(index, 0))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    # the binding found is kept with the choice, in the same undo step
    assert project.dataset == DatasetReference(
        "builtin", "two_spirals", {}, {"point": "words", "spiral": "sentiment"}
    )
    assert panel.source_note.text() == TASKS["two_spirals"].description
    assert window.undo_action.text() == "&Undo Train on Two spirals"
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Z, CTRL)
    assert project.dataset == before
    assert panel.source.currentData() == ("builtin", before.name)
    QTest.keyClick(window.view, Qt.Key.Key_Y, CTRL)
    assert panel.source.currentData() == ("builtin", "two_spirals")


def test_a_file_dialog_given_up_leaves_the_data_as_it_was(window, qtbot):
    panel = window.live.panel
    before = window.document.project.dataset.copy()
    window.choose_data_path = lambda kind: None
    index = next(i for i in range(panel.source.count()) if panel.source.itemData(i)[0] == "file")
    panel.source.setCurrentIndex(index)
    view = window.live.data_view
    assert view.isVisible() and view.path is None and view.state == "empty"
    assert window.document.project.dataset == before
    assert panel.source.currentData() == ("builtin", before.name)
    assert not window.document.undo_stack.canUndo()


def test_the_document_refuses_a_value_before_anything_is_pushed(window):
    document = window.document
    with pytest.raises(InvalidSettingError, match="epochs must be between 1 and"):
        document.set_training("epochs", 0)
    with pytest.raises(InvalidSettingError, match="the data kind must be one of"):
        document.set_dataset(DatasetReference("sql", "db"))
    assert document.undo_stack.count() == 0
    epochs = document.project.training.epochs
    assert document.set_training("epochs", epochs) is True  # the value it has: nothing to push
    assert document.undo_stack.count() == 0


def test_a_setting_is_saved_and_opens_again_and_another_project_shows_its_own(
    make_window, qtbot, tmp_path
):
    window = make_window()
    panel = _active(window, qtbot)
    type_into(panel.editors["seed"], 1234)
    path = tmp_path / "seeded.json"
    window.choose_save_path = lambda *args, **kwargs: str(path)
    window.save_as_action.trigger()
    assert path.exists() and not _marked(window)
    other = new_project("many_to_one")
    other.training.seed = 7
    window.document.replace(other, None)  # another project: the panel shows its settings
    assert panel.editors["seed"].value() == 7
    type_into(panel.editors["seed"], 8)
    assert other.training.seed == 8
    window.choose_open_path = lambda: str(path)
    window.open_action.trigger()
    assert window.document.project.training.seed == 1234
    assert panel.editors["seed"].value() == 1234
    assert not window.document.undo_stack.canUndo()
    type_into(panel.editors["seed"], 99)
    assert window.document.project.training.seed == 99
    assert other.training.seed == 8  # the panel no longer writes to the project that was open


def test_the_undo_keys_in_an_inspector_field_undo_the_parameter(window, qtbot):
    _active(window, qtbot)
    window.scene.select_nodes(["reader"])
    hidden = window.inspector.editors["hidden_size"]
    type_into(hidden, 48)
    assert window.document.graph.node("reader").params["hidden_size"] == 48
    hidden = window.inspector.editors["hidden_size"]  # the inspector may have made it again
    hidden.setFocus()
    QTest.keyClick(hidden, Qt.Key.Key_Z, CTRL)
    assert window.document.graph.node("reader").params["hidden_size"] == 32
    assert window.inspector.editors["hidden_size"].value() == 32


def test_every_training_setting_has_its_widget_in_the_panel(window):
    panel = window.live.panel
    assert set(panel.editors) == set(TrainingSettings.LIMITS)
    for name, editor in panel.editors.items():  # each shows what the project holds
        value = getattr(window.document.project.training, name)
        shown = editor.currentText() if isinstance(editor, QComboBox) else editor.value()
        assert shown == value, name


def test_the_window_title_follows_the_projects_title(window):
    assert window.document.path is None
    window.document.project.set_title("Adder")
    assert window.windowTitle().startswith("Adder (unsaved)[*]")


def test_a_data_file_that_cannot_be_saved_is_refused_in_words(window):
    panel = window.live.panel
    before = window.document.project.dataset.copy()
    panel.use_file("text", "/data/caf\udce9.txt")  # a name undecodable as UTF-8
    assert window.document.project.dataset == before
    assert not window.document.undo_stack.canUndo()
    assert not panel.setting_error.isHidden()
    assert "saved as UTF-8" in panel.setting_error.text()
    assert panel.source.currentData() == ("builtin", before.name)
    panel.use_file("text", "/data/cafe.txt")
    assert panel.setting_error.isHidden()
    chosen = window.document.project.dataset
    assert (chosen.kind, chosen.name, chosen.options) == ("text", "/data/cafe.txt", {})


def test_the_panel_allows_what_a_project_allows_and_shows_it_exactly(make_window, qtbot):
    """Each number box spans its setting's limits (the learning rate starts at its smallest
    shown step, as it must be above 0), so a project holding a large seed or many epochs shows
    them as they are, and typing the largest seed stores it."""
    panel = _active(make_window(), qtbot)
    for name, editor in panel.editors.items():
        _kind, low, high, _choices = TrainingSettings.LIMITS[name]
        if isinstance(editor, QComboBox):
            continue
        assert editor.maximum() == high, name
        assert editor.minimum() == (low if name != "learning_rate" else 1e-5), name

    project = new_project("many_to_one")
    largest = {"seed": 2**32 - 1, "epochs": 1_000_000, "batch_size": 65_536, "patience": 10**6}
    for name, value in largest.items():
        project.set_training(name, value)
    window = make_window(project=project)
    panel = _active(window, qtbot)
    for name, value in largest.items():
        assert panel.editors[name].value() == value, name
    type_into(panel.editors["seed"], 4_000_000_000)
    assert window.document.project.training.seed == 4_000_000_000
    assert type(window.document.project.training.seed) is int
    window.document.undo_stack.undo()
    assert window.document.project.training.seed == 2**32 - 1
    assert panel.editors["seed"].value() == 2**32 - 1
