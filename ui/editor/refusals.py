"""Spin boxes that say why they refuse a number typed into them, instead of putting the old one
back without a word (issue 23: a hidden size of 0 silently went back to 32).

A spin box cannot hold a value out of its range: typed, such a value is taken back when the
person presses Enter or leaves the box. These boxes look at the text at that moment and, when
it is a number they will not take, tell :attr:`say` why, in the words of :attr:`why` (the
parameter's or the setting's own range message). They check in their own key and focus
handlers, which are not called while a box is being destroyed (an event filter was, and read a
box half gone).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class _SaysWhy:
    why: Callable[[float], str | None] | None = None  # value -> the reason it is refused
    say: Callable[[str], None] | None = None  # where the reason is said

    def _check(self, parse) -> None:
        if self.say is None:
            return
        text = self.cleanText().strip()
        try:
            value = parse(text)
        except ValueError:
            return
        if self.minimum() <= value <= self.maximum():
            return
        reason = (self.why(value) if self.why else None) or (
            f"{text} is out of range: the box takes {self.minimum():g} to {self.maximum():g}"
        )
        self.say(f"{reason}; the value stays {self.value():g}.")


class SpinBox(_SaysWhy, QSpinBox):
    def keyPressEvent(self, event) -> None:
        if event.key() in _KEYS:
            self._check(int)
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:
        self._check(int)
        super().focusOutEvent(event)


class DoubleSpinBox(_SaysWhy, QDoubleSpinBox):
    def keyPressEvent(self, event) -> None:
        if event.key() in _KEYS:
            self._check(float)
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:
        self._check(float)
        super().focusOutEvent(event)
