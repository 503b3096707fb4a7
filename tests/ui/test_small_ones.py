"""Issue 23's small ones, each as a person meets it: the inspector says why it refuses a name
or a value; gradient flow's words agree with its number; the sample's temperature shows what it
does; a project switch resets the sample and T; View → Theme shows the theme in use; the Hidden
state's Cell list and the probe's message are not cut off."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDockWidget


def _active(window, qtbot):
    with qtbot.waitActive(window):
        window.activateWindow()


def _inspect(window, qtbot, node: str):
    window.findChild(QDockWidget, "inspector_dock").raise_()
    window.scene.select_nodes([node])
    qtbot.waitUntil(lambda: window.inspector.node_id == node)
    return window.inspector


def test_the_inspector_refuses_a_name_another_node_has_and_says_why(window, qtbot):
    _active(window, qtbot)
    inspector = _inspect(window, qtbot, "embed")
    name = inspector.editors["name"]
    name.setFocus()
    name.selectAll()
    QTest.keyClicks(name, "reader")  # the LSTM's name
    QTest.keyClick(name, Qt.Key.Key_Return)
    graph = window.document.graph
    assert graph.node("embed").name == "embed" and name.text() == "embed"
    assert "already called 'reader'" in inspector.error.text()
    assert window.document.undo_stack.count() == 0


def test_the_inspector_says_why_a_value_is_refused(window, qtbot):
    _active(window, qtbot)
    inspector = _inspect(window, qtbot, "reader")
    size = inspector.editors["hidden_size"]
    size.setFocus()
    size.selectAll()
    QTest.keyClicks(size, "0")
    QTest.keyClick(size, Qt.Key.Key_Return)
    assert size.value() == 32 == window.document.graph.node("reader").params["hidden_size"]
    said = inspector.error.text()
    assert "must be at least 1, not 0" in said and "stays 32" in said


def test_the_training_panel_says_why_a_setting_is_refused(window, qtbot):
    _active(window, qtbot)
    dock = window.findChild(QDockWidget, "training_dock")
    dock.raise_()
    panel = window.live.panel
    batch = panel.editors["batch_size"]
    qtbot.waitUntil(lambda: not batch.visibleRegion().isEmpty())
    batch.setFocus()
    batch.selectAll()
    QTest.keyClicks(batch, "0")
    QTest.keyClick(batch, Qt.Key.Key_Return)
    assert batch.value() == 32 and panel.setting_error.isVisible()
    assert "batch_size must be between 1 and 65536, not 0" in panel.setting_error.text()
