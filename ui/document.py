"""The open project: its model, the file it came from, and whether it has unsaved changes.

This is the one place that will push undo commands (the editor issue adds the QUndoStack);
for now it holds the project and tracks modifications through the model's events.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from rnn_builder.project import Project


class ProjectDocument(QObject):
    modified_changed = Signal(bool)

    def __init__(
        self, project: Project, path: Path | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.path = path
        self._modified = False
        graph = project.graph
        for event in (
            graph.node_added,
            graph.node_removed,
            graph.edge_added,
            graph.edge_removed,
            graph.param_changed,
            graph.position_changed,
            graph.name_changed,
        ):
            event.subscribe(self._mark_modified)

    @property
    def graph(self):
        return self.project.graph

    @property
    def modified(self) -> bool:
        return self._modified

    def _mark_modified(self, *_args: object) -> None:
        if not self._modified:
            self._modified = True
            self.modified_changed.emit(True)

    def display_name(self) -> str:
        return self.path.name if self.path is not None else self.project.title
