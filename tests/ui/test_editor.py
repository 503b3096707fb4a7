"""The editor, driven like a user drives it: drops from the palette, wiring with the mouse,
moving, deleting, undo and redo, copy and paste, the inspector, the problems panel, files,
the unrolled view, pictures."""

from __future__ import annotations

import json
import os
from typing import ClassVar

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDoubleSpinBox, QSpinBox

from rnn_builder.files.serialization import dumps, load, save
from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.graph.model import Edge
from rnn_builder.graph.unroll import unroll
from ui.canvas.view import NODE_MIME
from ui.editor.palette import TYPE_ROLE
from ui.training.unrolled_items import CopyItem

from .conftest import click, drag, port_point, title_point


def snapshot(window):
    """The model and the scene, to compare states before and after undo."""
    graph = window.document.graph
    model = json.loads(dumps(window.document.project))["graph"]
    scene = {
        "nodes": {n: (i.pos().x(), i.pos().y()) for n, i in window.scene.node_items.items()},
        "edges": sorted(map(tuple, window.scene.edge_items)),
    }
    assert set(scene["nodes"]) == set(graph.nodes)
    return model, scene


def drop_from_palette(window, type_name: str, scene_point: QPointF) -> None:
    """Drag a node type out of the palette and drop it on the canvas: the palette's own drag
    data, delivered to the canvas as drag-enter, drag-move and drop events."""
    palette = window.palette
    data = palette.tree.mimeData([palette.items[type_name]])
    viewport = window.view.viewport()
    point = window.view.mapFromScene(scene_point)
    actions = Qt.DropAction.CopyAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for event in (
        QDragEnterEvent(point, actions, data, buttons, modifiers),
        QDragMoveEvent(point, actions, data, buttons, modifiers),
        QDropEvent(QPointF(point), actions, data, buttons, modifiers),
    ):
        QApplication.sendEvent(viewport, event)


@pytest.mark.parametrize("type_name", ["sequence_input", "lstm", "dense", "repeat", "output"])
def test_dragging_a_node_of_each_category_from_the_palette(window, type_name):
    graph = window.document.graph
    before = set(graph.nodes)
    drop_from_palette(window, type_name, QPointF(123, 456))
    (added,) = set(graph.nodes) - before
    node = graph.node(added)
    assert node.type_name == type_name
    assert node.position == (120.0, 460.0)  # snapped to the grid
    assert window.scene.selected_node_ids() == [added]
    assert window.inspector.node_id == added
    window.document.undo_stack.undo()
    assert set(graph.nodes) == before and added not in window.scene.node_items


def test_palette_filter_and_descriptions(window):
    palette = window.palette
    QTest.keyClicks(palette.filter, "gate")
    assert set(palette.visible_types()) == {"lstm", "gru"}  # "gated" in their descriptions
    palette.filter.clear()
    assert len(palette.visible_types()) == 14
    item = palette.items["delay"]
    assert "Delay" in item.toolTip(0) and item.child(0).text(0).startswith("Shifts")
    assert item.data(0, TYPE_ROLE) == "delay"
    assert palette.tree.mimeData([item]).data(NODE_MIME) == b"delay"


def test_wiring_by_dragging_between_ports(window):
    graph = window.document.graph
    graph_edges = set(graph.edges)
    window.document.add_node("dense", (600.0, 300.0))
    new = window.scene.selected_node_ids() or [n for n in graph.nodes if n.startswith("dense")]
    dense = new[0]
    drag(
        window.view, port_point(window, "reader", "y", False), port_point(window, dense, "x", True)
    )
    assert Edge("reader", "y", dense, "x") in graph.edges
    assert Edge("reader", "y", dense, "x") in window.scene.edge_items
    # from an input to an output works too
    window.document.add_node("dense", (600.0, 500.0))
    other = next(n for n in graph.nodes if n.startswith("dense") and n != dense)
    drag(
        window.view,
        port_point(window, other, "x", True),
        port_point(window, "reader", "h_n", False),
    )
    assert Edge("reader", "h_n", other, "x") in graph.edges
    assert set(graph.edges) - graph_edges == {
        Edge("reader", "y", dense, "x"),
        Edge("reader", "h_n", other, "x"),
    }


