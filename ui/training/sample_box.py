"""The training panel's *Generate* box, shown for generative tasks (music, text): a temperature
slider, what sampling starts from — a chord for the music, the opening text for a language
model (the task's own choices, :meth:`~rnn_builder.training.tasks.base.Task.prime_choices`) —
the Sample button, the sample, and what it was drawn from.

The box asks and shows; ``sample`` (:mod:`ui.training.sampling`) runs the network.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from rnn_builder.training.tasks.base import Task
from ui.training.drawn import DrawnView
from ui.wheel import wheel_only_when_focused


class SampleBox(QGroupBox):
    """What to sample from and at what temperature, and the sample once drawn."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Generate", parent)
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
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Temperature"))
        row.addWidget(self.temperature, 1)
        row.addWidget(self.temperature_label)
        layout.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.prime_label)
        row.addWidget(self.prime_choice, 1)
        row.addWidget(self.prime_text, 1)
        layout.addLayout(row)
        layout.addWidget(self.sample_button)
        layout.addWidget(self.sample_output)
        self.drawn_view = DrawnView()  # what the sample was drawn from, at the slider's T
        layout.addWidget(self.drawn_view)
        layout.addWidget(self.sample_note)
        self.temperature.valueChanged.connect(self._show_temperature)
        wheel_only_when_focused(self.temperature, self.prime_choice)
        self._show_temperature()

    def clear(self) -> None:
        """Forget the last project's sample and the text it started from (issue 23: they
        stayed after another project opened, as if this one had made them)."""
        self.sample_output.clear()
        self.drawn_view.clear()
        self.sample_note.clear()
        self.sample_note.hide()
        self.prime_text.clear()

    def offer_primes(self, task: Task, options: dict) -> None:
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
        if self.prime_choice.isVisibleTo(self):
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
