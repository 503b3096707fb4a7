"""The project's data checked against its graph while it is edited, as validation checks the
graph: the window shows the data's problems beside the graph's (the Problems panel, the red
outline and tooltip of the node each concerns, the status bar), so a mismatch is seen before
Start, not at it.

The check reads no file (``training.tasks.check_data`` uses what reading worked out, kept in
the project) and costs well under a millisecond beside validation, which it shares. It is
asked again when the graph is validated (the window asks) and when the data changes: the
project's ``dataset_changed`` event, which :attr:`DataChecker.changed` passes on once the edit
that caused it is done (an undo step that sets the binding and then the parameters is seen
once, as a whole).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from rnn_builder.errors import RNNBuilderError
from rnn_builder.graph.report import Problem
from rnn_builder.training.binding import Binding, DataCheck


class DataChecker(QObject):
    changed = Signal()  # the data changed (another task, file, option or binding)

    def __init__(self, document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._project = None
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.timeout.connect(self.changed)
        document.replaced.connect(self._follow)
        document.undo_stack.indexChanged.connect(self._flush)
        self._follow()

    def _follow(self) -> None:
        project = self.document.project
        if self._project is not project:
            self.detach()
            project.dataset_changed.subscribe(self._dataset_changed)
            self._project = project

    def detach(self) -> None:
        if self._project is not None:
            self._project.dataset_changed.unsubscribe(self._dataset_changed)
            self._project = None

    def _dataset_changed(self, _old, _new) -> None:
        self._pending.start(0)

    def _flush(self, _index: int = 0) -> None:
        """An undo step is done: say now what its data change was (not at the next loop)."""
        if self._pending.isActive():
            self._pending.stop()
            self.changed.emit()

    def check(self) -> DataCheck | None:
        """The data's problems as the project stands (None: no data, or the graph has
        problems of its own, which come first). Never raises: a damaged data source is a
        problem in the list."""
        try:
            return self.document.data_check()
        except RNNBuilderError as error:
            return DataCheck(None, Binding(), [Problem("data_not_read", str(error))])


def problems_by_node(check: DataCheck | None) -> dict[str, list[Problem]]:
    """The check's problems keyed by the node each concerns (those of no node left out)."""
    found: dict[str, list[Problem]] = {}
    for problem in check.problems if check is not None else ():
        if problem.node:
            found.setdefault(problem.node, []).append(problem)
    return found
