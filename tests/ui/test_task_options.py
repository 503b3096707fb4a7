"""A built-in task's settings in the training panel (issue 24 §2): the adding problem's sequence
length and the sentiment task's sentence count are typed into their boxes, each one undo step
through the document; a length the graph's Sequence input no longer matches is a warning in
the Problems panel whose *Fit graph to data* sets it, as ``edit --data-option`` and ``--fit``
do on the command line."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QSpinBox

from rnn_builder.files.data_options import OPTIONS


def _type_into(qtbot, box: QSpinBox, text: str) -> None:
    """Click into the box, select what it holds, type ``text`` and press Enter."""
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    qtbot.keyClick(box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def _task_box(window, name: str) -> QSpinBox:
    window.findChild(QDockWidget, "training_dock").raise_()
    box = window.live.panel.findChild(QSpinBox, f"data_option_{name}")
    assert box is not None, f"no box for the data option '{name}'"
    return box


def test_the_adding_problems_length_is_typed_in_and_fit_follows(make_window, qtbot):
    window = make_window("adding_problem")
    with qtbot.waitActive(window):
        window.activateWindow()
    box = _task_box(window, "steps")
    assert box.isVisibleTo(window.live.panel) and box.value() == OPTIONS["adding"]["steps"].default
    document = window.document
    steps_before = document.undo_stack.count()
    assert document.graph.node("values").params["steps"] == 50

    _type_into(qtbot, box, "80")
    assert document.project.dataset.options["steps"] == 80
    assert document.undo_stack.count() == steps_before + 1  # one undo step
    assert document.undo_stack.undoText() == "Set the data's steps"
    # the graph's Sequence input says 50: a warning, with Fit on it
    qtbot.waitUntil(lambda: bool(window.problems.fit_buttons))
    warnings = [
        window.problems.topLevelItem(i).text(1) for i in range(window.problems.topLevelItemCount())
    ]
    assert any("80 steps long" in text for text in warnings), warnings
    qtbot.mouseClick(window.problems.fit_buttons[0], Qt.MouseButton.LeftButton)
    assert document.graph.node("values").params["steps"] == 80
    qtbot.waitUntil(lambda: not window.problems.fit_buttons)

    # undone step by step: the fit, then the length (the box shows it again)
    document.undo()
    document.undo()
    assert "steps" not in document.project.dataset.options
    assert box.value() == 50 and document.graph.node("values").params["steps"] == 50


def test_a_sentence_count_out_of_range_is_refused_in_words(make_window, qtbot):
    window = make_window("many_to_one")  # the sentiment task
    with qtbot.waitActive(window):
        window.activateWindow()
    box = _task_box(window, "sentences")
    _type_into(qtbot, box, "500")
    assert window.document.project.dataset.options["sentences"] == 500
    _type_into(qtbot, box, "5")  # below the table's 10
    error = window.live.panel.setting_error
    assert error.isVisibleTo(window.live.panel)
    assert "sentences" in error.text() and "10" in error.text()
    assert window.document.project.dataset.options["sentences"] == 500
