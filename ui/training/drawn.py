"""What a sample is drawn from, at the temperature the slider sets (issue 23: at T = 2.0 a
trained arpeggio played the same notes ten times in ten, and the slider looked broken).

The network's probabilities at each step of the last sample (``tasks.base.Drawn``), shown for
the first step as bars of its likeliest classes after the temperature, with how uncertain the
draws are in bits: their entropy averaged over the sample's steps, beside what it is at T = 1
and at most. Moving the slider redraws it at once, without sampling again: a trained network
so sure of its notes that even T = 2 leaves one at p = 0.97 says so, in numbers.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from rnn_builder.training.tasks.base import Drawn, entropy_bits

BARS = 6  # the likeliest classes of the first step shown
BAR_COLOR = QColor("#4f6fd6")


def shown_name(name: str) -> str:
    """A class's name as a bar's label (a space or a line break made visible)."""
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(name, name)


class DrawnView(QWidget):
    """The first step's distribution as bars, and the sample's entropy, at a temperature."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sample_drawn")
        self.drawn: list[Drawn] = []
        self.temperature = 1.0
        self.bars = _Bars()
        self.words = QLabel()
        self.words.setObjectName("sample_entropy")
        self.words.setWordWrap(True)
        self.words.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bars)
        layout.addWidget(self.words)
        self.setToolTip(
            "What the sample is drawn from: the network's probabilities after the temperature "
            "(p^(1/T), normalised). Low T sharpens them, high T flattens them; the entropy says "
            "how uncertain each draw is, in bits."
        )
        self.hide()

    def show_drawn(self, drawn: list[Drawn], temperature: float) -> None:
        self.drawn = list(drawn)
        self.setVisible(bool(self.drawn))
        self.set_temperature(temperature)

    def clear(self) -> None:
        self.show_drawn([], self.temperature)

    def entropy(self, temperature: float) -> float:
        """The draws' entropy in bits at ``temperature``, averaged over the sample's steps."""
        if not self.drawn:
            return math.nan
        return float(np.mean([entropy_bits(d.at(temperature)) for d in self.drawn]))

    def set_temperature(self, temperature: float) -> None:
        self.temperature = temperature
        if not self.drawn:
            self.bars.set_bars([])
            self.words.setText("")
            return
        first = self.drawn[0]
        p = first.at(temperature)
        order = np.argsort(-p)[:BARS]
        self.bars.set_bars([(shown_name(first.names[i]), float(p[i])) for i in order])
        steps = len(self.drawn)
        most = math.log2(len(first.probabilities))
        where = "its step" if steps == 1 else f"its {steps} steps"
        self.words.setText(
            f"Drawn with <b>{self.entropy(temperature):.2f} bits</b> of uncertainty a draw at "
            f"T = {temperature:.2f} (averaged over {where}; {self.entropy(1.0):.2f} at T = 1, "
            f"{most:.2f} if all {len(first.probabilities)} were alike). The bars: the first "
            f"step's likeliest, at T = {temperature:.2f}."
        )


class _Bars(QWidget):
    """Horizontal bars: a class's name, its probability as a bar and a number."""

    ROW = 17

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("sample_bars")
        self.rows: list[tuple[str, float]] = []

    def set_bars(self, rows: list[tuple[str, float]]) -> None:
        self.rows = rows
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(240, self.ROW * max(len(self.rows), 1) + 4)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, self.ROW * len(self.rows) + 4 if self.rows else 0)

    def paintEvent(self, _event) -> None:
        if not self.rows:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = QFontMetricsF(self.font())
        label = max(metrics.horizontalAdvance(name) for name, _p in self.rows) + 8
        number = metrics.horizontalAdvance("0.00") + 8
        room = max(self.width() - label - number, 10.0)
        text = self.palette().color(self.foregroundRole())
        for row, (name, p) in enumerate(self.rows):
            top = 2 + row * self.ROW
            painter.setPen(text)
            painter.drawText(
                QRectF(0, top, label - 6, self.ROW),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
            painter.fillRect(QRectF(label, top + 3, max(room * p, 1.0), self.ROW - 6), BAR_COLOR)
            painter.drawText(
                QRectF(label + room * p + 4, top, number, self.ROW),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                f"{p:.2f}",
            )
        painter.end()
