"""Boxes that take the mouse wheel only when they have the keyboard.

In a panel that scrolls, a spin box or a list passing under the pointer took the wheel for
itself: scrolling the training panel turned *Clip gradients at* from 1.000 to 4.000 (issue 23).
A box given :func:`wheel_only_when_focused` lets the wheel scroll what holds it until it is
clicked into (or tabbed to); then the wheel changes its value, as a person who chose it means.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QWidget


class _WheelWhenFocused(QObject):
    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            # refused here and not accepted: Qt offers the wheel to the parents (the panel's
            # scroll area), as it does any wheel a widget leaves
            event.ignore()
            return True
        return False


_FILTER: _WheelWhenFocused | None = None


def wheel_only_when_focused(*widgets: QWidget) -> None:
    """``widgets`` take the wheel only once they have the keyboard (and get it by a click or
    Tab, not by the wheel passing over them)."""
    global _FILTER
    if _FILTER is None:
        _FILTER = _WheelWhenFocused()
    for widget in widgets:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(_FILTER)
