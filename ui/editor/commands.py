"""Undo commands: each changes only the model; the canvas follows through the model's events.

Every edit the user makes is one of these, pushed by :class:`ui.editor.document.GraphDocument`, so
undo and redo return the model (and with it the scene) to its exact earlier state. A drag of
several nodes is one :class:`MoveNodes` step: moves with the same drag id merge. The project's
training settings and data source change the same way (:class:`SetTraining`,
:class:`SetDataset`), and the training panel follows the project's events; steps of one number
in a row (the arrows of a spin box held down) are one :class:`SetTraining`. Fitting the graph
to its data is one step of several (:class:`Steps`).
"""

from __future__ import annotations

import copy
import itertools
from pathlib import PurePath
from typing import Any

from PySide6.QtGui import QUndoCommand

from rnn_builder.files.project import DatasetReference, Note, Project, TrainingSettings
from rnn_builder.graph.model import Edge, Graph, Node
from rnn_builder.training.tasks import TASKS

MOVE_ID = 1001
TRAINING_ID = 1002
DATA_OPTION_ID = 1003
_drags = itertools.count(1)


def new_drag_id() -> int:
    """An id for one gesture's moves (a drag, an Arrange): moves with one id are one step."""
    return next(_drags)


class AddNodes(QUndoCommand):
    """Add nodes (and wires among them, and to existing nodes): a new node, a paste."""

    def __init__(self, graph: Graph, nodes: list[Node], edges: list[Edge], text: str) -> None:
        super().__init__(text)
        self.graph = graph
        self.nodes = [copy.deepcopy(n) for n in nodes]
        self.edges = list(edges)

    def redo(self) -> None:
        for node in self.nodes:
            self.graph.insert_node(node)
        for edge in self.edges:
            self.graph.add_edge(edge)

    def undo(self) -> None:
        for node in reversed(self.nodes):
            self.graph.remove_node(node.id)


class RemoveItems(QUndoCommand):
    """Delete nodes with their wires, and wires on their own."""

    def __init__(self, graph: Graph, node_ids: list[str], edges: list[Edge], text: str) -> None:
        super().__init__(text)
        self.graph = graph
        order = list(graph.nodes)
        chosen = set(node_ids)
        # where each one stood, so that undo puts them back in the same order
        self.nodes = [(i, copy.deepcopy(graph.node(n))) for i, n in enumerate(order) if n in chosen]
        removed = {e for n in node_ids for e in graph.edges_touching(n)} | set(edges)
        self.edges = [(i, e) for i, e in enumerate(graph.edges) if e in removed]

    def redo(self) -> None:
        for _index, edge in self.edges:
            if self.graph.has_edge(edge):
                self.graph.disconnect(edge)
        for _index, node in self.nodes:
            self.graph.remove_node(node.id)

    def undo(self) -> None:
        for index, node in self.nodes:
            self.graph.insert_node(node, index)
        for index, edge in self.edges:
            self.graph.add_edge(edge, index)


class Connect(QUndoCommand):
    """Make a wire, optionally replacing others (re-plugging a wire picked up elsewhere)."""

    def __init__(self, graph: Graph, edge: Edge, replaces: list[Edge] = (), text: str = "") -> None:
        super().__init__(text or f"Connect {edge.src_node} to {edge.dst_node}")
        self.graph = graph
        self.edge = edge
        edges = graph.edges
        self.replaces = sorted(((edges.index(e), e) for e in replaces), key=lambda p: p[0])

    def redo(self) -> None:
        for _index, old in self.replaces:
            self.graph.disconnect(old)
        self.graph.add_edge(self.edge)

    def undo(self) -> None:
        self.graph.disconnect(self.edge)
        for index, old in self.replaces:
            self.graph.add_edge(old, index)


