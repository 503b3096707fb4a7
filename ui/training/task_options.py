"""The built-in task's own settings in the training panel: the adding problem's sequence length,
the sizes of the generated sets, a spiral's turns — every option a person sets in the data
options' table (:data:`rnn_builder.files.data_options.OPTIONS`), never one that reading the
data works out.

Each change is one undo step through the document (:meth:`GraphDocument.set_data_option`), as
``edit --data-option KEY=VALUE`` is on the command line; a box stepped again and again is one
step, as a training setting's is. The box shows what the project's events say, so undo, redo
and another project opening show the same way. A length that no longer matches the graph's
Sequence input is then a warning in the Problems panel with *Fit graph to data* on it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QWidget

from rnn_builder.errors import InvalidSettingError
from rnn_builder.files.data_options import OPTIONS, DataOption, task_of_reference, value_problem
from ui.editor.refusals import DoubleSpinBox, SpinBox
from ui.editor.undo_keys import undo_keys_to_window
from ui.wheel import wheel_only_when_focused

# how the panel names an option, and what it does (an option not listed: its name, in words)
WORDS = {
    "points": ("Points", "How many points the two spirals hold (the data set's size)"),
    "turns": ("Turns", "How many times each spiral winds round: more is harder"),
    "copies": ("Copies", "How many copies of each chord's arpeggio the data holds"),
    "held_out": ("Held out", "The fraction of the data kept for validation"),
    "sentences": ("Sentences", "How many sentences are generated (training and validation)"),
    "steps": (
        "Sequence length",
        "Steps in every sequence: how far back the network must remember",
    ),
    "train": ("Training sequences", "How many sequences the network trains on"),
    "validation": ("Validation sequences", "How many sequences it is checked on"),
    "vocabulary": ("Vocabulary", "The most characters the text may use"),
    "window": ("Window", "Steps the network reads before it predicts"),
    "stride": ("Stride", "Steps between the starts of two windows"),
    "horizon": ("Horizon", "How many steps ahead it predicts"),
    "normalise": ("Normalise", "How the values are scaled before training"),
}
SHOWN_KINDS = ("whole", "number", "choice", "switch")


def settable(task: str | None) -> list[DataOption]:
    """The options of ``task`` a person sets in the panel (numbers, choices, switches)."""
    return [
        option
        for option in OPTIONS.get(task or "", {}).values()
        if not option.learned and option.kind in SHOWN_KINDS
    ]


class TaskOptions(QGroupBox):
    refused = Signal(str)  # an option that could not be set, in words
    accepted = Signal()  # an option was set (a refusal shown before can go)

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__("Task", parent)
        self.setObjectName("task_options")
        self.document = document
        self.form = QFormLayout(self)
        self.editors: dict[str, QWidget] = {}
        self._task: str | None = None
        self._loading = False
        self.hide()

    def show_options(self) -> None:
        """The open project's built-in task's options, as the project holds them (made anew
        when the task changes, only their values shown otherwise: a box being typed into is
        not replaced under the keyboard)."""
        reference = self.document.project.dataset
        task = (
            task_of_reference(reference.kind, reference.name)
            if reference is not None and reference.kind == "builtin"
            else None
        )
        if task != self._task or set(self.editors) != {o.name for o in settable(task)}:
            self._make(task)
        self._loading = True
        try:
            for option in settable(task):
                value = reference.options.get(option.name, option.default)
                editor = self.editors[option.name]
                if isinstance(editor, QComboBox):
                    editor.setCurrentText(str(value))
                elif isinstance(editor, QCheckBox):
                    editor.setChecked(bool(value))
                elif value is not None:
                    editor.setValue(value)
        finally:
            self._loading = False
        self.setVisible(bool(self.editors))

    def set_enabled(self, enabled: bool) -> None:
        for editor in self.editors.values():
            editor.setEnabled(enabled)

    def _make(self, task: str | None) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        self._task = task
        for option in settable(task):
            label, tip = WORDS.get(option.name, (option.name.replace("_", " ").capitalize(), ""))
            editor = self._editor(option)
            editor.setObjectName(f"data_option_{option.name}")
            editor.setToolTip(f"{tip} (the data option '{option.name}')".lstrip())
            self.editors[option.name] = editor
            self.form.addRow(label, editor)
        undo_keys_to_window(self, *self.editors.values())
        wheel_only_when_focused(*self.editors.values())

    def _editor(self, option: DataOption) -> QWidget:
        name = option.name
        if option.kind == "choice":
            editor = QComboBox()
            editor.addItems([c for c in option.choices if c])
            editor.currentTextChanged.connect(lambda value, n=name: self._set(n, value))
            return editor
        if option.kind == "switch":
            editor = QCheckBox()
            editor.toggled.connect(lambda on, n=name: self._set(n, on))
            return editor
        if option.kind == "whole":
            editor = SpinBox()
            editor.setRange(int(option.low), int(option.high))
        else:
            editor = DoubleSpinBox()
            editor.setDecimals(3)
            step = 10.0**-3
            low, high = option.low, option.high
            editor.setRange(
                low + step if option.open else low, high - step if option.open else high
            )
            editor.setSingleStep(0.05 if high <= 1 else 0.1)
        editor.setKeyboardTracking(False)
        editor.setGroupSeparatorShown(option.kind == "whole")
        editor.why = lambda value, o=option: self._why(o, value)
        editor.say = self.refused.emit
        editor.valueChanged.connect(lambda value, n=name: self._set(n, value))
        return editor

    @staticmethod
    def _why(option: DataOption, value: float) -> str | None:
        whole = round(value) if option.kind == "whole" else value
        problem = value_problem(option, whole)
        return None if problem is None else f"the data option '{option.name}' {problem[0]}"

    def _set(self, name: str, value) -> None:
        if self._loading:
            return
        try:
            done = self.document.set_data_option(name, value)
        except InvalidSettingError as error:
            self.refused.emit(str(error))
            self.show_options()
            return
        if done:
            self.accepted.emit()
        else:  # refused by the guard (training runs): the box shows the project's value
            self.show_options()
