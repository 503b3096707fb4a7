"""The main window: the canvas in the middle, what the network is and what is wrong with it on
the right, and the layout and parameter count in the status bar."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QTextBrowser, QWidget

from rnn_builder.layouts import classify
from rnn_builder.validation import ValidationReport

from .canvas import GraphScene, GraphView
from .document import ProjectDocument

APP_NAME = "RNN Builder"


class MainWindow(QMainWindow):
    def __init__(self, document: ProjectDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.scene = GraphScene(document.graph, self)
        self.view = GraphView(self.scene)
        self.about = QTextBrowser()
        self.about.setObjectName("about")
        self.about.setOpenLinks(False)
        self.about.setMinimumWidth(260)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.view)
        splitter.addWidget(self.about)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([980, 300])
        self.setCentralWidget(splitter)
        self.layout_label = QLabel()
        self.layout_label.setObjectName("layout_label")
        self.statusBar().addWidget(self.layout_label, 1)
        self.parameters_label = QLabel()
        self.statusBar().addPermanentWidget(self.parameters_label)
        self.scene.validated.connect(self._show_report)
        document.modified_changed.connect(lambda _m: self._update_title())
        self._show_report(self.scene.report)
        self._update_title()
        self.resize(1280, 800)

    def showEvent(self, event) -> None:  # fit once the view has its real size
        super().showEvent(event)
        self.view.fit_to_contents()

    def _update_title(self) -> None:
        marker = " •" if self.document.modified else ""
        self.setWindowTitle(f"{self.document.display_name()}{marker} — {APP_NAME}")

    def _show_report(self, report: ValidationReport | None) -> None:
        if report is None:
            return
        project = self.document.project
        layout = classify(project.graph, report)
        if layout is not None:
            self.layout_label.setText(layout.summary)
            self.parameters_label.setText(f"{report.parameter_count:,} parameters")
        else:
            count = len(report.errors)
            self.layout_label.setText(f"{count} problem{'s' if count != 1 else ''} to fix")
            self.parameters_label.setText("")
        parts = [f"<h2>{html.escape(project.title)}</h2>"]
        if project.description:
            parts.append(f"<p>{html.escape(project.description)}</p>")
        if layout is not None:
            parts.append(f"<h3>{html.escape(layout.title)}</h3>")
            parts.append(f"<p>{html.escape(layout.explanation)}</p>")
            axes = ", ".join(
                f"<i>{html.escape(a.id)}</i> ({a.default_steps} steps)"
                for a in report.axes.values()
            )
            if axes:
                parts.append(f"<p><b>Time axes:</b> {axes}</p>")
        if report.problems:
            parts.append("<h3>Problems</h3><ul>")
            for problem in report.problems:
                mark = "⚠" if problem.severity == "warning" else "✖"
                parts.append(f"<li>{mark} {html.escape(problem.message)}</li>")
            parts.append("</ul>")
        self.about.setHtml("".join(parts))
