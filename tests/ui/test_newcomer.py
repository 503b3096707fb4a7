"""What a newcomer meets (issue 15): every view describes the project in front of it, and every
state of every control can be seen in both themes.

Training waits on conditions (``qtbot.waitUntil``), never on fixed sleeps.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

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
