"""What a newcomer meets (issue 15): every view describes the project in front of it, and every
state of every control can be seen in both themes.

Training waits on conditions (``qtbot.waitUntil``), never on fixed sleeps.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QDockWidget, QPushButton, QToolBar

from rnn_builder.engine.executor import Executor
from ui import themes

TRAINING_TIMEOUT = 120_000  # ms: generous for a slow machine; the waits end on conditions


def _one_batch(qtbot, window) -> None:
    """Click "One batch" and wait until the run is over and its weights are the document's."""
    live = window.live
    runs = len(window.document.runs)
    qtbot.mouseClick(live.panel.run_controls.batch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: not live.session.running and len(window.document.runs) == runs + 1,
        timeout=TRAINING_TIMEOUT,
    )


def _status(window) -> str:
    return window.live.panel.run_controls.metrics.text()


# --- 1. the training status is the open project's ------------------------------------------


def test_a_new_project_does_not_show_the_previous_projects_training(make_window, qtbot):
    window = make_window("many_to_one")
    controls = window.live.panel.run_controls
    _one_batch(qtbot, window)
    assert "loss" in _status(window) and "accuracy" in _status(window)
    assert controls.progress.value() == 1000
    window.new_project("stacked_lstm")  # an untrained language model
    assert _status(window) == "Not trained yet."
    assert controls.progress.value() == 0 and controls.progress.format() == "ready"


def test_a_reopened_project_says_what_it_was_trained_with(make_window, qtbot, tmp_path):
    window = make_window("many_to_one")
    _one_batch(qtbot, window)
    _one_batch(qtbot, window)
    run = window.document.runs[-1]
    path = tmp_path / "sentiment.json"
    assert window.save_as(path)
    window.new_project("one_to_one")
    assert _status(window) == "Not trained yet."
    assert window.open_project(path)
    status = _status(window)
    assert status.startswith("Trained: 2 runs, last: run 2"), status
    assert f"{run.curve.last:.4g}" in status  # the run's own numbers, not another project's
    assert f"{run.val_metric[-1]:.1%}" in status
    # the weights without their runs: they were trained, but not in this session
    window.new_project("one_to_one")
    path.with_suffix(".runs.json").unlink()
    assert window.open_project(path)
    assert window.document.weights is not None
    assert _status(window) == "Weights loaded from file, not trained in this session."


# --- 2. the hidden state view shows the network as it is now -------------------------------


def add_dock(window, name: str) -> QDockWidget:
    return window.findChild(QDockWidget, name)


def _in_front(window, name: str) -> bool:
    """Whether a dock can be seen (a tab behind another stays "visible" to Qt)."""
    return not add_dock(window, name).visibleRegion().isEmpty()


def _hidden_h(window, weights) -> np.ndarray:
    """The hidden states (units × steps) of the view's example and cell, computed afresh with
    ``weights`` — what the view must show."""
    live, hidden = window.live, window.live.hidden
    graph = window.document.graph
    executor = Executor(graph, dtype=np.float64, seed=window.document.project.training.seed)
    executor.set_parameters({k: np.asarray(v, np.float64) for k, v in weights.items()})
    stepper = live.context.stepper(hidden.example.value(), executor)
    stepper.run_to_end()
    node = hidden.cell.currentData()
    copies = sorted((k for k in stepper.details if k.node == node), key=lambda k: k.t)
    return np.stack([stepper.details[k]["h"][0] for k in copies], axis=1)


def _shown_h(window) -> np.ndarray | None:
    return getattr(window.live.hidden, "images", {}).get("h")


def test_hidden_states_drawn_after_training_when_their_tab_comes_to_the_front(make_window, qtbot):
    window = make_window("many_to_one")
    add_dock(window, "loss_dock").raise_()  # the hidden state tab is behind the loss curves
    qtbot.waitUntil(lambda: not _in_front(window, "hidden_dock"))
    _one_batch(qtbot, window)
    add_dock(window, "hidden_dock").raise_()
    qtbot.waitUntil(lambda: _shown_h(window) is not None)
    np.testing.assert_allclose(_shown_h(window), _hidden_h(window, window.document.weights))
    assert "sentiment</b> predicted" in window.live.hidden.sequence.text()


def test_hidden_states_follow_a_switch_to_another_project(make_window, qtbot):
    window = make_window("many_to_one")
    hidden = window.live.hidden
    add_dock(window, "hidden_dock").raise_()
    qtbot.waitUntil(lambda: _in_front(window, "hidden_dock"))
    hidden.redraw()
    assert "sentiment</b> predicted" in hidden.sequence.text()
    window.new_project("adding_problem")
    assert hidden.cell.currentData() == "memory"
    qtbot.waitUntil(lambda: "total</b>" in hidden.sequence.text())
    text = hidden.sequence.text()
    assert "sentiment" not in text and "positive" not in text and "negative" not in text
    assert "total</b> predicted" in text
    assert _shown_h(window).shape[0] == window.document.graph.node("memory").params["hidden_size"]


