"""The GUI thread's safe point for Python's garbage collector (the policy and why:
:mod:`rnn_builder.collector`).

A timer on the GUI thread's event loop collects what the automatic collector would have
collected. A timer's slot runs from the event loop with no Qt lock held, so Qt objects freed
there are destroyed safely, and always in the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from rnn_builder import collector

INTERVAL_MS = 100  # a check costs ~1 µs when nothing is due


def install(app: QObject) -> SafePointCollector:
    """The process's collector, made on the first call (after the QApplication exists)."""
    global _installed
    if _installed is None:
        _installed = SafePointCollector(app)
    return _installed


class SafePointCollector(QObject):
    """Turns automatic collection off and collects from a timer on the GUI thread."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        collector.collect_at_safe_points()
        self.collections = 0
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_if_due)
        self._timer.start()

    def collect_if_due(self) -> None:
        if collector.collect_if_due() >= 0:
            self.collections += 1


_installed: SafePointCollector | None = None