def test_an_incompatible_wire_is_refused_with_the_reason(window, qtbot):
    graph = window.document.graph
    before = list(graph.edges)
    depth = window.document.undo_stack.count()
    with qtbot.waitSignal(window.scene.message) as said:
        # a vector (h_n) cannot go into the LSTM's sequence input x of ... the embedding
        drag(
            window.view,
            port_point(window, "reader", "h_n", False),
            port_point(window, "embed", "tokens", True),
        )
    assert "Cannot wire this" in said.args[0] and "already receives" in said.args[0]
    assert graph.edges == before and window.document.undo_stack.count() == depth
    window.document.add_node("lstm", (0.0, 400.0))
    lstm = next(n for n in graph.nodes if n.startswith("lstm"))
    with qtbot.waitSignal(window.scene.message) as said:
        drag(
            window.view,
            port_point(window, "reader", "h_n", False),
            port_point(window, lstm, "x", True),
        )
    assert "gives a vector" in said.args[0]
    assert Edge("reader", "h_n", lstm, "x") not in graph.edges


def test_compatible_ports_light_up_while_dragging(window):
    viewport = window.view.viewport()
    start = window.view.mapFromScene(port_point(window, "reader", "y", False))
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, start + QPoint(30, 30))
    scores = window.scene.node_items["scores"].inputs["x"]
    embed = window.scene.node_items["embed"].inputs["tokens"]
    assert scores.highlight == "no"  # already fed
    assert embed.highlight == "no"
    QTest.mouseRelease(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(30, 30)
    )
    assert scores.highlight is None


def test_picking_a_wire_up_replugs_it_or_drops_it(window):
    graph = window.document.graph
    window.document.add_node("dense", (600.0, 420.0))
    spare = next(n for n in graph.nodes if n.startswith("dense"))
    # pick h_n's wire off scores.x and plug it into the new dense
    drag(window.view, port_point(window, "scores", "x", True), port_point(window, spare, "x", True))
    assert Edge("reader", "h_n", spare, "x") in graph.edges
    assert Edge("reader", "h_n", "scores", "x") not in graph.edges
    window.document.undo_stack.undo()  # one step puts it back
    assert Edge("reader", "h_n", "scores", "x") in graph.edges
    assert Edge("reader", "h_n", spare, "x") not in graph.edges
    # drop it on empty canvas: the wire goes
    start = port_point(window, "scores", "x", True)
    drag(window.view, start, start + QPointF(0, 260))
    assert Edge("reader", "h_n", "scores", "x") not in graph.edges
    assert not window.scene.node_items["reader"].outputs["h_n"].connected


def test_move_delete_undo_redo_restore_exact_states(window, qtbot):
    stack = window.document.undo_stack
    original = snapshot(window)
    # move two nodes with one drag (select both, drag one)
    click(window.view, title_point(window, "scores"))
    click(window.view, title_point(window, "reader"), Qt.KeyboardModifier.ControlModifier)
    assert set(window.scene.selected_node_ids()) == {"reader", "scores"}
    drag(
        window.view,
        title_point(window, "reader"),
        title_point(window, "reader") + QPointF(60, 100),
        steps=10,
    )
    moved = snapshot(window)
    assert window.document.graph.node("reader").position != tuple(
        original[0]["nodes"][2]["position"]
    )
    assert stack.count() == 1  # one drag, one step
    window.scene.select_nodes(["embed"])
    window.delete_action.trigger()
    deleted = snapshot(window)
    assert "embed" not in window.document.graph
    stack.undo()
    assert snapshot(window) == moved
    stack.undo()
    assert snapshot(window) == original
    stack.redo()
    assert snapshot(window) == moved
    stack.redo()
    assert snapshot(window) == deleted


