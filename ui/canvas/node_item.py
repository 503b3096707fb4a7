"""A node on the canvas: a card with a coloured header (its category), a title, and its ports
labelled with the kind and width of what flows through them (``seq·32``, ``vec·10``).

Zoomed out below ``READABLE_ZOOM`` (port labels under 8 px) a node draws a level of detail
instead: its card in its category's colour and its title, large enough to read at that zoom,
without subtitle or port labels, so that Fit can show a wide graph whole and every node still
says what it is."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from rnn_builder.graph.card import card_size, port_y
from rnn_builder.graph.model import Node
from rnn_builder.graph.nodes import NodeType, Shape
from rnn_builder.graph.validation import Problem
from ui.canvas.port_item import PortItem
from ui.canvas.style import (
    CATEGORY_COLORS,
    CORNER_RADIUS,
    ERROR_COLOR,
    HEADER_HEIGHT,
    LABEL_POINT_SIZE,
    LOOP_HEIGHT,
    NODE_WIDTH,
    READABLE_ZOOM,
    SELECTION_COLOR,
    SMALLEST_TITLE_PX,
    TITLE_POINT_SIZE,
    WARNING_COLOR,
    canvas_colors,
    is_dark,
    text_scale,
)


class NodeItem(QGraphicsItem):
    """Draws one node of the model; knows its node only by id and keeps no model state."""

    READABLE_DETAIL = READABLE_ZOOM  # below this zoom: the title alone, large enough to read

    @classmethod
    def readable_detail(cls) -> float:
        """The zoom below which the title is drawn alone: ``READABLE_DETAIL`` at 100 % text,
        higher for a projector (View → Text size): its port labels would be too small there."""
        return cls.READABLE_DETAIL * text_scale()

    def __init__(self, node: Node, node_type: NodeType) -> None:
        super().__init__()
        self.node_id = node.id
        self.node_type = node_type
        self.title = node.name
        self.subtitle = self.node_type.subtitle(node)
        self.problems: list[Problem] = []
        self.drawn_detail = ""  # "full" or "titles": how it was drawn last (for the tests)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges, True)
        # drawn once into a pixmap and moved as one while dragging: frames stay cheap
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.inputs = {p.name: PortItem(p, True, self) for p in node_type.inputs}
        self.outputs = {p.name: PortItem(p, False, self) for p in node_type.outputs}
        # Outputs on the first rows, inputs below, each on a row of its own (as in Blender):
        # labels never collide, and wires enter and leave at distinct heights.
        self.rows: dict[PortItem, int] = {}
        for row, port in enumerate([*self.outputs.values(), *self.inputs.values()]):
            self.rows[port] = row
            port.setPos(0 if port.is_input else NODE_WIDTH, port_y(row))
        self.height = card_size(node_type)[1]
        # a recurrent cell's state feeds it again at the next step: drawn as a loop on the
        # card, as the textbook's folded diagram does (the unrolled view draws it in time)
        self.loop_directions = (
            node_type.directions(node.info()) if node_type.cell is not None else ()
        )
        self.setPos(QPointF(*node.position))
        self.setZValue(1)
        self._update_tooltip()

    def itemChange(self, change, value):
        scene = self.scene()
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and scene is not None:
            return scene.snapped(value) if getattr(scene, "dragging_nodes", False) else value
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged and scene:
            scene.node_item_moved(self)
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.setZValue(2 if self.isSelected() else 1)
        return super().itemChange(change, value)

    # --- model → item -----------------------------------------------------------------------

    def update_from_node(self, node: Node) -> None:
        self.title = node.name
        self.subtitle = self.node_type.subtitle(node)
        if self.node_type.cell is not None:  # made bidirectional, or no longer
            directions = self.node_type.directions(node.info())
            if directions != self.loop_directions:
                self.prepareGeometryChange()
                self.loop_directions = directions
        self._update_tooltip()
        self.update()

    def set_shapes(
        self, inputs: dict[str, Shape], outputs: dict[str, Shape], connected: set[str]
    ) -> None:
        for name, port in self.inputs.items():
            port.set_shape_info(inputs.get(name, Shape()), name in connected)
        for name, port in self.outputs.items():
            port.set_shape_info(outputs.get(name, Shape()), f"out:{name}" in connected)
        self.update()

    def set_problems(self, problems: list[Problem]) -> None:
        self.problems = problems
        self._update_tooltip()
        self.update()

    def port(self, name: str, is_input: bool) -> PortItem | None:
        return (self.inputs if is_input else self.outputs).get(name)

    # --- drawing ----------------------------------------------------------------------------

    def _update_tooltip(self) -> None:
        lines = [f"<b>{self.title}</b> — {self.node_type.title}", self.node_type.description]
        if self.node_type.cell is not None:
            lines.append(
                f"<i>The loop: its state {self.loop_label()} feeds it again at the next step "
                "(the folded picture; the unrolled view, Ctrl+U, draws it step by step)</i>"
            )
        for problem in self.problems:
            mark = "⚠" if problem.severity == "warning" else "✖"
            lines.append(f"{mark} {problem.message}")
        self.setToolTip("<br>".join(lines))

    def boundingRect(self) -> QRectF:
        above = LOOP_HEIGHT + 32 if self.node_type.cell is not None else 8
        return QRectF(-8, -above, NODE_WIDTH + 16, self.height + 8 + above)

    # --- the recurrence, as a loop on the card ------------------------------------------------

    def loop_label(self) -> str:
        states = ",".join(self.node_type.cell.states) if self.node_type.cell else "h"
        if len(self.loop_directions) == 2:
            return f"{states}(t−1) →   ← {states}(t+1)"
        return f"{states}(t−1)"

    def loop_path(self) -> QPainterPath:
        """The loop above the card: out of its header's right, over, and back in at its left
        (item coordinates); empty for a node that is not a recurrent cell."""
        path = QPainterPath()
        if not self.loop_directions:
            return path
        right, left = QPointF(NODE_WIDTH * 0.78, 0), QPointF(NODE_WIDTH * 0.22, 0)
        path.moveTo(right)
        path.cubicTo(
            right + QPointF(18, -LOOP_HEIGHT * 1.2),
            left + QPointF(-18, -LOOP_HEIGHT * 1.2),
            left,
        )
        return path

    def _paint_loop(self, painter: QPainter, accent: QColor, detail: float) -> None:
        path = self.loop_path()
        if path.isEmpty():
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = accent.lighter(130) if is_dark() else accent.darker(115)
        width = max(2.2, 1.6 / max(detail, 0.1)) if detail < self.readable_detail() else 2.2
        painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        painter.setBrush(color)
        painter.setPen(Qt.PenStyle.NoPen)
        head = 7.0 + width
        ends = [(1.0, 0.99)]  # into the card at the left: the state, one step later
        if len(self.loop_directions) == 2:  # and the reverse direction's, into the right
            ends.append((0.0, 0.01))
        for at, before in ends:
            tip, back = path.pointAtPercent(at), path.pointAtPercent(before)
            direction = tip - back
            length = max((direction.x() ** 2 + direction.y() ** 2) ** 0.5, 1e-6)
            along = direction / length * head
            side = QPointF(-along.y(), along.x()) * 0.5
            painter.drawPolygon([tip, tip - along + side, tip - along - side])
        # the textbook's mark for "one step later": a small square on the loop
        middle = path.pointAtPercent(0.5)
        painter.drawRect(QRectF(middle.x() - 5, middle.y() - 5, 10, 10))
        if detail >= self.readable_detail():
            font = QFont(painter.font())
            font.setPointSizeF(LABEL_POINT_SIZE)
            painter.setFont(font)
            painter.setPen(color)
            text = self.loop_label()
            box = QRectF(middle.x() + 9, middle.y() - 17, NODE_WIDTH, 16)
            if len(self.loop_directions) == 2:
                box = QRectF(middle.x() - NODE_WIDTH / 2, middle.y() - 23, NODE_WIDTH, 17)
                align = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom
            else:
                align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            painter.drawText(box, align, text)
        painter.restore()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        colors = canvas_colors()
        accent = CATEGORY_COLORS.get(self.node_type.category, QColor("#888888"))
        rect = QRectF(0, 0, NODE_WIDTH, self.height)
        detail = option.levelOfDetailFromTransform(painter.worldTransform())
        self._paint_loop(painter, accent, detail)
        if detail < self.readable_detail():  # port labels would be too small to read
            self._paint_title_only(painter, detail, colors, accent, rect)
            return
        self.drawn_detail = "full"
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)

        # Shadow, body, header.
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 28))
        painter.drawRoundedRect(rect.translated(0, 2.5), CORNER_RADIUS, CORNER_RADIUS)
        painter.setBrush(colors["body"])
        painter.drawRoundedRect(rect, CORNER_RADIUS, CORNER_RADIUS)
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, NODE_WIDTH, HEADER_HEIGHT), CORNER_RADIUS, CORNER_RADIUS)
        square = QPainterPath()
        square.addRect(QRectF(0, HEADER_HEIGHT / 2, NODE_WIDTH, HEADER_HEIGHT / 2))
        painter.setBrush(accent)
        painter.drawPath(header.united(square))

        # Outline: selection, then problems.
        errors = [p for p in self.problems if p.severity == "error"]
        if self.isSelected():
            pen = QPen(SELECTION_COLOR, 2.6)
        elif errors:
            pen = QPen(ERROR_COLOR, 2.2)
        elif self.problems:
            pen = QPen(WARNING_COLOR, 2.0, Qt.PenStyle.DashLine)
        else:
            pen = QPen(colors["border"], 1.0)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, CORNER_RADIUS, CORNER_RADIUS)

        # Header text.
        title_font = QFont(painter.font())
        title_font.setPointSizeF(TITLE_POINT_SIZE)
        title_font.setBold(True)
        small = QFont(painter.font())
        small.setPointSizeF(LABEL_POINT_SIZE)
        painter.setPen(QColor("#ffffff"))
        painter.setFont(title_font)
        metrics = QFontMetricsF(title_font)
        title = metrics.elidedText(self.title, Qt.TextElideMode.ElideRight, NODE_WIDTH - 16)
        painter.drawText(QRectF(9, 3, NODE_WIDTH - 18, 20), Qt.AlignmentFlag.AlignVCenter, title)
        painter.setFont(small)
        subtitle = self.subtitle or self.node_type.title
        painter.setPen(QColor(255, 255, 255, 215))
        painter.drawText(
            QRectF(9, 21, NODE_WIDTH - 18, 16), Qt.AlignmentFlag.AlignVCenter, subtitle
        )
        if errors:
            painter.setBrush(ERROR_COLOR)
            painter.setPen(QPen(QColor("#ffffff"), 1.2))
            badge = QRectF(NODE_WIDTH - 22, 8, 15, 15)
            painter.drawEllipse(badge)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "!")

        # Port labels.
        painter.setFont(small)
        for port, row in self.rows.items():
            self._draw_port_label(painter, port, row, colors, left=port.is_input)

    def card_rect(self) -> QRectF:
        """The card, without the ports' overhang (item coordinates)."""
        return QRectF(0, 0, NODE_WIDTH, self.height)

    def title_font(self, zoom: float) -> QFont:
        """The title's font at ``zoom``: its own size, or larger where that would read under
        ``SMALLEST_TITLE_PX`` (as large as the card's header allows at the least)."""
        font = QFont()
        font.setBold(True)
        font.setPointSizeF(TITLE_POINT_SIZE)
        if zoom < self.readable_detail():
            # pixels on the scene's own scale, for a title SMALLEST_TITLE_PX high on screen
            smallest = SMALLEST_TITLE_PX * text_scale()
            font.setPixelSize(max(1, round(min(smallest / max(zoom, 1e-3), 64.0 * text_scale()))))
        return font

    def title_pixels(self, zoom: float) -> float:
        """How high the title's letters are on screen at ``zoom`` (its font's em, in px)."""
        font = self.title_font(zoom)
        size = font.pixelSize()
        if size <= 0:  # a point size: at the screen's resolution
            size = font.pointSizeF() * QFontMetricsF(font).fontDpi() / 72
        return size * zoom

    def _paint_title_only(
        self, painter: QPainter, detail: float, colors: dict, accent: QColor, rect: QRectF
    ) -> None:
        """Far out: the card in its category's colour with the title over it, no labels."""
        self.drawn_detail = "titles"
        errors = any(p.severity == "error" for p in self.problems)
        if self.isSelected():
            painter.setPen(QPen(SELECTION_COLOR, 3 / max(detail, 0.1)))
        elif errors:
            painter.setPen(QPen(ERROR_COLOR, 3 / max(detail, 0.1)))
        else:
            painter.setPen(QPen(accent.darker(130), 1.0))
        body = QColor(accent)
        body.setAlpha(60)
        painter.setBrush(colors["body"])
        painter.drawRoundedRect(rect, CORNER_RADIUS, CORNER_RADIUS)
        painter.setBrush(body)
        painter.drawRoundedRect(rect, CORNER_RADIUS, CORNER_RADIUS)
        painter.fillRect(QRectF(1, 1, NODE_WIDTH - 2, HEADER_HEIGHT / 2), accent)
        font = self.title_font(detail)
        painter.setFont(font)
        painter.setPen(colors["text"])
        metrics = QFontMetricsF(font)
        inside = rect.adjusted(6, HEADER_HEIGHT / 2 + 2, -6, -4)
        title = metrics.elidedText(self.title, Qt.TextElideMode.ElideRight, inside.width())
        painter.drawText(inside, Qt.AlignmentFlag.AlignCenter, title)

    def _draw_port_label(
        self, painter: QPainter, port: PortItem, row: int, colors: dict[str, QColor], left: bool
    ) -> None:
        y = port_y(row)
        shape = port.shape_info.label() if port.shape_info.kind else port.spec.kinds_label()
        metrics = QFontMetricsF(painter.font())
        name = port.spec.name
        name_width = metrics.horizontalAdvance(name)
        shape_width = metrics.horizontalAdvance(shape)
        baseline = y + metrics.ascent() / 2 - 1
        optional = left and not port.spec.required
        name_x = 12 if left else NODE_WIDTH - 12 - name_width
        shape_x = name_x + name_width + 6 if left else name_x - 6 - shape_width
        painter.setPen(colors["muted"] if optional else colors["text"])
        painter.drawText(QPointF(name_x, baseline), name)
        painter.setPen(colors["muted"])
        painter.drawText(QPointF(shape_x, baseline), shape)
