"""An exercise's goal shown in the app as met or not (issue 24 §2): when a project with a goal
opens with trained weights, and when a run ends — the line ``evaluate`` prints, computed off
the GUI thread — and File → New exercise… opens one of the three exercises."""

from __future__ import annotations

import threading

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QDockWidget

import ui.training.goal_check as goal_check
from rnn_builder.engine.executor import Executor
from rnn_builder.files.exercises import EXERCISES, new_exercise
from rnn_builder.files.serialization import save
from rnn_builder.files.weights_file import save_weights
from rnn_builder.training.goals import evaluate_goal

from .test_live import TRAINING_TIMEOUT


def _small_future_exercise():
    """The tagger exercise on few sentences, quick to make and to score."""
    project = new_exercise("future")
    project.dataset.options["sentences"] = 300
    project.training.epochs = 1
    return project


def test_a_project_with_a_goal_opens_with_its_goal_scored_off_the_gui_thread(
    make_window, qtbot, tmp_path, monkeypatch
):
    project = _small_future_exercise()
    path = save(project, tmp_path / "lab.json")
    executor = Executor(project.graph, seed=3)
    save_weights(executor, tmp_path / "lab.npz")
    threads = []
    scored = goal_check.score

    def watched(*args):
        threads.append(threading.current_thread())
        return scored(*args)

    monkeypatch.setattr(goal_check, "score", watched)
    window = make_window("many_to_one")
    goal = window.live.goal
    assert not goal.label.isVisibleTo(window)  # the sentiment template sets no goal
    assert window.open_project(path)
    qtbot.waitUntil(lambda: goal.state == "shown", timeout=TRAINING_TIMEOUT)
    assert threads and all(t is not threading.main_thread() for t in threads)
    expected = evaluate_goal(window.document.project, executor, tmp_path)
    assert goal.plain_text() == expected.describe()
    assert goal.plain_text().startswith("goal: token accuracy on the 'late' examples at least 99%")
    assert goal.plain_text().endswith("— not met yet")
    window.findChild(QDockWidget, "training_dock").raise_()
    assert goal.label.isVisibleTo(window)


def test_the_goal_is_scored_again_when_a_run_ends(make_window, qtbot):
    window = make_window(project=_small_future_exercise())
    goal = window.live.goal
    qtbot.waitUntil(lambda: goal.state == "untrained")
    assert "train the network to see whether it is met" in goal.plain_text()
    window.findChild(QDockWidget, "training_dock").raise_()
    qtbot.mouseClick(window.live.panel.run_controls.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.live.session.running, timeout=TRAINING_TIMEOUT)
    qtbot.waitUntil(lambda: not window.live.session.running, timeout=TRAINING_TIMEOUT)
    qtbot.waitUntil(lambda: goal.state == "shown", timeout=TRAINING_TIMEOUT)
    executor = Executor(window.document.graph, seed=window.document.project.training.seed)
    executor.set_parameters(window.document.weights_if_they_fit(), strict=False)
    expected = evaluate_goal(window.document.project, executor, None)
    assert goal.plain_text() == expected.describe()
    assert goal.result is not None and goal.result.value == expected.value


def test_file_new_exercise_opens_the_one_chosen(make_window, qtbot):
    window = make_window("many_to_one")
    with qtbot.waitActive(window):
        window.activateWindow()
    files = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    files.popup(window.mapToGlobal(QPoint(10, 10)))
    qtbot.waitUntil(files.isVisible)
    (action,) = [a for a in files.actions() if a.objectName() == "new_exercise"]
    chosen = []

    def answer() -> None:  # the real dialog: its list clicked, then OK
        dialog = QApplication.activeModalWidget()
        if dialog is None or dialog.objectName() != "exercises":
            return
        timer.stop()
        names = [dialog.list.item(row).data(dialog.NAME_ROLE) for row in range(dialog.list.count())]
        chosen.append(names)
        item = dialog.list.item(names.index("vanishing"))
        rect = dialog.list.visualItemRect(item)
        qtbot.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(answer)
    timer.start()
    files.hide()
    action.trigger()
    timer.stop()
    assert chosen == [list(EXERCISES)]
    project = window.document.project
    assert project.goal is not None and project.title == f"Exercise: {EXERCISES['vanishing'].title}"
    assert window.document.path is None
    qtbot.waitUntil(lambda: window.live.goal.state == "untrained")
    assert window.live.goal.plain_text().startswith("goal: validation MSE below 0.01")
