"""The data view's *What it holds*: a file read as training reads it, in words and bars.

The words say the examples (to train on, to validate), each field, the vocabulary and the
unknown rate on validation, the layouts and templates the data fits, and how it would bind to
the graph in front (:func:`binding_words`: what is bound, what *Fit graph to data* would fit,
what needs mending by hand). Beside them, bars of the classes (or, for sequence pairs, the
target's lengths) and of the lengths.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QWidget

from rnn_builder.errors import RNNBuilderError
from rnn_builder.files.project import DatasetReference
from rnn_builder.files.templates import TEMPLATES
from rnn_builder.training.summary import DataSummary
from rnn_builder.training.tasks import check_data, with_binding
from ui.training.data_form import Bars, kind_name, length_labels


def binding_words(document, reference: DatasetReference) -> str:
    """How ``reference`` would bind to the document's graph, and what would need fitting."""
    project = document.project
    graph = project.graph
    try:
        base = document.base()
        reference = with_binding(project, reference, base)
        check = check_data(project, base, reference)
    except RNNBuilderError as error:
        return f"with this graph: {html.escape(str(error))}"
    if check is None:
        return "with this graph: fix the graph's problems first"
    bound = ", ".join(
        f"{html.escape(field)} → {html.escape(graph.node(node).name)}"
        for field, node in check.binding.as_dict().items()
        if node in graph
    )
    fits = sum(1 for p in check.problems if p.fix == "fit")
    others = len(check.errors) - sum(1 for p in check.errors if p.fix == "fit")
    if not check.problems:
        state = "it fits as it is"
    else:
        parts = []
        if fits:
            parts.append(f"{fits} to fit (Fit graph to data)")
        if others:
            parts.append(f"{others} to mend by hand (see Problems once used)")
        state = ", ".join(parts) or "warnings only"
    return f"with this graph: {bound or 'nothing bound'}; {state}"


class SummaryBox(QGroupBox):
    """What a file holds, once read: its summary in words beside bars of classes and lengths."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("What it holds", parent)
        self.label = QLabel()
        self.label.setObjectName("data_summary")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.classes_chart = Bars("Classes")
        self.classes_chart.setObjectName("data_classes")
        self.lengths_chart = Bars("Lengths")
        self.lengths_chart.setObjectName("data_lengths")
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 3)
        layout.addWidget(self.classes_chart, 2)
        layout.addWidget(self.lengths_chart, 2)

    def clear(self, text: str = "") -> None:
        """Nothing read to show: ``text`` in place of the words, and no bars."""
        self.label.setText(text)
        self.classes_chart.show_counts("Classes", [], [])
        self.lengths_chart.show_counts("Lengths", [], [])

    def show_summary(self, summary: DataSummary, binding: str) -> None:
        """``summary`` in words and bars; ``binding`` (rich text) says how it binds."""
        total = summary.train + summary.validation
        what = kind_name(summary.kind)
        rows = [
            f"<b>{html.escape(Path(summary.path).name)}</b>: {html.escape(what)} "
            f"({html.escape(summary.format)})",
            f"<b>{total:,}</b> examples: {summary.train:,} to train on, "
            f"{summary.validation:,} to validate",
        ]
        rows += [
            f"<b>{html.escape(name)}</b>: {html.escape(what)}"
            for name, what in summary.fields.items()
        ]
        if summary.vocabulary is not None:
            rows.append(f"vocabulary: <b>{summary.vocabulary:,}</b> tokens (with &lt;unk&gt;)")
        if summary.unknown_rate is not None:
            rows.append(f"unknown tokens in validation: <b>{summary.unknown_rate:.1%}</b>")
        titles = [TEMPLATES[t].title if t in TEMPLATES else t for t in summary.templates]
        rows.append(
            f"fits: {html.escape(summary.layout)}"
            + (f"; templates: {html.escape(', '.join(titles))}" if titles else "")
        )
        rows.append(binding)
        self.label.setText("<br>".join(rows))
        lengths = [
            (
                f"Lengths of {name}: {stats['min']} to {stats['max']}, mean {stats['mean']:.1f}",
                length_labels(stats["edges"]),
                stats["histogram"],
            )
            for name, stats in summary.lengths.items()
        ]
        if summary.classes:
            self.classes_chart.show_counts(
                f"Classes (training examples, {len(summary.classes)}"
                + (", the first 12 shown)" if len(summary.classes) > 12 else ")"),
                list(summary.classes)[:12],
                list(summary.classes.values())[:12],
            )
        elif len(lengths) > 1:  # a sequence to predict (pairs): its lengths
            self.classes_chart.show_counts(*lengths[1])
        else:
            self.classes_chart.show_counts("No classes: a number to predict", [], [])
        if lengths:
            self.lengths_chart.show_counts(*lengths[0])
        else:
            self.lengths_chart.show_counts("Lengths: one step each", [], [])
