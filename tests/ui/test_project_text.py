"""The project's title and description are edited in the inspector when nothing is selected:
typed, each is one undo step; the window's title follows; text a project file could not hold
is refused in words; another project opened shows its own."""

from __future__ import annotations

from PySide6.QtCore import Qt

from rnn_builder.files.templates import new_project

CTRL = Qt.KeyboardModifier.ControlModifier


def _active(window, qtbot):
    with qtbot.waitActive(window):
        window.activateWindow()
    window.scene.clearSelection()
    return window.inspector


def test_the_title_is_typed_undone_and_redone(make_window, qtbot):
    window = make_window()
    inspector = _active(window, qtbot)
    title = inspector.editors["title"]
    assert title.text() == window.document.project.title == "Sentence sentiment"
    title.setFocus()
    title.selectAll()
    qtbot.keyClicks(title, "My reviews")
    assert window.document.project.title == "Sentence sentiment"  # not before Enter
    qtbot.keyClick(title, Qt.Key.Key_Return)
    assert window.document.project.title == "My reviews"
    assert window.windowTitle().startswith("My reviews (unsaved)")
    assert window.document.undo_stack.undoText() == "Set the project's title"

    window.view.setFocus()  # the canvas has the keys: the window's undo
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    assert window.document.project.title == "Sentence sentiment"
    assert inspector.editors["title"].text() == "Sentence sentiment"
    assert window.windowTitle().startswith("Sentence sentiment (unsaved)")
    qtbot.keyClick(window, Qt.Key.Key_Y, CTRL)
    assert inspector.editors["title"].text() == "My reviews"


def test_the_description_is_one_step_when_the_box_is_left(make_window, qtbot):
    window = make_window()
    inspector = _active(window, qtbot)
    box = inspector.editors["description"]
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "Reviews from my class.")
    assert window.document.project.description != "Reviews from my class."  # still typing
    assert not window.document.undo_stack.canUndo()
    window.view.setFocus()  # leaving the box commits it
    qtbot.waitUntil(lambda: window.document.project.description == "Reviews from my class.")
    assert window.document.undo_stack.count() == 1  # one step, not one per key
    window.document.undo_stack.undo()
    assert box.toPlainText() == new_project("many_to_one").description


def test_an_empty_title_is_refused_in_words_and_nothing_changes(make_window, qtbot):
    window = make_window()
    inspector = _active(window, qtbot)
    title = inspector.editors["title"]
    title.setFocus()
    title.selectAll()
    qtbot.keyClick(title, Qt.Key.Key_Delete)
    qtbot.keyClick(title, Qt.Key.Key_Return)
    assert window.document.project.title == "Sentence sentiment"
    assert not window.document.undo_stack.canUndo()
    assert "cannot be empty" in inspector.error.text()
    assert title.text() == "Sentence sentiment"  # the field shows what the project holds


def test_a_title_is_set_while_training_runs_without_stopping_it(make_window, qtbot):
    window = make_window()
    window.document.guard = lambda: False  # as while training runs and the person says no
    assert window.document.set_project_text("title", "Running") is True
    assert window.document.project.title == "Running"


def test_another_project_opened_shows_and_follows_its_own_text(make_window, qtbot):
    window = make_window()
    first = window.document.project
    window.document.replace(new_project("adding_problem"), None)
    inspector = _active(window, qtbot)
    assert inspector.editors["title"].text() == "Adding problem (LSTM)"
    first.set_title("Old one")  # the closed project's events reach no editor
    assert inspector.editors["title"].text() == "Adding problem (LSTM)"
    window.document.project.set_description("Two numbers marked in a long sequence.")
    assert inspector.editors["description"].toPlainText() == (
        "Two numbers marked in a long sequence."
    )
