"""The problems panel: every validation problem, errors first; clicking one selects its node and
centres the canvas on it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
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

    def show_report(self, report: ValidationReport | None, graph) -> None:
        self.clear()
        if report is None:
            return
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

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        node = item.data(0, NODE_ROLE)
        if node:
            self.node_chosen.emit(node)
