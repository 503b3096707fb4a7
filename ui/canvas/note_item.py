"""A note on the canvas: a teacher's text beside the network it explains.

A card of pale paper with the text wrapped to a fixed width. Select it, drag it (with nodes, as
one step), Delete it; double-click it to edit its text in place — leaving the text (a click
elsewhere, Escape, Ctrl+Enter) makes the edit one undo step, through the scene's
``note_edited``. Like a node's item it keeps no model state: the text it shows is the note's,
set again by the project's events.

:class:`NoteCard` draws one without any of that: the unrolled view shows the notes beside the
rows of the nodes they are nearest.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QTextCursor
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from rnn_builder.files.project import NOTE_WIDTH  # the core measures notes too
from ui.canvas.style import SELECTION_COLOR, is_dark

PADDING = 10.0
NEW_NOTE_TEXT = "A note: double-click to write in it"


def note_colors() -> dict[str, QColor]:
    if is_dark():
        return {"paper": QColor("#4a4328"), "edge": QColor("#8c7a3c"), "ink": QColor("#f1ead0")}
    return {"paper": QColor("#fff5c4"), "edge": QColor("#dcc15a"), "ink": QColor("#3b3212")}


class NoteCard(QGraphicsItem):
    """A note's text on a card of paper, wrapped to ``NOTE_WIDTH``."""

    def __init__(self, note_id: str, text: str) -> None:
        super().__init__()
        self.note_id = note_id
        self.label = _NoteText(self)
        self.label.setTextWidth(NOTE_WIDTH - 2 * PADDING)
        self.label.setPos(PADDING, PADDING)
        font = QFont(self.label.font())
        font.setPointSizeF(10.0)
        self.label.setFont(font)
        self.set_text(text)
        self.setZValue(-0.5)  # under the nodes, over the wires' crossings

    def set_text(self, text: str) -> None:
        self.prepareGeometryChange()
        self.label.setDefaultTextColor(note_colors()["ink"])
        if self.label.toPlainText() != text:
            self.label.setPlainText(text)

    def text(self) -> str:
        return self.label.toPlainText()

    def card(self) -> QRectF:
        height = self.label.boundingRect().height() + 2 * PADDING
        return QRectF(0, 0, NOTE_WIDTH, max(height, 36.0))

    def boundingRect(self) -> QRectF:
        return self.card().adjusted(-3, -3, 3, 5)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        colors = note_colors()
        self.label.setDefaultTextColor(colors["ink"])  # a theme chosen since
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        card = self.card()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 30))
        painter.drawRoundedRect(card.translated(0, 2.5), 4, 4)
        painter.setBrush(colors["paper"])
        selected = self.isSelected()
        painter.setPen(QPen(SELECTION_COLOR, 2.4) if selected else QPen(colors["edge"], 1.0))
        painter.drawRoundedRect(card, 4, 4)
        painter.fillRect(
            QRectF(card.left() + 1, card.top() + 1, 4, card.height() - 2), colors["edge"]
        )


class NoteItem(NoteCard):
    """A note of the open project on the canvas: selectable, movable, edited in place."""

    def __init__(self, note_id: str, text: str, position: tuple[float, float]) -> None:
        super().__init__(note_id, text)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges, True)
        self.setToolTip("A note: double-click to edit it, drag to move it, Delete to remove it")
        self.setPos(*position)
        self.editing = False

    def itemChange(self, change, value):
        scene = self.scene()
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and scene is not None:
            return scene.snapped(value) if getattr(scene, "dragging_nodes", False) else value
        return super().itemChange(change, value)

    def mouseDoubleClickEvent(self, event) -> None:
        self.start_editing()
        event.accept()

    def start_editing(self, select_all: bool = False) -> None:
        """Type into the note; what is typed becomes the note's when the editing ends."""
        self.editing = True
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        self.label.setFocus(Qt.FocusReason.MouseFocusReason)
        cursor = self.label.textCursor()
        if select_all:
            cursor.select(QTextCursor.SelectionType.Document)
        else:
            cursor.movePosition(QTextCursor.MoveOperation.End)
        self.label.setTextCursor(cursor)

    def finish_editing(self) -> None:
        if not self.editing:
            return
        self.editing = False
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        cursor = self.label.textCursor()
        cursor.clearSelection()
        self.label.setTextCursor(cursor)
        scene = self.scene()
        if scene is not None and hasattr(scene, "note_edited"):
            scene.note_edited.emit(self.note_id, self.label.toPlainText())


class _NoteText(QGraphicsTextItem):
    """The text of a note; ends the editing when it loses the keyboard."""

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        parent = self.parentItem()
        if isinstance(parent, NoteItem):
            parent.finish_editing()

    def keyPressEvent(self, event) -> None:
        parent = self.parentItem()
        done = event.key() == Qt.Key.Key_Escape or (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        )
        if done and isinstance(parent, NoteItem):
            self.clearFocus()  # which ends the editing
            return
        super().keyPressEvent(event)
        if isinstance(parent, NoteCard):
            parent.prepareGeometryChange()  # the card grows with the text
            parent.update()