class SetParam(QUndoCommand):
    def __init__(self, graph: Graph, node_id: str, name: str, value: Any) -> None:
        super().__init__(f"Set {name} of {graph.node(node_id).name}")
        self.graph = graph
        self.node_id, self.name = node_id, name
        self.old = graph.node(node_id).params[name]
        self.new = value

    def redo(self) -> None:
        self.graph.set_param(self.node_id, self.name, self.new)

    def undo(self) -> None:
        # the old value may be out of range if it came from a file: restore it as it was
        self.graph.restore_param(self.node_id, self.name, self.old)


class Rename(QUndoCommand):
    def __init__(self, graph: Graph, node_id: str, name: str) -> None:
        super().__init__(f"Rename {graph.node(node_id).name} to {name}")
        self.graph = graph
        self.node_id = node_id
        self.old, self.new = graph.node(node_id).name, name

    def redo(self) -> None:
        self.graph.rename(self.node_id, self.new)

    def undo(self) -> None:
        self.graph.restore_name(self.node_id, self.old)  # a loaded file's duplicate too


class MoveNodes(QUndoCommand):
    """Positions before and after a drag, of nodes and of the project's notes dragged with
    them; successive moves of one drag merge into one step."""

    def __init__(
        self,
        graph: Graph,
        moves: dict[str, tuple[tuple[float, float], tuple[float, float]]],
        drag: int,
        text: str = "",
        project: Project | None = None,
        note_moves: dict[str, tuple[tuple[float, float], tuple[float, float]]] | None = None,
    ) -> None:
        count, notes = len(moves), len(note_moves or {})
        what = f"{count} node{'s' if count != 1 else ''}" if count or not notes else ""
        if notes:
            what += (" and " if what else "") + f"{notes} note{'s' if notes != 1 else ''}"
        super().__init__(text or f"Move {what}")
        self.graph = graph
        self.moves = dict(moves)
        self.drag = drag
        self.project = project
        self.note_moves = dict(note_moves or {})

    def id(self) -> int:
        return MOVE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MoveNodes) or other.drag != self.drag:
            return False
        for mine, theirs in ((self.moves, other.moves), (self.note_moves, other.note_moves)):
            for key, (first, new) in theirs.items():
                mine[key] = (mine[key][0] if key in mine else first, new)
        self.project = self.project or other.project
        return True

    def redo(self) -> None:
        for node_id, (_old, new) in self.moves.items():
            if node_id in self.graph:
                self.graph.set_position(node_id, new)
        for note_id, (_old, new) in self.note_moves.items():
            if self.project is not None and any(n.id == note_id for n in self.project.notes):
                self.project.move_note(note_id, new)

    def undo(self) -> None:
        for node_id, (old, _new) in self.moves.items():
            if node_id in self.graph:
                self.graph.set_position(node_id, old)
        for note_id, (old, _new) in self.note_moves.items():
            if self.project is not None and any(n.id == note_id for n in self.project.notes):
                self.project.move_note(note_id, old)


class SetTraining(QUndoCommand):
    """One training setting of the project. A number set again right after (the same setting,
    nothing else in between) merges into this step, so that stepping a spin box is one undo;
    a choice from a list is a step of its own."""

    def __init__(self, project: Project, name: str, value: Any) -> None:
        super().__init__(f"Set {name.replace('_', ' ')}")
        self.project, self.name = project, name
        self.new = TrainingSettings.checked(name, value)  # before anything: an unknown name
        self.old = getattr(project.training, name)

    def id(self) -> int:
        number = TrainingSettings.LIMITS[self.name][0] in (int, float)
        return TRAINING_ID if number else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (
            not isinstance(other, SetTraining)
            or other.project is not self.project
            or other.name != self.name
        ):
            return False
        self.new = other.new
        self.setObsolete(self.new == self.old)  # back where it began: no step at all
        return True

    def redo(self) -> None:
        self.project.set_training(self.name, self.new)

    def undo(self) -> None:
        self.project.set_training(self.name, self.old)