def test_keyboard_shortcuts_in_the_active_window(window, qtbot):
    with qtbot.waitActive(window):
        window.activateWindow()
    window.scene.select_nodes(["scores"])
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert "scores" not in window.document.graph
    QTest.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "scores" in window.document.graph
    window.scene.select_nodes(["scores"])
    QTest.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert "scores_1" in window.document.graph
    QTest.keyClick(window.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(window.scene.selected_node_ids()) == len(window.document.graph)


def test_copy_paste_within_and_between_windows(window, make_window):
    graph = window.document.graph
    window.scene.select_nodes(["embed", "reader"])
    window.copy()
    window.paste()
    pasted = window.scene.selected_node_ids()
    assert len(pasted) == 2 and set(pasted).isdisjoint({"embed", "reader"})
    copy_of_embed = next(n for n in pasted if graph.node(n).type_name == "embedding")
    copy_of_reader = next(n for n in pasted if graph.node(n).type_name == "lstm")
    assert Edge(copy_of_embed, "y", copy_of_reader, "x") in graph.edges  # the wire between
    # the copies keep their layout, moved as one to free space (tests/ui/test_placement.py)
    moved = [
        (
            graph.node(copy).position[0] - graph.node(source).position[0],
            graph.node(copy).position[1] - graph.node(source).position[1],
        )
        for copy, source in ((copy_of_embed, "embed"), (copy_of_reader, "reader"))
    ]
    assert moved[0] == moved[1] and moved[0] != (0.0, 0.0)
    other = make_window("one_to_one")
    other.paste()
    assert {other.document.graph.node(n).type_name for n in other.scene.selected_node_ids()} == {
        "embedding",
        "lstm",
    }
    window.scene.select_nodes(["scores"])
    window.cut()
    assert "scores" not in graph
    window.paste()
    assert any(graph.node(n).type_name == "dense" for n in window.scene.selected_node_ids())


def test_a_pasted_copy_keeps_its_name_only_where_no_node_has_it(window, make_window):
    """Names are unique: a copy of the LSTM called 'encoder' pasted beside it is named after
    its own id; pasted into another window it is 'encoder' still."""
    graph = window.document.graph
    window.document.rename("reader", "encoder")
    window.document.rename("embed", "reader_1")  # the id the copy would take first
    window.scene.select_nodes(["reader"])
    window.copy()
    window.paste()
    (copy,) = window.scene.selected_node_ids()
    assert graph.node(copy).name == copy == "reader_2"
    other = make_window("one_to_one")
    other.paste()
    (copy,) = other.scene.selected_node_ids()
    assert other.document.graph.node(copy).name == "encoder"


def _copied(window, node_ids, change):
    """The clipboard holding ``node_ids`` copied, as ``change`` alters its JSON (nodes copied
    from elsewhere, another version, a hand-edited text)."""
    import ui.editor.clipboard

    window.scene.select_nodes(node_ids)
    window.copy()
    data = json.loads(ui.editor.clipboard.text())
    change(data)
    ui.editor.clipboard.put(json.dumps(data))


def test_pasted_nodes_whose_ids_the_core_refuses_get_fresh_ones(window):
    def refused_ids(data):
        renamed = {"scores": "caf\u00e9", "sentiment": "loss"}  # ASCII only; no Output 'loss'
        for node in data["nodes"]:
            node["id"] = renamed[node["id"]]
        data["edges"] = [[renamed[e[0]], e[1], renamed[e[2]], e[3]] for e in data["edges"]]

    graph = window.document.graph
    before = set(graph.nodes)
    _copied(window, ["scores", "sentiment"], refused_ids)
    window.paste()
    assert window.errors == []
    pasted = set(graph.nodes) - before
    assert len(pasted) == 2 and "loss" not in pasted
    dense = next(n for n in pasted if graph.node(n).type_name == "dense")
    output = next(n for n in pasted if graph.node(n).type_name == "output")
    assert dense.isascii() and Edge(dense, "y", output, "x") in graph.edges
    window.document.undo_stack.undo()
    assert set(graph.nodes) == before


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d["edges"][0].__setitem__(3, "nope"), "no input port 'nope'"),
        (lambda d: d["nodes"][1].update(type="transformer"), "transformer"),
        (lambda d: d["nodes"][1]["params"].update(units="many"), "whole number"),
    ],
)
def test_a_clipboard_the_graph_refuses_is_one_message_and_no_edit(window, change, words):
    """Checked before the undo command runs: one that failed halfway was left on the stack
    (Qt swallowed its exception), with no message."""
    graph = window.document.graph
    before, steps = set(graph.nodes), window.document.undo_stack.count()
    _copied(window, ["reader", "scores"], change)
    window.paste()
    title, message = window.errors[-1]
    assert title == "Cannot paste" and words in message
    assert set(graph.nodes) == before and window.document.undo_stack.count() == steps


