"""The training panel: what to train on, how, and the buttons that start, pause and stop it.

Settings changes are undoable edits of the project (they are saved with it): the panel asks the
document for them and shows what the project's events say, so undo, redo and another project
opening all show in its widgets the same way. The panel shows
the latest report — step, epoch, losses, the task's metric, gradient norm, speed — and a
progress bar with the time left; when another project opens, what that project's runs and
weights are (:func:`describe_training`), never the numbers of the one that was open before.
For generative tasks (music, text) it can sample, with a temperature slider and what to start
from: a chord for the music, the opening text for a language model (the task's own choices,
:meth:`~rnn_builder.training.tasks.base.Task.prime_choices`).
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnn_builder.engine.optim import OPTIMIZERS
from rnn_builder.errors import InvalidSettingError
from rnn_builder.files.project import SCHEDULES, DatasetReference, Project, TrainingSettings
from rnn_builder.training.tasks import KIND_TASKS, TASKS
from rnn_builder.training.tasks.base import Task
from rnn_builder.training.trainer import Report
from ui.editor.refusals import DoubleSpinBox, SpinBox
from ui.editor.undo_keys import undo_keys_to_window
from ui.training.drawn import DrawnView
from ui.wheel import wheel_only_when_focused

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


# a file's kind as the panel names it
FILE_KIND_NAMES = {
    "csv": "Time series",
    "text": "Text",
    "labelled": "Labelled text",
    "tagged": "Tagged tokens",
    "pairs": "Sequence pairs",
    "sequences": "Numeric sequences",
}
OWN_FILE = ("file", "")  # the list's "Your own file…": the data view opens


class TrainingPanel(QWidget):
    choose_file = Signal(str)  # "file": the window opens the data view on a file

    def __init__(self, document, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("training")
        self.document = document
        self.session = session
        self._loading = False
        self._failure_shown = False  # the metrics say why a run failed
        self._followed: Project | None = None  # the project whose events the panel follows
        self.source = QComboBox()
        self.source.setObjectName("training_source")
        self.source.setToolTip("What the network learns from: a built-in task or your file")
        for name, task in TASKS.items():
            self.source.addItem(task.title, ("builtin", name))
        self.source.addItem("Your own file…", OWN_FILE)
        self.source_note = QLabel()
        self.source_note.setObjectName("training_source_note")
        self.source_note.setWordWrap(True)
        self.view_data_button = QPushButton("View…")
        self.view_data_button.setObjectName("training_view_data")
        self.view_data_button.setToolTip(
            "The data view: a file's first rows, its columns and options, what it holds, and "
            "fitting the graph to it"
        )
        self.view_data_button.clicked.connect(lambda: self.choose_file.emit("view"))
        self.binding_note = QLabel()
        self.binding_note.setObjectName("training_binding")
        self.binding_note.setWordWrap(True)
        self.binding_note.setToolTip(
            "Which field of the data feeds which node (select an input or Output node to "
            "change it in the inspector)"
        )
        self.editors: dict[str, QWidget] = {}
        source_row = QHBoxLayout()
        source_row.addWidget(self.source, 1)
        source_row.addWidget(self.view_data_button)
        top = QFormLayout()
        top.addRow("Data", source_row)
        top.addRow("", self.source_note)
        top.addRow("", self.binding_note)
        form = QFormLayout()
        self._setting(
            form,
            "optimizer",
            "Optimizer",
            self._combo(OPTIMIZERS),
            "How the weights move: Adam adapts the step per weight",
        )
        self._setting(
            form,
            "learning_rate",
            "Learning rate",
            self._decimal("learning_rate", 5, 0.001),
            "Size of each step: too big diverges, too small crawls",
        )
        self._setting(
            form, "batch_size", "Batch size", self._whole("batch_size"), "Examples per step"
        )
        self._setting(
            form, "epochs", "Epochs", self._whole("epochs"), "Passes over the training data"
        )
        self._setting(
            form,
            "clip_norm",
            "Clip gradients at",
            self._decimal("clip_norm", 3, 0.5),
            "Largest gradient norm allowed (0: no clipping) — tames exploding gradients",
        )
        self._setting(
            form,
            "weight_decay",
            "Weight decay",
            self._decimal("weight_decay", 5, 0.0001),
            "Adds this times each weight to its gradient (L2), pulling weights towards 0 (0: off)",
        )
        self._setting(
            form,
            "truncated_bptt",
            "Truncated BPTT",
            self._whole("truncated_bptt"),
            "Backpropagate through at most this many steps (0: the whole sequence)",
        )
        self._setting(
            form,
            "schedule",
            "LR schedule",
            self._combo(SCHEDULES),
            "How the learning rate changes over training",
        )
        self._setting(
            form,
            "patience",
            "Early stopping",
            self._whole("patience"),
            "Stop after this many epochs without a better validation loss (0: off)",
        )
        self._setting(
            form,
            "seed",
            "Seed",
            self._whole("seed"),
            "Same seed, same weights and batches: runs repeat exactly",
        )
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
        self.sample_box = QGroupBox("Generate")
        self.temperature = QSlider(Qt.Orientation.Horizontal)
        self.temperature.setObjectName("temperature")
        self.temperature.setRange(5, 200)
        self.temperature.setValue(80)
        self.temperature.setToolTip("Temperature: low is safe and repetitive, high is daring")
        self.temperature_label = QLabel()
        # what sampling starts from: a chord from the task's list, or any opening text
        self.prime_label = QLabel()
        self.prime_choice = QComboBox()
        self.prime_choice.setObjectName("sample_prime_choice")
        self.prime_choice.setToolTip("The chord whose notes the network plays")
        self.prime_text = QLineEdit()
        self.prime_text.setObjectName("sample_prime_text")
        self.prime_text.setToolTip("The text the network goes on from")
        self.sample_button = QPushButton("Sample")
        self.sample_button.setObjectName("sample")
        self.sample_output = QLabel()
        self.sample_output.setObjectName("sample_output")
        self.sample_output.setWordWrap(True)
        self.sample_output.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sample_note = QLabel()  # how the sample was drawn, when the reader should know
        self.sample_note.setObjectName("sample_note")
        self.sample_note.setWordWrap(True)
        self.sample_note.setTextFormat(Qt.TextFormat.PlainText)
        self.sample_note.hide()
        sample_layout = QVBoxLayout(self.sample_box)
        row = QHBoxLayout()
        row.addWidget(QLabel("Temperature"))
        row.addWidget(self.temperature, 1)
        row.addWidget(self.temperature_label)
        sample_layout.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.prime_label)
        row.addWidget(self.prime_choice, 1)
        row.addWidget(self.prime_text, 1)
        sample_layout.addLayout(row)
        sample_layout.addWidget(self.sample_button)
        sample_layout.addWidget(self.sample_output)
        self.drawn_view = DrawnView()  # what the sample was drawn from, at the slider's T
        sample_layout.addWidget(self.drawn_view)
        sample_layout.addWidget(self.sample_note)
        self.setting_error = QLabel()
        self.setting_error.setObjectName("setting_error")
        self.setting_error.setWordWrap(True)
        self.setting_error.setStyleSheet("color: #d0342c")
        self.setting_error.hide()
        form.addRow(self.setting_error)
        settings = QGroupBox("Settings")
        settings.setLayout(form)
        # Start, Pause, Stop, the progress and the numbers: a header of their own that the
        # dock keeps above the panel's scrolling part (issue 23: while training the panel
        # scrolled down to its progress and the buttons went out of view)
        self.header = QWidget()
        self.header.setObjectName("training_header")
        header = QVBoxLayout(self.header)
        header.setContentsMargins(9, 6, 9, 2)
        header.addLayout(buttons)
        header.addWidget(self.progress)
        header.addWidget(self.metrics)
        layout = QVBoxLayout(self)  # what to train on first, the settings below
        layout.addLayout(top)
        layout.addWidget(self.sample_box)
        layout.addWidget(settings)
        layout.addStretch(1)
        self.source.currentIndexChanged.connect(self._source_chosen)
        self.start_button.clicked.connect(self._start)
        self.scratch_button.clicked.connect(lambda: self._start(from_scratch=True))
        self.pause_button.clicked.connect(self.pause_or_resume)
        self.stop_button.clicked.connect(lambda: session.stop(wait=False))
        self.batch_button.clicked.connect(session.one_batch)
        self.temperature.valueChanged.connect(self._show_temperature)
        session.state_changed.connect(self._state_changed)
        session.frame.connect(self.show_report)
        session.failed.connect(self.show_failure)
        document.replaced.connect(self._follow_project)
        document.undo_stack.indexChanged.connect(self._describe_binding)
        document.weights_changed.connect(self.offer_start)
        document.replaced.connect(self.offer_start)
        document.undo_stack.indexChanged.connect(self.offer_start)
        undo_keys_to_window(self, *self.editors.values())
        wheel_only_when_focused(*self.editors.values(), self.source, self.temperature)
        wheel_only_when_focused(self.prime_choice)
        self._show_temperature()
        self._follow_project()
        self.show_document()
        self._state_changed("idle")
        self.offer_start()

    # --- widgets ---------------------------------------------------------------------------

    @staticmethod
    def _combo(choices) -> QComboBox:
        combo = QComboBox()
        combo.addItems(list(choices))
        return combo

    @staticmethod
    def _whole(name: str) -> QSpinBox | QDoubleSpinBox:
        """A box for a whole-number setting over the project's own limits. Qt's QSpinBox
        holds 32-bit signed numbers only; above that (a seed up to 2³²−1) the box counts in
        doubles without decimals, exact up to 2⁵³, and ``_set`` hands the project an int."""
        _kind, low, high, _choices = TrainingSettings.LIMITS[name]
        if high <= 2**31 - 1:
            spin = SpinBox()
        else:
            spin = DoubleSpinBox()
            spin.setDecimals(0)
        spin.setRange(low, high)
        spin.setKeyboardTracking(False)
        return spin

    @staticmethod
    def _decimal(name: str, decimals: int, step: float) -> QDoubleSpinBox:
        """A box for a decimal setting over the project's own limits; a lowest value that
        must stay above it (the learning rate's 0) is the box's smallest step instead."""
        _kind, low, high, _choices = TrainingSettings.LIMITS[name]
        spin = DoubleSpinBox()
        spin.setDecimals(decimals)
        if TrainingSettings.problem(name, low) is not None:
            low = 10.0**-decimals
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setKeyboardTracking(False)
        return spin

    def _setting(self, form, name: str, label: str, editor: QWidget, tip: str) -> None:
        editor.setObjectName(f"setting_{name}")
        editor.setToolTip(tip)
        if isinstance(editor, SpinBox | DoubleSpinBox):  # a number out of range: why
            editor.why = lambda value, n=name: TrainingSettings.problem(n, value)
            editor.say = self._say_refused
        self.editors[name] = editor
        form.addRow(label, editor)
        if isinstance(editor, QComboBox):
            editor.currentTextChanged.connect(lambda value, n=name: self._set(n, value))
        else:
            editor.valueChanged.connect(lambda value, n=name: self._set(n, value))

    # --- project <-> widgets --------------------------------------------------------------

    def _follow_project(self) -> None:
        """Follow the open project's events (another project opened: that one's) and show it."""
        project = self.document.project
        if self._followed is not project:
            self.detach()
            project.training_changed.subscribe(self._training_changed)
            project.dataset_changed.subscribe(self._dataset_changed)
            self._followed = project
        self.setting_error.hide()
        self.clear_sample()
        self.load_from_project()

    def clear_sample(self) -> None:
        """Forget the last project's sample and the text it started from (issue 23: they
        stayed after another project opened, as if this one had made them)."""
        self.sample_output.clear()
        self.drawn_view.clear()
        self.sample_note.clear()
        self.sample_note.hide()
        self.prime_text.clear()

    def detach(self) -> None:
        """Stop following the project (before the panel is dropped)."""
        if self._followed is not None:
            self._followed.training_changed.unsubscribe(self._training_changed)
            self._followed.dataset_changed.unsubscribe(self._dataset_changed)
            self._followed = None

    def _training_changed(self, name: str, _old, _new) -> None:
        if name in self.editors:
            self._show_setting(name)

    def _dataset_changed(self, _old, _new) -> None:
        self._show_source()
        if self._failure_shown and not self.session.running:
            self.show_document()  # a refusal about the data that was chosen before goes

    def load_from_project(self) -> None:
        """Show the project's settings and data source as they are."""
        for name in self.editors:
            self._show_setting(name)
        self._show_source()

    def _show_setting(self, name: str) -> None:
        editor, value = self.editors[name], getattr(self.document.project.training, name)
        self._loading = True
        try:
            if isinstance(editor, QComboBox):
                editor.setCurrentText(str(value))
            else:
                editor.setValue(value)
        finally:
            self._loading = False

    def _show_source(self) -> None:
        reference = self.document.project.dataset
        key = (reference.kind, reference.name) if reference else None
        if key is not None and key[0] != "builtin":
            key = OWN_FILE
        index = next((i for i in range(self.source.count()) if self.source.itemData(i) == key), -1)
        self._loading = True
        try:
            self.source.setCurrentIndex(index)
        finally:
            self._loading = False
        self._describe_source()

    def _set(self, name: str, value) -> None:
        if self._loading:
            return
        if TrainingSettings.LIMITS[name][0] is int:
            value = round(value)  # a whole number from a box that counts in doubles
        try:
            done = self.document.set_training(name, value)
        except InvalidSettingError as error:
            self._refused(str(error))
            return
        self.setting_error.hide()
        if not done:  # refused by the guard: the widget goes back to the project's value
            self._show_setting(name)

    def _source_chosen(self, index: int) -> None:
        if self._loading or index < 0:
            return
        kind, name = self.source.itemData(index)
        if kind == "builtin":
            self._use(DatasetReference("builtin", name, {}))
        else:
            self.choose_file.emit(kind)
            self.load_from_project()  # the data view changes the data, if it is used

    def use_file(self, kind: str, path: str) -> None:
        """Train on a user's file (called by the window once a path is chosen)."""
        self._use(DatasetReference(kind, path, {}))

    def _use(self, reference: DatasetReference) -> None:
        try:
            done = self.document.set_dataset(reference)
        except InvalidSettingError as error:
            self._refused(str(error))
            return
        self.setting_error.hide()
        if not done:
            self._show_source()

    def _say_refused(self, message: str) -> None:
        self.setting_error.setText(message)
        self.setting_error.show()

    def _refused(self, message: str) -> None:
        self.setting_error.setText(message)
        self.setting_error.show()
        self.load_from_project()

    def _describe_source(self) -> None:
        reference = self.document.project.dataset
        self.source_note.setToolTip("")
        if reference is None:
            self.source_note.setText("Choose what to train on.")
        elif reference.kind == "builtin" and reference.name in TASKS:
            self.source_note.setText(TASKS[reference.name].description)
        else:
            what = FILE_KIND_NAMES.get(reference.kind, reference.kind)
            name = Path(reference.name).name if reference.name else "(bundled)"
            self.source_note.setText(f"{what} from {name}")
            self.source_note.setToolTip(reference.name)
        self._describe_binding()
        task = self._task()
        self.sample_box.setVisible(task is not None and task.generative)
        if task is not None and task.generative:
            self._offer_primes(task, reference.options)

    def _describe_binding(self, _index: int = 0) -> None:
        """Which field feeds which node, by the nodes' names (followed when one is renamed)."""
        reference = self.document.project.dataset
        bound = ""
        if reference is not None and reference.binding:
            graph = self.document.graph
            bound = "Feeds: " + ", ".join(
                f"{field} → {graph.node(node).name if node in graph else node}"
                for field, node in reference.binding.items()
            )
        self.binding_note.setText(bound)
        self.binding_note.setVisible(bool(bound))

    def _task(self) -> Task | None:
        """The task the project trains on (a file's kind names its task), if it is known."""
        reference = self.document.project.dataset
        if reference is None:
            return None
        if reference.kind == "builtin":
            return TASKS.get(reference.name)
        return TASKS.get(KIND_TASKS.get(reference.kind, ""))

    def _offer_primes(self, task: Task, options: dict) -> None:
        """A list of the task's primes when it has a fixed set, else a box for any text; each
        shows the task's default first (what the CLI's ``sample`` uses without ``--prime``)."""
        self.prime_label.setText(task.prime_label)
        choices = task.prime_choices(options)
        self.prime_choice.setVisible(choices is not None)
        self.prime_text.setVisible(choices is None)
        if choices is not None:
            if [self.prime_choice.itemText(i) for i in range(self.prime_choice.count())] != choices:
                self.prime_choice.clear()
                self.prime_choice.addItems(choices)
                self.prime_choice.setCurrentText(task.default_prime)
        elif self.prime_text.placeholderText() != task.default_prime:
            self.prime_text.setPlaceholderText(task.default_prime)
            self.prime_text.clear()

    def prime(self) -> str | None:
        """What sampling starts from (``None``: the task's default)."""
        if self.prime_choice.isVisibleTo(self.sample_box):
            return self.prime_choice.currentText() or None
        return self.prime_text.text() or None

    def show_sample(self, text: str, note: str = "", drawn=()) -> None:
        """The sample, what it was drawn from (``drawn``: each step's distribution, shown at
        the slider's temperature), and how it was drawn when the reader should know (an
        arpeggio's notes are drawn independently of each other)."""
        self.sample_output.setText(text)
        self.drawn_view.show_drawn(list(drawn), self.temperature_value())
        self.sample_note.setText(note)
        self.sample_note.setVisible(bool(note))

    def _show_temperature(self) -> None:
        self.temperature_label.setText(f"{self.temperature_value():.2f}")
        self.drawn_view.set_temperature(self.temperature_value())  # redrawn at the new T

    def temperature_value(self) -> float:
        return self.temperature.value() / 100.0

    # --- running --------------------------------------------------------------------------

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
        for editor in self.editors.values():
            editor.setEnabled(not running)
        self.source.setEnabled(not running)
        if state == "idle" and self.progress.format() != "ready":
            self.progress.setFormat(self.progress.format().split(" — ")[0] + " — done")

    def show_document(self, note: str = "") -> None:
        """Describe the open project's training (another project opened, or weights
        imported): no progress yet, what its runs and weights are, and ``note`` after."""
        self._failure_shown = False
        self.progress.setValue(0)
        self.progress.setFormat("ready")
        text = describe_training(self.document)
        self.metrics.setText(text + (f"<br>{html.escape(note)}" if note else ""))

    def show_failure(self, message: str) -> None:
        """A run that could not start or whose process died: said here, where the user
        looks, under what the project's runs and weights are now."""
        self.progress.setFormat(self.progress.format().split(" — ")[0] + " — failed")
        self._failure_shown = True
        text = describe_training(self.document)
        self.metrics.setText(f"<b style='color:#d0342c'>{html.escape(message)}</b><br>{text}")

    def show_report(self, report: Report) -> None:
        self._failure_shown = False
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
