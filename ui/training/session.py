"""Training from the window: the core trainer in a child process, its reports to the GUI.

:class:`TrainingSession` hands the project to a training process
(:mod:`rnn_builder.training.process`: a fresh interpreter, kept warm, that builds the data and
runs :class:`rnn_builder.training.trainer.Trainer`) and reads what comes back when its socket
becomes
readable (a ``QSocketNotifier``: no thread, no polling). The window shares no interpreter lock
with the trainer, so it redraws at up to ``FRAME_RATE`` frames a second, from a timer, with the
latest report, and training keeps its full speed. Pause, resume and stop are messages the child
applies between two steps.

A child that dies (killed, out of memory, a crash in a native library) takes nothing with it:
the panel says so, the run is kept with the best weights received (each epoch's end sends
them), and the next Start takes a new child. So does a child whose message is refused: every
message arrives checked against its kind's schema (:mod:`rnn_builder.training.messages`), and
one that is not what its kind holds — or a report whose steps go back — ends the child and
the run as a failure in one line, never an exception in a slot.

When a run ends (finished, stopped, or a NaN caught), its weights become the document's, and
the run — its settings and its curves — joins the document's history, so that runs can be
compared in the plots.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

from rnn_builder.files.serialization import project_to_dict
from rnn_builder.training import process as training_process
from rnn_builder.training.messages import Message
from rnn_builder.training.process import TrainingProcess
from rnn_builder.training.runs import RunRecord, follow_report, new_run
from rnn_builder.training.tasks import check_data
from rnn_builder.training.trainer import Report, TrainingResult
from ui.editor.data_trust import data_folder

FRAME_RATE = 30  # redraws a second, at most
STOP_SECONDS = 30.0  # a child that does not stop within this is killed (it may be stuck)


class TrainingSession(QObject):
    """The GUI side of training: runs a training process, collects reports, redraws."""

    started = Signal()
    frame = Signal(object)  # the latest Report, at most FRAME_RATE times a second
    finished = Signal(object)  # TrainingResult (or None after a failure)
    failed = Signal(str)
    state_changed = Signal(str)  # "idle", "running", "paused"

    def __init__(self, document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        document.replaced.connect(self._project_replaced)  # before the views redraw
        # asked before a run reads data outside the project's folder; False: it does not
        self.confirm_data: Callable[[], bool] | None = None
        self.process: TrainingProcess | None = None
        self._notifier: QSocketNotifier | None = None
        self.state = "idle"
        self.reports: list[Report] = []
        self.current: RunRecord | None = None
        # the running network's weights at its latest report, when asked for (want_weights);
        # None when idle (the document's weights are the network's then)
        self.weights: dict | None = None
        self.best: tuple[float, dict] | None = None  # (validation loss, weights) of an epoch
        self.paused_at: int | None = None  # steps taken when the child said it waits
        self.steps_taken = 0  # as the latest report says
        self._pending: Report | None = None
        # A report is drawn when it arrives, unless the last frame is less than 1/FRAME_RATE
        # old: then when that time is up (a single shot), with whatever report is newest.
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._draw)
        self._last_frame = -math.inf
        self.frames_drawn = 0

    @property
    def running(self) -> bool:
        return self.state in ("running", "paused")

    def _project_replaced(self) -> None:
        if not self.running:  # the curves of the project that was open go with it
            self.current, self.reports = None, []

    def start(self, max_steps: int | None = None, from_scratch: bool = False) -> bool:
        """Train the document's project: on from its weights if they fit (the run records
        it, and after how many steps of which run), or ``from_scratch``, fresh weights from the
        seed."""
        if self.running:
            return False
        report = self.document.validate("train")  # the memory training needs, too
        if not report.ok:
            self.failed.emit(
                "The graph has problems to fix before it can train (see the Problems panel): "
                f"{report.errors[0].message}"
            )
            return False
        if self.confirm_data is not None and not self.confirm_data():
            self.failed.emit(
                "The project's data file is outside its folder and was not allowed: nothing "
                "was read (choose the file in the data view to train on it)."
            )
            return False
        project = self.document.project
        folder = data_folder(self.document)
        data = check_data(project, folder)  # said here, before a process is asked to start
        if data is not None and not data.ok:
            self.failed.emit(f"{data.errors[0].message} (see the Problems panel)")
            return False
        weights = None if from_scratch else self.document.weights_if_they_fit()
        self.reports = []
        self.weights, self.best, self.paused_at, self.steps_taken = None, None, None, 0
        number = len(self.document.runs) + 1
        start_step, earlier = self.document.trained_steps() if weights else (0, None)
        self.current = new_run(project, number, weights is not None, start_step, earlier)
        self.process = training_process.take()
        self.process.train(
            project_to_dict(project),
            None if folder is None else str(folder.path),
            weights,
            max_steps,
            report_every=1.0 / FRAME_RATE,
            plugins=training_process.plugin_types(project.graph.registry),
            outside_data=sorted(str(p) for p in folder.allowed) if folder is not None else [],
        )
        self._notifier = QSocketNotifier(self.process.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(lambda *_: self._receive())
        self._set_state("running")
        self.started.emit()
        return True

    def want_weights(self) -> None:
        """Ask the running network for a copy of its weights: :attr:`weights` holds it from the
        next report on (for views that show what the network does as it learns)."""
        if self.process is not None and self.running:
            self.process.want_weights()

    def one_batch(self) -> bool:
        """One training step, on from the weights there are (to watch what a step changes)."""
        return self.start(max_steps=1)

    def from_scratch(self) -> bool:
        return self.start(from_scratch=True)

    def pause(self) -> None:
        if self.state == "running" and self.process is not None:
            self.paused_at = None
            self.process.pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self.state == "paused" and self.process is not None:
            self.paused_at = None
            self.process.resume()
            self._set_state("running")

    def stop(self, wait: bool = True) -> None:
        """Stop training; with ``wait``, return once the weights are back in the document (a
        child that does not answer within ``STOP_SECONDS`` is killed: the best weights it
        sent are kept)."""
        if not self.running or self.process is None:
            return
        self.process.stop()
        if not wait:
            return
        deadline = time.monotonic() + STOP_SECONDS
        while self.running and time.monotonic() < deadline:
            self.process.wait(0.25)
            self._receive()
        if self.running:
            self.process.kill()
            self._receive()

    def kill(self) -> None:
        """End the training process at once (as the system might): the run ends as died."""
        if self.process is not None:
            self.process.kill()
            self._receive()

    # --- from the child -------------------------------------------------------------------

    def _receive(self) -> None:
        process = self.process
        if process is None:
            return
        for message in process.messages():
            if self.process is not process:
                return  # the run ended with an earlier message
            handle = getattr(self, f"_on_{message.kind}", None)
            if handle is not None:
                handle(message)

    def _on_report(self, message: Message) -> None:
        report = Report(**message.data)  # its fields checked (messages.SCHEMAS["report"])
        run = self.current
        first = report.step - len(report.losses) + 1
        if report.step < self.steps_taken or (run is not None and first <= run.curve.last_step):
            self._refuse(f"a report of step {report.step} after step {self.steps_taken}")
            return
        self.reports.append(report)
        self.steps_taken = report.step
        if run is not None:
            follow_report(run, report)
        self._pending = report
        if not self._timer.isActive():
            wait = self._last_frame + 1.0 / FRAME_RATE - time.perf_counter()
            if wait <= 0:
                self._draw()
            else:
                self._timer.start(max(1, int(wait * 1000)))

    def _on_weights(self, message: Message) -> None:
        if message.data.get("epoch_end"):
            loss = message.data.get("val_loss")
            loss = math.inf if loss is None or not math.isfinite(loss) else float(loss)
            if self.best is None or loss <= self.best[0]:
                self.best = (loss, message.arrays)
        if self.running:
            self.weights = message.arrays

    def _on_paused(self, message: Message) -> None:
        if self.state == "paused":
            self.paused_at = message.data["step"]

    def _on_done(self, message: Message) -> None:
        data = message.data  # its fields checked (messages.SCHEMAS["done"])
        result = TrainingResult(**{k: v for k, v in data.items() if k != "options"})
        options = data["options"]
        self._finish()
        # the weights go with what the data worked out then (not an undo step: the options
        # belong to the weights, which are kept as unsaved work, not as an edit)
        self.document.project.keep_dataset_options(options)
        if self.current is not None:
            self.current.stopped = result.stopped
            self.document.runs.append(self.current)
        self.document.set_weights(message.arrays, self.current)
        self._draw()
        self.finished.emit(result)

    def _on_failed(self, message: Message) -> None:
        self._finish()
        self.current = None  # a run that never ran is not drawn or kept
        self.failed.emit(message.data["message"] or "Training failed.")
        self.finished.emit(None)

    def _refuse(self, why: str) -> None:
        """End a child whose message cannot be used, and the run, as when it dies."""
        self.process.kill()
        reason = f"the training process sent a message that was refused: {why}"
        self._on_died(Message("died", {"message": reason}))

    def _on_died(self, message: Message) -> None:
        """The child is gone: keep the run so far and the best weights it sent."""
        best = self.best
        self._finish()
        kept = ""
        # a run that took steps is kept (its epoch's weights may come before its report)
        if self.current is not None and (len(self.current.curve) or best is not None):
            self.current.stopped = "process died"
            self.document.runs.append(self.current)
        else:
            self.current = None
        if best is not None:
            self.document.set_weights(best[1], self.current)
            kept = " The weights of its best epoch so far are kept."
        reason = message.data["message"]
        self.failed.emit(f"Training stopped: {reason}.{kept} Start trains again.")
        self.finished.emit(None)
        QTimer.singleShot(0, training_process.warm_spare)  # the next Start waits for nothing

    def _draw(self) -> None:
        if self._pending is not None:
            report, self._pending = self._pending, None
            self._last_frame = time.perf_counter()
            self.frames_drawn += 1
            self.frame.emit(report)

    def _finish(self) -> None:
        self._timer.stop()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        process, self.process = self.process, None
        if process is not None:
            training_process.give_back(process)  # kept warm for the next run, if it lives
        self.weights = None  # the document's weights are the network's now
        self.paused_at = None
        self._set_state("idle")

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)
