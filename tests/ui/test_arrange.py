"""Issue 23, item 2: one command (one undo step) lays the graph out left to right: inputs
left, outputs right, feedback wires routed below, no node over another."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QPoint, QPointF, QRectF, QSizeF, Qt
from PySide6.QtTest import QTest

from rnn_builder.files.project import Project
from rnn_builder.files.templates import new_project, template_names
from rnn_builder.graph.arrange import apply_arrangement, arrange
from rnn_builder.graph.model import Graph
from ui.canvas.style import NODE_WIDTH

from .conftest import drag, title_point


def _cards(window) -> dict[str, QRectF]:
    return {
        node_id: QRectF(item.pos(), QSizeF(NODE_WIDTH, item.height))
        for node_id, item in window.scene.node_items.items()
    }


def _laid_out(window) -> None:
    """Inputs left of every other node, outputs in the rightmost column (a Delay may stand
    under one there), no card over another."""
    graph, cards = window.document.graph, _cards(window)
    inputs = {n.id for n in graph if graph.node_type(n.id).is_input}
    outputs = {n.id for n in graph.outputs()}
    others = set(cards) - inputs - outputs
    for node in inputs:
        assert all(cards[node].right() < cards[o].left() for o in others | outputs)
    for node in outputs:
        assert all(cards[node].left() >= cards[o].left() for o in others | inputs)
        assert all(cards[node].left() > cards[o].right() for o in inputs)
    for a, b in itertools.combinations(cards, 2):
        assert not cards[a].intersects(cards[b]), (a, b)


def test_arrange_lays_a_jumbled_graph_out_in_one_undo_step(make_window, qtbot):
    window = make_window("encoder_decoder_feedback")
    with qtbot.waitActive(window):
        window.activateWindow()
    view = window.view
    # jumble it with the mouse: the output to the far left, over the first node
    window.view.set_zoom(0.5)
    window.view.centerOn(window.scene.node_items["embed"])
    start = title_point(window, "digits")
    drag(view, start, title_point(window, "words") + QPointF(10, 10))
    drag(view, title_point(window, "previous_digit"), title_point(window, "embed"))
    jumbled = {n.id: n.position for n in window.document.graph}
    steps = window.document.undo_stack.count()
    QTest.keyClick(view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # Edit → Arrange
    assert window.document.undo_stack.count() == steps + 1
    assert window.document.undo_stack.undoText() == "Arrange"
    _laid_out(window)
    # the wire back from the Delay to the decoder passes below every node it spans
    (back,) = [e for e in window.scene.edge_items if e.src_node == "previous_digit"]
    wire = window.scene.edge_items[back].path().boundingRect()
    cards = _cards(window)
    spanned = [r for r in cards.values() if r.right() > wire.left() and r.left() < wire.right()]
    assert wire.bottom() > max(r.bottom() for r in spanned)
    assert all(
        view.mapToScene(view.viewport().rect()).boundingRect().contains(r) for r in cards.values()
    )
    QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one undo step
    assert {n.id: n.position for n in window.document.graph} == jumbled


def test_arrange_from_the_edit_menu(window, qtbot):
    old = window.document.graph.node("sentiment").position
    window.document.move({"sentiment": (old, (-400.0, 600.0))}, 99)
    menu = window.menuBar().actions()[1].menu()  # Edit
    assert window.arrange_action in menu.actions()
    window.arrange_action.trigger()
    _laid_out(window)


def test_every_template_is_laid_out_as_arrange_lays_it_out():
    for name in template_names():
        graph = new_project(name).graph
        assert {n.id: n.position for n in graph} == arrange(graph)


def _translators(copies: int) -> Graph:
    """``copies`` translators side by side, each feeding its digits back through a Delay."""
    graph = Graph()
    for k in range(copies):
        ids = {name: f"{name}{k}" for name in ("words", "embed", "encoder", "decoder")}
        ids |= {name: f"{name}{k}" for name in ("scores", "digits", "previous")}
        graph.add_node(
            "sequence_input", node_id=ids["words"], params={"vocabulary": 32, "steps": 6}
        )
        graph.add_node(
            "embedding", node_id=ids["embed"], params={"vocabulary": 32, "dimension": 16}
        )
        graph.add_node("gru", node_id=ids["encoder"], params={"hidden_size": 64})
        graph.add_node("gru", node_id=ids["decoder"], params={"hidden_size": 64})
        graph.add_node("dense", node_id=ids["scores"], params={"units": 12})
        graph.add_node("output", node_id=ids["digits"], params={"target": "digits"})
        graph.add_node(
            "delay", node_id=ids["previous"], params={"initial": "start_token", "steps": 4}
        )
        graph.connect(ids["words"], "y", ids["embed"], "tokens")
        graph.connect(ids["embed"], "y", ids["encoder"], "x")
        graph.connect(ids["encoder"], "h_n", ids["decoder"], "h_0")
        graph.connect(ids["decoder"], "y", ids["scores"], "x")
        graph.connect(ids["scores"], "y", ids["digits"], "x")
        graph.connect(ids["scores"], "y", ids["previous"], "x")
        graph.connect(ids["previous"], "y", ids["decoder"], "x")
    apply_arrangement(graph)
    return graph


def _wires_back_below_what_they_span(window) -> None:
    """Each wire back out of a Delay passes below every card between its two ends."""
    cards = _cards(window)
    backwards = [e for e in window.scene.edge_items if e.src_node.startswith("previous")]
    assert backwards
    for edge in backwards:
        path = window.scene.edge_items[edge].path()
        start, end = path.elementAt(0), path.elementAt(path.elementCount() - 1)
        assert end.x < start.x
        spanned = [r for r in cards.values() if r.left() < start.x and r.right() > end.x]
        assert path.boundingRect().bottom() > max(r.bottom() for r in spanned), edge


def test_wires_back_pass_under_nodes_dragged_below_them_at_every_mouse_move(make_window, qtbot):
    """The wires back through many Delays are re-routed once per mouse move, not once per
    node moved: each frame of a drag still draws every one of them under the nodes it spans,
    the dragged ones too."""
    window = make_window(project=Project(graph=_translators(6)))
    view, scene = window.view, window.scene
    view.set_zoom(0.3)
    view.centerOn(scene.node_items["scores5"])
    _wires_back_below_what_they_span(window)
    scene.select_nodes(["scores2", "encoder3"])  # between every wire back's ends, or not
    viewport = view.viewport()
    start = view.mapFromScene(title_point(window, "scores2"))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 6):
        QTest.mouseMove(viewport, start + QPoint(0, 60 * step))
        _wires_back_below_what_they_span(window)
    assert scene.node_items["scores2"].pos().y() > scene.node_items["scores5"].pos().y()
    QTest.mouseRelease(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(0, 300)
    )
    _wires_back_below_what_they_span(window)
    window.document.undo_stack.undo()  # the nodes go back up, and the wires back with them
    _wires_back_below_what_they_span(window)
