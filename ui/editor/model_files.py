"""File → Export → ONNX model… / PyTorch project…, and File → Import weights…: the network leaves
the app for other engines, and trained weights come back.

The work is the core's (:mod:`rnn_builder.export`); here it runs on the process's "export"
thread, behind a progress dialog with Cancel, so that the window stays live while a check
builds the validation data and runs the model. No signal crosses threads: the GUI thread looks
at the job every 50 ms. A job works on a copy of the project and of the weights. Whatever it
writes is whole or absent: the ONNX file is written from the GUI thread once the check has
passed (atomically), a PyTorch project folder appears by a rename once it is complete and
checked (a cancel seen before then stops it), and a job cancelled later has its output removed
when it ends. Errors are one line in an error dialog, the same line the command line prints.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QWidget

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.threads import one_thread
from rnn_builder.errors import ExportError, RNNBuilderError
from rnn_builder.files.project import Project
from rnn_builder.training.workload import Purpose
from ui.editor.data_trust import data_folder
from ui.editor.project_files import parameter_shapes
from ui.editor.projects import with_extension

POLL_MS = 50


@dataclass
class Outcome:
    """What a job left for the GUI thread: a value, or the one-line message of its failure."""

    value: Any = None
    error: str | None = None
    written: Path | None = None  # a folder the job made (removed if the job was cancelled)


class ModelFiles(QObject):
    """The export and import commands of one window (``window.model_files``)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.messages: list[tuple[str, str]] = []  # (title, text) of every result shown
        self._job: tuple[Future, QProgressDialog, Callable[[Outcome], None]] | None = None
        self._cancelled = threading.Event()  # the running job's: it may look, and stop early
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def busy(self) -> bool:
        return self._job is not None

    # --- the commands ---------------------------------------------------------------------

    def export_onnx(self, path: str | Path | None = None) -> bool:
        """Export the document's network (with its trained weights, if any fit) to ONNX,
        checked in ONNX Runtime against our executor before the file is written."""
        document = self.window.document
        if not self._graph_is_valid("Cannot export to ONNX", "export"):
            return False
        path = path or self.window.choose_save_path(
            "Export ONNX model", "ONNX model (*.onnx)", ".onnx"
        )
        if not path:
            return False
        path = with_extension(Path(path), ".onnx")
        project, weights, base = self._snapshot()

        def work(cancelled: threading.Event) -> Outcome:
            from rnn_builder.export.onnx import export_onnx
            from rnn_builder.export.onnx_check import check_onnx

            executor = _executor(project, weights)
            model = export_onnx(executor, title=project.title)
            result = check_onnx(project, model, executor, base)
            return Outcome((model, result))

        def done(outcome: Outcome) -> None:
            if outcome.error is not None:
                self.show_error("Cannot export to ONNX", outcome.error)
                return
            from rnn_builder.export.onnx import save_onnx

            model, result = outcome.value
            if not result.ok:
                self.show_error(
                    "Cannot export to ONNX",
                    f"The exported model disagrees with ours ({result.summary()}); "
                    "nothing was written.",
                )
                return
            try:
                save_onnx(model, path)
            except (OSError, RNNBuilderError) as error:
                self.show_error("Cannot export to ONNX", str(error))
                return
            which = "its trained weights" if weights else "fresh weights (not trained yet)"
            self.show_result(
                "Exported to ONNX",
                f"Wrote {path} with {which}.\nChecked against RNN Builder: {result.summary()}.",
            )

        self._start(f"Exporting {document.display_name()} to ONNX and checking it…", work, done)
        return True

    def export_pytorch(self, folder: str | Path | None = None) -> bool:
        """Export the document's network to a PyTorch project folder (model.py, weights,
        data, train.py for one process or torchrun), checked against our executor when torch
        is installed before the folder takes its place: a check that fails or raises, or a
        cancel, leaves no folder."""
        document = self.window.document
        if not self._graph_is_valid("Cannot export to PyTorch", "export"):
            return False
        folder = folder or self.window.choose_save_path(
            "Export PyTorch project (a new folder)", "PyTorch project folder (*)", "_pytorch"
        )
        if not folder:
            return False
        folder = Path(folder)
        project, weights, base = self._snapshot()

        def work(cancelled: threading.Event) -> Outcome:
            from rnn_builder.export.pytorch import export_pytorch

            executor = _executor(project, weights)
            checked = []

            def check(written: Path) -> None:
                """The folder, still under its temporary name, checked when torch is here;
                a cancel by now leaves nothing, as a failed check does."""
                if not cancelled.is_set() and _torch_installed():
                    from rnn_builder.export.pytorch_check import check_pytorch

                    try:
                        checked.append(check_pytorch(project, executor, written, base))
                    except ExportError as error:  # the model fails to load or run
                        raise ExportError(f"{error}; nothing was written.") from None
                    if not checked[-1].ok:
                        raise ExportError(
                            f"The exported model disagrees with ours ({checked[-1].summary()}); "
                            "nothing was written."
                        )
                if cancelled.is_set():
                    raise ExportCancelled("cancelled; nothing was written")

            written = export_pytorch(project, executor, folder, base, check)
            return Outcome(checked[0] if checked else None, written=written)

        def done(outcome: Outcome) -> None:
            if outcome.error is not None:
                self.show_error("Cannot export to PyTorch", outcome.error)
                return
            which = "its trained weights" if weights else "fresh weights (not trained yet)"
            checked = (
                f"Checked against RNN Builder: {outcome.value.summary()}."
                if outcome.value is not None
                else "Not checked: torch is not installed here (pip install torch)."
            )
            self.show_result(
                "Exported to PyTorch",
                f"Wrote {outcome.written}/ with {which}: model.py, weights.safetensors, "
                f"data.npz, train.py, README.md.\n{checked}\n"
                f"Train it with: python train.py, or torchrun --nproc_per_node=N train.py; "
                f"bring the weights back with File → Import weights….",
            )

        self._start(f"Exporting {document.display_name()} to PyTorch…", work, done)
        return True

    def import_weights(self, path: str | Path | None = None) -> bool:
        """Load trained weights from an ``.npz``, the PyTorch export's ``weights.safetensors``
        or a ``train.py`` checkpoint, checked against the graph before any array is read. On
        any problem the document's weights stay as they were."""
        document = self.window.document
        if not self._graph_is_valid("Cannot import weights"):
            return False
        if not self.window.live.allow_edit():  # a running training would overwrite them
            return False
        path = path or self.window.choose_file_to_read(
            "Import trained weights",
            "Weights (*.safetensors *.npz);;All files (*)",
        )
        if not path:
            return False
        path = Path(path)
        shapes = parameter_shapes(document.graph)
        revision = document.undo_stack.index()
        from rnn_builder.export.pytorch_forms import torch_spellings

        # the names each node type's PyTorch form gives its tensors (a plug-in's may differ)
        spellings = torch_spellings(document.graph, shapes)

        def work(cancelled: threading.Event) -> Outcome:
            from rnn_builder.export.weights_import import read_trained_weights

            return Outcome(read_trained_weights(path, shapes, spellings))

        def done(outcome: Outcome) -> None:
            if outcome.error is not None:
                self.show_error("Cannot import weights", outcome.error)
                return
            if document is not self.window.document or document.undo_stack.index() != revision:
                self.show_error(
                    "Cannot import weights",
                    "The graph changed while the weights were read; import them again.",
                )
                return
            document.set_weights(outcome.value)
            self.window.live.panel.run_controls.show_document(f"Weights imported from {path.name}.")
            self.show_result(
                "Imported weights",
                f"Imported {len(outcome.value)} tensors from {path.name}; the views, Probe "
                "and Sample now use them (save the project to keep them).",
            )

        self._start(f"Reading weights from {path.name}…", work, done)
        return True

    # --- shared machinery -------------------------------------------------------------------

    def _graph_is_valid(self, title: str, purpose: Purpose | None = None) -> bool:
        """Whether the graph can be used (for ``purpose``: with the memory that needs)."""
        report = self.window.document.validate(purpose)
        if report.ok:
            return True
        first = report.errors[0]
        self.show_error(
            title,
            f"The graph has problems to fix first (see the Problems panel): {first.message}",
        )
        return False

    def _snapshot(self) -> tuple[Project, dict | None, Path | None]:
        document = self.window.document
        project = document.project.copy()
        weights = document.weights_if_they_fit()
        weights = {k: v.copy() for k, v in weights.items()} if weights else None
        return project, weights, data_folder(document)

    def _start(self, label: str, work: Callable[[threading.Event], Outcome], done) -> None:
        if self._job is not None:
            return
        dialog = QProgressDialog(label, "Cancel", 0, 0, self.window)
        dialog.setWindowTitle("RNN Builder")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)  # a quick job does not flash a dialog
        dialog.canceled.connect(self.cancel)
        self._cancelled = threading.Event()
        self._job = (one_thread("export").submit(_guarded, work, self._cancelled), dialog, done)
        self._timer.start()

    def cancel(self) -> None:
        """Stop waiting for the job: its result is dropped (its output removed) when it ends;
        a job that looks (the PyTorch export, before its folder takes its place) stops."""
        self._cancelled.set()

    def _poll(self) -> None:
        if self._job is None:
            self._timer.stop()
            return
        future, dialog, done = self._job
        if not (future.done() or self._cancelled.is_set()):
            return
        if not future.done():  # cancelled: the thread finishes on its own, unwatched
            future.add_done_callback(_discard_output)
        self._timer.stop()
        self._job = None
        dialog.reset()
        dialog.deleteLater()
        if self._cancelled.is_set():
            self.window.statusBar().showMessage("Cancelled; nothing was written.", 6000)
            if future.done():
                _discard_output(future)
            return
        done(future.result())

    def show_error(self, title: str, message: str) -> None:
        self.window.show_error(title, message)

    def show_result(self, title: str, message: str) -> None:
        self.messages.append((title, message))
        if QApplication.platformName() != "offscreen":
            QMessageBox.information(self.window, title, message)
        self.window.statusBar().showMessage(message.splitlines()[0], 10000)


def _executor(project: Project, weights: dict | None) -> Executor:
    executor = Executor(project.graph, seed=project.training.seed)
    if weights:
        executor.set_parameters(weights, strict=False)
    return executor


def _torch_installed() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _guarded(work: Callable[[threading.Event], Outcome], cancelled: threading.Event) -> Outcome:
    """Run ``work``; a failure becomes its one-line message (a bug included: the window stays)."""
    try:
        return work(cancelled)
    except RNNBuilderError as error:
        return Outcome(error=str(error))
    except OSError as error:
        return Outcome(error=f"{error.strerror or error}: {error.filename or ''}".rstrip(": "))
    except Exception as error:
        return Outcome(error=f"It failed unexpectedly: {type(error).__name__}: {error}")


class ExportCancelled(RNNBuilderError):
    """A job that saw the cancel and stopped (its output is not written)."""


def _discard_output(future: Future) -> None:
    """A cancelled job's folder (a PyTorch project) is removed; an ONNX job wrote nothing."""
    folder = future.result().written
    if folder is not None and folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)
