"""Issue 23, item 4: notes on the canvas. A teacher places text on the canvas, moves, edits and
deletes it, each one undo step; notes are saved with the project and shown in the picture
export and on the unrolled view's folded side."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from rnn_builder.files.serialization import load
from ui.canvas.note_item import NoteCard

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
