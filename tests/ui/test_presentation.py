"""Presentation mode, the text size and Fit (issue 24 §3), driven as a lecturer would: F11 (and
Esc) on the window, View → Text size from the menu, F to fit."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QToolBar

from rnn_builder.files.project import Project
from ui.canvas.style import text_scale
from ui.training.plots import TICK_POINTS


def _activate(window, qtbot) -> None:
    with qtbot.waitActive(window):
        window.activateWindow()


def _shown_part(view) -> QRectF:
    return view.mapToScene(view.viewport().rect()).boundingRect()


def _fills(view) -> bool:
    """The graph is whole in the view and fills it across or down (within the margin)."""
    shown, graph = _shown_part(view), view.scene().itemsBoundingRect()
    whole = shown.adjusted(-1, -1, 1, 1).contains(graph)
    return whole and (graph.width() >= shown.width() - 60 or graph.height() >= shown.height() - 60)


def _visible_chrome(window) -> list[str]:
    parts = [d.objectName() for d in window.findChildren(QDockWidget) if d.isVisible()]
    parts += [t.objectName() for t in window.findChildren(QToolBar) if t.isVisible()]
    parts += ["menu bar"] * window.menuBar().isVisible() + [
        "status bar"
    ] * window.statusBar().isVisible()
    return parts


@pytest.mark.parametrize("leave_with", [Qt.Key.Key_F11, Qt.Key.Key_Escape])
def test_f11_shows_only_the_view_full_screen_filled_and_leaves_the_same_way(
    make_window, qtbot, leave_with
):
    window = make_window("many_to_one")
    window.resize(760, 640)  # within the test's screen (800 × 800 offscreen)
    _activate(window, qtbot)
    before = _visible_chrome(window)
    assert "inspector_dock" in before and "toolbar" in before and "menu bar" in before
    size, font, zoom = window.size(), QApplication.font().pointSizeF(), window.view.zoom()

    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(
        lambda: window.isFullScreen() and window.geometry() == window.screen().geometry()
    )
    assert window.presentation.action.isChecked()
    assert _visible_chrome(window) == []  # the canvas alone
    assert window.centralWidget().isVisible() and window.current_view() is window.view
    assert text_scale() >= 1.5 and QApplication.font().pointSizeF() == pytest.approx(font * 1.5)
    qtbot.waitUntil(lambda: _fills(window.view))
    assert window.view.zoom() > zoom  # the whole screen, not the window's middle

    # the unrolled view, in presentation too: Ctrl+U, filled as well
    qtbot.keyClick(window, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    assert window.current_view() is window.unrolled_view
    qtbot.waitUntil(lambda: _fills(window.unrolled_view))
    qtbot.keyClick(window, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)

    qtbot.keyClick(window.current_view(), leave_with)
    qtbot.waitUntil(lambda: not window.isFullScreen())
    assert not window.presentation.action.isChecked()
    assert sorted(_visible_chrome(window)) == sorted(before)
    assert text_scale() == 1.0 and QApplication.font().pointSizeF() == pytest.approx(font)
    qtbot.waitUntil(lambda: window.size() == size)
    assert not window.view.fills


def test_view_text_size_scales_every_view_and_is_kept(make_window, qtbot):
    window = make_window("many_to_one")
    _activate(window, qtbot)
    live = window.live
    live.docks["loss_dock"].raise_()
    qtbot.waitUntil(lambda: live.plots.built)
    font = QApplication.font().pointSizeF()
    zoom = window.view.zoom()
    views = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    views.popup(window.mapToGlobal(QPoint(10, 10)))
    qtbot.waitUntil(views.isVisible)
    sizes = next(
        a.menu() for a in views.actions() if a.menu() and a.text().replace("&", "") == "Text size"
    )
    (bigger,) = [a for a in sizes.actions() if a.objectName() == "text_size_150"]
    views.hide()
    bigger.trigger()
    assert bigger.isChecked() and text_scale() == 1.5
    assert QApplication.font().pointSizeF() == pytest.approx(font * 1.5)  # panels, lists
    qtbot.waitUntil(lambda: window.inspector.font().pointSizeF() == pytest.approx(font * 1.5))
    assert window.view.zoom() == pytest.approx(zoom * 1.5)  # the canvas, its text with it
    axis = live.plots.loss_plot.getAxis("bottom")
    assert axis.style["tickFont"].pointSizeF() == pytest.approx(TICK_POINTS * 1.5)  # plots
    assert live.plots.loss_plot.getPlotItem().titleLabel.opts["size"] == "16.5pt"
    assert window.settings.value("text_size") in (1.5, "1.5")
    # the unrolled view's boxes hold the larger text: wider by its square root
    window.set_unrolled(True)
    item = next(iter(window.unrolled_scene.copies.values()))
    assert item.width == pytest.approx(96 * 1.5**0.5)


def test_fit_zooms_in_on_a_small_graph(make_window, qtbot):
    project = Project(title="Two nodes")
    project.graph.add_node("sequence_input", node_id="words", position=(0.0, 0.0))
    project.graph.add_node("dense", node_id="layer", position=(200.0, 0.0))
    window = make_window(project=project)
    _activate(window, qtbot)
    window.view.set_zoom(1.0)
    qtbot.keyClick(window.view, Qt.Key.Key_F)
    view = window.view
    graph, room = view.scene().itemsBoundingRect(), view.viewport().rect()
    filling = min(room.width() / (graph.width() + 40), room.height() / (graph.height() + 40))
    assert filling > 1.25  # (the test's premise: room to zoom in)
    assert view.zoom() == pytest.approx(filling, rel=0.02)  # it stopped at 1.25
    assert _fills(view)