def test_hidden_states_follow_the_weights_while_training_and_after(make_window, qtbot):
    window = make_window("many_to_one")
    window.document.set_training("epochs", 500)  # still running when the states have moved
    live, hidden = window.live, window.live.hidden
    add_dock(window, "hidden_dock").raise_()
    qtbot.waitUntil(lambda: _shown_h(window) is not None)
    untrained = _shown_h(window).copy()
    qtbot.mouseClick(live.panel.run_controls.start_button, Qt.MouseButton.LeftButton)
    add_dock(window, "hidden_dock").raise_()  # (starting brings the loss curves to the front)
    qtbot.waitUntil(
        lambda: not live.session.running or not np.allclose(_shown_h(window), untrained),
        timeout=TRAINING_TIMEOUT,
    )
    assert live.session.running, "the hidden states never moved while the network trained"
    # what is shown is the network as it was at a report of this run, not as it started
    live.session.pause()
    shown_with = live.context.live_weights
    assert shown_with is not None
    np.testing.assert_allclose(_shown_h(window), _hidden_h(window, shown_with))
    assert "sentiment</b> predicted" in hidden.sequence.text()
    live.session.stop(wait=True)
    assert live.context.live_weights is None  # the run's weights are the document's now
    qtbot.waitUntil(lambda: not hidden.stale)
    np.testing.assert_allclose(_shown_h(window), _hidden_h(window, window.document.weights))


# --- 3. every state of every control can be seen in both themes -----------------------------


def _contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1: the same; 21: black on white)."""

    def luminance(color: QColor) -> float:
        def channel(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * channel(color.redF())
            + 0.7152 * channel(color.greenF())
            + 0.0722 * channel(color.blueF())
        )

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _rendered(widget) -> QImage:
    return widget.grab().toImage()


def _colours(image: QImage) -> set[int]:
    return {
        image.pixel(x, y) for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
    }


@pytest.fixture(params=["light", "dark"])
def themed(request, window):
    window.apply_theme(request.param)
    yield window, request.param
    window.apply_theme("system")


def test_a_disabled_button_looks_disabled(themed, qtbot):
    window, _theme = themed
    controls = window.live.panel.run_controls
    assert controls.start_button.isEnabled() and not controls.stop_button.isEnabled()
    palette = controls.stop_button.palette()
    role = QPalette.ColorRole.ButtonText
    enabled = palette.color(QPalette.ColorGroup.Active, role)
    disabled = palette.color(QPalette.ColorGroup.Disabled, role)
    button = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Button)
    assert _contrast(enabled, disabled) > 1.8  # told apart at a glance …
    assert _contrast(disabled, button) > 1.5  # … and still readable
    # and so they are drawn: a disabled button is not a picture of an enabled one
    stop_button = QPushButton("Stop")
    start_button = QPushButton("Stop")
    stop_button.setEnabled(False)
    for button_widget in (stop_button, start_button):
        qtbot.addWidget(button_widget)
        button_widget.resize(90, 30)
    assert _rendered(stop_button) != _rendered(start_button)
    assert not window.undo_action.isEnabled()  # the toolbar's Undo is drawn from the same
    tool_buttons = [
        bar.widgetForAction(window.undo_action) for bar in window.findChildren(QToolBar)
    ]
    assert any(b is not None and not b.isEnabled() for b in tool_buttons)  # palette group


def test_an_unchecked_run_box_can_be_seen(themed, qtbot):
    window, _theme = themed
    _one_batch(qtbot, window)
    runs = window.live.plots.runs
    add_dock(window, "loss_dock").raise_()
    qtbot.waitUntil(lambda: _in_front(window, "loss_dock"))
    item = runs.item(0)
    assert item.checkState() == Qt.CheckState.Unchecked
    box = runs.visualItemRect(item)
    box.setWidth(box.height())  # the indicator, at the start of the row
    image = _rendered(runs.viewport()).copy(box)
    background = QColor(runs.palette().color(QPalette.ColorRole.Base))
    strongest = max(_contrast(QColor(pixel), background) for pixel in _colours(image))
    assert strongest > 1.8, "the unchecked box is drawn in (nearly) the colour of the list"


def test_plots_follow_the_theme_at_runtime(themed):
    window, theme = themed
    _check_plots(window, theme)


def test_plots_follow_the_theme_the_app_starts_with(make_window):
    themes.apply("dark")  # as a dark desktop, or a saved choice, has it before the window
    try:
        _check_plots(make_window(), "dark")
    finally:
        themes.apply("system")


def _check_plots(window, theme: str) -> None:
    window_colour = QApplication.palette().color(QPalette.ColorRole.Window)
    live = window.live
    live.plots.build()  # (made when first seen: coloured for the palette of that moment)
    live.gradients.build()
    plots = [live.plots.loss_plot, live.plots.metric_plot, live.gradients.heat]
    for plot in plots:
        background = plot.backgroundBrush().color()
        assert (background.lightness() < 128) == (theme == "dark"), plot.objectName()
        axis = plot.getPlotItem().getAxis("left")
        assert _contrast(axis.textPen().color(), background) > 4.5
        assert _contrast(axis.pen().color(), background) > 3.0
        title = plot.getPlotItem().titleLabel
        assert _contrast(QColor(title.opts["color"]), background) > 4.5
    assert _contrast(window_colour, plots[0].backgroundBrush().color()) < 1.5  # one surface
