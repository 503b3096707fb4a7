"""What a newcomer meets (issue 15): every view describes the project in front of it, and every
state of every control can be seen in both themes.

Training waits on conditions (``qtbot.waitUntil``), never on fixed sleeps.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from rnn_builder.executor import Executor

TRAINING_TIMEOUT = 120_000  # ms: generous for a slow machine; the waits end on conditions


def _one_batch(qtbot, window) -> None:
    """Click "One batch" and wait until the run is over and its weights are the document's."""
    live = window.live
    runs = len(window.document.runs)
    qtbot.mouseClick(live.panel.batch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: not live.session.running and len(window.document.runs) == runs + 1,
        timeout=TRAINING_TIMEOUT,
    )


def _status(window) -> str:
    return window.live.panel.metrics.text()


# --- 1. the training status is the open project's ------------------------------------------


def test_a_new_project_does_not_show_the_previous_projects_training(make_window, qtbot):
    window = make_window("many_to_one")
    panel = window.live.panel
    _one_batch(qtbot, window)
    assert "loss" in _status(window) and "accuracy" in _status(window)
    assert panel.progress.value() == 1000
    window.new_project("stacked_lstm")  # an untrained language model
    assert _status(window) == "Not trained yet."
    assert panel.progress.value() == 0 and panel.progress.format() == "ready"


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
    assert f"{run.loss[-1]:.4g}" in status  # the run's own numbers, not another project's
    assert f"{run.val_metric[-1]:.1%}" in status
    # the weights without their runs: they were trained, but not in this session
    window.new_project("one_to_one")
    path.with_suffix(".runs.json").unlink()
    assert window.open_project(path)
    assert window.document.weights is not None
    assert _status(window) == "Weights loaded from file, not trained in this session."


# --- 2. the hidden state view shows the network as it is now -------------------------------


def _dock(window, name: str) -> QDockWidget:
    return window.findChild(QDockWidget, name)


def _in_front(window, name: str) -> bool:
    """Whether a dock can be seen (a tab behind another stays "visible" to Qt)."""
    return not _dock(window, name).visibleRegion().isEmpty()


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
    _dock(window, "loss_dock").raise_()  # the hidden state tab is behind the loss curves
    qtbot.waitUntil(lambda: not _in_front(window, "hidden_dock"))
    _one_batch(qtbot, window)
    _dock(window, "hidden_dock").raise_()
    qtbot.waitUntil(lambda: _shown_h(window) is not None)
    np.testing.assert_allclose(_shown_h(window), _hidden_h(window, window.document.weights))
    assert "sentiment</b> predicted" in window.live.hidden.sequence.text()


def test_hidden_states_follow_a_switch_to_another_project(make_window, qtbot):
    window = make_window("many_to_one")
    hidden = window.live.hidden
    _dock(window, "hidden_dock").raise_()
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
    live, hidden = window.live, window.live.hidden
    _dock(window, "hidden_dock").raise_()
    qtbot.waitUntil(lambda: _shown_h(window) is not None)
    untrained = _shown_h(window).copy()
    qtbot.mouseClick(live.panel.start_button, Qt.MouseButton.LeftButton)
    _dock(window, "hidden_dock").raise_()  # (starting brings the loss curves to the front)
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
