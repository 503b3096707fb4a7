"""Issue 23, items 6-8: the training panel as it is used. Start, Pause and Stop stay in view
while training; the mouse wheel scrolls the panel without changing a value it passes over; and
Start on a trained network offers Continue or Train from scratch, records which in the run, and
plots a continued run from the step where it continued."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
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
    controls = window.live.panel.run_controls
    scroll = dock.findChild(QScrollArea)
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 0)
    _click(qtbot, controls.start_button)
    session = window.live.session
    qtbot.waitUntil(lambda: len(session.reports) >= 3, timeout=TRAINING_TIMEOUT)
    for button in (controls.pause_button, controls.stop_button):
        assert _seen(button), button.objectName()
    assert _seen(controls.progress)
    _click(qtbot, controls.stop_button)
    qtbot.waitUntil(lambda: not session.running, timeout=TRAINING_TIMEOUT)
    assert _seen(controls.start_button)


def _wheel(widget, steps: int = -3) -> None:
    """A turn of the mouse wheel over the middle of ``widget`` (down: negative), as the window
    system delivers it (QTest.wheelEvent: a spontaneous event, passed on to the parents)."""
    window = widget.window()
    at = widget.mapTo(window, widget.rect().center())
    QTest.wheelEvent(window.windowHandle(), QPointF(at), QPoint(0, 120 * steps))


def test_the_wheel_scrolls_the_panel_and_leaves_the_values_it_passes(make_window, qtbot):
    window = make_window("many_to_one")
    window.resize(1360, 620)
    dock = _training_dock(window, qtbot)
    panel = window.live.panel
    scroll = dock.findChild(QScrollArea)
    qtbot.waitUntil(lambda: scroll.verticalScrollBar().maximum() > 0)
    clip = panel.editors["clip_norm"]
    # in view, with more panel below it (the task's own settings above put it out of view)
    scroll.ensureWidgetVisible(clip)
    assert scroll.verticalScrollBar().value() < scroll.verticalScrollBar().maximum()
    before = (clip.value(), window.document.project.training.clip_norm)
    start = scroll.verticalScrollBar().value()
    _wheel(clip, -2)  # the mouse happens to be over Clip gradients at
    assert (clip.value(), window.document.project.training.clip_norm) == before
    assert scroll.verticalScrollBar().value() != start  # the panel scrolled instead
    for name in ("optimizer", "schedule"):  # lists too
        combo = panel.editors[name]
        chosen = combo.currentText()
        _wheel(combo, -1)
        assert combo.currentText() == chosen
    clip.setFocus()  # a box the person clicked into takes the wheel
    _wheel(clip, 2)
    assert clip.value() > before[0]
    # the inspector scrolls too: a node's numbers stay as they are
    window.findChild(QDockWidget, "inspector_dock").raise_()
    window.scene.select_nodes(["reader"])
    size = window.inspector.editors["hidden_size"]
    qtbot.waitUntil(lambda: not size.visibleRegion().isEmpty())
    _wheel(size, -3)
    assert size.value() == 32 == window.document.graph.node("reader").params["hidden_size"]


def test_a_trained_network_offers_continue_or_from_scratch_and_the_run_says_which(
    make_window, qtbot
):
    window = make_window("many_to_one")
    _training_dock(window, qtbot)
    controls, session = window.live.panel.run_controls, window.live.session
    document = window.document
    assert controls.start_button.text() == "Start" and not controls.scratch_button.isVisible()
    _click(qtbot, controls.batch_button)  # one step: run 1, from fresh weights
    qtbot.waitUntil(lambda: len(document.runs) == 1, timeout=TRAINING_TIMEOUT)
    first = document.runs[0]
    assert not first.continued and first.start_step == 0
    # trained now: the choice is offered, not made silently
    assert controls.start_button.text() == "Continue" and controls.scratch_button.isVisible()
    assert window.live.train_menu.train_action.text() == "&Continue training"
    _click(qtbot, controls.batch_button)  # one more step, on from run 1's weights
    qtbot.waitUntil(lambda: len(document.runs) == 2, timeout=TRAINING_TIMEOUT)
    second = document.runs[1]
    assert second.continued and (second.continued_from, second.start_step) == (1, 1)
    assert "continued from run 1 at step 1" in second.label
    plots = window.live.plots
    plots.redraw()
    steps, _losses = plots.train_curve.getData()
    assert steps[0] == 2  # plotted from where it went on, after run 1's step
    _click(qtbot, controls.scratch_button)  # fresh weights: a run of its own from 0
    qtbot.waitUntil(lambda: len(session.reports) >= 1, timeout=TRAINING_TIMEOUT)
    _click(qtbot, controls.stop_button)
    qtbot.waitUntil(lambda: len(document.runs) == 3, timeout=TRAINING_TIMEOUT)
    third = document.runs[2]
    assert not third.continued and third.start_step == 0 and third.continued_from is None
    plots.redraw()
    steps, _losses = plots.train_curve.getData()
    assert steps[0] == 1
    # saved with the project's runs, and read back
    from rnn_builder.training.runs import RunRecord

    again = RunRecord.from_json(second.to_json())
    assert (again.continued_from, again.start_step) == (1, 1)
