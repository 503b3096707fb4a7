"""Issue 23, item 3: quick-add from the keyboard. Typing (or Tab) on the canvas opens a search
at the cursor and Enter places the node there; dropping a dragged wire on empty canvas offers
the node types that can take it and wires the one chosen (one undo step)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from .conftest import drag, port_point


def _active(window, qtbot):
    with qtbot.waitActive(window):
        window.activateWindow()
    window.view.setFocus()


def _empty_spot(window) -> QPointF:
    """A point of the canvas in view with no node near it (below the graph)."""
    cards = window.scene.items_rect()
    return QPointF(cards.center().x(), cards.bottom() + 120)


def test_typing_on_the_canvas_opens_a_search_and_enter_places_the_node_there(window, qtbot):
    _active(window, qtbot)
    view = window.view
    view.set_zoom(0.8)
    spot = _empty_spot(window)
    view.centerOn(spot)
    QTest.mouseMove(view.viewport(), view.mapFromScene(spot))
    steps = window.document.undo_stack.count()
    QTest.keyClick(view, Qt.Key.Key_G, Qt.KeyboardModifier.NoModifier)  # "g"
    box = window.quick_add
    assert box.isVisible() and box.edit.text() == "g" and box.edit.hasFocus()
    assert box.current() == "gru"  # a title that starts with it comes first
    QTest.keyClicks(box.edit, "ru")
    QTest.keyClick(box.edit, Qt.Key.Key_Return)
    assert not box.isVisible()
    (new,) = [n for n in window.document.graph if n.type_name == "gru"]
    card = window.scene.node_items[new.id].sceneBoundingRect()
    assert card.adjusted(-60, -60, 60, 60).contains(spot)  # there, beside the cursor
    assert window.document.undo_stack.count() == steps + 1
    assert window.scene.selected_node_ids() == [new.id]


def test_tab_opens_the_search_empty_arrows_choose_and_escape_closes(window, qtbot):
    _active(window, qtbot)
    QTest.keyClick(window.view, Qt.Key.Key_Tab)
    box = window.quick_add
    assert box.isVisible() and box.edit.text() == "" and box.list.count() >= 10
    first = box.current()
    QTest.keyClick(box.edit, Qt.Key.Key_Down)
    assert box.current() != first
    QTest.keyClick(box.edit, Qt.Key.Key_Escape)
    assert not box.isVisible() and window.document.undo_stack.count() == 0


def test_a_wire_dropped_on_empty_canvas_offers_what_can_take_it_and_wires_it(window, qtbot):
    _active(window, qtbot)
    view = window.view
    graph = window.document.graph
    spot = _empty_spot(window)
    view.set_zoom(0.8)
    view.centerOn((port_point(window, "reader", "h_n", False) + spot) / 2)
    steps = window.document.undo_stack.count()
    drag(view, port_point(window, "reader", "h_n", False), spot)  # a vector, let go on nothing
    box = window.quick_add
    assert box.isVisible() and "reader.h_n" in box.heading.text()
    offered = {box.list.item(i).data(Qt.ItemDataRole.UserRole + 1) for i in range(box.list.count())}
    assert {"dense", "output", "repeat"} <= offered
    assert "embedding" not in offered and "sequence_input" not in offered  # cannot take it
    QTest.keyClicks(box.edit, "dense")
    QTest.keyClick(box.edit, Qt.Key.Key_Return)
    (new,) = [n.id for n in graph if n.type_name == "dense" and n.id != "scores"]
    assert [(e.src_node, e.src_port) for e in graph.edges_into(new)] == [("reader", "h_n")]
    assert window.document.undo_stack.count() == steps + 1  # the node and its wire: one step
    QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert new not in graph and len(graph.edges) == 4


def test_a_wires_choices_are_found_once_a_gesture_and_again_after_an_edit(window, monkeypatch):
    """The box's choices, the type chosen and the node added ask the same question: one search
    (a copy of the graph and a trial node of every type) answers the three."""
    document = window.document
    searches = []
    search = type(document)._find_wiring_choices

    def counted(self, *wire):
        searches.append(wire)
        return search(self, *wire)

    monkeypatch.setattr(type(document), "_find_wiring_choices", counted)
    offered = document.wiring_choices("scores", "x", True)
    assert offered == {} and document.wiring_choices("scores", "x", True) == {}  # fed already
    assert len(searches) == 1
    document.disconnect(document.graph.edges_into("scores", "x"))
    offered = document.wiring_choices("scores", "x", True)
    assert len(searches) == 2 and offered["lstm"] == "y"
    offered["lstm"] = "changed"  # the caller's own copy
    new = document.add_wired_node("lstm", (0.0, 0.0), "scores", "x", True)
    assert len(searches) == 2 and document.graph.edges_into("scores", "x")[0].src_node == new
