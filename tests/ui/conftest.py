"""Fixtures for the GUI tests: a window on a template with settings and recovery files kept in
a temporary folder, and helpers that drive the canvas with real mouse events.

The tests collect garbage as the app does (:mod:`rnn_builder.collector`): never automatically,
only at safe points — the event loop's timer, and each window's teardown, where the window is
really deleted. A collection started by chance inside a Qt call deadlocked the suite."""

from __future__ import annotations

import gc

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QPointF, QSettings, QStandardPaths, Qt
from PySide6.QtTest import QTest

from rnn_builder.files.templates import new_project
from ui import collector
from ui.editor.document import GraphDocument
from ui.main_window import MainWindow


@pytest.fixture(scope="session", autouse=True)
def collection_at_safe_points(qapp):
    """The app's garbage-collection policy, for the whole session."""
    collector.install(qapp)
    yield


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Recovery copies and QSettings go to a temporary folder, never the user's."""
    QStandardPaths.setTestModeEnabled(True)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    import ui.editor.document

    monkeypatch.setattr(
        ui.editor.document, "recovery_folder", lambda: _folder(tmp_path / "recovery")
    )
    yield


def _folder(path):
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session", autouse=True)
def windows_deleted_before_exit(qapp):
    """Windows closed by the tests are deleted while Python still runs: left to the
    interpreter's exit, Qt objects are destroyed in no safe order (a crash after the tests)."""
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture
def make_window(qtbot, tmp_path):
    made = []

    def make(template: str = "many_to_one", path=None, project=None) -> MainWindow:
        document = GraphDocument(project or new_project(template), path)
        settings = QSettings(
            str(tmp_path / f"settings-{id(document)}.ini"), QSettings.Format.IniFormat
        )
        window = MainWindow(document, settings)
        window.ask_to_save = lambda: "discard"
        # Before pytest-qt closes it (which runs before fixture teardown): stop any training
        # (a closing window would otherwise ask) and take the scenes down while Python lives.
        qtbot.addWidget(window, before_close_func=MainWindow.shutdown)
        window.show()
        qtbot.waitExposed(window)
        made.append(window)
        return window

    yield make
    for window in made:  # a training thread must not outlive its test, even a failed one
        window.live.shutdown()
    dispose(made)


def dispose(windows: list) -> None:
    """Delete closed windows now, at a safe point, rather than leave them to a collection
    started by chance later (in the middle of another test's Qt call)."""
    for window in windows:
        if shiboken6.isValid(window):
            window.deleteLater()
    windows.clear()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture
def window(make_window) -> MainWindow:
    return make_window()


def view_point(view, scene_point: QPointF) -> QPoint:
    return view.mapFromScene(scene_point)


def drag(
    view, start: QPointF, end: QPointF, steps: int = 6, modifier=Qt.KeyboardModifier.NoModifier
) -> None:
    """Press at ``start``, move in steps with the button held, release at ``end`` (scene
    coordinates), with real mouse events on the view's viewport."""
    viewport = view.viewport()
    a, b = view_point(view, start), view_point(view, end)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, modifier, a)
    for k in range(1, steps + 1):
        point = a + (b - a) * k / steps
        QTest.mouseMove(viewport, point)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, modifier, b)


def click(view, scene_point: QPointF, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, modifier, view_point(view, scene_point)
    )


def type_into(editor, value) -> None:
    """Type ``value`` over what a line edit or spin box holds, as a person would (focus, select
    all, type), and press Enter; the focus stays there."""
    editor.setFocus()
    editor.selectAll()
    QTest.keyClicks(editor, str(value))
    QTest.keyClick(editor, Qt.Key.Key_Return)


def port_point(window, node_id: str, port: str, is_input: bool) -> QPointF:
    return window.scene.node_items[node_id].port(port, is_input).scene_anchor()


def title_point(window, node_id: str) -> QPointF:
    item = window.scene.node_items[node_id]
    return item.mapToScene(QPointF(60, 12))
