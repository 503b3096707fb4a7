"""What the data view shows of a file and asks about it: the kinds of data and the options each
reads (with the widgets that choose them, filled from the file's header), the first records as
the readers read them, and a small bar chart for the classes and the lengths.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox, QWidget

from rnn_builder.files.data_readers import lines, read_table, read_tagged

PREVIEW_ROWS = 50

KINDS = {
    "labelled": "Labelled text — a text and a label a row",
    "tagged": "Tagged tokens — CoNLL, a token and its tag a line",
    "pairs": "Sequence pairs — a source and a target a row",
    "sequences": "Numeric sequences — numbers and a label a row",
    "csv": "Time series — a column of numbers to forecast",
    "text": "Plain text — a character language model",
}
# the options each kind reads, in the order they are shown
KIND_OPTIONS = {
    "labelled": (
        "format",
        "text_column",
        "label_column",
        "split_column",
        "target",
        "tokens",
        "lowercase",
        "min_count",
        "max_vocabulary",
        "validation",
    ),
    "tagged": ("lowercase", "min_count", "max_vocabulary", "validation"),
    "pairs": (
        "format",
        "source_column",
        "target_column",
        "split_column",
        "tokens",
        "lowercase",
        "min_count",
        "max_vocabulary",
        "validation",
    ),
    "sequences": (
        "format",
        "sequence_column",
        "label_column",
        "split_column",
        "target",
        "validation",
    ),
    "csv": ("forecast_column", "window"),
    "text": ("window",),
}
LABELS = {
    "format": "Format",
    "text_column": "Text column",
    "label_column": "Label column",
    "source_column": "Source column",
    "target_column": "Target column",
    "sequence_column": "Sequence column",
    "split_column": "Split column",
    "forecast_column": "Column to forecast",
    "target": "The label is",
    "tokens": "Tokens",
    "lowercase": "Lowercase",
    "min_count": "Minimum count",
    "max_vocabulary": "Largest vocabulary",
    "validation": "Validation fraction",
    "window": "Window (steps)",
}
TIPS = {
    "format": "How the table is written (automatic: from the file's extension and first line)",
    "split_column": "A column whose 'validation' (or dev, test) rows are held out; "
    "none: a seeded random fraction is",
    "target": "Classes to tell apart, or a number to predict (regression)",
    "tokens": "Read the text as words or as characters",
    "lowercase": "Read 'The' and 'the' as one token",
    "min_count": "A token seen fewer times in the training part is read as <unk>",
    "max_vocabulary": "Keep at most this many tokens (the most frequent), the rest as <unk>",
    "validation": "The share of examples held out to validate on (seeded)",
    "window": "Steps of history the network reads for each prediction",
}
# a column option and the key of the column it chose in what reading worked out
COLUMN_OF = {
    "text_column": "text",
    "label_column": "label",
    "source_column": "source",
    "target_column": "target",
    "sequence_column": "sequence",
}
OPTION_NAME = {"forecast_column": "target"}  # a series names its column "target"
NO_SPLIT = "(none: a random fraction)"


def kind_name(kind: str) -> str:
    """'sequence pairs' for ``pairs``: a kind as the list names it, in a sentence."""
    return KINDS.get(kind, kind).split(" — ")[0].lower()


def first_records(
    kind: str, path: str | Path, table_format: str = ""
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The columns and the first :data:`PREVIEW_ROWS` records (line, values as text) of a
    file, read by the reader training uses; raises its one-line ``DataFileError``."""
    if kind == "tagged":
        sentences = read_tagged(path)
        try:
            taken = list(itertools.islice(sentences, PREVIEW_ROWS))
        finally:
            sentences.close()
        return ["tokens", "tags"], [(s.line, [" ".join(s.tokens), " ".join(s.tags)]) for s in taken]
    if kind == "text":
        source = lines(path)
        try:
            taken = list(itertools.islice(source, PREVIEW_ROWS))
        finally:
            source.close()
        return ["text"], [(number, [text]) for number, text in taken]
    header, rows = read_table(path, table_format or None)
    try:
        taken = list(itertools.islice(rows, PREVIEW_ROWS))
    finally:
        rows.close()
    return header, [(row.line, [_shown(row.values.get(h)) for h in header]) for row in taken]


def length_labels(edges: list[float]) -> list[str]:
    """The lengths each bin of a histogram holds (its edges fall half-way between two)."""
    labels = []
    for low, high in itertools.pairwise(edges):
        first, last = round(low + 0.5), round(high - 0.5)
        labels.append(str(first) if first == last else f"{first}–{last}")
    return labels


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 200 else text[:199] + "…"


