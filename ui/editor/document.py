"""The open project: its model, its file, its undo stack, and its recovery copy.

This is the one place that pushes undo commands. The methods below check an edit first (a wire
that cannot be made raises the core's named error, a parameter out of range raises
``InvalidParameterError``) and push a command only for what can be done, so a refused edit
leaves nothing on the undo stack.

A ``guard`` (set by the window) is asked before every edit that changes the network — not
before moving or renaming nodes, which training does not see; while training runs it offers to
stop it, and a refused edit is not made (the methods return False or None).

Trained weights live beside the project file (``name.npz``, and the runs compared in the plots
in ``name.runs.json``); new weights count as unsaved work. The three are saved as one set
(``rnn_builder.files.companions``): a save cut short reopens as the earlier set, or with the
weights or runs that are not the project's left out and said so. Companion files are not
trusted: the weights are checked from their headers before they are read
(``rnn_builder.files.weights_file``) and JSON is read only up to a size; one that cannot be used
is left out, and :attr:`load_problems` says why (the window shows it), while the project itself
opens.

Recovery: while a project has unsaved changes the window asks :meth:`write_recovery` soon
after every edit; a copy goes to the recovery folder with the path it belongs to, its runs, and
its trained weights when they are unsaved (in a ``.npz`` beside the copy, rewritten only when
they change). A clean close deletes both, so what is left there at start-up is the work of a
session that crashed. Work recovered from a copy keeps that copy as its own until it is saved
(or discarded): a second crash before the save loses neither the recovered work nor what was
done since (issue 23: accepting a recovery deleted the copy at once).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePath

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from rnn_builder.errors import (
    DataError,
    InvalidParameterError,
    InvalidSettingError,
    RNNBuilderError,
    UnknownPortError,
    WiringError,
)
from rnn_builder.files.companions import STALE_SECONDS, save_with_companions
from rnn_builder.files.data_options import OPTIONS, task_of_reference
from rnn_builder.files.disk import remove_stale_temporaries
from rnn_builder.files.project import DatasetReference, Note, Project
from rnn_builder.files.serialization import atomic_write, dumps, load, loads
from rnn_builder.graph.arrange import arrange
from rnn_builder.graph.model import Edge, Graph, Node, node_id_problem
from rnn_builder.graph.validation import ValidationReport, validate
from rnn_builder.training.binding import DataCheck, ParamChange
from rnn_builder.training.runs import RunRecord, runs_from_json
from rnn_builder.training.tasks import check_data, fit_data, with_binding
from rnn_builder.training.tasks.files import read_text
from rnn_builder.training.workload import Purpose, validate_for
from ui.editor.commands import (
    AddNodes,
    AddNotes,
    Connect,
    MoveNodes,
    RemoveItems,
    RemoveNotes,
    Rename,
    SetDataOption,
    SetDataset,
    SetNoteText,
    SetParam,
    SetProjectText,
    SetTraining,
    Steps,
    new_drag_id,
)
from ui.editor.data_trust import DataTrust
from ui.editor.project_files import (
    MAX_RECOVERY_BYTES,
    Contents,
    parameter_shapes,
    read_companions,
    read_weights_beside,
    runs_path,
    weights_bytes,
    weights_path,
)
from ui.editor.recovery import Recovery, recovery_folder


class GraphDocument(QObject):
    modified_changed = Signal(bool)
    weights_changed = Signal()
    path_changed = Signal()
    replaced = Signal()  # a different project is now open: views rebuild
    title_changed = Signal()  # the project's title (what an unsaved project is called)

    def __init__(
        self, project: Project, path: Path | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        # the bundle a project was opened from (its files unpacked at ``path``): Save writes
        # it back there too
        self.bundle: Path | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self.project = project
        project.title_changed.subscribe(self._title_changed)
        self.path = Path(path) if path is not None else None
        self._untitled_key = hashlib.sha1(str(id(self)).encode()).hexdigest()[:10]
        self.weights: dict[str, np.ndarray] | None = None  # trained, kept beside the file
        self.runs: list[RunRecord] = []  # training runs, for comparing
        # the run whose weights :attr:`weights` are (None: from a file, or none): a run that
        # continues from them is drawn after it
        self.weights_run: RunRecord | None = None
        self.load_problems: list[str] = []  # companions left out on opening, and why
        self.data_trust = DataTrust()  # data files outside a project's folder allowed to read
        # Asked before any edit; returns False to refuse it (e.g. while training runs).
        self.guard = None
        self._unsaved_weights = False
        self._weights_version = 0  # counts set_weights, so that recovery writes them once
        self._recovered_version = 0
        self._recovery_file: Path | None = None  # recovered work: the copy it came from
        if self.path is not None:
            self._set_contents(read_companions(self.path, project))

    def _clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(self.modified)

    def _title_changed(self, _old: str, _new: str) -> None:
        self.title_changed.emit()

    # --- reading --------------------------------------------------------------------------

    @property
    def graph(self) -> Graph:
        return self.project.graph

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean() or self._unsaved_weights

    def validate(self, purpose: Purpose | None = None) -> ValidationReport:
        """The graph's report; for a ``purpose`` (training, exporting, stepping), with the
        memory that needs checked against the machine's budget (``training.workload``)."""
        if purpose is None:
            return validate(self.graph)
        base = self.path.parent if self.path is not None else None
        return validate_for(self.project, base, purpose)

    def display_name(self) -> str:
        return self.path.name if self.path is not None else f"{self.project.title} (unsaved)"

    # --- whole projects -------------------------------------------------------------------

    def replace(self, project: Project, path: Path | None, recovery: Recovery | None = None):
        """Open another project in this document (after the window asked to save); with
        ``recovery``, a crashed session's work, as unsaved changes with its weights and runs.

        All or nothing: everything is read first (a file that cannot be read raises, or is
        left out with a note in :attr:`load_problems`), and only then is the document changed,
        in assignments that cannot fail, before the views are told."""
        path = Path(path) if path is not None else None
        contents = Contents(None, [], [], False)
        if path is not None:
            contents = read_companions(path, project)
        if recovery is not None:  # before the views are told, so that they show all of it
            weights, runs, problems, unsaved = contents
            if recovery.runs:
                runs = list(recovery.runs)
            if recovery.weights:
                weights, unsaved = dict(recovery.weights), True
            contents = Contents(weights, runs, problems + list(recovery.problems), unsaved)
        self.discard_recovery()
        self._recovery_file = None
        self.undo_stack.clear()
        self.project.title_changed.unsubscribe(self._title_changed)
        self.project = project
        project.title_changed.subscribe(self._title_changed)
        self.path = path
        self.bundle = None  # the opener says so when it unpacked one
        self._set_contents(contents)
        if recovery is not None:
            self.undo_stack.resetClean()  # recovered work is not saved yet
        self.replaced.emit()
        self.path_changed.emit()
        self.modified_changed.emit(self.modified)

    def _set_contents(self, contents: Contents) -> None:
        self.weights, self.runs = contents.weights, contents.runs
        # saved together, the weights are the last run's (files.companions checks the set)
        self.weights_run = self.runs[-1] if self.runs and self.weights else None
        self.load_problems = contents.problems
        self._unsaved_weights = contents.unsaved
        if contents.unsaved:
            self._weights_version += 1

    def save(self, path: Path | None = None) -> Path:
        """Write the project (atomically); raises ``ProjectSaveError`` with the reason."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no file to save to: use save as")
        self._save_with_companions(target)
        old_recovery = self.recovery_path()
        self.path = target
        self._unsaved_weights = False
        self.undo_stack.setClean()
        old_recovery.unlink(missing_ok=True)  # saved: the copy of recovered work goes too
        old_recovery.with_suffix(".npz").unlink(missing_ok=True)
        self._recovery_file = None
        self.discard_recovery()
        self.path_changed.emit()
        return target

    # --- trained weights and runs, beside the project file ----------------------------------

    weights_path = staticmethod(weights_path)
    runs_path = staticmethod(runs_path)

    def set_weights(
        self, weights: dict[str, np.ndarray] | None, run: RunRecord | None = None
    ) -> None:
        """Keep trained weights with the project (unsaved until the project is saved); ``run``
        is the run that trained them (None: they come from elsewhere, a file)."""
        self.weights = None if weights is None else {k: np.array(v) for k, v in weights.items()}
        self.weights_run = run if weights is not None else None
        self._unsaved_weights = True
        self._weights_version += 1
        self.weights_changed.emit()
        self.modified_changed.emit(True)

    def trained_steps(self) -> tuple[int, int | None]:
        """How many steps of training the weights have had, and the run that took the last of
        them (``(0, None)`` when that is not known: weights from a file)."""
        run = self.weights_run
        if run is None or run not in self.runs:
            return 0, None
        return run.start_step + run.curve.last_step, run.number

    def weights_if_they_fit(self) -> dict[str, np.ndarray] | None:
        """The trained weights that still fit the graph (by name and shape), or None."""
        if not self.weights:
            return None
        shapes = parameter_shapes(self.graph)
        fitting = {k: v for k, v in self.weights.items() if shapes.get(k) == v.shape}
        return fitting or None

    def _save_with_companions(self, target: Path) -> None:
        """The project, its weights and its runs as one set (``files.companions``): a save
        cut short leaves the earlier set, or one that opening finds does not match."""
        runs = None
        if self.runs:
            runs = json.dumps([run.to_json() for run in self.runs], allow_nan=True).encode()
        same_file = self.path is not None and self.path.resolve() == target.resolve()
        claims = self.project.companions if same_file else {}
        save_with_companions(self.project, target, self.weights or None, runs, claims)

    # --- recovery -------------------------------------------------------------------------

    def recovery_path(self) -> Path:
        if self._recovery_file is not None:  # recovered work goes on in its own copy
            return self._recovery_file
        key = str(self.path.resolve()) if self.path is not None else self._untitled_key
        return recovery_folder() / (hashlib.sha1(key.encode()).hexdigest()[:16] + ".json")

    def write_recovery(self) -> Path | None:
        """Write the recovery copy of unsaved work (None: nothing unsaved — undone back to the
        saved state, so a copy written before goes)."""
        if not self.modified:
            self.discard_recovery()
            return None
        path = self.recovery_path()
        weights = path.with_suffix(".npz")
        remove_stale_temporaries([path, weights], STALE_SECONDS)  # of copies cut short
        if not (self._unsaved_weights and self.weights):
            weights.unlink(missing_ok=True)
        elif self._recovered_version != self._weights_version or not weights.exists():
            atomic_write(weights, weights_bytes(self.weights))
            self._recovered_version = self._weights_version
        record = {
            "path": str(self.path) if self.path else None,
            "project": dumps(self.project),
            "runs": [run.to_json() for run in self.runs],
        }
        atomic_write(path, json.dumps(record, allow_nan=True).encode("utf-8"))
        return path

    def discard_recovery(self) -> None:
        path = self.recovery_path()
        path.unlink(missing_ok=True)
        path.with_suffix(".npz").unlink(missing_ok=True)
        self._recovered_version = 0

    @staticmethod
    def leftover_recoveries() -> list[Recovery]:
        """Recovery copies left by sessions that did not close cleanly, oldest first
        (unreadable ones are skipped; unreadable weights or runs beside a readable copy are
        left out)."""
        folder = recovery_folder()
        for weights in folder.glob("*.npz"):  # a crash between writing weights and their copy
            if not weights.with_suffix(".json").exists():
                weights.unlink(missing_ok=True)
        found = []
        for file in sorted(folder.glob("*.json"), key=lambda f: f.stat().st_mtime_ns):
            try:  # bounded: a copy too large to be ours is damaged
                record = json.loads(read_text(file, "the recovery copy", MAX_RECOVERY_BYTES))
                project = loads(record["project"])
                original = Path(record["path"]) if record.get("path") else None
            except Exception:  # a damaged copy is not worth a crash
                continue
            problems = []
            try:
                runs = runs_from_json(record.get("runs", []))
            except ValueError as error:
                runs = []
                problems.append(f"The training runs were not recovered: {error}")
            weights, problem = read_weights_beside(file.with_suffix(".npz"), project.graph)
            problems += [problem] if problem else []
            found.append(Recovery(file, original, project, weights, runs, tuple(problems)))
        return found

    def recover(self, recovery: Recovery) -> None:
        """Open a crashed session's work as unsaved changes, with its weights and runs. Its
        copy is kept, as this work's recovery copy, until the work is saved or discarded."""
        self.replace(recovery.project, recovery.original, recovery)
        self._recovery_file = recovery.file
        if recovery.weights:  # they are beside the copy already
            self._recovered_version = self._weights_version

    @staticmethod
    def forget_recovery(recovery: Recovery) -> None:
        recovery.file.unlink(missing_ok=True)
        recovery.file.with_suffix(".npz").unlink(missing_ok=True)

    @staticmethod
    def open(path: Path) -> Project:
        return load(path)

    # --- edits (each one undo step) -------------------------------------------------------

    def allowed(self, command) -> bool:
        """Whether an edit may go ahead now (the guard is asked for what changes the network)."""
        harmless = MoveNodes | Rename | SetProjectText | AddNotes | RemoveNotes | SetNoteText
        if isinstance(command, harmless) or self.guard is None:  # the network stays as it is
            return True
        return bool(self.guard())

    def push(self, command) -> bool:
        """The one place edits enter the model; False when the guard refused it."""
        if not self.allowed(command):
            return False
        self.undo_stack.push(command)
        return True

    def undo(self) -> bool:
        stack = self.undo_stack
        if not stack.canUndo() or not self.allowed(stack.command(stack.index() - 1)):
            return False
        stack.undo()
        return True

    def redo(self) -> bool:
        stack = self.undo_stack
        if not stack.canRedo() or not self.allowed(stack.command(stack.index())):
            return False
        stack.redo()
        return True

    def add_node(self, type_name: str, position: tuple[float, float]) -> str | None:
        """Add a node; its id, or None when the edit was refused."""
        node_type = self.graph.registry.get(type_name)
        node_id = self.graph.new_node_id(type_name)
        node = Node(node_id, type_name, node_id, node_type.default_params(), position)
        if self.push(AddNodes(self.graph, [node], [], f"Add {node_type.title}")):
            return node_id
        return None

    def wiring_choices(self, node_id: str, port: str, is_input: bool) -> dict[str, str]:
        """The node types a new node of which could be wired to ``node_id.port`` (an output:
        from it into the new node; an input: from the new node into it), each with the port
        of the new node the wire would take (its first that can): type name -> port."""
        found = {}
        for node_type in self.graph.registry:
            scratch = self.graph.copy()
            new = scratch.add_node(node_type.type_name).id
            ports = node_type.outputs if is_input else node_type.inputs
            for spec in ports:
                try:
                    if is_input:
                        scratch.check_connect(new, spec.name, node_id, port)
                    else:
                        scratch.check_connect(node_id, port, new, spec.name)
                except RNNBuilderError:
                    continue
                found[node_type.type_name] = spec.name
                break
        return found

    def add_wired_node(
        self, type_name: str, position: tuple[float, float], node_id: str, port: str, is_input: bool
    ) -> str | None:
        """Add a node wired to ``node_id.port`` (see :meth:`wiring_choices`) as one undo step;
        its id, or None when the edit was refused. Raises the core's error when no port of
        the type can take the wire."""
        ports = self.wiring_choices(node_id, port, is_input)
        node_type = self.graph.registry.get(type_name)
        if type_name not in ports:
            raise WiringError(
                f"no port of a {node_type.title} can be wired to "
                f"{self.graph.describe(node_id)}'s {port}"
            )
        new_id = self.graph.new_node_id(type_name)
        node = Node(new_id, type_name, new_id, node_type.default_params(), position)
        edge = (
            Edge(new_id, ports[type_name], node_id, port)
            if is_input
            else Edge(node_id, port, new_id, ports[type_name])
        )
        text = f"Add {node_type.title} wired to {self.graph.node(node_id).name}"
        return new_id if self.push(AddNodes(self.graph, [node], [edge], text)) else None

    def connect(self, edge: Edge, replaces: list[Edge] = ()) -> bool:
        """Make a wire (refused with the core's named error before anything is pushed)."""
        scratch = self.graph.copy()
        for old in replaces:
            scratch.disconnect(old)
        scratch.check_connect(*edge)
        return self.push(Connect(self.graph, Edge(*edge), list(replaces)))

    def disconnect(self, edges: list[Edge]) -> bool:
        return bool(edges) and self.push(RemoveItems(self.graph, [], list(edges), "Remove wire"))

    def remove(self, node_ids: list[str], edges: list[Edge] = (), note_ids: list[str] = ()) -> bool:
        """Delete nodes (with their wires), wires and notes, as one undo step."""
        if not node_ids and not edges and not note_ids:
            return False
        count = len(node_ids)
        text = f"Delete {count} node{'s' if count != 1 else ''}" if count else "Delete wires"
        if not node_ids and not edges:
            return self.push(RemoveNotes(self.project, list(note_ids)))
        command = RemoveItems(self.graph, list(node_ids), list(edges), text)
        if note_ids:
            notes = RemoveNotes(self.project, list(note_ids))
            command = Steps(f"{text} and {notes.text()[len('Delete ') :]}", [command, notes])
        return self.push(command)

    def add_note(self, position: tuple[float, float], text: str = "") -> str | None:
        """Put a note on the canvas (one undo step); its id, or None when refused."""
        note = Note(self.project.new_note_id(), Note.checked_text(text), position)
        return note.id if self.push(AddNotes(self.project, [note])) else None

    def set_note_text(self, note_id: str, text: str) -> bool:
        """A note's new text as one undo step (text a note cannot hold raises
        ``InvalidSettingError`` before anything is pushed)."""
        return self._push_change(SetNoteText(self.project, note_id, text))

    def set_param(self, node_id: str, name: str, value) -> bool:
        value = self._checked_param(node_id, name, value)
        node = self.graph.node(node_id)
        if node.params[name] == value and type(node.params[name]) is type(value):
            return True
        return self.push(SetParam(self.graph, node_id, name, value))

    def _checked_param(self, node_id: str, name: str, value):
        node = self.graph.node(node_id)
        spec = self.graph.node_type(node_id).param_spec(name)
        if spec is None:
            raise InvalidParameterError(f"{node.name} has no parameter '{name}'")
        try:
            value = spec.coerce(value)
        except ValueError as error:
            raise InvalidParameterError(f"{spec.label}: {error}") from None
        problem = spec.range_problem(value)
        if problem is not None:
            raise InvalidParameterError(f"{self.graph.describe(node_id)}: {problem}")
        return value

    def set_training(self, name: str, value) -> bool:
        """Change a training setting as one undo step (a value it cannot take raises the
        core's ``InvalidSettingError`` before anything is pushed); False when refused."""
        return self._push_change(SetTraining(self.project, name, value))

    def base(self) -> Path | None:
        """The folder a project's relative data paths are read from (its file's)."""
        return self.path.parent if self.path is not None else None

    def set_dataset(self, reference: DatasetReference | None) -> bool:
        """Train on other data, as one undo step, with the binding found for the graph kept in
        the reference (the fields it names itself stay); a reference that cannot be raises
        ``InvalidSettingError`` before anything is pushed. False when refused."""
        if reference is not None:
            reference = with_binding(self.project, reference, self.base())
        return self._push_change(SetDataset(self.project, reference))

    def set_data_option(self, name: str, value) -> bool:
        """One option of the project's data (a built-in task's ``steps``, a generated set's
        size) as one undo step, checked by the data options' table (a value it cannot take
        raises ``InvalidSettingError`` in its words before anything is pushed). Setting what
        the data reads already (its default, when the option is not given) is no step."""
        reference = self.project.dataset
        if reference is None:
            raise InvalidSettingError("choose the data first: it has no options yet")
        task = task_of_reference(reference.kind, reference.name)
        table = OPTIONS.get(task or "", {})
        if name in table and name not in reference.options and value == table[name].default:
            return True
        return self._push_change(SetDataOption(self.project, name, value))

    def data_check(self) -> DataCheck | None:
        """What does not fit between the project's data and its graph (no file is read);
        None when there is no data, or the graph has problems of its own."""
        return check_data(self.project, self.base())

    def fit_to_data(self, reference: DatasetReference | None = None) -> list[ParamChange] | None:
        """Fit the graph to the project's data — or to ``reference``, which it then trains on —
        as one undo step: the binding, and the parameters that fit (an input's vocabulary or
        width, an Embedding's vocabulary, the last layer's units, the Output's loss, a
        decoder's steps). Returns the changes ([] when it fits already: no step), None when
        the guard refused; raises ``DataError`` in words when there is nothing to fit to, or
        a value the graph cannot take, before anything is pushed."""
        base = self.base()
        if reference is not None:
            reference = with_binding(self.project, reference, base)
        fitted, changes = fit_data(self.project, base, reference)
        commands = []
        if fitted != self.project.dataset:
            commands.append(SetDataset(self.project, fitted))
        for change in changes:
            try:
                value = self._checked_param(change.node, change.name, change.value)
            except InvalidParameterError as error:
                raise DataError(f"the graph cannot be fitted to this data: {error}") from None
            commands.append(SetParam(self.graph, change.node, change.name, value))
        if not commands:
            return []
        text = "Fit the graph to the data"
        if reference is not None and self.project.dataset != fitted:
            text = f"Train on {PurePath(reference.name).name or reference.name} and fit the graph"
        return changes if self.push(Steps(text, commands)) else None

    def bind_field(self, field: str, node_id: str) -> bool:
        """Feed ``node_id`` from the data's ``field`` (an input field to an input node, a
        target to an Output) as one undo step; the field that fed the node before moves to
        the node ``field`` leaves (they swap), so no node takes two. Raises ``DataError``
        in words when the field or the node cannot be bound; False when refused."""
        check = self.data_check()
        reference = self.project.dataset
        if check is None or check.spec is None or reference is None:
            raise DataError("the data's fields are not known yet: fix the graph, or read the file")
        spec, graph = check.spec, self.graph
        if field in spec.inputs:
            nodes, role = {n.id for n in graph.inputs()}, "an input node"
        elif field in spec.targets:
            nodes, role = {n.id for n in graph.outputs()}, "an Output"
        else:
            raise DataError(f"the data has no field '{field}'")
        if node_id not in nodes:
            raise DataError(f"'{field}' can only feed {role}, not {graph.describe(node_id)}")
        binding = {**reference.binding, **check.binding.as_dict()}
        left = binding.get(field)
        displaced = next((f for f, n in binding.items() if n == node_id and f != field), None)
        binding[field] = node_id
        if displaced is not None:
            if left is not None:
                binding[displaced] = left
            else:
                del binding[displaced]
        bound = DatasetReference(reference.kind, reference.name, reference.options, binding)
        text = f"Feed {graph.node(node_id).name} from '{field}'"
        return self._push_change(SetDataset(self.project, bound, text))

    def set_project_text(self, name: str, text: str) -> bool:
        """Set the project's ``title`` or ``description`` as one undo step (text a project
        file could not hold raises ``InvalidSettingError`` before anything is pushed)."""
        return self._push_change(SetProjectText(self.project, name, text))

    def _push_change(self, command) -> bool:
        """Push a command that sets ``new`` in place of ``old``; setting the value it holds
        is no undo step (True: nothing to refuse)."""
        if command.new == command.old and type(command.new) is type(command.old):
            return True
        return self.push(command)

    def rename(self, node_id: str, name: str) -> None:
        """Show a node by another name (one undo step). A name another node has is refused
        (``InvalidParameterError`` in words): the canvas and every message tell nodes apart
        by their names (issue 23)."""
        Graph.checked_name(name)
        if self.graph.node(node_id).name == name:
            return
        taken = next((n for n in self.graph if n.id != node_id and n.name == name), None)
        if taken is not None:
            raise InvalidParameterError(
                f"another node (the {self.graph.node_type(taken.id).title}) is already called "
                f"'{name}': names tell nodes apart on the canvas and in messages, so choose "
                "another"
            )
        self.push(Rename(self.graph, node_id, name))

    def move(
        self,
        moves: dict[str, tuple[tuple[float, float], tuple[float, float]]],
        drag: int,
        note_moves: dict[str, tuple[tuple[float, float], tuple[float, float]]] | None = None,
    ) -> None:
        """Nodes and notes moved by one drag (``drag``: moves of one drag are one step)."""
        moves = {n: (old, new) for n, (old, new) in moves.items() if old != new}
        notes = {n: (old, new) for n, (old, new) in (note_moves or {}).items() if old != new}
        if moves or notes:
            self.push(MoveNodes(self.graph, moves, drag, project=self.project, note_moves=notes))

    def arrange(self, size=None) -> bool:
        """Lay the graph out left to right (``graph.arrange``: inputs left, outputs right, no
        node over another) as one undo step; False when every node is in place already.
        ``size`` gives a node's card size by id (the canvas's own)."""
        positions = arrange(self.graph, size)
        moves = {
            node_id: (self.graph.node(node_id).position, position)
            for node_id, position in positions.items()
            if self.graph.node(node_id).position != position
        }
        notes = {}  # a note goes with the node it is nearest, as far as that node goes
        for note in self.project.notes:
            near = self._nearest_node(note.position)
            if near in moves:
                (old_x, old_y), (new_x, new_y) = moves[near]
                x, y = note.position
                notes[note.id] = (note.position, (x + new_x - old_x, y + new_y - old_y))
        if not moves:
            return False
        return self.push(
            MoveNodes(
                self.graph, moves, new_drag_id(), "Arrange", project=self.project, note_moves=notes
            )
        )

    def _nearest_node(self, point: tuple[float, float]) -> str | None:
        """The node whose corner is nearest ``point`` (None in an empty graph)."""
        return min(
            self.graph.nodes,
            key=lambda n: (
                (self.graph.node(n).position[0] - point[0]) ** 2
                + (self.graph.node(n).position[1] - point[1]) ** 2
            ),
            default=None,
        )

    def paste(
        self, nodes: list[Node], edges: list[Edge], offset: tuple[float, float], text: str = "Paste"
    ) -> list[str]:
        """Add copies of ``nodes`` with fresh ids, their wires among themselves, moved by
        ``offset``; returns the new ids. A copy whose id is taken, or that the core refuses
        (``graph.node_id_problem``: text from elsewhere), gets a fresh one. Anything else the
        graph would refuse (an unknown type, a name, a port) raises before the edit, in words,
        so that the undo command never fails halfway."""
        graph = self.graph
        taken = set(graph.nodes)
        renamed: dict[str, str] = {}
        copies = []
        for node in nodes:
            new_id = node.id
            if new_id in taken or node_id_problem(new_id, graph.registry.get(node.type_name)):
                stem = str(node.id).rstrip("0123456789").rstrip("_") or node.type_name
                new_id = graph.new_node_id(stem, taken)
            taken.add(new_id)
            renamed[node.id] = new_id
            position = (node.position[0] + offset[0], node.position[1] + offset[1])
            name = node.name if node.name != node.id else new_id
            copy = Node(new_id, node.type_name, name, dict(node.params), position)
            copies.append(graph.checked_node(copy))
        types = {copy.id: graph.registry.get(copy.type_name) for copy in copies}
        wires = list(
            dict.fromkeys(
                Edge(renamed[e.src_node], e.src_port, renamed[e.dst_node], e.dst_port)
                for e in edges
                if e.src_node in renamed and e.dst_node in renamed
            )
        )
        for wire in wires:
            if types[wire.src_node].output_port(wire.src_port) is None:
                raise UnknownPortError(f"{wire.src_node} has no output port '{wire.src_port}'")
            if types[wire.dst_node].input_port(wire.dst_port) is None:
                raise UnknownPortError(f"{wire.dst_node} has no input port '{wire.dst_port}'")
        if copies and self.push(AddNodes(self.graph, copies, wires, text)):
            return [c.id for c in copies]
        return []
