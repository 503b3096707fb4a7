"""The problems panel: every validation problem and every mismatch between the data and the
graph, errors first; clicking one selects its node and centres the canvas on it. A data
problem that fitting the graph to the data mends (``fix == "fit"``) has a *Fit graph to data*
button on its row, and the same in its context menu."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QHeaderView,
    QMenu,
    QPushButton,
    QStyledItemDelegate,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from rnn_builder.graph.validation import ValidationReport
from rnn_builder.training.binding import DataCheck

NODE_ROLE = Qt.ItemDataRole.UserRole + 2
FIX_ROLE = Qt.ItemDataRole.UserRole + 3
FIT_TEXT = "Fit graph to data"


class _WrappedMessages(QStyledItemDelegate):
    """A message as tall as its words wrapped in its column (the view wraps the text it
    paints, but gives each row one line's height: the rest was cut off)."""

    def sizeHint(self, option, index) -> QSize:
        hint = super().sizeHint(option, index)
        view = self.parent()
        if index.column() != 1 or view is None:
            return hint
        width = max(view.columnWidth(1) - 10, 50)
        text = str(index.data() or "")
        bounds = option.fontMetrics.boundingRect(
            QRect(0, 0, width, 100_000), Qt.TextFlag.TextWordWrap, text
        )
        return QSize(hint.width(), max(hint.height(), bounds.height() + 6))


class ProblemsPanel(QTreeWidget):
    node_chosen = Signal(str)
    fit_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problems")
        self.setHeaderLabels(["", "Problem", "Node", ""])
        self.setRootIsDecorated(False)
        self.setWordWrap(True)
        self.setUniformRowHeights(False)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)  # long messages wrap
        self.setItemDelegate(_WrappedMessages(self))
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        header.sectionResized.connect(self._wrap_again)
        self.setColumnWidth(0, 26)
        self.setColumnWidth(2, 140)
        self.setToolTip(
            "Problems of the graph and of its data; click one to select the node it concerns"
        )
        self.itemClicked.connect(self._clicked)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.empty_text = ""  # said across the empty list (a valid graph: that it is valid)
        self.fit_buttons: list[QPushButton] = []

    def show_report(
        self, report: ValidationReport | None, graph, data: DataCheck | None = None
    ) -> None:
        self.clear()
        self.fit_buttons = []
        self.empty_text = ""
        if report is None:
            return
        problems = [(p, False) for p in report.problems]
        if data is not None:  # (checked only when the graph has no errors of its own)
            problems += [(p, True) for p in data.problems]
        if not problems:
            fits = ", and the data fits the graph" if data is not None else ""
            self.empty_text = f"No problems: every wire, shape and time axis checks out{fits}."
            self.viewport().update()
        ordered = sorted(problems, key=lambda pair: pair[0].severity != "error")
        for problem, of_data in ordered:
            mark = "✖" if problem.severity == "error" else "⚠"
            node = problem.node or (problem.nodes[0] if problem.nodes else None)
            name = graph.node(node).name if node and node in graph else ""
            item = QTreeWidgetItem([mark, problem.message, name, ""])
            item.setData(0, NODE_ROLE, node)
            item.setData(0, FIX_ROLE, problem.fix)
            what = "the data" if of_data else "the graph"
            item.setToolTip(1, f"{problem.message}\n[{problem.code}, {what}]")
            item.setForeground(
                0, Qt.GlobalColor.red if problem.severity == "error" else Qt.GlobalColor.darkYellow
            )
            self.addTopLevelItem(item)
            if problem.fix == "fit":
                self._fit_button(item)

    def wanted_height(self, most_rows: int) -> int:
        """Pixels to show the list whole, up to ``most_rows`` rows (a line of text when it is
        empty: that the graph is fine)."""
        frame = 2 * self.frameWidth()
        header = self.header().sizeHint().height() if not self.header().isHidden() else 0
        count = self.topLevelItemCount()
        if count == 0:
            return frame + header + self.fontMetrics().lineSpacing() + 24
        self.doItemsLayout()
        rows = sum(
            max(self.visualItemRect(self.topLevelItem(i)).height(), self.fontMetrics().height())
            for i in range(min(count, most_rows))
        )
        return frame + header + rows + 6

    def _wrap_again(self, *_args) -> None:
        """A column's new width: the rows' heights follow their wrapped text."""
        self.scheduleDelayedItemsLayout()

    def _fit_button(self, item: QTreeWidgetItem) -> None:
        button = QPushButton(FIT_TEXT)
        button.setObjectName("fit_from_problem")
        button.setToolTip(
            "Set the inputs' vocabulary or width, the embedding's vocabulary and the output's "
            "classes or units to the data's, and bind each field to its node (one undo step)"
        )
        button.clicked.connect(self.fit_requested)
        self.setItemWidget(item, 3, button)
        self.fit_buttons.append(button)

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

    def _context_menu(self, point) -> None:
        item = self.itemAt(point)
        if item is None:
            return
        menu = self.context_menu(item)
        if not menu.isEmpty():
            menu.exec(self.viewport().mapToGlobal(point))

    def context_menu(self, item: QTreeWidgetItem) -> QMenu:
        """What can be done about a problem: go to its node, fit the graph to the data."""
        menu = QMenu(self)
        node = item.data(0, NODE_ROLE)
        if node:
            menu.addAction("Go to the node", lambda: self.node_chosen.emit(node))
        if item.data(0, FIX_ROLE) == "fit":
            menu.addAction(FIT_TEXT, self.fit_requested.emit)
        return menu
