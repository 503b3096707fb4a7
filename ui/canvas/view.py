"""The view onto the canvas: a dotted grid, zoom with the wheel around the cursor, pan with the
middle button (or Space and drag), rubber-band selection, fit-to-contents, dropping node
types from the palette, and typing (or Tab) to ask for the quick-add box at the cursor
(``quick_add_requested``; :mod:`ui.canvas.quick_add`)."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QWidget

from ui.canvas.style import GRID_SIZE, canvas_colors

MIN_ZOOM, MAX_ZOOM = 0.1, 4.0
NODE_MIME = "application/x-rnn-builder-node-type"


class GraphView(QGraphicsView):
    quick_add_enabled = False  # typing asks for the quick-add box (the canvas's view does)
    start_hint = ""  # said over an empty canvas: how to begin
    hint_shown = False  # whether the last paint said it
    node_dropped = Signal(str, QPointF)  # node type name, scene position
    quick_add_requested = Signal(QPointF, str)  # where (scene), what was typed so far

    def __init__(
        self,
        scene: QGraphicsScene,
        parent: QWidget | None = None,
        name: str = "canvas",
    ) -> None:
        super().__init__(scene, parent)
        self.setObjectName(name)
        self.setRenderHints(
            QPainter.RenderHint.Antialiasing
            | QPainter.RenderHint.TextAntialiasing
            | QPainter.RenderHint.SmoothPixmapTransform
        )
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSceneRect(QRectF(-50000, -50000, 100000, 100000))
        self.setAcceptDrops(True)
        self._pan_from: QPoint | None = None
        self._space = False
        self._mouse: QPoint | None = None  # where the mouse was last over the viewport
        self.setToolTip("")

    # --- zoom and pan ---------------------------------------------------------------------

    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        factor = min(MAX_ZOOM, max(MIN_ZOOM, factor))
        current = self.zoom()
        if current > 0:
            self.scale(factor / current, factor / current)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self.zoom() * math.pow(1.15, steps))
        event.accept()

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom() * 1.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom() / 1.25)

    def fit_to_contents(self, margin: float = 20.0) -> None:
        """Show the whole graph. A graph too wide for readable port labels is still shown
        whole: the nodes then draw a level of detail of their own (titles, no port labels;
        ``NodeItem.READABLE_DETAIL``) rather than leave some nodes a pan away (issue 23: Fit
        left a template's output off-screen)."""
        scene = self.scene()
        bounds = scene.itemsBoundingRect() if scene is not None else QRectF()
        if bounds.isEmpty():
            return
        self.fitInView(
            bounds.adjusted(-margin, -margin, margin, margin), Qt.AspectRatioMode.KeepAspectRatio
        )
        if self.zoom() > 1.25:  # do not blow a small graph up
            self.set_zoom(1.25)
        self.centerOn(bounds.center())

    def cursor_scene_point(self) -> QPointF:
        """Where the mouse is over the canvas (its centre when the mouse is elsewhere)."""
        point = self._mouse
        if point is None or not self.viewport().rect().contains(point):
            point = self.viewport().rect().center()
        return self.mapToScene(point)

    def _typing_into_scene(self) -> bool:
        """An item of the scene has the keyboard (a note being edited): keys are its."""
        scene = self.scene()
        return scene is not None and scene.focusItem() is not None

    def event(self, event) -> bool:
        # Tab asks for the quick-add box rather than moving the focus on
        if (
            event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Tab
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            and self.quick_add_enabled
            and not self._typing_into_scene()
        ):
            self.quick_add_requested.emit(self.cursor_scene_point(), "")
            return True
        return super().event(event)

    def resizeEvent(self, event) -> None:
        """A graph shown whole stays whole when the view shrinks (a wider dock beside it, a
        smaller window); one the person zoomed into is left as it is."""
        scene = self.scene()
        old = event.oldSize()
        whole = False
        if scene is not None and old.isValid() and old.width() > 0 and old.height() > 0:
            before = self.mapToScene(QRect(QPoint(0, 0), old)).boundingRect()
            whole = before.contains(scene.itemsBoundingRect())
        super().resizeEvent(event)
        if whole and not self.mapToScene(self.viewport().rect()).boundingRect().contains(
            scene.itemsBoundingRect()
        ):
            self.fit_to_contents()

    def keyPressEvent(self, event) -> None:
        text = event.text()
        typing = (
            len(text) == 1
            and (text.isalnum() or text == "_")
            and not event.modifiers()
            & (
                Qt.KeyboardModifier.ControlModifier
                | Qt.KeyboardModifier.AltModifier
                | Qt.KeyboardModifier.MetaModifier
            )
        )
        if (
            typing
            and self._pan_from is None
            and self.quick_add_enabled
            and not self._typing_into_scene()
        ):
            self.quick_add_requested.emit(self.cursor_scene_point(), text)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event) -> None:
        self._mouse = event.position().toPoint()
        panning = event.button() == Qt.MouseButton.MiddleButton or (
            self._space and event.button() == Qt.MouseButton.LeftButton
        )
        if panning:
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        self._mouse = event.position().toPoint()
        if self._pan_from is not None:
            now = event.position().toPoint()
            delta = now - self._pan_from
            self._pan_from = now
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # --- drops from the palette -----------------------------------------------------------

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(NODE_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(NODE_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        if event.mimeData().hasFormat(NODE_MIME):
            type_name = bytes(event.mimeData().data(NODE_MIME)).decode("utf-8")
            self.node_dropped.emit(type_name, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
        else:
            super().dropEvent(event)

    # --- background -----------------------------------------------------------------------

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        scene = self.scene()
        self.hint_shown = bool(self.start_hint and scene is not None and not scene.items())
        if not self.hint_shown:
            return
        painter.save()
        painter.resetTransform()  # in the viewport's pixels, whatever the zoom
        area = QRectF(self.viewport().rect()).adjusted(40, 40, -40, -40)
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        painter.setFont(font)
        painter.setPen(canvas_colors()["muted"])
        painter.drawText(
            area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.start_hint
        )
        painter.restore()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        colors = canvas_colors()
        painter.fillRect(rect, colors["background"])
        if self.zoom() < 0.35:
            return
        left = math.floor(rect.left() / GRID_SIZE) * GRID_SIZE
        top = math.floor(rect.top() / GRID_SIZE) * GRID_SIZE
        dots = QPen(colors["grid_major"], 1.6)
        dots.setCosmetic(True)
        painter.setPen(dots)
        points = []
        y = top
        while y < rect.bottom():
            x = left
            while x < rect.right():
                points.append(QPointF(x, y))
                x += GRID_SIZE
            y += GRID_SIZE
        painter.drawPoints(points)
