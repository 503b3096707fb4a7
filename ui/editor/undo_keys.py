"""Undo and redo keys reach the window from a field that would keep them for its own text.

A spin box (its line edit) takes Ctrl+Z and Ctrl+Shift+Z / Ctrl+Y for undoing its typing, so
after a number was typed and Enter pressed, the keys undid the text in the box and not the
edit of the project: the box then showed a value the project did not hold. Every value such a
field commits is an undo step of the document, so the document's undo is the one that is meant.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeySequence


class UndoKeysToWindow(QObject):
    """An event filter: the undo and redo keys are not claimed by the watched widgets, so the
    window's Undo and Redo actions get them."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and (
            event.matches(QKeySequence.StandardKey.Undo)
            or event.matches(QKeySequence.StandardKey.Redo)
        ):
            event.ignore()  # not wanted here: the shortcut (the window's action) runs
            return True
        return False


def undo_keys_to_window(filter_owner: QObject, *widgets: QObject) -> UndoKeysToWindow:
    """Let the window's undo and redo keys through ``widgets`` (the filter lives with
    ``filter_owner``)."""
    keys = UndoKeysToWindow(filter_owner)
    for widget in widgets:
        widget.installEventFilter(keys)
    return keys
