"""Plain-Python events: the model announces changes, views subscribe.

The core never imports Qt; a GUI subscribes callables to a model's events and keeps its
items in step with them (the pattern of ryvencore's ``Event``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """A list of subscribers called in subscription order with the arguments of ``emit``."""

    __slots__ = ("_subscribers", "name")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._subscribers: list[Callable[..., Any]] = []

    def subscribe(self, callback: Callable[..., Any]) -> None:
        if callback not in self._subscribers:
            self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable[..., Any]) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def emit(self, *args: Any) -> None:
        # A copy, so a subscriber may unsubscribe itself while being called.
        for callback in list(self._subscribers):
            callback(*args)

    def __len__(self) -> int:
        return len(self._subscribers)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._subscribers)} subscribers)"
