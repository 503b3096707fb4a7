"""Issue 23, item 4: notes on the canvas. A teacher places text on the canvas, moves, edits and
deletes it, each one undo step; notes are saved with the project and shown in the picture
export and on the unrolled view's folded side."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from rnn_builder.files.project import NOTE_WIDTH
from rnn_builder.files.serialization import load
from ui.canvas.note_item import NoteCard
from ui.editor import clipboard

from .conftest import click, drag


def _active(window, qtbot):
    with qtbot.waitActive(window):
        window.activateWindow()
    window.view.setFocus()


def _write_a_note(window, qtbot, text: str) -> str:
    """Type 'note' on the canvas below the graph, Enter, type the text, click away."""
    view = window.view
    below = window.scene.items_rect()
    spot = QPointF(below.center().x(), below.bottom() + 100)
    view.set_zoom(0.8)
    view.centerOn(spot)
    QTest.mouseMove(view.viewport(), view.mapFromScene(spot))
    QTest.keyClick(view, Qt.Key.Key_N)
    QTest.keyClicks(window.quick_add.edit, "ote")
    QTest.keyClick(window.quick_add.edit, Qt.Key.Key_Return)
    (note,) = window.document.project.notes
    assert window.scene.note_items[note.id].editing
    QTest.keyClicks(view, text)  # over the selected placeholder
    QTest.keyClick(view, Qt.Key.Key_Backspace)  # a key the Delete action would take
    QTest.keyClicks(view, text[-1])
    click(view, spot + QPointF(0, 300))  # elsewhere: the text is the note's
    return note.id


def test_a_note_is_written_moved_and_deleted_each_as_one_undo_step(window, qtbot):
    _active(window, qtbot)
    note_id = _write_a_note(window, qtbot, "The LSTM reads the words one by one")
    project, stack = window.document.project, window.document.undo_stack
    assert project.note(note_id).text == "The LSTM reads the words one by one"
    assert [stack.text(i) for i in range(stack.count())] == ["Add note", "Edit note"]
    item = window.scene.note_items[note_id]
    assert item.text() == project.note(note_id).text
    # move it with the mouse: one step
    before = project.note(note_id).position
    grab = item.mapToScene(QPointF(40, 8))
    drag(window.view, grab, grab + QPointF(-120, 60))
    assert project.note(note_id).position != before
    assert stack.undoText() == "Move 1 note"
    # select it and Delete: gone, and back with one undo
    click(window.view, item.mapToScene(QPointF(40, 8)))
    assert window.scene.selected_note_ids() == [note_id]
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert project.notes == [] and note_id not in window.scene.note_items
    QTest.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert project.note(note_id).text == "The LSTM reads the words one by one"
    for _ in range(3):
        QTest.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert project.notes == [] and window.scene.note_items == {}


def test_a_note_is_saved_exported_and_drawn_beside_its_node_unrolled(window, qtbot, tmp_path):
    _active(window, qtbot)
    note_id = _write_a_note(window, qtbot, "h_n sums the sentence up")
    # saved in the project file, and opened again
    path = tmp_path / "lesson.json"
    assert window.save_as(path)
    assert [n.text for n in load(path).notes] == ["h_n sums the sentence up"]
    window.new_project("one_to_one")
    assert window.scene.note_items == {}
    assert window.open_project(path)
    assert window.scene.note_items[note_id].text() == "h_n sums the sentence up"
    # in the picture export
    picture = tmp_path / "lesson.svg"
    assert window.export_picture(picture)
    assert "h_n sums the sentence up" in picture.read_text()
    # on the unrolled view's folded side: left of the first step, by its nearest node's row
    QTest.keyClick(window.view, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    scene = window.unrolled_scene
    (card,) = [i for i in scene.items() if isinstance(i, NoteCard)]
    assert card.text() == "h_n sums the sentence up"
    first_step = min(item.x() for item in scene.copies.values())
    assert card.sceneBoundingRect().right() < first_step


def test_arrange_takes_a_note_along_with_the_node_it_is_about(window):
    """The note's node is the one the unrolled view draws it beside (``Note.nearest_node``)."""
    document, graph = window.document, window.document.graph
    document.move({"scores": (graph.node("scores").position, (900.0, 600.0))}, drag=1)
    note_id = document.add_note((1000.0, 540.0), "the scores")  # just above its card
    assert document.project.note(note_id).nearest_node(graph) == "scores"
    assert document.arrange()
    x, y = graph.node("scores").position
    assert document.project.note(note_id).position == (1000.0 + x - 900.0, 540.0 + y - 600.0)


def test_notes_are_copied_cut_pasted_and_duplicated_with_the_nodes(window, qtbot):
    """A note selected with a node travels with it through the clipboard: Ctrl+C, Ctrl+V
    give a new node and a new note with its text, moved alike, as one undo step; a note alone
    copies too; Ctrl+D duplicates both; text copied before notes were copied still pastes."""
    _active(window, qtbot)
    note_id = _write_a_note(window, qtbot, "The reader keeps a state")
    project, stack, view = window.document.project, window.document.undo_stack, window.view
    note_item, reader = window.scene.note_items[note_id], window.scene.node_items["reader"]
    click(view, note_item.mapToScene(QPointF(40, 8)))
    click(view, reader.mapToScene(QPointF(20, 10)), Qt.KeyboardModifier.ControlModifier)
    assert window.scene.selected_note_ids() == [note_id]
    assert window.scene.selected_node_ids() == ["reader"]
    nodes_before = set(window.document.graph.nodes)
    steps_before = stack.count()
    QTest.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    (new_node,) = set(window.document.graph.nodes) - nodes_before
    (new_note,) = [n for n in project.notes if n.id != note_id]
    assert new_note.text == "The reader keeps a state"
    graph = window.document.graph
    old_node, new_spot = graph.node("reader").position, graph.node(new_node).position
    old_note = project.note(note_id).position
    node_moved = (new_spot[0] - old_node[0], new_spot[1] - old_node[1])
    note_moved = (new_note.position[0] - old_note[0], new_note.position[1] - old_note[1])
    assert node_moved == note_moved and node_moved != (0.0, 0.0)
    assert stack.count() == steps_before + 1 and stack.undoText() == "Paste"
    assert set(window.scene.selected_note_ids()) == {new_note.id}  # the copies are selected
    assert window.scene.selected_node_ids() == [new_node]
    QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one undo: both
    assert [n.id for n in project.notes] == [note_id] and new_node not in graph
    # a note alone, cut and pasted: its text comes back
    click(view, note_item.mapToScene(QPointF(40, 8)))
    QTest.keyClick(view, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier)
    assert project.notes == []
    QTest.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    (pasted,) = project.notes
    assert pasted.text == "The reader keeps a state"
    # Ctrl+D: the selected (pasted) note duplicated beside itself
    QTest.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert [n.text for n in project.notes] == ["The reader keeps a state"] * 2
    left, right = sorted(n.position[0] for n in project.notes)
    assert right - left >= NOTE_WIDTH
    # what an earlier version copied (no "notes") still pastes its nodes
    clipboard.put(clipboard.selection_as_json(graph, ["reader"]).replace(', "notes": []', ""))
    QTest.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert any(graph.node(n).type_name == "lstm" for n in window.scene.selected_node_ids())
    assert len(project.notes) == 2
