"""Issue 23, item 1: every node in view. Fit shows the whole graph (drawing a level of detail,
titles without port labels, where text would be too small), every template opens with all its
nodes in view at 1360×840, and the bottom docks are as tall as what they show."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRectF, QSizeF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDockWidget, QTabBar

from rnn_builder.files.templates import template_names
from ui.canvas.style import NODE_WIDTH
from ui.main_window import PROBLEM_ROWS_SHOWN


def _shown(view):
    return view.mapToScene(view.viewport().rect()).boundingRect()


def _all_in_view(window) -> list[str]:
    """The nodes not wholly in the canvas's view (empty: all are)."""
    shown = _shown(window.view)
    return [
        node_id
        for node_id, item in window.scene.node_items.items()
        if not shown.contains(QRectF(item.pos(), QSizeF(NODE_WIDTH, item.height)))
    ]


@pytest.mark.parametrize("template", template_names())
def test_every_template_opens_with_all_its_nodes_in_view(make_window, qtbot, template):
    window = make_window(template)
    assert (window.width(), window.height()) == (1360, 840)
    qtbot.waitUntil(lambda: window.view.viewport().width() > 300)
    assert _all_in_view(window) == []


def test_fit_shows_every_node_and_draws_titles_where_labels_would_be_too_small(make_window, qtbot):
    window = make_window("many_to_many_unequal")  # Number words to digits: seven columns
    window.resize(900, 600)
    with qtbot.waitActive(window):
        window.activateWindow()
    window.view.set_zoom(1.0)
    window.view.centerOn(0, 0)
    assert _all_in_view(window)  # at 100 % in a small window, some are out of view
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_F)  # Fit to view
    assert _all_in_view(window) == []
    zoom = window.view.zoom()
    window.view.viewport().grab()  # paint
    item = window.scene.node_items["digit_scores"]
    if zoom < item.READABLE_DETAIL:
        assert item.drawn_detail == "titles"
        assert item.title_pixels(zoom) >= 9.0  # a title still reads
    window.view.set_zoom(1.0)
    window.view.centerOn(item)
    window.view.viewport().grab()
    assert item.drawn_detail == "full"


def _tab(window, title: str) -> QPoint:
    """The bottom tab bar and the middle of the tab called ``title``."""
    for bar in window.findChildren(QTabBar):
        for index in range(bar.count()):
            if bar.tabText(index) == title and bar.isVisible():
                return bar, bar.tabRect(index).center()
    raise AssertionError(f"no tab {title!r}")


def test_the_bottom_docks_are_as_tall_as_what_they_show(window, qtbot):
    problems = window.findChild(QDockWidget, "problems_dock")
    qtbot.waitUntil(lambda: problems.isVisible())
    # "No problems" in a line: the canvas gets the height, not a 40 % empty list
    assert problems.height() < 0.2 * window.height()
    bar, point = _tab(window, "Gradient flow")
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    gradient = window.findChild(QDockWidget, "gradient_dock")
    qtbot.waitUntil(lambda: gradient.height() > 0.3 * window.height())
    bar, point = _tab(window, "Problems")
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    qtbot.waitUntil(lambda: problems.height() < 0.2 * window.height())


def test_a_long_problems_list_gets_the_room_it_needs(window, qtbot):
    problems = window.findChild(QDockWidget, "problems_dock")
    short = problems.height()
    for k in range(5):  # five cells wired to nothing: a problem each at the least
        window.document.add_node("lstm", (0.0, 400.0 + 200 * k))
    qtbot.waitUntil(lambda: window.problems.topLevelItemCount() >= 5)
    qtbot.waitUntil(lambda: problems.height() > short + 40)
    panel = window.problems
    shown = min(panel.topLevelItemCount(), PROBLEM_ROWS_SHOWN)  # more than that scroll
    last = panel.topLevelItem(shown - 1)
    qtbot.waitUntil(lambda: panel.viewport().rect().contains(panel.visualItemRect(last)))


def test_a_wider_dock_beside_the_canvas_leaves_every_node_in_view(window, qtbot):
    assert _all_in_view(window) == []
    wide = window.view.viewport().width()
    bar, point = _tab(window, "Training")
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    controls = window.live.panel.run_controls
    qtbot.waitUntil(lambda: not controls.batch_button.visibleRegion().isEmpty())
    qtbot.mouseClick(controls.batch_button, Qt.MouseButton.LeftButton)  # trained: a button more
    qtbot.waitUntil(lambda: len(window.document.runs) == 1, timeout=120_000)
    qtbot.waitUntil(lambda: window.view.viewport().width() < wide - 20)  # the dock widened
    assert _all_in_view(window) == []