def test_inspector_edits_parameters_and_refuses_invalid_values(window, qtbot):
    graph = window.document.graph
    window.scene.select_nodes(["reader"])
    inspector = window.inspector
    hidden = inspector.findChild(QSpinBox, "param_hidden_size")
    assert hidden.value() == 32 and hidden.minimum() == 1
    hidden.setValue(48)
    assert graph.node("reader").params["hidden_size"] == 48
    qtbot.waitUntil(lambda: window.parameters_label.text() != "7,106 parameters")
    hidden.setValue(0)  # the spin box cannot go below 1
    assert hidden.value() == 1 and graph.node("reader").params["hidden_size"] == 1
    window.document.undo_stack.undo()
    assert hidden.value() == 48  # the editor follows undo
    bias = inspector.findChild(QDoubleSpinBox, "param_forget_bias")
    bias.setValue(2.5)
    assert graph.node("reader").params["forget_bias"] == 2.5
    name = inspector.editors["name"]
    name.setText("")
    name.editingFinished.emit()
    assert graph.node("reader").name == "reader"
    assert "non-empty" in inspector.error.text()
    name.setText("encoder")
    name.editingFinished.emit()
    assert graph.node("reader").name == "encoder"


def test_undoing_a_parameter_validates_the_graph_as_it_is_again(window, qtbot):
    """Undo put the old value back without counting it as an edit, so validation gave the
    report of the undone value (its shapes, its parameter count) until the next edit."""
    hidden = window.inspector
    window.scene.select_nodes(["reader"])
    before = window.parameters_label.text()
    hidden.findChild(QSpinBox, "param_hidden_size").setValue(48)
    qtbot.waitUntil(lambda: window.parameters_label.text() != before)
    window.undo_action.trigger()
    assert window.document.graph.node("reader").params["hidden_size"] == 32
    assert window.parameters_label.text() == before
    assert window.scene.report.shapes.outputs[("reader", "h_n")].width == 32


def test_a_problem_shows_in_the_panel_and_on_the_node_and_clicking_selects_it(window, qtbot):
    problems = window.problems
    assert problems.topLevelItemCount() == 0 and "No problems" in problems.empty_text
    blank = problems.viewport().grab().toImage()
    problems.empty_text = ""
    problems.viewport().repaint()
    assert problems.viewport().grab().toImage() != blank  # the words are drawn on the list
    window.document.disconnect([Edge("embed", "y", "reader", "x")])
    qtbot.waitUntil(lambda: problems.topLevelItemCount() > 0)
    assert problems.empty_text == ""
    item = problems.topLevelItem(0)
    assert "has no input" in item.text(1) and item.text(2) == "reader"
    assert window.scene.node_items["reader"].problems
    assert "has no input" in window.scene.node_items["reader"].toolTip()
    assert window.layout_label.text() == "1 problem to fix"
    window.scene.clearSelection()
    rect = problems.visualItemRect(item)
    QTest.mouseClick(
        problems.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        rect.center(),
    )
    assert window.scene.selected_node_ids() == ["reader"]


