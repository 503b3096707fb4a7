"""Quick-add: a search box at the cursor for adding a node from the keyboard.

Typing on the canvas (or Tab) opens it where the mouse is, with what was typed; the list below
shows the node types that match (a title that starts with the words first), Up and Down choose
one, Enter places it there and Escape (or a click elsewhere) closes the box. Dropping a dragged
wire on empty canvas opens it too, listing only the types that can take that wire: the one
chosen is added there already wired (one undo step). Node editors' users ask for both first
(ComfyUI, PyFlow).

It is a child of the view's viewport, not a window of its own: it never takes the window's
activation away, and it goes with the view.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

CHOICE_ROLE = Qt.ItemDataRole.UserRole + 1
WIDTH, LIST_ROWS = 300, 8


@dataclass(frozen=True)
class Choice:
    """One thing the box can add: a node type (or a note), in words."""

    key: str  # a node type's name, or "note"
    title: str
    description: str
    color: QColor | None = None

    def score(self, needle: str) -> int | None:
        """How well it matches what was typed (lower is better), or None when it does not."""
        if not needle:
            return 2
        title, words = self.title.lower(), f"{self.key} {self.description}".lower()
        if title.startswith(needle):
            return 0
        if needle in title or self.key.lower().startswith(needle):
            return 1
        return 3 if needle in words else None


class QuickAdd(QFrame):
    """The search box and its list; ``chosen`` gives the key of the choice taken."""

    chosen = Signal(str)

    def __init__(self, parent) -> None:
        super().__init__(parent)
        self.setObjectName("quick_add")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.edit = QLineEdit()
        self.edit.setObjectName("quick_add_search")
        self.edit.setPlaceholderText("Add a node: type its name")
        self.heading = QLabel()
        self.heading.setObjectName("quick_add_heading")
        self.heading.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("quick_add_list")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the box keeps the keyboard
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.heading)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.choices: list[Choice] = []
        self.edit.textChanged.connect(self._filter)
        self.edit.installEventFilter(self)
        self.list.itemClicked.connect(lambda _item: self.take())
        self.hide()

    def open(self, at: QPoint, text: str, choices: list[Choice], heading: str = "") -> None:
        """Show the box with its top-left near ``at`` (viewport pixels), inside the view."""
        self.choices = list(choices)
        self.heading.setText(heading)
        self.heading.setVisible(bool(heading))
        self.edit.setText(text)
        self._filter(text)
        row = max(self.list.sizeHintForRow(0), 18)
        self.list.setFixedHeight(row * min(LIST_ROWS, max(len(self.choices), 1)) + 6)
        self.setFixedWidth(WIDTH)
        self.adjustSize()
        area = self.parentWidget().rect()
        x = min(max(at.x(), 0), max(area.width() - self.width(), 0))
        y = min(max(at.y(), 0), max(area.height() - self.height(), 0))
        self.move(x, y)
        self.show()
        self.raise_()
        self.edit.setFocus(Qt.FocusReason.PopupFocusReason)

    def current(self) -> str | None:
        item = self.list.currentItem()
        return item.data(CHOICE_ROLE) if item is not None and not item.isHidden() else None

    def take(self) -> None:
        key = self.current()
        self.close_box()
        if key is not None:
            self.chosen.emit(key)

    def close_box(self) -> None:
        if self.isVisible():
            self.hide()
            self.parentWidget().setFocus()

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        ranked = sorted(
            (score, index, choice)
            for index, choice in enumerate(self.choices)
            if (score := choice.score(needle)) is not None
        )
        self.list.clear()
        for _score, _index, choice in ranked:
            item = QListWidgetItem(choice.title)
            item.setData(CHOICE_ROLE, choice.key)
            item.setToolTip(choice.description)
            if choice.color is not None:
                item.setForeground(choice.color.darker(110))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.edit and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.list.count():
                step = 1 if key == Qt.Key.Key_Down else -1
                row = (self.list.currentRow() + step) % self.list.count()
                self.list.setCurrentRow(row)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.take()
                return True
            if key == Qt.Key.Key_Escape:
                self.close_box()
                return True
        # a click elsewhere closes it (its list takes no focus; another window, a menu
        # opening, leave it open)
        if (
            watched is self.edit
            and event.type() == QEvent.Type.FocusOut
            and event.reason()
            not in (Qt.FocusReason.ActiveWindowFocusReason, Qt.FocusReason.PopupFocusReason)
        ):
            self.hide()
        return super().eventFilter(watched, event)
