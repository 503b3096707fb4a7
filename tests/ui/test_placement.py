"""New nodes land in free space: from the palette near the view's centre, copies beside their
originals; never on top of another node (issue: nodes and wires hidden under new ones)."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtTest import QTest

from ui.canvas.placement import clear_offset


def _overlaps(window) -> list[tuple[str, str]]:
    items = window.scene.node_items
    return [
        (a, b)
        for a, b in itertools.combinations(items, 2)
        if items[a]
        .sceneBoundingRect()
        .adjusted(8, 8, -8, -8)
        .intersects(items[b].sceneBoundingRect().adjusted(8, 8, -8, -8))
    ]


def _double_click_palette(window, type_name: str) -> None:
    tree = window.palette.tree
    item = window.palette.items[type_name]
    tree.scrollToItem(item)
    point = tree.visualItemRect(item).center()
    # a person's double-click: a click, then the second press that makes it double
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=point)
    QTest.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_palette_double_clicks_put_nodes_in_free_space_near_the_centre(window, qtbot):
    window.view.centerOn(window.scene.node_items["reader"])  # the centre is taken
    before = set(window.document.graph.nodes)
    for count in range(1, 4):
        _double_click_palette(window, "gru")
        assert len(set(window.document.graph.nodes) - before) == count
    added = set(window.document.graph.nodes) - before
    assert len(added) == 3
    assert _overlaps(window) == []
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    for node_id in added:
        item_centre = window.scene.node_items[node_id].sceneBoundingRect().center()
        assert (item_centre - centre).manhattanLength() < 600  # near, not flung far away


def test_ctrl_d_puts_copies_beside_their_originals(window, qtbot):
    with qtbot.waitActive(window):
        window.activateWindow()
    graph = window.document.graph
    for round_ in range(2):
        window.scene.select_nodes(["scores"])
        window.view.setFocus()
        QTest.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
        assert f"scores_{round_ + 1}" in graph
    assert _overlaps(window) == []
    original, first = graph.node("scores").position, graph.node("scores_1").position
    assert first[0] > original[0] and abs(first[1] - original[1]) <= 200  # beside it


def test_pasting_twice_covers_nothing(window):
    window.scene.select_nodes(["embed", "reader"])
    window.copy()
    window.paste()
    window.paste()
    assert len(window.document.graph) == 9
    assert _overlaps(window) == []


def test_clear_offset_moves_only_as_far_as_needed():
    taken = [QRectF(0, 0, 100, 100)]
    assert clear_offset(QRectF(300, 0, 50, 50), taken) == QPointF(0, 0)
    moved = clear_offset(QRectF(10, 10, 50, 50), taken, step=20, margin=20)
    landed = QRectF(10, 10, 50, 50).translated(moved)
    assert not landed.intersects(taken[0].adjusted(-20, -20, 20, 20))
    assert moved.manhattanLength() <= 200
