"""The pieces the unrolled view is drawn with (:mod:`ui.training.unrolled_view` lays them out):
a copy of a node at one step, a segment of the plan as a band behind its copies, and a wire
with an arrowhead where it arrives; with the sizes and colours the scene shares with them.

A copy's box grows with View → Text size, and the scene's spacing with it (:func:`spread`).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from rnn_builder.graph.unroll import UnrolledKey, UnrolledSegment
from ui.canvas.style import SELECTION_COLOR, canvas_colors, is_dark, text_scale

BOX_W, BOX_H = 96.0, 40.0
LIT_COLOR = QColor("#f2b705")
EDGE_COLORS = {
    "data": QColor("#8a8f98"),
    "state": QColor("#4f6fd6"),
    "reverse": QColor("#8a5fd6"),  # a reverse direction's state: as strong, told apart
    "delay": QColor("#2a9ca6"),
}
RIGHT_COLOR, WRONG_COLOR = QColor("#2e8b57"), QColor("#d0342c")


def spread() -> float:
    """How much the view's boxes and their spacing grow with View → Text size: by its square
    root, so that the text grows against the layout too (a 150 % text in boxes 22 % larger)
    and a view fitted to the screen still shows it larger."""
    return math.sqrt(text_scale())


def box_size() -> tuple[float, float]:
    return BOX_W * spread(), BOX_H * spread()


class CopyItem(QGraphicsItem):
    """One copy of a node at one step (or the one copy of a vector node). An input's copy
    that reads a token of the example being stepped shows that token (``paris``), with its
    node and step under it."""

    def __init__(self, key: UnrolledKey, name: str, color: QColor, shared: str) -> None:
        super().__init__()
        self.key = key
        self.name = name
        self.color = color
        self.shared = shared  # badge text: the weights this copy shares, or ""
        self.reads = ""  # stepping: the token (or value) this input copy reads
        self.width, self.height = box_size()
        self.lit = False
        self.waiting = False  # stepping: not computed yet (drawn faded)
        self.base_tip = ""  # what the copy is, before any values are added to the tip
        self.values: dict | None = None  # stepping: what this copy computed
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)

    def boundingRect(self) -> QRectF:
        return QRectF(-4, -4, self.width + 8, self.height + 8)

    def set_reads(self, text: str) -> None:
        if text != self.reads:
            self.reads = text
            self.update()

    def set_lit(self, lit: bool, waiting: bool = False) -> None:
        if (lit, waiting) != (self.lit, self.waiting):
            self.lit, self.waiting = lit, waiting
            self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        colors = canvas_colors()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        width, height, scale = self.width, self.height, text_scale()
        rect = QRectF(0, 0, width, height)
        fill = QColor(self.color)
        fill.setAlpha(70 if self.waiting else 255 if self.lit else 215)
        if self.lit:  # the step being shown: a glow around the box
            painter.setPen(QPen(LIT_COLOR, 5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(-1.5, -1.5, 1.5, 1.5), 7, 7)
        painter.setBrush(fill)
        pen = QPen(SELECTION_COLOR, 2.6) if self.isSelected() else QPen(self.color.darker(125), 1)
        painter.setPen(pen)
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(QColor("#ffffff"))
        font = QFont(painter.font())
        font.setPointSizeF((9.5 if self.reads else 8.0) * scale)
        font.setBold(True)
        painter.setFont(font)
        first = self.reads or self.name
        top = QRectF(4, 1, width - 8, height * 0.5)
        shown = QFontMetricsF(font).elidedText(first, Qt.TextElideMode.ElideRight, width - 8)
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(top, align, shown)
        font.setBold(False)
        font.setPointSizeF(7.2 * scale)
        painter.setFont(font)
        step = "once" if self.key.t is None else f"t = {self.key.t}"
        if self.key.direction == "reverse":
            step += " ←"
        if self.reads:  # the token first; which input and step under it
            step = f"{self.name} · {step}"
        below = QRectF(4, height * 0.48, width - 8, height * 0.45)
        step = QFontMetricsF(font).elidedText(step, Qt.TextElideMode.ElideRight, width - 8)
        painter.drawText(below, align, step)
        if self.shared:
            badge = QRectF(width - 30 * scale, height - 15 * scale, 28 * scale, 12 * scale)
            painter.setBrush(colors["body"])
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(badge, 4, 4)
            painter.setPen(self.color.lighter(150) if is_dark() else self.color.darker(140))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "W")


class SegmentBand(QGraphicsItem):
    """A segment of the plan behind its copies: a band (whole sequence, once) or a frame (step
    loop), with a line saying what runs there."""

    MARGIN, LABEL = 5.0, 14.0  # around the copies; the strip above them for the label

    def __init__(self, segment: UnrolledSegment, label: str, around: QRectF) -> None:
        super().__init__()
        self.segment = segment
        self.label = label
        self.copies = frozenset(segment.copies)
        self.current = False  # stepping: the segment being walked
        m = self.MARGIN
        self.strip = self.LABEL * text_scale()
        self.rect = around.adjusted(-m, -m - self.strip, m, m)
        self.setZValue(-3 if not segment.is_loop else -2)
        self.setToolTip(
            f"<b>{label}</b><br>"
            + (
                "run step by step: each step needs the step before through the Delay"
                if segment.is_loop
                else "run as one call over the whole sequence"
                if segment.steps is not None
                else "run once"
            )
        )

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-3, -3, 3, 3)

    def set_current(self, current: bool) -> None:
        if current != self.current:
            self.current = current
            self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        colors = canvas_colors()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        loop = self.segment.is_loop
        accent = QColor(EDGE_COLORS["delay"] if loop else colors["muted"])
        fill = QColor(accent)
        fill.setAlpha(28 if loop else 22)
        # the walked segments outlined lightly: the lit copies inside them are what is computed
        lit = QColor(LIT_COLOR)
        lit.setAlpha(150)
        pen = QPen(lit if self.current else accent, 1.6 if self.current else 1.4)
        if loop:
            pen.setStyle(Qt.PenStyle.DashLine)
        elif not self.current:
            pen = QPen(Qt.PenStyle.NoPen)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(self.rect, 9, 9)
        font = QFont(painter.font())
        font.setPointSizeF(7.2 * text_scale())
        font.setBold(loop)
        painter.setFont(font)
        painter.setPen(accent.darker(115) if loop else colors["muted"])
        text_rect = QRectF(
            self.rect.left() + 8, self.rect.top() + 1, self.rect.width() - 14, self.strip
        )
        text = QFontMetricsF(font).elidedText(
            self.label, Qt.TextElideMode.ElideRight, text_rect.width()
        )
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text
        )


class ArrowItem(QGraphicsPathItem):
    """A wire with a filled arrowhead where it arrives, turned along the wire's last stretch."""

    def __init__(self, path: QPainterPath, pen: QPen, head: float) -> None:
        super().__init__(path)
        self.setPen(pen)
        self.head = head
        self.ends: tuple[UnrolledKey, UnrolledKey] | None = None  # the copies it joins
        self.kind = ""  # data, state, reverse (a reverse direction's state) or delay

    def arrowhead(self) -> QPolygonF:
        path = self.path()
        tip = path.pointAtPercent(1.0)
        angle = math.radians(path.angleAtPercent(0.999))  # counter-clockwise, y up
        back = QPointF(math.cos(angle), -math.sin(angle)) * self.head
        side = QPointF(-back.y(), back.x()) * 0.5
        return QPolygonF([tip, tip - back + side, tip - back - side])

    def boundingRect(self) -> QRectF:
        return super().boundingRect().adjusted(-self.head, -self.head, self.head, self.head)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self.pen())
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        solid = QPen(self.pen())
        solid.setStyle(Qt.PenStyle.SolidLine)
        solid.setWidthF(1.0)
        painter.setPen(solid)
        painter.setBrush(self.pen().color())
        painter.drawPolygon(self.arrowhead())
