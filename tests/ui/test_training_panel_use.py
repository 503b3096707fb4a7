"""Issue 23, items 6-8: the training panel as it is used. Start, Pause and Stop stay in view
while training; the mouse wheel scrolls the panel without changing a value it passes over; and
Start on a trained network offers Continue or Train from scratch, records which in the run, and
plots a continued run from the step where it continued."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QScrollArea

TRAINING_TIMEOUT = 120_000  # ms: generous for a slow machine; the waits end on conditions


def _click(qtbot, button) -> None:
    assert button.isEnabled() and button.isVisible(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _training_dock(window, qtbot) -> QDockWidget:
    dock = window.findChild(QDockWidget, "training_dock")
    dock.raise_()
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty())
    return dock


def _seen(widget) -> bool:
    """Whether the whole of ``widget`` can be seen (not scrolled out of its dock)."""
    region = widget.visibleRegion()
    return not region.isEmpty() and region.boundingRect().size() == widget.size()


def test_start_pause_and_stop_stay_in_view_while_training(make_window, qtbot):
    window = make_window("many_to_one")
    window.resize(1360, 620)  # a short window: the panel scrolls
    dock = _training_dock(window, qtbot)
    panel = window.live.panel
    scroll = dock.findChild(QScrollArea)
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 0)
    _click(qtbot, panel.start_button)
    session = window.live.session
    qtbot.waitUntil(lambda: len(session.reports) >= 3, timeout=TRAINING_TIMEOUT)
    for button in (panel.pause_button, panel.stop_button):
        assert _seen(button), button.objectName()
    assert _seen(panel.progress)
    _click(qtbot, panel.stop_button)
    qtbot.waitUntil(lambda: not session.running, timeout=TRAINING_TIMEOUT)
    assert _seen(panel.start_button)
