"""The training panel: what to train on and how — the data source, the built-in task's own
settings and the training settings — with the run controls the dock keeps above it
(:mod:`ui.training.run_controls`) and, for generative tasks, the Generate box
(:mod:`ui.training.sample_box`).

Settings changes are undoable edits of the project (they are saved with it): the panel asks the
document for them and shows what the project's events say, so undo, redo and another project
opening all show in its widgets the same way.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnn_builder.engine.optim import OPTIMIZERS
from rnn_builder.errors import InvalidSettingError
from rnn_builder.files.project import SCHEDULES, DatasetReference, Project, TrainingSettings
from rnn_builder.training.tasks import KIND_TASKS, TASKS
from rnn_builder.training.tasks.base import Task
from ui.editor.refusals import DoubleSpinBox, SpinBox
from ui.editor.undo_keys import undo_keys_to_window
from ui.training.run_controls import RunControls
from ui.training.sample_box import SampleBox
from ui.training.task_options import TaskOptions
from ui.wheel import wheel_only_when_focused

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
        # the built-in task's own settings (a sequence length, a set's size): data options
        self.task_options = TaskOptions(document)
        self.task_options.refused.connect(self._say_refused)
        self.task_options.accepted.connect(self.setting_error_hide)
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
        # Start, Pause, Stop, the progress and the numbers: laid out by the dock, above the
        # panel's scrolling part
        self.run_controls = RunControls(document, session)
        self.sample_box = SampleBox()
        self.setting_error = QLabel()
        self.setting_error.setObjectName("setting_error")
        self.setting_error.setWordWrap(True)
        self.setting_error.setStyleSheet("color: #d0342c")
        self.setting_error.hide()
        form.addRow(self.setting_error)
        settings = QGroupBox("Settings")
        settings.setLayout(form)
        layout = QVBoxLayout(self)  # what to train on first, the settings below
        layout.addLayout(top)
        layout.addWidget(self.task_options)
        layout.addWidget(self.sample_box)
        layout.addWidget(settings)
        layout.addStretch(1)
        self.source.currentIndexChanged.connect(self._source_chosen)
        session.state_changed.connect(self._state_changed)
        document.replaced.connect(self._follow_project)
        document.undo_stack.indexChanged.connect(self._describe_binding)
        undo_keys_to_window(self, *self.editors.values())
        wheel_only_when_focused(*self.editors.values(), self.source)
        self._follow_project()
        self._state_changed("idle")

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
        self.sample_box.clear()
        self.load_from_project()

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
        if self.run_controls.failure_shown and not self.session.running:
            self.run_controls.show_document()  # a refusal about the data chosen before goes

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

    def setting_error_hide(self) -> None:
        self.setting_error.hide()

    def _say_refused(self, message: str) -> None:
        self.setting_error.setText(message)
        self.setting_error.show()

    def _refused(self, message: str) -> None:
        """Say why, and show the project's values again in place of the refused one."""
        self._say_refused(message)
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
        self.task_options.show_options()
        task = self._task()
        self.sample_box.setVisible(task is not None and task.generative)
        if task is not None and task.generative:
            self.sample_box.offer_primes(task, reference.options)

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

    # --- running --------------------------------------------------------------------------

    def _state_changed(self, state: str) -> None:
        """While a run goes, what it trains on and how stay as they are."""
        running = state != "idle"
        for editor in self.editors.values():
            editor.setEnabled(not running)
        self.source.setEnabled(not running)
        self.task_options.set_enabled(not running)