def test_template_gallery_opens_a_template(window, monkeypatch):
    from ui.editor.gallery import NAME_ROLE, TemplateGallery

    gallery = TemplateGallery(window)
    names = [gallery.list.item(i).data(NAME_ROLE) for i in range(gallery.list.count())]
    assert names == list(TEMPLATES)
    text = gallery.list.item(names.index("encoder_decoder_feedback")).text()
    assert "Encoder-decoder with feedback" in text and "machine translation" in text.lower()
    monkeypatch.setattr(window, "choose_template", lambda: "bidirectional_tagger")
    window.new_project()
    assert window.document.project.template == "bidirectional_tagger"
    assert set(window.scene.node_items) == set(window.document.graph.nodes)
    assert window.document.undo_stack.count() == 0


def test_save_close_reopen_gives_the_same_graph_and_positions(window, make_window, tmp_path):
    window.document.move({"reader": ((500.0, 0.0), (520.0, 40.0))}, 1)
    path = tmp_path / "mine.json"
    assert window.save_as(path)
    assert not window.document.modified and "mine.json" in window.windowTitle()
    saved = dumps(window.document.project)
    window.close()
    again = make_window()
    assert again.open_project(path)
    assert dumps(again.document.project) == saved
    assert again.scene.node_items["reader"].pos() == QPointF(520.0, 40.0)
    assert str(path.resolve()) in again.recent_files()


def test_a_corrupt_file_shows_an_error_and_keeps_the_current_project(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "rnn-builder-project", "version": 2, "graph": {"nodes": 3}}')
    before = dumps(window.document.project)
    assert not window.open_project(bad)
    title, message = window.errors[-1]
    assert title == "Cannot open the project" and "bad.json' is damaged: graph: " in message
    assert dumps(window.document.project) == before
    assert set(window.scene.node_items) == set(window.document.graph.nodes)


def test_unsaved_changes_are_asked_about(window, monkeypatch, tmp_path):
    window.document.add_node("dense", (0.0, 400.0))
    assert window.document.modified and window.isWindowModified()
    asked = []
    monkeypatch.setattr(window, "ask_to_save", lambda: asked.append(1) or "cancel")
    window.new_project("one_to_one")
    assert asked and window.document.project.template == "many_to_one"  # cancelled
    monkeypatch.setattr(window, "ask_to_save", lambda: "save")
    monkeypatch.setattr(window, "choose_save_path", lambda *a: str(tmp_path / "kept.json"))
    window.new_project("one_to_one")
    assert (tmp_path / "kept.json").exists()
    assert load(tmp_path / "kept.json").template == "many_to_one"
    assert window.document.project.template == "one_to_one"


def test_recovery_copy_of_unsaved_work(window):
    document = window.document
    assert document.write_recovery() is None  # nothing unsaved
    document.add_node("gru", (0.0, 400.0))
    path = document.write_recovery()
    assert path.exists()
    (recovery,) = type(document).leftover_recoveries()
    assert "gru_1" in recovery.project.graph and recovery.original is None
    assert recovery.weights is None and recovery.runs == []  # nothing trained
    window.close()
    assert not path.exists()  # a clean close leaves nothing to recover


def test_unrolled_view_draws_the_cores_unrolled_dag(window, qtbot):
    window.steps.setValue(6)
    window.unrolled_action.trigger()
    assert window.stack.currentWidget() is window.unrolled_view
    unrolled = unroll(window.document.graph, 6)
    copies = [i for i in window.unrolled_scene.items() if isinstance(i, CopyItem)]
    assert len(copies) == unrolled.node_count == 3 * 6 + 2
    assert len(window.unrolled_scene.edge_items) == unrolled.edge_count
    reader = [c for c in copies if c.key.node == "reader"]
    assert sorted(c.key.t for c in reader) == list(range(6))
    xs = sorted({c.pos().x() for c in reader})
    assert len(xs) == 6  # time copies in columns
    assert all(c.shared for c in reader) and "shares its" in reader[0].toolTip()
    # selection goes both ways
    window.scene.select_nodes(["reader"])
    assert all(c.isSelected() for c in reader)
    window.unrolled_scene.clearSelection()
    window.unrolled_scene.copies[reader[0].key].setSelected(True)
    assert window.scene.selected_node_ids() == ["reader"]
    window.steps.setValue(3)
    assert len([i for i in window.unrolled_scene.items() if isinstance(i, CopyItem)]) == 11
    window.unrolled_action.trigger()
    assert window.stack.currentWidget() is window.view


