"""The palette: node types grouped Inputs / Recurrent cells / Layers / Time / Outputs, with a
filter box and a line describing each. Drag one onto the canvas, or double-click to add it in
the middle of the view."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from rnn_builder.graph.registry import NodeRegistry
from ui.canvas.style import CATEGORY_COLORS
from ui.canvas.view import NODE_MIME

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


def swatch(color: QColor) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QBrush(color))
    painter.setPen(color.darker(130))
    painter.drawRoundedRect(1, 1, 12, 12, 3, 3)
    painter.end()
    return QIcon(pixmap)


class _Tree(QTreeWidget):
    def mimeData(self, items) -> QMimeData:
        data = QMimeData()
        type_name = items[0].data(0, TYPE_ROLE) if items else None
        if type_name:
            data.setData(NODE_MIME, type_name.encode("utf-8"))
        return data

    def mimeTypes(self) -> list[str]:
        return [NODE_MIME]


class Palette(QWidget):
    activated = Signal(str)  # a node type to add (double-click or Enter)

    def __init__(self, registry: NodeRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("palette")
        self.filter = QLineEdit()
        self.filter.setObjectName("palette_filter")
        self.filter.setPlaceholderText("Filter nodes…")
        self.filter.setClearButtonEnabled(True)
        self.filter.setToolTip("Type part of a node's name or description")
        self.tree = _Tree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        self.tree.setIndentation(12)
        self.tree.setWordWrap(True)
        self.items: dict[str, QTreeWidgetItem] = {}
        self.groups: dict[str, QTreeWidgetItem] = {}
        for category, types in registry.by_category().items():
            group = QTreeWidgetItem([category])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            self.tree.addTopLevelItem(group)
            self.groups[category] = group
            for node_type in types:
                item = QTreeWidgetItem([node_type.title])
                item.setData(0, TYPE_ROLE, node_type.type_name)
                item.setIcon(0, swatch(CATEGORY_COLORS[category]))
                item.setToolTip(
                    0,
                    f"<b>{node_type.title}</b><br>{node_type.description}<br>"
                    "<i>drag onto the canvas, or double-click</i>",
                )
                item.setStatusTip(0, node_type.description)
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                description = QTreeWidgetItem([node_type.description])
                description.setFlags(Qt.ItemFlag.NoItemFlags)
                description.setForeground(0, QColor("#7b8189"))
                small = description.font(0)
                small.setPointSizeF(max(7.0, small.pointSizeF() - 1.5))
                description.setFont(0, small)
                item.addChild(description)
                item.setExpanded(True)
                group.addChild(item)
                self.items[node_type.type_name] = item
            group.setExpanded(True)
        self.tree.expandAll()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree)
        self.filter.textChanged.connect(self.apply_filter)
        self.tree.itemDoubleClicked.connect(self._double_clicked)

    def apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for group in self.groups.values():
            shown = 0
            for index in range(group.childCount()):
                item = group.child(index)
                words = f"{item.text(0)} {item.child(0).text(0)}".lower()
                visible = needle in words
                item.setHidden(not visible)
                shown += visible
            group.setHidden(shown == 0)

    def visible_types(self) -> list[str]:
        return [
            name
            for name, item in self.items.items()
            if not item.isHidden() and not item.parent().isHidden()
        ]

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.activated.emit(type_name)
