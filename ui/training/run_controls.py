"""The training panel's run controls: Start (or Continue and From scratch), Pause, Stop and One
batch, the progress bar with the time left, and the numbers of the latest report — step,
epoch, losses, the task's metric, gradient norm, speed.

They are a header of their own that the dock keeps above the panel's scrolling part (issue 23:
while training the panel scrolled down to its progress and the buttons went out of view). When
another project opens they say what that project's runs and weights are
(:func:`describe_training`), never the numbers of the one that was open before.
"""

from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from rnn_builder.training.trainer import Report

METRIC_NAMES = {
    "accuracy": "accuracy",
    "token_accuracy": "token accuracy",
    "sequence_accuracy": "exactly right",
    "mse": "MSE",
}


def describe_training(document) -> str:
    """What the document's network has been through, in a line (rich text): its runs and their
    last numbers, weights from a file, or nothing yet. Shown whenever another project opens, so
    that the panel never shows the numbers of a project that is no longer in front of it."""
    runs, weights = document.runs, document.weights
    if runs:
        last = runs[-1]
        count = f"{len(runs)} run{'s' if len(runs) != 1 else ''}"
        parts = [f"Trained: {count}, last: run {last.number}" + _stopped(last.stopped)]
        if last.curve.last is not None:
            parts.append(f"loss <b>{last.curve.last:.4g}</b>")
        if last.val_loss:
            parts.append(f"validation loss <b>{last.val_loss[-1]:.4g}</b>")
        if last.val_metric and math.isfinite(last.val_metric[-1]):
            parts.append(f"{_metric_name(last.metric)} <b>{last.val_metric[-1]:.1%}</b>")
        text = " · ".join(parts)
        if not weights:  # the runs were read, the weights not (left out, or never saved)
            text += "<br>Its trained weights were not loaded: training starts afresh."
    elif weights:
        text = "Weights loaded from file, not trained in this session."
    else:
        return "Not trained yet."
    if weights and document.weights_if_they_fit() is None:
        text += "<br>The weights do not fit this graph any more: training starts afresh."
    return text


# how a run ended (``TrainingResult.stopped``), as the panel says it
STOPPED = {
    "finished": "finished",
    "early stopping": "stopped early",
    "cancelled": "stopped",
    "time": "time limit",
    "steps": "step limit",
    "not finite": "loss not finite",
    "process died": "the training process died",
}


def _stopped(how: str) -> str:
    return f" ({html.escape(STOPPED.get(how, how))})" if how else ""


def _metric_name(metric: str) -> str:
    return METRIC_NAMES.get(metric, metric)


