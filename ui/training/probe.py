"""Probe with your own input: a sentence, a few numbers or a chord typed in, run as ``predict``.

:class:`Probe` is what was typed, shared by every box that shows it (the hidden-state view and
the stepping toolbar each have one): the example it reads as, the prediction on it in the
task's words, or why it cannot be read. The explanation views run on its example instead of a
validation example while it holds one; an empty box goes back to the validation examples.

The reading and the prediction are the core's (:mod:`rnn_builder.training.predict`), the very
functions
behind ``rnn-builder predict --input``, so the app says what the command line says.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QBoxLayout, QLabel, QLineEdit, QSizePolicy, QWidget

from rnn_builder.errors import RNNBuilderError
from rnn_builder.training.predict import TypedInput, reads_typed_input
from rnn_builder.training.tasks import task_of
from rnn_builder.training.tasks.base import SHORT_PROBABILITY_NOTE
from ui.editor.data_trust import data_folder

ERROR_COLOUR = "#d0342c"


class Probe(QObject):
    """The typed input in use. ``changed`` when the example the views run on changes (a new
    input read, or the box cleared); ``message_changed`` when what the boxes say changes."""

    changed = Signal()
    message_changed = Signal()

    def __init__(self, context, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.text = ""  # as typed; "" means the validation examples
        self.prediction = ""  # what ``predict`` prints for it
        self.error = ""  # why it cannot be read or run ("" when it can)
        self.note = ""  # what the prediction's words need said (a probability's meaning)

    @property
    def typed(self) -> TypedInput | None:
        return self.context.typed

    def submit(self, text: str) -> None:
        """Read ``text`` and run the network on it. A bad input keeps the views on what they
        showed (someone mid-edit keeps their picture) and says why in red."""
        self.text = text
        if not text.strip():
            self.prediction = self.error = ""
            had = self.context.typed is not None
            self.context.typed = None
            self.message_changed.emit()
            if had:
                self.changed.emit()
            return
        try:
            typed = self.context.read_input(text)
            prediction = self.context.predict(typed)
        except RNNBuilderError as error:
            self.prediction, self.error = "", str(error)
            self.message_changed.emit()
            return
        self.prediction, self.error = prediction, ""
        self.note = self._task_note()
        self.context.typed = typed
        self.message_changed.emit()
        self.changed.emit()

    def _task_note(self) -> str:
        document = self.context.document
        try:
            task, _options = task_of(document.project)
        except RNNBuilderError:
            return ""
        return task.prediction_note

    def refresh(self) -> None:
        """Read and run the text again (the weights or the graph changed)."""
        if self.text.strip():
            self.submit(self.text)

    def clear(self) -> None:
        """Back to the validation examples, and forget the text (another project opened)."""
        self.submit("")

    def placeholder(self) -> tuple[str, bool]:
        """What an empty box suggests, and whether this project's task reads typed input."""
        document = self.context.document
        try:
            task, _options = task_of(document.project, data_folder(document))
        except RNNBuilderError:
            return "choose data to probe with your own input", False
        if not reads_typed_input(task):
            return f"the {task.title} task does not read typed input", False
        example = f", e.g. {task.example_input}" if task.example_input else ""
        return f"your own input{example}", True


class ProbeBox(QWidget):
    """A box to type into and, beside or under it, the prediction or the reason in red."""

    # beside the box (a toolbar), pixels for the box and its message, leaving the buttons
    # after them room on a 1360-pixel window (at 420 a bad chord's message was cut)
    SIDE_BOX_WIDTH = 260
    SIDE_WIDTH = 560

    def __init__(
        self,
        probe: Probe,
        name: str,
        direction: QBoxLayout.Direction = QBoxLayout.Direction.TopToBottom,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.probe = probe
        self.edit = QLineEdit()
        self.edit.setObjectName(f"{name}_input")
        self.edit.setClearButtonEnabled(True)
        self.edit.setToolTip(
            "Type your own example and press Enter: the prediction, the heatmaps and the "
            "stepping run on it, as 'rnn-builder predict --input' does. Clear it to go back "
            "to the validation examples."
        )
        self.message = QLabel()
        self.message.setObjectName(f"{name}_message")
        self.message.setTextFormat(Qt.TextFormat.RichText)
        # under the box a message wraps; beside it (a toolbar) it is cut to a width that
        # leaves the toolbar its buttons, the whole of it in the tooltip
        self.wraps = direction == QBoxLayout.Direction.TopToBottom
        self.message.setWordWrap(self.wraps)
        if not self.wraps:
            self.edit.setFixedWidth(self.SIDE_BOX_WIDTH)
            self.message.setMaximumWidth(self.SIDE_WIDTH)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QBoxLayout(direction, self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.message)
        if not self.wraps:  # as wide as it needs in a toolbar, not all the toolbar has
            self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.edit.returnPressed.connect(lambda: probe.submit(self.edit.text()))
        # the clear button (or deleting everything) goes back at once, without an Enter
        self.edit.textChanged.connect(lambda text: probe.submit("") if not text else None)
        probe.message_changed.connect(self.show_message)
        self.show_message()

    def follow_project(self) -> None:
        text, readable = self.probe.placeholder()
        self.edit.setPlaceholderText(text)
        self.edit.setEnabled(readable)

    def show_message(self) -> None:
        probe = self.probe
        if self.edit.text() != probe.text:  # typed into the other box
            self.edit.blockSignals(True)
            self.edit.setText(probe.text)
            self.edit.blockSignals(False)
        if probe.error:
            self.message.setText(
                f"<span style='color:{ERROR_COLOUR}'>{html.escape(self._fit(probe.error))}</span>"
            )
            self.edit.setStyleSheet(f"QLineEdit {{ border: 2px solid {ERROR_COLOUR}; }}")
        else:
            shown = (
                f"predicted: <b>{html.escape(self._fit(probe.prediction))}</b>"
                if probe.prediction
                else ""
            )
            if shown and probe.note and self.wraps:  # room to say what p is, not only a tip
                shown += f" <small>({html.escape(SHORT_PROBABILITY_NOTE)})</small>"
            self.message.setText(shown)
            self.edit.setStyleSheet("")
        tip = probe.error or probe.prediction
        if probe.prediction and probe.note:
            tip += f"\n\n{probe.note}"
        self.message.setToolTip(tip)
        self.message.setVisible(bool(probe.error or probe.prediction))

    def _fit(self, text: str) -> str:
        if self.wraps:
            return text
        metrics = QFontMetrics(self.message.font())
        return metrics.elidedText(text, Qt.TextElideMode.ElideRight, self.SIDE_WIDTH - 12)