class SetDataset(QUndoCommand):
    """The data the project trains on (a built-in task, or a user's file), with its binding."""

    def __init__(
        self, project: Project, reference: DatasetReference | None, text: str = ""
    ) -> None:
        super().__init__(
            text or ("Choose data" if reference is None else f"Train on {_data(reference)}")
        )
        self.project = project
        self.old = project.dataset.copy() if project.dataset is not None else None
        self.new = DatasetReference.checked(reference)

    def redo(self) -> None:
        self.project.set_dataset(self.new)

    def undo(self) -> None:
        self.project.set_dataset(self.old)


class SetDataOption(SetDataset):
    """One option of the data the project trains on (a built-in task's sequence length, the
    size of a generated set). The same option set again right after merges into this step, as
    a training setting's number does: stepping a spin box is one undo."""

    def __init__(self, project: Project, name: str, value: Any) -> None:
        reference = project.dataset
        options = {**reference.options, name: value}
        changed = DatasetReference(reference.kind, reference.name, options, reference.binding)
        super().__init__(project, changed, f"Set the data's {name.replace('_', ' ')}")
        self.name = name

    def id(self) -> int:
        return DATA_OPTION_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if (
            not isinstance(other, SetDataOption)
            or other.project is not self.project
            or other.name != self.name
        ):
            return False
        self.new = other.new
        self.setObsolete(self.new == self.old)
        return True


class Steps(QUndoCommand):
    """Several commands as one undo step, done in order and undone in reverse: fitting the
    graph to the data (the binding, then each parameter)."""

    def __init__(self, text: str, commands: list[QUndoCommand]) -> None:
        super().__init__(text)
        self.commands = list(commands)

    def redo(self) -> None:
        for command in self.commands:
            command.redo()

    def undo(self) -> None:
        for command in reversed(self.commands):
            command.undo()


class SetProjectText(QUndoCommand):
    """The project's title or description."""

    def __init__(self, project: Project, name: str, text: str) -> None:
        super().__init__(f"Set the project's {name}")
        self.project, self.name = project, name
        self.new = Project.checked_text(name, text)  # before anything: text it cannot hold
        self.old = getattr(project, name)

    def redo(self) -> None:
        getattr(self.project, f"set_{self.name}")(self.new)

    def undo(self) -> None:
        getattr(self.project, f"set_{self.name}")(self.old)


class AddNotes(QUndoCommand):
    """Put notes on the canvas."""

    def __init__(self, project: Project, notes: list[Note], text: str = "Add note") -> None:
        super().__init__(text)
        self.project = project
        self.notes = [Note(n.id, n.text, n.position) for n in notes]

    def redo(self) -> None:
        for note in self.notes:
            self.project.add_note(note)

    def undo(self) -> None:
        for note in reversed(self.notes):
            self.project.remove_note(note.id)


class RemoveNotes(QUndoCommand):
    """Take notes off the canvas; undo puts each back where it was in the drawing order."""

    def __init__(self, project: Project, note_ids: list[str], text: str = "") -> None:
        count = len(note_ids)
        super().__init__(text or f"Delete {count} note{'s' if count != 1 else ''}")
        self.project = project
        chosen = set(note_ids)
        self.notes = [
            (i, Note(n.id, n.text, n.position))
            for i, n in enumerate(project.notes)
            if n.id in chosen
        ]

    def redo(self) -> None:
        for _index, note in self.notes:
            self.project.remove_note(note.id)

    def undo(self) -> None:
        for index, note in self.notes:
            self.project.add_note(note, index)


class SetNoteText(QUndoCommand):
    def __init__(self, project: Project, note_id: str, text: str) -> None:
        super().__init__("Edit note")
        self.project, self.note_id = project, note_id
        self.new = Note.checked_text(text)  # before anything: text it cannot hold
        self.old = project.note(note_id).text

    def redo(self) -> None:
        self.project.set_note_text(self.note_id, self.new)

    def undo(self) -> None:
        self.project.set_note_text(self.note_id, self.old)


def _data(reference: DatasetReference) -> str:
    if reference.kind == "builtin":
        task = TASKS.get(reference.name)
        return task.title if task is not None else reference.name
    return PurePath(reference.name).name or f"a {reference.kind} file"
