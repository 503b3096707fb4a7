"""A port: the circle (sequence) or square (vector) on a node's edge where wires start
(outputs, right) or end (inputs, left). While a wire is dragged, ports that would accept it
are lit and the others dimmed."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from rnn_builder.graph.nodes import PortSpec, Shape
from ui.canvas.style import KIND_COLORS, PORT_RADIUS, canvas_colors

COMPATIBLE = QColor("#34c759")


class PortItem(QGraphicsItem):
    """A port of a node item; its label is drawn by the node."""

    def __init__(self, spec: PortSpec, is_input: bool, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.spec = spec
        self.is_input = is_input
        self.shape_info = Shape()
        self.connected = False
        self.highlight: str | None = None  # "ok" or "no" while a wire is dragged
        self.hovered = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._update_tooltip()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def node_id(self) -> str:
        return self.parentItem().node_id

    def set_shape_info(self, shape: Shape, connected: bool) -> None:
        if shape != self.shape_info or connected != self.connected:
            self.shape_info = shape
            self.connected = connected
            self._update_tooltip()
            self.update()

    def set_highlight(self, state: str | None) -> None:
        if state != self.highlight:
            self.highlight = state
            self.update()

    def kind(self) -> str | None:
        if self.shape_info.kind is not None:
            return self.shape_info.kind
        return next(iter(self.spec.kinds)) if len(self.spec.kinds) == 1 else None

    def _update_tooltip(self) -> None:
        direction = "input" if self.is_input else "output"
        optional = "" if self.spec.required or not self.is_input else ", optional"
        shape = self.shape_info.label() if self.shape_info.kind else self.spec.kinds_label()
        action = (
            "drag from here to an output, or drag its wire away to unplug it"
            if self.is_input
            else "drag from here to an input to wire it"
        )
        self.setToolTip(
            f"<b>{self.spec.name}</b> ({direction}{optional}): {shape}<br>"
            f"{self.spec.description}<br><i>{action}</i>"
        )

    def scene_anchor(self) -> QPointF:
        return self.mapToScene(QPointF(0, 0))

    def hoverEnterEvent(self, event) -> None:
        self.hovered = True
        self.update()
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        self.hovered = False
        self.update()
        super().hoverLeaveEvent(event)

    def boundingRect(self) -> QRectF:
        r = PORT_RADIUS + 5
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self):
        from PySide6.QtGui import QPainterPath

        path = QPainterPath()
        r = PORT_RADIUS + 4  # a generous target for the mouse
        path.addEllipse(QPointF(0, 0), r, r)
        return path

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        color = KIND_COLORS.get(self.kind(), KIND_COLORS[None])
        if option.levelOfDetailFromTransform(painter.worldTransform()) < 0.4:
            painter.fillRect(
                QRectF(-PORT_RADIUS, -PORT_RADIUS, 2 * PORT_RADIUS, 2 * PORT_RADIUS), color
            )
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        radius = PORT_RADIUS + (1.5 if self.hovered or self.highlight == "ok" else 0.0)
        if self.highlight == "ok":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(52, 199, 89, 80))
            painter.drawEllipse(QPointF(0, 0), radius + 3.5, radius + 3.5)
        if self.highlight == "no":
            color = QColor(color)
            color.setAlpha(70)
        painter.setPen(QPen(color.darker(130), 1.4))
        fill = color if self.connected else canvas_colors()["body"]
        painter.setBrush(QBrush(fill))
        if self.kind() == "vec":  # vectors are squares, sequences circles: shape tells kind
            painter.drawRoundedRect(QRectF(-radius, -radius, 2 * radius, 2 * radius), 1.5, 1.5)
        else:
            painter.drawEllipse(QPointF(0, 0), radius, radius)
