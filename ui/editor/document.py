"""The open project: its model, its file, its undo stack, and its recovery copy.

Its edits — each checked first, then pushed as one undo step, the guard asked before any that
changes the network — are in :mod:`ui.editor.edits`, a mixin of the document.

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
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from rnn_builder.files.companions import STALE_SECONDS, save_with_companions
from rnn_builder.files.disk import remove_stale_temporaries
from rnn_builder.files.project import Project
from rnn_builder.files.serialization import atomic_write, dumps, load, loads
from rnn_builder.graph.model import Graph
from rnn_builder.graph.validation import ValidationReport, validate
from rnn_builder.training.runs import RunRecord, runs_from_json
from rnn_builder.training.tasks.files import read_text
from rnn_builder.training.workload import Purpose, validate_for
from ui.editor.data_trust import DataTrust
from ui.editor.edits import DocumentEdits
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


class GraphDocument(DocumentEdits, QObject):
    modified_changed = Signal(bool)
    weights_changed = Signal()
    path_changed = Signal()
    replaced = Signal()  # a different project is now open: views rebuild
    title_changed = Signal()  # the project's title (what an unsaved project is called)

    # PySide answers ``connect`` and ``disconnect`` on a QObject with QObject's own unless the
    # object's class itself has them (a base class's are passed over): named here, the edits'
    # are the ones called
    connect = DocumentEdits.connect
    disconnect = DocumentEdits.disconnect

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
        return validate_for(self.project, self.base(), purpose)

    def display_name(self) -> str:
        return self.path.name if self.path is not None else f"{self.project.title} (unsaved)"

    def base(self) -> Path | None:
        """The folder a project's relative data paths are read from (its file's)."""
        return self.path.parent if self.path is not None else None

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
