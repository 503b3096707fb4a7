"""Training from the window: the core trainer in a worker thread, its reports to the GUI.

The worker builds the data set and an executor in its own thread (generating data can take a
moment) and runs :class:`rnn_builder.training.Trainer`; every report crosses to the GUI thread by
a queued signal. The GUI side (:class:`TrainingSession`) keeps every report for the plots but
redraws at most ``FRAME_RATE`` times a second, from a timer, with the latest state; when drawing
costs more than ``GUI_BUDGET`` of the GUI thread's time (it competes with the worker for
Python's GIL), the timer slows down so that training keeps its speed. Pause,
resume and stop go straight to the trainer, which is safe from any thread.

Python's cyclic garbage collector never runs in the worker: the app collects only on the GUI
thread, at safe points (:mod:`rnn_builder.collector`).

When a run ends (finished, stopped, or a NaN caught), its weights become the document's, and
the run — its settings and its curves — joins the document's history, so that runs can be
compared in the plots.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QThread, QTimer, Signal, Slot

from rnn_builder.errors import RNNBuilderError
from rnn_builder.executor import Executor
from rnn_builder.project import Project
from rnn_builder.tasks import load_dataset
from rnn_builder.training import Report, Trainer, TrainingResult

FRAME_RATE = 30  # redraws a second, at most
# Drawing holds Python's GIL, which the worker needs too: the GUI thread's share of a CPU is
# kept near this budget by spacing the redraws out (at most one a second when it is costly).
GUI_BUDGET = 0.10
SLOWEST_FRAME_MS = 1000


@dataclass
class RunRecord:
    """One training run: what it was, and its curves (for comparing runs)."""

    number: int
    label: str
    settings: dict
    steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    metric: str = "accuracy"
    stopped: str = ""

    def to_json(self) -> dict:
        return dict(self.__dict__)

    @staticmethod
    def from_json(data: dict) -> RunRecord:
        known = {k: data[k] for k in RunRecord.__dataclass_fields__ if k in data}
        return RunRecord(**known)


def describe_run(project: Project) -> str:
    """A short label: the cells and the settings that differ between typical runs."""
    graph = project.graph
    cells = [
        f"{n.type_name.upper()}{'²' if n.params.get('bidirectional') else ''} "
        f"{n.params['hidden_size']}"
        for n in graph.cells()
    ]
    settings = project.training
    clip = f"clip {settings.clip_norm:g}" if settings.clip_norm else "no clip"
    optimizer = f"{settings.optimizer} {settings.learning_rate:g}"
    return f"{', '.join(cells) or 'no cell'} · {optimizer} · {clip}"


class TrainingWorker(QObject):
    """Runs one training in its thread; lives there from start to finish."""

    reported = Signal(object)  # Report
    snapshot = Signal(object)  # a copy of the weights as they are at a report, when asked for
    done = Signal(object, object)  # TrainingResult, weights dict
    failed = Signal(str)

    def __init__(
        self, project: Project, base: Path | None, weights: dict | None, max_steps: int | None
    ) -> None:
        super().__init__()
        self.project = project
        self.base = base
        self.weights = weights
        self.max_steps = max_steps
        self.trainer: Trainer | None = None
        self.executor: Executor | None = None
        self.options: dict = {}
        # Pause, resume and cancel may come before the trainer exists (while the data loads):
        # remembered here, under a lock, and handed to the trainer when it is made.
        self._control = threading.Lock()
        self._paused = False
        self._cancelled = False
        self._weights_wanted = threading.Event()

    @Slot()
    def run(self) -> None:
        try:
            self._run()
        finally:  # back to the GUI thread, to be deleted there
            self.moveToThread(QCoreApplication.instance().thread())

    def _run(self) -> None:
        try:
            dataset = load_dataset(self.project, base=self.base)
            self.options = dataset.info["options"]  # what the data worked out, for the project
            executor = Executor(self.project.graph, seed=self.project.training.seed)
            if self.weights is not None:
                executor.set_parameters(self.weights, strict=False)
            self.executor = executor
            trainer = Trainer(
                executor,
                dataset,
                self.project.training,
                self._report,
                report_every=1.0 / FRAME_RATE,
                max_steps=self.max_steps,
            )
            with self._control:
                self.trainer = trainer
                if self._paused:
                    trainer.pause()
                if self._cancelled:
                    trainer.cancel()
            result = trainer.train()
        except RNNBuilderError as error:
            self.failed.emit(str(error))
            return
        except Exception as error:  # a bug must not kill the app silently
            self.failed.emit(f"Training failed unexpectedly: {type(error).__name__}: {error}")
            return
        self.done.emit(result, executor.get_parameters())

    def _report(self, report: Report) -> None:
        # Called by the trainer between two steps, in this thread: the only moment the weights
        # can be copied whole. Copied only when asked (once per GUI frame that shows them): a
        # big network's copy at every report would cost more than the step.
        if self._weights_wanted.is_set() and self.executor is not None:
            self._weights_wanted.clear()
            self.snapshot.emit(self.executor.get_parameters())
        self.reported.emit(report)

    def want_weights(self) -> None:
        """Send a copy of the weights with the next report (from any thread)."""
        self._weights_wanted.set()

    def trainer_step(self) -> int:
        """Training steps taken so far (read from any thread)."""
        return self.trainer.steps_taken if self.trainer is not None else 0

    def pause(self) -> None:
        with self._control:
            self._paused = True
            if self.trainer is not None:
                self.trainer.pause()

    def resume(self) -> None:
        with self._control:
            self._paused = False
            if self.trainer is not None:
                self.trainer.resume()

    def cancel(self) -> None:
        with self._control:
            self._cancelled = True
            if self.trainer is not None:
                self.trainer.cancel()


class TrainingSession(QObject):
    """The GUI side of training: starts workers, collects reports, paces redraws."""

    started = Signal()
    frame = Signal(object)  # the latest Report, at most FRAME_RATE times a second
    finished = Signal(object)  # TrainingResult (or None after a failure)
    failed = Signal(str)
    state_changed = Signal(str)  # "idle", "running", "paused"

    def __init__(self, document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.thread: QThread | None = None
        self.worker: TrainingWorker | None = None
        self.state = "idle"
        self.reports: list[Report] = []
        self.current: RunRecord | None = None
        # the running network's weights at its latest report, when asked for (want_weights);
        # None when idle (the document's weights are the network's then)
        self.weights: dict | None = None
        self._pending: Report | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / FRAME_RATE))
        self._timer.timeout.connect(self._draw)
        self.frames_drawn = 0
        self._clock: tuple[float, float] | None = None  # (wall, GUI thread CPU) at the last tick

    @property
    def running(self) -> bool:
        return self.state in ("running", "paused")

    def start(self, max_steps: int | None = None) -> bool:
        """Train the document's project (continuing from its weights if they fit)."""
        if self.running:
            return False
        report = self.document.validate()
        if not report.ok:
            self.failed.emit(
                "The graph has problems to fix before it can train (see the Problems panel)."
            )
            return False
        project = self.document.project.copy()  # the worker's own copy
        base = self.document.path.parent if self.document.path is not None else None
        weights = self.document.weights_if_they_fit()
        self.reports = []
        self.weights = None
        number = len(self.document.runs) + 1
        self.current = RunRecord(
            number, f"run {number}: {describe_run(project)}", project.training.to_json()
        )
        self.worker = TrainingWorker(project, base, weights, max_steps)
        self.thread = QThread(self)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.reported.connect(self._reported)
        self.worker.snapshot.connect(self._weights_arrived)
        self.worker.done.connect(self._done)
        self.worker.failed.connect(self._failed)
        self.thread.start()
        self._timer.setInterval(int(1000 / FRAME_RATE))
        self._clock = None
        self._timer.start()
        self._set_state("running")
        self.started.emit()
        return True

    def want_weights(self) -> None:
        """Ask the running network for a copy of its weights: :attr:`weights` holds it from the
        next report on (for views that show what the network does as it learns)."""
        if self.worker is not None:
            self.worker.want_weights()

    def one_batch(self) -> bool:
        return self.start(max_steps=1)

    def pause(self) -> None:
        if self.state == "running" and self.worker is not None:
            self.worker.pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self.state == "paused" and self.worker is not None:
            self.worker.resume()
            self._set_state("running")

    def stop(self, wait: bool = True) -> None:
        """Stop training; with ``wait``, return once the weights are back in the document."""
        if not self.running or self.worker is None:
            return
        self.worker.cancel()
        if wait and self.running:
            loop = QEventLoop()
            self.finished.connect(loop.quit)
            try:
                if self.running:
                    loop.exec()  # until the worker has handed its weights back
            finally:
                self.finished.disconnect(loop.quit)

    # --- from the worker ------------------------------------------------------------------

    @Slot(object)
    def _reported(self, report: Report) -> None:
        self.reports.append(report)
        run = self.current
        if run is not None:
            if report.kind == "step" or report.kind == "epoch":
                if np.isfinite(report.loss):
                    run.steps.append(report.step)
                    run.loss.append(float(report.loss))
                run.metric = report.metric
            if report.kind == "epoch" and report.val_loss is not None:
                run.val_steps.append(report.step)
                run.val_loss.append(float(report.val_loss))
                run.val_metric.append(
                    float(report.val_metric) if report.val_metric is not None else float("nan")
                )
        self._pending = report

    @Slot(object)
    def _weights_arrived(self, weights: dict) -> None:
        if self.running:
            self.weights = weights

    def _draw(self) -> None:
        self._pace()
        if self._pending is not None:
            report, self._pending = self._pending, None
            self.frames_drawn += 1
            self.frame.emit(report)

    def _pace(self) -> None:
        """Space the redraws so that the GUI thread stays near its budget of the CPU."""
        now = (time.perf_counter(), time.thread_time())
        if self._clock is not None:
            wall, cpu = now[0] - self._clock[0], now[1] - self._clock[1]
            busy = cpu / wall if wall > 0 else 0.0
            interval = self._timer.interval()
            if busy > GUI_BUDGET:
                interval = min(int(interval * 1.5) + 1, SLOWEST_FRAME_MS)
            elif busy < GUI_BUDGET / 2:
                interval = max(int(interval / 1.25), int(1000 / FRAME_RATE))
            if interval != self._timer.interval():
                self._timer.setInterval(interval)
        self._clock = now

    @Slot(object, object)
    def _done(self, result: TrainingResult, weights: dict) -> None:
        options = self.worker.options if self.worker is not None else {}
        self._finish()
        project = self.document.project
        if project.dataset is not None:  # the weights go with what the data worked out then
            for key, value in options.items():
                if key != "path":
                    project.dataset.options[key] = value
        self.document.set_weights(weights)
        if self.current is not None:
            self.current.stopped = result.stopped
            self.document.runs.append(self.current)
        self._draw()
        self.finished.emit(result)

    @Slot(str)
    def _failed(self, message: str) -> None:
        self._finish()
        self.current = None  # a run that never ran is not drawn or kept
        self.failed.emit(message)
        self.finished.emit(None)

    def _finish(self) -> None:
        self._timer.stop()
        if self.thread is not None:
            self.thread.quit()
            self.thread.wait()
            self.thread.deleteLater()
        self.thread, self.worker = None, None  # the worker is deleted here, in the GUI thread
        self.weights = None  # the document's weights are the network's now
        self._set_state("idle")

    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)
