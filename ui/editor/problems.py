"""The problems panel: every validation problem, errors first; clicking one selects its node and
centres the canvas on it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from rnn_builder.graph.validation import ValidationReport

NODE_ROLE = Qt.ItemDataRole.UserRole + 2


class ProblemsPanel(QTreeWidget):
    node_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problems")
        self.setHeaderLabels(["", "Problem", "Node"])
        self.setRootIsDecorated(False)
        self.setWordWrap(True)
        self.setUniformRowHeights(False)
        self.setColumnWidth(0, 26)
        self.setColumnWidth(1, 700)
        self.setToolTip("Problems of the graph; click one to select the node it concerns")
        self.itemClicked.connect(self._clicked)
        self.empty_text = ""  # said across the empty list (a valid graph: that it is valid)

    def show_report(self, report: ValidationReport | None, graph) -> None:
        self.clear()
        self.empty_text = ""
        if report is None:
            return
        if not report.problems:
            self.empty_text = "No problems: every wire, shape and time axis checks out."
            self.viewport().update()
        ordered = sorted(report.problems, key=lambda p: p.severity != "error")
        for problem in ordered:
            mark = "✖" if problem.severity == "error" else "⚠"
            node = problem.node or (problem.nodes[0] if problem.nodes else None)
            name = graph.node(node).name if node and node in graph else ""
            item = QTreeWidgetItem([mark, problem.message, name])
            item.setData(0, NODE_ROLE, node)
            item.setToolTip(1, f"{problem.message}\n[{problem.code}]")
            item.setForeground(
                0, Qt.GlobalColor.red if problem.severity == "error" else Qt.GlobalColor.darkYellow
            )
            self.addTopLevelItem(item)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.empty_text and self.topLevelItemCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(
                self.viewport().rect().adjusted(12, 10, -12, -10),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                f"✔ {self.empty_text}",
            )
            painter.end()

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        node = item.data(0, NODE_ROLE)
        if node:
            self.node_chosen.emit(node)
