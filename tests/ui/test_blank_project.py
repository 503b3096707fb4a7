"""Issue 23, item 5: File → New starts an empty canvas with the start hint, without deleting a
template's nodes by hand."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest


def test_ctrl_n_opens_an_empty_canvas_that_says_how_to_begin(window, qtbot):
    with qtbot.waitActive(window):
        window.activateWindow()
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # File → New
    document = window.document
    assert len(document.graph) == 0 and window.scene.items() == []
    assert document.project.dataset is None and document.project.template is None
    assert not document.modified and document.undo_stack.count() == 0
    assert "Untitled" in window.windowTitle()
    window.view.viewport().grab()  # paint
    assert window.view.hint_shown and "palette" in window.view.start_hint
    # it begins as the hint says: typing a node's name
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_S)
    QTest.keyClicks(window.quick_add.edit, "equence")
    QTest.keyClick(window.quick_add.edit, Qt.Key.Key_Return)
    assert [n.type_name for n in document.graph] == ["sequence_input"]
    window.view.viewport().grab()
    assert not window.view.hint_shown
