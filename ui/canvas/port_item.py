"""A port: the circle on a node's edge where wires start (outputs) or end (inputs)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from rnn_builder.nodes import PortSpec, Shape

from .style import KIND_COLORS, PORT_RADIUS, canvas_colors


class PortItem(QGraphicsItem):
    """A port of a node item; its label is drawn by the node."""

    def __init__(self, spec: PortSpec, is_input: bool, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.spec = spec
        self.is_input = is_input
        self.shape_info = Shape()
        self.connected = False
        self.setAcceptHoverEvents(True)
        self._update_tooltip()

    @property
    def name(self) -> str:
        return self.spec.name

    def set_shape_info(self, shape: Shape, connected: bool) -> None:
        if shape != self.shape_info or connected != self.connected:
            self.shape_info = shape
            self.connected = connected
            self._update_tooltip()
            self.update()

    def kind(self) -> str | None:
        if self.shape_info.kind is not None:
            return self.shape_info.kind
        return next(iter(self.spec.kinds)) if len(self.spec.kinds) == 1 else None

    def _update_tooltip(self) -> None:
        direction = "input" if self.is_input else "output"
        optional = "" if self.spec.required or not self.is_input else ", optional"
        shape = self.shape_info.label() if self.shape_info.kind else self.spec.kinds_label()
        self.setToolTip(
            f"<b>{self.spec.name}</b> ({direction}{optional}): {shape}<br>{self.spec.description}"
        )

    def scene_anchor(self) -> QPointF:
        return self.mapToScene(QPointF(0, 0))

    def boundingRect(self) -> QRectF:
        r = PORT_RADIUS + 2
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        color = KIND_COLORS.get(self.kind(), KIND_COLORS[None])
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(color.darker(130), 1.4))
        fill = color if self.connected else canvas_colors()["body"]
        painter.setBrush(QBrush(fill))
        if self.kind() == "vec":  # vectors are squares, sequences circles: shape tells kind
            painter.drawRoundedRect(
                QRectF(-PORT_RADIUS, -PORT_RADIUS, 2 * PORT_RADIUS, 2 * PORT_RADIUS), 1.5, 1.5
            )
        else:
            painter.drawEllipse(QPointF(0, 0), PORT_RADIUS, PORT_RADIUS)
