"""A wire: a curve from an output port to an input port, coloured by what it carries.

Sequences are drawn as thick blue curves and vectors as thin grey ones; a wire running
backwards (a feedback loop through a Delay) is routed below the nodes it passes, so that it
crosses none of them. A
wire can be selected (click it) and deleted; its shape for the mouse is wider than its stroke.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from rnn_builder.graph.model import Edge
from ui.canvas.style import KIND_COLORS, SELECTION_COLOR


class EdgeItem(QGraphicsPathItem):
    def __init__(self, edge: Edge) -> None:
        super().__init__()
        self.edge = edge
        self.kind: str | None = None
        self.backwards = False  # runs right to left (feedback): routed below what it passes
        self.below: float | None = None  # the lowest node bottom it passes under, if backwards
        self.setZValue(0)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        self.setToolTip(
            f"{edge.src_node}.{edge.src_port} → {edge.dst_node}.{edge.dst_port}<br>"
            "<i>click to select, Delete to remove; drag it off its input to unplug</i>"
        )
        self._apply_pen()

    def set_kind(self, kind: str | None) -> None:
        if kind != self.kind:
            self.kind = kind
            self._apply_pen()

    def _apply_pen(self) -> None:
        color = (
            SELECTION_COLOR if self.isSelected() else KIND_COLORS.get(self.kind, KIND_COLORS[None])
        )
        width = 2.6 if self.kind == "seq" else 1.8
        pen = QPen(color, width + (1.2 if self.isSelected() else 0.0))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        self.setPen(pen)

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self._apply_pen()
        return super().itemChange(change, value)

    def set_ends(self, start: QPointF, end: QPointF, below: float | None = None) -> None:
        self.backwards = end.x() < start.x()
        self.below = below
        self.setPath(wire_path(start, end, below))

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10.0)
        return stroker.createStroke(self.path())


def wire_path(start: QPointF, end: QPointF, below: float | None = None) -> QPainterPath:
    """A smooth cubic from ``start`` (leaving rightwards) to ``end`` (entering from the left).
    A wire running backwards swings out, passes below both ends — and below ``below``, the
    lowest edge of the nodes between them, when given — and comes back in."""
    path = QPainterPath(start)
    dx = end.x() - start.x()
    if dx >= 0:
        bend = max(40.0, dx * 0.5)
        path.cubicTo(start + QPointF(bend, 0), end - QPointF(bend, 0), end)
    else:  # backwards: swing out, pass below both ends, come back in
        drop = max(start.y(), end.y(), below if below is not None else -1e9) + 70.0
        out = 60.0
        path.cubicTo(
            start + QPointF(out * 1.5, 0),
            QPointF(start.x() + out, drop),
            QPointF((start.x() + end.x()) / 2, drop),
        )
        path.cubicTo(QPointF(end.x() - out, drop), end - QPointF(out * 1.5, 0), end)
    return path