def option_widget(name: str, kind: str, header: list[str], chosen: Any, changed) -> QWidget:
    """The widget for the option ``name`` of a kind of data, showing ``chosen`` (None: the
    default, or for a column the one reading chooses), calling ``changed(option, value)``
    when the person changes it (``value`` None or "": back to automatic)."""
    if name == "format":
        widget = QComboBox()
        for text, value in (
            ("automatic", ""),
            ("CSV", "csv"),
            ("TSV", "tsv"),
            ("JSON Lines", "jsonl"),
        ):
            widget.addItem(text, value)
        widget.setCurrentIndex(max(widget.findData(chosen or ""), 0))
    elif name.endswith("_column"):
        widget = QComboBox()
        if name == "split_column":
            widget.addItem(NO_SPLIT, None)
        for column in header:
            widget.addItem(column, column)
        widget.setCurrentIndex(widget.findData(chosen) if chosen is not None else 0)
        if name != "split_column" and chosen is None:
            widget.setCurrentIndex(-1)  # the reading's own choice, shown once it is known
    elif name == "target":
        widget = QComboBox()
        for text, value in (
            ("decided from the labels", ""),
            ("classes", "classes"),
            ("values (regression)", "values"),
        ):
            widget.addItem(text, value)
        widget.setCurrentIndex(max(widget.findData(chosen or ""), 0))
    elif name == "tokens":
        widget = QComboBox()
        widget.addItem("words", "words")
        widget.addItem("characters", "characters")
        widget.setCurrentIndex(max(widget.findData(chosen or "words"), 0))
    elif name == "lowercase":
        widget = QCheckBox()
        widget.setChecked(chosen is not False)
        widget.toggled.connect(lambda on: changed("lowercase", on))
    elif name == "validation":
        widget = QDoubleSpinBox()
        widget.setRange(0.01, 0.9)
        widget.setSingleStep(0.05)
        widget.setDecimals(2)
        widget.setValue(chosen if chosen is not None else 0.2)
        widget.setKeyboardTracking(False)
        widget.valueChanged.connect(lambda v: changed("validation", round(v, 4)))
    else:  # whole numbers
        low, high, default = {
            "min_count": (1, 1_000_000, 1),
            "max_vocabulary": (4, 100_000, 10_000),
            "window": (1, 10_000, 24 if kind == "text" else 12),
        }[name]
        widget = QSpinBox()
        widget.setRange(low, high)
        widget.setValue(chosen if chosen is not None else default)
        widget.setKeyboardTracking(False)
        widget.setGroupSeparatorShown(True)
        widget.valueChanged.connect(lambda v, n=name: changed(n, v))
    if isinstance(widget, QComboBox):
        widget.activated.connect(
            lambda _i, n=name, w=widget: changed(OPTION_NAME.get(n, n), w.currentData())
        )
    widget.setObjectName(f"data_option_{name}")
    widget.setToolTip(TIPS.get(name, ""))
    return widget


class Bars(QWidget):
    """A small bar chart drawn with the palette's colours: the counts of classes, or a
    histogram of lengths."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.labels: list[str] = []
        self.counts: list[int] = []
        self.setMinimumSize(220, 140)

    def show_counts(self, title: str, labels: list[str], counts: list[int]) -> None:
        self.title, self.labels, self.counts = title, list(labels), list(counts)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(320, 160)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        bar = palette.color(QPalette.ColorRole.Highlight)
        metrics = painter.fontMetrics()
        line = metrics.height()
        painter.setPen(text)
        title = metrics.elidedText(self.title, Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(QRectF(0, 0, self.width(), line), Qt.AlignmentFlag.AlignLeft, title)
        if not self.counts:
            painter.end()
            return
        top, bottom = line * 2.2, self.height() - line * 1.4
        width = self.width() / len(self.counts)
        most = max(max(self.counts), 1)
        for i, (label, count) in enumerate(zip(self.labels, self.counts, strict=True)):
            height = (bottom - top) * count / most
            rect = QRectF(i * width + 2, bottom - height, max(width - 4, 1), height)
            painter.fillRect(rect, bar)
            said = f"{count:,}" if count < 1000 or width > 48 else f"{count / 1000:.1f}k"
            if width >= metrics.horizontalAdvance(said) + 2:
                painter.drawText(
                    QRectF(i * width, bottom - height - line, width, line),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                    said,
                )
            if "–" in label and metrics.horizontalAdvance(label) > width - 2:
                label = label.split("–")[0]  # a bin's first length, where its range is too long
            shown = metrics.elidedText(label, Qt.TextElideMode.ElideRight, int(width) - 2)
            painter.drawText(
                QRectF(i * width, bottom + 2, width, line), Qt.AlignmentFlag.AlignHCenter, shown
            )
        painter.end()