def test_pictures_png_and_svg(window, tmp_path):
    png, svg = tmp_path / "graph.png", tmp_path / "graph.svg"
    assert window.export_picture(png)
    image = QImage(str(png))
    assert image.width() > 500 and image.height() > 100
    colors = {
        image.pixelColor(x, y).name()
        for x in range(0, image.width(), 5)
        for y in range(0, image.height(), 5)
    }
    assert len(colors) > 10
    assert window.export_picture(svg)
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "reader" in text
    window.unrolled_action.trigger()
    unrolled_png = tmp_path / "unrolled.png"
    assert window.export_picture(unrolled_png)
    unrolled_image = QImage(str(unrolled_png))
    assert unrolled_image.width() > 500 and unrolled_image.size() != image.size()
    assert not window.export_picture(tmp_path / "missing" / "x.png")
    assert window.errors[-1][0] == "Cannot export the picture"


def test_dark_theme_darkens_the_canvas(window):
    from ui.canvas.style import canvas_colors

    light = canvas_colors()["background"].lightness()
    window.apply_theme("dark")
    try:
        assert canvas_colors()["background"].lightness() < 60 < light
        assert window.settings.value("theme") == "dark"
    finally:
        window.apply_theme("system")
    assert canvas_colors()["background"].lightness() == light


def test_every_template_opens_in_the_editor_and_unrolls(window):
    for name in TEMPLATES:
        window.document.replace(new_project(name), None)
        assert set(window.scene.node_items) == set(window.document.graph.nodes)
        assert window.scene.report.ok
    window.unrolled_action.trigger()
    assert window.unrolled_scene.copies


def test_saving_to_an_unwritable_place_is_reported(window, tmp_path):
    target = tmp_path / "nowhere" / "p.json"
    assert not window.save_as(target)
    assert window.errors[-1][0] == "Cannot save" and "folder does not exist" in window.errors[-1][1]
    assert window.document.path is None