class RunControls(QWidget):
    """The buttons that start, pause and stop training, its progress and its numbers."""

    def __init__(self, document, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("training_header")
        self.document = document
        self.session = session
        self.failure_shown = False  # the numbers say why a run failed
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("train_start")
        self.start_button.setToolTip("Train in the background; the canvas stays usable")
        # a trained network: Start goes on from its weights (and says so), or from scratch
        self.scratch_button = QPushButton("From scratch")
        self.scratch_button.setObjectName("train_scratch")
        self.scratch_button.setToolTip(
            "Train again from fresh weights (made from the seed): a run to compare with the "
            "others from the same start"
        )
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("train_pause")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("train_stop")
        self.stop_button.setToolTip("Stop and keep the best weights so far")
        self.batch_button = QPushButton("One batch")
        self.batch_button.setObjectName("train_one_batch")
        self.batch_button.setToolTip("Take a single training step, to watch what it changes")
        buttons = QHBoxLayout()
        for button in (
            self.start_button,
            self.scratch_button,
            self.pause_button,
            self.stop_button,
            self.batch_button,
        ):
            buttons.addWidget(button)
        self.progress = QProgressBar()
        self.progress.setObjectName("train_progress")
        self.progress.setRange(0, 1000)
        self.progress.setFormat("ready")
        self.progress.setTextVisible(True)
        self.metrics = QLabel()
        self.metrics.setObjectName("train_metrics")
        self.metrics.setWordWrap(True)
        self.metrics.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(9, 6, 9, 2)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.metrics)
        self.start_button.clicked.connect(self._start)
        self.scratch_button.clicked.connect(lambda: self._start(from_scratch=True))
        self.pause_button.clicked.connect(self.pause_or_resume)
        self.stop_button.clicked.connect(lambda: session.stop(wait=False))
        self.batch_button.clicked.connect(session.one_batch)
        session.state_changed.connect(self._state_changed)
        session.frame.connect(self.show_report)
        session.failed.connect(self.show_failure)
        document.weights_changed.connect(self.offer_start)
        document.replaced.connect(self.offer_start)
        document.undo_stack.indexChanged.connect(self.offer_start)
        self.show_document()
        self._state_changed("idle")
        self.offer_start()

    def offer_start(self, *_changed) -> None:
        """Start, or — the network trained, its weights fitting the graph — Continue and
        From scratch: which one a run is, is chosen and seen, never assumed (issue 23: Start
        went on from the weights silently, and the runs' curves compared misleadingly)."""
        trained = self.document.weights_if_they_fit() is not None
        steps, run = self.document.trained_steps()
        self.start_button.setText("Continue" if trained else "Start")
        after = f" (run {run}, {steps:,} steps)" if run is not None else " (from a file)"
        self.start_button.setToolTip(
            f"Go on training from the network's trained weights{after}; the run is drawn "
            "from the step where it goes on"
            if trained
            else "Train in the background; the canvas stays usable"
        )
        self.scratch_button.setVisible(trained)

    def _start(self, from_scratch: bool = False) -> None:
        self.session.start(from_scratch=from_scratch)
        if self.pause_button.isEnabled():  # the keyboard stays on the buttons, in view
            self.pause_button.setFocus()

    def pause_or_resume(self) -> None:
        if self.session.state == "paused":
            self.session.resume()
        else:
            self.session.pause()

    def _state_changed(self, state: str) -> None:
        running = state != "idle"
        self.start_button.setEnabled(not running)
        self.scratch_button.setEnabled(not running)
        self.batch_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        if state == "idle" and self.progress.format() != "ready":
            self.progress.setFormat(self.progress.format().split(" — ")[0] + " — done")

    def show_document(self, note: str = "") -> None:
        """Describe the open project's training (another project opened, or weights
        imported): no progress yet, what its runs and weights are, and ``note`` after."""
        self.failure_shown = False
        self.progress.setValue(0)
        self.progress.setFormat("ready")
        text = describe_training(self.document)
        self.metrics.setText(text + (f"<br>{html.escape(note)}" if note else ""))

    def show_failure(self, message: str) -> None:
        """A run that could not start or whose process died: said here, where the user
        looks, under what the project's runs and weights are now."""
        self.progress.setFormat(self.progress.format().split(" — ")[0] + " — failed")
        self.failure_shown = True
        text = describe_training(self.document)
        self.metrics.setText(f"<b style='color:#d0342c'>{html.escape(message)}</b><br>{text}")

    def show_report(self, report: Report) -> None:
        self.failure_shown = False
        total = max(report.total_steps, 1)
        value = int(1000 * report.step / total)
        if value != self.progress.value():
            self.progress.setValue(value)
        left = f" — {report.remaining:.0f} s left" if report.remaining is not None else ""
        self.progress.setFormat(f"step {report.step} / {total}{left}")
        parts = [f"epoch {report.epoch} of {report.epochs}", f"loss <b>{report.loss:.4g}</b>"]
        if report.val_loss is not None:
            parts.append(f"validation loss <b>{report.val_loss:.4g}</b>")
        if report.val_metric is not None:
            parts.append(f"{_metric_name(report.metric)} <b>{report.val_metric:.1%}</b>")
        parts.append(f"gradient norm {report.grad_norm:.3g}")
        if report.examples_per_second > 0:  # (the final report has no speed of its own)
            parts.append(f"{report.examples_per_second:,.0f} examples/s")
        text = " · ".join(parts)
        if report.message:
            text += f"<br><span style='color:#d0342c'>{html.escape(report.message)}</span>"
        self.metrics.setText(text)