def test_drop_of_foreign_data_is_ignored(window):
    data = QMimeData()
    data.setText("not a node")
    point = window.view.mapFromScene(QPointF(0, 0))
    event = QDropEvent(
        QPointF(point),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    before = len(window.document.graph)
    QApplication.sendEvent(window.view.viewport(), event)
    assert len(window.document.graph) == before


def test_saved_positions_survive_a_round_trip_through_the_file(window, tmp_path):
    path = save(window.document.project, tmp_path / "p.json")
    assert load(path).graph.node("reader").position == window.document.graph.node("reader").position


class _Yes:
    """A message box that answers Yes and remembers what it was asked."""

    class StandardButton:
        Yes, No = 1, 2

    asked: ClassVar[list[str]] = []

    @classmethod
    def question(cls, _parent, _title, text):
        cls.asked.append(text)
        return cls.StandardButton.Yes


def test_after_a_crash_the_unsaved_work_is_offered_back(make_window):
    import main

    crashed = make_window("one_to_one")
    crashed.document.add_node("gru", (0.0, 300.0))
    crashed.document.write_recovery()  # ... and the session dies here, without closing

    fresh = make_window("many_to_one")
    main.offer_recovery(fresh, _Yes)
    assert "Two spirals" in _Yes.asked[-1]
    assert "gru_1" in fresh.document.graph and fresh.document.modified
    # the copy is kept, as the recovered work's own, until that work is saved (issue 23)
    (kept,) = fresh.document.leftover_recoveries()
    assert kept.file == fresh.document.recovery_path() and "gru_1" in kept.project.graph


def test_a_crash_after_training_loses_neither_the_weights_nor_the_runs(make_window, monkeypatch):
    import main
    import ui.editor.document
    from rnn_builder.engine.executor import Executor
    from rnn_builder.training.curve import LossCurve
    from rnn_builder.training.runs import RunRecord

    crashed = make_window("many_to_one")
    document = crashed.document
    weights = Executor(document.graph, seed=7).get_parameters()  # as if trained
    document.runs.append(
        RunRecord(1, "run 1: LSTM 32", {"epochs": 3}, LossCurve.from_points([1, 2], [0.7, 0.5]))
    )
    document.set_weights(weights)
    written = []
    real_write = ui.editor.document.atomic_write
    monkeypatch.setattr(
        ui.editor.document,
        "atomic_write",
        lambda path, data: (written.append(path), real_write(path, data)),
    )
    copy = document.write_recovery()
    document.write_recovery()  # nothing new: the weights are not written again
    assert [p.suffix for p in written] == [".npz", ".json", ".json"]
    assert copy.with_suffix(".npz").exists()
    # ... and the session dies here, without closing

    fresh = make_window("one_to_one")
    main.offer_recovery(fresh, _Yes)
    assert "trained weights" in _Yes.asked[-1]
    recovered = fresh.document
    assert recovered.modified and recovered.project.template == "many_to_one"
    assert set(recovered.weights) == set(weights)
    for name, value in weights.items():
        np.testing.assert_array_equal(recovered.weights[name], value)
    assert [run.label for run in recovered.runs] == ["run 1: LSTM 32"]
    assert fresh.live.plots.runs.count() == 1  # and listed for comparing
    assert recovered.runs[0].curve.mean == [0.7, 0.5]
    # kept as the recovered work's copy, weights included, until it is saved (issue 23)
    assert [r.file for r in recovered.leftover_recoveries()] == [copy]
    assert recovered.recovery_path() == copy and copy.with_suffix(".npz").exists()


def test_damaged_recovered_weights_still_recover_the_graph(make_window):
    import main
    from rnn_builder.engine.executor import Executor

    crashed = make_window("many_to_one")
    crashed.document.set_weights(Executor(crashed.document.graph, seed=7).get_parameters())
    copy = crashed.document.write_recovery()
    copy.with_suffix(".npz").write_bytes(b"PK\x03\x04 not a zip at all")

    fresh = make_window("one_to_one")
    main.offer_recovery(fresh, _Yes)
    assert fresh.document.project.template == "many_to_one" and fresh.document.modified
    assert fresh.document.weights is None


def test_saving_recovered_work_leaves_no_recovery_files(make_window, tmp_path):
    """Save As after a recovery copy with weights was written removes the copy and its
    weights; weights left without their copy (a crash between the two writes) are removed."""
    from rnn_builder.engine.executor import Executor

    window = make_window("many_to_one")
    document = window.document
    document.set_weights(Executor(document.graph, seed=7).get_parameters())
    copy = document.write_recovery()
    folder = copy.parent
    assert sorted(p.suffix for p in folder.iterdir()) == [".json", ".npz"]
    document.save(tmp_path / "saved.json")
    assert list(folder.iterdir()) == []
    (folder / "0123456789abcdef.npz").write_bytes(b"orphan")
    assert document.leftover_recoveries() == []
    assert list(folder.iterdir()) == []


def test_only_the_newest_recovery_is_offered_and_older_ones_wait(make_window):
    import main

    first = make_window("one_to_one")
    first.document.add_node("gru", (0.0, 300.0))
    older = first.document.write_recovery()
    second = make_window("many_to_one")
    second.document.add_node("rnn", (0.0, 300.0))
    newer = second.document.write_recovery()
    os.utime(older, ns=(1_000_000_000, 1_000_000_000))  # older by its time, whatever its name

    fresh = make_window("many_to_many_equal")
    main.offer_recovery(fresh, _Yes)
    assert "rnn_1" in fresh.document.graph and fresh.document.recovery_path() == newer
    (left,) = [r for r in fresh.document.leftover_recoveries() if r.file != newer]
    assert left.file == older and "gru_1" in left.project.graph
